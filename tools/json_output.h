/* vmlock: machine-readable (--json) output of the commands, with json-glib. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Prints @root on stdout, pretty, with a final newline. Takes nothing. */
void json_output_print(JsonNode *root);

/* Adds "name": value, or "name": null for VMLOCK_UNKNOWN (-1). */
void json_output_add_int_or_null(JsonBuilder *builder, const char *name, gint64 value);
/* Adds "name": "value", or "name": null for NULL. */
void json_output_add_string_or_null(JsonBuilder *builder, const char *name, const char *value);

G_END_DECLS
