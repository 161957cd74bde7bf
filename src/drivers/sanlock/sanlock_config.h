/* vmlock sanlock driver: the settings of qemu-sanlock.conf. */
#pragma once

#include <sys/types.h>

#include <glib.h>

/* The lockspace holding the automatic disk leases; the name and layout are
 * libvirt's, so vmlock and libvirt hosts protect the same disks. */
#define VMLOCK_SANLOCK_DISK_LOCKSPACE "__LIBVIRT__DISKS__"
#define VMLOCK_SANLOCK_MAX_HOST_ID 2000

typedef struct {
        char *filename;                 /* the config file, for messages */
        gboolean auto_disk_leases;
        char *disk_lease_dir;
        guint host_id;                  /* 0 = unset */
        gboolean require_lease_for_disks;
        guint io_timeout;               /* seconds; 0 = the daemon's default */
        uid_t user;                     /* (uid_t)-1 = unset */
        gid_t group;                    /* (gid_t)-1 = unset */
} VmlockSanlockConfig;

/* Reads @path (absent = libvirt's defaults) and checks the settings fit
 * together. Errors are VMLOCK_ERROR_CONFIG naming the file and key. */
VmlockSanlockConfig *vmlock_sanlock_config_load(const char *path, GError **error);
void vmlock_sanlock_config_free(VmlockSanlockConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockSanlockConfig, vmlock_sanlock_config_free)
