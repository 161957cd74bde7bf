/* vmlock sanlock driver: unit tests of the parts that need no daemon. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sanlock.h>
#include <sanlock_rv.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_damage.h"
#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_file.h"
#include "drivers/sanlock/sanlock_killpath.h"
#include "drivers/sanlock/sanlock_lease.h"
#include "drivers/sanlock/sanlock_lockspace.h"
#include "drivers/sanlock/sanlock_trust.h"

static char *
write_conf(const char *dir, const char *text)
{
        char *path = g_build_filename(dir, "qemu-sanlock.conf", NULL);

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        return path;
}

static void
test_config_defaults(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;

        config = vmlock_sanlock_config_load("/nonexistent/qemu-sanlock.conf", &error);
        g_assert_no_error(error);
        g_assert_false(config->auto_disk_leases);
        g_assert_cmpstr(config->disk_lease_dir, ==, VMLOCK_DEFAULT_LEASE_DIR);
        g_assert_cmpuint(config->host_id, ==, 0);
        g_assert_true(config->require_lease_for_disks);
        g_assert_cmpuint(config->io_timeout, ==, 0);
        g_assert_true(config->user == (uid_t)-1);
        g_assert_true(config->group == (gid_t)-1);
}

static void
test_config_auto(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;
        g_autofree char *dir = g_dir_make_tmp("vmlock-sanlock-XXXXXX", NULL);
        g_autofree char *path = write_conf(dir, "auto_disk_leases = 1\n"
                                           "disk_lease_dir = \"/srv/leases\"\n"
                                           "host_id = 2000\nio_timeout = 5\n"
                                           "user = \"+107\"\ngroup = \"root\"\n");

        config = vmlock_sanlock_config_load(path, &error);
        g_assert_no_error(error);
        g_assert_true(config->auto_disk_leases);
        g_assert_cmpstr(config->disk_lease_dir, ==, "/srv/leases");
        g_assert_cmpuint(config->host_id, ==, 2000);
        /* default follows auto_disk_leases */
        g_assert_false(config->require_lease_for_disks);
        g_assert_cmpuint(config->io_timeout, ==, 5);
        g_assert_cmpint(config->user, ==, 107);
        g_assert_cmpint(config->group, ==, 0);
        g_unlink(path);
        g_rmdir(dir);
}

static void
check_bad_config(const char *text, const char *expect)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;
        g_autofree char *dir = g_dir_make_tmp("vmlock-sanlock-XXXXXX", NULL);
        g_autofree char *path = write_conf(dir, text);

        config = vmlock_sanlock_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_nonnull(strstr(error->message, path));
        g_assert_nonnull(strstr(error->message, expect));
        g_unlink(path);
        g_rmdir(dir);
}

static void
test_config_bad(void)
{
        check_bad_config("auto_disk_lease = 1\n",
                         "unknown key 'auto_disk_lease' (did you mean 'auto_disk_leases'?)");
        check_bad_config("auto_disk_leases = 1\n", "needs host_id");
        check_bad_config("host_id = 2001\n", "out of range");
        check_bad_config("disk_lease_dir = \"relative/dir\"\n", "absolute");
        check_bad_config("user = \"no-such-user-here\"\n", "no such user");
        check_bad_config("group = \"+x\"\n", "no such group");
        check_bad_config("auto_disk_leases = 2\n", "auto_disk_leases");
        check_bad_config("host_id = \"one\"\n", "host_id");
}

static void
test_lease_name(void)
{
        g_autofree char *name =
                vmlock_sanlock_disk_lease_name("/var/lib/libvirt/images/demo.img");

        /* the value libvirt's documentation shows */
        g_assert_cmpstr(name, ==, "bfa0240911bc17753e0b473688822159");
}

static void
test_lease_disk(void)
{
        g_autoptr(GError) error = NULL;
        VmlockSanlockConfig config = { .disk_lease_dir = (char *)"/leases" };
        g_autoptr(VmlockSanlockLease) lease = NULL;

        lease = vmlock_sanlock_disk_lease_new(&config, "/var/lib/libvirt/images/demo.img", TRUE,
                                              &error);
        g_assert_no_error(error);
        g_assert_cmpstr(lease->label, ==, "disk /var/lib/libvirt/images/demo.img");
        g_assert_cmpstr(lease->res->lockspace_name, ==, VMLOCK_SANLOCK_DISK_LOCKSPACE);
        g_assert_cmpstr(lease->res->name, ==, "bfa0240911bc17753e0b473688822159");
        g_assert_cmpstr(lease->res->disks[0].path, ==,
                        "/leases/bfa0240911bc17753e0b473688822159");
        g_assert_cmpuint(lease->res->disks[0].offset, ==, 0);
        g_assert_cmpuint(lease->res->num_disks, ==, 1);
        g_assert_cmpuint(lease->res->flags, ==, SANLK_RES_SHARED);
}

static void
test_lease_limits(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *long_name = g_strnfill(SANLK_NAME_LEN, 'k');
        g_autofree char *long_path = g_strnfill(SANLK_PATH_LEN, 'p');
        g_autofree char *colons = g_strnfill(SANLK_PATH_LEN / 2, ':');
        g_autofree char *colon_path = g_strconcat("/", colons, NULL);
        VmlockSanlockLease *lease;

        long_path[0] = '/';
        lease = vmlock_sanlock_lease_new("lease x", "LS", long_name, "/p", 0, FALSE, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        lease = vmlock_sanlock_lease_new("lease x", long_name, "k", "/p", 0, FALSE, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        lease = vmlock_sanlock_lease_new("lease x", "LS", "k", long_path, 0, FALSE, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        /* escaped in state strings, so they count twice */
        lease = vmlock_sanlock_lease_new("lease x", "LS", "k", colon_path, 0, FALSE, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        lease = vmlock_sanlock_lease_new("lease x", "LS", "k", "relative", 0, FALSE, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        lease = vmlock_sanlock_lease_new("lease x", "LS", "k", "/p", 1048576, FALSE, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(lease->res->disks[0].offset, ==, 1048576);
        vmlock_sanlock_lease_free(lease);
}

static void
test_killpath(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *args = NULL;
        const char *uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";

        g_unsetenv(VMLOCK_SANLOCK_HELPER_ENV);
        g_assert_true(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_POWEROFF, NULL, uuid, &path,
                                                    &args, &error));
        g_assert_cmpstr(path, ==, VMLOCK_LIBEXEC_DIR "/vmlock-lockfailure-helper");
        g_assert_cmpstr(args, ==, "poweroff - c7a5fdbd-edaf-9455-926a-d65c16db1809");
        g_clear_pointer(&path, g_free);
        g_clear_pointer(&args, g_free);

        g_setenv(VMLOCK_SANLOCK_HELPER_ENV, "/opt/my helper", TRUE);
        g_assert_true(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_PAUSE, "vmlock:///a b", "a b\\c", &path,
                                                    &args, &error));
        g_assert_cmpstr(path, ==, "/opt/my helper");
        g_assert_cmpstr(args, ==, "pause vmlock:///a\\ b a\\ b\\\\c");
        g_clear_pointer(&path, g_free);
        g_clear_pointer(&args, g_free);

        g_assert_false(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_RESTART, NULL, uuid, &path,
                                                     &args, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_clear_error(&error);
        g_assert_false(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_IGNORE, NULL, uuid, &path,
                                                     &args, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_clear_error(&error);

        {
                g_autofree char *longer = g_strnfill(SANLK_HELPER_PATH_LEN, 'h');

                longer[0] = '/';
                g_setenv(VMLOCK_SANLOCK_HELPER_ENV, longer, TRUE);
                g_assert_false(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_PAUSE, NULL, uuid,
                                                             &path, &args, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                g_clear_error(&error);
        }
        g_setenv(VMLOCK_SANLOCK_HELPER_ENV, "relative-helper", TRUE);
        g_assert_false(vmlock_sanlock_killpath_build(VMLOCK_LOCK_FAILURE_PAUSE, NULL, uuid, &path,
                                                     &args, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_unsetenv(VMLOCK_SANLOCK_HELPER_ENV);
}

static void
check_error(int rv, VmlockSanlockOp op, int code, const char *expect)
{
        g_autoptr(GError) error = NULL;
        VmlockSanlockErrorContext ctx = {
                .op = op,
                .subject = "disk /images/a.img",
                .lockspace = "LS",
                .path = "/leases/abc",
                .holder = op == VMLOCK_SANLOCK_OP_ACQUIRE ? "host 2 (node-b)" : NULL,
                .host_id = 7,
                .pid = 42,
        };

        vmlock_sanlock_set_error(&error, rv, &ctx);
        g_assert_error(error, VMLOCK_ERROR, code);
        if (!strstr(error->message, expect))
                g_error("message for %d: '%s' lacks '%s'", rv, error->message, expect);
}

static void
test_errors(void)
{
        check_error(SANLK_ACQUIRE_IDLIVE, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_LEASE_BUSY,
                    "disk /images/a.img is in use by host 2 (node-b)");
        check_error(-EEXIST, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_LEASE_BUSY,
                    "in use by another guest on this host");
        check_error(-EBUSY, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_LEASE_BUSY,
                    "disk /images/a.img");
        check_error(SANLK_ACQUIRE_LVER, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_LEASE_STATE,
                    "state mismatch");
        check_error(-ENOSPC, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_LOCKSPACE,
                    "not joined lockspace LS");
        check_error(-ECONNREFUSED, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_DAEMON,
                    "not running");
        check_error(-ENOENT, VMLOCK_SANLOCK_OP_CONNECT, VMLOCK_ERROR_DAEMON, "sanlock.sock");
        check_error(-ENOENT, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_IO, "/leases/abc");
        check_error(SANLK_LEADER_MAGIC, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_IO,
                    "/leases/abc holds no initialised sanlock lease");
        check_error(SANLK_HOSTID_BUSY, VMLOCK_SANLOCK_OP_LOCKSPACE, VMLOCK_ERROR_LOCKSPACE,
                    "host_id 7 is in use by another host");
        check_error(-ESRCH, VMLOCK_SANLOCK_OP_INQUIRE, VMLOCK_ERROR_INVALID_ARG,
                    "process 42 is not registered");
        check_error(-EPERM, VMLOCK_SANLOCK_OP_RELEASE, VMLOCK_ERROR_LEASE_STATE,
                    "does not hold");
        check_error(-ENOMEM, VMLOCK_SANLOCK_OP_ACQUIRE, VMLOCK_ERROR_INTERNAL,
                    "sanlock error -12");
        check_error(-EIO, VMLOCK_SANLOCK_OP_LOCKSPACE, VMLOCK_ERROR_LOCKSPACE,
                    "cannot set up disk /images/a.img");
}

/* A stand-in for the daemon's initialisation: slow enough for racers to
 * overlap, and counting how often it runs. */
static gint init_runs;

static gboolean
fake_init(const char *tmp_path, int fd, gpointer data, GError **error)
{
        g_autofree char *base = g_path_get_basename(tmp_path);

        g_atomic_int_inc(&init_runs);
        g_assert_true(g_str_has_prefix(base, "."));
        g_usleep(2000);
        g_assert_cmpint(write(fd, data, strlen(data)), ==, (gssize)strlen(data));
        return TRUE;
}

static gpointer
racer(gpointer path)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *mine = g_strdup_printf("%p", (void *)g_thread_self());
        gboolean created = FALSE;

        g_assert_true(vmlock_sanlock_file_create(path, 0600, (uid_t)-1, (gid_t)-1, fake_init,
                                                 mine, &created, &error));
        g_assert_no_error(error);
        return GINT_TO_POINTER(created);
}

static void
test_file_race(void)
{
        g_autofree char *dir = g_dir_make_tmp("vmlock-sanlock-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "lease", NULL);
        GThread *threads[16];
        guint winners = 0;
        struct stat st;
        GDir *d;

        for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
                threads[i] = g_thread_new("racer", racer, path);
        for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
                winners += GPOINTER_TO_INT(g_thread_join(threads[i]));
        g_assert_cmpuint(winners, ==, 1);
        g_assert_cmpint(init_runs, >=, 1);

        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        g_assert_cmpuint(st.st_size, >, 0);
        /* no temporary file left behind */
        d = g_dir_open(dir, 0, NULL);
        g_assert_cmpstr(g_dir_read_name(d), ==, "lease");
        g_assert_null(g_dir_read_name(d));
        g_dir_close(d);
        g_unlink(path);
        g_rmdir(dir);
}

static void
test_file_no_dir(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(vmlock_sanlock_file_create("/nonexistent/dir/lease", 0600, (uid_t)-1,
                                                  (gid_t)-1, fake_init, (gpointer)"x", NULL,
                                                  &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "/nonexistent/dir"));
}

/* A lease file's temporary name, "/.<md5>.XXXXXX", must fit in sanlk_disk:
 * a longer disk_lease_dir is refused before anything is asked of the daemon. */
static void
test_lockspace_dir_too_long(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockSanlockConfig) config = g_new0(VmlockSanlockConfig, 1);
        g_autofree char *dir = g_strnfill(SANLK_PATH_LEN - 1 - 41, 'd');
        g_autofree char *limit = g_strdup_printf("(%d bytes at most)", SANLK_PATH_LEN - 42);

        dir[0] = '/';
        config->filename = g_strdup("/etc/vmlock/qemu-sanlock.conf");
        config->disk_lease_dir = g_strconcat(dir, "d", NULL);
        config->auto_disk_leases = TRUE;
        config->host_id = 1;
        config->user = (uid_t)-1;
        config->group = (gid_t)-1;

        g_assert_false(vmlock_sanlock_lockspace_setup(config, NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_nonnull(strstr(error->message, "/etc/vmlock/qemu-sanlock.conf"));
        g_assert_nonnull(strstr(error->message, limit));
}

/* A config trusting the user running the test, with @dir as disk_lease_dir. */
static VmlockSanlockConfig *
trust_config_new(const char *dir)
{
        VmlockSanlockConfig *config = g_new0(VmlockSanlockConfig, 1);

        config->filename = g_strdup("/etc/vmlock/qemu-sanlock.conf");
        config->disk_lease_dir = g_strdup(dir);
        config->user = getuid();
        config->group = (gid_t)-1;
        return config;
}

static void
test_trust_dir_modes(void)
{
        g_autofree char *dir = g_dir_make_tmp("vmlock-trust-XXXXXX", NULL);
        g_autoptr(VmlockSanlockConfig) config = trust_config_new(dir);
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(dir);
        g_assert_cmpint(chmod(dir, 0755), ==, 0);
        g_assert_true(vmlock_sanlock_trust_lease_dir(config, &error));
        g_assert_no_error(error);

        /* group-writable: fine for root's group only */
        g_assert_cmpint(chmod(dir, 0770), ==, 0);
        g_assert_cmpint(vmlock_sanlock_trust_lease_dir(config, &error), ==, getegid() == 0);
        if (getegid() != 0) {
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
                g_assert_nonnull(strstr(error->message, "chmod g-w"));
                g_clear_error(&error);
        }
        g_assert_no_error(error);

        /* writable by others, sticky or not */
        for (gsize i = 0; i < 2; i++) {
                g_assert_cmpint(chmod(dir, i ? 01777 : 0777), ==, 0);
                g_assert_false(vmlock_sanlock_trust_lease_dir(config, &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
                g_assert_nonnull(strstr(error->message, dir));
                g_assert_nonnull(strstr(error->message, "chmod o-w"));
                g_clear_error(&error);
        }

        /* a missing dir is the caller's to report */
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_assert_true(vmlock_sanlock_trust_lease_dir(config, &error));
        g_assert_no_error(error);
}

static void
test_trust_file_kinds(void)
{
        g_autofree char *dir = g_dir_make_tmp("vmlock-trust-XXXXXX", NULL);
        g_autoptr(VmlockSanlockConfig) config = trust_config_new(dir);
        g_autofree char *file = g_build_filename(dir, "file", NULL);
        g_autofree char *link = g_build_filename(dir, "link", NULL);
        g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
        g_autofree char *missing = g_build_filename(dir, "missing", NULL);
        g_autoptr(GError) error = NULL;
        struct stat st;

        g_assert_true(g_file_set_contents(file, "x", 1, NULL));
        g_assert_cmpint(symlink(file, link), ==, 0);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);

        g_assert_cmpint(vmlock_sanlock_trust_file(config, file, "the file", &st, &error), ==, 1);
        g_assert_no_error(error);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpint(vmlock_sanlock_trust_file(config, missing, "the file", &st, &error), ==,
                        0);
        g_assert_no_error(error);

        /* a link to a good file is refused all the same: it is not followed */
        g_assert_cmpint(vmlock_sanlock_trust_file(config, link, "the file", &st, &error), ==, -1);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, link));
        g_assert_nonnull(strstr(error->message, "symbolic link"));
        g_clear_error(&error);

        /* O_PATH: a FIFO is looked at, not opened (which would block) */
        g_assert_cmpint(vmlock_sanlock_trust_file(config, fifo, "the file", &st, &error), ==, -1);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "a FIFO"));
        g_clear_error(&error);

        g_unlink(file);
        g_unlink(link);
        g_unlink(fifo);
        g_rmdir(dir);
}

/* What is wrong with a lease file, from the file alone. */
static void
test_damage(void)
{
        static const struct {
                gsize size;
                gboolean magic;         /* a paxos leader's magic at the start */
                const char *expect;     /* NULL: looks like a lease */
        } cases[] = {
                { 0, FALSE, "it is empty (0 bytes)" },
                { 100, TRUE, "it is 100 bytes long, shorter than one lease (1048576 bytes)" },
                { 1024 * 1024, FALSE, "it holds no sanlock lease (zeroed or overwritten)" },
                { 4096, TRUE, "it is 4096 bytes long, shorter than its lease (1048576 bytes): "
                              "truncated" },
                { 1024 * 1024, TRUE, NULL },
        };
        g_autofree char *dir = g_dir_make_tmp("vmlock-damage-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "lease", NULL);
        g_autofree char *data = g_malloc0(1024 * 1024);
        guint32 magic = GUINT32_TO_LE(0x06152010u);
        guint32 sector = GUINT32_TO_LE(512);

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *damage = NULL;

                memset(data, 0, 16);
                if (cases[i].magic) {
                        memcpy(data, &magic, sizeof(magic));
                        memcpy(data + 12, &sector, sizeof(sector));
                }
                g_assert_true(g_file_set_contents(path, data, (gssize)cases[i].size, NULL));
                damage = vmlock_sanlock_lease_file_damage(path, 0);
                g_assert_cmpstr(damage, ==, cases[i].expect);
        }
        /* not a regular file, or missing: the daemon's own error says more */
        g_assert_null(vmlock_sanlock_lease_file_damage(dir, 0));
        g_unlink(path);
        g_assert_null(vmlock_sanlock_lease_file_damage(path, 0));
        g_rmdir(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/sanlock/config/defaults", test_config_defaults);
        g_test_add_func("/sanlock/config/auto", test_config_auto);
        g_test_add_func("/sanlock/config/bad", test_config_bad);
        g_test_add_func("/sanlock/lease/name-md5", test_lease_name);
        g_test_add_func("/sanlock/lease/disk", test_lease_disk);
        g_test_add_func("/sanlock/lease/limits", test_lease_limits);
        g_test_add_func("/sanlock/killpath/build", test_killpath);
        g_test_add_func("/sanlock/errors/translate", test_errors);
        g_test_add_func("/sanlock/file/race", test_file_race);
        g_test_add_func("/sanlock/file/no-dir", test_file_no_dir);
        g_test_add_func("/sanlock/lockspace/dir-too-long", test_lockspace_dir_too_long);
        g_test_add_func("/sanlock/trust/dir-modes", test_trust_dir_modes);
        g_test_add_func("/sanlock/trust/file-kinds", test_trust_file_kinds);
        g_test_add_func("/sanlock/lease/damage", test_damage);

        return g_test_run();
}
