/* vmlock: the vmlock command against the real sanlock daemons of tests/sanlock/harness.sh (two hosts). */
#define G_LOG_DOMAIN "vmlock-tools-test"
#define _GNU_SOURCE /* pipe2 */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "qmp.h"
#include "sanlock-test-util.h"
#include "state-dir.h"

#define WAIT_STEP_US 20000
#define WAIT_STEPS_10S 500

/* What a test started, stopped at teardown whatever happened. */
typedef struct {
        GPtrArray *pids;
        char *dir; /* private to the test case */
} Fixture;

static const char *
build_path(const char *relative)
{
        static GHashTable *paths;
        const char *root = g_getenv("VMLOCK_BUILD_ROOT");
        char *path;

        if (!root)
                g_error("VMLOCK_BUILD_ROOT is not set: run through meson test");
        if (!paths)
                paths = g_hash_table_new(g_str_hash, g_str_equal);
        path = g_hash_table_lookup(paths, relative);
        if (!path) {
                path = g_build_filename(root, relative, NULL);
                g_hash_table_insert(paths, (gpointer)relative, path);
        }
        return path;
}

#define VMLOCK_BIN build_path("tools/vmlock")
#define HELPER_BIN build_path("tools/vmlock-lockfailure-helper")
#define GUEST_BIN build_path("tests/tools/tool-test-guest")
#define STANDIN_LIB build_path("tests/tools/libselinux-standin.so")

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autofree char *name = sanlock_test_unique_name("case");

        fx->pids = g_ptr_array_new();
        fx->dir = g_build_filename(sanlock_test_scratch_dir(), name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(fx->dir, 0755), ==, 0);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
        for (guint i = 0; i < fx->pids->len; i++) {
                pid_t pid = GPOINTER_TO_INT(g_ptr_array_index(fx->pids, i));

                kill(pid, SIGKILL);
                kill(pid, SIGCONT);
                waitpid(pid, NULL, WNOHANG);
        }
        g_ptr_array_unref(fx->pids);
        g_free(fx->dir);
}

/* A variable of the daemon's environment, which its kill path helper gets. */
static char *
daemon_getenv(const SanlockTestHost *host, const char *name)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/environ", (int)host->daemon_pid);
        g_autofree char *prefix = g_strconcat(name, "=", NULL);
        g_autofree char *environ_data = NULL;
        gsize len = 0;

        if (g_file_get_contents(path, &environ_data, &len, NULL)) {
                for (const char *p = environ_data; p < environ_data + len; p += strlen(p) + 1) {
                        if (g_str_has_prefix(p, prefix) && p[strlen(prefix)])
                                return g_strdup(p + strlen(prefix));
                }
        }
        return NULL;
}

/* The state dir the lock-failure helper sees: the daemon's $VMLOCK_STATE_DIR,
 * else the default. */
static char *
daemon_state_dir(const SanlockTestHost *host)
{
        return daemon_getenv(host, "VMLOCK_STATE_DIR");
}

/* Each host's own state dir, as on two machines. The helper, run by the
 * daemon, must find the records: use the daemon's when it has one. */
static const char *
host_state_dir(const SanlockTestHost *host)
{
        static char *dirs[SANLOCK_TEST_N_HOSTS + 1];

        if (!dirs[host->id]) {
                g_autofree char *mine = daemon_state_dir(host);
                g_autofree char *other = daemon_state_dir(sanlock_test_host(3 - host->id));

                /* One dir for both simulated hosts would make them one machine. */
                if (mine && g_strcmp0(mine, other) != 0)
                        dirs[host->id] = g_steal_pointer(&mine);
                if (!dirs[host->id]) {
                        g_autofree char *base = g_strdup_printf("state-host%u", host->id);

                        dirs[host->id] = g_build_filename(sanlock_test_scratch_dir(), base,
                                                          NULL);
                }
        }
        return dirs[host->id];
}

static GStrv
host_env(const SanlockTestHost *host, const char *state_dir)
{
        GStrv env = sanlock_test_host_environ(host);

        env = g_environ_setenv(env, "VMLOCK_STATE_DIR",
                               state_dir ? state_dir : host_state_dir(host), TRUE);
        env = g_environ_setenv(env, "VMLOCK_LOCKFAILURE_HELPER", HELPER_BIN, TRUE);
        env = g_environ_unsetenv(env, "LD_PRELOAD");
        return env;
}

typedef struct {
        int status; /* exit status, or 128+N when killed by signal N */
        char *out;
        char *err;
} RunResult;

static void
run_result_clear(RunResult *r)
{
        g_clear_pointer(&r->out, g_free);
        g_clear_pointer(&r->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RunResult, run_result_clear)

static int
open_tmp(Fixture *fx, const char *what, char **ret_path)
{
        g_autofree char *tmpl = g_strdup_printf("%s/%s-XXXXXX", fx->dir, what);
        int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        *ret_path = g_steal_pointer(&tmpl);
        return fd;
}

/* stdout and stderr go to files: a detached guest keeps no pipe of ours open. */
static pid_t
spawn_async(Fixture *fx, const char *const *argv, char *const *envp, char **ret_out,
            char **ret_err)
{
        g_autoptr(GError) error = NULL;
        int out_fd = open_tmp(fx, "stdout", ret_out);
        int err_fd = open_tmp(fx, "stderr", ret_err);
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        GPid pid = 0;

        g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)envp,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL,
                                         NULL, null_fd, out_fd, err_fd, NULL, NULL, 0, &pid,
                                         NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        close(out_fd);
        close(err_fd);
        close(null_fd);
        return pid;
}

static void
collect(RunResult *r, pid_t pid, const char *out_path, const char *err_path)
{
        int status;

        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        r->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        g_file_get_contents(out_path, &r->out, NULL, NULL);
        g_file_get_contents(err_path, &r->err, NULL, NULL);
        g_unlink(out_path);
        g_unlink(err_path);
        g_test_message("status %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

/* "vmlock ARGS..." as @host, waited for. */
static void
vmlock_as(Fixture *fx, const SanlockTestHost *host, RunResult *r, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) env = host_env(host, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *arg;
        va_list ap;
        pid_t pid;

        g_ptr_array_add(argv, (gpointer)VMLOCK_BIN);
        va_start(ap, r);
        while ((arg = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (gpointer)arg);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        run_result_clear(r);
        pid = spawn_async(fx, (const char *const *)argv->pdata, env, &out, &err);
        collect(r, pid, out, err);
}

static gboolean
contains(const char *haystack, const char *needle)
{
        return haystack && strstr(haystack, needle);
}

static char *
write_file(Fixture *fx, const char *name, const char *text)
{
        char *path = g_build_filename(fx->dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
        return path;
}

/* A disk image path no other test uses (it need not exist: leases are by path). */
static char *
disk_path(Fixture *fx, const char *what)
{
        g_autofree char *name = sanlock_test_unique_name(what);
        g_autofree char *base = g_strconcat(name, ".img", NULL);

        return g_build_filename(fx->dir, base, NULL);
}

/* A domain XML file named after the unique guest name it describes. */
static char *
domain_xml(Fixture *fx, const char *name, const char *devices, const char *extra)
{
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'>\n"
                                               "  <name>%s</name>\n"
                                               "  %s\n"
                                               "  <devices>\n%s  </devices>\n"
                                               "</domain>\n",
                                               name, extra ? extra : "", devices);
        g_autofree char *file = g_strconcat(name, ".xml", NULL);

        return write_file(fx, file, xml);
}

static char *
disk_xml(const char *path)
{
        return g_strdup_printf("    <disk type='file' device='disk'>\n"
                               "      <source file='%s'/><target dev='vda'/>\n"
                               "    </disk>\n",
                               path);
}

typedef struct {
        char *name;
        char *xml;
        char *ready; /* the guest writes its pid here once it runs */
        pid_t pid;
} Guest;

static void
guest_clear(Guest *g)
{
        g_free(g->name);
        g_free(g->xml);
        g_free(g->ready);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Guest, guest_clear)

static void
guest_init(Fixture *fx, Guest *g, const char *prefix, const char *devices, const char *extra)
{
        g_autofree char *ready_base = NULL;

        g->name = sanlock_test_unique_name(prefix);
        g->xml = domain_xml(fx, g->name, devices, extra);
        ready_base = g_strconcat(g->name, ".ready", NULL);
        g->ready = g_build_filename(fx->dir, ready_base, NULL);
}

/* "vmlock start --detach [OPTION] XML -- tool-test-guest --ready F --hold
 * [GUEST_ARGS]" as @host; returns the exit status (0: g->pid is set). */
static int
guest_start(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *option,
            const char *guest_arg, const char *guest_arg_value, RunResult *r)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) env = host_env(host, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        pid_t pid;

        g_ptr_array_add(argv, (gpointer)VMLOCK_BIN);
        g_ptr_array_add(argv, (gpointer) "start");
        g_ptr_array_add(argv, (gpointer) "--detach");
        if (option)
                g_ptr_array_add(argv, (gpointer)option);
        g_ptr_array_add(argv, g->xml);
        g_ptr_array_add(argv, (gpointer) "--");
        g_ptr_array_add(argv, (gpointer)GUEST_BIN);
        g_ptr_array_add(argv, (gpointer) "--ready");
        g_ptr_array_add(argv, g->ready);
        g_ptr_array_add(argv, (gpointer) "--hold");
        if (guest_arg) {
                g_ptr_array_add(argv, (gpointer)guest_arg);
                g_ptr_array_add(argv, (gpointer)guest_arg_value);
        }
        g_ptr_array_add(argv, NULL);
        run_result_clear(r);
        pid = spawn_async(fx, (const char *const *)argv->pdata, env, &out, &err);
        collect(r, pid, out, err);
        if (r->status == 0) {
                g->pid = (pid_t)atoi(r->out);
                g_assert_cmpint(g->pid, >, 0);
                g_ptr_array_add(fx->pids, GINT_TO_POINTER(g->pid));
        }
        return r->status;
}

static char
proc_state(pid_t pid)
{
        guint64 start_time;
        char state = 0;

        if (!proc_pid_stat(pid, &state, &start_time, NULL))
                return 0;
        return state;
}

static void
wait_state(pid_t pid, char want, int steps)
{
        for (int i = 0; i < steps; i++) {
                char state = proc_state(pid);

                if (state == want || (want == 0 && state == 'Z'))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("process %d never reached state '%c' (it is '%c')", (int)pid, want ? want : '-',
                proc_state(pid));
}

static void
wait_file(const char *path)
{
        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                if (g_file_test(path, G_FILE_TEST_EXISTS))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("%s did not appear within 10 s", path);
}

/* As the guest's host: waits until the daemon has forgotten the pid, so its
 * leases are free on disk. */
static gboolean
wait_forgotten(gpointer data, GString *reply, GError **error)
{
        pid_t pid = *(pid_t *)data;
        int rv = 0;

        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                int count = 0;

                rv = sanlock_inquire(-1, pid, 0, &count, NULL);
                if (rv == -ESRCH)
                        return TRUE;
                g_usleep(WAIT_STEP_US);
        }
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "the daemon still knows pid %d after 10 s (inquire: %d)", (int)pid, rv);
        return FALSE;
}

/* Kills the guest and waits until its host's daemon has let go of it. */
static void
guest_kill(const SanlockTestHost *host, Guest *g)
{
        g_autoptr(GError) error = NULL;

        kill(g->pid, SIGKILL);
        kill(g->pid, SIGCONT);
        wait_state(g->pid, 0, WAIT_STEPS_10S);
        sanlock_test_host_call(host, wait_forgotten, &g->pid, NULL, &error);
        g_assert_no_error(error);
}

/* ---- start: exclusion between hosts ---------------------------------------- */

static void
test_start_refused(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *expect_holder = NULL;
        g_autofree char *expect_guest = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        guest_init(fx, &c, "c", devices, NULL);

        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "exclusive  held"));

        /* Another host: refused, with the holder named; PROGRAM never ran. */
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 124);
        expect_holder = g_strdup_printf("in use by host 1 (%s)", h1->name);
        g_assert_true(contains(r.err, disk));
        g_assert_true(contains(r.err, expect_holder));
        g_assert_false(g_file_test(b.ready, G_FILE_TEST_EXISTS));
        vmlock_as(fx, h2, &r, "list", NULL);
        g_assert_false(contains(r.out, b.name));

        /* "Who holds this disk?", asked on the other host, from the lease. */
        vmlock_as(fx, h2, &r, "status", "--disk", disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, disk));
        g_assert_true(contains(r.out, "held exclusively by host 1"));
        g_assert_true(contains(r.out, h1->name));

        /* The same host, another guest: refused too. */
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "on this host"));
        /* ... naming the guest that has it, from this host's records */
        expect_guest = g_strdup_printf("guest %s (pid %d) here has it", a.name, (int)a.pid);
        g_assert_true(contains(r.err, expect_guest));
        g_assert_false(g_file_test(c.ready, G_FILE_TEST_EXISTS));

        /* kill -9: the leases go with the guest; host 2 gets the disk. */
        guest_kill(h1, &a);
        vmlock_as(fx, h2, &r, "status", "--disk", disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "free"));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        wait_file(b.ready);

        /* A guest that ends normally: the same. */
        kill(b.pid, SIGTERM);
        wait_state(b.pid, 0, WAIT_STEPS_10S);
        guest_kill(h2, &b);
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 0);
}

/* In the foreground, vmlock exits with the guest's status and, with it gone,
 * the other host can start the disk. */
static void
test_foreground_status(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        vmlock_as(fx, h1, &r, "start", a.xml, "--", GUEST_BIN, "--exit", "5", NULL);
        g_assert_cmpint(r.status, ==, 5);
        vmlock_as(fx, h2, &r, "start", b.xml, "--", GUEST_BIN, "--exit", "0", NULL);
        g_assert_cmpint(r.status, ==, 0);
}

/* ---- hotplug ---------------------------------------------------------------- */

static void
test_hotplug(Fixture *fx, gconstpointer data)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk1 = disk_path(fx, "boot");
        g_autofree char *disk2 = disk_path(fx, "hot");
        g_autofree char *devices1 = disk_xml(disk1);
        g_autofree char *devices2 = disk_xml(disk2);
        g_autofree char *key = sanlock_test_unique_name("key");
        g_autofree char *lease_base = g_strconcat(key, ".lease", NULL);
        g_autofree char *lease_path = g_build_filename(h->explicit_dir, lease_base, NULL);
        g_autofree char *lease_line = NULL;
        g_autofree char *lease_xml = NULL;
        g_autofree char *expect_state = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "a", devices1, NULL);
        guest_init(fx, &b, "b", devices2, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);

        vmlock_as(fx, h1, &r, "attach-disk", a.name, disk2, NULL);
        g_assert_cmpint(r.status, ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        lease_line = g_strdup_printf("%s  exclusive  held", disk2);
        g_assert_true(contains(r.out, lease_line));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "in use by host 1"));

        vmlock_as(fx, h1, &r, "detach-disk", a.name, disk2, NULL);
        g_assert_cmpint(r.status, ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_false(contains(r.out, disk2));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);

        /* The other host's disk can't be hotplugged here; the record is unchanged. */
        vmlock_as(fx, h1, &r, "attach-disk", a.name, disk2, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, "in use by host 2"));
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_false(contains(r.out, disk2));

        /* An explicit lease. */
        sanlock_test_write_resource(h1, h->test_lockspace, key, lease_path);
        vmlock_as(fx, h1, &r, "attach-lease", a.name, "--lockspace", h->test_lockspace, "--key",
                  key, "--path", lease_path, NULL);
        g_assert_cmpint(r.status, ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        lease_xml = g_strdup_printf("lease %s:%s (%s offset 0)  exclusive  held",
                                    h->test_lockspace, key, lease_path);
        g_assert_true(contains(r.out, lease_xml));
        vmlock_as(fx, h1, &r, "inquire", a.name, NULL);
        expect_state = g_strdup_printf("%s:%s:%s:0", h->test_lockspace, key, lease_path);
        g_assert_true(contains(r.out, expect_state));

        /* Host 2 can't have that lease now. */
        {
                g_autofree char *lease_dev = g_strdup_printf(
                        "    <lease><lockspace>%s</lockspace><key>%s</key>"
                        "<target path='%s'/></lease>\n",
                        h->test_lockspace, key, lease_path);

                guest_init(fx, &c, "c", lease_dev, NULL);
                g_assert_cmpint(guest_start(fx, h2, &c, NULL, NULL, NULL, &r), ==, 124);
                vmlock_as(fx, h1, &r, "detach-lease", a.name, "--lockspace", h->test_lockspace,
                          "--key", key, NULL);
                g_assert_cmpint(r.status, ==, 0);
                vmlock_as(fx, h1, &r, "status", a.name, NULL);
                g_assert_false(contains(r.out, key));
                g_assert_cmpint(guest_start(fx, h2, &c, NULL, NULL, NULL, &r), ==, 0);
        }
}

/* ---- pause, resume, migration --------------------------------------------------- */

static void
test_pause_keeps_leases(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);
        wait_file(a.ready);

        vmlock_as(fx, h1, &r, "pause", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_state(a.pid, 'T', WAIT_STEPS_10S);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: paused\n"));
        g_assert_true(contains(r.out, "exclusive  held"));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 124);

        vmlock_as(fx, h1, &r, "resume", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_state(a.pid, 'S', WAIT_STEPS_10S);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: running"));
        g_assert_true(contains(r.out, "exclusive  held"));
}

/* The migration handoff: pause --release on host 1, start --paused and
 * resume --state on host 2; host 1 then can't take the disk back. */
static void
test_migrate(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *state = NULL;
        g_auto(Guest) src = { 0 };
        g_auto(Guest) dst = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &src, "mig", devices, NULL);
        /* The same domain (name, uuid) on the other host. */
        dst.name = g_strdup(src.name);
        dst.xml = g_strdup(src.xml);
        dst.ready = g_strconcat(src.ready, ".dst", NULL);

        g_assert_cmpint(guest_start(fx, h1, &src, NULL, NULL, NULL, &r), ==, 0);
        wait_file(src.ready);
        vmlock_as(fx, h1, &r, "pause", "--release", src.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        g_assert_true(g_str_has_prefix(state, "__LIBVIRT__DISKS__:"));
        vmlock_as(fx, h1, &r, "status", src.name, NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        g_assert_true(contains(r.out, "exclusive  released"));
        vmlock_as(fx, h1, &r, "inquire", src.name, NULL);
        g_assert_cmpstr(g_strstrip(r.out), ==, state);

        /* Destination: registered, stopped before exec, no leases yet. */
        g_assert_cmpint(guest_start(fx, h2, &dst, "--paused", NULL, NULL, &r), ==, 0);
        wait_state(dst.pid, 'T', WAIT_STEPS_10S);
        g_assert_false(g_file_test(dst.ready, G_FILE_TEST_EXISTS));
        vmlock_as(fx, h2, &r, "resume", dst.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_file(dst.ready);
        vmlock_as(fx, h2, &r, "status", dst.name, NULL);
        g_assert_true(contains(r.out, "exclusive  held"));

        /* The source's saved state is stale now: refused, and it stays paused. */
        vmlock_as(fx, h1, &r, "resume", src.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, disk));
        g_assert_cmpint(proc_state(src.pid), ==, 'T');
}

/* ---- the guest can't use its own registration ------------------------------------ */

static void
test_restricted_fd(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *probe = g_build_filename(fx->dir, "probe", NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };
        guint n = 0;

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, "--sanlock-probe", probe, &r), ==, 0);
        wait_file(a.ready);
        g_assert_true(g_file_get_contents(probe, &text, NULL, NULL));
        g_test_message("probe: %s", text);
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                const char *rv;

                if (!*lines[i])
                        continue;
                rv = strrchr(lines[i], ' ');
                g_assert_nonnull(rv);
                g_assert_cmpint(atoi(rv + 1), <, 0);
                n++;
        }
        g_assert_cmpuint(n, ==, 2); /* one inherited sanlock fd: inquire and release */

        /* Still held: the release it tried was refused. */
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "exclusive  held"));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 124);
}

/* ---- SELinux labelling of the real lock fd ---------------------------------------- */

static void
test_seclabel(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *log = g_build_filename(fx->dir, "selinux.log", NULL);
        g_autofree char *fds = g_build_filename(fx->dir, "fds", NULL);
        g_autofree char *log_text = NULL;
        g_autofree char *fds_text = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *expect_exec = NULL;
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(Guest) a = { 0 };
        g_auto(RunResult) r = { 0 };
        const char *line;
        int fd = -1;
        struct stat st;
        char link[64];
        unsigned long long dev, ino;
        pid_t pid;

        if (!g_file_test(STANDIN_LIB, G_FILE_TEST_EXISTS)) {
                g_test_skip("the libselinux stand-in is not built");
                return;
        }
        guest_init(fx, &a, "label", devices,
                   "<seclabel type='static' model='selinux'>"
                   "<label>system_u:system_r:svirt_t:s0:c7,c8</label></seclabel>");
        env = g_environ_setenv(env, "LD_PRELOAD", STANDIN_LIB, TRUE);
        env = g_environ_setenv(env, "VMLOCK_TEST_SELINUX_LOG", log, TRUE);
        env = g_environ_setenv(env, "ASAN_OPTIONS", "verify_asan_link_order=0", TRUE);
        {
                const char *argv[] = { VMLOCK_BIN, "start", "--detach", a.xml, "--", GUEST_BIN,
                                       "--fds", fds, "--ready", a.ready, "--hold", NULL };

                pid = spawn_async(fx, argv, env, &out, &err);
                collect(&r, pid, out, err);
        }
        g_assert_cmpint(r.status, ==, 0);
        a.pid = (pid_t)atoi(r.out);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(a.pid));
        wait_file(a.ready);

        /* fsetfilecon got the guest's sanlock socket, setexeccon the label,
         * both in the guest's process. */
        g_assert_true(g_file_get_contents(log, &log_text, NULL, NULL));
        g_test_message("stand-in log:\n%s", log_text);
        line = strstr(log_text, "fsetfilecon ");
        g_assert_nonnull(line);
        {
                int logged_pid;

                g_assert_cmpint(sscanf(line, "fsetfilecon %d %d %llu:%llu", &logged_pid, &fd, &dev,
                                       &ino),
                                ==, 4);
                g_assert_cmpint(logged_pid, ==, a.pid);
        }
        g_assert_true(contains(line, " system_u:system_r:svirt_t:s0:c7,c8\n"));
        expect_exec = g_strdup_printf("setexeccon %d system_u:system_r:svirt_t:s0:c7,c8\n",
                                      (int)a.pid);
        g_assert_true(contains(log_text, expect_exec));

        g_snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)a.pid, fd);
        g_assert_cmpint(stat(link, &st), ==, 0);
        g_assert_true(S_ISSOCK(st.st_mode));
        g_assert_cmpuint(st.st_ino, ==, ino);
        g_assert_cmpuint(st.st_dev, ==, dev);
        g_assert_true(g_file_get_contents(fds, &fds_text, NULL, NULL));
        g_assert_true(contains(fds_text, "socket:["));
}

/* ---- lock failure: the helper ------------------------------------------------------ */

/* A lockspace of its own, joined by host 1 with a 1 s I/O timeout: its
 * renewal fails 8 s after its file stops answering. Removing it with
 * rem_lockspace would not do: sanlock then SIGKILLs the holders without
 * running their kill path. */
static void
test_lock_failure(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *ls = sanlock_test_unique_name("LF");
        g_autofree char *ls_path = g_build_filename(fx->dir, "lockspace", NULL);
        g_autofree char *ls_init = g_strdup_printf("%s:0:%s:0", ls, ls_path);
        g_autofree char *ls_join = g_strdup_printf("%s:1:%s:0", ls, ls_path);
        g_autofree char *state_dir = daemon_state_dir(h1);
        g_auto(Guest) off = { 0 };
        g_auto(Guest) pause = { 0 };
        g_auto(RunResult) r = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        const char *actions[] = { "poweroff", "pause" };
        Guest *guests[] = { &off, &pause };

#ifdef VMLOCK_TEST_SANITIZED
        {
                /* The daemons run with the setrlimit shim preloaded; a
                 * sanitized helper refuses to start after it unless told. */
                g_autofree char *preload = daemon_getenv(h1, "LD_PRELOAD");
                g_autofree char *asan = daemon_getenv(h1, "ASAN_OPTIONS");

                if (preload && !contains(asan, "verify_asan_link_order=0")) {
                        g_test_skip("sanitized helper under LD_PRELOADed daemons needs "
                                    "ASAN_OPTIONS=verify_asan_link_order=0 in their environment");
                        return;
                }
        }
#endif
        if (!state_dir)
                state_dir = g_strdup(VMLOCK_DEFAULT_STATE_DIR);
        g_test_message("the daemon's helper reads records in %s", state_dir);

        g_assert_true(g_file_set_contents(ls_path, "", 0, NULL));
        g_assert_cmpint(truncate(ls_path, 1024 * 1024), ==, 0);
        out = sanlock_test_host_client(h1, &error, "init", "-s", ls_init, "-o", "1", NULL);
        g_assert_no_error(error);
        g_clear_pointer(&out, g_free);

        for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
                g_autofree char *key = sanlock_test_unique_name(actions[i]);
                g_autofree char *lease_base = g_strconcat(key, ".lease", NULL);
                g_autofree char *lease_path = g_build_filename(fx->dir, lease_base, NULL);
                g_autofree char *lease_dev = g_strdup_printf(
                        "    <lease><lockspace>%s</lockspace><key>%s</key>"
                        "<target path='%s'/></lease>\n",
                        ls, key, lease_path);
                g_autofree char *extra = g_strdup_printf("<on_lockfailure>%s</on_lockfailure>",
                                                         actions[i]);

                sanlock_test_write_resource(h1, ls, key, lease_path);
                guest_init(fx, guests[i], actions[i], lease_dev, extra);
        }
        out = sanlock_test_host_client(h1, &error, "add_lockspace", "-s", ls_join, "-o", "1",
                                       NULL);
        g_assert_no_error(error);
        g_clear_pointer(&out, g_free);

        for (guint i = 0; i < G_N_ELEMENTS(guests); i++) {
                g_auto(GStrv) env = host_env(h1, state_dir);
                g_autofree char *o = NULL;
                g_autofree char *e = NULL;
                const char *argv[] = { VMLOCK_BIN, "start", "--detach", guests[i]->xml, "--",
                                       GUEST_BIN, "--ready", guests[i]->ready, "--hold", NULL };
                pid_t pid = spawn_async(fx, argv, env, &o, &e);

                collect(&r, pid, o, e);
                g_assert_cmpint(r.status, ==, 0);
                guests[i]->pid = (pid_t)atoi(r.out);
                g_ptr_array_add(fx->pids, GINT_TO_POINTER(guests[i]->pid));
                wait_file(guests[i]->ready);
        }

        /* The storage goes away: renewals read nothing. */
        g_assert_cmpint(truncate(ls_path, 0), ==, 0);

        /* 8 s to fail, then the helper: poweroff leaves the guest dead... */
        wait_state(off.pid, 0, 30 * WAIT_STEPS_10S / 10);
        /* ...pause leaves it stopped, its leases released and recorded so. */
        wait_state(pause.pid, 'T', 30 * WAIT_STEPS_10S / 10);
        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                g_autoptr(GuestRecord) record = state_dir_load(state_dir, pause.name, NULL);

                if (record && record->released)
                        break;
                g_usleep(WAIT_STEP_US);
        }
        {
                g_autoptr(GuestRecord) record = state_dir_load(state_dir, pause.name, &error);
                g_autofree char *pid_str = g_strdup_printf("%d", (int)pause.pid);

                g_assert_no_error(error);
                g_assert_true(record->paused);
                g_assert_true(record->released);
                g_assert_nonnull(record->lock_state);
                g_assert_true(g_str_has_prefix(record->lock_state, ls));
                out = sanlock_test_host_client(h1, &error, "inquire", "-p", pid_str, NULL);
                g_test_message("inquire after the pause: %s", out ? out : error->message);
                g_assert_false(contains(out, ls));
                g_clear_error(&error);
        }
        kill(pause.pid, SIGKILL);
        kill(pause.pid, SIGCONT);
        wait_state(pause.pid, 0, WAIT_STEPS_10S);
        state_dir_remove(state_dir, pause.name, NULL);
        state_dir_remove(state_dir, off.name, NULL);
}

/* ---- real QEMU ------------------------------------------------------------------------ */

static gboolean
qmp_running(const char *socket, gboolean *ret_running)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;

        if (!qmp_execute_full(socket, "query-status", &reply, &error)) {
                g_test_message("query-status: %s", error->message);
                return FALSE;
        }
        *ret_running = contains(reply, "\"running\": true");
        return TRUE;
}

static void
test_qemu(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
        g_autofree char *disk = disk_path(fx, "qemu");
        g_autofree char *devices = NULL;
        g_autofree char *sock = g_build_filename(fx->dir, "qmp.sock", NULL);
        g_autofree char *qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", sock);
        g_autofree char *drive = g_strdup_printf("file=%s,format=raw,if=virtio", disk);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *holder = NULL;
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(RunResult) r = { 0 };
        gboolean running = TRUE;
        pid_t vmlock_pid;

        if (!qemu) {
                g_test_skip("qemu-system-x86_64 is not installed");
                return;
        }
        g_assert_true(g_file_set_contents(disk, "", 0, NULL));
        g_assert_cmpint(truncate(disk, 16 * 1024 * 1024), ==, 0);
        devices = g_strdup_printf("    <disk type='file' device='disk'>\n"
                                  "      <driver name='qemu' type='raw'/>\n"
                                  "      <source file='%s'/><target dev='vda' bus='virtio'/>\n"
                                  "    </disk>\n",
                                  disk);
        guest_init(fx, &vm, "qemu", devices, "<on_lockfailure>poweroff</on_lockfailure>");
        guest_init(fx, &other, "other", devices, NULL);

        /* In the foreground: vmlock returns when QEMU quits. */
        {
                const char *argv[] = { VMLOCK_BIN, "start", "--qmp", sock, vm.xml, "--",
                                       qemu, "-machine", "accel=tcg", "-S", "-nographic",
                                       "-nodefaults", "-display", "none", "-qmp", qmp_arg,
                                       "-drive", drive, NULL };

                vmlock_pid = spawn_async(fx, argv, env, &out, &err);
                g_ptr_array_add(fx->pids, GINT_TO_POINTER(vmlock_pid));
        }
        wait_file(sock);
        for (int i = 0; i < WAIT_STEPS_10S && !qmp_running(sock, &running); i++)
                g_usleep(WAIT_STEP_US);
        g_assert_false(running); /* -S */

        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_true(contains(r.out, "exclusive  held"));
        g_assert_true(contains(r.out, sock));

        vmlock_as(fx, h1, &r, "resume", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qmp_running(sock, &running));
        g_assert_true(running);

        vmlock_as(fx, h1, &r, "pause", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qmp_running(sock, &running));
        g_assert_false(running);
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_true(contains(r.out, "state: paused\n"));
        g_assert_true(contains(r.out, "exclusive  held"));

        /* A second start of the same disk, from the other host: refused. */
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 124);
        holder = g_strdup_printf("%s is in use by host 1 (%s)", disk, h1->name);
        g_assert_true(contains(r.err, holder));

        vmlock_as(fx, h1, &r, "resume", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qmp_running(sock, &running));
        g_assert_true(running);

        /* quit through QMP: QEMU exits, vmlock with it, the lease is free. */
        {
                g_autoptr(GError) error = NULL;

                g_assert_true(qmp_execute(sock, "quit", &error));
                g_assert_no_error(error);
        }
        collect(&r, vmlock_pid, out, err);
        g_ptr_array_remove(fx->pids, GINT_TO_POINTER(vmlock_pid));
        g_assert_cmpint(r.status, ==, 0);
        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_false(contains(r.out, vm.name));
        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                if (guest_start(fx, h2, &other, NULL, NULL, NULL, &r) == 0)
                        break;
                g_usleep(WAIT_STEP_US);
        }
        g_assert_cmpint(r.status, ==, 0);
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/vmlock-sanlock/start/refused-on-other-host", test_start_refused);
        ADD("/vmlock-sanlock/start/foreground-status", test_foreground_status);
        ADD("/vmlock-sanlock/hotplug", test_hotplug);
        ADD("/vmlock-sanlock/pause-keeps-leases", test_pause_keeps_leases);
        ADD("/vmlock-sanlock/migrate", test_migrate);
        ADD("/vmlock-sanlock/restricted-fd", test_restricted_fd);
        ADD("/vmlock-sanlock/seclabel", test_seclabel);
        ADD("/vmlock-sanlock/lock-failure", test_lock_failure);
        ADD("/vmlock-sanlock/qemu", test_qemu);
#undef ADD

        return g_test_run();
}
