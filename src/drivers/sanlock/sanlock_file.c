/* vmlock sanlock driver: creating initialised files under a temporary name, then link(2). */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* fallocate */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_file.h"
#include "util/log.h"

gboolean
vmlock_sanlock_file_allocate(int fd, const char *path, gsize size, GError **error)
{
        int rc;

        do {
                rc = fallocate(fd, 0, 0, (off_t)size);
        } while (rc < 0 && errno == EINTR);
        if (rc < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
                rc = ftruncate(fd, (off_t)size);
        if (rc < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot allocate %" G_GSIZE_FORMAT " bytes for %s: %s", size, path,
                            g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

gboolean
vmlock_sanlock_file_create(const char *path, mode_t mode, uid_t user, gid_t group,
                           VmlockSanlockFileInitFunc init, gpointer data,
                           gboolean *ret_created, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *tmp_path = NULL;
        gboolean created = FALSE;
        gboolean ok = FALSE;
        int fd;

        /* A dot name: cleanup tools that glob the lease directory skip it. */
        tmp_path = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
        fd = g_mkstemp_full(tmp_path, O_RDWR | O_CLOEXEC, mode);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot create a file in %s: %s (does the directory exist, and "
                            "is it writable by this user?)", dir, g_strerror(saved));
                return FALSE;
        }

        if (fchmod(fd, mode) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot set mode %o on %s: %s",
                            (unsigned int)mode, tmp_path, g_strerror(saved));
                goto cleanup;
        }
        if ((user != (uid_t)-1 || group != (gid_t)-1) && fchown(fd, user, group) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot give %s to user %d, group %d: %s (on NFS, root_squash "
                            "forbids this)", tmp_path, (int)user, (int)group, g_strerror(saved));
                goto cleanup;
        }

        if (!init(tmp_path, fd, data, error))
                goto cleanup;

        if (link(tmp_path, path) == 0) {
                created = TRUE;
        } else if (errno != EEXIST) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot create %s: %s", path,
                            g_strerror(saved));
                goto cleanup;
        } else {
                g_debug("%s was created by someone else meanwhile; using theirs", path);
        }
        ok = TRUE;

cleanup:
        close(fd);
        if (g_unlink(tmp_path) < 0)
                g_debug("cannot remove %s: %s", tmp_path, g_strerror(errno));
        if (ok && ret_created)
                *ret_created = created;
        return ok;
}
