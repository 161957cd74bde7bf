/* vmlock: `vmlock start`: run a guest program under its disk leases. */
#define G_LOG_DOMAIN "vmlock-tool"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "guest-launch.h"
#include "qmp.h"
#include "state-dir.h"
#include "tool-config.h"
#include "vmlock-tool.h"

static const char start_description[] =
        "Reads DOMAIN.xml (libvirt domain XML: <name>, <uuid>, <disk>, <lease>,\n"
        "<on_lockfailure>, <seclabel>), loads the lock driver named by `lock_manager`\n"
        "in CONFIG_DIR/vmlock.conf (default \"nop\": no protection) and forks. The\n"
        "child takes the guest's leases, then becomes PROGRAM (exec): the guest is\n"
        "that process, and its leases go when it exits, however it exits. If the\n"
        "leases cannot be had, PROGRAM does not run and the message says who holds\n"
        "them. vmlock records the guest in the state directory and waits for it.\n"
        "\n"
        "With --paused, only registers the guest: its leases are taken by\n"
        "`vmlock resume` (with `--state` from `vmlock pause --release` elsewhere,\n"
        "for a migration). Without --qmp, PROGRAM itself only starts at resume;\n"
        "with --qmp, PROGRAM must start with its CPUs stopped (qemu -S) and resume\n"
        "sends QMP \"cont\".\n"
        "\n"
        "Signals SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to vmlock are passed on\n"
        "to the guest.\n"
        "\n"
        "Example:\n"
        "  vmlock start guest.xml -- qemu-system-x86_64 -S -qmp unix:/run/g.qmp,server=on,wait=off ...\n";

static gboolean opt_paused;
static gboolean opt_detach;
static char *opt_config;
static char *opt_state_dir;
static char *opt_qmp;

static const GOptionEntry start_entries[] = {
        { "paused", 0, 0, G_OPTION_ARG_NONE, &opt_paused,
          "Register the guest but take its leases only at `vmlock resume`", NULL },
        { "detach", 'd', 0, G_OPTION_ARG_NONE, &opt_detach,
          "Return once the guest runs (print its pid) instead of waiting for it", NULL },
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "Configuration directory (default $VMLOCK_CONFIG_DIR or " VMLOCK_CONFIG_DIR ")",
          "DIR" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")",
          "DIR" },
        { "qmp", 0, 0, G_OPTION_ARG_FILENAME, &opt_qmp,
          "The guest's QMP socket: pause and resume use it instead of signals", "PATH" },
        G_OPTION_ENTRY_NULL
};

/* The guest we wait for, for the signal handler. */
static volatile sig_atomic_t forward_pid;

static void
forward_signal(int sig)
{
        if (forward_pid > 0)
                kill((pid_t)forward_pid, sig);
}

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* From fork until the handlers are in place, the forwarded signals are held
 * back, so one sent as soon as the guest runs reaches the guest, not vmlock. */
static void
block_forwarded_signals(sigset_t *ret_old_mask)
{
        sigset_t set;

        sigemptyset(&set);
        for (gsize i = 0; i < G_N_ELEMENTS(forwarded_signals); i++)
                sigaddset(&set, forwarded_signals[i]);
        sigprocmask(SIG_BLOCK, &set, ret_old_mask);
}

static void
install_forwarding(pid_t pid)
{
        struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };

        forward_pid = pid;
        sigemptyset(&sa.sa_mask);
        for (gsize i = 0; i < G_N_ELEMENTS(forwarded_signals); i++)
                sigaction(forwarded_signals[i], &sa, NULL);
}

static int
exit_status_of(int wait_status)
{
        if (WIFEXITED(wait_status))
                return WEXITSTATUS(wait_status);
        if (WIFSIGNALED(wait_status))
                return 128 + WTERMSIG(wait_status);
        return VMLOCK_EXIT_START_FAILURE;
}

static gboolean
domains_share_a_disk(const VmlockDomain *a, const VmlockDomain *b)
{
        for (guint i = 0; i < vmlock_domain_get_n_disks(a); i++) {
                const char *path = vmlock_disk_get_source(vmlock_domain_get_disk(a, i));

                for (guint j = 0; path && j < vmlock_domain_get_n_disks(b); j++) {
                        const char *other = vmlock_disk_get_source(vmlock_domain_get_disk(b, j));

                        if (other && g_str_equal(path, other))
                                return TRUE;
                }
        }
        return FALSE;
}

/* sanlock tells that another process of this host holds a disk, not which:
 * this host's records do. Appends the running guests that have one of
 * @dom's disks to a busy-lease @error. */
static void
name_local_holders(const char *state_dir, VmlockDomain *dom, GError *error)
{
        g_autoptr(GPtrArray) alive = NULL;
        g_autoptr(GString) holders = g_string_new(NULL);
        char *message;

        if (!g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY))
                return;
        alive = state_dir_list_alive(state_dir, NULL);
        if (!alive)
                return;
        for (guint i = 0; i < alive->len; i++) {
                const GuestRecord *record = g_ptr_array_index(alive, i);

                if (domains_share_a_disk(record->dom, dom))
                        g_string_append_printf(holders, "%s%s (pid %d)",
                                               holders->len ? ", " : "",
                                               vmlock_domain_get_name(record->dom),
                                               (int)vmlock_domain_get_pid(record->dom));
        }
        if (holders->len == 0)
                return;
        message = g_strdup_printf("%s: guest %s here has it", error->message, holders->str);
        g_free(error->message);
        error->message = message;
}

static int
launch_error_status(const GError *error)
{
        if (error->domain == G_SPAWN_ERROR)
                return error->code == G_SPAWN_ERROR_NOENT ? VMLOCK_EXIT_NOT_FOUND
                                                          : VMLOCK_EXIT_CANNOT_EXECUTE;
        return VMLOCK_EXIT_START_FAILURE;
}

/* Waits for the guest, then drops its record: its leases went with it. */
static int
wait_guest(const char *state_dir, const GuestRecord *record)
{
        pid_t pid = vmlock_domain_get_pid(record->dom);
        g_autoptr(GError) error = NULL;
        int status = 0;
        pid_t r;

        do {
                r = waitpid(pid, &status, 0);
        } while (r < 0 && errno == EINTR);
        forward_pid = 0;
        if (r < 0) {
                g_printerr("%s: cannot wait for guest %d: %s\n", g_get_prgname(), (int)pid,
                           g_strerror(errno));
                return VMLOCK_EXIT_START_FAILURE;
        }
        if (!state_dir_remove_if_owned(state_dir, vmlock_domain_get_name(record->dom), pid,
                                       record->pid_start_time, &error))
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
        return exit_status_of(status);
}

static GuestRecord *
make_record(VmlockDomain *dom, pid_t pid, const char *domain_xml, const char *manager_name,
            const char *config_dir, GError **error)
{
        g_autoptr(GuestRecord) record = NULL;
        const char *plugin_dir = secure_getenv("VMLOCK_PLUGIN_DIR");
        guint64 start_time;

        if (!proc_pid_stat(pid, NULL, &start_time, error))
                return NULL;
        vmlock_domain_set_pid(dom, pid);
        record = guest_record_new(dom);
        record->pid_start_time = start_time;
        /* Absolute paths: later commands may run from another directory. */
        record->domain_xml = g_canonicalize_filename(domain_xml, NULL);
        record->lock_manager = g_strdup(manager_name);
        record->config_dir = g_canonicalize_filename(config_dir, NULL);
        record->plugin_dir = plugin_dir && *plugin_dir
                                     ? g_canonicalize_filename(plugin_dir, NULL)
                                     : NULL;
        record->qmp = opt_qmp ? g_canonicalize_filename(opt_qmp, NULL) : NULL;
        record->paused = opt_paused;
        /* A paused start only registered: resume takes the leases. */
        record->released = opt_paused;
        return g_steal_pointer(&record);
}

/* Refuses a name that runs here; a stale record is simply replaced. Called
 * under the name lock. */
static gboolean
check_not_running(const char *state_dir, const char *name, GError **error)
{
        g_autoptr(GuestRecord) existing = state_dir_load(state_dir, name, NULL);

        if (existing && guest_record_is_alive(existing)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' already runs here (pid %d, started from %s)", name,
                            (int)vmlock_domain_get_pid(existing->dom),
                            existing->domain_xml ? existing->domain_xml : "?");
                return FALSE;
        }
        return TRUE;
}

int
cmd_start(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autofree char *manager_name = NULL;
        g_autofree char *description = NULL;
        GError *error = NULL;
        char **program;
        const char *state_dir;
        const char *config_dir;
        const char *domain_xml;
        GuestLaunch launch = { .close_in_child = -1 };
        GuestLaunchResult result;
        sigset_t old_mask;
        int opt_argc = argc;
        int status;
        int lock_fd;
        pid_t pid;

        /* Everything after the first "--" is PROGRAM's, options included. */
        program = NULL;
        for (int i = 1; i < argc; i++) {
                if (g_str_equal(argv[i], "--")) {
                        opt_argc = i;
                        program = argv + i + 1;
                        break;
                }
        }

        context = g_option_context_new("DOMAIN.xml -- PROGRAM [ARG...]");
        g_option_context_set_summary(context, "Start a guest with its disk leases.");
        description = g_strconcat(start_description, "\n", tool_start_exit_status_help, NULL);
        g_option_context_set_description(context, description);
        g_option_context_add_main_entries(context, start_entries, NULL);
        if (!tool_parse_options(context, &opt_argc, &argv, VMLOCK_EXIT_START_FAILURE, &status))
                return status;
        if (opt_argc != 2)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        opt_argc < 2 ? "missing DOMAIN.xml"
                                                     : "expected one DOMAIN.xml, then '--'");
        if (!program || !program[0])
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "missing '-- PROGRAM [ARG...]'");
        domain_xml = argv[1];
        state_dir = state_dir_path_resolve(opt_state_dir);
        config_dir = vmlock_resolve_config_dir(opt_config);

        dom = vmlock_domain_parse_file(domain_xml, &error);
        if (!dom)
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!state_dir_check_name(vmlock_domain_get_name(dom), &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!tool_config_read_lock_manager(config_dir, &manager_name, &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        manager = tool_lock_manager_new(manager_name, NULL, config_dir, &error);
        if (!manager)
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);

        /* Held until the record is written: two starts of one name can't both
         * pass the check. */
        lock_fd = state_dir_lock_name(state_dir, vmlock_domain_get_name(dom), &error);
        if (lock_fd < 0)
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!check_not_running(state_dir, vmlock_domain_get_name(dom), &error)) {
                close(lock_fd);
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        }

        launch.manager = manager;
        launch.dom = dom;
        launch.register_only = opt_paused;
        launch.stop_before_exec = opt_paused && !opt_qmp;
        launch.close_in_child = lock_fd;
        launch.argv = program;
        launch.child_sigmask = &old_mask;
        block_forwarded_signals(&old_mask);
        if (!guest_launch(&launch, &pid, &result, &error)) {
                close(lock_fd);
                name_local_holders(state_dir, dom, error);
                status = tool_report_error(error, launch_error_status(error));
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return status;
        }

        record = make_record(dom, pid, domain_xml, manager_name, config_dir, &error);
        if (!record || !state_dir_save(state_dir, record, &error)) {
                /* An unrecorded guest could not be paused or resumed: stop it. */
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                close(lock_fd);
                /* Report first: a signal held back meanwhile ends vmlock. */
                status = tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return status;
        }
        close(lock_fd);

        if (opt_detach) {
                /* "Runs", for a QEMU, means its monitor answers: a pause right
                 * after this returns must find it. */
                if (opt_qmp && !qmp_wait_ready(opt_qmp, pid, &error)) {
                        g_printerr("vmlock start: warning: guest %s started, but %s\n",
                                   vmlock_domain_get_name(dom), error->message);
                        g_clear_error(&error);
                }
                printf("%d\n", (int)pid);
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return VMLOCK_EXIT_OK;
        }
        install_forwarding(pid);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return wait_guest(state_dir, record);
}
