/* vmlock: the domain model (a guest's name, uuid, disks and leases). */
#define G_LOG_DOMAIN "vmlock-conf"

#include "config-build.h"

#include <string.h>

#include "conf/domain_priv.h"
#include "util/log.h"

static const char *const disk_type_names[] = {
        [VMLOCK_DISK_TYPE_FILE] = "file",
        [VMLOCK_DISK_TYPE_BLOCK] = "block",
        [VMLOCK_DISK_TYPE_DIR] = "dir",
        [VMLOCK_DISK_TYPE_NETWORK] = "network",
        [VMLOCK_DISK_TYPE_VOLUME] = "volume",
};

static const char *const disk_device_names[] = {
        [VMLOCK_DISK_DEVICE_DISK] = "disk",
        [VMLOCK_DISK_DEVICE_CDROM] = "cdrom",
        [VMLOCK_DISK_DEVICE_FLOPPY] = "floppy",
        [VMLOCK_DISK_DEVICE_LUN] = "lun",
};

static const char *const lock_failure_names[] = {
        [VMLOCK_LOCK_FAILURE_DEFAULT] = "default",
        [VMLOCK_LOCK_FAILURE_POWEROFF] = "poweroff",
        [VMLOCK_LOCK_FAILURE_RESTART] = "restart",
        [VMLOCK_LOCK_FAILURE_PAUSE] = "pause",
        [VMLOCK_LOCK_FAILURE_IGNORE] = "ignore",
};

static const char *
enum_to_string(const char *const *names, gsize n_names, int value)
{
        if (value < 0 || (gsize)value >= n_names)
                return NULL;
        return names[value];
}

static int
enum_from_string(const char *const *names, gsize n_names, const char *str)
{
        if (!str)
                return -1;
        for (gsize i = 0; i < n_names; i++) {
                if (g_str_equal(names[i], str))
                        return (int)i;
        }
        return -1;
}

const char *
vmlock_disk_type_to_string(VmlockDiskType type)
{
        VMLOCK_TRACE("type=%d", type);
        return enum_to_string(disk_type_names, G_N_ELEMENTS(disk_type_names), type);
}

int
vmlock_disk_type_from_string(const char *str)
{
        VMLOCK_TRACE("str=%s", VMLOCK_NULLSTR(str));
        return enum_from_string(disk_type_names, G_N_ELEMENTS(disk_type_names), str);
}

const char *
vmlock_disk_device_to_string(VmlockDiskDevice device)
{
        VMLOCK_TRACE("device=%d", device);
        return enum_to_string(disk_device_names, G_N_ELEMENTS(disk_device_names), device);
}

int
vmlock_disk_device_from_string(const char *str)
{
        VMLOCK_TRACE("str=%s", VMLOCK_NULLSTR(str));
        return enum_from_string(disk_device_names, G_N_ELEMENTS(disk_device_names), str);
}

const char *
vmlock_lock_failure_action_to_string(VmlockLockFailureAction action)
{
        VMLOCK_TRACE("action=%d", action);
        return enum_to_string(lock_failure_names, G_N_ELEMENTS(lock_failure_names), action);
}

int
vmlock_lock_failure_action_from_string(const char *str)
{
        VMLOCK_TRACE("str=%s", VMLOCK_NULLSTR(str));
        return enum_from_string(lock_failure_names, G_N_ELEMENTS(lock_failure_names), str);
}

char *
vmlock_conf_abbrev(const char *s)
{
        const gsize keep = 60;
        gsize len = strlen(s);
        const char *end;

        if (len <= keep + 4)
                return g_strdup(s);

        /* Don't cut a UTF-8 character in half. */
        end = s + keep;
        while (end > s && ((guchar)*end & 0xC0) == 0x80)
                end--;
        return g_strdup_printf("%.*s...", (int)(end - s), s);
}

static int
hex_value(char c)
{
        if (!g_ascii_isxdigit(c))
                return -1;
        return g_ascii_xdigit_value(c);
}

gboolean
vmlock_uuid_parse(const char *str, guint8 ret_uuid[VMLOCK_UUID_LEN])
{
        guint8 uuid[VMLOCK_UUID_LEN];
        const char *p = str;
        guint n = 0;

        while (g_ascii_isspace(*p))
                p++;

        /* libvirt accepts dashes anywhere between digit pairs, not just 8-4-4-4-12. */
        while (n < VMLOCK_UUID_LEN) {
                int hi, lo;

                if (*p == '-') {
                        p++;
                        continue;
                }
                hi = hex_value(p[0]);
                if (hi < 0)
                        return FALSE;
                lo = hex_value(p[1]);
                if (lo < 0)
                        return FALSE;
                uuid[n++] = (guint8)(hi << 4 | lo);
                p += 2;
        }

        while (g_ascii_isspace(*p))
                p++;
        if (*p != '\0')
                return FALSE;

        memcpy(ret_uuid, uuid, sizeof(uuid));
        return TRUE;
}

static void
uuid_format(const guint8 uuid[VMLOCK_UUID_LEN], char out[VMLOCK_UUID_STRING_LEN + 1])
{
        g_snprintf(out, VMLOCK_UUID_STRING_LEN + 1,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                   uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
                   uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14],
                   uuid[15]);
}

gboolean
vmlock_domain_set_uuid_internal(VmlockDomain *dom, const char *str, VmlockError code,
                                GError **error)
{
        g_autofree char *random = NULL;
        guint8 uuid[VMLOCK_UUID_LEN];

        if (!str)
                str = random = g_uuid_string_random();

        if (!vmlock_uuid_parse(str, uuid)) {
                g_autofree char *shown = vmlock_conf_abbrev(str);

                g_set_error(error, VMLOCK_ERROR, code,
                            "invalid uuid '%s': expected 32 hex digits, "
                            "e.g. 4dea22b3-1d52-d8f3-2516-782e98ab3fa0", shown);
                return FALSE;
        }

        memcpy(dom->uuid, uuid, sizeof(uuid));
        uuid_format(uuid, dom->uuid_string);
        return TRUE;
}

VmlockDomain *
vmlock_domain_alloc(void)
{
        VmlockDomain *dom = g_new0(VmlockDomain, 1);

        g_atomic_ref_count_init(&dom->ref);
        dom->id = -1;
        dom->on_lockfailure = VMLOCK_LOCK_FAILURE_DEFAULT;
        dom->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vmlock_disk_free);
        dom->leases = g_ptr_array_new_with_free_func((GDestroyNotify)vmlock_lease_free);
        return dom;
}

VmlockDomain *
vmlock_domain_new(const char *name, const char *uuid, GError **error)
{
        g_autoptr(VmlockDomain) dom = NULL;

        VMLOCK_TRACE("name=%s uuid=%s", VMLOCK_NULLSTR(name), VMLOCK_NULLSTR(uuid));

        if (!name || !*name) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "a domain needs a name");
                return NULL;
        }

        dom = vmlock_domain_alloc();
        dom->name = g_strdup(name);
        if (!vmlock_domain_set_uuid_internal(dom, uuid, VMLOCK_ERROR_INVALID_ARG, error))
                return NULL;

        return g_steal_pointer(&dom);
}

VmlockDomain *
vmlock_domain_ref(VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);

        g_atomic_ref_count_inc(&dom->ref);
        return dom;
}

void
vmlock_domain_unref(VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (void *)dom);
        if (!dom)
                return;
        if (!g_atomic_ref_count_dec(&dom->ref))
                return;

        g_free(dom->name);
        g_free(dom->seclabel_model);
        g_free(dom->seclabel_label);
        g_ptr_array_unref(dom->disks);
        g_ptr_array_unref(dom->leases);
        g_free(dom);
}

const char *
vmlock_domain_get_name(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);
        return dom->name;
}

const char *
vmlock_domain_get_uuid_string(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);
        return dom->uuid_string;
}

const guint8 *
vmlock_domain_get_uuid(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);
        return dom->uuid;
}

int
vmlock_domain_get_id(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, -1);
        return dom->id;
}

void
vmlock_domain_set_id(VmlockDomain *dom, int id)
{
        VMLOCK_TRACE("dom=%p id=%d", (void *)dom, id);
        g_return_if_fail(dom != NULL);
        dom->id = id;
}

pid_t
vmlock_domain_get_pid(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, 0);
        return dom->pid;
}

void
vmlock_domain_set_pid(VmlockDomain *dom, pid_t pid)
{
        VMLOCK_TRACE("dom=%p pid=%ld", (void *)dom, (long)pid);
        g_return_if_fail(dom != NULL);
        dom->pid = pid;
}

VmlockLockFailureAction
vmlock_domain_get_on_lockfailure(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, VMLOCK_LOCK_FAILURE_DEFAULT);
        return dom->on_lockfailure;
}

void
vmlock_domain_set_on_lockfailure(VmlockDomain *dom, VmlockLockFailureAction action)
{
        VMLOCK_TRACE("dom=%p action=%d", (void *)dom, action);
        g_return_if_fail(dom != NULL);
        g_return_if_fail(action >= VMLOCK_LOCK_FAILURE_DEFAULT &&
                         action <= VMLOCK_LOCK_FAILURE_IGNORE);
        dom->on_lockfailure = action;
}

const char *
vmlock_domain_get_seclabel_model(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);
        return dom->seclabel_model;
}

const char *
vmlock_domain_get_seclabel_label(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, NULL);
        return dom->seclabel_label;
}

guint
vmlock_domain_get_n_disks(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, 0);
        return dom->disks->len;
}

const VmlockDisk *
vmlock_domain_get_disk(const VmlockDomain *dom, guint index)
{
        VMLOCK_TRACE("dom=%p index=%u", (const void *)dom, index);
        g_return_val_if_fail(dom != NULL, NULL);
        g_return_val_if_fail(index < dom->disks->len, NULL);
        return g_ptr_array_index(dom->disks, index);
}

guint
vmlock_domain_get_n_leases(const VmlockDomain *dom)
{
        VMLOCK_TRACE("dom=%p", (const void *)dom);
        g_return_val_if_fail(dom != NULL, 0);
        return dom->leases->len;
}

const VmlockLease *
vmlock_domain_get_lease(const VmlockDomain *dom, guint index)
{
        VMLOCK_TRACE("dom=%p index=%u", (const void *)dom, index);
        g_return_val_if_fail(dom != NULL, NULL);
        g_return_val_if_fail(index < dom->leases->len, NULL);
        return g_ptr_array_index(dom->leases, index);
}

void
vmlock_domain_add_disk(VmlockDomain *dom, VmlockDisk *disk)
{
        VMLOCK_TRACE("dom=%p disk=%p source=%s", (void *)dom, (void *)disk,
                     disk ? VMLOCK_NULLSTR(disk->source) : "(null)");
        g_return_if_fail(dom != NULL);
        g_return_if_fail(disk != NULL);
        g_ptr_array_add(dom->disks, disk);
}

gboolean
vmlock_domain_remove_disk(VmlockDomain *dom, const char *path)
{
        VMLOCK_TRACE("dom=%p path=%s", (void *)dom, VMLOCK_NULLSTR(path));
        g_return_val_if_fail(dom != NULL, FALSE);
        g_return_val_if_fail(path != NULL, FALSE);

        for (guint i = 0; i < dom->disks->len; i++) {
                const VmlockDisk *disk = g_ptr_array_index(dom->disks, i);

                if (g_strcmp0(disk->source, path) == 0) {
                        g_ptr_array_remove_index(dom->disks, i);
                        return TRUE;
                }
        }
        return FALSE;
}

void
vmlock_domain_add_lease(VmlockDomain *dom, VmlockLease *lease)
{
        VMLOCK_TRACE("dom=%p lease=%p key=%s", (void *)dom, (void *)lease,
                     lease ? VMLOCK_NULLSTR(lease->key) : "(null)");
        g_return_if_fail(dom != NULL);
        g_return_if_fail(lease != NULL);
        g_ptr_array_add(dom->leases, lease);
}

gboolean
vmlock_domain_remove_lease(VmlockDomain *dom, const char *lockspace, const char *key)
{
        VMLOCK_TRACE("dom=%p lockspace=%s key=%s", (void *)dom, VMLOCK_NULLSTR(lockspace),
                     VMLOCK_NULLSTR(key));
        g_return_val_if_fail(dom != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);

        /* An empty lockspace means none, as in vmlock_lease_new(). */
        if (lockspace && !*lockspace)
                lockspace = NULL;

        for (guint i = 0; i < dom->leases->len; i++) {
                const VmlockLease *lease = g_ptr_array_index(dom->leases, i);

                if (g_strcmp0(lease->lockspace, lockspace) == 0 &&
                    g_str_equal(lease->key, key)) {
                        g_ptr_array_remove_index(dom->leases, i);
                        return TRUE;
                }
        }
        return FALSE;
}

/* Disks */

gboolean
vmlock_disk_validate(VmlockDiskType type, const char *path, VmlockError code, GError **error)
{
        gsize len;

        if (!path)
                return TRUE;

        len = strlen(path);
        if (len > VMLOCK_PATH_MAX) {
                g_autofree char *shown = vmlock_conf_abbrev(path);

                g_set_error(error, VMLOCK_ERROR, code,
                            "disk source '%s' is %" G_GSIZE_FORMAT " bytes long; "
                            "at most %d are allowed", shown, len, VMLOCK_PATH_MAX);
                return FALSE;
        }
        /* A disk's lease is named after its path as written: a relative
         * path would give one file two leases (and two files one). A
         * network disk's source is a name, not a host path. */
        if ((type == VMLOCK_DISK_TYPE_FILE || type == VMLOCK_DISK_TYPE_BLOCK ||
             type == VMLOCK_DISK_TYPE_DIR) && !g_path_is_absolute(path)) {
                g_autofree char *shown = vmlock_conf_abbrev(path);

                g_set_error(error, VMLOCK_ERROR, code, "disk path '%s' must be absolute",
                            shown);
                return FALSE;
        }
        return TRUE;
}

VmlockDisk *
vmlock_disk_new_take(VmlockDiskType type, VmlockDiskDevice device, char *path, char *target,
                     gboolean readonly, gboolean shareable)
{
        VmlockDisk *disk = g_new0(VmlockDisk, 1);

        disk->type = type;
        disk->device = device;
        disk->source = path;
        disk->target = target;
        /* A cdrom or floppy is a medium the guest reads: libvirt forces
         * cdroms read-only, and a shared lease lets guests that boot one ISO
         * coexist (QEMU opening one writable shows as unprotected). */
        disk->readonly = readonly || device == VMLOCK_DISK_DEVICE_CDROM ||
                         device == VMLOCK_DISK_DEVICE_FLOPPY;
        disk->shareable = !!shareable;
        return disk;
}

VmlockDisk *
vmlock_disk_new(VmlockDiskType type, VmlockDiskDevice device, const char *path,
                gboolean readonly, gboolean shareable, GError **error)
{
        VMLOCK_TRACE("type=%d device=%d path=%s readonly=%d shareable=%d", type, device,
                     VMLOCK_NULLSTR(path), readonly, shareable);

        if (!vmlock_disk_type_to_string(type)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown disk type %d", type);
                return NULL;
        }
        if (!vmlock_disk_device_to_string(device)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown disk device %d", device);
                return NULL;
        }
        /* An empty path is no path, as libvirt treats <source file=''/>. */
        if (path && !*path)
                path = NULL;
        if (!vmlock_disk_validate(type, path, VMLOCK_ERROR_INVALID_ARG, error))
                return NULL;

        return vmlock_disk_new_take(type, device, g_strdup(path), NULL, readonly, shareable);
}

VmlockDisk *
vmlock_disk_copy(const VmlockDisk *disk)
{
        VmlockDisk *copy;

        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, NULL);

        copy = vmlock_disk_new_take(disk->type, disk->device, g_strdup(disk->source),
                                    g_strdup(disk->target), disk->readonly, disk->shareable);
        copy->format = g_strdup(disk->format);
        return copy;
}

void
vmlock_disk_free(VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (void *)disk);
        if (!disk)
                return;
        g_free(disk->source);
        g_free(disk->target);
        g_free(disk->format);
        g_free(disk);
}

VmlockDiskType
vmlock_disk_get_type(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, VMLOCK_DISK_TYPE_FILE);
        return disk->type;
}

VmlockDiskDevice
vmlock_disk_get_device(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, VMLOCK_DISK_DEVICE_DISK);
        return disk->device;
}

const char *
vmlock_disk_get_source(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, NULL);
        return disk->source;
}

const char *
vmlock_disk_get_target(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, NULL);
        return disk->target;
}

const char *
vmlock_disk_get_format(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, NULL);
        return disk->format;
}

gboolean
vmlock_disk_get_readonly(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, FALSE);
        return disk->readonly;
}

gboolean
vmlock_disk_get_shareable(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p", (const void *)disk);
        g_return_val_if_fail(disk != NULL, FALSE);
        return disk->shareable;
}

/* Leases */

static gboolean
check_name(const char *what, const char *value, VmlockError code, GError **error)
{
        gsize len = strlen(value);

        if (len > VMLOCK_NAME_MAX) {
                g_autofree char *shown = vmlock_conf_abbrev(value);

                g_set_error(error, VMLOCK_ERROR, code,
                            "lease %s '%s' is %" G_GSIZE_FORMAT " bytes long; "
                            "at most %d are allowed", what, shown, len, VMLOCK_NAME_MAX);
                return FALSE;
        }
        return TRUE;
}

gboolean
vmlock_lease_validate(const char *lockspace, const char *key, const char *path,
                      VmlockError code, GError **error)
{
        gsize len;

        if (!key || !*key) {
                g_set_error_literal(error, VMLOCK_ERROR, code, "lease has no key");
                return FALSE;
        }
        if (!check_name("key", key, code, error))
                return FALSE;
        if (lockspace && !check_name("lockspace", lockspace, code, error))
                return FALSE;

        if (!path || !*path) {
                g_set_error(error, VMLOCK_ERROR, code, "lease '%s' has no target path", key);
                return FALSE;
        }
        len = strlen(path);
        if (len > VMLOCK_PATH_MAX) {
                g_autofree char *shown = vmlock_conf_abbrev(path);

                g_set_error(error, VMLOCK_ERROR, code,
                            "lease '%s' target path '%s' is %" G_GSIZE_FORMAT " bytes long; "
                            "at most %d are allowed", key, shown, len, VMLOCK_PATH_MAX);
                return FALSE;
        }
        return TRUE;
}

VmlockLease *
vmlock_lease_new_take(char *lockspace, char *key, char *path, guint64 offset)
{
        VmlockLease *lease = g_new0(VmlockLease, 1);

        lease->lockspace = lockspace;
        lease->key = key;
        lease->path = path;
        lease->offset = offset;
        return lease;
}

VmlockLease *
vmlock_lease_new(const char *lockspace, const char *key, const char *path, guint64 offset,
                 GError **error)
{
        VMLOCK_TRACE("lockspace=%s key=%s path=%s offset=%" G_GUINT64_FORMAT,
                     VMLOCK_NULLSTR(lockspace), VMLOCK_NULLSTR(key), VMLOCK_NULLSTR(path),
                     offset);

        /* An empty <lockspace/> is no lockspace in libvirt too. */
        if (lockspace && !*lockspace)
                lockspace = NULL;
        if (!vmlock_lease_validate(lockspace, key, path, VMLOCK_ERROR_INVALID_ARG, error))
                return NULL;

        return vmlock_lease_new_take(g_strdup(lockspace), g_strdup(key), g_strdup(path),
                                     offset);
}

VmlockLease *
vmlock_lease_copy(const VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (const void *)lease);
        g_return_val_if_fail(lease != NULL, NULL);

        return vmlock_lease_new_take(g_strdup(lease->lockspace), g_strdup(lease->key),
                                     g_strdup(lease->path), lease->offset);
}

void
vmlock_lease_free(VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (void *)lease);
        if (!lease)
                return;
        g_free(lease->lockspace);
        g_free(lease->key);
        g_free(lease->path);
        g_free(lease);
}

const char *
vmlock_lease_get_lockspace(const VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (const void *)lease);
        g_return_val_if_fail(lease != NULL, NULL);
        return lease->lockspace;
}

const char *
vmlock_lease_get_key(const VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (const void *)lease);
        g_return_val_if_fail(lease != NULL, NULL);
        return lease->key;
}

const char *
vmlock_lease_get_path(const VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (const void *)lease);
        g_return_val_if_fail(lease != NULL, NULL);
        return lease->path;
}

guint64
vmlock_lease_get_offset(const VmlockLease *lease)
{
        VMLOCK_TRACE("lease=%p", (const void *)lease);
        g_return_val_if_fail(lease != NULL, 0);
        return lease->offset;
}
