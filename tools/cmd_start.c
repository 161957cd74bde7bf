/* vmlock: `vmlock start`: run a guest program under its disk leases. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>

#include <vmlock/vmlock.h>

#include "cmd_start.h"
#include "daemon_module.h"
#include "supervisor/supervisor_start.h"
#include "tool_common.h"
#include "tool_config.h"

/* `vmlock start`'s exit statuses are the start error classes. */
G_STATIC_ASSERT(VMLOCK_EXIT_LOCK_FAILURE == SUPERVISOR_START_ERROR_LOCK_FAILURE);
G_STATIC_ASSERT(VMLOCK_EXIT_START_FAILURE == SUPERVISOR_START_ERROR_FAILED);
G_STATIC_ASSERT(VMLOCK_EXIT_CANNOT_EXECUTE == SUPERVISOR_START_ERROR_CANNOT_EXECUTE);
G_STATIC_ASSERT(VMLOCK_EXIT_NOT_FOUND == SUPERVISOR_START_ERROR_NOT_FOUND);

static const char start_description[] =
        "Reads DOMAIN.xml (libvirt domain XML: <name>, <uuid>, <disk>, <lease>,\n"
        "<on_lockfailure>, <seclabel>), loads the lock driver named by `lock_manager`\n"
        "in CONFIG_DIR/vmlock.conf (default \"nop\": no protection) and forks. The\n"
        "child takes the guest's leases, then becomes PROGRAM (exec): the guest is\n"
        "that process, and its leases go when it exits, however it exits. If the\n"
        "leases cannot be had, PROGRAM does not run and the message says who holds\n"
        "them.\n"
        "\n"
        "vmlock start then supervises the guest until it exits: it records it in\n"
        "the state directory and serves the other vmlock commands (pause, resume,\n"
        "attach-disk...) on a control socket there. A QEMU PROGRAM (qemu-system-*,\n"
        "or --qemu) gets its only QMP monitor from vmlock; other QMP clients use\n"
        "vmlock's QMP proxy socket, shown by `vmlock status` (\"cont\" is refused\n"
        "while the leases are released). PROGRAM must not have monitors of its own\n"
        "(-qmp, -monitor, -mon, mon:) nor -daemonize.\n"
        "\n"
        "Without DOMAIN.xml, PROGRAM must be QEMU and --name names the guest: its\n"
        "disks are the images QEMU's arguments open (-drive, -blockdev, -hda...,\n"
        "-cdrom, -fda...), each with an exclusive lease when QEMU writes it and a\n"
        "shared one when it only reads it (readonly=on, read-only=on, a cdrom,\n"
        "snapshot=on); the uuid is --uuid, else derived from the name (the same on\n"
        "every start and every host). With DOMAIN.xml and QEMU, the XML's disks and\n"
        "QEMU's images must be the same, read-only in both or in neither. The\n"
        "backing files of qcow2 disks get shared leases. Images that are no local\n"
        "path (nbd:, driver=iscsi...) get a warning, or refuse the start when the\n"
        "lock driver's require_lease_for_disks is set.\n"
        "\n"
        "With --paused, the guest is only registered: `vmlock resume` takes its\n"
        "leases (with `--state` from `vmlock pause --release` elsewhere, for a\n"
        "migration). QEMU then starts with its CPUs stopped (-S); any other\n"
        "PROGRAM is only executed at resume.\n"
        "\n"
        "With --detach, vmlock returns once the guest runs and prints its pid; the\n"
        "supervisor goes on in the background, in its own session, its output and\n"
        "the guest's in --log FILE (else discarded, but a guest that fails to start\n"
        "has its last lines quoted in the error). Signals SIGINT, SIGTERM,\n"
        "SIGHUP and SIGQUIT sent to the supervisor are passed on to the guest.\n"
        "\n"
        "Example:\n"
        "  vmlock start --detach guest.xml -- qemu-system-x86_64 -m 1024 -drive ...\n"
        "  vmlock start --detach --name web -- qemu-system-x86_64 -m 1024 \\\n"
        "          -drive file=/srv/images/web.qcow2,if=virtio,cache=none\n";

static gboolean opt_paused;
static gboolean opt_detach;
static gboolean opt_qemu;
static char *opt_config;
static char *opt_state_dir;
static char *opt_log;
static char *opt_incoming;
static char *opt_name;
static char *opt_uuid;

static const GOptionEntry start_entries[] = {
        { "paused", 0, 0, G_OPTION_ARG_NONE, &opt_paused,
          "Register the guest but take its leases only at `vmlock resume`", NULL },
        { "incoming", 0, 0, G_OPTION_ARG_STRING, &opt_incoming,
          "Migration destination (QEMU only): register like --paused, start QEMU with -S "
          "-incoming defer and have it wait for the guest at URI; `vmlock resume --state` "
          "takes the leases once the source released them",
          "URI" },
        { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name,
          "Without DOMAIN.xml: the guest's name (its disks come from QEMU's arguments)",
          "NAME" },
        { "uuid", 0, 0, G_OPTION_ARG_STRING, &opt_uuid,
          "Without DOMAIN.xml: the guest's uuid (default: derived from --name)", "UUID" },
        { "detach", 'd', 0, G_OPTION_ARG_NONE, &opt_detach,
          "Return once the guest runs (print its pid); supervise it in the background",
          NULL },
        { "log", 0, 0, G_OPTION_ARG_FILENAME, &opt_log,
          "With --detach: append the guest's and the supervisor's output to FILE", "FILE" },
        { "qemu", 0, 0, G_OPTION_ARG_NONE, &opt_qemu,
          "PROGRAM is QEMU (found by its name qemu-system-* otherwise): vmlock gives it "
          "its QMP monitor",
          NULL },
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "Configuration directory (default $VMLOCK_CONFIG_DIR or " VMLOCK_CONFIG_DIR ")",
          "DIR" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")",
          "DIR" },
        G_OPTION_ENTRY_NULL
};

int
cmd_start(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autofree char *manager_name = NULL;
        g_autofree char *description = NULL;
        g_autofree char *config_file = NULL;
        SupervisorStartRequest request = { 0 };
        SupervisorStartResult result;
        GError *error = NULL;
        char **program;
        const char *config_dir;
        const char *domain_xml;
        gboolean manager_named = TRUE;
        gboolean is_qemu;
        int opt_argc = argc;
        int status;

        /* Everything after the first "--" is PROGRAM's, options included. */
        program = NULL;
        for (int i = 1; i < argc; i++) {
                if (g_str_equal(argv[i], "--")) {
                        opt_argc = i;
                        program = argv + i + 1;
                        break;
                }
        }

        context = g_option_context_new("[DOMAIN.xml] -- PROGRAM [ARG...]");
        g_option_context_set_summary(context, "Start a guest with its disk leases.");
        description = g_strconcat(start_description, "\n", tool_start_exit_status_help, NULL);
        g_option_context_set_description(context, description);
        g_option_context_add_main_entries(context, start_entries, NULL);
        if (!tool_parse_options(context, &opt_argc, &argv, VMLOCK_EXIT_START_FAILURE, &status))
                return status;
        if (opt_argc > 2)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "expected one DOMAIN.xml, then '--'");
        domain_xml = opt_argc == 2 ? argv[1] : NULL;
        if (domain_xml && (opt_name || opt_uuid))
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "--name and --uuid are for a start without DOMAIN.xml "
                                        "(the XML has <name> and <uuid>)");
        if (!domain_xml && !opt_name)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "missing DOMAIN.xml, or --name for a QEMU guest "
                                        "whose disks are read from its arguments");
        if (!program || !program[0])
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "missing '-- PROGRAM [ARG...]'");
        is_qemu = supervisor_start_is_qemu(program[0], opt_qemu);
        if (!domain_xml && !is_qemu)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "without DOMAIN.xml, PROGRAM must be QEMU "
                                        "(qemu-system-*, or --qemu): vmlock reads the disks "
                                        "from its arguments");
        if (opt_incoming && !is_qemu)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "--incoming is for QEMU guests (qemu-system-*, or --qemu)");
        if (opt_log && !opt_detach)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE, "--log needs --detach");
        config_dir = vmlock_resolve_config_dir(opt_config);
        if (!tool_config_read_lock_manager(config_dir, &manager_name, &manager_named, &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        config_file = tool_config_path(config_dir);

        request.domain_xml = domain_xml;
        request.name = opt_name;
        request.uuid = opt_uuid;
        request.program = program;
        request.qemu = opt_qemu;
        /* A destination holds nothing until resume --state. */
        request.paused = opt_paused || opt_incoming;
        request.incoming = opt_incoming;
        request.detach = opt_detach;
        request.log = opt_log;
        request.state_dir = opt_state_dir;
        request.config_dir = config_dir;
        request.lock_manager = manager_name;
        request.lock_manager_named = manager_named;
        request.config_file = config_file;
        request.load_runtime = daemon_module_load_runtime;
        if (!supervisor_start(&request, &result, &error)) {
                status = error->code;
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                g_error_free(error);
                return status;
        }
        if (result.detached)
                printf("%d\n", (int)result.pid);
        return result.exit_status;
}
