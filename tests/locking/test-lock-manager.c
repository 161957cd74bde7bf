/* vmlock tests: loading lock drivers, the lock manager and the lock object calls. */
#include "config-build.h"

#include <fcntl.h>
#include <unistd.h>

#include <vmlock/error.h>
#include <vmlock/lock-manager.h>

#include "locking-test.h"
#include "locking/lock_manager.h"
#include "test-driver.h"

#define NOT_WRITTEN ((char *) "not written")

static VmlockLockManager *
load_test_driver(const char *config_dir)
{
        g_autoptr(GError) error = NULL;
        VmlockLockManager *manager;

        manager = vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), config_dir, NULL,
                                          NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(manager);
        g_strfreev(locking_test_take_calls());
        return manager;
}

/* Asserts that loading @name fails with VMLOCK_ERROR_PLUGIN and exactly
 * @message, in which "@PATH@" stands for the plugin's path. */
static void
assert_refused(const char *name, const char *message)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *path = locking_test_plugin_path(name);
        g_autoptr(GString) expected = g_string_new(message);

        manager = vmlock_lock_manager_new(name, locking_test_plugin_dir(), "/cfg", NULL, NULL,
                                          &error);
        g_assert_null(manager);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
        g_string_replace(expected, "@PATH@", path, 0);
        g_assert_cmpstr(error->message, ==, expected->str);
        /* A refused plugin is unloaded again. */
        g_assert_false(locking_test_plugin_is_loaded(name));
}

static void
test_nop_no_plugin_dir(void)
{
        if (g_test_subprocess()) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockLockManager) manager = NULL;
                g_autoptr(VmlockLockManager) manager2 = NULL;

                g_unsetenv("VMLOCK_PLUGIN_DIR");
                manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_lock_manager_get_name(manager), ==, "nop");
                g_assert_false(vmlock_lock_manager_uses_state(manager));

                manager2 = vmlock_lock_manager_new("nop", "/nonexistent/plugins", "/cfg", NULL,
                                                   NULL, &error);
                g_assert_no_error(error);
                g_assert_nonnull(manager2);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void
test_nop_config_file(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;

        manager = vmlock_lock_manager_new("nop", NULL, "/etc/test-vmlock", NULL, NULL, &error);
        g_assert_no_error(error);
        /* Built for nop too, although nop never reads it. */
        g_assert_cmpstr(vmlock_lock_manager_get_config_file(manager), ==,
                        "/etc/test-vmlock/qemu-nop.conf");
}

static void
test_nop_object(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(LockObject) object = NULL;
        VmlockLockParam params[] = {
                { .type = VMLOCK_LOCK_PARAM_STRING, .key = "name", .value.str = "guest" },
        };
        char *state = NOT_WRITTEN;
        int fd = 1234;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, params,
                                 G_N_ELEMENTS(params), VMLOCK_LOCK_NEW_STARTED, &error);
        g_assert_no_error(error);
        g_assert_true(lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK, "/disk",
                                               NULL, 0,
                                               VMLOCK_LOCK_RESOURCE_READONLY |
                                               VMLOCK_LOCK_RESOURCE_SHARED, &error));
        g_assert_no_error(error);
        g_assert_true(lock_object_acquire(object, "some state",
                                          VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY |
                                          VMLOCK_LOCK_ACQUIRE_RESTRICT,
                                          VMLOCK_LOCK_FAILURE_POWEROFF, &fd, &error));
        g_assert_no_error(error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_true(lock_object_release(object, &state, 0, &error));
        g_assert_no_error(error);
        g_assert_null(state);
        state = NOT_WRITTEN;
        g_assert_true(lock_object_inquire(object, &state, 0, &error));
        g_assert_no_error(error);
        g_assert_null(state);
}

static void
test_nop_unknown_flags(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(LockObject) object = NULL;
        int fd = 1234;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);

        g_assert_null(lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 1u << 5,
                                      &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, "nop lock driver: new: unsupported flags 0x20");
        g_clear_error(&error);

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error);
        g_assert_no_error(error);
        g_assert_false(lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK, "/d", NULL,
                                                0, 1u << 2, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_acquire(object, NULL, 1u << 3, VMLOCK_LOCK_FAILURE_DEFAULT,
                                           &fd, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpint(fd, ==, 1234);
        g_clear_error(&error);
        g_assert_false(lock_object_release(object, NULL, 1, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_inquire(object, NULL, 1, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

static void
test_name_null(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_null(vmlock_lock_manager_new(NULL, NULL, NULL, NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

static void
test_name_refused(void)
{
        static const struct {
                const char *name;
                const char *message;
        } cases[] = {
                { "", "lock driver name is empty" },
                { "sub/test", "lock driver name 'sub/test' must not contain '/'" },
                { "../plugins/test", "lock driver name '../plugins/test' must not contain '/'" },
                { "/abs/test", "lock driver name '/abs/test' must not contain '/'" },
                { ".hidden", "lock driver name '.hidden' must not start with '.'" },
                { "..", "lock driver name '..' must not start with '.'" },
        };
        guint i;

        for (i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_null(vmlock_lock_manager_new(cases[i].name, locking_test_plugin_dir(),
                                                      "/cfg", NULL, NULL, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
                g_assert_cmpstr(error->message, ==, cases[i].message);
        }
}

static void
test_plugin_not_found(void)
{
        assert_refused("absent", "lock driver plugin @PATH@ not found");
}

static void
test_plugin_not_loadable(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("vmlock-test-XXXXXX", &error);
        g_autofree char *path = NULL;
        g_autofree char *prefix = NULL;

        g_assert_no_error(error);
        path = g_build_filename(dir, "junk.so", NULL);
        g_assert_true(g_file_set_contents(path, "not a shared object\n", -1, &error));
        g_assert_no_error(error);

        g_assert_null(vmlock_lock_manager_new("junk", dir, "/cfg", NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
        prefix = g_strdup_printf("cannot load lock driver plugin %s: ", path);
        g_assert_true(g_str_has_prefix(error->message, prefix));
        /* dlerror() says why. */
        g_assert_cmpuint(strlen(error->message), >, strlen(prefix));

        g_assert_cmpint(unlink(path), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
}

static void
test_plugin_no_symbol(void)
{
        assert_refused("no-symbol", "lock driver plugin @PATH@ does not export 'vmlock_lock_driver'");
}

static void
test_plugin_bad_version(void)
{
        assert_refused("bad-version", "lock driver plugin @PATH@ has driver ABI version 1006000, "
                       "this library needs version 1005000");
}

static void
test_plugin_null_callback(void)
{
        assert_refused("null-callback", "lock driver plugin @PATH@ has no 'inquire' callback");
}

static void
test_plugin_init_fails(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_null(vmlock_lock_manager_new("init-fails", locking_test_plugin_dir(), "/cfg",
                                              NULL, NULL, &error));
        /* The driver's own error, unchanged: it already names its culprit. */
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==,
                        "/cfg/qemu-init-fails.conf:3: init-fails test driver refuses this config");
        g_assert_false(locking_test_plugin_is_loaded("init-fails"));
}

static void
test_plugin_init_error_propagates(void)
{
        g_autoptr(GError) error = NULL;

        g_setenv(TEST_DRIVER_FAIL_ENV, "init", TRUE);
        g_assert_null(vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/cfg", NULL,
                                              NULL, &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "test driver: injected failure in init");
        /* A driver that failed init is not deinit'ed. */
        locking_test_assert_calls("init version=1005000 config=/cfg/qemu-test-driver.conf flags=0");
}

static void
test_plugin_init_fails_silently(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = locking_test_plugin_path("test-driver");
        g_autofree char *message = NULL;

        g_setenv(TEST_DRIVER_FAIL_ENV, "init:silent", TRUE);
        g_assert_null(vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/cfg",
                                              NULL, NULL, &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
        message = g_strdup_printf("lock driver %s failed to initialise", path);
        g_assert_cmpstr(error->message, ==, message);
        g_strfreev(locking_test_take_calls());
}

static void
progress_cb(const char *message, gpointer user_data)
{
        g_ptr_array_add(user_data, g_strdup(message));
}

static void
test_plugin_loads(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) progress = g_ptr_array_new_with_free_func(g_free);
        VmlockLockManager *manager;

        g_strfreev(locking_test_take_calls());
        manager = vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/etc/vm",
                                          progress_cb, progress, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_lock_manager_get_name(manager), ==, "test-driver");
        g_assert_cmpstr(vmlock_lock_manager_get_config_file(manager), ==,
                        "/etc/vm/qemu-test-driver.conf");
        g_assert_true(vmlock_lock_manager_uses_state(manager));
        g_assert_cmpuint(progress->len, ==, 1);
        g_assert_cmpstr(progress->pdata[0], ==, "test driver: initialising");
        locking_test_assert_calls("init version=1005000 config=/etc/vm/qemu-test-driver.conf flags=0");

        vmlock_lock_manager_unref(manager);
        locking_test_assert_calls("deinit");
}

/* Two managers on one plugin share it: one init, one deinit after the last. */
static void
test_plugin_shared(void)
{
        g_autoptr(GError) error = NULL;
        VmlockLockManager *first, *second;

        g_strfreev(locking_test_take_calls());
        first = vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/etc/vm",
                                        NULL, NULL, &error);
        g_assert_no_error(error);
        second = vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/etc/vm",
                                         NULL, NULL, &error);
        g_assert_no_error(error);
        locking_test_assert_calls("init version=1005000 config=/etc/vm/qemu-test-driver.conf flags=0");

        /* Its state is process-wide: a second config can't be honoured. */
        g_assert_null(vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/other",
                                              NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
        g_assert_nonnull(strstr(error->message, "/etc/vm/qemu-test-driver.conf"));
        g_assert_nonnull(strstr(error->message, "/other/qemu-test-driver.conf"));

        vmlock_lock_manager_unref(first);
        locking_test_assert_no_calls();
        vmlock_lock_manager_unref(second);
        locking_test_assert_calls("deinit");
}

static void
test_dirs_env(void)
{
        if (g_test_subprocess()) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockLockManager) manager = NULL;

                /* VMLOCK_PLUGIN_DIR (set by meson) finds test-driver.so. */
                g_setenv("VMLOCK_CONFIG_DIR", "/env-cfg", TRUE);
                manager = vmlock_lock_manager_new("test-driver", NULL, NULL, NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_lock_manager_get_config_file(manager), ==,
                                "/env-cfg/qemu-test-driver.conf");

                /* Arguments win over the environment. */
                g_assert_null(vmlock_lock_manager_new("test-driver", "/arg-dir", NULL, NULL, NULL,
                                                      &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
                g_assert_cmpstr(error->message, ==,
                                "lock driver plugin /arg-dir/test-driver.so not found");
                g_clear_error(&error);
                g_clear_pointer(&manager, vmlock_lock_manager_unref);
                manager = vmlock_lock_manager_new("nop", NULL, "/arg-cfg", NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_lock_manager_get_config_file(manager), ==,
                                "/arg-cfg/qemu-nop.conf");

                /* The same rule for the tools' own directories. */
                g_setenv("VMLOCK_TEST_DIR", "/env-dir", TRUE);
                g_assert_cmpstr(vmlock_resolve_dir("/arg", "VMLOCK_TEST_DIR", "/def"), ==,
                                "/arg");
                g_assert_cmpstr(vmlock_resolve_dir("", "VMLOCK_TEST_DIR", "/def"), ==,
                                "/env-dir");
                g_setenv("VMLOCK_TEST_DIR", "", TRUE);
                g_assert_cmpstr(vmlock_resolve_dir(NULL, "VMLOCK_TEST_DIR", "/def"), ==,
                                "/def");
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void
test_dirs_default(void)
{
        g_assert_cmpstr(vmlock_default_plugin_dir(), ==, VMLOCK_PLUGIN_DIR);
        g_assert_cmpstr(vmlock_default_config_dir(), ==, VMLOCK_CONFIG_DIR);

        if (g_test_subprocess()) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockLockManager) manager = NULL;
                g_autofree char *config = NULL;
                g_autofree char *message = NULL;

                g_unsetenv("VMLOCK_PLUGIN_DIR");
                /* Empty is as good as unset. */
                g_setenv("VMLOCK_CONFIG_DIR", "", TRUE);

                g_assert_cmpstr(vmlock_resolve_config_dir(NULL), ==, VMLOCK_CONFIG_DIR);
                g_assert_cmpstr(vmlock_resolve_config_dir(""), ==, VMLOCK_CONFIG_DIR);
                g_assert_cmpstr(vmlock_resolve_config_dir("/opt"), ==, "/opt");
                g_setenv("VMLOCK_CONFIG_DIR", "/env", TRUE);
                g_assert_cmpstr(vmlock_resolve_config_dir(NULL), ==, "/env");
                g_assert_cmpstr(vmlock_resolve_config_dir("/opt"), ==, "/opt");
                g_setenv("VMLOCK_CONFIG_DIR", "", TRUE);

                manager = vmlock_lock_manager_new("nop", NULL, NULL, NULL, NULL, &error);
                g_assert_no_error(error);
                config = g_build_filename(VMLOCK_CONFIG_DIR, "qemu-nop.conf", NULL);
                g_assert_cmpstr(vmlock_lock_manager_get_config_file(manager), ==, config);

                g_assert_null(vmlock_lock_manager_new("vmlock-test-absent", NULL, NULL, NULL,
                                                      NULL, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN);
                message = g_strdup_printf("lock driver plugin %s/vmlock-test-absent.so not found",
                                          VMLOCK_PLUGIN_DIR);
                g_assert_cmpstr(error->message, ==, message);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void
test_refcount(void)
{
        g_autoptr(GError) error = NULL;
        VmlockLockManager *manager = load_test_driver("/cfg");
        LockObject *object;

        g_assert_true(vmlock_lock_manager_ref(manager) == manager);
        vmlock_lock_manager_unref(manager);
        locking_test_assert_no_calls();

        /* An object keeps its manager, and so its driver, alive. */
        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error);
        g_assert_no_error(error);
        vmlock_lock_manager_unref(manager);
        g_assert_true(lock_object_inquire(object, NULL, 0, &error));
        g_assert_no_error(error);
        lock_object_free(object);
        locking_test_assert_calls("new type=domain flags=0",
                                  "inquire state=no flags=0",
                                  "free name=(null)",
                                  "deinit");

        vmlock_lock_manager_unref(NULL);
        lock_object_free(NULL);
}

static void
test_unload(void)
{
        if (g_test_subprocess()) {
                g_autoptr(GError) error = NULL;
                VmlockLockManager *manager;

                g_assert_false(locking_test_plugin_is_loaded("test-driver"));
                manager = vmlock_lock_manager_new("test-driver", NULL, "/cfg", NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_true(locking_test_plugin_is_loaded("test-driver"));
                vmlock_lock_manager_unref(manager);
                g_assert_false(locking_test_plugin_is_loaded("test-driver"));
                return;
        }
        /* A fresh process: the others keep test-driver.so loaded to read its calls. */
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void
test_object_calls(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        g_autoptr(LockObject) object = NULL;
        g_autofree char *state = NULL;
        g_autofree char *state2 = NULL;
        VmlockLockParam params[] = {
                { .type = VMLOCK_LOCK_PARAM_UUID, .key = "uuid",
                  .value.uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
                { .type = VMLOCK_LOCK_PARAM_STRING, .key = "name", .value.str = "guest" },
                { .type = VMLOCK_LOCK_PARAM_INT, .key = "id", .value.i = -1 },
                { .type = VMLOCK_LOCK_PARAM_UINT, .key = "pid", .value.ui = 4242 },
                { .type = VMLOCK_LOCK_PARAM_STRING, .key = "uri", .value.str = NULL },
        };
        VmlockLockParam lease_params[] = {
                { .type = VMLOCK_LOCK_PARAM_STRING, .key = "path", .value.str = "/leases/x" },
                { .type = VMLOCK_LOCK_PARAM_ULONG, .key = "offset",
                  .value.ul = G_GUINT64_CONSTANT(0x100000000) },
        };
        int fd = -2;

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, params,
                                 G_N_ELEMENTS(params), VMLOCK_LOCK_NEW_STARTED, &error);
        g_assert_no_error(error);
        g_assert_true(lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_LEASE, "key",
                                               lease_params, G_N_ELEMENTS(lease_params), 0,
                                               &error));
        g_assert_no_error(error);
        g_assert_true(lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK, "/d", NULL, 0,
                                               VMLOCK_LOCK_RESOURCE_SHARED, &error));
        g_assert_no_error(error);
        g_assert_true(lock_object_acquire(object, NULL, VMLOCK_LOCK_ACQUIRE_RESTRICT,
                                          VMLOCK_LOCK_FAILURE_PAUSE, &fd, &error));
        g_assert_no_error(error);
        /* The driver's fd comes back to the caller, who owns it. */
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
        g_assert_cmpint(close(fd), ==, 0);
        g_assert_true(lock_object_release(object, &state, 0, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(state, "state-"));
        g_assert_true(lock_object_inquire(object, &state2, 0, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(state2, "state-"));
        g_assert_cmpstr(state, !=, state2);
        g_clear_pointer(&object, lock_object_free);

        locking_test_assert_calls(
                "new type=domain flags=started uuid=uuid:12345678-9abc-def0-0123-456789abcdef "
                "name=string:guest id=int:-1 pid=uint:4242 uri=string:(null)",
                "add_resource type=lease name=key flags=0 path=string:/leases/x "
                "offset=ulong:4294967296",
                "add_resource type=disk name=/d flags=shared",
                "acquire state=(null) flags=restrict action=pause fd=yes",
                "release state=yes flags=0",
                "inquire state=yes flags=0",
                "free name=guest");
}

static void
test_object_driver_errors(void)
{
        static const char *const callbacks[] = { "add_resource", "acquire", "release",
                                                  "inquire" };
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        guint i;

        for (i = 0; i < G_N_ELEMENTS(callbacks); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(LockObject) object = NULL;
                g_autofree char *message = NULL;
                char *state = NOT_WRITTEN;
                int fd = 1234;
                gboolean ok = FALSE;

                object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0,
                                         &error);
                g_assert_no_error(error);
                g_setenv(TEST_DRIVER_FAIL_ENV, callbacks[i], TRUE);
                switch (i) {
                case 0:
                        ok = lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK, "/d",
                                                      NULL, 0, 0, &error);
                        break;
                case 1:
                        ok = lock_object_acquire(object, NULL, 0, VMLOCK_LOCK_FAILURE_DEFAULT,
                                                 &fd, &error);
                        break;
                case 2:
                        ok = lock_object_release(object, &state, 0, &error);
                        break;
                case 3:
                        ok = lock_object_inquire(object, &state, 0, &error);
                        break;
                }
                g_unsetenv(TEST_DRIVER_FAIL_ENV);
                g_assert_false(ok);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
                message = g_strdup_printf("test driver: injected failure in %s", callbacks[i]);
                g_assert_cmpstr(error->message, ==, message);
                /* Out-params are written on success only. */
                g_assert_true(state == NOT_WRITTEN);
                g_assert_cmpint(fd, ==, 1234);
        }
        g_strfreev(locking_test_take_calls());
}

static void
test_object_driver_errors_silent(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        g_autoptr(LockObject) object = NULL;
        int fd = 1234;

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error);
        g_assert_no_error(error);
        g_setenv(TEST_DRIVER_FAIL_ENV, "acquire:silent", TRUE);
        g_assert_false(lock_object_acquire(object, NULL, 0, VMLOCK_LOCK_FAILURE_DEFAULT, &fd,
                                           &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        /* A driver bug still reaches the caller as an error. */
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_cmpstr(error->message, ==,
                        "lock driver test-driver: acquire failed without saying why");
        g_assert_cmpint(fd, ==, 1234);
        g_clear_pointer(&object, lock_object_free);
        g_strfreev(locking_test_take_calls());
}

static void
test_object_new_fails(void)
{
        g_autoptr(GError) error = NULL;
        VmlockLockManager *manager = load_test_driver("/cfg");

        g_setenv(TEST_DRIVER_FAIL_ENV, "new", TRUE);
        g_assert_null(lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        /* No free for an object the driver did not make, and no reference kept. */
        vmlock_lock_manager_unref(manager);
        locking_test_assert_calls("new type=domain flags=0", "deinit");
}

static void
test_object_null_args(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        g_autoptr(LockObject) object = NULL;

        g_assert_null(lock_object_new(NULL, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_null(lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 2, 0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, NULL, 0, 0, &error);
        g_assert_no_error(error);
        g_assert_false(lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK, NULL, NULL,
                                                0, 0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_add_resource(NULL, VMLOCK_LOCK_RESOURCE_DISK, "/d", NULL, 0,
                                                0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_acquire(NULL, NULL, 0, VMLOCK_LOCK_FAILURE_DEFAULT, NULL,
                                           &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_release(NULL, NULL, 0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(lock_object_inquire(NULL, NULL, 0, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_pointer(&object, lock_object_free);
        g_strfreev(locking_test_take_calls());
}

/* ---- describe_disk ---------------------------------------------------- */

/* A driver without the optional callback (the built-in nop) cannot tell. */
static void
test_describe_unsupported(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        char *description = NOT_WRITTEN;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_false(vmlock_lock_manager_describe_disk(manager, "/d", &description,
                                                          &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_cmpstr(error->message, ==, "lock driver nop cannot tell who holds disk /d");
        g_assert_true(description == NOT_WRITTEN);
}

static void
test_describe_calls_driver(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        g_autofree char *description = NULL;

        g_assert_true(vmlock_lock_manager_describe_disk(manager, "/d", &description, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(description, ==, "test driver: /d is free");
        locking_test_assert_calls("describe_resource type=disk name=/d flags=0");
}

static void
test_describe_errors(void)
{
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        char *description = NOT_WRITTEN;
        GError *error = NULL;

        g_setenv(TEST_DRIVER_FAIL_ENV, "describe_resource", TRUE);
        g_assert_false(vmlock_lock_manager_describe_disk(manager, "/d", &description,
                                                          &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "test driver: injected failure in describe_resource");
        g_clear_error(&error);

        g_setenv(TEST_DRIVER_FAIL_ENV, "describe_resource:silent", TRUE);
        g_assert_false(vmlock_lock_manager_describe_disk(manager, "/d", &description,
                                                          &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_cmpstr(error->message, ==,
                        "lock driver test-driver: describe_resource failed without saying why");
        g_clear_error(&error);
        g_assert_true(description == NOT_WRITTEN);

        /* No driver call for what the core can refuse itself. */
        g_strfreev(locking_test_take_calls());
        g_assert_false(vmlock_lock_manager_describe_disk(manager, NULL, &description, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_lock_manager_describe_disk(manager, "/d", NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_lock_manager_describe_disk(NULL, "/d", &description, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        locking_test_assert_no_calls();
        g_assert_true(description == NOT_WRITTEN);
}

/* ---- wait_released ---------------------------------------------------- */

/* The nop driver releases as it is asked: nothing to wait for. */
static void
test_wait_released_nop(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        gboolean released = FALSE;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_true(vmlock_lock_manager_wait_released(manager, "a b", 1000, &released,
                                                        &error));
        g_assert_no_error(error);
        g_assert_true(released);
}

/* nop has no daemon: nothing to connect to, nothing to ask. */
static void
test_watch_nop(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *state = NULL;
        int fd = 42;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_true(vmlock_lock_manager_daemon_connect(manager, &fd, &error));
        g_assert_no_error(error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_false(vmlock_lock_manager_process_state(manager, 1, &state, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_null(state);
        g_clear_error(&error);
        g_assert_false(vmlock_lock_manager_process_state(manager, 0, &state, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

/* daemon_connect and process_state come as a pair. */
static void
test_watch_half(void)
{
        assert_refused("half-watch", "lock driver plugin @PATH@ has no 'process_state' callback");
}

static void
test_wait_released_calls_driver(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        gboolean released = FALSE;

        g_assert_true(vmlock_lock_manager_wait_released(manager, "a b", 250, &released,
                                                        &error));
        g_assert_no_error(error);
        g_assert_true(released);
        locking_test_assert_calls("wait_released state=a b timeout_ms=250 flags=0");

        g_assert_true(vmlock_lock_manager_wait_released(manager, "a stuck", 250, &released,
                                                        &error));
        g_assert_no_error(error);
        g_assert_false(released);
        g_strfreev(locking_test_take_calls());

        /* Nothing held: no call. */
        released = FALSE;
        g_assert_true(vmlock_lock_manager_wait_released(manager, NULL, 250, &released,
                                                        &error));
        g_assert_true(released);
        locking_test_assert_no_calls();
}

static void
test_wait_released_errors(void)
{
        g_autoptr(VmlockLockManager) manager = load_test_driver("/cfg");
        gboolean released = TRUE;
        GError *error = NULL;

        g_setenv(TEST_DRIVER_FAIL_ENV, "wait_released", TRUE);
        g_assert_false(vmlock_lock_manager_wait_released(manager, "a", 250, &released,
                                                         &error));
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "test driver: injected failure in wait_released");
        g_clear_error(&error);
        g_strfreev(locking_test_take_calls());

        g_assert_false(vmlock_lock_manager_wait_released(manager, "a", 250, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_lock_manager_wait_released(NULL, "a", 250, &released, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        locking_test_assert_no_calls();
        g_assert_true(released);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/locking/manager/nop/no-plugin-dir", test_nop_no_plugin_dir);
        g_test_add_func("/locking/manager/nop/config-file", test_nop_config_file);
        g_test_add_func("/locking/manager/nop/object", test_nop_object);
        g_test_add_func("/locking/manager/nop/unknown-flags", test_nop_unknown_flags);
        g_test_add_func("/locking/manager/name/null", test_name_null);
        g_test_add_func("/locking/manager/name/refused", test_name_refused);
        g_test_add_func("/locking/manager/plugin/not-found", test_plugin_not_found);
        g_test_add_func("/locking/manager/plugin/not-loadable", test_plugin_not_loadable);
        g_test_add_func("/locking/manager/plugin/no-symbol", test_plugin_no_symbol);
        g_test_add_func("/locking/manager/plugin/bad-version", test_plugin_bad_version);
        g_test_add_func("/locking/manager/plugin/null-callback", test_plugin_null_callback);
        g_test_add_func("/locking/manager/plugin/init-fails", test_plugin_init_fails);
        g_test_add_func("/locking/manager/plugin/init-error-propagates",
                        test_plugin_init_error_propagates);
        g_test_add_func("/locking/manager/plugin/init-fails-silently",
                        test_plugin_init_fails_silently);
        g_test_add_func("/locking/manager/plugin/loads", test_plugin_loads);
        g_test_add_func("/locking/manager/plugin/shared", test_plugin_shared);
        g_test_add_func("/locking/manager/dirs/env", test_dirs_env);
        g_test_add_func("/locking/manager/dirs/default", test_dirs_default);
        g_test_add_func("/locking/manager/refcount", test_refcount);
        g_test_add_func("/locking/manager/unload", test_unload);
        g_test_add_func("/locking/object/calls", test_object_calls);
        g_test_add_func("/locking/object/driver-errors", test_object_driver_errors);
        g_test_add_func("/locking/object/driver-errors-silent",
                        test_object_driver_errors_silent);
        g_test_add_func("/locking/object/new-fails", test_object_new_fails);
        g_test_add_func("/locking/object/null-args", test_object_null_args);
        g_test_add_func("/locking/manager/describe/unsupported", test_describe_unsupported);
        g_test_add_func("/locking/manager/describe/calls-driver", test_describe_calls_driver);
        g_test_add_func("/locking/manager/describe/errors", test_describe_errors);
        g_test_add_func("/locking/manager/wait-released/nop", test_wait_released_nop);
        g_test_add_func("/locking/manager/wait-released/calls-driver",
                        test_wait_released_calls_driver);
        g_test_add_func("/locking/manager/wait-released/errors", test_wait_released_errors);
        g_test_add_func("/locking/manager/watch/nop", test_watch_nop);
        g_test_add_func("/locking/manager/watch/half", test_watch_half);

        return g_test_run();
}
