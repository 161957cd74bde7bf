/* vmlock-sanlock-cleanup: is this host in the disk leases' lockspace? */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_errors.h"

#include "cleanup_lockspace.h"

static gboolean
same_path(const char *a, const char *b)
{
        struct stat sa, sb;

        if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
                return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
        return g_str_equal(a, b);
}

gboolean
cleanup_lockspace_check(const char *lease_dir, GError **error)
{
        g_autofree char *path = g_build_filename(lease_dir, VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);
        struct sanlk_lockspace *spaces = NULL;
        const struct sanlk_lockspace *found = NULL;
        int n_spaces = 0;
        gboolean ok = FALSE;
        int rv;

        rv = sanlock_get_lockspaces(&spaces, &n_spaces, 0);
        if (rv < 0) {
                VmlockSanlockErrorContext ctx = { .op = VMLOCK_SANLOCK_OP_CONNECT };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        for (int i = 0; i < n_spaces; i++) {
                if (strncmp(spaces[i].name, VMLOCK_SANLOCK_DISK_LOCKSPACE, SANLK_NAME_LEN) == 0) {
                        found = &spaces[i];
                        break;
                }
        }

        if (!found) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "this host has not joined lockspace %s (%s), so it cannot tell "
                            "which leases other hosts use: run this where guests with "
                            "automatic disk leases have been started, or join it first with "
                            "'sanlock client add_lockspace -s %s:HOST_ID:%s:0'",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE, path, VMLOCK_SANLOCK_DISK_LOCKSPACE,
                            path);
        } else if (found->flags & SANLK_LSF_ADD) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "this host is still joining lockspace %s (%s); try again in a "
                            "minute", VMLOCK_SANLOCK_DISK_LOCKSPACE, path);
        } else if (found->flags & SANLK_LSF_REM) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "this host is leaving lockspace %s (%s)",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE, path);
        } else if (!same_path(found->host_id_disk.path, path)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "this host joined lockspace %s from %s, not from %s: is "
                            "disk_lease_dir the one the guests use?",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE, found->host_id_disk.path, path);
        } else {
                g_debug("lockspace %s joined as host %" G_GUINT64_FORMAT,
                        VMLOCK_SANLOCK_DISK_LOCKSPACE, (guint64)found->host_id);
                ok = TRUE;
        }
        free(spaces);
        return ok;
}
