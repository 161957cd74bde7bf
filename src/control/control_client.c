/* vmlock: the client side of a guest supervisor's control socket. */
#define G_LOG_DOMAIN "vmlock-control"

#include "config-build.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* A pidfd on the supervisor, taken before it is asked (its pid cannot be
 * reused under it), or -1 when it is not the guest's parent any more. */
static int
watch_supervisor(const ControlPeer *peer)
{
        int fd;

        if (peer->supervisor_pid <= 0)
                return -1;
        fd = (int)syscall(SYS_pidfd_open, peer->supervisor_pid, 0);
        if (fd >= 0 && !control_peer_supervisor_alive(peer)) {
                close(fd);
                return -1;
        }
        return fd;
}

static gboolean
wait_exit(int pidfd, guint wait_ms)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * 1000;

        for (;;) {
                struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
                gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
                int n;

                if (left_ms <= 0)
                        return FALSE;
                n = poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT));
                if (n > 0)
                        return TRUE;
                if (n < 0 && errno != EINTR)
                        return FALSE;
        }
}

JsonNode *
control_client_execute_until_exit(const ControlPeer *peer, ControlCommandId id,
                                  JsonObject *arguments, guint wait_ms, GError **error)
{
        const char *command = control_command_get(id)->name;
        g_autoptr(JsonNode) ret = NULL;
        int pidfd = watch_supervisor(peer);
        gboolean exited;

        ret = control_client_execute(peer, id, arguments, error);
        if (!ret || pidfd < 0) {
                if (pidfd >= 0)
                        close(pidfd);
                return g_steal_pointer(&ret); /* answered, then gone already */
        }
        exited = wait_exit(pidfd, wait_ms);
        close(pidfd);
        if (!exited) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the supervisor of guest '%s' (vmlock start, pid %d) is still "
                            "there %u s after '%s': see its log",
                            peer->name, (int)peer->supervisor_pid, wait_ms / 1000, command);
                return NULL;
        }
        return g_steal_pointer(&ret);
}
