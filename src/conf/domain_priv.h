/* vmlock: domain model internals shared by domain.c and domain_xml.c. */
#pragma once

#include <vmlock/domain.h>
#include <vmlock/error.h>

G_BEGIN_DECLS

#define VMLOCK_UUID_LEN 16
#define VMLOCK_UUID_STRING_LEN 36

struct _VmlockDomain {
        gatomicrefcount ref;
        char *name;
        guint8 uuid[VMLOCK_UUID_LEN];
        char uuid_string[VMLOCK_UUID_STRING_LEN + 1];
        int id;
        pid_t pid;
        VmlockLockFailureAction on_lockfailure;
        char *seclabel_model;
        char *seclabel_label;
        GPtrArray *disks;  /* VmlockDisk, owned */
        GPtrArray *leases; /* VmlockLease, owned */
};

struct _VmlockDisk {
        VmlockDiskType type;
        VmlockDiskDevice device;
        char *source; /* NULL: no local source (empty cdrom, volume) */
        char *target;
        char *format; /* <driver type=...>: NULL when the XML names none */
        gboolean readonly;
        gboolean shareable;
};

struct _VmlockLease {
        char *lockspace; /* NULL: the driver's default */
        char *key;
        char *path;
        guint64 offset;
};

/* Parses a uuid the way libvirt does: 32 hex digits, dashes anywhere between
 * digit pairs, whitespace around. Returns FALSE when @str is not one. */
gboolean vmlock_uuid_parse(const char *str, guint8 ret_uuid[VMLOCK_UUID_LEN]);

/* Sets the domain's uuid; @str NULL generates a random one. Errors use @code. */
gboolean vmlock_domain_set_uuid_internal(VmlockDomain *dom, const char *str,
                                         VmlockError code, GError **error);

/* An empty domain; name and uuid are the caller's job. */
VmlockDomain *vmlock_domain_alloc(void);

/* The checks vmlock_disk_new() and vmlock_lease_new() make, reporting with
 * @code so the parser can raise VMLOCK_ERROR_XML and the API INVALID_ARG:
 * a disk's local path (file, block, dir) must be absolute. */
gboolean vmlock_disk_validate(VmlockDiskType type, const char *path, VmlockError code,
                              GError **error);
gboolean vmlock_lease_validate(const char *lockspace, const char *key, const char *path,
                               VmlockError code, GError **error);

/* Take ownership of the strings. @path/@lockspace may be NULL; no checks. */
VmlockDisk *vmlock_disk_new_take(VmlockDiskType type, VmlockDiskDevice device, char *path,
                                 char *target, gboolean readonly, gboolean shareable);
VmlockLease *vmlock_lease_new_take(char *lockspace, char *key, char *path, guint64 offset);

/* @s for an error message: long values are cut short with "...". */
char *vmlock_conf_abbrev(const char *s);

G_END_DECLS
