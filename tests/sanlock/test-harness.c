/* vmlock tests: the sanlock harness gives two joined hosts that exclude each other. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include "sanlock-test-util.h"

static void
assert_file_size(const char *path, goffset size)
{
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpint(st.st_size, ==, size);
}

/* Every dir from / down to @dir lets other users through (the attack tests'
 * unprivileged user reaches its lease dirs in the short dir). */
static void
assert_traversable_by_all(const char *dir)
{
        g_autofree char *path = g_strdup(dir);

        while (strcmp(path, "/") != 0) {
                char *parent;
                struct stat st;

                g_assert_cmpint(stat(path, &st), ==, 0);
                if (!(st.st_mode & S_IXOTH))
                        g_error("%s (mode %04o) stops other users on their way to %s", path,
                                (unsigned int)(st.st_mode & 07777), dir);
                parent = g_path_get_dirname(path);
                g_free(path);
                path = parent;
        }
}

/* Room in sun_path (108 bytes) for a socket a test names there. */
static void
assert_room_for_sockets(const char *dir)
{
        g_autofree char *sock = g_strdup_printf("%s/%s.sock", dir,
                                                "a-socket-name-of-forty-bytes-or-so-1234");

        g_assert_cmpuint(strlen(sock), <, 108);
}

static void
test_env(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();

        g_assert_true(g_file_test(h->lease_dir, G_FILE_TEST_IS_DIR));
        g_assert_true(g_file_test(h->explicit_dir, G_FILE_TEST_IS_DIR));
        g_assert_cmpstr(h->disk_lockspace, ==, "__LIBVIRT__DISKS__");
        /* Where the driver looks for it: disk_lease_dir/__LIBVIRT__DISKS__. */
        g_assert_true(g_str_has_prefix(h->disk_lockspace_path, h->lease_dir));
        g_assert_true(g_str_has_suffix(h->disk_lockspace_path, "/__LIBVIRT__DISKS__"));
        assert_file_size(h->disk_lockspace_path, 1024 * 1024);
        assert_file_size(h->test_lockspace_path, 1024 * 1024);

        for (guint id = 1; id <= SANLOCK_TEST_N_HOSTS; id++) {
                const SanlockTestHost *host = sanlock_test_host(id);
                g_autofree char *conf_path = g_build_filename(host->config_dir,
                                                              "qemu-sanlock.conf", NULL);
                g_autofree char *vmlock_conf_path = g_build_filename(host->config_dir,
                                                                     "vmlock.conf", NULL);
                g_autofree char *conf = NULL;
                g_autofree char *vmlock_conf = NULL;
                g_autofree char *host_id_line = g_strdup_printf("\nhost_id = %u\n", id);
                g_autofree char *dir_line = g_strdup_printf("\ndisk_lease_dir = \"%s\"\n",
                                                            h->lease_dir);

                g_assert_cmpuint(host->id, ==, id);
                g_assert_true(g_file_get_contents(conf_path, &conf, NULL, NULL));
                g_assert_nonnull(strstr(conf, "\nauto_disk_leases = 1\n"));
                g_assert_nonnull(strstr(conf, host_id_line));
                g_assert_nonnull(strstr(conf, dir_line));
                g_assert_true(g_file_get_contents(vmlock_conf_path, &vmlock_conf, NULL, NULL));
                g_assert_nonnull(strstr(vmlock_conf, "lock_manager = \"sanlock\""));
                g_assert_cmpstr(host->run_dir, !=, sanlock_test_host(3 - id)->run_dir);
                assert_room_for_sockets(host->run_dir);
        }
        assert_traversable_by_all(h->short_scratch_dir);
        assert_room_for_sockets(sanlock_test_short_dir());
}

/* The test process itself is no host: a forgotten host choice fails loudly.
 * (In a subprocess: libsanlock keeps the first daemon address it uses.) */
static void
test_no_default_host(void)
{
        if (g_test_subprocess()) {
                int sock = sanlock_register();

                g_assert_cmpint(sock, <, 0);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static gboolean
get_version(gpointer data, GString *reply, GError **error)
{
        uint32_t version = 0;
        uint32_t proto = 0;
        int rv = sanlock_version(0, &version, &proto);

        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_version");
                return FALSE;
        }
        g_string_append_printf(reply, "%u.%u.%u", version >> 24, (version >> 16) & 0xff,
                               (version >> 8) & 0xff);
        return TRUE;
}

static void
test_daemons_answer(void)
{
        for (guint id = 1; id <= SANLOCK_TEST_N_HOSTS; id++) {
                const SanlockTestHost *host = sanlock_test_host(id);
                g_autoptr(GError) error = NULL;
                g_autofree char *version = NULL;
                g_autofree char *status = NULL;
                g_autofree char *first_line = g_strdup_printf("daemon %s\n", host->name);

                g_assert_cmpint(kill(host->daemon_pid, 0), ==, 0);
                g_assert_true(sanlock_test_host_call(host, get_version, NULL, &version, &error));
                g_assert_no_error(error);
                g_assert_true(g_str_has_prefix(version, "3."));

                /* Each host has its own daemon, named as the harness said. */
                status = sanlock_test_host_client(host, &error, "status", NULL);
                g_assert_no_error(error);
                g_assert_true(g_str_has_prefix(status, first_line));
        }
}

typedef struct {
        const char *name;
        const char *path;
        guint host_id;
} LockspaceData;

static gboolean
inq_lockspace(gpointer data, GString *reply, GError **error)
{
        LockspaceData *ls_data = data;
        struct sanlk_lockspace ls = { 0 };
        int rv;

        g_strlcpy(ls.name, ls_data->name, sizeof(ls.name));
        g_strlcpy(ls.host_id_disk.path, ls_data->path, sizeof(ls.host_id_disk.path));
        ls.host_id = ls_data->host_id;
        rv = sanlock_inq_lockspace(&ls, 0);
        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_inq_lockspace(%s:%u)", ls.name,
                                          (guint) ls.host_id);
                return FALSE;
        }
        return TRUE;
}

static void
test_joined(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const char *names[] = { h->disk_lockspace, h->test_lockspace };
        const char *paths[] = { h->disk_lockspace_path, h->test_lockspace_path };

        for (guint id = 1; id <= SANLOCK_TEST_N_HOSTS; id++) {
                const SanlockTestHost *host = sanlock_test_host(id);

                for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
                        g_autoptr(GError) error = NULL;
                        LockspaceData joined = { names[i], paths[i], id };
                        LockspaceData other = { names[i], paths[i], 3 - id };

                        g_assert_true(sanlock_test_host_call(host, inq_lockspace, &joined,
                                                             NULL, &error));
                        g_assert_no_error(error);

                        /* Each daemon holds only its own host_id: the hosts are distinct. */
                        g_assert_false(sanlock_test_host_call(host, inq_lockspace, &other,
                                                              NULL, &error));
                        g_assert_error(error, SANLOCK_TEST_RV_ERROR, -ENOENT);
                }
        }
}

/* In the guest-to-be, like the driver: register, acquire, hand the socket on. */
static gboolean
start_holding(gpointer data, int *ret_fd, GError **error)
{
        struct sanlk_resource *res = data;
        int sock = sanlock_register();
        int rv;

        if (sock < 0) {
                sanlock_test_set_rv_error(error, sock, "sanlock_register");
                return FALSE;
        }
        rv = sanlock_acquire(sock, -1, 0, 1, &res, NULL);
        if (rv < 0) {
                close(sock);
                sanlock_test_set_rv_error(error, rv, "sanlock_acquire(%s)", res->name);
                return FALSE;
        }
        *ret_fd = sock;
        return TRUE;
}

/* A short-lived holder: acquire, then release and unregister. */
static gboolean
acquire_release(gpointer data, GString *reply, GError **error)
{
        struct sanlk_resource *res = data;
        int sock = sanlock_register();
        int rv;

        if (sock < 0) {
                sanlock_test_set_rv_error(error, sock, "sanlock_register");
                return FALSE;
        }
        rv = sanlock_acquire(sock, -1, 0, 1, &res, NULL);
        if (rv < 0) {
                close(sock);
                sanlock_test_set_rv_error(error, rv, "sanlock_acquire(%s)", res->name);
                return FALSE;
        }
        rv = sanlock_release(sock, -1, 0, 1, &res);
        close(sock);
        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_release(%s)", res->name);
                return FALSE;
        }
        return TRUE;
}

/* acquire_release() on @host once the lease is free: sanlock forgets an
 * ended holder before its release is on disk, and on a loaded machine the
 * other host may look in between. */
static gboolean
acquire_release_once_free(const SanlockTestHost *host, struct sanlk_resource *res,
                          GError **error)
{
        return sanlock_test_host_call_once_released(host, acquire_release, res, error);
}

static void
test_lease_excludes_other_host(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const SanlockTestHost *host1 = sanlock_test_host(1);
        const SanlockTestHost *host2 = sanlock_test_host(2);
        g_autofree char *key = sanlock_test_unique_name("harness");
        g_autofree char *path = g_build_filename(h->explicit_dir, key, NULL);
        g_autofree struct sanlk_resource *res = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *answer = NULL;
        g_autofree char *expected = NULL;

        sanlock_test_write_resource(host1, h->test_lockspace, key, path);
        res = sanlock_test_resource_new(h->test_lockspace, key, path, 0);

        guest = sanlock_test_guest_start(host1, start_holding, res, &error);
        g_assert_no_error(error);
        g_assert_nonnull(guest);
        g_assert_cmpint(sanlock_test_guest_get_fd(guest), >=, 0);

        /* The guest holds it through the inherited, registered socket. */
        answer = sanlock_test_guest_command(guest, "inquire");
        expected = g_strdup_printf("inquire 0 1 %s:%s:%s:0:", h->test_lockspace, key, path);
        g_assert_true(g_str_has_prefix(answer, expected));

        g_assert_false(sanlock_test_host_call(host2, acquire_release, res, NULL, &error));
        g_assert_error(error, SANLOCK_TEST_RV_ERROR, SANLOCK_TEST_IDLIVE);
        g_clear_error(&error);

        /* Its end releases the lease: host 2 gets it. */
        g_assert_cmpint(sanlock_test_guest_stop(guest), ==, 0);
        g_assert_true(acquire_release_once_free(host2, res, &error));
        g_assert_no_error(error);
}

static void
test_lease_freed_by_crash(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const SanlockTestHost *host1 = sanlock_test_host(1);
        const SanlockTestHost *host2 = sanlock_test_host(2);
        g_autofree char *key = sanlock_test_unique_name("harness");
        g_autofree char *path = g_build_filename(h->explicit_dir, key, NULL);
        g_autofree struct sanlk_resource *res = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        int status;

        sanlock_test_write_resource(host2, h->test_lockspace, key, path);
        res = sanlock_test_resource_new(h->test_lockspace, key, path, 0);

        guest = sanlock_test_guest_start(host2, start_holding, res, &error);
        g_assert_no_error(error);
        g_assert_false(sanlock_test_host_call(host1, acquire_release, res, NULL, &error));
        g_assert_error(error, SANLOCK_TEST_RV_ERROR, SANLOCK_TEST_IDLIVE);
        g_clear_error(&error);

        status = sanlock_test_guest_kill(guest);
        g_assert_true(WIFSIGNALED(status));
        g_assert_true(acquire_release_once_free(host1, res, &error));
        g_assert_no_error(error);
}

/* An error in the would-be guest comes back, and no guest runs. */
static void
test_guest_start_fails(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *key = sanlock_test_unique_name("missing");
        g_autofree char *path = g_build_filename(sanlock_test_scratch_dir(), key, NULL);
        g_autofree struct sanlk_resource *res = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;

        res = sanlock_test_resource_new(h->test_lockspace, key, path, 0);
        guest = sanlock_test_guest_start(sanlock_test_host(1), start_holding, res, &error);
        g_assert_null(guest);
        g_assert_nonnull(error);
        g_assert_true(error->domain == SANLOCK_TEST_RV_ERROR);
        g_assert_cmpint(error->code, <, 0);
        g_assert_nonnull(strstr(error->message, key));
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/harness/env", test_env);
        g_test_add_func("/harness/no-default-host", test_no_default_host);
        g_test_add_func("/harness/daemons-answer", test_daemons_answer);
        g_test_add_func("/harness/joined", test_joined);
        g_test_add_func("/harness/lease/excludes-other-host", test_lease_excludes_other_host);
        g_test_add_func("/harness/lease/freed-by-crash", test_lease_freed_by_crash);
        g_test_add_func("/harness/guest/start-fails", test_guest_start_fails);
        return g_test_run();
}
