/* vmlock: a guest whose supervisor is gone, against what the lock daemon says. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <string.h>

#include <vmlock/vmlock.h>

#include "control/control_client.h"
#include "supervisor/guest_orphan.h"

gboolean
guest_orphan_check(const GuestRecord *record)
{
        ControlPeer peer = {
                .name = vmlock_domain_get_name(record->dom),
                .guest_pid = vmlock_domain_get_pid(record->dom),
                .supervisor_pid = record->supervisor_pid,
        };

        return !control_peer_supervisor_alive(&peer);
}

static gboolean
find_disk(const VmlockDomain *dom, const char *path)
{
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                if (g_strcmp0(vmlock_disk_get_source(vmlock_domain_get_disk(dom, i)), path) == 0)
                        return TRUE;
        }
        return FALSE;
}

static void
add_held(GPtrArray *lines, const char *what, gboolean ok, gboolean held)
{
        g_ptr_array_add(lines, g_strdup_printf("%s: %s", what,
                                               !ok ? "unknown" : held ? "held" : "not held"));
}

/* The disk of an attach-disk cut short: its lease may be held though the
 * record (and QEMU) never got the disk. */
static void
in_flight_disk(const GuestRecord *record, VmlockLockManager *manager, const char *state,
               GPtrArray *lines)
{
        const char *prefix = GUEST_IN_FLIGHT_ATTACH_DISK;
        const char *path = record->in_flight && g_str_has_prefix(record->in_flight, prefix)
                                   ? record->in_flight + strlen(prefix)
                                   : NULL;
        g_autoptr(VmlockDisk) disk = NULL;
        gboolean held = FALSE;
        gboolean ok;

        if (!path || find_disk(record->dom, path))
                return;
        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, path, FALSE,
                               FALSE, NULL);
        if (!disk)
                return;
        ok = vmlock_domain_lock_state_holds_disk(manager, state, disk, &held, NULL);
        g_ptr_array_add(lines, g_strdup_printf("disk %s: %s, not in its record", path,
                                               !ok ? "unknown" : held ? "held" : "not held"));
}

GStrv
guest_orphan_reconcile(const GuestRecord *record, VmlockLockManager *manager, GError **error)
{
        const VmlockDomain *dom = record->dom;
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) local = NULL;
        g_autofree char *state = NULL;
        g_auto(GStrv) extra = NULL;

        if (!vmlock_lock_manager_uses_state(manager)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "the %s lock driver keeps no leases to ask about",
                            vmlock_lock_manager_get_name(manager));
                return NULL;
        }
        /* A pid the daemon does not know holds nothing there. */
        if (!vmlock_lock_manager_process_state(manager, (unsigned int)vmlock_domain_get_pid(dom),
                                               &state, &local) &&
            !g_error_matches(local, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return NULL;
        }
        g_clear_error(&local);
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                const char *lockspace = vmlock_lease_get_lockspace(lease);
                g_autofree char *what = g_strdup_printf("lease %s:%s",
                                                        lockspace ? lockspace : "",
                                                        vmlock_lease_get_key(lease));
                gboolean held = FALSE;
                gboolean ok = vmlock_domain_lock_state_holds_lease(manager, state, lease, &held,
                                                                   NULL);

                add_held(lines, what, ok, held);
        }
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                g_autofree char *what = NULL;
                gboolean held = FALSE;
                gboolean ok;

                if (!vmlock_disk_is_lockable(disk))
                        continue;
                what = g_strdup_printf("disk %s", vmlock_disk_get_source(disk));
                ok = vmlock_domain_lock_state_holds_disk(manager, state, disk, &held, NULL);
                add_held(lines, what, ok, held);
        }
        in_flight_disk(record, manager, state, lines);
        /* A driver loaded for queries only may not name them (sanlock's
         * refuses disk resources then): the in-flight disk is covered. */
        if (state && !vmlock_domain_lock_state_extra(manager, dom, state, &extra, &local))
                g_debug("leases beyond the record of guest '%s': %s",
                        vmlock_domain_get_name(dom), local->message);
        for (guint i = 0; extra && extra[i]; i++)
                g_ptr_array_add(lines, g_strdup_printf("%s: held, not in its record",
                                                       extra[i]));
        if (record->in_flight)
                g_ptr_array_add(lines, g_strdup_printf("its supervisor died during `%s`",
                                                       record->in_flight));
        g_ptr_array_add(lines, NULL);
        return (GStrv)g_ptr_array_free(g_steal_pointer(&lines), FALSE);
}
