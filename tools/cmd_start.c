/* vmlock: `vmlock start`: run a guest program under its disk leases. */
#define G_LOG_DOMAIN "vmlock-tool"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "qemu/qemu_argv.h"
#include "qemu/qemu_cmdline.h"
#include "supervisor/guest_images.h"
#include "supervisor/guest_launch.h"
#include "supervisor/guest_output.h"
#include "supervisor/state_dir.h"
#include "supervisor/supervisor.h"
#include "tool_config.h"
#include "util/fd_util.h"
#include "util/proc_stat.h"
#include "vmlock_tool.h"

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

/* Whether the guest of @record holds the lease of a disk it shares with
 * @dom, as the lock daemon says now: a record alone may be stale (its leases
 * released for a migration, or taken by another host since). */
static gboolean
holds_shared_disk(VmlockLockManager *manager, const GuestRecord *record, VmlockDomain *dom)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        if (record->released ||
            !vmlock_domain_lock_process_inquire(manager, record->dom, &state, &error)) {
                if (error)
                        g_debug("guest %s: %s", vmlock_domain_get_name(record->dom),
                                error->message);
                return FALSE;
        }
        for (guint i = 0; state && i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                gboolean held = FALSE;

                if (vmlock_domain_lock_state_holds_disk(manager, state, disk, &held, NULL) &&
                    held)
                        return TRUE;
        }
        return FALSE;
}

/* sanlock tells that another process of this host holds a disk, not which:
 * this host's records do. Appends the running guests that hold one of
 * @dom's disks to a busy-lease @error. */
static void
name_local_holders(const char *state_dir, VmlockLockManager *manager, VmlockDomain *dom,
                   GError *error)
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

                if (holds_shared_disk(manager, record, dom))
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
start_error_status(const GError *error)
{
        if (error->domain == G_SPAWN_ERROR)
                return error->code == G_SPAWN_ERROR_NOENT ? VMLOCK_EXIT_NOT_FOUND
                                                          : VMLOCK_EXIT_CANNOT_EXECUTE;
        if (tool_error_is_lock_failure(error))
                return VMLOCK_EXIT_LOCK_FAILURE;
        return VMLOCK_EXIT_START_FAILURE;
}

static GuestRecord *
make_record(VmlockDomain *dom, pid_t pid, const char *domain_xml, const char *manager_name,
            GError **error)
{
        g_autoptr(GuestRecord) record = NULL;
        guint64 start_time;

        if (!proc_pid_stat(pid, NULL, &start_time, error))
                return NULL;
        vmlock_domain_set_pid(dom, pid);
        record = guest_record_new(dom);
        record->pid_start_time = start_time;
        /* Absolute: later commands may run from another directory. */
        record->domain_xml = domain_xml ? g_canonicalize_filename(domain_xml, NULL) : NULL;
        record->lock_manager = g_strdup(manager_name);
        record->paused = opt_paused;
        /* A paused start only registered: resume takes the leases. */
        record->released = opt_paused;
        return g_steal_pointer(&record);
}

/* Refuses a name or a uuid that runs here; a stale record is simply
 * replaced. Called under the name and uuid locks. */
static gboolean
check_not_running(const char *state_dir, VmlockDomain *dom, GError **error)
{
        const char *name = vmlock_domain_get_name(dom);
        const char *uuid = vmlock_domain_get_uuid_string(dom);
        g_autoptr(GuestRecord) existing = state_dir_load(state_dir, name, NULL);
        g_autoptr(GuestRecord) same_uuid = NULL;

        if (existing && guest_record_is_alive(existing)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' already runs here (pid %d, started from %s)", name,
                            (int)vmlock_domain_get_pid(existing->dom),
                            existing->domain_xml ? existing->domain_xml
                                                 : "QEMU's command line");
                return FALSE;
        }
        /* The lock-failure helper finds a guest by uuid: it must be unique. */
        same_uuid = state_dir_find_uuid(state_dir, uuid, NULL);
        if (same_uuid) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' (pid %d) already runs here with uuid %s: two guests "
                            "must not share a uuid",
                            vmlock_domain_get_name(same_uuid->dom),
                            (int)vmlock_domain_get_pid(same_uuid->dom), uuid);
                return FALSE;
        }
        return TRUE;
}

/* --detach: how the background supervisor tells the caller the outcome. */
typedef struct {
        int32_t status; /* the caller's exit status */
        int32_t pid;    /* the guest's, on success */
        uint32_t message_len;
} __attribute__((packed)) DetachReport;

static void
report_to_caller(int fd, int status, pid_t pid, const char *message)
{
        DetachReport report = {
                .status = status,
                .pid = pid,
                .message_len = message ? (uint32_t)strlen(message) : 0,
        };

        if (fd < 0)
                return;
        if (fd_write_all(fd, &report, sizeof(report)) && message)
                fd_write_all(fd, message, report.message_len);
}

/* The caller's side of --detach: the guest's pid on stdout, or the error. */
static int
wait_for_report(int fd)
{
        DetachReport report;
        g_autofree char *message = NULL;

        if (fd_read_full(fd, &report, sizeof(report)) != (gssize)sizeof(report)) {
                g_printerr("%s: the supervisor ended before the guest started\n",
                           g_get_prgname());
                return VMLOCK_EXIT_START_FAILURE;
        }
        if (report.message_len > 1024 * 1024)
                report.message_len = 0;
        message = g_malloc0(report.message_len + 1);
        if (fd_read_full(fd, message, report.message_len) != (gssize)report.message_len)
                message[0] = '\0';
        if (report.status != VMLOCK_EXIT_OK) {
                g_printerr("%s: %s\n", g_get_prgname(), message);
                return report.status;
        }
        if (*message)
                g_printerr("%s: %s\n", g_get_prgname(), message);
        printf("%d\n", (int)report.pid);
        return VMLOCK_EXIT_OK;
}

/* Where a detached supervisor and its guest write: --log, or nowhere. */
static int
open_output(GError **error)
{
        int fd = opt_log ? open(opt_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                0600)
                         : open("/dev/null", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s",
                            opt_log ? opt_log : "/dev/null", g_strerror(saved));
        }
        return fd;
}

/* Forks the background supervisor. In the caller, returns FALSE with
 * *ret_status: its exit status. In the supervisor, returns TRUE with
 * *ret_report_fd: where the outcome goes. */
static gboolean
detach(int *ret_report_fd, int *ret_status)
{
        int pipefd[2];
        pid_t pid;

        /* A socket, not a pipe: a caller gone (Ctrl-C) is EPIPE for the
         * supervisor, never a SIGPIPE that would orphan the guest. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipefd) < 0) {
                g_printerr("%s: cannot create a socket pair: %s\n", g_get_prgname(),
                           g_strerror(errno));
                *ret_status = VMLOCK_EXIT_START_FAILURE;
                return FALSE;
        }
        /* Nothing in vmlock runs a thread yet: the child may go on freely. */
        pid = fork();
        if (pid < 0) {
                g_printerr("%s: cannot fork: %s\n", g_get_prgname(), g_strerror(errno));
                *ret_status = VMLOCK_EXIT_START_FAILURE;
                return FALSE;
        }
        if (pid > 0) {
                close(pipefd[1]);
                *ret_status = wait_for_report(pipefd[0]);
                close(pipefd[0]);
                return FALSE;
        }
        close(pipefd[0]);
        /* Its own session: closing the caller's terminal sends it no SIGHUP. */
        setsid();
        *ret_report_fd = pipefd[1];
        return TRUE;
}

/* Everything up to a guest that runs, supervised. The caller prints the
 * error. */
/* What PROGRAM said before it went, which nobody else saw (--detach
 * without --log). */
static void
append_guest_words(GError *error, const char *program, GuestOutput *guest_output)
{
        g_autofree char *tail = guest_output_tail(guest_output);
        char *message;

        if (!tail)
                return;
        message = g_strdup_printf("%s; %s said:\n%s", error->message, program, tail);
        g_free(error->message);
        error->message = message;
}

static Supervisor *
start_supervised(VmlockDomain *dom, VmlockLockManager *manager, const char *manager_name,
                 const char *domain_xml, char **program, const char *state_dir,
                 int output_fd, GuestOutput *guest_output, const sigset_t *child_sigmask,
                 GuestRecord **ret_record, GError **error)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autofree char *uri = g_strconcat("vmlock://", state_dir, NULL);
        g_autofree char *held_state = NULL;
        gboolean is_qemu = opt_qemu || qemu_argv_is_qemu(program[0]);
        Supervisor *sv = NULL;
        gboolean ok;
        int lock_fds[3] = { -1, -1, -1 };
        int monitor[2] = { -1, -1 };
        GuestLaunch launch = { .inherit_fd = -1, .output_fd = -1 };
        SupervisorSetup setup = { .go_fd = -1, .monitor_fd = -1 };
        pid_t pid;

        /* Held until the record is written: two starts of one name, or of
         * one uuid, can't both pass the check. */
        lock_fds[0] = state_dir_lock_name(state_dir, vmlock_domain_get_name(dom), error);
        if (lock_fds[0] < 0)
                return NULL;
        lock_fds[1] = state_dir_lock_uuid(state_dir, vmlock_domain_get_uuid_string(dom),
                                          error);
        if (lock_fds[1] < 0 || !check_not_running(state_dir, dom, error))
                goto cleanup;

        if (is_qemu && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, monitor) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot create QEMU's monitor socket: %s", g_strerror(saved));
                goto cleanup;
        }
        argv = is_qemu ? qemu_argv_build(program, monitor[1], opt_paused, opt_incoming != NULL)
                       : qemu_argv_copy(program);

        launch.manager = manager;
        launch.dom = dom;
        launch.uri = uri;
        launch.register_only = opt_paused;
        launch.wait_for_go = opt_paused && !is_qemu;
        launch.close_in_child = lock_fds;
        launch.inherit_fd = monitor[1];
        launch.stdio_fd = output_fd;
        if (guest_output)
                launch.output_fd = guest_output_get_writer(guest_output);
        launch.argv = (char *const *)argv->pdata;
        launch.child_sigmask = child_sigmask;
        ok = guest_launch(&launch, &pid, &setup.go_fd, &held_state, error);
        if (guest_output)
                guest_output_close_writer(guest_output);
        if (!ok) {
                name_local_holders(state_dir, manager, dom, *error);
                goto cleanup;
        }
        if (monitor[1] >= 0)
                close(monitor[1]);
        monitor[1] = -1;

        record = make_record(dom, pid, domain_xml, manager_name, error);
        if (record) {
                setup.state_dir = state_dir;
                setup.uri = uri;
                setup.record = record;
                setup.manager = manager;
                setup.monitor_fd = monitor[0];
                setup.program = program[0];
                setup.incoming = opt_incoming;
                setup.held_state = held_state;
                /* Both the supervisor's, even when it fails. */
                monitor[0] = -1;
                sv = supervisor_new(&setup, error);
                setup.go_fd = -1;
        }
        if (!sv) {
                int status = 0;

                /* An unsupervised guest could not be paused or resumed. */
                kill(pid, SIGKILL);
                waitpid_noeintr(pid, &status, 0);
                /* Unless it was on its way out already (a QEMU that rejected
                 * its arguments closes its monitor as it exits): say so. */
                if (WIFEXITED(status))
                        g_prefix_error(error, "%s exited with status %d: ", program[0],
                                       WEXITSTATUS(status));
                else if (WTERMSIG(status) != SIGKILL)
                        g_prefix_error(error, "%s was killed by signal %d: ", program[0],
                                       WTERMSIG(status));
                if (guest_output)
                        append_guest_words(*error, program[0], guest_output);
                if (setup.go_fd >= 0)
                        close(setup.go_fd);
                goto cleanup;
        }
        *ret_record = g_steal_pointer(&record);

cleanup:
        for (int i = 0; i < 2; i++) {
                if (lock_fds[i] >= 0)
                        close(lock_fds[i]);
                if (monitor[i] >= 0)
                        close(monitor[i]);
        }
        return sv;
}

/* vmlock's namespace for the uuids of guests started without XML. */
static const guint8 name_uuid_namespace[16] = {
        0x3b, 0x6e, 0x0c, 0x51, 0x8f, 0x2a, 0x4d, 0x97,
        0xa4, 0x1e, 0x62, 0xd8, 0x0b, 0x95, 0xc7, 0x3f,
};

/* The uuid of a guest started with --name and no --uuid: UUID version 5 of
 * the name in vmlock's namespace. Every start of one guest, on any host,
 * has the same uuid, as an XML's <uuid> would give: the lock-failure helper
 * and the one-uuid-one-guest check see the same guest across restarts. */
static char *
uuid_from_name(const char *name)
{
        g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
        guint8 digest[20];
        gsize len = sizeof(digest);

        g_checksum_update(sha1, name_uuid_namespace, sizeof(name_uuid_namespace));
        g_checksum_update(sha1, (const guchar *)name, strlen(name));
        g_checksum_get_digest(sha1, digest, &len);
        digest[6] = (digest[6] & 0x0f) | 0x50;
        digest[8] = (digest[8] & 0x3f) | 0x80;
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                               "%02x%02x%02x%02x%02x%02x",
                               digest[0], digest[1], digest[2], digest[3], digest[4],
                               digest[5], digest[6], digest[7], digest[8], digest[9],
                               digest[10], digest[11], digest[12], digest[13], digest[14],
                               digest[15]);
}

/* The guest: DOMAIN.xml, or --name and --uuid. QEMU's images (in
 * *@ret_images, NULL for another program) are its disks without XML, and
 * must agree with the XML's otherwise. */
static VmlockDomain *
load_domain(const char *domain_xml, char **program, gboolean is_qemu, GPtrArray **ret_images,
            GError **error)
{
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GPtrArray) images = NULL;

        if (is_qemu) {
                images = qemu_cmdline_images(program, error);
                if (!images)
                        return NULL;
        }
        if (domain_xml) {
                dom = vmlock_domain_parse_file(domain_xml, error);
                if (!dom)
                        return NULL;
                if (images && !guest_images_check_agree(dom, domain_xml, images, error))
                        return NULL;
        } else {
                g_autofree char *uuid = opt_uuid ? g_strdup(opt_uuid) : uuid_from_name(opt_name);

                dom = vmlock_domain_new(opt_name, uuid, error);
                if (!dom)
                        return NULL;
                if (!guest_images_add_to_domain(dom, images, error))
                        return NULL;
        }
        *ret_images = g_steal_pointer(&images);
        return g_steal_pointer(&dom);
}

/* What the domain does not say but the images do: sources vmlock cannot
 * lease (warned, or refused as the driver's require_lease_for_disks asks),
 * and the backing files of qcow2 disks (shared leases). */
static gboolean
add_image_leases(VmlockDomain *dom, const GPtrArray *images, VmlockLockManager *manager,
                 GError **error)
{
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        gboolean refuse = vmlock_lock_manager_requires_disk_leases(manager) &&
                          vmlock_domain_get_n_leases(dom) == 0;

        if (images &&
            !guest_images_check_remote(images, refuse,
                                       vmlock_lock_manager_get_config_file(manager), warnings,
                                       error))
                return FALSE;
        if (!guest_images_add_backing_files(dom, images, warnings, error))
                return FALSE;
        for (guint i = 0; i < warnings->len; i++)
                g_printerr("%s: warning: %s\n", g_get_prgname(),
                           (const char *)g_ptr_array_index(warnings, i));
        return TRUE;
}

int
cmd_start(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(Supervisor) sv = NULL;
        g_autoptr(GPtrArray) images = NULL;
        g_autofree char *manager_name = NULL;
        g_autofree char *description = NULL;
        g_autofree char *state_dir = NULL;
        GError *error = NULL;
        char **program;
        const char *config_dir;
        const char *domain_xml;
        gboolean manager_named = TRUE;
        gboolean is_qemu;
        sigset_t old_mask;
        int opt_argc = argc;
        g_autoptr(GuestOutput) guest_output = NULL;
        int report_fd = -1;
        int output_fd = -1;
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
        is_qemu = opt_qemu || qemu_argv_is_qemu(program[0]);
        if (!domain_xml && !is_qemu)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "without DOMAIN.xml, PROGRAM must be QEMU "
                                        "(qemu-system-*, or --qemu): vmlock reads the disks "
                                        "from its arguments");
        if (opt_incoming && !is_qemu)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE,
                                        "--incoming is for QEMU guests (qemu-system-*, or --qemu)");
        /* A destination holds nothing until resume --state. */
        if (opt_incoming)
                opt_paused = TRUE;
        if (opt_log && !opt_detach)
                return tool_usage_error(VMLOCK_EXIT_START_FAILURE, "--log needs --detach");
        if (!qemu_argv_check(program, is_qemu, &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        /* Absolute: the lock-failure helper gets it, from another directory. */
        state_dir = g_canonicalize_filename(state_dir_path_resolve(opt_state_dir), NULL);
        config_dir = vmlock_resolve_config_dir(opt_config);

        dom = load_domain(domain_xml, program, is_qemu, &images, &error);
        if (!dom)
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!state_dir_check_name(vmlock_domain_get_name(dom), &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!tool_config_read_lock_manager(config_dir, &manager_name, &manager_named, &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);
        if (!manager_named) {
                g_autofree char *path = tool_config_path(config_dir);

                g_printerr("%s: warning: %s %s: lock_manager is \"nop\", guest '%s' runs "
                           "WITHOUT disk leases\n",
                           g_get_prgname(), path,
                           g_file_test(path, G_FILE_TEST_EXISTS) ? "sets no lock_manager"
                                                                 : "does not exist",
                           vmlock_domain_get_name(dom));
        }
        manager = tool_lock_manager_new(manager_name, NULL, config_dir, &error);
        if (!manager || !add_image_leases(dom, images, manager, &error))
                return tool_report_error(error, VMLOCK_EXIT_START_FAILURE);

        if (opt_detach) {
                if (!detach(&report_fd, &status))
                        return status;
                output_fd = open_output(&error);
                if (output_fd < 0) {
                        status = start_error_status(error);
                        report_to_caller(report_fd, status, 0, error->message);
                        g_error_free(error);
                        return status;
                }
                /* The caller's stdout stays free: pid=$(vmlock start -d ...). */
                dup2(output_fd, STDIN_FILENO);
                dup2(output_fd, STDOUT_FILENO);
                if (!opt_log) {
                        guest_output = guest_output_new(&error);
                        if (!guest_output) {
                                status = start_error_status(error);
                                report_to_caller(report_fd, status, 0, error->message);
                                g_error_free(error);
                                return status;
                        }
                }
        }

        block_forwarded_signals(&old_mask);
        sv = start_supervised(dom, manager, manager_name, domain_xml, program, state_dir,
                              output_fd, guest_output, &old_mask, &record, &error);
        if (!sv) {
                status = start_error_status(error);
                if (report_fd >= 0) {
                        report_to_caller(report_fd, status, 0, error->message);
                        g_error_free(error);
                } else {
                        tool_report_error(error, status);
                }
                /* Report first: a signal held back meanwhile ends vmlock. */
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return status;
        }
        if (report_fd >= 0) {
                report_to_caller(report_fd, VMLOCK_EXIT_OK, vmlock_domain_get_pid(record->dom),
                                 NULL);
                close(report_fd);
                dup2(output_fd, STDERR_FILENO);
        }
        if (output_fd >= 0)
                close(output_fd);
        if (guest_output)
                guest_output_drain(guest_output);
        install_forwarding(vmlock_domain_get_pid(record->dom));
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return exit_status_of(supervisor_run(sv));
}
