/* vmlock: vmlock-lockfailure-helper, run by the lock daemon when a guest's leases fail.
 *
 *   vmlock-lockfailure-helper ACTION URI UUID [PID]
 *
 * sanlock runs it (the guest's registered kill path) when a lockspace the
 * guest holds leases in fails, and again until the guest has let go of them.
 * URI is vmlock://STATE_DIR, the state dir the guest was started with; the
 * helper finds the guest's supervisor there by UUID and asks it to act:
 *   poweroff  kill the guest;
 *   pause     stop its CPUs and release its leases (QEMU: QMP stop; a guest
 *             without QMP cannot be paused safely and is killed).
 * It loads no lock driver and touches no lease storage (which may be what
 * failed). It runs as root and acts on what the state dir holds, so a dir,
 * record or socket others could have planted is refused before it connects
 * anywhere (supervisor/state_dir.h). If no supervisor answers, the PID
 * sanlock gave is killed. Exit status 0 or 1.
 */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "control/control_client.h"
#include "supervisor/state_dir.h"

#define URI_PREFIX "vmlock://"

static gboolean
parse_pid(const char *str, pid_t *ret_pid)
{
        guint64 value;

        if (!g_ascii_string_to_unsigned(str, 10, 1, G_MAXINT, &value, NULL))
                return FALSE;
        *ret_pid = (pid_t)value;
        return TRUE;
}

/* vmlock://STATE_DIR, or "-": the default state dir. */
static const char *
state_dir_from_uri(const char *uri)
{
        if (g_str_equal(uri, "-"))
                return state_dir_path_resolve(NULL);
        if (g_str_has_prefix(uri, URI_PREFIX) && g_path_is_absolute(uri + strlen(URI_PREFIX)))
                return uri + strlen(URI_PREFIX);
        return NULL;
}

static gboolean
ask_supervisor(const char *state_dir, const char *action, const char *uuid, GError **error)
{
        g_autoptr(GuestRecord) record = state_dir_find_uuid(state_dir, uuid, error);
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) ret = NULL;
        g_autofree char *path = NULL;
        ControlPeer peer = { 0 };

        if (!record)
                return FALSE;
        peer.name = vmlock_domain_get_name(record->dom);
        path = state_dir_control_path_checked(state_dir, peer.name, error);
        if (!path)
                return FALSE;
        peer.socket_path = path;
        peer.guest_pid = vmlock_domain_get_pid(record->dom);
        peer.supervisor_pid = record->supervisor_pid;
        control_args_set_string(arguments, CONTROL_LOCK_FAILURE, "action", action);
        control_args_set_string(arguments, CONTROL_LOCK_FAILURE, "uuid", uuid);
        ret = control_client_execute(&peer, CONTROL_LOCK_FAILURE, arguments, error);
        return ret != NULL;
}

int
main(int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        const char *state_dir;
        const char *action;
        const char *uuid;
        pid_t pid = 0;

        g_set_prgname("vmlock-lockfailure-helper");
        if (argc < 4 || argc > 5 || (argc == 5 && !parse_pid(argv[4], &pid))) {
                g_printerr("Usage: %s poweroff|pause URI UUID [PID]\n", g_get_prgname());
                return EXIT_FAILURE;
        }
        action = argv[1];
        uuid = argv[3];
        if (!g_str_equal(action, "poweroff") && !g_str_equal(action, "pause")) {
                g_printerr("%s: unsupported lock failure action '%s'\n", g_get_prgname(),
                           action);
                return EXIT_FAILURE;
        }
        state_dir = state_dir_from_uri(argv[2]);
        if (!state_dir) {
                g_printerr("%s: '%s' is not a vmlock URI (vmlock:///STATE_DIR)\n",
                           g_get_prgname(), argv[2]);
        } else if (ask_supervisor(state_dir, action, uuid, &error)) {
                return EXIT_SUCCESS;
        } else {
                g_printerr("%s: guest %s: %s\n", g_get_prgname(), uuid, error->message);
        }

        /* Nobody to pause it safely: it must not write on without its leases. */
        if (pid <= 0) {
                g_printerr("%s: no pid for guest %s: nothing to do\n", g_get_prgname(), uuid);
                return EXIT_FAILURE;
        }
        if (kill(pid, SIGKILL) < 0) {
                if (errno == ESRCH) {
                        g_printerr("%s: guest %s (pid %d) is gone\n", g_get_prgname(), uuid,
                                   (int)pid);
                        return EXIT_SUCCESS;
                }
                g_printerr("%s: cannot kill guest %s (pid %d): %s\n", g_get_prgname(), uuid,
                           (int)pid, g_strerror(errno));
                return EXIT_FAILURE;
        }
        g_printerr("%s: guest %s (pid %d) killed\n", g_get_prgname(), uuid, (int)pid);
        return EXIT_SUCCESS;
}
