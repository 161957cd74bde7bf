/* vmlock: the supervisor: the `vmlock start` process that owns one guest. */
#define G_LOG_DOMAIN "vmlock-tool"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <vmlock/vmlock.h>

#include "fd-util.h"
#include "guest-launch.h"
#include "guest-status.h"
#include "qemu-monitor.h"
#include "qmp-server.h"
#include "qmp.h"
#include "supervisor.h"

/* QEMU may take a while to create its monitor on a loaded machine. */
#define MONITOR_GREETING_TIMEOUT_MS 60000

struct Supervisor {
        char *state_dir;
        char *uri;
        char *program;
        GuestRecord *record;         /* the caller's */
        VmlockLockManager *manager;  /* the caller's */
        pid_t pid;
        int pidfd;
        guint pidfd_watch;
        int go_fd;
        QemuMonitor *monitor;
        guint monitor_watch;
        QmpServer *control;
        QmpServer *proxy;
        GMainLoop *loop;
        int wait_status;
};

static const char *
guest_name(const Supervisor *sv)
{
        return vmlock_domain_get_name(sv->record->dom);
}

/* Saves the record, unless the guest is gone and a new start of the same
 * name replaced it meanwhile. */
static gboolean
save_record(Supervisor *sv, GError **error)
{
        g_autoptr(GuestRecord) on_disk = NULL;
        gboolean ok = TRUE;
        int lock_fd = state_dir_lock_name(sv->state_dir, guest_name(sv), error);

        if (lock_fd < 0)
                return FALSE;
        on_disk = state_dir_load(sv->state_dir, guest_name(sv), NULL);
        if (!on_disk || (vmlock_domain_get_pid(on_disk->dom) == sv->pid &&
                         on_disk->pid_start_time == sv->record->pid_start_time))
                ok = state_dir_save(sv->state_dir, sv->record, error);
        close(lock_fd);
        return ok;
}

/* A save that fails leaves the guest as it is, with a record behind the
 * truth: say so, but the operation itself happened. */
static void
save_record_or_warn(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;

        if (!save_record(sv, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), error->message);
}

static gboolean
stop_cpus(Supervisor *sv, GError **error)
{
        if (sv->monitor) {
                /* QEMU's stop drains and flushes the block layer before it
                 * answers: nothing is in flight once it returned. */
                g_autoptr(JsonNode) ret = qemu_monitor_execute(sv->monitor, "stop", NULL, error);

                return ret != NULL;
        }
        if (sv->go_fd >= 0)
                return TRUE; /* PROGRAM has not started */
        if (kill(sv->pid, SIGSTOP) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot stop guest '%s' (pid %d): %s", guest_name(sv), (int)sv->pid,
                            g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

static gboolean
cont_cpus(Supervisor *sv, GError **error)
{
        if (sv->go_fd >= 0) {
                int go_fd = sv->go_fd;

                sv->go_fd = -1;
                return guest_launch_go(go_fd, sv->pid, sv->program, error);
        }
        if (sv->monitor) {
                g_autoptr(JsonNode) ret = qemu_monitor_execute(sv->monitor, "cont", NULL, error);

                return ret != NULL;
        }
        if (kill(sv->pid, SIGCONT) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot continue guest '%s' (pid %d): %s", guest_name(sv),
                            (int)sv->pid, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

static gboolean
release_leases(Supervisor *sv, GError **error)
{
        g_autofree char *state = NULL;

        if (!vmlock_domain_lock_process_pause(sv->manager, sv->record->dom, &state, error))
                return FALSE;
        g_free(sv->record->lock_state);
        sv->record->lock_state = g_steal_pointer(&state);
        sv->record->released = TRUE;
        return TRUE;
}

static gboolean
supervisor_pause(Supervisor *sv, gboolean release, GError **error)
{
        GuestRecord *record = sv->record;

        if (release && !record->released && !sv->monitor) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "guest '%s' cannot hand its leases over: vmlock has no QMP to "
                            "it, so it cannot stop it with its writes flushed (SIGSTOP "
                            "leaves them in flight); only a QEMU guest can be paused with "
                            "--release",
                            guest_name(sv));
                return FALSE;
        }
        /* Before a release, always: stop also flushes a guest paused earlier. */
        if (!record->paused || (release && !record->released)) {
                if (!stop_cpus(sv, error))
                        return FALSE;
                record->paused = TRUE;
        }
        if (release && !record->released && !release_leases(sv, error)) {
                save_record_or_warn(sv); /* paused, still holding */
                return FALSE;
        }
        save_record_or_warn(sv);
        return TRUE;
}

static gboolean
supervisor_resume(Supervisor *sv, const char *state, GError **error)
{
        GuestRecord *record = sv->record;
        gboolean reacquired = FALSE;

        if (state && !record->released) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' holds its leases: --state is for a guest whose leases "
                            "were released (pause --release) or not yet taken (start --paused)",
                            guest_name(sv));
                return FALSE;
        }
        if (record->released) {
                if (!vmlock_domain_lock_process_resume(sv->manager, sv->uri, record->dom,
                                                       state ? state : record->lock_state,
                                                       error))
                        return FALSE;
                g_clear_pointer(&record->lock_state, g_free);
                record->released = FALSE;
                reacquired = TRUE;
        }
        if (!cont_cpus(sv, error)) {
                g_autoptr(GError) release_error = NULL;

                /* Still stopped: hand the leases back as they were. */
                if (reacquired && !release_leases(sv, &release_error))
                        g_printerr("vmlock: guest '%s': %s\n", guest_name(sv),
                                   release_error->message);
                save_record_or_warn(sv);
                return FALSE;
        }
        record->paused = FALSE;
        save_record_or_warn(sv);
        return TRUE;
}

/* The lock daemon lost this host's lockspace: the guest must stop writing
 * now. A guest vmlock cannot pause safely is killed. */
static gboolean
supervisor_lock_failure(Supervisor *sv, const char *action, GError **error)
{
        g_autoptr(GError) local = NULL;

        if (g_str_equal(action, "pause") && sv->monitor) {
                if (supervisor_pause(sv, TRUE, &local)) {
                        g_printerr("vmlock: guest '%s' paused and its leases released after a "
                                   "lock failure\n",
                                   guest_name(sv));
                        return TRUE;
                }
                g_printerr("vmlock: guest '%s': pause after a lock failure failed (%s): "
                           "killing it\n",
                           guest_name(sv), local->message);
        } else if (g_str_equal(action, "pause")) {
                g_printerr("vmlock: guest '%s' has no QMP: it cannot be paused safely after a "
                           "lock failure; killing it\n",
                           guest_name(sv));
        } else if (!g_str_equal(action, "poweroff")) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown lock failure action '%s'", action);
                return FALSE;
        }
        if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot kill guest '%s' (pid %d): %s", guest_name(sv), (int)sv->pid,
                            g_strerror(saved));
                return FALSE;
        }
        g_printerr("vmlock: guest '%s' (pid %d) killed after a lock failure\n", guest_name(sv),
                   (int)sv->pid);
        return TRUE;
}

static const VmlockDisk *
find_disk(const VmlockDomain *dom, const char *path)
{
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);

                if (g_strcmp0(vmlock_disk_get_source(disk), path) == 0)
                        return disk;
        }
        return NULL;
}

static const VmlockLease *
find_lease(const VmlockDomain *dom, const char *lockspace, const char *key)
{
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);

                if (g_strcmp0(vmlock_lease_get_lockspace(lease), lockspace) == 0 &&
                    g_strcmp0(vmlock_lease_get_key(lease), key) == 0)
                        return lease;
        }
        return NULL;
}

/* Hotplug: the lease first (unless handed over: resume takes it with the
 * others), then the record; a record that cannot be saved gives the lease
 * back, so nothing is held that vmlock does not know of. */
static gboolean
supervisor_attach_disk(Supervisor *sv, VmlockDisk *disk, GError **error)
{
        g_autoptr(VmlockDisk) owned = disk;
        VmlockDomain *dom = sv->record->dom;
        const char *path = vmlock_disk_get_source(disk);

        if (find_disk(dom, path)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "disk %s is already attached to guest '%s'", path, guest_name(sv));
                return FALSE;
        }
        if (!sv->record->released &&
            !vmlock_domain_lock_disk_attach(sv->manager, sv->uri, dom, disk, error))
                return FALSE;
        vmlock_domain_add_disk(dom, g_steal_pointer(&owned));
        if (!save_record(sv, error)) {
                const VmlockDisk *added = find_disk(dom, path);

                if (!sv->record->released)
                        vmlock_domain_lock_disk_detach(sv->manager, dom, added, NULL);
                vmlock_domain_remove_disk(dom, path);
                return FALSE;
        }
        return TRUE;
}

static gboolean
supervisor_detach_disk(Supervisor *sv, const char *path, GError **error)
{
        VmlockDomain *dom = sv->record->dom;
        const VmlockDisk *disk = find_disk(dom, path);

        if (!disk) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' has no disk %s", guest_name(sv), path);
                return FALSE;
        }
        if (!sv->record->released &&
            !vmlock_domain_lock_disk_detach(sv->manager, dom, disk, error))
                return FALSE;
        vmlock_domain_remove_disk(dom, path);
        save_record_or_warn(sv);
        return TRUE;
}

static gboolean
supervisor_attach_lease(Supervisor *sv, VmlockLease *lease, GError **error)
{
        g_autoptr(VmlockLease) owned = lease;
        VmlockDomain *dom = sv->record->dom;
        const char *lockspace = vmlock_lease_get_lockspace(lease);
        const char *key = vmlock_lease_get_key(lease);

        if (find_lease(dom, lockspace, key)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' already has lease %s:%s", guest_name(sv),
                            lockspace ? lockspace : "", key);
                return FALSE;
        }
        if (!sv->record->released &&
            !vmlock_domain_lock_lease_attach(sv->manager, sv->uri, dom, lease, error))
                return FALSE;
        vmlock_domain_add_lease(dom, g_steal_pointer(&owned));
        if (!save_record(sv, error)) {
                if (!sv->record->released)
                        vmlock_domain_lock_lease_detach(sv->manager, dom,
                                                        find_lease(dom, lockspace, key), NULL);
                vmlock_domain_remove_lease(dom, lockspace, key);
                return FALSE;
        }
        return TRUE;
}

static gboolean
supervisor_detach_lease(Supervisor *sv, const char *lockspace, const char *key,
                        GError **error)
{
        VmlockDomain *dom = sv->record->dom;
        const VmlockLease *lease = find_lease(dom, lockspace, key);

        if (!lease) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' has no lease %s:%s", guest_name(sv),
                            lockspace ? lockspace : "", key);
                return FALSE;
        }
        if (!sv->record->released &&
            !vmlock_domain_lock_lease_detach(sv->manager, dom, lease, error))
                return FALSE;
        vmlock_domain_remove_lease(dom, lockspace, key);
        save_record_or_warn(sv);
        return TRUE;
}

static gboolean
supervisor_inquire(Supervisor *sv, char **ret_state, GError **error)
{
        if (sv->record->released) {
                *ret_state = g_strdup(sv->record->lock_state);
                return TRUE;
        }
        return vmlock_domain_lock_process_inquire(sv->manager, sv->record->dom, ret_state,
                                                  error);
}

/* The control socket's commands. */

static const char *
arg_string(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_STRING ? json_node_get_string(node)
                                                                        : NULL;
}

static gboolean
arg_bool(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
               json_node_get_boolean(node);
}

static guint64
arg_uint(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_INT64 &&
                               json_node_get_int(node) > 0
                       ? (guint64)json_node_get_int(node)
                       : 0;
}

static JsonObject *
state_reply(const char *state)
{
        JsonObject *body = json_object_new();

        if (state)
                json_object_set_string_member(body, "state", state);
        else
                json_object_set_null_member(body, "state");
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

static JsonObject *
control_command(QmpServerClient *client, const char *command, JsonObject *arguments,
                gpointer user_data)
{
        Supervisor *sv = user_data;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        gboolean ok;

        g_debug("control: %s", command);
        if (g_str_equal(command, "query-guest")) {
                g_autofree char *inquired = NULL;

                /* Best effort: status still shows the guest when the daemon
                 * does not answer. */
                if (!sv->record->released)
                        supervisor_inquire(sv, &inquired, NULL);
                return qmp_return_new(guest_status_to_json(sv->record, sv->manager, inquired),
                                      NULL);
        } else if (g_str_equal(command, "pause")) {
                ok = supervisor_pause(sv, arg_bool(arguments, "release"), &error);
                if (ok)
                        return state_reply(arg_bool(arguments, "release")
                                                   ? sv->record->lock_state
                                                   : NULL);
        } else if (g_str_equal(command, "resume")) {
                ok = supervisor_resume(sv, arg_string(arguments, "state"), &error);
        } else if (g_str_equal(command, "inquire")) {
                ok = supervisor_inquire(sv, &state, &error);
                if (ok)
                        return state_reply(state);
        } else if (g_str_equal(command, "attach-disk")) {
                const char *type_str = arg_string(arguments, "type");
                int type = vmlock_disk_type_from_string(type_str ? type_str : "file");
                VmlockDisk *disk = NULL;

                if (type < 0)
                        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "unknown disk type '%s'", type_str);
                else
                        disk = vmlock_disk_new(type, VMLOCK_DISK_DEVICE_DISK,
                                               arg_string(arguments, "path"),
                                               arg_bool(arguments, "readonly"),
                                               arg_bool(arguments, "shareable"), &error);
                ok = disk && supervisor_attach_disk(sv, disk, &error);
        } else if (g_str_equal(command, "detach-disk")) {
                ok = supervisor_detach_disk(sv, arg_string(arguments, "path"), &error);
        } else if (g_str_equal(command, "attach-lease")) {
                VmlockLease *lease = vmlock_lease_new(arg_string(arguments, "lockspace"),
                                                      arg_string(arguments, "key"),
                                                      arg_string(arguments, "path"),
                                                      arg_uint(arguments, "offset"), &error);

                ok = lease && supervisor_attach_lease(sv, lease, &error);
        } else if (g_str_equal(command, "detach-lease")) {
                ok = supervisor_detach_lease(sv, arg_string(arguments, "lockspace"),
                                             arg_string(arguments, "key"), &error);
        } else if (g_str_equal(command, "lock-failure")) {
                const char *uuid = arg_string(arguments, "uuid");

                if (g_strcmp0(uuid, vmlock_domain_get_uuid_string(sv->record->dom)) != 0) {
                        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "guest '%s' has uuid %s, not %s", guest_name(sv),
                                    vmlock_domain_get_uuid_string(sv->record->dom),
                                    uuid ? uuid : "(none)");
                        ok = FALSE;
                } else {
                        ok = supervisor_lock_failure(sv, arg_string(arguments, "action"),
                                                     &error);
                }
        } else {
                return qmp_error_new("CommandNotFound", NULL, "The command %s has not been found",
                                     command);
        }
        if (!ok)
                return qmp_error_from_gerror(error);
        return qmp_return_new(NULL, NULL);
}

/* The QMP proxy. */

/* Commands that could run the guest without its leases or hand it storage
 * behind vmlock's back: refused, with the vmlock command to use. */
static const struct {
        const char *command;
        const char *instead;
} proxy_refused[] = {
        { "human-monitor-command", "HMP can resume the guest or add disks behind vmlock" },
        { "blockdev-add", "vmlock attach-disk takes the disk's lease first" },
        { "blockdev-reopen", "vmlock attach-disk takes the disk's lease first" },
        { "blockdev-change-medium", "vmlock attach-disk takes the disk's lease first" },
        { "change", "vmlock attach-disk takes the disk's lease first" },
        { "blockdev-snapshot-sync", "a new image would have no lease" },
        { "drive-mirror", "the target image would have no lease" },
        { "blockdev-mirror", "the target image would have no lease" },
        { "drive-backup", "the target image would have no lease" },
        { "blockdev-backup", "the target image would have no lease" },
        { "transaction", "its actions could write images without a lease" },
        { "device_add", "vmlock attach-disk takes the disk's lease first" },
        { "getfd", "a passed fd could be an image without a lease" },
        { "add-fd", "a passed fd could be an image without a lease" },
        { "migrate", "use vmlock pause --release to hand the leases over" },
        { "migrate-incoming", "the incoming guest's leases must be taken by vmlock resume" },
        { "migrate-recover", "the guest's leases must be taken by vmlock resume" },
        { "x-exit-preconfig", "vmlock starts the guest" },
};

static void
proxy_forward_done(JsonObject *reply, gpointer data)
{
        g_autoptr(QmpServerClient) client = data;

        if (!reply) {
                qmp_server_client_reply(client, qmp_error_new("GenericError", NULL,
                                                              "QEMU closed its monitor"));
                return;
        }
        /* The id is the client's again: the server puts it back. */
        json_object_remove_member(reply, "id");
        qmp_server_client_reply(client, json_object_ref(reply));
}

static JsonObject *
proxy_command(QmpServerClient *client, const char *command, JsonObject *arguments,
              gpointer user_data)
{
        Supervisor *sv = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) request = NULL;
        gboolean ok;

        g_debug("QMP proxy: %s", command);
        for (gsize i = 0; i < G_N_ELEMENTS(proxy_refused); i++) {
                if (g_str_equal(command, proxy_refused[i].command))
                        return qmp_error_new("GenericError", NULL,
                                             "vmlock: '%s' is refused for guest '%s': %s",
                                             command, guest_name(sv),
                                             proxy_refused[i].instead);
        }
        /* The CPUs and the process go through vmlock's own paths. */
        if (g_str_equal(command, "cont")) {
                if (sv->record->released)
                        return qmp_error_new("GenericError", NULL,
                                             "vmlock: guest '%s' must not run: its leases are "
                                             "released (pause --release); `vmlock resume %s` "
                                             "takes them back and continues it",
                                             guest_name(sv), guest_name(sv));
                ok = supervisor_resume(sv, NULL, &error);
        } else if (g_str_equal(command, "stop")) {
                ok = supervisor_pause(sv, FALSE, &error);
        } else {
                request = qmp_command_new(command, arguments);
                qemu_monitor_forward(sv->monitor, request, proxy_forward_done,
                                     qmp_server_client_ref(client));
                return NULL;
        }
        if (!ok)
                return qmp_error_new("GenericError", NULL, "%s", error->message);
        return qmp_return_new(NULL, NULL);
}

/* QEMU's own state changes, seen in its events. */
static void
monitor_event(JsonObject *event, gpointer user_data)
{
        Supervisor *sv = user_data;
        const char *name = json_object_get_string_member_with_default(event, "event", "");

        if (g_str_equal(name, "STOP") && !sv->record->paused) {
                /* QEMU stopped by itself (an I/O error with werror=stop). */
                sv->record->paused = TRUE;
                save_record_or_warn(sv);
        } else if (g_str_equal(name, "RESUME") && sv->record->released) {
                /* Nothing vmlock allows gets here; should anything ever, the
                 * guest must not run a moment longer without its leases. */
                g_printerr("vmlock: guest '%s' resumed while its leases are released: "
                           "killing it\n",
                           guest_name(sv));
                kill(sv->pid, SIGKILL);
        }
        if (sv->proxy)
                qmp_server_broadcast(sv->proxy, event);
}

static gboolean
monitor_readable(int fd, GIOCondition condition, gpointer user_data)
{
        Supervisor *sv = user_data;

        if (qemu_monitor_dispatch(sv->monitor))
                return G_SOURCE_CONTINUE;
        sv->monitor_watch = 0;
        return G_SOURCE_REMOVE;
}

static gboolean
guest_exited(int fd, GIOCondition condition, gpointer user_data)
{
        Supervisor *sv = user_data;

        if (waitpid_noeintr(sv->pid, &sv->wait_status, WNOHANG) == 0)
                return G_SOURCE_CONTINUE;
        sv->pidfd_watch = 0;
        g_main_loop_quit(sv->loop);
        return G_SOURCE_REMOVE;
}

static int
pidfd_open(pid_t pid, GError **error)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot watch guest process %d: %s", (int)pid, g_strerror(saved));
        }
        return fd;
}

static JsonObject *
control_greeting(Supervisor *sv)
{
        g_autoptr(JsonObject) greeting = json_object_new();
        JsonObject *body = json_object_new();

        json_object_set_string_member(body, "vmlock", VMLOCK_VERSION);
        json_object_set_string_member(body, "guest", guest_name(sv));
        json_object_set_array_member(body, "capabilities", json_array_new());
        json_object_set_object_member(greeting, "QMP", body);
        return g_steal_pointer(&greeting);
}

Supervisor *
supervisor_new(const SupervisorSetup *setup, GError **error)
{
        g_autoptr(Supervisor) sv = g_new0(Supervisor, 1);
        g_autoptr(JsonObject) greeting = NULL;
        g_autofree char *control_path = NULL;

        sv->state_dir = g_strdup(setup->state_dir);
        sv->uri = g_strdup(setup->uri);
        sv->program = g_strdup(setup->program);
        sv->record = setup->record;
        sv->manager = setup->manager;
        sv->pid = vmlock_domain_get_pid(sv->record->dom);
        sv->go_fd = setup->go_fd;
        sv->pidfd = -1;
        sv->loop = g_main_loop_new(NULL, FALSE);

        sv->pidfd = pidfd_open(sv->pid, error);
        if (sv->pidfd < 0)
                return NULL;
        if (setup->monitor_fd >= 0) {
                g_autoptr(JsonNode) status = NULL;

                sv->monitor = qemu_monitor_new(setup->monitor_fd, monitor_event, sv);
                if (!qemu_monitor_handshake(sv->monitor, MONITOR_GREETING_TIMEOUT_MS, error))
                        return NULL;
                /* Started with -S (--paused, or by the caller): stopped. */
                status = qemu_monitor_execute(sv->monitor, "query-status", NULL, error);
                if (!status)
                        return NULL;
                if (JSON_NODE_HOLDS_OBJECT(status) &&
                    !json_object_get_boolean_member_with_default(json_node_get_object(status),
                                                                 "running", TRUE))
                        sv->record->paused = TRUE;
                sv->record->qmp = state_dir_qmp_path(sv->state_dir, guest_name(sv));
                sv->proxy = qmp_server_new(sv->record->qmp,
                                           qemu_monitor_get_greeting(sv->monitor),
                                           proxy_command, sv, error);
                if (!sv->proxy)
                        return NULL;
        }
        control_path = state_dir_control_path(sv->state_dir, guest_name(sv));
        greeting = control_greeting(sv);
        sv->control = qmp_server_new(control_path, greeting, control_command, sv, error);
        if (!sv->control)
                return NULL;
        sv->record->supervisor_pid = getpid();
        if (!state_dir_save(sv->state_dir, sv->record, error))
                return NULL;
        return g_steal_pointer(&sv);
}

void
supervisor_free(Supervisor *sv)
{
        if (!sv)
                return;
        g_clear_pointer(&sv->control, qmp_server_free);
        g_clear_pointer(&sv->proxy, qmp_server_free);
        if (sv->monitor_watch)
                g_source_remove(sv->monitor_watch);
        g_clear_pointer(&sv->monitor, qemu_monitor_free);
        if (sv->pidfd_watch)
                g_source_remove(sv->pidfd_watch);
        if (sv->pidfd >= 0)
                close(sv->pidfd);
        if (sv->go_fd >= 0)
                close(sv->go_fd); /* the waiting child exits */
        g_main_loop_unref(sv->loop);
        g_free(sv->state_dir);
        g_free(sv->uri);
        g_free(sv->program);
        g_free(sv);
}

int
supervisor_run(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;

        sv->pidfd_watch = g_unix_fd_add(sv->pidfd, G_IO_IN, guest_exited, sv);
        if (sv->monitor)
                sv->monitor_watch = g_unix_fd_add(qemu_monitor_get_fd(sv->monitor),
                                                  G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                  monitor_readable, sv);
        g_main_loop_run(sv->loop);

        /* Its leases went with it; stop serving, then forget it. */
        g_clear_pointer(&sv->control, qmp_server_free);
        g_clear_pointer(&sv->proxy, qmp_server_free);
        if (!state_dir_remove_if_owned(sv->state_dir, guest_name(sv), sv->pid,
                                       sv->record->pid_start_time, &error))
                g_printerr("vmlock: %s\n", error->message);
        return sv->wait_status;
}
