/* vmlock: the client side of a guest supervisor's control socket. */
#define G_LOG_DOMAIN "vmlock-control"

#include "config-build.h"

#include <vmlock/error.h>

#include "control/control_client.h"
#include "util/proc_stat.h"
#include "util/qmp.h"

/* Still the guest's parent (which also tells a reused pid apart: a guest
 * whose supervisor died is reparented), not a zombie. */
gboolean
control_peer_supervisor_alive(const ControlPeer *peer)
{
        guint64 start_time;
        char state;

        if (peer->supervisor_pid <= 0 || proc_pid_parent(peer->guest_pid) != peer->supervisor_pid)
                return FALSE;
        if (!proc_pid_stat(peer->supervisor_pid, &state, &start_time, NULL))
                return FALSE;
        return state != 'Z' && state != 'X' && state != 'x';
}

/* The supervisor could not be asked (@cause says how): why, from its pid. */
static void
set_unreachable_error(GError **error, const ControlPeer *peer, const GError *cause)
{
        if (control_peer_supervisor_alive(peer)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the supervisor of guest '%s' (vmlock start, pid %d) is busy: %s; "
                            "it still runs, try again",
                            peer->name, (int)peer->supervisor_pid, cause->message);
                return;
        }
        /* Its `vmlock start` was killed: the guest still holds its leases,
         * but nothing can act on it safely any more. */
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "guest '%s' (pid %d) runs without its supervisor (vmlock start, pid %d, "
                    "is gone: %s): vmlock cannot act on it; stop it with kill %d",
                    peer->name, (int)peer->guest_pid, (int)peer->supervisor_pid, cause->message,
                    (int)peer->guest_pid);
}

JsonNode *
control_client_execute(const ControlPeer *peer, ControlCommandId id, JsonObject *arguments,
                       GError **error)
{
        const char *command = control_command_get(id)->name;
        g_autoptr(QmpStream) stream = NULL;
        g_autoptr(JsonObject) reply = NULL;
        g_autoptr(GError) local = NULL;

        g_debug("control %s: %s", peer->name, command);
        stream = qmp_client_connect(peer->socket_path, &local);
        if (stream)
                reply = qmp_client_request(stream, command, arguments, &local);
        if (!reply) {
                set_unreachable_error(error, peer, local);
                return NULL;
        }
        return qmp_reply_take_return(reply, command, error);
}
