/* vmlock: the stop command: shut a guest down, kill it at a timeout, return once its leases are free. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <vmlock/vmlock.h>

#include "supervisor/guest_stop.h"
#include "vmlock_tool.h"

/* Past the guest's timeout, what the supervisor may still need: the guest
 * to die of SIGKILL and the lock daemon to write the release of its leases
 * (the supervisor waits up to 10 s for that), with room for a loaded host. */
#define STOP_MARGIN_S 30
/* A day: longer is a typo, not a shutdown. */
#define MAX_TIMEOUT_S (24 * 3600)

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

int
cmd_stop(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("NAME");
        g_autofree char *description = g_strconcat(stop_description, "\n",
                                                   tool_exit_status_help, NULL);
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) ret = NULL;
        GError *error = NULL;
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
        if (opt_timeout < 0 || opt_timeout > MAX_TIMEOUT_S)
                return tool_usage_error(VMLOCK_EXIT_USAGE,
                                        "--timeout %" G_GINT64_FORMAT " is out of range (0 to "
                                        "%d s)", opt_timeout, MAX_TIMEOUT_S);
        control_args_set_uint(arguments, CONTROL_STOP, "timeout", (guint64)opt_timeout);
        ret = tool_control_execute_until_exit(opt_state_dir, argv[1], CONTROL_STOP, arguments,
                                              (guint)(opt_timeout + STOP_MARGIN_S) * 1000,
                                              &error);
        if (!ret)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        return VMLOCK_EXIT_OK;
}
