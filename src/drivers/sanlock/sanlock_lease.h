/* vmlock sanlock driver: sanlock resources for <lease> elements and automatic disk leases. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <glib.h>
#include <sanlock.h>

#include "drivers/sanlock/sanlock_config.h"

typedef struct {
        char *label;                  /* for messages: "disk /x", "lease LS:KEY (/path:0)" */
        struct sanlk_resource *res;   /* with one disk */
        gboolean auto_file;           /* an automatic disk lease: its file is ours to create */
        dev_t file_dev;               /* the file checked by _ensure() (0: none) */
        ino_t file_ino;
} VmlockSanlockLease;

/* Checks the names and path fit sanlock's limits (VMLOCK_ERROR_INVALID_ARG). */
VmlockSanlockLease *vmlock_sanlock_lease_new(const char *label, const char *lockspace,
                                             const char *name, const char *path,
                                             guint64 offset, gboolean shared, GError **error);
void vmlock_sanlock_lease_free(VmlockSanlockLease *lease);
/* TRUE when both name the same sanlock resource (lockspace and name). */
gboolean vmlock_sanlock_lease_same(const struct sanlk_resource *a,
                                   const struct sanlk_resource *b);
/* The resources of a lock state, as sanlock_inquire() writes it (NULL or
 * "": none), with their versions and SANLK_RES_SHARED; the array frees
 * them. Error: a state that cannot be parsed. */
GPtrArray *vmlock_sanlock_state_parse(const char *state, GError **error);

/* libvirt's automatic disk lease name: the lowercase md5 hex digest of the
 * disk path exactly as written. */
char *vmlock_sanlock_disk_lease_name(const char *disk_path);

/* The automatic lease of @disk_path:
 * __LIBVIRT__DISKS__:<md5>:<disk_lease_dir>/<md5>:0, shared or exclusive. */
VmlockSanlockLease *vmlock_sanlock_disk_lease_new(const VmlockSanlockConfig *config,
                                                  const char *disk_path, gboolean shared,
                                                  GError **error);
/* Creates the lease file of an automatic disk lease when it does not exist
 * yet (race-safely, initialised by the daemon, mode 0600, owned by the
 * configured user/group). The file found or made must be a regular file
 * owned by root or the configured user (a symlink is refused, not
 * followed); it is noted in @lease for _file_changed(). */
gboolean vmlock_sanlock_disk_lease_ensure(const VmlockSanlockConfig *config,
                                          VmlockSanlockLease *lease, GError **error);

/* TRUE when the file at @lease's path is no longer the one ensured: missing,
 * another inode or a link, or empty (what vmlock-sanlock-cleanup leaves
 * behind). */
gboolean vmlock_sanlock_disk_lease_file_changed(const VmlockSanlockLease *lease);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockSanlockLease, vmlock_sanlock_lease_free)
