/* vmlock: the part of a guest's description that locking needs, and its
 * libvirt domain XML parser. Everything else in a domain XML is ignored. */
#pragma once

#include <sys/types.h>

#include <vmlock/vmlock-common.h>

G_BEGIN_DECLS

/* Limits sanlock puts on names and paths (bytes, without the NUL). */
#define VMLOCK_NAME_MAX 47
#define VMLOCK_PATH_MAX 1023

typedef enum {
        VMLOCK_DISK_TYPE_FILE,
        VMLOCK_DISK_TYPE_BLOCK,
        VMLOCK_DISK_TYPE_DIR,
        VMLOCK_DISK_TYPE_NETWORK,
        VMLOCK_DISK_TYPE_VOLUME,
} VmlockDiskType;

typedef enum {
        VMLOCK_DISK_DEVICE_DISK,
        VMLOCK_DISK_DEVICE_CDROM,
        VMLOCK_DISK_DEVICE_FLOPPY,
        VMLOCK_DISK_DEVICE_LUN,
} VmlockDiskDevice;

/* <on_lockfailure>, in libvirt's order. */
typedef enum {
        VMLOCK_LOCK_FAILURE_DEFAULT,
        VMLOCK_LOCK_FAILURE_POWEROFF,
        VMLOCK_LOCK_FAILURE_RESTART,
        VMLOCK_LOCK_FAILURE_PAUSE,
        VMLOCK_LOCK_FAILURE_IGNORE,
} VmlockLockFailureAction;

typedef struct _VmlockDomain VmlockDomain;
typedef struct _VmlockDisk VmlockDisk;
typedef struct _VmlockLease VmlockLease;

/* Parsing. Errors are VMLOCK_ERROR_XML and name the element and value at fault;
 * @filename (may be NULL) prefixes the message. */
VMLOCK_EXPORT VmlockDomain *vmlock_domain_parse_file(const char *path, GError **error);
VMLOCK_EXPORT VmlockDomain *vmlock_domain_parse_string(const char *xml, gsize len,
                                                       const char *filename, GError **error);

/* A domain built by hand: @name required; @uuid NULL generates one. */
VMLOCK_EXPORT VmlockDomain *vmlock_domain_new(const char *name, const char *uuid,
                                              GError **error);
VMLOCK_EXPORT VmlockDomain *vmlock_domain_ref(VmlockDomain *dom);
VMLOCK_EXPORT void vmlock_domain_unref(VmlockDomain *dom);

VMLOCK_EXPORT const char *vmlock_domain_get_name(const VmlockDomain *dom);
/* Canonical lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
VMLOCK_EXPORT const char *vmlock_domain_get_uuid_string(const VmlockDomain *dom);
VMLOCK_EXPORT const guint8 *vmlock_domain_get_uuid(const VmlockDomain *dom); /* 16 bytes */
/* -1 when the XML has none (an inactive domain). */
VMLOCK_EXPORT int vmlock_domain_get_id(const VmlockDomain *dom);
VMLOCK_EXPORT void vmlock_domain_set_id(VmlockDomain *dom, int id);
/* The guest's process; 0 while not running. */
VMLOCK_EXPORT pid_t vmlock_domain_get_pid(const VmlockDomain *dom);
VMLOCK_EXPORT void vmlock_domain_set_pid(VmlockDomain *dom, pid_t pid);
VMLOCK_EXPORT VmlockLockFailureAction vmlock_domain_get_on_lockfailure(const VmlockDomain *dom);
VMLOCK_EXPORT void vmlock_domain_set_on_lockfailure(VmlockDomain *dom,
                                                    VmlockLockFailureAction action);
/* <seclabel model=...><label>...</label>: NULL when absent. */
VMLOCK_EXPORT const char *vmlock_domain_get_seclabel_model(const VmlockDomain *dom);
VMLOCK_EXPORT const char *vmlock_domain_get_seclabel_label(const VmlockDomain *dom);

/* Disks and leases in document order. The domain owns them. */
VMLOCK_EXPORT guint vmlock_domain_get_n_disks(const VmlockDomain *dom);
VMLOCK_EXPORT const VmlockDisk *vmlock_domain_get_disk(const VmlockDomain *dom, guint index);
VMLOCK_EXPORT guint vmlock_domain_get_n_leases(const VmlockDomain *dom);
VMLOCK_EXPORT const VmlockLease *vmlock_domain_get_lease(const VmlockDomain *dom, guint index);
/* Hotplug bookkeeping. add takes ownership; remove returns FALSE when absent.
 * Disks match by source path, leases by lockspace and key. */
VMLOCK_EXPORT void vmlock_domain_add_disk(VmlockDomain *dom, VmlockDisk *disk);
VMLOCK_EXPORT gboolean vmlock_domain_remove_disk(VmlockDomain *dom, const char *path);
VMLOCK_EXPORT void vmlock_domain_add_lease(VmlockDomain *dom, VmlockLease *lease);
VMLOCK_EXPORT gboolean vmlock_domain_remove_lease(VmlockDomain *dom, const char *lockspace,
                                                  const char *key);

/* @path may be NULL (an empty cdrom); it is validated against VMLOCK_PATH_MAX,
 * and must be absolute for file, block and dir disks. */
VMLOCK_EXPORT VmlockDisk *vmlock_disk_new(VmlockDiskType type, VmlockDiskDevice device,
                                          const char *path, gboolean readonly,
                                          gboolean shareable, GError **error);
VMLOCK_EXPORT VmlockDisk *vmlock_disk_copy(const VmlockDisk *disk);
VMLOCK_EXPORT void vmlock_disk_free(VmlockDisk *disk);
VMLOCK_EXPORT VmlockDiskType vmlock_disk_get_type(const VmlockDisk *disk);
VMLOCK_EXPORT VmlockDiskDevice vmlock_disk_get_device(const VmlockDisk *disk);
/* The source exactly as written: file=, dev=, dir= or (network) name=; NULL if none. */
VMLOCK_EXPORT const char *vmlock_disk_get_source(const VmlockDisk *disk);
VMLOCK_EXPORT const char *vmlock_disk_get_target(const VmlockDisk *disk); /* may be NULL */
/* The image format, <driver type=...> ("raw", "qcow2"...); NULL when not given. */
VMLOCK_EXPORT const char *vmlock_disk_get_format(const VmlockDisk *disk);
VMLOCK_EXPORT gboolean vmlock_disk_get_readonly(const VmlockDisk *disk);
VMLOCK_EXPORT gboolean vmlock_disk_get_shareable(const VmlockDisk *disk);

/* @lockspace may be NULL; key and path are required; limits as in the XML. */
VMLOCK_EXPORT VmlockLease *vmlock_lease_new(const char *lockspace, const char *key,
                                            const char *path, guint64 offset, GError **error);
VMLOCK_EXPORT VmlockLease *vmlock_lease_copy(const VmlockLease *lease);
VMLOCK_EXPORT void vmlock_lease_free(VmlockLease *lease);
VMLOCK_EXPORT const char *vmlock_lease_get_lockspace(const VmlockLease *lease);
VMLOCK_EXPORT const char *vmlock_lease_get_key(const VmlockLease *lease);
VMLOCK_EXPORT const char *vmlock_lease_get_path(const VmlockLease *lease);
VMLOCK_EXPORT guint64 vmlock_lease_get_offset(const VmlockLease *lease);

VMLOCK_EXPORT const char *vmlock_disk_type_to_string(VmlockDiskType type);
VMLOCK_EXPORT const char *vmlock_disk_device_to_string(VmlockDiskDevice device);
VMLOCK_EXPORT const char *vmlock_lock_failure_action_to_string(VmlockLockFailureAction action);
/* Returns -1 for an unknown string. */
VMLOCK_EXPORT int vmlock_lock_failure_action_from_string(const char *str);
VMLOCK_EXPORT int vmlock_disk_type_from_string(const char *str);
VMLOCK_EXPORT int vmlock_disk_device_from_string(const char *str);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockDomain, vmlock_domain_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockDisk, vmlock_disk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockLease, vmlock_lease_free)

G_END_DECLS
