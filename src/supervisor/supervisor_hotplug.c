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

/* Hotplug through QEMU: the lease first, then QEMU gets the disk; if QEMU
 * refuses, the lease goes back. */
gboolean
supervisor_plug_disk(Supervisor *sv, VmlockDisk *disk, const char *format, const char *bus,
                     const char *cache, GError **error)
{
        g_autoptr(VmlockDisk) owned = disk;
        g_autofree char *path = g_strdup(vmlock_disk_get_source(disk));
        g_autofree char *id = NULL;
        QemuHotplugDisk plug = { 0 };
        PluggedDisk *plugged;

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

/* device_del, then the answer waits for DEVICE_DELETED (bounded): the
 * lease is released only once QEMU let go of the image. */
gboolean
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
