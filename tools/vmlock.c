/* vmlock: the vmlock command: command table, help, version and error reporting. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <locale.h>
#include <stdio.h>

#include <vmlock/vmlock.h>

#include "cmd_start.h"
#include "daemon_module.h"
#include "tool_common.h"

/* start runs here; the others are the daemon module's (daemon_module.h),
 * which loads what start must not before its guest's exec. */
typedef struct {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv); /* start */
        const char *module_symbol;          /* the others */
} ToolCommand;

static const ToolCommand commands[] = {
        { "start", "Start a guest with its disk leases", cmd_start, NULL },
        { "list", "List the guests running here", NULL, "cmd_list" },
        { "status", "Show a guest's resources and whether each is held", NULL, "cmd_status" },
        { "attach-disk", "Take a disk's lease for a running guest (hotplug)", NULL,
          "cmd_attach_disk" },
        { "detach-disk", "Release a disk's lease of a running guest", NULL, "cmd_detach_disk" },
        { "attach-lease", "Take a lease for a running guest", NULL, "cmd_attach_lease" },
        { "detach-lease", "Release a lease of a running guest", NULL, "cmd_detach_lease" },
        { "pause", "Stop a guest's CPUs; --release hands its leases over", NULL, "cmd_pause" },
        { "resume", "Continue a guest, taking its leases back if released", NULL,
          "cmd_resume" },
        { "stop", "Shut a guest down (ACPI or SIGTERM), kill it after a timeout", NULL,
          "cmd_stop" },
        { "inquire", "Print the state string of a guest's leases", NULL, "cmd_inquire" },
        { "migrate", "Live-migrate a QEMU guest; hand its leases over at the end", NULL,
          "cmd_migrate" },
        { "lockspace", "Join or leave the disk lockspace, or show this host in it", NULL,
          "cmd_lockspace" },
        { "hosts", "List the lockspace's hosts and whether each still renews", NULL,
          "cmd_hosts" },
        { "metrics", "Print Prometheus metrics of guests, leases and renewals", NULL,
          "cmd_metrics" },
};

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

static int
run_command(const ToolCommand *command, int argc, char **argv)
{
        GError *error = NULL;
        int (*run)(int argc, char **argv) = command->run;

        if (!run)
                run = daemon_module_command(command->module_symbol, &error);
        if (!run)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        return run(argc, argv);
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

        /* What the output depends on: the charset of messages and GLib's
         * translations. Not LC_NUMERIC (metrics and JSON numbers stay C's),
         * and each category is a file to load before a guest's exec. */
        setlocale(LC_CTYPE, "");
        setlocale(LC_MESSAGES, "");

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
                        return run_command(command, 2, help_argv);
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
        return run_command(command, argc - 1, argv + 1);
}
