/* vmlock: loading the daemon module (the executable's side of
 * daemon_module.h). */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <dlfcn.h>

#include <vmlock/error.h>

#include "daemon_module.h"

static void *module_handle;
static const DaemonModule *module;

/* Beside the executable (the build tree), else where it is installed
 * relative to the executable, else where it is installed. */
static char *
module_path(void)
{
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *exe_dir = exe ? g_path_get_dirname(exe) : NULL;
        g_autofree char *beside = NULL;

        if (!exe_dir)
                return g_build_filename(VMLOCK_DAEMON_MODULE_DIR, DAEMON_MODULE_FILE, NULL);
        beside = g_build_filename(exe_dir, DAEMON_MODULE_FILE, NULL);
        if (g_file_test(beside, G_FILE_TEST_EXISTS))
                return g_steal_pointer(&beside);
        if (g_path_is_absolute(VMLOCK_DAEMON_MODULE_FROM_BINDIR))
                return g_build_filename(VMLOCK_DAEMON_MODULE_FROM_BINDIR, DAEMON_MODULE_FILE,
                                        NULL);
        return g_build_filename(exe_dir, VMLOCK_DAEMON_MODULE_FROM_BINDIR, DAEMON_MODULE_FILE,
                                NULL);
}

const DaemonModule *
daemon_module_load(GError **error)
{
        g_autofree char *path = NULL;
        const DaemonModule *found;

        if (module)
                return module;
        path = module_path();
        /* Loaded once, for the life of the process: never closed. */
        module_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!module_handle) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "cannot load vmlock's daemon module: %s", dlerror());
                return NULL;
        }
        found = dlsym(module_handle, DAEMON_MODULE_SYMBOL);
        if (!found) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "%s is not vmlock's daemon module: %s", path, dlerror());
                return NULL;
        }
        if (!g_str_equal(found->version, VMLOCK_VERSION)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "%s is vmlock %s's daemon module, this vmlock is %s: reinstall "
                            "vmlock",
                            path, found->version, VMLOCK_VERSION);
                return NULL;
        }
        module = found;
        return module;
}

const SupervisorRuntime *
daemon_module_load_runtime(GError **error)
{
        const DaemonModule *loaded = daemon_module_load(error);

        return loaded ? loaded->runtime : NULL;
}

int (*daemon_module_command(const char *symbol, GError **error))(int argc, char **argv)
{
        int (*command)(int argc, char **argv);

        if (!daemon_module_load(error))
                return NULL;
        command = (int (*)(int, char **))dlsym(module_handle, symbol);
        if (!command)
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "vmlock's daemon module has no %s: %s", symbol, dlerror());
        return command;
}
