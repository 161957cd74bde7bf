/* vmlock tests: helpers shared by the locking tests (the recording driver). */
#include "config-build.h"

#include <dlfcn.h>

#include "locking-test.h"
#include "test-driver.h"

const char *
locking_test_plugin_dir(void)
{
        const char *dir = g_getenv("VMLOCK_PLUGIN_DIR");

        if (!dir)
                g_error("VMLOCK_PLUGIN_DIR is not set: run the tests with meson test");
        return dir;
}

char *
locking_test_plugin_path(const char *name)
{
        g_autofree char *file = g_strdup_printf("%s.so", name);

        return g_build_filename(locking_test_plugin_dir(), file, NULL);
}

GStrv
locking_test_take_calls(void)
{
        static TestDriverTakeCallsFunc take;
        g_autoptr(GPtrArray) calls = NULL;

        if (!take) {
                g_autofree char *path = locking_test_plugin_path("test-driver");
                /* Never closed: the same handle the loader gets, kept alive. */
                void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

                if (!handle)
                        g_error("%s: %s", path, dlerror());
                take = (TestDriverTakeCallsFunc) dlsym(handle, TEST_DRIVER_TAKE_CALLS_SYMBOL);
                if (!take)
                        g_error("%s: no %s", path, TEST_DRIVER_TAKE_CALLS_SYMBOL);
        }

        calls = take();
        g_ptr_array_set_free_func(calls, NULL);
        g_ptr_array_add(calls, NULL);
        return (GStrv) g_ptr_array_free(g_steal_pointer(&calls), FALSE);
}

gboolean
locking_test_plugin_is_loaded(const char *name)
{
        g_autofree char *path = locking_test_plugin_path(name);
        void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

        if (!handle)
                return FALSE;
        dlclose(handle);
        return TRUE;
}
