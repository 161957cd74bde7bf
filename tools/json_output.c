/* vmlock: machine-readable (--json) output of the commands, with json-glib. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>

#include <vmlock/vmlock.h>

#include "json_output.h"

void
json_output_print(JsonNode *root)
{
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_root(generator, root);
        json_generator_set_pretty(generator, TRUE);
        json_generator_set_indent(generator, 2);
        text = json_generator_to_data(generator, NULL);
        printf("%s\n", text);
        fflush(stdout);
}

void
json_output_add_int_or_null(JsonBuilder *builder, const char *name, gint64 value)
{
        json_builder_set_member_name(builder, name);
        if (value == VMLOCK_UNKNOWN)
                json_builder_add_null_value(builder);
        else
                json_builder_add_int_value(builder, value);
}

void
json_output_add_string_or_null(JsonBuilder *builder, const char *name, const char *value)
{
        json_builder_set_member_name(builder, name);
        if (value)
                json_builder_add_string_value(builder, value);
        else
                json_builder_add_null_value(builder);
}
