/* vmlock: the images a QEMU command line opens, read from its arguments
 * (-drive, -blockdev, -hda..-hdd, -cdrom, -fda/-fdb, -pflash, -sd,
 * -mtdblock, a bare image name, -device drive=, -snapshot).
 *
 * Pure: it reads no file and knows no lease; what QEMU would do with each
 * image (write it, only read it, read its backing chain) is all it says. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
        QEMU_IMAGE_ROLE_DISK,
        QEMU_IMAGE_ROLE_CDROM,
        QEMU_IMAGE_ROLE_FLOPPY,
} QemuImageRole;

typedef struct {
        /* A local file or device as written (a "file:" or "host_device:"
         * prefix removed); NULL when QEMU opens something that is not a
         * local path (nbd:, a driver=iscsi node, json:...). */
        char *path;
        /* When @path is NULL: what QEMU opens instead, for messages. */
        char *remote;
        QemuImageRole role;
        /* QEMU opens it read-only: readonly=on/read-only=on, media=cdrom,
         * -cdrom, snapshot=on/-snapshot (writes go to a temporary overlay),
         * or a backing node. */
        gboolean readonly;
        /* Its device says share-rw=on: written, and shared on purpose. */
        gboolean shareable;
        /* QEMU opens the backing chain its header names: the format is
         * qcow2, or probed (-drive without format=), and no backing is
         * given on the command line. */
        gboolean backing_from_header;
        /* Where it comes from, for messages: "-drive file=/a,if=none
         * (argument 3)". */
        char *origin;
} QemuImage;

void qemu_image_free(QemuImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuImage, qemu_image_free)

/* How a JSON option value (-blockdev '{...}') is read: into @kv's
 * QEMU-style dotted keys (qemu_json_options.h), FALSE with *@ret_problem.
 * A parameter because JSON needs json-glib, which `vmlock start` loads
 * before the guest's exec only for a command line that has JSON. */
typedef struct {
        gboolean (*parse)(const char *text, GHashTable *kv, gpointer user_data,
                          char **ret_problem);
        gpointer user_data;
} QemuJsonOptions;

/* The images @argv (NULL-terminated, argv[0] the program) has QEMU open, in
 * the order of the arguments, as an array of QemuImage. A malformed option
 * value is VMLOCK_ERROR_INVALID_ARG naming the argument and its position. */
GPtrArray *qemu_cmdline_images(char *const *argv, const QemuJsonOptions *json,
                               GError **error);

/* A file name as QEMU reads it: "proto:rest" is a protocol when the colon
 * comes before any slash. FALSE for a protocol that is not a local path
 * (nbd:, json:...); else the path in *@ret_path ("file:" removed). */
gboolean qemu_filename_local_path(const char *file, char **ret_path);

const char *qemu_image_role_to_string(QemuImageRole role);

G_END_DECLS
