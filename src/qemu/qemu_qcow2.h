/* vmlock: the backing chain a qcow2 image's header names. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* More than this many backing files is refused. */
#define QEMU_QCOW2_CHAIN_MAX 128

/* The backing files QEMU opens below the image @path when it reads its
 * qcow2 header: the backing file, its own backing file, and so on, as
 * paths (a relative name is resolved against the directory of the image
 * naming it, "." and ".." removed; an absolute one is kept as written).
 * A backing file whose format the header gives as other than qcow2 (-F raw)
 * ends the chain: QEMU reads no header of it; without a format, QEMU probes
 * it, and so does this.
 * Empty when @path is not a qcow2 image, is missing (QEMU will say so) or is
 * neither a regular file nor a block device. A backing name that is no local
 * path (nbd:, json:...) ends the chain and is returned in *@ret_remote.
 *
 * Each image is opened without side effects (O_PATH first, then only a
 * regular file or a block device is reopened for reading, non-blocking), and
 * only read. Errors (VMLOCK_ERROR_IO) name the image: a header that makes no
 * sense, a backing file that cannot be opened, a loop, a chain too deep. */
GPtrArray *qemu_qcow2_backing_chain(const char *path, char **ret_remote, GError **error);

G_END_DECLS
