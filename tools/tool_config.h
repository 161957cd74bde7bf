/* vmlock: the command's configuration: vmlock.conf, loading the lock driver. */
#pragma once

#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

/* The `lock_manager` of <config_dir>/vmlock.conf ("nop" when unset); an
 * unknown key is an error. @ret_named (may be NULL) tells whether the file
 * sets it: a guest unprotected for want of a config deserves a warning, one
 * unprotected by choice does not. */
gboolean tool_config_read_lock_manager(const char *config_dir, char **ret_name,
                                       gboolean *ret_named, GError **error);
/* <config_dir>/vmlock.conf */
char *tool_config_path(const char *config_dir);

/* Loads the driver @name, printing its progress lines on stderr. */
VmlockLockManager *tool_lock_manager_new(const char *name, const char *plugin_dir,
                                         const char *config_dir, GError **error);

/* The same for queries only: the driver joins no lockspace and creates no
 * file (VMLOCK_LOCK_MANAGER_READ_ONLY). */
VmlockLockManager *tool_lock_manager_new_read_only(const char *name, const char *plugin_dir,
                                                   const char *config_dir, GError **error);
/* The lock driver of <config_option or $VMLOCK_CONFIG_DIR or the
 * default>/vmlock.conf, for queries only. */
VmlockLockManager *tool_load_read_only_manager(const char *config_option, GError **error);

/* A VmlockProgressFunc printing "PRGNAME: MESSAGE" on stderr. */
void tool_print_progress(const char *message, gpointer user_data);

G_END_DECLS
