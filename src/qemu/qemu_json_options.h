/* vmlock: a JSON option value of QEMU's command line (-blockdev '{...}',
 * -device '{...}') read as QEMU's keyval reads it: nested members become
 * dotted keys ("file.filename"), array items numbered ("x.0"), booleans
 * on/off, null an empty string. */
#pragma once

#include <glib.h>

#include "qemu/qemu_cmdline.h"

G_BEGIN_DECLS

/* Fills @kv (string -> string, both owned) from the JSON object @text, or
 * returns FALSE with *@ret_problem (not JSON, not an object, a value of an
 * unknown type). @user_data is unused: the shape of QemuJsonOptions. */
gboolean qemu_json_options_parse(const char *text, GHashTable *kv, gpointer user_data,
                                 char **ret_problem);

/* qemu_json_options_parse as QemuJsonOptions. */
extern const QemuJsonOptions qemu_json_options;

G_END_DECLS
