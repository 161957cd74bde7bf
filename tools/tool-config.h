/* vmlock: the command's configuration: vmlock.conf, loading the lock driver. */
#pragma once

#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

/* The `lock_manager` of <config_dir>/vmlock.conf ("nop" when unset). */
gboolean tool_config_read_lock_manager(const char *config_dir, char **ret_name,
                                       GError **error);

/* Loads the driver @name, printing its progress lines on stderr. */
VmlockLockManager *tool_lock_manager_new(const char *name, const char *plugin_dir,
                                         const char *config_dir, GError **error);

G_END_DECLS
