/* vmlock: libFuzzer target for the QEMU command line's images
 * (src/qemu/qemu_cmdline.c).
 *
 * The input is QEMU's arguments, one a line. Whatever they are, the parser
 * returns images or an error naming an argument; every image has a path or
 * says what it opens instead, and where it came from. */
#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmlock/error.h>

#include "qemu/qemu_cmdline.h"
#include "qemu/qemu_json_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise is a crash. */
static void
check(gboolean ok)
{
        if (!ok)
                abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *text = g_strndup((const char *)data, size);
        g_auto(GStrv) lines = g_strsplit(text, "\n", 64);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GPtrArray) images = NULL;
        g_autoptr(GError) error = NULL;

        g_ptr_array_add(argv, (gpointer) "qemu-system-x86_64");
        for (guint i = 0; lines[i]; i++)
                g_ptr_array_add(argv, lines[i]);
        g_ptr_array_add(argv, NULL);

        images = qemu_cmdline_images((char *const *)argv->pdata, &qemu_json_options,
                                     &error);
        check((images == NULL) == (error != NULL));
        if (!images) {
                check(g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG));
                return 0;
        }
        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);

                check((image->path == NULL) != (image->remote == NULL));
                check(image->origin != NULL);
                check(!image->backing_from_header || image->path);
        }
        return 0;
}
