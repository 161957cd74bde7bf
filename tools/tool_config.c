/* vmlock: the command's configuration: vmlock.conf and loading the lock driver. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdlib.h>

#include <vmlock/config.h>

#include "tool_config.h"

#define VMLOCK_CONF "vmlock.conf"
#define DEFAULT_LOCK_MANAGER "nop"

static const char *const vmlock_conf_keys[] = {
        "lock_manager",
        NULL,
};

char *
tool_config_path(const char *config_dir)
{
        return g_build_filename(config_dir, VMLOCK_CONF, NULL);
}

gboolean
tool_config_read_lock_manager(const char *config_dir, char **ret_name, gboolean *ret_named,
                              GError **error)
{
        g_autofree char *path = tool_config_path(config_dir);
        g_autoptr(VmlockConfig) config = vmlock_config_load(path, error);
        char *name = NULL;

        if (!config || !vmlock_config_check_keys(config, vmlock_conf_keys, error))
                return FALSE;
        if (!vmlock_config_get_string(config, "lock_manager", DEFAULT_LOCK_MANAGER, &name,
                                      error))
                return FALSE;
        *ret_name = name;
        if (ret_named)
                *ret_named = vmlock_config_has_key(config, "lock_manager");
        return TRUE;
}

static void
print_progress(const char *message, gpointer user_data)
{
        g_printerr("%s: %s\n", g_get_prgname(), message);
}

VmlockLockManager *
tool_lock_manager_new(const char *name, const char *plugin_dir, const char *config_dir,
                      GError **error)
{
        return vmlock_lock_manager_new(name, plugin_dir, config_dir, print_progress, NULL,
                                       error);
}

VmlockLockManager *
tool_lock_manager_new_read_only(const char *name, const char *plugin_dir,
                                const char *config_dir, GError **error)
{
        return vmlock_lock_manager_new_full(name, plugin_dir, config_dir,
                                            VMLOCK_LOCK_MANAGER_READ_ONLY, print_progress, NULL,
                                            error);
}

VmlockLockManager *
tool_load_read_only_manager(const char *config_option, GError **error)
{
        const char *config_dir = vmlock_resolve_config_dir(config_option);
        g_autofree char *name = NULL;

        if (!tool_config_read_lock_manager(config_dir, &name, NULL, error))
                return NULL;
        return tool_lock_manager_new_read_only(name, NULL, config_dir, error);
}

void
tool_print_progress(const char *message, gpointer user_data)
{
        print_progress(message, user_data);
}
