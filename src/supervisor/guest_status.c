/* vmlock: a guest's status, as JSON and as text. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <stdio.h>

#include <vmlock/vmlock.h>

#include "supervisor/guest_status.h"

const char *
guest_record_state_string(const GuestRecord *record)
{
        if (record->lease_lost)
                return record->paused ? "paused, lease lost" : "lease lost";
        if (record->released)
                return record->paused ? "paused, leases released" : "leases released";
        return record->paused ? "paused" : "running";
}

static const char *
disk_mode(const VmlockDisk *disk)
{
        if (vmlock_disk_get_readonly(disk))
                return "shared (readonly)";
        if (vmlock_disk_get_shareable(disk))
                return "shared";
        return "exclusive";
}

/* The driver says whether @state holds the resource (@ok: it could tell). */
static const char *
held_string(const GuestRecord *record, gboolean tracked, gboolean ok, gboolean held)
{
        if (!tracked)
                return "not tracked";
        if (record->lease_lost)
                return "lost";
        if (record->released)
                return "released";
        if (!ok)
                return "unknown";
        return held ? "held" : "not held";
}

static const char *
lease_held_string(const GuestRecord *record, VmlockLockManager *manager, gboolean tracked,
                  const char *state, const VmlockLease *lease)
{
        g_autoptr(GError) error = NULL;
        gboolean held = FALSE;
        gboolean ok = vmlock_domain_lock_state_holds_lease(manager, state, lease, &held, &error);

        if (!ok)
                g_debug("lease %s: %s", vmlock_lease_get_key(lease), error->message);
        return held_string(record, tracked, ok, held);
}

static const char *
disk_held_string(const GuestRecord *record, VmlockLockManager *manager, gboolean tracked,
                 const char *state, const VmlockDisk *disk)
{
        g_autoptr(GError) error = NULL;
        gboolean held = FALSE;
        gboolean ok = vmlock_domain_lock_state_holds_disk(manager, state, disk, &held, &error);

        if (!ok)
                g_debug("disk %s: %s", vmlock_disk_get_source(disk), error->message);
        return held_string(record, tracked, ok, held);
}

static JsonArray *
resources_to_json(const GuestRecord *record, VmlockLockManager *manager, const char *state)
{
        const VmlockDomain *dom = record->dom;
        gboolean tracked = vmlock_lock_manager_uses_state(manager);
        JsonArray *resources = json_array_new();

        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                JsonObject *entry = json_object_new();
                const char *lockspace = vmlock_lease_get_lockspace(lease);

                json_object_set_string_member(entry, "kind", "lease");
                json_object_set_string_member(entry, "lockspace", lockspace ? lockspace : "");
                json_object_set_string_member(entry, "key", vmlock_lease_get_key(lease));
                json_object_set_string_member(entry, "path", vmlock_lease_get_path(lease));
                json_object_set_int_member(entry, "offset",
                                           (gint64)vmlock_lease_get_offset(lease));
                json_object_set_string_member(entry, "mode", "exclusive");
                json_object_set_string_member(
                        entry, "held",
                        lease_held_string(record, manager, tracked, state, lease));
                json_array_add_object_element(resources, entry);
        }
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                const char *source = vmlock_disk_get_source(disk);
                JsonObject *entry = json_object_new();

                json_object_set_string_member(entry, "kind", "disk");
                json_object_set_string_member(entry, "path", source ? source : "");
                if (!vmlock_disk_is_lockable(disk)) {
                        json_object_set_string_member(entry, "mode", "-");
                        json_object_set_string_member(entry, "held",
                                                      "not locked (no local path)");
                } else {
                        json_object_set_string_member(entry, "mode", disk_mode(disk));
                        json_object_set_string_member(
                                entry, "held",
                                disk_held_string(record, manager, tracked, state, disk));
                }
                json_array_add_object_element(resources, entry);
        }
        /* Leases taken over from a migration source for disks the XML here
         * lacks (hot-plugged there): held, and handed on at the next pause. */
        if (tracked && !record->released && state) {
                g_autoptr(GError) error = NULL;
                g_auto(GStrv) extra = NULL;

                if (!vmlock_domain_lock_state_extra(manager, dom, state, &extra, &error))
                        g_debug("leases beyond the domain's: %s", error->message);
                for (guint i = 0; extra && extra[i]; i++) {
                        JsonObject *entry = json_object_new();

                        json_object_set_string_member(entry, "kind", "handed-over");
                        json_object_set_string_member(entry, "lease", extra[i]);
                        json_object_set_string_member(entry, "held", "held");
                        json_array_add_object_element(resources, entry);
                }
        }
        return resources;
}

static void
set_optional_string(JsonObject *object, const char *member, const char *value)
{
        if (value)
                json_object_set_string_member(object, member, value);
        else
                json_object_set_null_member(object, member);
}

JsonNode *
guest_status_to_json(const GuestRecord *record, VmlockLockManager *manager, const char *state)
{
        const VmlockDomain *dom = record->dom;
        JsonObject *status = json_object_new();

        json_object_set_string_member(status, "name", vmlock_domain_get_name(dom));
        json_object_set_string_member(status, "uuid", vmlock_domain_get_uuid_string(dom));
        json_object_set_int_member(status, "pid", vmlock_domain_get_pid(dom));
        json_object_set_int_member(status, "supervisor_pid", record->supervisor_pid);
        json_object_set_string_member(status, "state", guest_record_state_string(record));
        json_object_set_boolean_member(status, "paused", record->paused);
        json_object_set_boolean_member(status, "released", record->released);
        json_object_set_boolean_member(status, "lease_lost", record->lease_lost);
        json_object_set_string_member(status, "lock_manager",
                                      record->lock_manager ? record->lock_manager : "nop");
        json_object_set_string_member(status, "on_lockfailure",
                                      vmlock_lock_failure_action_to_string(
                                              vmlock_domain_get_on_lockfailure(dom)));
        set_optional_string(status, "domain", record->domain_xml);
        set_optional_string(status, "qmp", record->qmp);
        json_object_set_array_member(status, "resources",
                                     resources_to_json(record, manager, state));
        return json_node_init_object(json_node_alloc(), status);
}

static const char *
member_string(JsonObject *object, const char *member)
{
        return json_object_get_string_member_with_default(object, member, "");
}

void
guest_status_print(JsonObject *status)
{
        JsonArray *resources = json_object_get_array_member(status, "resources");
        guint n = resources ? json_array_get_length(resources) : 0;

        printf("name: %s\n", member_string(status, "name"));
        printf("uuid: %s\n", member_string(status, "uuid"));
        printf("pid: %" G_GINT64_FORMAT "\n", json_object_get_int_member(status, "pid"));
        printf("supervisor: %" G_GINT64_FORMAT "\n",
               json_object_get_int_member(status, "supervisor_pid"));
        printf("state: %s\n", member_string(status, "state"));
        printf("lock manager: %s\n", member_string(status, "lock_manager"));
        printf("on_lockfailure: %s\n", member_string(status, "on_lockfailure"));
        if (!json_object_get_null_member(status, "domain"))
                printf("domain: %s\n", member_string(status, "domain"));
        if (!json_object_get_null_member(status, "qmp"))
                printf("qmp: %s\n", member_string(status, "qmp"));
        printf("resources:%s\n", n == 0 ? " none" : "");
        for (guint i = 0; i < n; i++) {
                JsonObject *entry = json_array_get_object_element(resources, i);

                if (g_str_equal(member_string(entry, "kind"), "lease"))
                        printf("  lease %s:%s (%s offset %" G_GINT64_FORMAT ")  %s  %s\n",
                               member_string(entry, "lockspace"), member_string(entry, "key"),
                               member_string(entry, "path"),
                               json_object_get_int_member(entry, "offset"),
                               member_string(entry, "mode"), member_string(entry, "held"));
                else if (g_str_equal(member_string(entry, "kind"), "handed-over"))
                        printf("  %s  %s (handed over; its disk is not in the domain XML)\n",
                               member_string(entry, "lease"), member_string(entry, "held"));
                else
                        printf("  disk  %s  %s  %s\n", member_string(entry, "path"),
                               member_string(entry, "mode"), member_string(entry, "held"));
        }
        if (json_object_has_member(status, "unprotected")) {
                JsonArray *unprotected = json_object_get_array_member(status, "unprotected");

                for (guint i = 0; unprotected && i < json_array_get_length(unprotected); i++)
                        printf("  UNPROTECTED  %s  opened writable by QEMU, no lease\n",
                               json_array_get_string_element(unprotected, i));
        }
}
