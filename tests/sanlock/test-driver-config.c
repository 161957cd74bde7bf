/* vmlock tests: the sanlock driver's setup on a real host, and what each bad config says. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sanlock-test-util.h"

typedef struct {
        const char *config_dir;
        const char *run_dir;            /* replaces the host's SANLOCK_RUN_DIR when set */
        gboolean drop_dac;              /* lose root's power over file modes */
} InitData;

/* Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, root obeys file modes. */
static gboolean
drop_dac_capabilities(void)
{
        struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2] = { { 0 } };
        guint32 dac = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

        if (syscall(SYS_capget, &header, data) < 0)
                return FALSE;
        data[0].effective &= ~dac;
        return syscall(SYS_capset, &header, data) == 0;
}

static gboolean
init_driver(gpointer data, GString *reply, GError **error)
{
        InitData *init = data;
        g_autoptr(VmlockLockManager) manager = NULL;

        if (init->run_dir && setenv("SANLOCK_RUN_DIR", init->run_dir, 1) < 0)
                g_error("setenv: %s", g_strerror(errno));
        if (init->drop_dac && !drop_dac_capabilities())
                g_error("cannot drop the DAC capabilities: %s", g_strerror(errno));
        manager = vmlock_lock_manager_new("sanlock", NULL, init->config_dir, NULL, NULL, error);
        return manager != NULL;
}

/* Loading the driver with @config_text as host @host_id fails with @code,
 * the message naming each of the NULL-terminated strings. */
static void
assert_init_fails(guint host_id, const char *config_text, const InitData *extra,
                  VmlockError code, ...)
{
        g_autofree char *dir = sanlock_test_config_dir_new(config_text);
        InitData init = { dir, NULL, FALSE };
        g_autoptr(GError) error = NULL;
        const char *part;
        va_list ap;

        if (extra) {
                init.run_dir = extra->run_dir;
                init.drop_dac = extra->drop_dac;
        }
        g_assert_false(sanlock_test_host_call(sanlock_test_host(host_id), init_driver, &init,
                                              NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, (int) code);
        va_start(ap, code);
        while ((part = va_arg(ap, const char *))) {
                if (!strstr(error->message, part))
                        g_error("expected a message naming '%s', got: %s", part,
                                error->message);
        }
        va_end(ap);
}

/* ---- a joined host ---------------------------------------------------------- */

static void
count_progress(const char *message, gpointer data)
{
        guint *count = data;

        (*count)++;
}

static gboolean
init_timed(gpointer data, GString *reply, GError **error)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        guint progress = 0;
        gint64 start = g_get_monotonic_time();

        manager = vmlock_lock_manager_new("sanlock", NULL, NULL, count_progress, &progress,
                                          error);
        if (!manager)
                return FALSE;
        g_string_append_printf(reply, "%u %" G_GINT64_FORMAT, progress,
                               g_get_monotonic_time() - start);
        return TRUE;
}

/* The harness joined both hosts: loading the driver costs no wait and
 * reports no progress. */
static void
test_joined_pays_nothing(void)
{
        for (guint id = 1; id <= SANLOCK_TEST_N_HOSTS; id++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *reply = NULL;
                guint progress;
                gint64 us;

                g_assert_true(sanlock_test_host_call(sanlock_test_host(id), init_timed, NULL,
                                                     &reply, &error));
                g_assert_no_error(error);
                g_assert_cmpint(sscanf(reply, "%u %" G_GINT64_FORMAT, &progress, &us), ==, 2);
                g_test_message("host %u: driver loaded in %" G_GINT64_FORMAT " us", id, us);
                g_assert_cmpuint(progress, ==, 0);
                g_assert_cmpint(us, <, G_USEC_PER_SEC);
        }
}

/* ---- bad configs ------------------------------------------------------------- */

static void
test_no_host_id(void)
{
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n",
                                                sanlock_test_harness()->lease_dir);

        assert_init_fails(1, text, NULL, VMLOCK_ERROR_CONFIG, "host_id", "qemu-sanlock.conf",
                          NULL);
}

static void
test_host_id_out_of_range(void)
{
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 2001\n",
                                                sanlock_test_harness()->lease_dir);

        assert_init_fails(1, text, NULL, VMLOCK_ERROR_CONFIG, "host_id", "2001", NULL);
}

/* This daemon is in the lockspace as host 1: it can't also be host 2. */
static void
test_wrong_host_id(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 2\n", h->lease_dir);

        assert_init_fails(1, text, NULL, VMLOCK_ERROR_LOCKSPACE, h->disk_lockspace_path,
                          "host_id 1", NULL);
}

static void
test_lease_dir_missing(void)
{
        g_autofree char *dir = g_build_filename(sanlock_test_scratch_dir(), "no-such-dir", NULL);
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 1\n", dir);

        assert_init_fails(1, text, NULL, VMLOCK_ERROR_LOCKSPACE, dir, NULL);
}

static void
test_lease_dir_not_a_dir(void)
{
        g_autofree char *name = sanlock_test_unique_name("file");
        g_autofree char *file = g_build_filename(sanlock_test_scratch_dir(), name, NULL);
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 2\n", file);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(file, "not a directory\n", -1, &error);
        g_assert_no_error(error);
        assert_init_fails(2, text, NULL, VMLOCK_ERROR_IO, file, NULL);
}

/* A directory with @mode, in which the driver must create the lockspace. */
static char *
lease_dir_with_mode(const char *prefix, mode_t mode)
{
        g_autofree char *name = sanlock_test_unique_name(prefix);
        char *dir = g_build_filename(sanlock_test_scratch_dir(), name, NULL);

        g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
        g_assert_cmpint(chmod(dir, mode), ==, 0);
        return dir;
}

static void
test_lease_dir_unwritable(void)
{
        g_autofree char *dir = lease_dir_with_mode("ro-dir", 0555);
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 1\n", dir);
        InitData extra = { NULL, NULL, geteuid() == 0 };

        assert_init_fails(1, text, &extra, VMLOCK_ERROR_IO, dir, NULL);
        g_assert_cmpint(chmod(dir, 0700), ==, 0);
}

static void
test_lease_dir_unreadable(void)
{
        g_autofree char *dir = lease_dir_with_mode("no-dir", 0);
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 2\n", dir);
        InitData extra = { NULL, NULL, geteuid() == 0 };

        assert_init_fails(2, text, &extra, VMLOCK_ERROR_IO, dir, NULL);
        g_assert_cmpint(chmod(dir, 0700), ==, 0);
}

static void
test_daemon_down(void)
{
        g_autofree char *name = sanlock_test_unique_name("no-daemon");
        g_autofree char *run_dir = g_build_filename(sanlock_test_short_dir(), name, NULL);
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\n"
                                                "host_id = 1\n",
                                                sanlock_test_harness()->lease_dir);
        InitData extra = { NULL, run_dir, FALSE };

        g_assert_cmpint(g_mkdir(run_dir, 0700), ==, 0);
        assert_init_fails(1, text, &extra, VMLOCK_ERROR_DAEMON, run_dir, NULL);
}

static void
test_bad_syntax(void)
{
        assert_init_fails(1, "auto_disk_leases = \"yes\"\n", NULL, VMLOCK_ERROR_CONFIG,
                          "qemu-sanlock.conf", "auto_disk_leases", NULL);
}

/* ---- manual mode ------------------------------------------------------------- */

typedef struct {
        const char *config_dir;
        VmlockDomain *dom;
} ManualStart;

static gboolean
start_with_config(gpointer data, int *ret_fd, GError **error)
{
        ManualStart *start = data;
        g_autoptr(VmlockLockManager) manager = NULL;

        manager = vmlock_lock_manager_new("sanlock", NULL, start->config_dir, NULL, NULL, error);
        if (!manager)
                return FALSE;
        vmlock_domain_set_pid(start->dom, getpid());
        return vmlock_domain_lock_process_start(manager, NULL, start->dom, FALSE, ret_fd, error);
}

static SanlockTestGuest *
start_manual(const char *config_dir, VmlockDomain *dom, GError **error)
{
        ManualStart start = { config_dir, dom };

        return sanlock_test_guest_start(sanlock_test_host(1), start_with_config, &start, error);
}

typedef struct {
        const char *config_dir;
        VmlockDomain *dom;
        pid_t pid;
        const VmlockDisk *disk;
} ManualAttach;

/* A disk hotplug into the running guest @pid, from another process. */
static gboolean
attach_with_config(gpointer data, GString *reply, GError **error)
{
        ManualAttach *attach = data;
        g_autoptr(VmlockLockManager) manager = NULL;

        manager = vmlock_lock_manager_new("sanlock", NULL, attach->config_dir, NULL, NULL,
                                          error);
        if (!manager)
                return FALSE;
        vmlock_domain_set_pid(attach->dom, attach->pid);
        return vmlock_domain_lock_disk_attach(manager, NULL, attach->dom, attach->disk, error);
}

static gboolean
attach_manual(const char *config_dir, VmlockDomain *dom, SanlockTestGuest *guest,
              const VmlockDisk *disk, GError **error)
{
        ManualAttach attach = { config_dir, dom, sanlock_test_guest_get_pid(guest), disk };

        return sanlock_test_host_call(sanlock_test_host(1), attach_with_config, &attach, NULL,
                                      error);
}

/* Without auto_disk_leases (libvirt's default, so also with no config file
 * at all), a guest with writable disks needs a <lease>; one that has a
 * <lease> may hotplug writable disks, one that has none may not. */
static void
require_lease(const char *config_text)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *dir = sanlock_test_config_dir_new(config_text);
        g_autofree char *disk = sanlock_test_disk_path("manual");
        g_autofree char *ro_disk = sanlock_test_disk_path("manual-ro");
        g_autofree char *hot_disk = sanlock_test_disk_path("manual-hot");
        g_autofree char *key = sanlock_test_unique_name("manual");
        g_autofree char *lease_path = g_build_filename(h->explicit_dir, key, NULL);
        g_autofree char *name1 = sanlock_test_unique_name("manual-rw");
        g_autofree char *name2 = sanlock_test_unique_name("manual-ro");
        g_autofree char *name3 = sanlock_test_unique_name("manual-lease");
        g_autoptr(VmlockDomain) rw = sanlock_test_domain_new(name1);
        g_autoptr(VmlockDomain) ro = sanlock_test_domain_new(name2);
        g_autoptr(VmlockDomain) leased = sanlock_test_domain_new(name3);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) ro_guest = NULL;
        g_autoptr(SanlockTestGuest) leased_guest = NULL;
        g_autoptr(VmlockDisk) hot = NULL;
        g_autoptr(GError) error = NULL;

        sanlock_test_domain_add_disk(rw, disk, FALSE, FALSE);
        guest = start_manual(dir, rw, &error);
        g_assert_null(guest);
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, disk));
        g_clear_error(&error);

        /* Readers need none. */
        sanlock_test_domain_add_disk(ro, ro_disk, TRUE, FALSE);
        ro_guest = start_manual(dir, ro, &error);
        g_assert_no_error(error);

        sanlock_test_write_resource(sanlock_test_host(1), h->test_lockspace, key, lease_path);
        sanlock_test_domain_add_disk(leased, disk, FALSE, FALSE);
        sanlock_test_domain_add_lease(leased, h->test_lockspace, key, lease_path);
        leased_guest = start_manual(dir, leased, &error);
        g_assert_no_error(error);

        hot = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, hot_disk, FALSE,
                              FALSE, &error);
        g_assert_no_error(error);
        g_assert_true(attach_manual(dir, leased, leased_guest, hot, &error));
        g_assert_no_error(error);

        g_assert_false(attach_manual(dir, ro, ro_guest, hot, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, hot_disk));
        g_assert_nonnull(strstr(error->message, "require_lease_for_disks"));
}

static void
test_require_lease(void)
{
        require_lease("auto_disk_leases = 0\n");
}

static void
test_no_config_file(void)
{
        require_lease(NULL);
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/driver/config/joined-pays-nothing", test_joined_pays_nothing);
        g_test_add_func("/driver/config/no-host-id", test_no_host_id);
        g_test_add_func("/driver/config/host-id-out-of-range", test_host_id_out_of_range);
        g_test_add_func("/driver/config/wrong-host-id", test_wrong_host_id);
        g_test_add_func("/driver/config/lease-dir-missing", test_lease_dir_missing);
        g_test_add_func("/driver/config/lease-dir-not-a-dir", test_lease_dir_not_a_dir);
        g_test_add_func("/driver/config/lease-dir-unwritable", test_lease_dir_unwritable);
        g_test_add_func("/driver/config/lease-dir-unreadable", test_lease_dir_unreadable);
        g_test_add_func("/driver/config/daemon-down", test_daemon_down);
        g_test_add_func("/driver/config/bad-syntax", test_bad_syntax);
        g_test_add_func("/driver/config/require-lease", test_require_lease);
        g_test_add_func("/driver/config/no-config-file", test_no_config_file);
        return g_test_run();
}
