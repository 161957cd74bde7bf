/* vmlock: the vmlock command: command table, help, version and error reporting. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vmlock/vmlock.h>

#include "vmlock_tool.h"

typedef struct {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
} ToolCommand;

static const ToolCommand commands[] = {
        { "start", "Start a guest with its disk leases", cmd_start },
        { "list", "List the guests running here", cmd_list },
        { "status", "Show a guest's resources and whether each is held", cmd_status },
        { "attach-disk", "Take a disk's lease for a running guest (hotplug)", cmd_attach_disk },
        { "detach-disk", "Release a disk's lease of a running guest", cmd_detach_disk },
        { "attach-lease", "Take a lease for a running guest", cmd_attach_lease },
        { "detach-lease", "Release a lease of a running guest", cmd_detach_lease },
        { "pause", "Stop a guest's CPUs; --release hands its leases over", cmd_pause },
        { "resume", "Continue a guest, taking its leases back if released", cmd_resume },
        { "stop", "Shut a guest down (ACPI or SIGTERM), kill it after a timeout", cmd_stop },
        { "inquire", "Print the state string of a guest's leases", cmd_inquire },
        { "migrate", "Live-migrate a QEMU guest; hand its leases over at the end", cmd_migrate },
        { "lockspace", "Join or leave the disk lockspace, or show this host in it", cmd_lockspace },
        { "hosts", "List the lockspace's hosts and whether each still renews", cmd_hosts },
        { "metrics", "Print Prometheus metrics of guests, leases and renewals", cmd_metrics },
};

const char tool_exit_status_help[] =
        "Exit status:\n"
        "  0    success\n"
        "  1    error\n"
        "  2    usage error\n"
        "  124  lock failure: the leases could not be had (held by another guest\n"
        "       or host, changed since the given state, lockspace not joined)\n";

const char tool_start_exit_status_help[] =
        "Exit status of start:\n"
        "  the guest's own exit status once PROGRAM ran (128+N if killed by signal N;\n"
        "  0 with --detach once it runs), else:\n"
        "  124  lock failure: the leases could not be had (held by another guest\n"
        "       or host, lockspace not joined); PROGRAM did not run\n"
        "  125  any other vmlock error before PROGRAM ran (usage, config, XML,\n"
        "       lock driver, guest name already running)\n"
        "  126  PROGRAM could not be executed\n"
        "  127  PROGRAM was not found\n";

gboolean
tool_error_is_lock_failure(const GError *error)
{
        return g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY) ||
               g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE) ||
               g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE);
}

int
tool_report_error(GError *error, int other_status)
{
        int status = tool_error_is_lock_failure(error) ? VMLOCK_EXIT_LOCK_FAILURE : other_status;

        g_printerr("%s: %s\n", g_get_prgname(), error->message);
        g_error_free(error);
        return status;
}

int
tool_usage_error(int status, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_printerr("%s: %s\nTry '%s --help' for more information.\n", g_get_prgname(), message,
                   g_get_prgname());
        return status;
}

gboolean
tool_parse_options(GOptionContext *context, int *argc, char ***argv, int usage_status,
                   int *failure_status)
{
        g_autoptr(GError) error = NULL;

        if (!g_option_context_parse(context, argc, argv, &error)) {
                *failure_status = tool_usage_error(usage_status, "%s", error->message);
                return FALSE;
        }
        return TRUE;
}

static void
print_help(FILE *out)
{
        fprintf(out,
                "Usage: vmlock COMMAND [OPTION...] [ARG...]\n"
                "       vmlock --help | --version\n"
                "\n"
                "Starts guests under disk-lease protection, so that no two guests, on this\n"
                "host or on hosts sharing the storage, write the same disk.\n"
                "\n"
                "Commands:\n");
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
                fprintf(out, "  %-14s%s\n", commands[i].name, commands[i].summary);
        fprintf(out,
                "\n"
                "'vmlock COMMAND --help' describes a command.\n"
                "\n"
                "Environment:\n"
                "  VMLOCK_CONFIG_DIR  configuration directory (default %s)\n"
                "  VMLOCK_STATE_DIR   records of running guests (default %s)\n"
                "  VMLOCK_PLUGIN_DIR  lock drivers (default %s)\n"
                "\n"
                "%s\n%s",
                vmlock_default_config_dir(), VMLOCK_DEFAULT_STATE_DIR,
                vmlock_default_plugin_dir(), tool_start_exit_status_help,
                tool_exit_status_help);
}

static const ToolCommand *
find_command(const char *name)
{
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (g_str_equal(commands[i].name, name))
                        return &commands[i];
        }
        return NULL;
}

int
main(int argc, char **argv)
{
        g_autofree char *prgname = NULL;
        const ToolCommand *command;
        const char *name;

        setlocale(LC_ALL, "");

        if (argc < 2) {
                g_set_prgname("vmlock");
                print_help(stderr);
                return VMLOCK_EXIT_USAGE;
        }
        name = argv[1];
        if (g_str_equal(name, "--help") || g_str_equal(name, "-h") ||
            (g_str_equal(name, "help") && argc == 2)) {
                print_help(stdout);
                return VMLOCK_EXIT_OK;
        }
        if (g_str_equal(name, "--version") || g_str_equal(name, "-V")) {
                printf("vmlock %s (libvmlock %s)\n", VMLOCK_VERSION, vmlock_version_string());
                return VMLOCK_EXIT_OK;
        }
        if (g_str_equal(name, "help")) {
                /* "vmlock help COMMAND" is "vmlock COMMAND --help". */
                static char help_arg[] = "--help";
                char *help_argv[] = { argv[2], help_arg, NULL };

                command = find_command(argv[2]);
                if (command) {
                        prgname = g_strconcat("vmlock ", command->name, NULL);
                        g_set_prgname(prgname);
                        return command->run(2, help_argv);
                }
                name = argv[2];
        }

        command = find_command(name);
        if (!command) {
                g_set_prgname("vmlock");
                return tool_usage_error(VMLOCK_EXIT_USAGE, "unknown command '%s'", name);
        }
        /* Messages and GOption's usage line read "vmlock COMMAND". */
        prgname = g_strconcat("vmlock ", command->name, NULL);
        g_set_prgname(prgname);
        return command->run(argc - 1, argv + 1);
}
