/* vmlock: the supervisor: disks and leases added and removed, and the images QEMU opened. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_hotplug.h"
#include "qemu/qemu_vm.h"
#include "supervisor/crash_point.h"
#include "supervisor/lease_events.h"
#include "supervisor/supervisor_priv.h"

void
supervisor_plugged_disk_free(PluggedDisk *plugged)
{
        if (plugged->timeout)
                g_source_remove(plugged->timeout);
        if (plugged->waiter)
                qmp_server_client_unref(plugged->waiter);
        g_free(plugged->path);
        g_free(plugged->id);
        g_free(plugged);
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

        if (!supervisor_is_released(sv) && lease_events_wanted(sv->manager))
                lease_event_log(&event);
}

/* Hotplug: the lease first (unless handed over: resume takes it with the
 * others), then the record; a record that cannot be saved gives the lease
 * back, so nothing is held that vmlock does not know of. */
gboolean
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
        if (!supervisor_is_released(sv) &&
            !vmlock_domain_lock_disk_attach(sv->manager, sv->uri, dom, disk, error)) {
                lease_events_log_refusal(sv->manager, dom, path, error ? *error : NULL);
                return FALSE;
        }
        crash_point(CRASH_POINT_DISK_LEASED);
        vmlock_domain_add_disk(dom, g_steal_pointer(&owned));
        if (!supervisor_save_record(sv, error)) {
                const VmlockDisk *added = find_disk(dom, path);

                if (!supervisor_is_released(sv))
                        vmlock_domain_lock_disk_detach(sv->manager, dom, added, NULL);
                vmlock_domain_remove_disk(dom, path);
                return FALSE;
        }
        supervisor_note_held_leases(sv);
        log_disk_event(sv, LEASE_EVENT_TAKEN, path);
        return TRUE;
}

gboolean
supervisor_detach_disk(Supervisor *sv, const char *path, GError **error)
{
        VmlockDomain *dom = sv->record->dom;
        const VmlockDisk *disk = find_disk(dom, path);

        if (!disk) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' has no disk %s", guest_name(sv), path);
                return FALSE;
        }
        if (!supervisor_is_released(sv) &&
            !vmlock_domain_lock_disk_detach(sv->manager, dom, disk, error))
                return FALSE;
        log_disk_event(sv, LEASE_EVENT_RELEASED, path);
        vmlock_domain_remove_disk(dom, path);
        supervisor_save_record_or_warn(sv);
        supervisor_note_held_leases(sv);
        return TRUE;
}

gboolean
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
        if (!supervisor_is_released(sv) &&
            !vmlock_domain_lock_lease_attach(sv->manager, sv->uri, dom, lease, error))
                return FALSE;
        vmlock_domain_add_lease(dom, g_steal_pointer(&owned));
        if (!supervisor_save_record(sv, error)) {
                if (!supervisor_is_released(sv))
                        vmlock_domain_lock_lease_detach(sv->manager, dom,
                                                        find_lease(dom, lockspace, key), NULL);
                vmlock_domain_remove_lease(dom, lockspace, key);
                return FALSE;
        }
        supervisor_note_held_leases(sv);
        return TRUE;
}

gboolean
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
        if (!supervisor_is_released(sv) &&
            !vmlock_domain_lock_lease_detach(sv->manager, dom, lease, error))
                return FALSE;
        vmlock_domain_remove_lease(dom, lockspace, key);
        supervisor_save_record_or_warn(sv);
        supervisor_note_held_leases(sv);
        return TRUE;
}

/* A disk given to QEMU, its lease held, waiting for QEMU's answer. */
typedef struct {
        Supervisor *sv;
        char *path;
        char *id;
        SupervisorDoneFunc done;
        gpointer user_data;
} Plug;

static void
plug_free(Plug *plug)
{
        g_free(plug->path);
        g_free(plug->id);
        g_free(plug);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Plug, plug_free)

static void
plug_answered(const GError *plug_error, gpointer data)
{
        g_autoptr(Plug) plug = data;
        Supervisor *sv = plug->sv;
        g_autoptr(GError) error = NULL;
        PluggedDisk *plugged;

        supervisor_end_op(sv);
        if (g_error_matches(plug_error, VMLOCK_ERROR, VMLOCK_ERROR_IO)) {
                /* No answer: QEMU may have the image open. Its lease stays. */
                g_set_error(&error, plug_error->domain, plug_error->code,
                            "%s; QEMU may have opened disk %s: its lease stays held (`vmlock "
                            "detach-disk` releases it, once QEMU surely has not)",
                            plug_error->message, plug->path);
                plug->done(error, plug->user_data);
                return;
        }
        if (plug_error) {
                /* QEMU let go of whatever it had added: the lease goes back. */
                if (!supervisor_detach_disk(sv, plug->path, &error))
                        g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), error->message);
                plug->done(plug_error, plug->user_data);
                return;
        }
        plugged = g_new0(PluggedDisk, 1);
        plugged->path = g_steal_pointer(&plug->path);
        plugged->id = g_steal_pointer(&plug->id);
        g_hash_table_replace(sv->plugged, plugged->path, plugged);
        plug->done(NULL, plug->user_data);
}

/* Hotplug through QEMU: the lease first, then QEMU gets the disk; if QEMU
 * refuses, the lease goes back once QEMU let go. */
gboolean
supervisor_plug_disk(Supervisor *sv, VmlockDisk *disk, const char *format, const char *bus,
                     const char *cache, SupervisorDoneFunc done, gpointer user_data,
                     GError **error)
{
        g_autoptr(VmlockDisk) owned = disk;
        g_autofree char *path = g_strdup(vmlock_disk_get_source(disk));
        QemuHotplugDisk hotplug = { 0 };
        Plug *plug;

        if (supervisor_is_released(sv)) {
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
        if (!qemu_hotplug_bus_from_string(bus, &hotplug.bus, error) ||
            !qemu_hotplug_cache_from_string(cache, &hotplug.cache, error))
                return FALSE;
        if (!supervisor_begin_op(sv, GUEST_OP_ATTACHING_DISK, error))
                return FALSE;
        if (!supervisor_attach_disk(sv, g_steal_pointer(&owned), error)) {
                supervisor_end_op(sv);
                return FALSE;
        }
        plug = g_new0(Plug, 1);
        plug->sv = sv;
        plug->path = g_steal_pointer(&path);
        plug->id = g_strdup_printf("vmlock-disk%u", sv->next_disk++);
        plug->done = done;
        plug->user_data = user_data;
        hotplug.id = plug->id;
        hotplug.path = plug->path;
        hotplug.block = vmlock_disk_get_type(disk) == VMLOCK_DISK_TYPE_BLOCK;
        hotplug.readonly = vmlock_disk_get_readonly(disk);
        hotplug.shareable = vmlock_disk_get_shareable(disk);
        hotplug.format = format ? format : "raw";
        /* QEMU opens it only now, with its lease held. */
        qemu_hotplug_attach_async(sv->monitor, &hotplug, plug_answered, plug);
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

static PluggedDisk *
find_plugged(Supervisor *sv, const char *id)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, sv->plugged);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (g_str_equal(((PluggedDisk *)value)->id, id))
                        return value;
        }
        return NULL;
}

/* A device of ours and the guest, waiting for QEMU. */
typedef struct {
        Supervisor *sv;
        char *id;
        gboolean again; /* device_del asked before (timed out) */
} Unplug;

static void
unplug_free(Unplug *unplug)
{
        g_free(unplug->id);
        g_free(unplug);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Unplug, unplug_free)

/* QEMU removed the nodes (or said why not): only now the lease. */
static void
nodes_removed(const GError *remove_error, gpointer data)
{
        g_autoptr(Unplug) unplug = data;
        Supervisor *sv = unplug->sv;
        PluggedDisk *plugged = find_plugged(sv, unplug->id);
        g_autoptr(GError) error = remove_error ? g_error_copy(remove_error) : NULL;

        if (!plugged)
                return;
        plugged->removing = FALSE;
        if (error || !supervisor_detach_disk(sv, plugged->path, &error)) {
                /* The lease stays: QEMU may still have the image open. */
                plugged->unplugging = FALSE;
                plugged_reply(plugged, qmp_error_from_gerror(error));
                return;
        }
        plugged_reply(plugged, qmp_return_new(NULL, NULL));
        g_hash_table_remove(sv->plugged, plugged->path);
}

/* QEMU let go of the device: now its nodes, and only then the lease. */
static void
supervisor_unplugged(Supervisor *sv, const char *id)
{
        PluggedDisk *plugged = find_plugged(sv, id);
        Unplug *unplug;

        if (!plugged || !plugged->unplugging || plugged->removing)
                return;
        g_debug("unplugged: %s (%s)", plugged->path, id);
        plugged->removing = TRUE;
        unplug = g_new0(Unplug, 1);
        unplug->sv = sv;
        unplug->id = g_strdup(id);
        qemu_hotplug_remove_nodes_async(sv->monitor, id, nodes_removed, unplug);
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

void
supervisor_device_deleted(Supervisor *sv, const char *device)
{
        /* Not from here: the event may come amid a command's answer. */
        UnpluggedIdle *idle = g_new0(UnpluggedIdle, 1);

        idle->sv = sv;
        idle->id = g_strdup(device);
        g_idle_add(unplugged_idle, idle);
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

/* QEMU answered device_del: the wait for DEVICE_DELETED begins (it may
 * have come already: a scsi-hd goes at once). */
static void
unplug_answered(const GError *error, gpointer data)
{
        g_autoptr(Unplug) unplug = data;
        PluggedDisk *plugged = find_plugged(unplug->sv, unplug->id);

        if (!plugged || plugged->removing || !plugged->waiter)
                return;
        /* Asked again after a timeout, QEMU may say the unplug is pending. */
        if (error && !unplug->again) {
                plugged->unplugging = FALSE;
                plugged_reply(plugged, qmp_error_from_gerror(error));
                return;
        }
        if (!plugged->timeout)
                plugged->timeout = g_timeout_add(UNPLUG_TIMEOUT_MS, unplug_timed_out, plugged);
}

/* device_del, then the answer waits for DEVICE_DELETED (bounded): the
 * lease is released only once QEMU let go of the image. */
gboolean
supervisor_unplug_disk(Supervisor *sv, QmpServerClient *client, const char *path,
                       GError **error)
{
        PluggedDisk *plugged = g_hash_table_lookup(sv->plugged, path);
        Unplug *unplug;

        if (plugged->waiter || plugged->removing) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "disk %s of guest '%s' is being detached already", path,
                            guest_name(sv));
                return FALSE;
        }
        unplug = g_new0(Unplug, 1);
        unplug->sv = sv;
        unplug->id = g_strdup(plugged->id);
        unplug->again = plugged->unplugging;
        /* From now on: DEVICE_DELETED may come before device_del's answer. */
        plugged->unplugging = TRUE;
        plugged->waiter = qmp_server_client_ref(client);
        qemu_hotplug_unplug_async(sv->monitor, plugged->id, unplug_answered, unplug);
        return TRUE;
}

/* The images QEMU opened at start, against the leased disks: one opened
 * writable that is not a read-write disk of the domain has no lease. */
gboolean
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
