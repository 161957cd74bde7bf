/* vmlock: the stop command: shut a guest down, kill it at a timeout, return once its leases are free. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "supervisor/guest_stop.h"
#include "supervisor/state_dir.h"
#include "util/proc_stat.h"
#include "vmlock_tool.h"

/* Past the guest's timeout, what the supervisor may still need: the guest
 * to die of SIGKILL and the lock daemon to write the release of its leases
 * (the supervisor waits up to 10 s for that), with room for a loaded host. */
#define STOP_MARGIN_S 30

static char *opt_state_dir;
static gint64 opt_timeout = GUEST_STOP_DEFAULT_TIMEOUT_S;

static const GOptionEntry stop_entries[] = {
        { "timeout", 't', 0, G_OPTION_ARG_INT64, &opt_timeout,
          "Seconds the guest gets to shut down before it is killed (default "
          G_STRINGIFY(GUEST_STOP_DEFAULT_TIMEOUT_S) "; 0: kill at once)",
          "S" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")",
          "DIR" },
        G_OPTION_ENTRY_NULL
};

static const char stop_description[] =
        "A QEMU guest gets the ACPI power button (QMP system_powerdown): its\n"
        "OS shuts down cleanly. Any other program gets SIGTERM. A guest still\n"
        "there after the timeout is killed (SIGKILL), as is one started\n"
        "--paused that never ran. vmlock stop returns once the guest is gone\n"
        "and the lock daemon has written the release of its leases, so another\n"
        "host can take its disks at once. A paused guest cannot act on the\n"
        "power button: it is killed at the timeout (resume it first for a\n"
        "clean shutdown).\n";

/* The supervisor, watched before it is asked: its exit is the answer
 * (guest gone, leases released). -1 when it is gone already: the request
 * then fails with the words of control_client. */
static int
watch_supervisor(const GuestRecord *record)
{
        pid_t supervisor = record->supervisor_pid;
        int fd;

        if (supervisor <= 0)
                return -1;
        fd = (int)syscall(SYS_pidfd_open, supervisor, 0);
        /* A reused pid is not the guest's supervisor: its parent is. */
        if (fd >= 0 && proc_pid_parent(vmlock_domain_get_pid(record->dom)) != supervisor) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Waits up to @timeout_s for the supervisor to exit. */
static gboolean
wait_exit(int pidfd, gint64 timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

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

int
cmd_stop(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("NAME");
        g_autofree char *description = g_strconcat(stop_description, "\n",
                                                   tool_exit_status_help, NULL);
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(JsonNode) ret = NULL;
        GError *error = NULL;
        const char *name;
        int pidfd;
        int status;

        g_option_context_set_summary(context, "Shut a guest down; kill it after a timeout.");
        g_option_context_set_description(context, description);
        g_option_context_add_main_entries(context, stop_entries, NULL);
        if (!tool_parse_options(context, &argc, &argv, VMLOCK_EXIT_USAGE, &status))
                return status;
        if (argc < 2)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "missing NAME");
        if (argc > 2)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "unexpected argument '%s'", argv[2]);
        if (opt_timeout < 0 || opt_timeout > G_MAXINT32)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "--timeout %" G_GINT64_FORMAT
                                        " is out of range", opt_timeout);
        name = argv[1];
        record = state_dir_load_alive(state_dir_path_resolve(opt_state_dir), name, &error);
        if (!record)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        pidfd = watch_supervisor(record);

        json_object_set_int_member(arguments, "timeout", opt_timeout);
        ret = tool_control_execute(opt_state_dir, name, "stop", arguments, &error);
        if (!ret) {
                if (pidfd >= 0)
                        close(pidfd);
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        if (pidfd < 0)
                return VMLOCK_EXIT_OK; /* it answered, and is gone already */
        if (!wait_exit(pidfd, opt_timeout + STOP_MARGIN_S)) {
                close(pidfd);
                g_printerr("%s: guest '%s' is still not gone %" G_GINT64_FORMAT
                           " s after the stop (supervisor pid %d): see its log\n",
                           g_get_prgname(), name, opt_timeout + STOP_MARGIN_S,
                           (int)record->supervisor_pid);
                return VMLOCK_EXIT_ERROR;
        }
        close(pidfd);
        return VMLOCK_EXIT_OK;
}
