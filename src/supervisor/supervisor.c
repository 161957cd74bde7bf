/* vmlock: the supervisor: the `vmlock start` process that owns one guest. */
#define G_LOG_DOMAIN "vmlock-supervisor"
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

#include "control/control_server.h"
#include "qemu/qemu_event.h"
#include "qemu/qemu_hotplug.h"
#include "qemu/qemu_migration.h"
#include "qemu/qemu_monitor.h"
#include "qemu/qemu_proxy.h"
#include "qemu/qemu_vm.h"
#include "supervisor/guest_launch.h"
#include "supervisor/guest_status.h"
#include "supervisor/guest_stop.h"
#include "supervisor/lease_events.h"
#include "supervisor/lease_watch.h"
#include "supervisor/service_notify.h"
#include "supervisor/supervisor.h"
#include "util/fd_util.h"
#include "util/qmp.h"

/* QEMU may take a while to create its monitor on a loaded machine. */
#define MONITOR_GREETING_TIMEOUT_MS 60000
/* How long detach-disk waits for QEMU to let go of a device: under the
 * vmlock command's own wait for an answer (QMP_TIMEOUT_MS). A scsi-hd goes
 * at once; a PCI device needs the guest's OS to agree. */
#define UNPLUG_TIMEOUT_MS 6000
/* How long an ended guest's supervisor waits for the lock daemon to write
 * the release of its leases (one write each; seconds only if the storage
 * hangs). */
#define RELEASE_WAIT_MS 10000

/* A disk vmlock gave QEMU, by its path. */
typedef struct {
        char *path;
        char *id;                /* device id; nodes ID-file, ID-format */
        gboolean unplugging;     /* device_del sent, DEVICE_DELETED not seen */
        QmpServerClient *waiter; /* the detach-disk waiting for it, or NULL */
        guint timeout;
} PluggedDisk;

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
        GHashTable *plugged;     /* path -> PluggedDisk: disks vmlock hotplugged */
        guint next_disk;
        GHashTable *proxy_nodes; /* node name -> path: image nodes added through the proxy */
        GPtrArray *unprotected;  /* images QEMU opened writable at start that no lease covers */
        char *incoming;          /* a migration destination: where QEMU waits for the guest */
        gboolean migrating;      /* the source of a migration vmlock started, not handed over */
        guint handover_idle;     /* the MIGRATION event said completed: hand over */
        char *handover_error;    /* why the last migration's hand-over failed, or NULL */
        char *held_state;        /* what the guest holds, as inquire says (NULL: nothing) */
        LeaseWatch *lease_watch; /* sees the leases go behind vmlock's back */
        GuestStop *stop;         /* `vmlock stop`: shutdown asked, kill armed */
};

static void
plugged_disk_free(PluggedDisk *plugged)
{
        if (plugged->timeout)
                g_source_remove(plugged->timeout);
        if (plugged->waiter)
                qmp_server_client_unref(plugged->waiter);
        g_free(plugged->path);
        g_free(plugged->id);
        g_free(plugged);
}

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
        if (sv->monitor)
                return qemu_vm_stop(sv->monitor, error); /* flushed once it returned */
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
        if (sv->monitor)
                return qemu_vm_cont(sv->monitor, error);
        if (kill(sv->pid, SIGCONT) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot continue guest '%s' (pid %d): %s", guest_name(sv),
                            (int)sv->pid, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* Follows what the guest holds, with the versions its leases were taken
 * at: when it ends, the wait for their release compares with them. */
static void
note_held_leases(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        lease_watch_changed(sv->lease_watch);
        if (sv->record->released) {
                g_clear_pointer(&sv->held_state, g_free);
                return;
        }
        /* Kept as it was: the wait then covers what was known. */
        if (!vmlock_domain_lock_process_inquire(sv->manager, sv->record->dom, &state, &error)) {
                g_debug("guest '%s': cannot inquire its leases: %s", guest_name(sv),
                        error->message);
                return;
        }
        g_free(sv->held_state);
        sv->held_state = g_steal_pointer(&state);
}

/* The guest has ended and its leases went with it, but the lock daemon
 * writes their release after it forgot the guest: until then another host
 * is refused them. Exiting before would tell whoever waits for this process
 * (the caller of a foreground `vmlock start`) that the disks are free when
 * they are not yet. */
static void
wait_leases_released(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;
        gboolean released = TRUE;

        if (!vmlock_lock_manager_wait_released(sv->manager, sv->held_state, RELEASE_WAIT_MS,
                                               &released, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), error->message);
        else if (!released)
                g_printerr("vmlock: guest '%s' has ended, but %u s later the lock daemon has "
                           "still not written the release of its leases: another host is "
                           "refused them until it does\n",
                           guest_name(sv), RELEASE_WAIT_MS / 1000);
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
        note_held_leases(sv);
        lease_events_log_domain(sv->manager, LEASE_EVENT_RELEASED, sv->record->dom, NULL);
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
                g_autoptr(GError) local = NULL;

                /* A state given (even empty) is a hand-over: it must cover
                 * every lease; the one recorded here is our own. */
                gboolean ok = state ? vmlock_domain_lock_process_take_over(
                                              sv->manager, sv->uri, record->dom, state, &local)
                                    : vmlock_domain_lock_process_resume(
                                              sv->manager, sv->uri, record->dom,
                                              record->lock_state, &local);

                if (!ok) {
                        lease_events_log_refusal(sv->manager, record->dom, NULL, local);
                        /* The guest runs nowhere now: say where it can. */
                        if (sv->incoming)
                                g_set_error(error, local->domain, local->code,
                                            "%s; guest '%s' stays paused here, without its "
                                            "leases: its migration source can take them back "
                                            "and continue it with `vmlock resume %s` there",
                                            local->message, guest_name(sv), guest_name(sv));
                        else
                                g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                g_clear_pointer(&record->lock_state, g_free);
                record->released = FALSE;
                record->lease_lost = FALSE;
                reacquired = TRUE;
                note_held_leases(sv);
                lease_events_log_domain(sv->manager, LEASE_EVENT_TAKEN, record->dom, NULL);
                /* It arrived: from now on it is a possible source. */
                g_clear_pointer(&sv->incoming, g_free);
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

/* What the lease watch expects the guest to hold. */
static void
supervisor_expected_leases(gpointer data, const VmlockDomain **ret_dom, const char **ret_state)
{
        Supervisor *sv = data;

        *ret_dom = sv->record->dom;
        *ret_state = sv->record->released ? NULL : sv->held_state;
}

/* The leases went behind vmlock's back (the lock daemon ended, or no longer
 * lists them), where the daemon's kill path cannot act: the guest's
 * <on_lockfailure> is applied here. A paused guest keeps the state its
 * leases were held at, so resume takes them again only if no other host
 * held them meanwhile. */
static void
supervisor_lease_lost(const char *reason, gboolean daemon_hangs, gpointer data)
{
        Supervisor *sv = data;
        GuestRecord *record = sv->record;
        g_autoptr(GError) error = NULL;
        g_autofree char *held = g_strdup(sv->held_state);

        LeaseEvent event = {
                .kind = LEASE_EVENT_LOST,
                .guest = guest_name(sv),
                .uuid = vmlock_domain_get_uuid_string(record->dom),
                .reason = reason,
        };

        if (!lease_events_wanted(sv->manager) || !lease_event_log(&event))
                g_printerr("vmlock: guest '%s' (pid %d): lease lost: %s\n", guest_name(sv),
                           (int)sv->pid, reason);
        record->lease_lost = TRUE;
        if (vmlock_domain_get_on_lockfailure(record->dom) == VMLOCK_LOCK_FAILURE_PAUSE) {
                if (sv->monitor && stop_cpus(sv, &error)) {
                        record->paused = TRUE;
                        /* What the daemon may still hold goes back (a daemon
                         * that hangs would hang this loop). */
                        if (daemon_hangs || !release_leases(sv, &error)) {
                                g_debug("guest '%s': leases not released: %s", guest_name(sv),
                                        error ? error->message : "the daemon hangs");
                                record->released = TRUE;
                                note_held_leases(sv);
                        }
                        g_free(record->lock_state);
                        record->lock_state = g_steal_pointer(&held);
                        save_record_or_warn(sv);
                        g_printerr("vmlock: guest '%s' paused after losing its leases: `vmlock "
                                   "resume %s` takes them again, refused if another host "
                                   "held them meanwhile\n",
                                   guest_name(sv), guest_name(sv));
                        return;
                }
                g_printerr("vmlock: guest '%s' cannot be paused safely (%s): killing it\n",
                           guest_name(sv), error ? error->message : "no QMP to it");
        }
        if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH)
                g_printerr("vmlock: cannot kill guest '%s' (pid %d): %s\n", guest_name(sv),
                           (int)sv->pid, g_strerror(errno));
        else
                g_printerr("vmlock: guest '%s' (pid %d) killed after losing its leases\n",
                           guest_name(sv), (int)sv->pid);
        save_record_or_warn(sv);
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

/* A hotplugged disk's lease, taken or released (none while handed over). */
static void
log_disk_event(Supervisor *sv, LeaseEventKind kind, const char *path)
{
        LeaseEvent event = {
                .kind = kind,
                .guest = guest_name(sv),
                .uuid = vmlock_domain_get_uuid_string(sv->record->dom),
                .disk = path,
        };

        if (!sv->record->released && lease_events_wanted(sv->manager))
                lease_event_log(&event);
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
            !vmlock_domain_lock_disk_attach(sv->manager, sv->uri, dom, disk, error)) {
                lease_events_log_refusal(sv->manager, dom, path, error ? *error : NULL);
                return FALSE;
        }
        vmlock_domain_add_disk(dom, g_steal_pointer(&owned));
        if (!save_record(sv, error)) {
                const VmlockDisk *added = find_disk(dom, path);

                if (!sv->record->released)
                        vmlock_domain_lock_disk_detach(sv->manager, dom, added, NULL);
                vmlock_domain_remove_disk(dom, path);
                return FALSE;
        }
        note_held_leases(sv);
        log_disk_event(sv, LEASE_EVENT_TAKEN, path);
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
        log_disk_event(sv, LEASE_EVENT_RELEASED, path);
        vmlock_domain_remove_disk(dom, path);
        save_record_or_warn(sv);
        note_held_leases(sv);
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
        note_held_leases(sv);
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
        note_held_leases(sv);
        return TRUE;
}

/* Hotplug through QEMU: the lease first, then QEMU gets the disk; if QEMU
 * refuses, the lease goes back. */
static gboolean
supervisor_plug_disk(Supervisor *sv, VmlockDisk *disk, const char *format, const char *bus,
                     const char *cache, GError **error)
{
        g_autoptr(VmlockDisk) owned = disk;
        g_autofree char *path = g_strdup(vmlock_disk_get_source(disk));
        g_autofree char *id = NULL;
        QemuHotplugDisk plug = { 0 };
        PluggedDisk *plugged;

        if (sv->record->released) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' has its leases released: resume it before giving "
                            "QEMU disk %s (or --lease-only to record the disk for the resume)",
                            guest_name(sv), path);
                return FALSE;
        }
        if (format && !g_str_equal(format, "raw") && !g_str_equal(format, "qcow2")) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown disk format '%s' (raw or qcow2)", format);
                return FALSE;
        }
        if (!qemu_hotplug_bus_from_string(bus, &plug.bus, error) ||
            !qemu_hotplug_cache_from_string(cache, &plug.cache, error))
                return FALSE;
        id = g_strdup_printf("vmlock-disk%u", sv->next_disk++);
        plug.id = id;
        plug.path = path;
        plug.block = vmlock_disk_get_type(disk) == VMLOCK_DISK_TYPE_BLOCK;
        plug.readonly = vmlock_disk_get_readonly(disk);
        plug.shareable = vmlock_disk_get_shareable(disk);
        plug.format = format ? format : "raw";
        if (!supervisor_attach_disk(sv, g_steal_pointer(&owned), error))
                return FALSE;
        if (!qemu_hotplug_attach(sv->monitor, &plug, error)) {
                g_autoptr(GError) detach_error = NULL;

                if (!supervisor_detach_disk(sv, path, &detach_error))
                        g_printerr("vmlock: guest '%s': %s\n", guest_name(sv),
                                   detach_error->message);
                return FALSE;
        }
        plugged = g_new0(PluggedDisk, 1);
        plugged->path = g_steal_pointer(&path);
        plugged->id = g_steal_pointer(&id);
        g_hash_table_replace(sv->plugged, plugged->path, plugged);
        return TRUE;
}

static void
plugged_reply(PluggedDisk *plugged, JsonObject *reply)
{
        g_autoptr(QmpServerClient) waiter = g_steal_pointer(&plugged->waiter);

        if (plugged->timeout) {
                g_source_remove(plugged->timeout);
                plugged->timeout = 0;
        }
        if (waiter)
                qmp_server_client_reply(waiter, reply);
        else
                json_object_unref(reply);
}

/* QEMU let go of the device: now its nodes, and only then the lease. */
static void
supervisor_unplugged(Supervisor *sv, const char *id)
{
        g_autoptr(GError) error = NULL;
        PluggedDisk *plugged = NULL;
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, sv->plugged);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (g_str_equal(((PluggedDisk *)value)->id, id))
                        plugged = value;
        }
        if (!plugged || !plugged->unplugging)
                return;
        g_debug("unplugged: %s (%s)", plugged->path, id);
        if (!qemu_hotplug_remove_nodes(sv->monitor, id, &error) ||
            !supervisor_detach_disk(sv, plugged->path, &error)) {
                /* The lease stays: QEMU may still have the image open. */
                plugged->unplugging = FALSE;
                plugged_reply(plugged, qmp_error_from_gerror(error));
                return;
        }
        plugged_reply(plugged, qmp_return_new(NULL, NULL));
        g_hash_table_remove(sv->plugged, plugged->path);
}

typedef struct {
        Supervisor *sv;
        char *id;
} UnpluggedIdle;

static gboolean
unplugged_idle(gpointer data)
{
        UnpluggedIdle *idle = data;

        supervisor_unplugged(idle->sv, idle->id);
        g_free(idle->id);
        g_free(idle);
        return G_SOURCE_REMOVE;
}

static gboolean
unplug_timed_out(gpointer data)
{
        PluggedDisk *plugged = data;
        g_autoptr(GError) error = NULL;

        plugged->timeout = 0;
        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                    "QEMU has not let go of disk %s (device %s) within %d s: the guest did "
                    "not agree to the unplug (a PCI device such as virtio-blk needs the "
                    "guest's OS; scsi-hd does not); the disk stays attached and its lease "
                    "held, and is released if QEMU lets go later; detach-disk asks again",
                    plugged->path, plugged->id, UNPLUG_TIMEOUT_MS / 1000);
        plugged_reply(plugged, qmp_error_from_gerror(error));
        return G_SOURCE_REMOVE;
}

/* device_del, then the answer waits for DEVICE_DELETED (bounded): the
 * lease is released only once QEMU let go of the image. */
static gboolean
supervisor_unplug_disk(Supervisor *sv, QmpServerClient *client, const char *path,
                       GError **error)
{
        PluggedDisk *plugged = g_hash_table_lookup(sv->plugged, path);
        g_autoptr(GError) local = NULL;

        if (plugged->waiter) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "disk %s of guest '%s' is being detached already", path,
                            guest_name(sv));
                return FALSE;
        }
        /* Asked again after a timeout, QEMU may say the unplug is pending. */
        if (!qemu_hotplug_unplug(sv->monitor, plugged->id, &local) && !plugged->unplugging) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        plugged->unplugging = TRUE;
        plugged->waiter = qmp_server_client_ref(client);
        plugged->timeout = g_timeout_add(UNPLUG_TIMEOUT_MS, unplug_timed_out, plugged);
        return TRUE;
}

/* The images QEMU opened at start, against the leased disks: one opened
 * writable that is not a read-write disk of the domain has no lease. */
static gboolean
supervisor_check_images(Supervisor *sv, GError **error)
{
        g_autoptr(GPtrArray) writable = qemu_vm_query_writable_images(sv->monitor, error);
        g_autofree char *paths = NULL;
        const char *domain = sv->record->domain_xml ? sv->record->domain_xml : "the domain";

        if (!writable)
                return FALSE;
        for (guint i = 0; i < writable->len; i++) {
                const char *path = g_ptr_array_index(writable, i);
                const VmlockDisk *disk = find_disk(sv->record->dom, path);

                if (disk && !vmlock_disk_get_readonly(disk))
                        continue;
                g_debug("unprotected image: %s", path);
                if (!g_ptr_array_find_with_equal_func(sv->unprotected, path, g_str_equal, NULL))
                        g_ptr_array_add(sv->unprotected, g_strdup(path));
        }
        if (sv->unprotected->len == 0)
                return TRUE;
        /* Kept in the record: list and metrics read it there. */
        g_ptr_array_add(sv->unprotected, NULL);
        g_strfreev(sv->record->unprotected);
        sv->record->unprotected = g_strdupv((char **)sv->unprotected->pdata);
        g_ptr_array_remove_index(sv->unprotected, sv->unprotected->len - 1);
        paths = g_strjoinv(", ", sv->record->unprotected);
        if (vmlock_lock_manager_requires_disk_leases(sv->manager)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "QEMU opened %s writable without a lease (not a read-write disk "
                            "of %s), and %s sets require_lease_for_disks: add the image to the "
                            "domain XML, or give it to QEMU read-only",
                            paths, domain, vmlock_lock_manager_get_config_file(sv->manager));
                return FALSE;
        }
        g_printerr("vmlock: warning: guest '%s': QEMU opened %s writable without a lease (not "
                   "a read-write disk of %s): nothing keeps another host from writing %s\n",
                   guest_name(sv), paths, domain, sv->unprotected->len == 1 ? "it" : "them");
        return TRUE;
}

/* The source of a live migration: QEMU sends the guest; the leases stay
 * until QEMU's MIGRATION event says it completed (migration_ended()), whoever
 * watches or not. */
static gboolean
supervisor_migrate(Supervisor *sv, const char *uri, GError **error)
{
        if (!sv->monitor || sv->record->released || sv->migrating || !uri) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' cannot migrate: %s", guest_name(sv),
                            !sv->monitor            ? "vmlock has no QMP to it (not QEMU)"
                            : sv->record->released ? "its leases are released already"
                            : sv->migrating        ? "a migration is under way"
                                                   : "no URI");
                return FALSE;
        }
        if (!migration_start(sv->monitor, uri, error))
                return FALSE;
        g_clear_pointer(&sv->handover_error, g_free);
        sv->migrating = TRUE;
        return TRUE;
}

/* QEMU says the migration completed (the guest stopped, its images
 * inactivated and flushed): the leases go, their state for the
 * destination's resume. From the main loop: the event may come amid a
 * command's answer. */
static gboolean
migration_completed(gpointer data)
{
        Supervisor *sv = data;
        g_autoptr(GError) error = NULL;

        sv->handover_idle = 0;
        if (!sv->migrating)
                return G_SOURCE_REMOVE;
        sv->migrating = FALSE;
        if (!supervisor_pause(sv, TRUE, &error)) {
                sv->handover_error = g_strdup_printf(
                        "guest '%s' migrated, but its leases are still held here, so its "
                        "destination cannot take them: %s; `vmlock pause --release %s` "
                        "hands them over",
                        guest_name(sv), error->message, guest_name(sv));
                g_printerr("vmlock: %s\n", sv->handover_error);
                return G_SOURCE_REMOVE;
        }
        g_printerr("vmlock: guest '%s' migrated: its leases are released for its "
                   "destination\n",
                   guest_name(sv));
        return G_SOURCE_REMOVE;
}

static void
migration_event(Supervisor *sv, const char *status)
{
        g_debug("migration: %s", status);
        if (!sv->migrating)
                return;
        if (g_str_equal(status, "completed") && !sv->handover_idle)
                sv->handover_idle = g_idle_add(migration_completed, sv);
        else if (migration_status_is_final(status))
                sv->migrating = FALSE; /* failed, cancelled: it runs on here */
}

/* How the migration goes, as QEMU says; once the leases were handed over,
 * the answer carries their state for the destination's resume. */
static JsonObject *
supervisor_query_migration(Supervisor *sv)
{
        g_auto(MigrationProgress) progress = { 0 };
        g_autoptr(GError) error = NULL;
        gboolean completed;
        JsonObject *body;

        if (!sv->monitor) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' is not QEMU: it does not migrate", guest_name(sv));
                return qmp_error_from_gerror(error);
        }
        if (!migration_query(sv->monitor, &progress, &error))
                return qmp_error_from_gerror(error);
        completed = g_str_equal(progress.status, "completed");
        if (completed && sv->handover_error) {
                g_set_error_literal(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    sv->handover_error);
                return qmp_error_from_gerror(error);
        }
        body = json_object_new();
        json_object_set_string_member(body, "status", progress.status);
        if (progress.error)
                json_object_set_string_member(body, "error", progress.error);
        json_object_set_int_member(body, "transferred", (gint64)progress.transferred);
        json_object_set_int_member(body, "total", (gint64)progress.total);
        json_object_set_int_member(body, "remaining", (gint64)progress.remaining);
        /* Completed, but the event not handled yet: ask again. */
        json_object_set_boolean_member(body, "handed-over",
                                       completed && !sv->migrating && sv->record->released);
        if (completed && sv->record->released && sv->record->lock_state)
                json_object_set_string_member(body, "state", sv->record->lock_state);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

/* `vmlock stop`: the guest is asked to shut down, killed at the timeout;
 * its end then goes as any other (the leases' release waited for). */
static gboolean
supervisor_stop(Supervisor *sv, JsonObject *arguments, GError **error)
{
        GuestStopRequest request = {
                .monitor = sv->monitor,
                .exec_pending = sv->go_fd >= 0,
                .stopped = !sv->monitor && sv->record->paused,
                .timeout_s = GUEST_STOP_DEFAULT_TIMEOUT_S,
        };
        JsonNode *timeout = arguments ? json_object_get_member(arguments, "timeout") : NULL;

        if (timeout && json_node_get_value_type(timeout) == G_TYPE_INT64) {
                gint64 value = json_node_get_int(timeout);

                if (value < 0 || value > G_MAXINT32) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "stop timeout %" G_GINT64_FORMAT " s is out of range",
                                    value);
                        return FALSE;
                }
                request.timeout_s = (guint)value;
        }
        if (!sv->stop)
                sv->stop = guest_stop_new(guest_name(sv), sv->pid);
        return guest_stop_request(sv->stop, &request, error);
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
                JsonNode *status = guest_status_to_json(sv->record, sv->manager, inquired);
                JsonArray *unprotected = json_array_new();

                for (guint i = 0; i < sv->unprotected->len; i++)
                        json_array_add_string_element(unprotected,
                                                      g_ptr_array_index(sv->unprotected, i));
                json_object_set_array_member(json_node_get_object(status), "unprotected",
                                             unprotected);
                return qmp_return_new(status, NULL);
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
                if (disk && sv->monitor && !arg_bool(arguments, "lease-only"))
                        ok = supervisor_plug_disk(sv, disk, arg_string(arguments, "format"),
                                                  arg_string(arguments, "bus"),
                                                  arg_string(arguments, "cache"), &error);
                else
                        ok = disk && supervisor_attach_disk(sv, disk, &error);
        } else if (g_str_equal(command, "detach-disk")) {
                const char *path = arg_string(arguments, "path");

                /* QEMU has it: its lease goes only once QEMU let go. */
                if (path && g_hash_table_contains(sv->plugged, path)) {
                        if (supervisor_unplug_disk(sv, client, path, &error))
                                return NULL; /* answered once QEMU let go */
                        ok = FALSE;
                } else {
                        ok = supervisor_detach_disk(sv, path, &error);
                }
        } else if (g_str_equal(command, "attach-lease")) {
                VmlockLease *lease = vmlock_lease_new(arg_string(arguments, "lockspace"),
                                                      arg_string(arguments, "key"),
                                                      arg_string(arguments, "path"),
                                                      arg_uint(arguments, "offset"), &error);

                ok = lease && supervisor_attach_lease(sv, lease, &error);
        } else if (g_str_equal(command, "detach-lease")) {
                ok = supervisor_detach_lease(sv, arg_string(arguments, "lockspace"),
                                             arg_string(arguments, "key"), &error);
        } else if (g_str_equal(command, "migrate")) {
                ok = supervisor_migrate(sv, arg_string(arguments, "uri"), &error);
        } else if (g_str_equal(command, "stop")) {
                ok = supervisor_stop(sv, arguments, &error);
        } else if (g_str_equal(command, "query-migration")) {
                return supervisor_query_migration(sv);
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


static void proxy_forward_done(JsonObject *reply, gpointer data);

typedef struct {
        Supervisor *sv;
        QmpServerClient *client;
        char *node;
        char *path; /* the image whose lease was taken (blockdev-add) or goes (blockdev-del) */
} ProxyBlockdev;

static void
proxy_blockdev_free(ProxyBlockdev *op)
{
        qmp_server_client_unref(op->client);
        g_free(op->node);
        g_free(op->path);
        g_free(op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProxyBlockdev, proxy_blockdev_free)

static gboolean
reply_is_ok(JsonObject *reply)
{
        return reply && qmp_message_kind(reply) == QMP_MESSAGE_RETURN;
}

static void
proxy_reply(QmpServerClient *client, JsonObject *reply)
{
        if (!reply) {
                qmp_server_client_reply(client, qmp_error_new("GenericError", NULL,
                                                              "QEMU closed its monitor"));
                return;
        }
        json_object_remove_member(reply, "id");
        qmp_server_client_reply(client, json_object_ref(reply));
}

/* QEMU answered a blockdev-add whose lease was taken: a refusal gives the
 * lease back. */
static void
proxy_blockdev_added(JsonObject *reply, gpointer data)
{
        g_autoptr(ProxyBlockdev) op = data;
        g_autoptr(GError) error = NULL;

        if (reply_is_ok(reply))
                g_hash_table_replace(op->sv->proxy_nodes, g_strdup(op->node),
                                     g_strdup(op->path));
        else if (!supervisor_detach_disk(op->sv, op->path, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(op->sv), error->message);
        proxy_reply(op->client, reply);
}

/* QEMU closed the node: now its lease may go. */
static void
proxy_blockdev_deleted(JsonObject *reply, gpointer data)
{
        g_autoptr(ProxyBlockdev) op = data;
        g_autoptr(GError) error = NULL;

        if (reply_is_ok(reply)) {
                g_hash_table_remove(op->sv->proxy_nodes, op->node);
                if (!supervisor_detach_disk(op->sv, op->path, &error))
                        g_printerr("vmlock: guest '%s': %s\n", guest_name(op->sv),
                                   error->message);
        }
        proxy_reply(op->client, reply);
}

/* Another tool's blockdev-add of an image node: its disk's lease first, as
 * attach-disk does (qemu_proxy.h says which nodes are image nodes). */
static JsonObject *
proxy_blockdev_add(Supervisor *sv, QmpServerClient *client, const char *command,
                   JsonObject *arguments, const QemuProxyDecision *decision)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) request = NULL;
        VmlockDisk *disk;
        ProxyBlockdev *op;

        if (sv->record->released)
                return qmp_error_new("GenericError", NULL,
                                     "vmlock: guest '%s' has its leases released: no image "
                                     "can be added until `vmlock resume %s`",
                                     guest_name(sv), guest_name(sv));
        disk = vmlock_disk_new(decision->block ? VMLOCK_DISK_TYPE_BLOCK : VMLOCK_DISK_TYPE_FILE,
                               VMLOCK_DISK_DEVICE_DISK, decision->path, decision->readonly,
                               FALSE, &error);
        if (!disk || !supervisor_attach_disk(sv, disk, &error))
                return qmp_error_new("GenericError", NULL, "vmlock: %s", error->message);
        op = g_new0(ProxyBlockdev, 1);
        op->sv = sv;
        op->client = qmp_server_client_ref(client);
        op->node = g_strdup(decision->node);
        op->path = g_strdup(decision->path);
        request = qmp_command_new(command, arguments);
        qemu_monitor_forward(sv->monitor, request, proxy_blockdev_added, op);
        return NULL;
}

/* Another tool's blockdev-del: a node added through the proxy gives its
 * image's lease back once QEMU closed it. */
static JsonObject *
proxy_blockdev_del(Supervisor *sv, QmpServerClient *client, const char *command,
                   JsonObject *arguments, const char *node)
{
        const char *path = node ? g_hash_table_lookup(sv->proxy_nodes, node) : NULL;
        g_autoptr(JsonObject) request = qmp_command_new(command, arguments);
        ProxyBlockdev *op;

        if (!path) {
                qemu_monitor_forward(sv->monitor, request, proxy_forward_done,
                                     qmp_server_client_ref(client));
                return NULL;
        }
        op = g_new0(ProxyBlockdev, 1);
        op->sv = sv;
        op->client = qmp_server_client_ref(client);
        op->node = g_strdup(node);
        op->path = g_strdup(path);
        qemu_monitor_forward(sv->monitor, request, proxy_blockdev_deleted, op);
        return NULL;
}

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
        g_auto(QemuProxyDecision) decision = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) request = NULL;
        gboolean ok;

        g_debug("QMP proxy: %s", command);
        qemu_proxy_decide(guest_name(sv), command, arguments, &decision);
        switch (decision.action) {
        case QEMU_PROXY_REFUSE:
                return qmp_error_new("GenericError", NULL, "%s", decision.refusal);
        case QEMU_PROXY_ADD_IMAGE:
                return proxy_blockdev_add(sv, client, command, arguments, &decision);
        case QEMU_PROXY_DELETE_NODE:
                return proxy_blockdev_del(sv, client, command, arguments, decision.node);
        /* The CPUs and the process go through vmlock's own paths. */
        case QEMU_PROXY_CONT:
                if (sv->record->released)
                        return qmp_error_new("GenericError", NULL,
                                             "vmlock: guest '%s' must not run: its leases are "
                                             "released (pause --release); `vmlock resume %s` "
                                             "takes them back and continues it",
                                             guest_name(sv), guest_name(sv));
                ok = supervisor_resume(sv, NULL, &error);
                break;
        case QEMU_PROXY_STOP:
                ok = supervisor_pause(sv, FALSE, &error);
                break;
        case QEMU_PROXY_FORWARD:
        default:
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
        QemuEvent parsed;

        qemu_event_parse(event, &parsed);
        switch (parsed.kind) {
        case QEMU_EVENT_MIGRATION:
                migration_event(sv, parsed.migration_status);
                break;
        case QEMU_EVENT_STOP:
                /* QEMU stopped by itself (an I/O error with werror=stop). */
                if (!sv->record->paused) {
                        sv->record->paused = TRUE;
                        save_record_or_warn(sv);
                }
                break;
        case QEMU_EVENT_DEVICE_DELETED: {
                /* Not from here: the event may come amid a command's answer. */
                UnpluggedIdle *idle = g_new0(UnpluggedIdle, 1);

                idle->sv = sv;
                idle->id = g_strdup(parsed.device);
                g_idle_add(unplugged_idle, idle);
                break;
        }
        case QEMU_EVENT_RESUME:
                /* Nothing vmlock allows gets here; should anything ever, the
                 * guest must not run a moment longer without its leases. */
                if (sv->record->released) {
                        g_printerr("vmlock: guest '%s' resumed while its leases are released: "
                                   "killing it\n",
                                   guest_name(sv));
                        kill(sv->pid, SIGKILL);
                }
                break;
        case QEMU_EVENT_OTHER:
                break;
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
        /* From the guest itself: it may end before it could be asked here. */
        sv->held_state = g_strdup(setup->held_state);
        sv->pidfd = -1;
        sv->loop = g_main_loop_new(NULL, FALSE);
        sv->plugged = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)plugged_disk_free);
        sv->proxy_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        sv->unprotected = g_ptr_array_new_with_free_func(g_free);

        sv->pidfd = pidfd_open(sv->pid, error);
        if (sv->pidfd < 0)
                return NULL;
        if (setup->monitor_fd >= 0) {
                gboolean running = TRUE;

                sv->monitor = qemu_monitor_new(setup->monitor_fd, monitor_event, sv);
                if (!qemu_monitor_handshake(sv->monitor, MONITOR_GREETING_TIMEOUT_MS, error))
                        return NULL;
                /* Started with -S (--paused, or by the caller): stopped. */
                if (!qemu_vm_query_running(sv->monitor, &running, error))
                        return NULL;
                if (!running)
                        sv->record->paused = TRUE;
                if (!supervisor_check_images(sv, error))
                        return NULL;
                if (setup->incoming) {
                        gboolean late = FALSE;

                        sv->incoming = g_strdup(setup->incoming);
                        if (!migration_incoming(sv->monitor, sv->incoming, &late, error))
                                return NULL;
                        if (!late)
                                g_printerr("vmlock: guest '%s': this QEMU has no "
                                           "late-block-activate: it activates the guest's "
                                           "images as the migration ends, before `vmlock "
                                           "resume` holds their leases\n",
                                           guest_name(sv));
                }
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
        g_clear_pointer(&sv->lease_watch, lease_watch_free);
        g_clear_pointer(&sv->stop, guest_stop_free);
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
        g_hash_table_destroy(sv->plugged);
        g_hash_table_destroy(sv->proxy_nodes);
        g_ptr_array_unref(sv->unprotected);
        if (sv->handover_idle)
                g_source_remove(sv->handover_idle);
        g_free(sv->incoming);
        g_free(sv->handover_error);
        g_free(sv->held_state);
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
        sv->lease_watch = lease_watch_new(sv->manager, sv->pid, supervisor_expected_leases,
                                          supervisor_lease_lost, sv);
        if (!sv->record->released)
                lease_events_log_domain(sv->manager, LEASE_EVENT_TAKEN, sv->record->dom, NULL);
        service_notify_ready(guest_name(sv), sv->pid, sv->record->paused);
        g_main_loop_run(sv->loop);
        g_clear_pointer(&sv->lease_watch, lease_watch_free);
        g_clear_pointer(&sv->stop, guest_stop_free); /* reaped: its pid is no longer ours */

        /* Stop serving; forget it once its leases are free for others. */
        g_clear_pointer(&sv->control, qmp_server_free);
        g_clear_pointer(&sv->proxy, qmp_server_free);
        wait_leases_released(sv);
        if (!sv->record->released)
                lease_events_log_domain(sv->manager, LEASE_EVENT_RELEASED, sv->record->dom,
                                        "the guest ended");
        if (!state_dir_remove_if_owned(sv->state_dir, guest_name(sv), sv->pid,
                                       sv->record->pid_start_time, &error))
                g_printerr("vmlock: %s\n", error->message);
        return sv->wait_status;
}
