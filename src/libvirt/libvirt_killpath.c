/* vmlock for libvirt: fencing through libvirt's <on_lockfailure>. */
#define G_LOG_DOMAIN "vmlock-libvirt"
#define _GNU_SOURCE /* secure_getenv */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_killpath.h"
#include "libvirt/libvirt_killpath.h"
#include "libvirt/libvirt_report.h"

static const char *
helper_path(void)
{
        const char *env = secure_getenv(VMLOCK_LIBVIRT_HELPER_ENV);

        return env && *env ? env : VMLOCK_LIBVIRT_HELPER;
}

gboolean
vmlock_libvirt_killpath_build(LibvirtLockFailureAction action, const char *uri,
                              const char *uuid, char **ret_path, char **ret_args,
                              GError **error)
{
        g_autoptr(GString) args = g_string_new(NULL);
        const char *path = helper_path();
        const char *name;

        switch (action) {
        case LIBVIRT_LOCK_FAILURE_POWEROFF:
                name = "poweroff";
                break;
        case LIBVIRT_LOCK_FAILURE_PAUSE:
                name = "pause";
                break;
        case LIBVIRT_LOCK_FAILURE_RESTART:
        case LIBVIRT_LOCK_FAILURE_IGNORE:
                /* restart would take the leases again in the failed lockspace
                 * and hang; ignore would let a guest write without a lease */
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "<on_lockfailure>%s</on_lockfailure> is not supported by vmlock's "
                            "sanlock driver (use poweroff or pause)",
                            action == LIBVIRT_LOCK_FAILURE_RESTART ? "restart" : "ignore");
                return FALSE;
        default:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown <on_lockfailure> action %d", (int)action);
                return FALSE;
        }
        if (!uri || !*uri || !uuid || !*uuid) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "<on_lockfailure>%s</on_lockfailure> needs the guest's uuid and "
                            "libvirt's URI, and libvirt gave %s", name,
                            !uri || !*uri ? "no URI" : "no uuid");
                return FALSE;
        }

        vmlock_sanlock_killpath_append_arg(args, uri);
        vmlock_sanlock_killpath_append_arg(args, uuid);
        vmlock_sanlock_killpath_append_arg(args, name);
        /* sanlock silently truncates longer ones */
        if (strlen(path) >= SANLK_HELPER_PATH_LEN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock failure helper path %s is longer than %d bytes", path,
                            SANLK_HELPER_PATH_LEN - 1);
                return FALSE;
        }
        if (args->len >= SANLK_HELPER_ARGS_LEN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock failure helper arguments '%s' are longer than %d bytes "
                            "(sanlock's limit)", args->str, SANLK_HELPER_ARGS_LEN - 1);
                return FALSE;
        }

        *ret_path = g_strdup(path);
        *ret_args = g_string_free(g_steal_pointer(&args), FALSE);
        return TRUE;
}

gboolean
vmlock_libvirt_killpath_register(int sock, LibvirtLockFailureAction action, const char *uri,
                                 const char *uuid, GError **error)
{
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;
        int rv;

        if (action == LIBVIRT_LOCK_FAILURE_DEFAULT)
                return TRUE;
        if (!vmlock_libvirt_killpath_build(action, uri, uuid, &path, &args, error))
                return FALSE;

        /* sanlock would run nothing and kill the guest after the grace
         * period anyway: say so now, where the admin looks. */
        if (access(path, X_OK) < 0) {
                vmlock_libvirt_warn("%s is not installed (Debian: package libvirt-sanlock): if "
                                    "the lockspace fails, sanlock kills guest %s instead of "
                                    "<on_lockfailure> %s", path, uuid,
                                    action == LIBVIRT_LOCK_FAILURE_PAUSE ? "pause" : "poweroff");
                return TRUE;
        }

        /* flags 0: libvirt's helper takes exactly uri, uuid and action */
        rv = sanlock_killpath(sock, 0, path, args);
        if (rv < 0) {
                g_autofree char *subject = g_strdup_printf("guest %s (%s %s)", uuid, path, args);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_KILLPATH,
                        .subject = subject,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        g_debug("lock failure action: %s %s", path, args);
        return TRUE;
}
