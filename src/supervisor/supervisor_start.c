/* vmlock: the start path of `vmlock start`: the guest, its leases, its
 * supervisor. */
#define G_LOG_DOMAIN "vmlock-supervisor"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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
#include "supervisor/supervisor_runtime.h"
#include "supervisor/supervisor_start.h"
#include "util/fd_util.h"
#include "util/proc_stat.h"

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
        return SUPERVISOR_START_ERROR_FAILED;
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

G_DEFINE_QUARK(supervisor-start-error-quark, supervisor_start_error)

static SupervisorStartError
start_error_class(const GError *error)
{
        if (error->domain == SUPERVISOR_START_ERROR)
                return error->code;
        if (error->domain == G_SPAWN_ERROR)
                return error->code == G_SPAWN_ERROR_NOENT ? SUPERVISOR_START_ERROR_NOT_FOUND
                                                          : SUPERVISOR_START_ERROR_CANNOT_EXECUTE;
        /* The leases could not be had: held elsewhere, state changed,
         * lockspace missing. */
        if (g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY) ||
            g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE) ||
            g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE))
                return SUPERVISOR_START_ERROR_LOCK_FAILURE;
        return SUPERVISOR_START_ERROR_FAILED;
}

/* Turns *@error into its class (SUPERVISOR_START_ERROR), its message kept;
 * returns FALSE. */
static gboolean
classify_error(GError **error)
{
        GError *classified;

        if (!error || !*error || (*error)->domain == SUPERVISOR_START_ERROR)
                return FALSE;
        classified = g_error_new_literal(SUPERVISOR_START_ERROR, start_error_class(*error),
                                         (*error)->message);
        g_error_free(*error);
        *error = classified;
        return FALSE;
}

static GuestRecord *
make_record(const SupervisorStartRequest *req, VmlockDomain *dom, pid_t pid,
            const char *domain_xml, const char *manager_name, GError **error)
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
        record->paused = req->paused;
        /* A paused start only registered: resume takes the leases. */
        record->released = req->paused;
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

/* The caller's side of --detach: the guest's pid, or the error. */
static gboolean
wait_for_report(int fd, SupervisorStartResult *result, GError **error)
{
        DetachReport report;
        g_autofree char *message = NULL;

        if (fd_read_full(fd, &report, sizeof(report)) != (gssize)sizeof(report)) {
                g_set_error_literal(error, SUPERVISOR_START_ERROR, SUPERVISOR_START_ERROR_FAILED,
                                    "the supervisor ended before the guest started");
                return FALSE;
        }
        if (report.message_len > 1024 * 1024)
                report.message_len = 0;
        message = g_malloc0(report.message_len + 1);
        if (fd_read_full(fd, message, report.message_len) != (gssize)report.message_len)
                message[0] = '\0';
        if (report.status != 0) {
                g_set_error_literal(error, SUPERVISOR_START_ERROR, report.status, message);
                return FALSE;
        }
        result->detached = TRUE;
        result->pid = report.pid;
        result->exit_status = 0;
        return TRUE;
}

/* Where a detached supervisor and its guest write: --log, or nowhere. */
static int
open_output(const SupervisorStartRequest *req, GError **error)
{
        int fd = req->log ? open(req->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                0600)
                         : open("/dev/null", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s",
                            req->log ? req->log : "/dev/null", g_strerror(saved));
        }
        return fd;
}

/* Forks the background supervisor. In the caller, returns its outcome:
 * TRUE with @result (detached), or FALSE with @error. In the supervisor,
 * returns TRUE with *ret_report_fd: where the outcome goes. */
static gboolean
detach(int *ret_report_fd, SupervisorStartResult *result, GError **error)
{
        int pipefd[2];
        pid_t pid;

        /* A socket, not a pipe: a caller gone (Ctrl-C) is EPIPE for the
         * supervisor, never a SIGPIPE that would orphan the guest. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipefd) < 0) {
                int saved = errno;

                g_set_error(error, SUPERVISOR_START_ERROR, SUPERVISOR_START_ERROR_FAILED,
                            "cannot create a socket pair: %s", g_strerror(saved));
                return FALSE;
        }
        /* Nothing in vmlock runs a thread yet: the child may go on freely. */
        pid = fork();
        if (pid < 0) {
                int saved = errno;

                g_set_error(error, SUPERVISOR_START_ERROR, SUPERVISOR_START_ERROR_FAILED,
                            "cannot fork: %s", g_strerror(saved));
                close(pipefd[0]);
                close(pipefd[1]);
                return FALSE;
        }
        if (pid > 0) {
                gboolean ok;

                close(pipefd[1]);
                ok = wait_for_report(pipefd[0], result, error);
                close(pipefd[0]);
                return ok;
        }
        close(pipefd[0]);
        /* Its own session: closing the caller's terminal sends it no SIGHUP. */
        setsid();
        *ret_report_fd = pipefd[1];
        return TRUE;
}

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

/* Everything up to a guest that runs, supervised (by *@ret_runtime's
 * code). */
static Supervisor *
start_supervised(const SupervisorStartRequest *req, VmlockDomain *dom,
                 VmlockLockManager *manager, char **program, const char *state_dir,
                 int output_fd, GuestOutput *guest_output, const sigset_t *child_sigmask,
                 GuestRecord **ret_record, const SupervisorRuntime **ret_runtime,
                 GError **error)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autofree char *uri = g_strconcat("vmlock://", state_dir, NULL);
        g_autofree char *held_state = NULL;
        gboolean is_qemu = supervisor_start_is_qemu(program[0], req->qemu);
        const SupervisorRuntime *runtime = NULL;
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
        argv = is_qemu ? qemu_argv_build(program, monitor[1], req->paused, req->incoming != NULL)
                       : qemu_argv_copy(program);

        launch.manager = manager;
        launch.dom = dom;
        launch.uri = uri;
        launch.register_only = req->paused;
        launch.wait_for_go = req->paused && !is_qemu;
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

        /* Only now: the guest did not wait for the supervisor's libraries. */
        runtime = req->load_runtime(error);
        if (runtime)
                record = make_record(req, dom, pid, req->domain_xml, req->lock_manager, error);
        if (record) {
                setup.state_dir = state_dir;
                setup.uri = uri;
                setup.record = record;
                setup.manager = manager;
                setup.monitor_fd = monitor[0];
                setup.program = program[0];
                setup.incoming = req->incoming;
                setup.held_state = held_state;
                /* Both the supervisor's, even when it fails. */
                monitor[0] = -1;
                sv = runtime->supervisor_new(&setup, error);
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
        *ret_runtime = runtime;

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

/* A JSON option value (-blockdev '{...}') needs json-glib: loaded with the
 * supervisor, before the exec only for a command line that has one. */
static gboolean
parse_json_option(const char *text, GHashTable *kv, gpointer user_data, char **ret_problem)
{
        const SupervisorStartRequest *req = user_data;
        g_autoptr(GError) error = NULL;
        const SupervisorRuntime *runtime = req->load_runtime(&error);

        if (!runtime) {
                *ret_problem = g_strdup(error->message);
                return FALSE;
        }
        return runtime->json_options->parse(text, kv, runtime->json_options->user_data,
                                            ret_problem);
}

/* The guest: DOMAIN.xml, or --name and --uuid. QEMU's images (in
 * *@ret_images, NULL for another program) are its disks without XML, and
 * must agree with the XML's otherwise. */
static VmlockDomain *
load_domain(const SupervisorStartRequest *req, gboolean is_qemu, GPtrArray **ret_images,
            GError **error)
{
        const char *domain_xml = req->domain_xml;
        char **program = req->program;

        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GPtrArray) images = NULL;

        if (is_qemu) {
                QemuJsonOptions json = { .parse = parse_json_option, .user_data = (gpointer)req };

                images = qemu_cmdline_images(program, &json, error);
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
                g_autofree char *uuid = req->uuid ? g_strdup(req->uuid) : uuid_from_name(req->name);

                dom = vmlock_domain_new(req->name, uuid, error);
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


gboolean
supervisor_start_is_qemu(const char *program, gboolean forced)
{
        return forced || qemu_argv_is_qemu(program);
}

static void
print_progress(const char *message, gpointer user_data)
{
        g_printerr("%s: %s\n", g_get_prgname(), message);
}

/* The guest and its lock driver, checked: everything before the fork. */
static gboolean
prepare(const SupervisorStartRequest *req, VmlockDomain **ret_dom,
        VmlockLockManager **ret_manager, GPtrArray **ret_images, GError **error)
{
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GPtrArray) images = NULL;
        gboolean is_qemu = supervisor_start_is_qemu(req->program[0], req->qemu);

        if (!qemu_argv_check(req->program, is_qemu, error))
                return FALSE;
        dom = load_domain(req, is_qemu, &images, error);
        if (!dom || !state_dir_check_name(vmlock_domain_get_name(dom), error))
                return FALSE;
        if (!req->lock_manager_named)
                g_printerr("%s: warning: %s %s: lock_manager is \"nop\", guest '%s' runs "
                           "WITHOUT disk leases\n",
                           g_get_prgname(), req->config_file,
                           g_file_test(req->config_file, G_FILE_TEST_EXISTS)
                                   ? "sets no lock_manager"
                                   : "does not exist",
                           vmlock_domain_get_name(dom));
        manager = vmlock_lock_manager_new(req->lock_manager, NULL, req->config_dir,
                                          print_progress, NULL, error);
        if (!manager || !add_image_leases(dom, images, manager, error))
                return FALSE;
        *ret_dom = g_steal_pointer(&dom);
        *ret_manager = g_steal_pointer(&manager);
        *ret_images = g_steal_pointer(&images);
        return TRUE;
}

/* The background supervisor's failure goes to its caller, who prints it:
 * this process only exits. */
static gboolean
report_failure(int report_fd, GError *error, SupervisorStartResult *result)
{
        result->exit_status = start_error_class(error);
        report_to_caller(report_fd, result->exit_status, 0, error->message);
        g_error_free(error);
        return TRUE;
}

gboolean
supervisor_start(const SupervisorStartRequest *req, SupervisorStartResult *result,
                 GError **error)
{
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GPtrArray) images = NULL;
        g_autoptr(GuestOutput) guest_output = NULL;
        const SupervisorRuntime *runtime = NULL;
        Supervisor *sv;
        g_autofree char *state_dir = NULL;
        GError *local_error = NULL;
        sigset_t old_mask;
        int report_fd = -1;
        int output_fd = -1;

        *result = (SupervisorStartResult){ 0 };
        /* Absolute: the lock-failure helper gets it, from another directory. */
        state_dir = g_canonicalize_filename(state_dir_path_resolve(req->state_dir), NULL);
        if (!prepare(req, &dom, &manager, &images, error))
                return classify_error(error);

        if (req->detach) {
                if (!detach(&report_fd, result, error))
                        return FALSE;
                if (result->detached)
                        return TRUE;
                output_fd = open_output(req, &local_error);
                if (output_fd < 0)
                        return report_failure(report_fd, local_error, result);
                /* The caller's stdout stays free: pid=$(vmlock start -d ...). */
                dup2(output_fd, STDIN_FILENO);
                dup2(output_fd, STDOUT_FILENO);
                if (!req->log) {
                        guest_output = guest_output_new(&local_error);
                        if (!guest_output)
                                return report_failure(report_fd, local_error, result);
                }
        }

        block_forwarded_signals(&old_mask);
        sv = start_supervised(req, dom, manager, req->program, state_dir, output_fd,
                              guest_output, &old_mask, &record, &runtime, &local_error);
        if (!sv) {
                gboolean reported = report_fd >= 0;

                if (reported)
                        report_failure(report_fd, local_error, result);
                else
                        g_propagate_error(error, local_error);
                /* The detached caller is told first: a signal held back
                 * meanwhile ends this process. */
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return reported || classify_error(error);
        }
        if (report_fd >= 0) {
                report_to_caller(report_fd, 0, vmlock_domain_get_pid(record->dom), NULL);
                close(report_fd);
                dup2(output_fd, STDERR_FILENO);
        }
        if (output_fd >= 0)
                close(output_fd);
        if (guest_output)
                guest_output_drain(guest_output);
        /* From here on, what this process prints is the supervisor's log. */
        runtime->log_stamp_lines();
        install_forwarding(vmlock_domain_get_pid(record->dom));
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        result->exit_status = exit_status_of(runtime->supervisor_run(sv));
        runtime->supervisor_free(sv);
        return TRUE;
}
