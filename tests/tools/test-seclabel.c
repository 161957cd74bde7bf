/* vmlock: tests of the SELinux labeller (src/supervisor/seclabel.c), with libselinux stand-ins preloaded. */
#define _GNU_SOURCE /* pipe2, accept4 */

#include "config-build.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/vmlock.h>

#include "supervisor/seclabel.h"

/* Run with LD_PRELOAD=selinux-standin.so (meson does). */
#define LABEL "system_u:system_r:svirt_t:s0:c392,c662"

static const char domain_selinux[] =
        "<domain type='kvm'><name>g</name>"
        "<seclabel type='static' model='selinux' relabel='yes'>"
        "<label>" LABEL "</label></seclabel></domain>";
static const char domain_dac[] =
        "<domain type='kvm'><name>g</name>"
        "<seclabel type='static' model='dac'><label>+107:+107</label></seclabel></domain>";
static const char domain_none[] = "<domain type='kvm'><name>g</name></domain>";
static const char domain_dynamic[] =
        "<domain type='kvm'><name>g</name>"
        "<seclabel type='dynamic' model='selinux'/></domain>";

typedef struct {
        char *dir;
        char *log;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        if (!g_getenv("LD_PRELOAD") || !strstr(g_getenv("LD_PRELOAD"), "selinux-standin")) {
                g_test_skip("needs LD_PRELOAD=selinux-standin.so");
                return;
        }
        fx->dir = g_dir_make_tmp("vmlock-seclabel-XXXXXX", &error);
        g_assert_no_error(error);
        fx->log = g_build_filename(fx->dir, "selinux.log", NULL);
        g_setenv("VMLOCK_TEST_SELINUX_LOG", fx->log, TRUE);
        g_unsetenv("VMLOCK_TEST_SELINUX_ENABLED");
        g_unsetenv("VMLOCK_TEST_SELINUX_FAIL");
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
        if (fx->log)
                g_unlink(fx->log);
        if (fx->dir)
                g_rmdir(fx->dir);
        g_free(fx->log);
        g_free(fx->dir);
}

static VmlockDomain *
parse(const char *xml)
{
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_parse_string(xml, strlen(xml), "test.xml", &error);

        g_assert_no_error(error);
        return dom;
}

/* The stand-ins' calls, without the is_selinux_enabled probes. */
static GStrv
read_calls(const Fixture *fx)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

        if (!g_file_get_contents(fx->log, &text, NULL, NULL))
                return g_new0(char *, 1);
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                if (*lines[i] && !g_str_has_prefix(lines[i], "is_selinux_enabled"))
                        g_strv_builder_add(builder, lines[i]);
        }
        return g_strv_builder_end(builder);
}

static void
test_labels_fd_and_exec(Fixture *fx, gconstpointer data)
{
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) calls = NULL;
        g_autofree char *expect_fd = NULL;
        g_autofree char *expect_exec = NULL;
        struct stat st;
        int fds[2];

        if (!fx->log)
                return;
        dom = parse(domain_selinux);
        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        /* fds[1]: not the lowest fd, so only the right one matches. */
        g_assert_true(seclabel_apply(dom, fds[1], &error));
        g_assert_no_error(error);

        g_assert_cmpint(fstat(fds[1], &st), ==, 0);
        expect_fd = g_strdup_printf("fsetfilecon %d %d %llu:%llu " LABEL, (int)getpid(), fds[1],
                                    (unsigned long long)st.st_dev,
                                    (unsigned long long)st.st_ino);
        expect_exec = g_strdup_printf("setexeccon %d " LABEL, (int)getpid());
        calls = read_calls(fx);
        g_assert_cmpuint(g_strv_length(calls), ==, 2);
        g_assert_cmpstr(calls[0], ==, expect_fd);
        g_assert_cmpstr(calls[1], ==, expect_exec);
        close(fds[0]);
        close(fds[1]);
}

/* No lock fd (the nop driver): only the exec label. */
static void
test_no_fd(Fixture *fx, gconstpointer data)
{
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) calls = NULL;
        g_autofree char *expect_exec = NULL;

        if (!fx->log)
                return;
        dom = parse(domain_selinux);
        g_assert_true(seclabel_apply(dom, -1, &error));
        expect_exec = g_strdup_printf("setexeccon %d " LABEL, (int)getpid());
        calls = read_calls(fx);
        g_assert_cmpuint(g_strv_length(calls), ==, 1);
        g_assert_cmpstr(calls[0], ==, expect_exec);
}

/* Nothing to do: no seclabel, another model, no label, or SELinux off. */
static void
test_nothing(Fixture *fx, gconstpointer data)
{
        static const char *const xmls[] = { domain_none, domain_dac, domain_dynamic,
                                            domain_selinux };

        if (!fx->log)
                return;
        g_setenv("VMLOCK_TEST_SELINUX_ENABLED", "0", TRUE);
        for (gsize i = 0; i < G_N_ELEMENTS(xmls); i++) {
                g_autoptr(VmlockDomain) dom = parse(xmls[i]);
                g_autoptr(GError) error = NULL;
                g_auto(GStrv) calls = NULL;

                /* SELinux is only off for the last one (the selinux label). */
                if (i + 1 < G_N_ELEMENTS(xmls))
                        g_setenv("VMLOCK_TEST_SELINUX_ENABLED", "1", TRUE);
                else
                        g_setenv("VMLOCK_TEST_SELINUX_ENABLED", "0", TRUE);
                g_assert_true(seclabel_apply(dom, 0, &error));
                g_assert_no_error(error);
                calls = read_calls(fx);
                g_assert_cmpuint(g_strv_length(calls), ==, 0);
        }
}

static void
test_failures(Fixture *fx, gconstpointer data)
{
        static const char *const calls[] = { "fsetfilecon", "setexeccon" };

        if (!fx->log)
                return;
        for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
                g_autoptr(VmlockDomain) dom = parse(domain_selinux);
                g_autoptr(GError) error = NULL;

                g_setenv("VMLOCK_TEST_SELINUX_FAIL", calls[i], TRUE);
                g_assert_false(seclabel_apply(dom, 0, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                g_assert_nonnull(strstr(error->message, LABEL));
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add("/tools/seclabel/fd-and-exec", Fixture, NULL, fixture_setup,
                   test_labels_fd_and_exec, fixture_teardown);
        g_test_add("/tools/seclabel/no-fd", Fixture, NULL, fixture_setup, test_no_fd,
                   fixture_teardown);
        g_test_add("/tools/seclabel/nothing-to-do", Fixture, NULL, fixture_setup, test_nothing,
                   fixture_teardown);
        g_test_add("/tools/seclabel/failures", Fixture, NULL, fixture_setup, test_failures,
                   fixture_teardown);

        return g_test_run();
}
