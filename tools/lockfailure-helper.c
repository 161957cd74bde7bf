/* vmlock: vmlock-lockfailure-helper, run by the lock daemon when a guest's leases fail.
 *
 *   vmlock-lockfailure-helper ACTION UUID [PID]
 *
 * sanlock runs it (the guest's registered kill path) when a lockspace the
 * guest holds leases in fails, and again until the guest has let go of them:
 *   poweroff  ends the guest (QMP "quit", else SIGKILL);
 *   pause     stops its CPUs (QMP "stop", else SIGSTOP), releases its leases
 *             and marks it paused in its record, so `vmlock resume` can try
 *             to take them back later.
 * The guest's record is found by UUID in $VMLOCK_STATE_DIR (default
 * /run/vmlock), read from the daemon's environment. Exit status 0 or 1.
 */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "guest-control.h"
#include "state-dir.h"

static gboolean
parse_pid(const char *str, pid_t *ret_pid)
{
        guint64 value;

        if (!g_ascii_string_to_unsigned(str, 10, 1, G_MAXINT, &value, NULL))
                return FALSE;
        *ret_pid = (pid_t)value;
        return TRUE;
}

/* Without a record we still know the pid: poweroff can act on it alone. */
static int
poweroff_unrecorded(pid_t pid, const char *uuid)
{
        if (pid <= 0) {
                g_printerr("%s: no record of guest %s and no pid: nothing to do\n",
                           g_get_prgname(), uuid);
                return EXIT_FAILURE;
        }
        if (kill(pid, SIGKILL) < 0 && errno != ESRCH) {
                g_printerr("%s: cannot kill guest %s (pid %d): %s\n", g_get_prgname(), uuid,
                           (int)pid, g_strerror(errno));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static int
do_pause(const char *state_dir, GuestRecord *found)
{
        const char *name = vmlock_domain_get_name(found->dom);
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GError) error = NULL;
        int status = EXIT_FAILURE;
        int lock_fd;

        lock_fd = state_dir_lock_name(state_dir, name, &error);
        if (lock_fd < 0)
                goto cleanup;
        /* Read again under the lock: a command may have changed it. */
        record = state_dir_load_alive(state_dir, name, &error);
        if (!record)
                goto cleanup;
        if (!record->paused) {
                if (!guest_control_stop_cpus(record, &error))
                        goto cleanup;
                record->paused = TRUE;
        }
        if (!record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager || !guest_control_release(record, manager, &error)) {
                        /* Stopped, but still holding: save what is true. */
                        g_autoptr(GError) save_error = NULL;

                        if (!state_dir_save(state_dir, record, &save_error))
                                g_printerr("%s: %s\n", g_get_prgname(), save_error->message);
                        goto cleanup;
                }
        }
        if (!state_dir_save(state_dir, record, &error))
                goto cleanup;
        g_printerr("%s: guest '%s' paused and its leases released after a lock failure\n",
                   g_get_prgname(), name);
        status = EXIT_SUCCESS;

cleanup:
        if (error)
                g_printerr("%s: pause of guest '%s': %s\n", g_get_prgname(), name,
                           error->message);
        if (lock_fd >= 0)
                close(lock_fd);
        return status;
}

int
main(int argc, char **argv)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GError) error = NULL;
        const char *state_dir = state_dir_path_resolve(NULL);
        const char *action;
        const char *uuid;
        pid_t pid = 0;

        g_set_prgname("vmlock-lockfailure-helper");
        if (argc < 3 || argc > 4 || (argc == 4 && !parse_pid(argv[3], &pid))) {
                g_printerr("Usage: %s poweroff|pause UUID [PID]\n", g_get_prgname());
                return EXIT_FAILURE;
        }
        action = argv[1];
        uuid = argv[2];
        if (!g_str_equal(action, "poweroff") && !g_str_equal(action, "pause")) {
                g_printerr("%s: unsupported lock failure action '%s'\n", g_get_prgname(),
                           action);
                return EXIT_FAILURE;
        }

        record = state_dir_find_uuid(state_dir, uuid, &error);
        if (record && pid > 0 && vmlock_domain_get_pid(record->dom) != pid) {
                g_printerr("%s: the record of guest %s names pid %d, not %d: using %d\n",
                           g_get_prgname(), uuid, (int)vmlock_domain_get_pid(record->dom),
                           (int)pid, (int)pid);
                vmlock_domain_set_pid(record->dom, pid);
        }

        if (g_str_equal(action, "poweroff")) {
                if (!record) {
                        g_printerr("%s: %s\n", g_get_prgname(), error->message);
                        return poweroff_unrecorded(pid, uuid);
                }
                if (!guest_control_kill(record, &error)) {
                        g_printerr("%s: %s\n", g_get_prgname(), error->message);
                        return EXIT_FAILURE;
                }
                g_printerr("%s: guest '%s' (pid %d) powered off after a lock failure\n",
                           g_get_prgname(), vmlock_domain_get_name(record->dom),
                           (int)vmlock_domain_get_pid(record->dom));
                return EXIT_SUCCESS;
        }

        if (!record) {
                /* Can't release for an unknown guest; stopping it at least
                 * keeps it from writing without its leases. */
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                if (pid > 0)
                        kill(pid, SIGSTOP);
                return EXIT_FAILURE;
        }
        return do_pause(state_dir, record);
}
