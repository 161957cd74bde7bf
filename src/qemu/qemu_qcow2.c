/* vmlock: the backing chain a qcow2 image's header names. */
#define G_LOG_DOMAIN "vmlock-qemu"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH */
#endif

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "qemu/qemu_cmdline.h"
#include "qemu/qemu_qcow2.h"

/* The qcow (1) and qcow2 header starts alike: magic, version, then the
 * backing file name's offset (be64) and length (be32). qcow2 goes on with
 * cluster_bits (be32 at 20) and, from version 3, header_length (be32 at
 * 100); header extensions follow the header (72 bytes in version 2). */
#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_HEADER_START 20
#define QCOW2_HEADER_V3 104
#define QCOW2_BACKING_NAME_MAX 1023 /* QEMU refuses longer */
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
#define QCOW2_EXT_MAX 64 /* more is no image QEMU wrote */
#define QCOW2_FORMAT_NAME_MAX 31

typedef enum {
        OPEN_OK,
        OPEN_NOT_IMAGE, /* missing, or neither a regular file nor a block device */
        OPEN_FAILED,
} OpenResult;

/* Opens @path for reading without side effects: a FIFO would block, a
 * character device (a watchdog, a tape) may act when opened. O_PATH opens
 * nothing; only a regular file or block device is then reopened, through
 * /proc so that it is the same inode. */
static OpenResult
open_image(const char *path, int *ret_fd, struct stat *ret_st, GError **error)
{
        g_autofree char *proc = NULL;
        int saved;
        int pfd = open(path, O_PATH | O_CLOEXEC);
        int fd;

        if (pfd < 0) {
                saved = errno;
                if (saved == ENOENT)
                        return OPEN_NOT_IMAGE;
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s", path,
                            g_strerror(saved));
                return OPEN_FAILED;
        }
        if (fstat(pfd, ret_st) < 0) {
                saved = errno;
                close(pfd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", path,
                            g_strerror(saved));
                return OPEN_FAILED;
        }
        if (!S_ISREG(ret_st->st_mode) && !S_ISBLK(ret_st->st_mode)) {
                close(pfd);
                return OPEN_NOT_IMAGE;
        }
        proc = g_strdup_printf("/proc/self/fd/%d", pfd);
        fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        saved = errno;
        close(pfd);
        if (fd < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s", path,
                            g_strerror(saved));
                return OPEN_FAILED;
        }
        *ret_fd = fd;
        return OPEN_OK;
}

static gboolean
read_at(int fd, const char *path, void *buf, gsize len, guint64 offset, gboolean *ret_short,
        GError **error)
{
        gsize done = 0;

        *ret_short = FALSE;
        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int saved = errno;

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot read %s: %s",
                                    path, g_strerror(saved));
                        return FALSE;
                }
                if (n == 0) {
                        *ret_short = TRUE;
                        return TRUE;
                }
                done += (gsize)n;
        }
        return TRUE;
}

static guint32
be32_at(const guint8 *p)
{
        guint32 value;

        memcpy(&value, p, sizeof(value));
        return GUINT32_FROM_BE(value);
}

/* The backing file's format from the header extension qemu-img writes
 * (create -F FMT), read up to @end; NULL in *@ret_format when absent (QEMU
 * then probes the backing file). Extensions that make no sense end the
 * search: QEMU would refuse the image anyway. */
static gboolean
read_backing_format(int fd, const char *path, const guint8 *header, gboolean v3_header,
                    guint64 end, char **ret_format, GError **error)
{
        guint32 version = be32_at(header + 4);
        guint32 cluster_bits = be32_at(header + 20);
        guint64 offset;

        *ret_format = NULL;
        if (version < 2 || cluster_bits < 9 || cluster_bits > 21)
                return TRUE;
        if (version == 2)
                offset = 72;
        else if (v3_header && be32_at(header + 100) >= QCOW2_HEADER_V3)
                offset = be32_at(header + 100);
        else
                return TRUE;
        end = MIN(end, (guint64)1 << cluster_bits);
        for (guint i = 0; i < QCOW2_EXT_MAX && offset + 8 <= end; i++) {
                guint8 ext[8];
                guint32 magic, len;
                gboolean is_short;

                if (!read_at(fd, path, ext, sizeof(ext), offset, &is_short, error))
                        return FALSE;
                magic = be32_at(ext);
                len = be32_at(ext + 4);
                if (is_short || magic == 0 || len > end - offset - 8)
                        return TRUE;
                if (magic == QCOW2_EXT_BACKING_FORMAT && len <= QCOW2_FORMAT_NAME_MAX) {
                        g_autofree char *format = g_malloc0(len + 1);

                        if (!read_at(fd, path, format, len, offset + 8, &is_short, error))
                                return FALSE;
                        if (!is_short)
                                *ret_format = g_steal_pointer(&format);
                        return TRUE;
                }
                offset += 8 + (((guint64)len + 7) & ~(guint64)7);
        }
        return TRUE;
}

/* The backing file name in @fd's qcow2 header, or NULL in *@ret_name when
 * it is no qcow2 image or has no backing file; its format in *@ret_format
 * when the header says. */
static gboolean
read_backing_name(int fd, const char *path, const struct stat *st, char **ret_name,
                  char **ret_format, GError **error)
{
        guint8 header[QCOW2_HEADER_V3] = { 0 };
        guint64 offset;
        guint32 size;
        g_autofree char *name = NULL;
        gboolean is_short, v3_header;

        *ret_name = NULL;
        *ret_format = NULL;
        if (!read_at(fd, path, header, QCOW2_HEADER_START, 0, &is_short, error))
                return FALSE;
        if (is_short || memcmp(header, QCOW2_MAGIC, 4) != 0)
                return TRUE;
        if (!read_at(fd, path, header + QCOW2_HEADER_START,
                     QCOW2_HEADER_V3 - QCOW2_HEADER_START, QCOW2_HEADER_START, &is_short,
                     error))
                return FALSE;
        v3_header = !is_short;
        memcpy(&offset, header + 8, sizeof(offset));
        memcpy(&size, header + 16, sizeof(size));
        offset = GUINT64_FROM_BE(offset);
        size = GUINT32_FROM_BE(size);
        if (offset == 0 || size == 0)
                return TRUE;
        if (size > QCOW2_BACKING_NAME_MAX ||
            (S_ISREG(st->st_mode) && (offset > (guint64)st->st_size ||
                                      size > (guint64)st->st_size - offset))) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the qcow2 header of %s is corrupt: its backing file name (%u "
                            "bytes at offset %" G_GUINT64_FORMAT ") is %s",
                            path, size, offset,
                            size > QCOW2_BACKING_NAME_MAX ? "too long" : "past the end");
                return FALSE;
        }
        name = g_malloc0(size + 1);
        if (!read_at(fd, path, name, size, offset, &is_short, error))
                return FALSE;
        if (is_short || strlen(name) != size) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the qcow2 header of %s is corrupt: its backing file name is %s",
                            path, is_short ? "past the end" : "not text");
                return FALSE;
        }
        if (!read_backing_format(fd, path, header, v3_header, offset, ret_format, error))
                return FALSE;
        *ret_name = g_steal_pointer(&name);
        return TRUE;
}

/* The formats whose header vmlock reads: the backing chain goes on. */
static gboolean
has_qcow2_header(const char *format)
{
        return !format || g_str_equal(format, "qcow2") || g_str_equal(format, "qcow");
}

GPtrArray *
qemu_qcow2_backing_chain(const char *path, char **ret_remote, GError **error)
{
        g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(struct stat));
        g_autofree char *current = g_strdup(path);

        g_return_val_if_fail(path != NULL, NULL);
        g_debug("%s: %s", G_STRFUNC, path);
        *ret_remote = NULL;

        for (;;) {
                g_autofree char *name = NULL;
                g_autofree char *format = NULL;
                g_autofree char *dir = NULL;
                g_autofree char *local = NULL;
                struct stat st;
                gboolean ok;
                int fd = -1;

                switch (open_image(current, &fd, &st, error)) {
                case OPEN_FAILED:
                        if (chain->len > 0)
                                g_prefix_error(error, "backing file of %s: ",
                                               (const char *)(chain->len > 1
                                                       ? g_ptr_array_index(chain, chain->len - 2)
                                                       : path));
                        return NULL;
                case OPEN_NOT_IMAGE:
                        if (chain->len > 0) {
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                            "backing file %s of %s is missing or is not a "
                                            "regular file nor a block device", current,
                                            chain->len > 1
                                                    ? (const char *)g_ptr_array_index(
                                                              chain, chain->len - 2)
                                                    : path);
                                return NULL;
                        }
                        return g_steal_pointer(&chain);
                case OPEN_OK:
                        break;
                }
                for (guint i = 0; i < seen->len; i++) {
                        const struct stat *other = &g_array_index(seen, struct stat, i);

                        if (other->st_dev == st.st_dev && other->st_ino == st.st_ino) {
                                close(fd);
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                            "the backing chain of %s loops: it comes back "
                                            "to %s",
                                            path, current);
                                return NULL;
                        }
                }
                g_array_append_val(seen, st);
                ok = read_backing_name(fd, current, &st, &name, &format, error);
                close(fd);
                if (!ok)
                        return NULL;
                if (!name)
                        return g_steal_pointer(&chain);
                if (!qemu_filename_local_path(name, &local)) {
                        *ret_remote = g_steal_pointer(&name);
                        return g_steal_pointer(&chain);
                }
                if (chain->len >= QEMU_QCOW2_CHAIN_MAX) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "the backing chain of %s is more than %d files deep",
                                    path, QEMU_QCOW2_CHAIN_MAX);
                        return NULL;
                }
                if (!g_path_is_absolute(local)) {
                        char *resolved;

                        dir = g_path_get_dirname(current);
                        resolved = g_canonicalize_filename(local, dir);
                        g_free(local);
                        local = resolved;
                }
                g_ptr_array_add(chain, g_strdup(local));
                /* A raw (or other) backing file: QEMU reads no header of it. */
                if (!has_qcow2_header(format))
                        return g_steal_pointer(&chain);
                g_free(current);
                current = g_steal_pointer(&local);
        }
}
