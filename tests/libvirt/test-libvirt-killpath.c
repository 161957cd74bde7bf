/* vmlock tests: what vmlock.so asks sanlock to run for <on_lockfailure>
 * (libvirt's helper and its arguments), with no daemon. */
#include <glib.h>

#include <string.h>

#include <vmlock/error.h>

#include "libvirt/libvirt_killpath.h"

#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"

/* libvirt's helper takes exactly: uri uuid action. */
static void
test_args(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;

        g_unsetenv(VMLOCK_LIBVIRT_HELPER_ENV);
        g_assert_true(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_POWEROFF,
                                                    "qemu:///system", UUID, &path, &args,
                                                    &error));
        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, VMLOCK_LIBVIRT_HELPER);
        g_assert_cmpstr(args, ==, "qemu:///system " UUID " poweroff");
        g_clear_pointer(&path, g_free);
        g_clear_pointer(&args, g_free);

        g_assert_true(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_PAUSE,
                                                    "qemu:///system", UUID, &path, &args,
                                                    &error));
        g_assert_cmpstr(args, ==, "qemu:///system " UUID " pause");
}

/* sanlock splits at blanks: a blank or backslash in the URI is escaped. */
static void
test_escape(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;

        g_assert_true(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_PAUSE,
                                                    "qemu:///a b\\c", UUID, &path, &args,
                                                    &error));
        g_assert_cmpstr(args, ==, "qemu:///a\\ b\\\\c " UUID " pause");
}

static void
test_env_override(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;

        g_setenv(VMLOCK_LIBVIRT_HELPER_ENV, "/opt/helper", TRUE);
        g_assert_true(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_POWEROFF,
                                                    "qemu:///system", UUID, &path, &args,
                                                    &error));
        g_assert_cmpstr(path, ==, "/opt/helper");
        g_unsetenv(VMLOCK_LIBVIRT_HELPER_ENV);
}

/* restart would hang in the failed lockspace, ignore would leave the guest
 * writing without a lease. */
static void
test_refused(void)
{
        const LibvirtLockFailureAction refused[] = {
                LIBVIRT_LOCK_FAILURE_RESTART,
                LIBVIRT_LOCK_FAILURE_IGNORE,
        };

        for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *path = NULL;
                g_autofree char *args = NULL;

                g_assert_false(vmlock_libvirt_killpath_build(refused[i], "qemu:///system",
                                                             UUID, &path, &args, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
                g_assert_nonnull(strstr(error->message, "use poweroff or pause"));
                g_assert_null(path);
        }
}

/* sanlock would cut them silently at 127 bytes. */
static void
test_too_long(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;
        g_autofree char *uri = g_strnfill(120, 'x');

        g_assert_false(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_POWEROFF, uri, UUID,
                                                     &path, &args, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "longer than 127 bytes"));
}

static void
test_no_uri(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;

        g_assert_false(vmlock_libvirt_killpath_build(LIBVIRT_LOCK_FAILURE_POWEROFF, NULL, UUID,
                                                     &path, &args, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "no URI"));
}

/* No helper installed: nothing registered (sanlock's own SIGTERM/SIGKILL
 * applies), no error, and no daemon asked (the socket is not used). */
static void
test_missing_helper(void)
{
        g_autoptr(GError) error = NULL;

        g_setenv(VMLOCK_LIBVIRT_HELPER_ENV, "/nonexistent/libvirt_sanlock_helper", TRUE);
        g_assert_true(vmlock_libvirt_killpath_register(-1, LIBVIRT_LOCK_FAILURE_POWEROFF,
                                                       "qemu:///system", UUID, &error));
        g_assert_no_error(error);
        g_unsetenv(VMLOCK_LIBVIRT_HELPER_ENV);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/libvirt/killpath/args", test_args);
        g_test_add_func("/libvirt/killpath/escape", test_escape);
        g_test_add_func("/libvirt/killpath/env-override", test_env_override);
        g_test_add_func("/libvirt/killpath/refused", test_refused);
        g_test_add_func("/libvirt/killpath/too-long", test_too_long);
        g_test_add_func("/libvirt/killpath/no-uri", test_no_uri);
        g_test_add_func("/libvirt/killpath/missing-helper", test_missing_helper);
        return g_test_run();
}
