/* vmlock: the client side of a guest supervisor's control socket. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <vmlock/vmlock.h>

#include "control-client.h"
#include "qmp.h"

/* The supervisor could not be asked (@cause says how): why, from its pid. */
static void
set_unreachable_error(GError **error, const char *state_dir, const char *name,
                      const GError *cause)
{
        g_autoptr(GuestRecord) record = state_dir_load_alive(state_dir, name, NULL);

        if (!record) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no guest named '%s' runs here (%s)", name, cause->message);
        } else if (guest_record_supervisor_is_alive(record)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the supervisor of guest '%s' (vmlock start, pid %d) is busy: %s; "
                            "it still runs, try again",
                            name, (int)record->supervisor_pid, cause->message);
        } else {
                /* Its `vmlock start` was killed: the guest still holds its
                 * leases, but nothing can act on it safely any more. */
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' (pid %d) runs without its supervisor (vmlock start, "
                            "pid %d, is gone: %s): vmlock cannot act on it; stop it with "
                            "kill %d",
                            name, (int)vmlock_domain_get_pid(record->dom),
                            (int)record->supervisor_pid, cause->message,
                            (int)vmlock_domain_get_pid(record->dom));
        }
}

JsonNode *
control_client_execute(const char *state_dir, const char *name, const char *command,
                       JsonObject *arguments, GError **error)
{
        g_autofree char *path = state_dir_control_path_checked(state_dir, name, error);
        g_autoptr(QmpStream) stream = NULL;
        g_autoptr(JsonObject) reply = NULL;
        g_autoptr(GError) local = NULL;

        if (!path)
                return NULL;
        g_debug("control %s: %s", name, command);
        stream = qmp_client_connect(path, &local);
        if (stream)
                reply = qmp_client_request(stream, command, arguments, &local);
        if (!reply) {
                set_unreachable_error(error, state_dir, name, local);
                return NULL;
        }
        return qmp_reply_take_return(reply, command, error);
}
