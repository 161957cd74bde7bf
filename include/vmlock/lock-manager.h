/* vmlock: loading a lock driver (plugin) and initialising it with its config. */
#pragma once

#include <vmlock/vmlock-common.h>

G_BEGIN_DECLS

typedef struct _VmlockLockManager VmlockLockManager;

/* Called by a driver during slow steps (joining a lockspace takes ~20 s) with a
 * message a person can read; may be called several times. */
typedef void (*VmlockProgressFunc)(const char *message, gpointer user_data);

/* Loads the driver @name ("nop" is built in; anything else is
 * <plugin_dir>/<name>.so) and initialises it with <config_dir>/qemu-<name>.conf.
 * NULL dirs fall back to $VMLOCK_PLUGIN_DIR / $VMLOCK_CONFIG_DIR, then to the
 * compiled-in defaults. Errors: VMLOCK_ERROR_PLUGIN naming the plugin path, or
 * whatever the driver's init reports (config, lockspace, daemon...). */
VMLOCK_EXPORT VmlockLockManager *vmlock_lock_manager_new(const char *name,
                                                         const char *plugin_dir,
                                                         const char *config_dir,
                                                         VmlockProgressFunc progress,
                                                         gpointer progress_data,
                                                         GError **error);
VMLOCK_EXPORT VmlockLockManager *vmlock_lock_manager_ref(VmlockLockManager *manager);
VMLOCK_EXPORT void vmlock_lock_manager_unref(VmlockLockManager *manager);

VMLOCK_EXPORT const char *vmlock_lock_manager_get_name(const VmlockLockManager *manager);
/* The driver's config file path (it need not exist). */
VMLOCK_EXPORT const char *vmlock_lock_manager_get_config_file(const VmlockLockManager *manager);
/* TRUE when the driver's release/inquire return a state that acquire needs back. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_uses_state(const VmlockLockManager *manager);

/* Who holds the disk @path now, read from the driver's lease on shared
 * storage, whether a guest of this host uses it or not: one line such as
 * "held exclusively by host 2 (node-b)" or "free (lease file X)".
 * Errors: VMLOCK_ERROR_UNSUPPORTED when the driver cannot tell (nop, or a
 * sanlock driver without auto_disk_leases), INVALID_ARG for a NULL path, or
 * the driver's own (daemon, I/O...). */
VMLOCK_EXPORT gboolean vmlock_lock_manager_describe_disk(VmlockLockManager *manager,
                                                         const char *path,
                                                         char **ret_description,
                                                         GError **error);

/* The compiled-in defaults, before environment overrides. */
VMLOCK_EXPORT const char *vmlock_default_plugin_dir(void);
VMLOCK_EXPORT const char *vmlock_default_config_dir(void);
/* The config dir to use: @dir when set and not empty, else $VMLOCK_CONFIG_DIR,
 * else the compiled-in default (as vmlock_lock_manager_new() resolves it). */
VMLOCK_EXPORT const char *vmlock_resolve_config_dir(const char *dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockLockManager, vmlock_lock_manager_unref)

G_END_DECLS
