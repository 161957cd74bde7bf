/* vmlock: a guest's record: what vmlock knows about a guest it started, and
 * its serialisation (one GKeyFile). */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "supervisor/guest_record.h"
#include "util/proc_stat.h"

#define GROUP_GUEST "guest"
#define GROUP_DISK_PREFIX "disk."
#define GROUP_LEASE_PREFIX "lease."

GuestRecord *
guest_record_new(VmlockDomain *dom)
{
        GuestRecord *record = g_new0(GuestRecord, 1);

        record->dom = vmlock_domain_ref(dom);
        return record;
}

void
guest_record_free(GuestRecord *record)
{
        if (!record)
                return;
        g_clear_pointer(&record->dom, vmlock_domain_unref);
        g_free(record->domain_xml);
        g_free(record->lock_manager);
        g_free(record->qmp);
        g_free(record->lock_state);
        g_strfreev(record->unprotected);
        g_free(record->in_flight);
        g_free(record);
}

static void
key_file_set_optional(GKeyFile *kf, const char *group, const char *key, const char *value)
{
        if (value)
                g_key_file_set_string(kf, group, key, value);
}

char *
guest_record_to_data(const GuestRecord *record, gsize *ret_len)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        const VmlockDomain *dom = record->dom;

        g_key_file_set_string(kf, GROUP_GUEST, "name", vmlock_domain_get_name(dom));
        g_key_file_set_string(kf, GROUP_GUEST, "uuid", vmlock_domain_get_uuid_string(dom));
        g_key_file_set_int64(kf, GROUP_GUEST, "pid", vmlock_domain_get_pid(dom));
        g_key_file_set_uint64(kf, GROUP_GUEST, "pid_start_time", record->pid_start_time);
        key_file_set_optional(kf, GROUP_GUEST, "domain_xml", record->domain_xml);
        key_file_set_optional(kf, GROUP_GUEST, "lock_manager", record->lock_manager);
        g_key_file_set_int64(kf, GROUP_GUEST, "supervisor_pid", record->supervisor_pid);
        g_key_file_set_string(kf, GROUP_GUEST, "on_lockfailure",
                            vmlock_lock_failure_action_to_string(
                                    vmlock_domain_get_on_lockfailure(dom)));
        key_file_set_optional(kf, GROUP_GUEST, "qmp", record->qmp);
        g_key_file_set_boolean(kf, GROUP_GUEST, "paused", record->paused);
        g_key_file_set_boolean(kf, GROUP_GUEST, "released", record->released);
        key_file_set_optional(kf, GROUP_GUEST, "lock_state", record->lock_state);
        g_key_file_set_boolean(kf, GROUP_GUEST, "lease_lost", record->lease_lost);
        if (record->unprotected && record->unprotected[0])
                g_key_file_set_string_list(kf, GROUP_GUEST, "unprotected",
                                           (const char *const *)record->unprotected,
                                           g_strv_length(record->unprotected));
        key_file_set_optional(kf, GROUP_GUEST, "in_flight", record->in_flight);

        /* Indexed groups: paths may hold characters a group name can't. */
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                g_autofree char *group = g_strdup_printf(GROUP_DISK_PREFIX "%u", i);

                key_file_set_optional(kf, group, "path", vmlock_disk_get_source(disk));
                g_key_file_set_string(kf, group, "type",
                                      vmlock_disk_type_to_string(vmlock_disk_get_type(disk)));
                g_key_file_set_string(kf, group, "device",
                                      vmlock_disk_device_to_string(
                                              vmlock_disk_get_device(disk)));
                g_key_file_set_boolean(kf, group, "readonly", vmlock_disk_get_readonly(disk));
                g_key_file_set_boolean(kf, group, "shareable",
                                       vmlock_disk_get_shareable(disk));
        }
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                g_autofree char *group = g_strdup_printf(GROUP_LEASE_PREFIX "%u", i);

                key_file_set_optional(kf, group, "lockspace", vmlock_lease_get_lockspace(lease));
                g_key_file_set_string(kf, group, "key", vmlock_lease_get_key(lease));
                g_key_file_set_string(kf, group, "path", vmlock_lease_get_path(lease));
                g_key_file_set_uint64(kf, group, "offset", vmlock_lease_get_offset(lease));
        }

        return g_key_file_to_data(kf, ret_len, NULL);
}

/* GKeyFile errors name the key but not the file: say which record is bad. */
static void
record_error(GError **error, const char *filename, GError *cause)
{
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "state record %s is damaged: %s",
                    filename, cause->message);
        g_error_free(cause);
}

static char *
key_file_get_optional(GKeyFile *kf, const char *group, const char *key)
{
        char *value = g_key_file_get_string(kf, group, key, NULL);

        if (value && !*value)
                g_clear_pointer(&value, g_free);
        return value;
}

static gboolean
record_read_disk(GKeyFile *kf, const char *group, const char *filename, VmlockDomain *dom,
                 GError **error)
{
        g_autofree char *path = key_file_get_optional(kf, group, "path");
        g_autofree char *type_str = g_key_file_get_string(kf, group, "type", NULL);
        g_autofree char *device_str = g_key_file_get_string(kf, group, "device", NULL);
        int type = vmlock_disk_type_from_string(type_str);
        int device = vmlock_disk_device_from_string(device_str);
        GError *local = NULL;
        gboolean readonly = g_key_file_get_boolean(kf, group, "readonly", NULL);
        gboolean shareable = g_key_file_get_boolean(kf, group, "shareable", NULL);
        VmlockDisk *disk;

        if (type < 0 || device < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: [%s] has a bad type or device",
                            filename, group);
                return FALSE;
        }
        disk = vmlock_disk_new(type, device, path, readonly, shareable, &local);
        if (!disk) {
                record_error(error, filename, local);
                return FALSE;
        }
        vmlock_domain_add_disk(dom, disk);
        return TRUE;
}

static gboolean
record_read_lease(GKeyFile *kf, const char *group, const char *filename, VmlockDomain *dom,
                  GError **error)
{
        g_autofree char *lockspace = key_file_get_optional(kf, group, "lockspace");
        g_autofree char *key = NULL;
        g_autofree char *path = NULL;
        guint64 offset;
        GError *local = NULL;
        VmlockLease *lease;

        key = g_key_file_get_string(kf, group, "key", &local);
        if (!key) {
                record_error(error, filename, local);
                return FALSE;
        }
        path = g_key_file_get_string(kf, group, "path", &local);
        if (!path) {
                record_error(error, filename, local);
                return FALSE;
        }
        offset = g_key_file_get_uint64(kf, group, "offset", &local);
        if (local) {
                record_error(error, filename, local);
                return FALSE;
        }
        lease = vmlock_lease_new(lockspace, key, path, offset, &local);
        if (!lease) {
                record_error(error, filename, local);
                return FALSE;
        }
        vmlock_domain_add_lease(dom, lease);
        return TRUE;
}

/* Sorts "disk.10" after "disk.9": the resources keep their order. */
static int
compare_group_index(gconstpointer a, gconstpointer b)
{
        const char *ga = *(const char *const *)a;
        const char *gb = *(const char *const *)b;
        guint64 ia = g_ascii_strtoull(strchr(ga, '.') + 1, NULL, 10);
        guint64 ib = g_ascii_strtoull(strchr(gb, '.') + 1, NULL, 10);

        return ia < ib ? -1 : ia > ib;
}

GuestRecord *
guest_record_from_data(const char *data, gsize len, const char *filename, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GPtrArray) disk_groups = g_ptr_array_new();
        g_autoptr(GPtrArray) lease_groups = g_ptr_array_new();
        g_auto(GStrv) groups = NULL;
        g_autofree char *name = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *action_str = NULL;
        GError *local = NULL;
        gint64 pid;
        int action;

        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
                record_error(error, filename, local);
                return NULL;
        }

        name = g_key_file_get_string(kf, GROUP_GUEST, "name", &local);
        if (!name) {
                record_error(error, filename, local);
                return NULL;
        }
        uuid = g_key_file_get_string(kf, GROUP_GUEST, "uuid", &local);
        if (!uuid) {
                record_error(error, filename, local);
                return NULL;
        }
        dom = vmlock_domain_new(name, uuid, &local);
        if (!dom) {
                record_error(error, filename, local);
                return NULL;
        }

        pid = g_key_file_get_int64(kf, GROUP_GUEST, "pid", &local);
        if (local) {
                record_error(error, filename, local);
                return NULL;
        }
        if (pid <= 0 || pid > G_MAXINT) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: bad pid %" G_GINT64_FORMAT, filename,
                            pid);
                return NULL;
        }
        vmlock_domain_set_pid(dom, (pid_t)pid);

        action_str = g_key_file_get_string(kf, GROUP_GUEST, "on_lockfailure", NULL);
        action = vmlock_lock_failure_action_from_string(action_str ? action_str : "default");
        if (action < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: unknown on_lockfailure '%s'",
                            filename, action_str);
                return NULL;
        }
        vmlock_domain_set_on_lockfailure(dom, action);

        groups = g_key_file_get_groups(kf, NULL);
        for (guint i = 0; groups[i]; i++) {
                if (g_str_has_prefix(groups[i], GROUP_DISK_PREFIX))
                        g_ptr_array_add(disk_groups, groups[i]);
                else if (g_str_has_prefix(groups[i], GROUP_LEASE_PREFIX))
                        g_ptr_array_add(lease_groups, groups[i]);
        }
        g_ptr_array_sort(disk_groups, compare_group_index);
        g_ptr_array_sort(lease_groups, compare_group_index);
        for (guint i = 0; i < disk_groups->len; i++) {
                if (!record_read_disk(kf, g_ptr_array_index(disk_groups, i), filename, dom,
                                      error))
                        return NULL;
        }
        for (guint i = 0; i < lease_groups->len; i++) {
                if (!record_read_lease(kf, g_ptr_array_index(lease_groups, i), filename, dom,
                                       error))
                        return NULL;
        }

        record = guest_record_new(dom);
        record->pid_start_time = g_key_file_get_uint64(kf, GROUP_GUEST, "pid_start_time",
                                                       &local);
        if (local) {
                record_error(error, filename, local);
                return NULL;
        }
        record->domain_xml = key_file_get_optional(kf, GROUP_GUEST, "domain_xml");
        record->lock_manager = key_file_get_optional(kf, GROUP_GUEST, "lock_manager");
        pid = g_key_file_get_int64(kf, GROUP_GUEST, "supervisor_pid", NULL);
        record->supervisor_pid = pid > 0 && pid <= G_MAXINT ? (pid_t)pid : 0;
        record->qmp = key_file_get_optional(kf, GROUP_GUEST, "qmp");
        record->paused = g_key_file_get_boolean(kf, GROUP_GUEST, "paused", NULL);
        record->released = g_key_file_get_boolean(kf, GROUP_GUEST, "released", NULL);
        record->lock_state = key_file_get_optional(kf, GROUP_GUEST, "lock_state");
        record->lease_lost = g_key_file_get_boolean(kf, GROUP_GUEST, "lease_lost", NULL);
        record->unprotected = g_key_file_get_string_list(kf, GROUP_GUEST, "unprotected", NULL,
                                                         NULL);
        record->in_flight = key_file_get_optional(kf, GROUP_GUEST, "in_flight");
        return g_steal_pointer(&record);
}

gboolean
guest_record_is_alive(const GuestRecord *record)
{
        pid_t pid = vmlock_domain_get_pid(record->dom);
        guint64 start_time;
        char state;

        if (pid <= 0)
                return FALSE;
        if (!proc_pid_stat(pid, &state, &start_time, NULL))
                return FALSE;
        /* A zombie has exited: its leases are gone, only its parent has not
         * reaped it yet. */
        if (state == 'Z' || state == 'X' || state == 'x')
                return FALSE;
        return start_time == record->pid_start_time;
}
