/* vmlock sanlock driver: registering the lock-failure helper with sanlock_killpath(). */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* secure_getenv */

#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_killpath.h"
#include "util/log.h"

void
vmlock_sanlock_killpath_append_arg(GString *out, const char *arg)
{
        if (out->len)
                g_string_append_c(out, ' ');
        for (const char *p = arg; *p; p++) {
                if (*p == '\\' || g_ascii_isspace(*p))
                        g_string_append_c(out, '\\');
                g_string_append_c(out, *p);
        }
}

gboolean
vmlock_sanlock_killpath_build(VmlockLockFailureAction action, const char *uri,
                              const char *uuid, char **ret_path, char **ret_args,
                              GError **error)
{
        const char *env = secure_getenv(VMLOCK_SANLOCK_HELPER_ENV);
        g_autofree char *path = NULL;
        g_autoptr(GString) args = g_string_new(NULL);
        const char *name;

        switch (action) {
        case VMLOCK_LOCK_FAILURE_POWEROFF:
                name = "poweroff";
                break;
        case VMLOCK_LOCK_FAILURE_PAUSE:
                name = "pause";
                break;
        case VMLOCK_LOCK_FAILURE_RESTART:
        case VMLOCK_LOCK_FAILURE_IGNORE:
                /* restart would take the leases again in the failed lockspace
                 * and hang; ignore would let a guest write without a lease */
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "on_lockfailure '%s' is not supported by the sanlock driver "
                            "(use poweroff or pause)",
                            action == VMLOCK_LOCK_FAILURE_RESTART ? "restart" : "ignore");
                return FALSE;
        default:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown lock failure action %d", (int)action);
                return FALSE;
        }
        if (!uuid || !*uuid) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "a lock failure action needs the guest's uuid");
                return FALSE;
        }

        path = g_strdup(env && *env ? env : VMLOCK_LIBEXEC_DIR "/" VMLOCK_SANLOCK_HELPER_NAME);
        vmlock_sanlock_killpath_append_arg(args, name);
        vmlock_sanlock_killpath_append_arg(args, uri && *uri ? uri : "-");
        vmlock_sanlock_killpath_append_arg(args, uuid);

        /* sanlock silently truncates longer ones */
        if (strlen(path) >= SANLK_HELPER_PATH_LEN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock failure helper path %s is longer than %d bytes", path,
                            SANLK_HELPER_PATH_LEN - 1);
                return FALSE;
        }
        if (!g_path_is_absolute(path)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock failure helper path %s must be absolute", path);
                return FALSE;
        }
        if (args->len >= SANLK_HELPER_ARGS_LEN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock failure helper arguments '%s' are longer than %d bytes "
                            "(sanlock's limit): use a shorter state directory",
                            args->str, SANLK_HELPER_ARGS_LEN - 1);
                return FALSE;
        }

        *ret_path = g_steal_pointer(&path);
        *ret_args = g_string_free(g_steal_pointer(&args), FALSE);
        return TRUE;
}

gboolean
vmlock_sanlock_killpath_register(int sock, VmlockLockFailureAction action, const char *uri,
                                 const char *uuid, GError **error)
{
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;
        int rv;

        if (action == VMLOCK_LOCK_FAILURE_DEFAULT)
                return TRUE; /* sanlock's own: SIGTERM, then SIGKILL */
        if (!vmlock_sanlock_killpath_build(action, uri, uuid, &path, &args, error))
                return FALSE;

        /* SANLK_KILLPATH_PID: sanlock appends the guest's pid as last argument */
        rv = sanlock_killpath(sock, SANLK_KILLPATH_PID, path, args);
        if (rv < 0) {
                g_autofree char *subject = g_strdup_printf("guest %s (%s %s)", uuid, path, args);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_KILLPATH,
                        .subject = subject,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        g_debug("lock failure action: %s %s <pid>", path, args);
        return TRUE;
}
