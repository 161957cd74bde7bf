/* vmlock: the vmlock command against the real sanlock daemons of tests/sanlock/harness.sh (two hosts). */
#define G_LOG_DOMAIN "vmlock-tools-test"
#define _GNU_SOURCE /* pipe2 */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sanlock-test-util.h"
#include "supervisor/state_dir.h"
#include "tool-test-util.h"
#include "util/fd_util.h"
#include "util/proc_stat.h"
#include "util/qmp.h"

#define WAIT_STEP_US 20000
#define WAIT_STEPS_10S 500

/* What a test started, stopped at teardown whatever happened. */
typedef struct {
        GPtrArray *pids;
        char *dir; /* private to the test case */
        char *sock_dir; /* the same for sockets: a short path */
} Fixture;

#define VMLOCK_BIN tool_test_build_path("tools/vmlock")
#define HELPER_BIN tool_test_build_path("tools/vmlock-lockfailure-helper")
#define GUEST_BIN tool_test_build_path("tests/tools/tool-test-guest")
#define STANDIN_LIB tool_test_build_path("tests/tools/libselinux-standin.so")

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autofree char *name = sanlock_test_unique_name("case");

        fx->pids = g_ptr_array_new();
        fx->dir = g_build_filename(sanlock_test_scratch_dir(), name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(fx->dir, 0755), ==, 0);
        fx->sock_dir = g_build_filename(sanlock_test_short_dir(), name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(fx->sock_dir, 0700), ==, 0);
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
        g_free(fx->sock_dir);
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
 * daemon, must find the records: use the daemon's when it has one. Guests'
 * control sockets live there: a short path. */
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

                        dirs[host->id] = g_build_filename(sanlock_test_short_dir(), base,
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

/* stdout and stderr go to files: a detached guest keeps no pipe of ours open. */
static pid_t
spawn_async(Fixture *fx, const char *const *argv, char *const *envp, char **ret_out,
            char **ret_err)
{
        return tool_test_spawn(fx->dir, argv, envp, ret_out, ret_err);
}

/* "vmlock ARGS..." as @host, waited for. */
static void
vmlock_as(Fixture *fx, const SanlockTestHost *host, RunResult *r, ...)
{
        g_autoptr(GPtrArray) argv = NULL;
        g_auto(GStrv) env = host_env(host, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        va_list ap;
        pid_t pid;

        va_start(ap, r);
        argv = tool_test_argv_new_va(VMLOCK_BIN, ap);
        va_end(ap);
        run_result_clear(r);
        pid = spawn_async(fx, (const char *const *)argv->pdata, env, &out, &err);
        tool_test_collect(r, pid, out, err);
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

/* Runs @argv ("vmlock start --detach ...", not yet NULL-terminated) as
 * @host; returns the exit status (0: g->pid is the guest's, killed at
 * teardown). */
static int
run_detached_start(Fixture *fx, const SanlockTestHost *host, Guest *g, GPtrArray *argv,
                   RunResult *r)
{
        g_auto(GStrv) env = host_env(host, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        pid_t pid;

        g_ptr_array_add(argv, NULL);
        run_result_clear(r);
        pid = spawn_async(fx, (const char *const *)argv->pdata, env, &out, &err);
        tool_test_collect(r, pid, out, err);
        if (r->status == 0) {
                g->pid = (pid_t)atoi(r->out);
                g_assert_cmpint(g->pid, >, 0);
                g_ptr_array_add(fx->pids, GINT_TO_POINTER(g->pid));
        }
        return r->status;
}

/* "vmlock start --detach [OPTION] XML -- tool-test-guest --ready F --hold
 * [GUEST_ARGS]" as @host; returns the exit status (0: g->pid is set). */
static int
guest_start(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *option,
            const char *guest_arg, const char *guest_arg_value, RunResult *r)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

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
        return run_detached_start(fx, host, g, argv, r);
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

/* Kills the guest and waits until its host's daemon has let go of it and
 * of @disk's lease on disk (NULL: the guest held none): the daemon forgets a
 * dead client before its release I/O is done, and on a loaded machine
 * another host may look in between. */
static void
guest_kill(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *disk)
{
        g_autoptr(GError) error = NULL;
        g_auto(RunResult) r = { 0 };

        kill(g->pid, SIGKILL);
        kill(g->pid, SIGCONT);
        wait_state(g->pid, 0, WAIT_STEPS_10S);
        sanlock_test_host_call(host, wait_forgotten, &g->pid, NULL, &error);
        g_assert_no_error(error);
        for (int i = 0; disk && i < WAIT_STEPS_10S; i++) {
                vmlock_as(fx, host, &r, "status", "--disk", disk, NULL);
                if (contains(r.out, ": free"))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        if (disk)
                g_error("the lease of %s is not free 10 s after its holder died: %s", disk,
                        r.out);
}

/* ---- QEMU guests ------------------------------------------------------------------ */

#define QEMU_NAME "qemu-system-x86_64"

/* A QEMU that needs no image nor firmware: its disks are in the XML only
 * (leases are by path), except where a test gives it a -drive. */
static const char *const qemu_base_args[] = {
        QEMU_NAME, "-machine", "none", "-display", "none", "-nodefaults", NULL,
};

/* A PC (TCG) that can take PCI disks and migrate; the BIOS finds nothing to
 * boot and waits, which is all these tests need of a guest. */
#define QEMU_PC_ARGS QEMU_NAME, "-machine", "pc,accel=tcg", "-m", "32", "-display", "none", \
                     "-nodefaults"

static gboolean
have_qemu(void)
{
        g_autofree char *qemu = g_find_program_in_path(QEMU_NAME);

        if (!qemu)
                g_test_skip(QEMU_NAME " is not installed");
        return qemu != NULL;
}

/* "vmlock start --detach [--state-dir DIR] [OPTION] XML -- qemu ..." as
 * @host; returns the exit status (0: g->pid is QEMU's). */
static int
qemu_start_args(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *state_dir,
                const char *option, const char *const *qemu_args, RunResult *r)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer)VMLOCK_BIN);
        g_ptr_array_add(argv, (gpointer) "start");
        g_ptr_array_add(argv, (gpointer) "--detach");
        if (state_dir) {
                g_ptr_array_add(argv, (gpointer) "--state-dir");
                g_ptr_array_add(argv, (gpointer)state_dir);
        }
        if (option)
                g_ptr_array_add(argv, (gpointer)option);
        g_ptr_array_add(argv, g->xml);
        g_ptr_array_add(argv, (gpointer) "--");
        for (guint i = 0; qemu_args[i]; i++)
                g_ptr_array_add(argv, (gpointer)qemu_args[i]);
        return run_detached_start(fx, host, g, argv, r);
}

static int
qemu_start(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *state_dir,
           const char *option, RunResult *r)
{
        return qemu_start_args(fx, host, g, state_dir, option, qemu_base_args, r);
}

/* The QMP proxy of a guest, from `vmlock status`. */
static char *
qmp_proxy_path(Fixture *fx, const SanlockTestHost *host, const char *name)
{
        g_auto(RunResult) r = { 0 };
        const char *line;

        vmlock_as(fx, host, &r, "status", name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        line = strstr(r.out, "\nqmp: ");
        g_assert_nonnull(line);
        return g_strndup(line + 6, strcspn(line + 6, "\n"));
}

/* Runs @command through the proxy at @path, as another QMP client would. */
static JsonNode *
qmp_via_proxy_args(const char *path, const char *command, JsonObject *arguments,
                   GError **error)
{
        g_autoptr(QmpStream) stream = qmp_client_connect(path, error);

        return stream ? qmp_client_execute(stream, command, arguments, error) : NULL;
}

static JsonNode *
qmp_via_proxy(const char *path, const char *command, GError **error)
{
        return qmp_via_proxy_args(path, command, NULL, error);
}

/* @arguments as JSON text. */
static JsonNode *
qmp_via_proxy_json(const char *path, const char *command, const char *arguments,
                   GError **error)
{
        g_autoptr(JsonNode) node = json_from_string(arguments, NULL);

        g_assert_nonnull(node);
        return qmp_via_proxy_args(path, command, json_node_get_object(node), error);
}

/* An image of @size bytes. */
static void
image_create(const char *path, goffset size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, size), ==, 0);
        close(fd);
}

/* Whether QEMU has a block node on @path, asked through the proxy. */
static gboolean
qemu_has_image(const char *proxy, const char *path)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) nodes = qmp_via_proxy(proxy, "query-named-block-nodes", &error);
        JsonArray *array;

        g_assert_no_error(error);
        array = json_node_get_array(nodes);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonObject *node = json_array_get_object_element(array, i);

                if (g_strcmp0(json_object_get_string_member_with_default(node, "file", NULL),
                              path) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* The disk's lease as host 2 sees it, from `vmlock status --disk`. */
static char *
disk_holder(Fixture *fx, const char *path)
{
        g_auto(RunResult) r = { 0 };

        vmlock_as(fx, sanlock_test_host(2), &r, "status", "--disk", path, NULL);
        g_assert_cmpint(r.status, ==, 0);
        if (contains(r.out, "held exclusively by host 1"))
                return g_strdup("host 1");
        if (contains(r.out, "held exclusively by host 2"))
                return g_strdup("host 2");
        if (contains(r.out, "free"))
                return g_strdup("free");
        return g_strdup(r.out);
}

static void
assert_holder(Fixture *fx, const char *disk, const char *expected)
{
        g_autofree char *holder = disk_holder(fx, disk);

        g_assert_cmpstr(holder, ==, expected);
}

/* The lease file of @disk in the shared lease dir. */
static char *
lease_file_of(const char *disk)
{
        g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk, -1);

        return g_build_filename(sanlock_test_harness()->lease_dir, md5, NULL);
}

static gboolean
qemu_running(const char *proxy)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) status = qmp_via_proxy(proxy, "query-status", &error);

        g_assert_no_error(error);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(status));
        return json_object_get_boolean_member(json_node_get_object(status), "running");
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
        vmlock_as(fx, h2, &r, "status", "--disk", disk, "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonParser) parser = json_parser_new();
                g_autoptr(GError) error = NULL;
                JsonObject *object;

                json_parser_load_from_data(parser, r.out, -1, &error);
                g_assert_no_error(error);
                object = json_node_get_object(json_parser_get_root(parser));
                g_assert_cmpstr(json_object_get_string_member(object, "path"), ==, disk);
                g_assert_true(contains(json_object_get_string_member(object, "description"),
                                       "held exclusively by host 1"));
        }

        /* The same host, another guest: refused too. */
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "on this host"));
        /* ... naming the guest that has it, from this host's records */
        expect_guest = g_strdup_printf("guest %s (pid %d) here has it", a.name, (int)a.pid);
        g_assert_true(contains(r.err, expect_guest));
        g_assert_false(g_file_test(c.ready, G_FILE_TEST_EXISTS));

        /* kill -9: the leases go with the guest; host 2 gets the disk. */
        guest_kill(fx, h1, &a, disk);
        vmlock_as(fx, h2, &r, "status", "--disk", disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "free"));
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        wait_file(b.ready);

        /* A guest that ends normally: the same. */
        kill(b.pid, SIGTERM);
        wait_state(b.pid, 0, WAIT_STEPS_10S);
        guest_kill(fx, h2, &b, disk);
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 0);
}

/* In the foreground, vmlock exits with the guest's status, and only once
 * the lease is free on disk: the other host can start the disk at once. */
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
        vmlock_as(fx, h2, &r, "status", "--disk", disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, ": free"));
        vmlock_as(fx, h2, &r, "start", b.xml, "--", GUEST_BIN, "--exit", "0", NULL);
        g_assert_cmpint(r.status, ==, 0);
}

/* A paused start of a plain program holds nothing and runs nothing: no
 * signal starts it, only resume, once its lease is had. */
static void
test_start_paused_plain(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *comm_path = NULL;
        g_autofree char *comm = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, "--paused", NULL, NULL, &r), ==, 0);
        comm_path = g_strdup_printf("/proc/%d/comm", (int)a.pid);

        /* kill -CONT (fg, bg) once ran it with no lease. */
        g_assert_cmpint(kill(a.pid, SIGCONT), ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        g_assert_true(g_file_get_contents(comm_path, &comm, NULL, NULL));
        g_assert_cmpstr(comm, ==, "vmlock-prexec\n");
        g_clear_pointer(&comm, g_free);
        g_assert_false(g_file_test(a.ready, G_FILE_TEST_EXISTS));

        /* It holds nothing: another host may take the disk, and then
         * resume is refused and the program still does not run. */
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h1, &r, "resume", a.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, "in use by host 2"));
        g_assert_true(g_file_get_contents(comm_path, &comm, NULL, NULL));
        g_assert_cmpstr(comm, ==, "vmlock-prexec\n");

        guest_kill(fx, h2, &b, disk);
        vmlock_as(fx, h1, &r, "resume", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_file(a.ready);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: running"));
        g_assert_true(contains(r.out, "exclusive  held"));
}

/* "vmlock start --detach -c @config_dir XML -- tool-test-guest ..." as @host. */
static int
guest_start_config(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *config_dir,
                   RunResult *r)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *const args[] = { VMLOCK_BIN, "start", "--detach", "-c", config_dir, g->xml,
                                     "--", GUEST_BIN, "--ready", g->ready, "--hold" };

        for (guint i = 0; i < G_N_ELEMENTS(args); i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        return run_detached_start(fx, host, g, argv, r);
}

/* A typo in vmlock.conf or qemu-sanlock.conf is an error naming file and
 * line: the guest never runs (with the nop driver, beside another host's
 * writer). */
static void
test_start_config_typo(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *sanlock_conf = g_build_filename(h1->config_dir, "qemu-sanlock.conf",
                                                         NULL);
        g_autofree char *sanlock_text = NULL;
        g_autofree char *typo_dir = sanlock_test_config_dir_new(NULL);
        g_autofree char *typo_conf = g_build_filename(typo_dir, "vmlock.conf", NULL);
        g_autofree char *typo_sanlock_conf = g_build_filename(typo_dir, "qemu-sanlock.conf",
                                                              NULL);
        g_autofree char *typo_sanlock_text = NULL;
        g_autofree char *expect = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };

        g_assert_true(g_file_get_contents(sanlock_conf, &sanlock_text, NULL, NULL));
        g_assert_true(g_file_set_contents(typo_sanlock_conf, sanlock_text, -1, NULL));
        g_assert_true(g_file_set_contents(typo_conf, "lock_manger = \"sanlock\"\n", -1, NULL));
        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        g_assert_cmpint(guest_start(fx, h2, &a, NULL, NULL, NULL, &r), ==, 0);

        g_assert_cmpint(guest_start_config(fx, h1, &b, typo_dir, &r), ==, 125);
        expect = g_strdup_printf("%s:1: unknown key 'lock_manger' (did you mean "
                                 "'lock_manager'?)", typo_conf);
        g_assert_true(contains(r.err, expect));
        g_assert_false(g_file_test(b.ready, G_FILE_TEST_EXISTS));

        /* The driver's config: auto_disk_leases misspelt would leave the
         * disks without leases. */
        g_assert_true(g_file_set_contents(typo_conf, "lock_manager = \"sanlock\"\n", -1, NULL));
        typo_sanlock_text = g_strconcat(sanlock_text, "\nauto_disk_lease = 1\n", NULL);
        g_assert_true(g_file_set_contents(typo_sanlock_conf, typo_sanlock_text, -1, NULL));
        g_assert_cmpint(guest_start_config(fx, h1, &b, typo_dir, &r), ==, 125);
        g_assert_true(contains(r.err, "unknown key 'auto_disk_lease' (did you mean "
                                      "'auto_disk_leases'?)"));
        g_assert_true(contains(r.err, typo_sanlock_conf));
        g_assert_false(g_file_test(b.ready, G_FILE_TEST_EXISTS));
        assert_holder(fx, disk, "host 2");
}

/* A start refused because another host has the disk names a guest of this
 * host only if it holds the disk: one started --paused (holding nothing)
 * is not the culprit. */
static void
test_start_refused_stale_local(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_auto(Guest) idle = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(Guest) late = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &idle, "idle", devices, NULL);
        guest_init(fx, &other, "other", devices, NULL);
        guest_init(fx, &late, "late", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &idle, "--paused", NULL, NULL, &r), ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 0);
        g_assert_cmpint(guest_start(fx, h1, &late, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "in use by host 2"));
        g_assert_false(contains(r.err, idle.name));
        g_assert_false(contains(r.err, "here has it"));
}

/* A damaged lease file (empty, truncated, zeroed) is named, with what is
 * wrong with it and what to do, by start and status --disk: not sanlock's
 * errno of its reads, nor a removal that never happened. */
static void
test_damaged_lease_file(Fixture *fx, gconstpointer data)
{
        static const struct {
                const char *what;
                gsize size;     /* of the good file kept; 0: none, G_MAXSIZE: zeroed */
                const char *expect;
        } cases[] = {
                { "empty", 0, "it is empty (0 bytes)" },
                { "truncated", 100, "it is 100 bytes long, shorter than one lease" },
                { "zeroed", G_MAXSIZE, "it holds no sanlock lease (zeroed or overwritten)" },
        };
        const SanlockTestHost *h1 = sanlock_test_host(1);

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *disk = disk_path(fx, cases[i].what);
                g_autofree char *devices = disk_xml(disk);
                g_autofree char *lease = lease_file_of(disk);
                g_autofree char *good = NULL;
                g_autofree char *expect = NULL;
                gsize good_len = 0;
                g_auto(Guest) g = { 0 };
                g_auto(RunResult) r = { 0 };

                /* A real lease file first, then damaged. */
                guest_init(fx, &g, cases[i].what, devices, NULL);
                g_assert_cmpint(guest_start(fx, h1, &g, NULL, NULL, NULL, &r), ==, 0);
                guest_kill(fx, h1, &g, disk);
                g_assert_true(g_file_get_contents(lease, &good, &good_len, NULL));
                if (cases[i].size == G_MAXSIZE)
                        memset(good, 0, good_len);
                else
                        good_len = cases[i].size;
                g_assert_true(g_file_set_contents(lease, good, (gssize)good_len, NULL));

                expect = g_strdup_printf("the lease file %s of disk %s is damaged: %s", lease,
                                         disk, cases[i].expect);
                g_assert_cmpint(guest_start(fx, h1, &g, NULL, NULL, NULL, &r), ==, 125);
                g_assert_true(contains(r.err, expect));
                g_assert_true(contains(r.err, "vmlock-sanlock-cleanup --remove-damaged"));
                vmlock_as(fx, h1, &r, "status", "--disk", disk, NULL);
                g_assert_cmpint(r.status, ==, 1);
                g_assert_true(contains(r.err, expect));

                /* Removed, it is made anew. */
                g_assert_cmpint(unlink(lease), ==, 0);
                g_assert_cmpint(guest_start(fx, h1, &g, NULL, NULL, NULL, &r), ==, 0);
        }
}

/* A disk_lease_dir that does not exist is said so, not "not a directory". */
static void
test_lease_dir_missing(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *missing = g_build_filename(fx->dir, "no-such-dir", NULL);
        g_autofree char *conf = g_strdup_printf("auto_disk_leases = 1\n"
                                                "disk_lease_dir = \"%s\"\nhost_id = 1\n",
                                                missing);
        g_autofree char *config_dir = sanlock_test_config_dir_new(conf);
        g_autofree char *vmlock_conf = g_build_filename(config_dir, "vmlock.conf", NULL);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *expect = NULL;
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };

        g_assert_true(g_file_set_contents(vmlock_conf, "lock_manager = \"sanlock\"\n", -1,
                                          NULL));
        guest_init(fx, &g, "nodir", devices, NULL);
        g_assert_cmpint(guest_start_config(fx, h1, &g, config_dir, &r), ==, 124);
        expect = g_strdup_printf("disk_lease_dir %s (%s/qemu-sanlock.conf) does not exist",
                                 missing, config_dir);
        g_assert_true(contains(r.err, expect));
}

/* QEMU run through a wrapper (env, taskset...) with a monitor of its own
 * is refused as QEMU itself is: that monitor could resume it without its
 * leases; so is a gdbstub. Nothing runs, the disk stays free. */
static void
test_start_wrapped_monitor(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *lease = lease_file_of(disk);
        g_autofree char *sock = g_build_filename(fx->dir, "own.qmp", NULL);
        g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", sock);
        const char *const wrapped[] = { "env", QEMU_NAME, "-machine", "none", "-display",
                                        "none", "-qmp", qmp, NULL };
        const char *const with_option[] = { "--qemu", NULL };
        g_autofree char *gdb_sock = g_build_filename(fx->dir, "gdb.sock", NULL);
        g_autofree char *gdb_server = g_strdup_printf("unix:%s,server=on,wait=off", gdb_sock);
        const char *const gdb[] = { QEMU_NAME, "-machine", "none", "-display", "none", "-gdb",
                                    gdb_server, NULL };
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        guest_init(fx, &g, "wrapped", devices, NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &g, NULL, NULL, wrapped, &r), ==, 125);
        g_assert_true(contains(r.err, "-qmp: vmlock is the only QMP client"));
        g_assert_cmpint(qemu_start_args(fx, h1, &g, NULL, with_option[0], wrapped, &r), ==,
                        125);
        g_assert_true(contains(r.err, "-qmp: vmlock is the only QMP client"));
        /* a gdbstub's continue would resume a guest vmlock paused */
        g_assert_cmpint(qemu_start_args(fx, h1, &g, NULL, NULL, gdb, &r), ==, 125);
        g_assert_true(contains(r.err, "-gdb: a gdbstub can resume the guest"));
        /* refused before anything was locked, or run */
        g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(gdb_sock, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(lease, G_FILE_TEST_EXISTS));
}

/* A cdrom without <readonly/> takes a shared lease, as a readonly disk:
 * two hosts' guests boot one ISO, and a writer of it is still refused. */
static void
test_start_cdrom_shared(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *iso = disk_path(fx, "iso");
        g_autofree char *cdrom = g_strdup_printf("    <disk type='file' device='cdrom'>\n"
                                                 "      <source file='%s'/>"
                                                 "<target dev='hdc'/>\n"
                                                 "    </disk>\n",
                                                 iso);
        g_autofree char *writer = disk_xml(iso);
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "cd1", cdrom, NULL);
        guest_init(fx, &b, "cd2", cdrom, NULL);
        guest_init(fx, &c, "writer", writer, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "shared (readonly)  held"));
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 124);
}

/* `status --disk --json` as @host, parsed. */
static JsonObject *
disk_status_json(Fixture *fx, const SanlockTestHost *host, const char *disk)
{
        g_autoptr(GError) error = NULL;
        g_auto(RunResult) r = { 0 };
        JsonNode *root;

        vmlock_as(fx, host, &r, "status", "--disk", disk, "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        root = json_from_string(r.out, &error);
        g_assert_no_error(error);
        return json_object_ref(json_node_get_object(root));
}

/* status --disk --json: the holders as members (host id and name, this
 * host or not, the guests of this host that hold it), and the mode. */
static void
test_status_disk_json(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *unused = disk_path(fx, "unused");
        g_autofree char *devices = disk_xml(disk);
        g_autoptr(JsonObject) seen_by_2 = NULL;
        g_autoptr(JsonObject) seen_by_1 = NULL;
        g_autoptr(JsonObject) free_disk = NULL;
        g_autoptr(JsonObject) no_file = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(RunResult) r = { 0 };
        JsonObject *holder;
        JsonArray *guests;

        guest_init(fx, &a, "a", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);

        seen_by_2 = disk_status_json(fx, h2, disk);
        g_assert_cmpstr(json_object_get_string_member(seen_by_2, "mode"), ==, "exclusive");
        g_assert_true(contains(json_object_get_string_member(seen_by_2, "description"),
                               "held exclusively by host 1"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(seen_by_2,
                                                                            "holders")),
                         ==, 1);
        holder = json_array_get_object_element(json_object_get_array_member(seen_by_2,
                                                                            "holders"), 0);
        g_assert_cmpint(json_object_get_int_member(holder, "host_id"), ==, 1);
        g_assert_cmpstr(json_object_get_string_member(holder, "host_name"), ==, h1->name);
        g_assert_false(json_object_get_boolean_member(holder, "self"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(holder, "guests")),
                         ==, 0);

        seen_by_1 = disk_status_json(fx, h1, disk);
        holder = json_array_get_object_element(json_object_get_array_member(seen_by_1,
                                                                            "holders"), 0);
        g_assert_true(json_object_get_boolean_member(holder, "self"));
        guests = json_object_get_array_member(holder, "guests");
        g_assert_cmpuint(json_array_get_length(guests), ==, 1);
        g_assert_cmpstr(json_array_get_string_element(guests, 0), ==, a.name);

        vmlock_as(fx, h1, &r, "stop", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        free_disk = disk_status_json(fx, h2, disk);
        g_assert_cmpstr(json_object_get_string_member(free_disk, "mode"), ==, "free");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(free_disk,
                                                                            "holders")),
                         ==, 0);
        no_file = disk_status_json(fx, h2, unused);
        g_assert_cmpstr(json_object_get_string_member(no_file, "mode"), ==, "no-file");
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

/* The migration handoff: pause --release on host 1 (QEMU: stopped and
 * flushed first), start --paused and resume --state on host 2; host 1 then
 * can't take the disk back. */
static void
test_migrate(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *state = NULL;
        g_autofree char *src_qmp = NULL;
        g_autofree char *dst_qmp = NULL;
        g_auto(Guest) src = { 0 };
        g_auto(Guest) dst = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        guest_init(fx, &src, "mig", devices, NULL);
        /* The same domain (name, uuid) on the other host. */
        dst.name = g_strdup(src.name);
        dst.xml = g_strdup(src.xml);

        g_assert_cmpint(qemu_start(fx, h1, &src, NULL, NULL, &r), ==, 0);
        src_qmp = qmp_proxy_path(fx, h1, src.name);
        g_assert_true(qemu_running(src_qmp));
        vmlock_as(fx, h1, &r, "pause", "--release", src.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        g_assert_true(g_str_has_prefix(state, "__LIBVIRT__DISKS__:"));
        g_assert_false(qemu_running(src_qmp));
        vmlock_as(fx, h1, &r, "status", src.name, NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        g_assert_true(contains(r.out, "exclusive  released"));
        vmlock_as(fx, h1, &r, "inquire", src.name, NULL);
        g_assert_cmpstr(g_strstrip(r.out), ==, state);

        /* Destination: registered, QEMU started with -S, no leases yet. */
        g_assert_cmpint(qemu_start(fx, h2, &dst, NULL, "--paused", &r), ==, 0);
        dst_qmp = qmp_proxy_path(fx, h2, dst.name);
        g_assert_false(qemu_running(dst_qmp));
        vmlock_as(fx, h2, &r, "resume", dst.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_running(dst_qmp));
        vmlock_as(fx, h2, &r, "status", dst.name, NULL);
        g_assert_true(contains(r.out, "exclusive  held"));

        /* The source's saved state is stale now: refused, and it stays paused. */
        vmlock_as(fx, h1, &r, "resume", src.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, disk));
        g_assert_false(qemu_running(src_qmp));
}

/* Waits until host 2 sees @disk's lease free (a holder's daemon writes the
 * release a moment after it forgot the holder). */
static void
wait_disk_free(Fixture *fx, const char *disk)
{
        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                g_autofree char *holder = disk_holder(fx, disk);

                if (g_str_equal(holder, "free"))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("the lease of %s is not free after 10 s", disk);
}

/* A state given to resume must list every lease the guest is to hold: an
 * empty one, or one truncated by a failed copy between hosts, is refused,
 * never taken without its version check. Resume without a state (start
 * --paused, then resume on the same host) still takes them fresh. */
static void
test_resume_state_coverage(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk1 = disk_path(fx, "one");
        g_autofree char *disk2 = disk_path(fx, "two");
        g_autofree char *xml1 = disk_xml(disk1);
        g_autofree char *xml2 = disk_xml(disk2);
        g_autofree char *devices = g_strconcat(xml1, xml2, NULL);
        g_autofree char *state = NULL;
        g_autofree char *first = NULL;
        g_autofree char *cut = NULL;
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(RunResult) r = { 0 };

        guest_init(fx, &a, "cover", devices, NULL);
        b.name = g_strdup(a.name);
        b.xml = g_strdup(a.xml);
        b.ready = g_strconcat(a.ready, ".b", NULL);
        guest_init(fx, &c, "plain", devices, NULL);

        /* The state of both leases, as host 1 held them. */
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h1, &r, "inquire", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        g_assert_nonnull(strchr(state, ' '));
        guest_kill(fx, h1, &a, disk1);
        wait_disk_free(fx, disk2);

        g_assert_cmpint(guest_start(fx, h2, &b, "--paused", NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", "", NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, disk1));
        g_assert_true(contains(r.err, disk2));
        g_assert_true(contains(r.err, "does not list"));

        /* The copy stopped after the first lease. */
        first = g_strndup(state, strcspn(state, " "));
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", first, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, "does not list"));
        /* ... or in the middle of one. */
        cut = g_strndup(state, strlen(first) + 20);
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", cut, NULL);
        g_assert_cmpint(r.status, ==, 124);
        /* ... or just before a lease's version. */
        g_free(cut);
        cut = g_strdup_printf("%.*s %s", (int)(strrchr(first, ':') - first), first,
                              state + strlen(first) + 1);
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", cut, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, disk1));
        g_assert_false(g_file_test(b.ready, G_FILE_TEST_EXISTS));
        assert_holder(fx, disk1, "free");
        assert_holder(fx, disk2, "free");

        /* The whole state passes. */
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_file(b.ready);
        assert_holder(fx, disk2, "host 2");
        guest_kill(fx, h2, &b, disk1);
        wait_disk_free(fx, disk2);

        /* No state: a paused start here is resumed as before. */
        g_assert_cmpint(guest_start(fx, h1, &c, "--paused", NULL, NULL, &r), ==, 0);
        vmlock_as(fx, h1, &r, "resume", c.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_file(c.ready);
        assert_holder(fx, disk2, "host 1");
}

/* A disk hot-plugged at the migration source is in the state the source
 * hands over, but not in the destination's XML: the destination takes its
 * lease too (with its version check), and hands it on at its own release. */
static void
test_migrate_hotplugged(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "boot");
        g_autofree char *hot = disk_path(fx, "hot");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *hot_devices = disk_xml(hot);
        g_autofree char *hot_lease = lease_file_of(hot);
        g_autofree char *hot_md5 = g_path_get_basename(hot_lease);
        g_autofree char *hot_lease_line = g_strdup_printf(
                "disk lease %s (%s), exclusive  held (handed over", hot_md5, hot_lease);
        g_autofree char *state = NULL;
        g_autofree char *back = NULL;
        g_autofree char *src_qmp = NULL;
        g_autofree char *dst_qmp = NULL;
        g_auto(Guest) src = { 0 };
        g_auto(Guest) dst = { 0 };
        g_auto(Guest) thief = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        guest_init(fx, &src, "hotmig", devices, NULL);
        dst.name = g_strdup(src.name);
        dst.xml = g_strdup(src.xml);
        guest_init(fx, &thief, "thief", hot_devices, NULL);

        g_assert_cmpint(qemu_start(fx, h1, &src, NULL, NULL, &r), ==, 0);
        src_qmp = qmp_proxy_path(fx, h1, src.name);
        vmlock_as(fx, h1, &r, "attach-disk", "--lease-only", src.name, hot, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, hot, "host 1");
        vmlock_as(fx, h1, &r, "pause", "--release", src.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        wait_disk_free(fx, hot);

        g_assert_cmpint(qemu_start(fx, h2, &dst, NULL, "--paused", &r), ==, 0);
        dst_qmp = qmp_proxy_path(fx, h2, dst.name);
        vmlock_as(fx, h2, &r, "resume", dst.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_running(dst_qmp));
        assert_holder(fx, disk, "host 2");
        assert_holder(fx, hot, "host 2");
        g_assert_cmpint(guest_start(fx, h1, &thief, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "in use by host 2"));
        /* status says it holds the lease, though its disk is not in the XML */
        vmlock_as(fx, h2, &r, "status", dst.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, hot_lease_line));

        /* Back to host 1: the hot-plugged disk's lease goes along. */
        vmlock_as(fx, h2, &r, "pause", "--release", dst.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        back = g_strdup(g_strstrip(r.out));
        wait_disk_free(fx, hot);
        vmlock_as(fx, h1, &r, "resume", src.name, "--state", back, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_running(src_qmp));
        assert_holder(fx, disk, "host 1");
        assert_holder(fx, hot, "host 1");
}

/* ---- hotplug through QEMU ---------------------------------------------------- */

/* attach-disk gives QEMU the disk once its lease is held; detach-disk
 * releases the lease only after QEMU let go; a refused blockdev-add gives
 * the lease back. */
static void
test_hotplug_qemu(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        static const char *const qemu_args[] = { QEMU_PC_ARGS, NULL };
        g_autofree char *disk = disk_path(fx, "hot");
        g_autofree char *missing = disk_path(fx, "missing");
        g_autofree char *devices = g_strdup("");
        g_autofree char *other_devices = disk_xml(disk);
        g_autofree char *proxy = NULL;
        g_autofree char *holder = NULL;
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        guest_init(fx, &vm, "hot", devices, NULL);
        guest_init(fx, &other, "other", other_devices, NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &vm, NULL, NULL, qemu_args, &r), ==, 0);
        proxy = qmp_proxy_path(fx, h1, vm.name);

        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk, "--bus", "scsi", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_has_image(proxy, disk));
        holder = disk_holder(fx, disk);
        g_assert_cmpstr(holder, ==, "host 1");
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "in use by host 1"));

        /* SCSI unplug needs no guest OS: QEMU lets go, then the lease goes. */
        vmlock_as(fx, h1, &r, "detach-disk", vm.name, disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(qemu_has_image(proxy, disk));
        g_clear_pointer(&holder, g_free);
        holder = disk_holder(fx, disk);
        g_assert_cmpstr(holder, ==, "free");
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_false(contains(r.out, disk));

        /* virtio-blk on a PC without an OS: no guest agrees to the unplug;
         * detach-disk times out and the lease stays with QEMU's image. */
        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        vmlock_as(fx, h1, &r, "detach-disk", vm.name, disk, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "has not let go"));
        g_assert_true(qemu_has_image(proxy, disk));
        g_clear_pointer(&holder, g_free);
        holder = disk_holder(fx, disk);
        g_assert_cmpstr(holder, ==, "host 1");

        /* QEMU refuses an image that does not exist: the lease goes back. */
        vmlock_as(fx, h1, &r, "attach-disk", vm.name, missing, "--bus", "scsi", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "QEMU refused 'blockdev-add'"));
        g_assert_true(contains(r.err, missing));
        g_clear_pointer(&holder, g_free);
        holder = disk_holder(fx, missing);
        g_assert_cmpstr(holder, ==, "free");
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_false(contains(r.out, missing));
}

/* Whether QOM object @path of the guest behind @proxy has a member @name
 * (prefix: any member starting so). */
static gboolean
qom_has_member(const char *proxy, const char *path, const char *name, gboolean prefix)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *arguments = g_strdup_printf("{\"path\": \"%s\"}", path);
        g_autoptr(JsonNode) members = qmp_via_proxy_json(proxy, "qom-list", arguments, &error);
        JsonArray *array;

        g_assert_no_error(error);
        array = json_node_get_array(members);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                const char *member = json_object_get_string_member(
                        json_array_get_object_element(array, i), "name");

                if (prefix ? g_str_has_prefix(member, name) : g_str_equal(member, name))
                        return TRUE;
        }
        return FALSE;
}

/* The cache.direct of QEMU's node on @path. */
static gboolean
qemu_image_direct(const char *proxy, const char *path)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) nodes = qmp_via_proxy(proxy, "query-named-block-nodes", &error);
        JsonArray *array;

        g_assert_no_error(error);
        array = json_node_get_array(nodes);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonObject *node = json_array_get_object_element(array, i);

                if (g_strcmp0(json_object_get_string_member_with_default(node, "file", NULL),
                              path) == 0)
                        return json_object_get_boolean_member(
                                json_object_get_object_member(node, "cache"), "direct");
        }
        g_error("QEMU has no node on %s", path);
}

/* On q35 a virtio disk goes into a free pcie-root-port, and with none left
 * the error names the option to add one (the lease goes back); --bus scsi
 * uses the guest's own virtio-scsi controller; the cache mode is direct I/O
 * unless --cache says otherwise. */
static void
test_hotplug_q35(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        static const char *const qemu_args[] = {
                QEMU_NAME, "-machine", "q35,accel=tcg", "-m", "64", "-display", "none",
                "-nodefaults", "-device", "pcie-root-port,id=hp1,chassis=1", "-device",
                "virtio-scsi-pci,id=scsi0", NULL,
        };
        g_autofree char *disk1 = disk_path(fx, "virtio");
        g_autofree char *disk2 = disk_path(fx, "noport");
        g_autofree char *disk3 = disk_path(fx, "scsi");
        g_autofree char *proxy = NULL;
        g_autofree char *holder = NULL;
        g_auto(Guest) vm = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk1, 1 << 20);
        image_create(disk2, 1 << 20);
        image_create(disk3, 1 << 20);
        guest_init(fx, &vm, "q35", "", NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &vm, NULL, NULL, qemu_args, &r), ==, 0);
        proxy = qmp_proxy_path(fx, h1, vm.name);

        g_assert_false(qom_has_member(proxy, "/machine/peripheral/hp1/hp1", "child[", TRUE));
        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk1, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_has_image(proxy, disk1));
        g_assert_true(qom_has_member(proxy, "/machine/peripheral/hp1/hp1", "child[", TRUE));
        g_assert_true(qemu_image_direct(proxy, disk1));

        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk2, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "no free pcie-root-port"));
        g_assert_true(contains(r.err, "-device pcie-root-port,id="));
        g_assert_false(qemu_has_image(proxy, disk2));
        holder = disk_holder(fx, disk2);
        g_assert_cmpstr(holder, ==, "free");

        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk3, "--bus", "scsi", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_has_image(proxy, disk3));
        g_assert_true(qom_has_member(proxy, "/machine/peripheral/scsi0/virtio-backend/scsi0.0",
                                     "child[", TRUE));
        g_assert_false(qom_has_member(proxy, "/machine/peripheral", "vmlock-scsi0", FALSE));
        vmlock_as(fx, h1, &r, "detach-disk", vm.name, disk3, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(qemu_has_image(proxy, disk3));

        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk3, "--bus", "scsi", "--cache",
                  "writeback", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(qemu_image_direct(proxy, disk3));
        vmlock_as(fx, h1, &r, "attach-disk", vm.name, disk2, "--cache", "fast", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "unknown cache mode 'fast'"));
        g_clear_pointer(&holder, g_free);
        holder = disk_holder(fx, disk2);
        g_assert_cmpstr(holder, ==, "free");
}

/* Another tool's blockdev-add through the proxy takes the image's lease
 * first; blockdev-del gives it back once QEMU closed it. */
static void
test_proxy_blockdev(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        static const char *const qemu_args[] = { QEMU_PC_ARGS, NULL };
        g_autofree char *disk = disk_path(fx, "proxied");
        g_autofree char *busy = disk_path(fx, "busy");
        g_autofree char *busy_devices = disk_xml(busy);
        g_autofree char *proxy = NULL;
        g_autofree char *holder = NULL;
        g_autofree char *add_disk = NULL;
        g_autofree char *add_busy = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        image_create(busy, 1 << 20);
        guest_init(fx, &vm, "proxied", "", NULL);
        guest_init(fx, &other, "busy", busy_devices, NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &vm, NULL, NULL, qemu_args, &r), ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 0);
        proxy = qmp_proxy_path(fx, h1, vm.name);

        add_disk = g_strdup_printf("{\"driver\": \"file\", \"node-name\": \"p0\", "
                                   "\"filename\": \"%s\"}", disk);
        ret = qmp_via_proxy_json(proxy, "blockdev-add", add_disk, &error);
        g_assert_no_error(error);
        holder = disk_holder(fx, disk);
        g_assert_cmpstr(holder, ==, "host 1");
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_true(contains(r.out, disk));
        /* A format node on top of it is fine. */
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-add",
                                 "{\"driver\": \"raw\", \"node-name\": \"p0-raw\", "
                                 "\"file\": \"p0\"}", &error);
        g_assert_no_error(error);
        /* An inline image under a format node could dodge the lease. */
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-add",
                                 "{\"driver\": \"raw\", \"node-name\": \"x\", "
                                 "\"file\": {\"driver\": \"file\", \"filename\": "
                                 "\"/dev/null\"}}", &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_true(contains(error->message, "must name its file"));
        g_clear_error(&error);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-add",
                                 "{\"driver\": \"nbd\", \"node-name\": \"n\", "
                                 "\"server\": {\"type\": \"unix\", \"path\": \"/x\"}}",
                                 &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_true(contains(error->message, "cannot map it to a disk path"));
        g_clear_error(&error);

        /* Held by host 2: refused with the holder, QEMU never sees it. */
        add_busy = g_strdup_printf("{\"driver\": \"file\", \"node-name\": \"b0\", "
                                   "\"filename\": \"%s\"}", busy);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-add", add_busy, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_true(contains(error->message, "in use by host 2"));
        g_clear_error(&error);
        g_assert_false(qemu_has_image(proxy, busy));

        /* blockdev-del: the lease goes once QEMU closed the image. */
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-del", "{\"node-name\": \"p0-raw\"}", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "blockdev-del", "{\"node-name\": \"p0\"}", &error);
        g_assert_no_error(error);
        g_assert_false(qemu_has_image(proxy, disk));
        g_clear_pointer(&holder, g_free);
        holder = disk_holder(fx, disk);
        g_assert_cmpstr(holder, ==, "free");
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_false(contains(r.out, disk));
}

/* ---- images QEMU opened without a lease ---------------------------------------- */

static char *
config_requiring_leases(Fixture *fx, const SanlockTestHost *host)
{
        g_autofree char *dir = g_build_filename(fx->dir, "conf-require", NULL);
        const char *const files[] = { "vmlock.conf", "qemu-sanlock.conf" };

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *from = g_build_filename(host->config_dir, files[i], NULL);
                g_autofree char *to = g_build_filename(dir, files[i], NULL);
                g_autofree char *text = NULL;
                g_autofree char *more = NULL;
                g_autoptr(GError) error = NULL;

                g_file_get_contents(from, &text, NULL, &error);
                g_assert_no_error(error);
                more = g_strconcat(text, i == 1 ? "\nrequire_lease_for_disks = 1\n" : "", NULL);
                g_file_set_contents(to, more, -1, &error);
                g_assert_no_error(error);
        }
        return g_steal_pointer(&dir);
}

/* An image QEMU opens writable that the domain does not lease read-write,
 * hidden from vmlock's reading of the arguments (a json: pseudo-protocol:
 * a warning at start, then QEMU's own list of images tells): status says
 * UNPROTECTED; with require_lease_for_disks the start fails. */
static void
test_unprotected(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *leased = disk_path(fx, "leased");
        g_autofree char *extra = disk_path(fx, "extra");
        g_autofree char *ro = disk_path(fx, "ro");
        g_autofree char *extra2 = disk_path(fx, "extra2");
        g_autofree char *leased_xml = disk_xml(leased);
        g_autofree char *devices = g_strdup_printf("%s    <disk type='file' device='disk'>\n"
                                                   "      <source file='%s'/><readonly/>\n"
                                                   "    </disk>\n",
                                                   leased_xml, ro);
        g_autofree char *arg_leased = g_strdup_printf("driver=file,node-name=l0,filename=%s",
                                                      leased);
        g_autofree char *arg_extra = g_strdup_printf(
                "if=none,id=e0,file=json:{\"driver\":\"raw\",,\"file\":{\"driver\":\"file\",,"
                "\"filename\":\"%s\"}}",
                extra);
        g_autofree char *arg_ro = g_strdup_printf(
                "driver=file,node-name=r0,filename=%s,read-only=on,locking=off", ro);
        g_autofree char *arg_ro_rw = g_strdup_printf(
                "if=none,id=r1,file=json:{\"driver\":\"raw\",,\"file\":{\"driver\":\"file\",,"
                "\"filename\":\"%s\",,\"locking\":\"off\"}}",
                ro);
        g_autofree char *arg_extra2 = g_strdup_printf(
                "if=none,id=e0,file=json:{\"driver\":\"raw\",,\"file\":{\"driver\":\"file\",,"
                "\"filename\":\"%s\"}}",
                extra2);
        g_autofree char *conf = config_requiring_leases(fx, h1);
        g_autofree char *conf_option = g_strconcat("--config=", conf, NULL);
        g_autofree char *line = NULL;
        const char *qemu_args[] = { QEMU_PC_ARGS, "-blockdev", arg_leased, "-drive",
                                    arg_extra, "-blockdev", arg_ro, "-drive", arg_ro_rw, NULL };
        const char *qemu_args2[] = { QEMU_PC_ARGS, "-drive", arg_extra2, NULL };
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) strict = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(leased, 1 << 20);
        image_create(extra, 1 << 20);
        image_create(ro, 1 << 20);
        image_create(extra2, 1 << 20);
        guest_init(fx, &vm, "unprot", devices, NULL);
        guest_init(fx, &strict, "strict", "", NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &vm, NULL, NULL, qemu_args, &r), ==, 0);
        g_assert_true(contains(r.err, "is not a local path: vmlock takes no lease for it"));
        /* Said at start, not only to whoever asks later. */
        g_assert_true(contains(r.err, "warning: guest '"));
        g_assert_true(contains(r.err, "writable without a lease"));
        g_assert_true(contains(r.err, extra));
        g_assert_true(contains(r.err, ro));
        g_assert_false(contains(r.err, leased));

        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        line = g_strdup_printf("  UNPROTECTED  %s  ", extra);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);
        vmlock_as(fx, h1, &r, "list", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonParser) parser = json_parser_new();
                g_autoptr(GError) error = NULL;
                JsonArray *guests;
                guint found = 0;

                json_parser_load_from_data(parser, r.out, -1, &error);
                g_assert_no_error(error);
                guests = json_object_get_array_member(
                        json_node_get_object(json_parser_get_root(parser)), "guests");
                for (guint i = 0; i < json_array_get_length(guests); i++) {
                        JsonObject *guest = json_array_get_object_element(guests, i);

                        if (g_str_equal(json_object_get_string_member(guest, "name"), vm.name)) {
                                found++;
                                g_assert_cmpuint(json_array_get_length(
                                        json_object_get_array_member(guest, "unprotected")),
                                                 ==, 2);
                        }
                }
                g_assert_cmpuint(found, ==, 1);
        }
        vmlock_as(fx, h1, &r, "metrics", NULL);
        line = g_strdup_printf("vmlock_guest_unprotected_images{guest=\"%s\"} 2\n", vm.name);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);

        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        line = g_strdup_printf("UNPROTECTED  %s  ", extra);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("UNPROTECTED  %s  ", ro);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("UNPROTECTED  %s  ", leased);
        g_assert_false(contains(r.out, line));
        vmlock_as(fx, h1, &r, "status", "--json", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonParser) parser = json_parser_new();
                g_autoptr(GError) error = NULL;
                JsonArray *unprotected;

                json_parser_load_from_data(parser, r.out, -1, &error);
                g_assert_no_error(error);
                unprotected = json_object_get_array_member(
                        json_node_get_object(json_parser_get_root(parser)), "unprotected");
                g_assert_cmpuint(json_array_get_length(unprotected), ==, 2);
        }

        /* require_lease_for_disks: the start fails, naming the image. */
        g_assert_cmpint(qemu_start_args(fx, h1, &strict, NULL, conf_option, qemu_args2, &r), !=,
                        0);
        g_assert_true(contains(r.err, extra2));
        g_assert_true(contains(r.err, "require_lease_for_disks"));
        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_false(contains(r.out, strict.name));
}

/* ---- QEMU guests without a domain XML ------------------------------------------- */

/* "vmlock start --detach [OPTION] --name G -- qemu -machine none ... ARGS"
 * as @host: the disks are QEMU's own arguments. G is a new name from
 * @prefix, or g->name again once it has one. */
static int
qemu_start_argv(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *prefix,
                const char *option, const char *const *args, RunResult *r)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        if (!g->name)
                g->name = sanlock_test_unique_name(prefix);
        g_ptr_array_add(argv, (gpointer)VMLOCK_BIN);
        g_ptr_array_add(argv, (gpointer) "start");
        g_ptr_array_add(argv, (gpointer) "--detach");
        if (option)
                g_ptr_array_add(argv, (gpointer)option);
        g_ptr_array_add(argv, (gpointer) "--name");
        g_ptr_array_add(argv, g->name);
        g_ptr_array_add(argv, (gpointer) "--");
        for (guint i = 0; qemu_base_args[i]; i++)
                g_ptr_array_add(argv, (gpointer)qemu_base_args[i]);
        for (guint i = 0; args[i]; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        return run_detached_start(fx, host, g, argv, r);
}

/* -drive if=none of @path, QEMU's own lock off (two hosts, one kernel). */
static char *
drive_arg(const char *path, const char *more)
{
        return g_strdup_printf("file=%s,if=none,file.locking=off%s%s", path, more ? "," : "",
                               more ? more : "");
}

static char *
guest_uuid(Fixture *fx, const SanlockTestHost *host, const char *name)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        g_auto(RunResult) r = { 0 };

        vmlock_as(fx, host, &r, "status", "--json", name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        json_parser_load_from_data(parser, r.out, -1, &error);
        g_assert_no_error(error);
        return g_strdup(json_object_get_string_member(
                json_node_get_object(json_parser_get_root(parser)), "uuid"));
}

/* No XML: the leases come from -drive; a writer is exclusive (the other
 * host is refused, naming the holder), a cdrom shared with other readers. */
static void
test_argv_start(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "argv-disk");
        g_autofree char *iso = disk_path(fx, "argv-iso");
        g_autofree char *d_disk = drive_arg(disk, "format=raw");
        g_autofree char *d_cdrom = drive_arg(iso, "format=raw,media=cdrom");
        g_autofree char *d_iso_ro = drive_arg(iso, "format=raw,readonly=on");
        g_autofree char *d_iso_rw = drive_arg(iso, "format=raw");
        g_autofree char *holder = NULL;
        g_autofree char *line = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *again = NULL;
        const char *args_a[] = { "-drive", d_disk, "-drive", d_cdrom, NULL };
        const char *args_disk[] = { "-drive", d_disk, NULL };
        const char *args_reader[] = { "-drive", d_iso_ro, NULL };
        const char *args_writer[] = { "-drive", d_iso_rw, NULL };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(Guest) d = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        image_create(iso, 1 << 20);
        g_assert_cmpint(qemu_start_argv(fx, h1, &a, "argv", NULL, args_a, &r), ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        line = g_strdup_printf("%s  exclusive  held", disk);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("%s  shared (readonly)  held", iso);
        g_assert_true(contains(r.out, line));
        g_assert_false(contains(r.out, "UNPROTECTED"));
        /* No --uuid: one derived from the name (version 5), not random. */
        uuid = guest_uuid(fx, h1, a.name);
        g_assert_cmpint(strlen(uuid), ==, 36);
        g_assert_cmpint(uuid[14], ==, '5');

        /* The other host: the writer refused, naming the holder. */
        g_assert_cmpint(qemu_start_argv(fx, h2, &b, "argv-b", NULL, args_disk, &r), ==, 124);
        holder = g_strdup_printf("disk %s is in use by host 1 (%s)", disk, h1->name);
        g_assert_true(contains(r.err, holder));
        /* ... a reader of the cdrom allowed, a writer of it refused. */
        g_assert_cmpint(qemu_start_argv(fx, h2, &c, "argv-c", NULL, args_reader, &r), ==, 0);
        g_assert_cmpint(qemu_start_argv(fx, h2, &d, "argv-d", NULL, args_writer, &r), ==, 124);
        g_assert_true(contains(r.err, iso));

        /* The guest gone, its disk is free for the other host. */
        guest_kill(fx, h1, &a, disk);
        g_assert_cmpint(qemu_start_argv(fx, h2, &b, "argv-b", NULL, args_disk, &r), ==, 0);
        /* Started again, the guest has the same uuid. */
        g_assert_cmpint(qemu_start_argv(fx, h1, &a, "argv", NULL, args_reader, &r), ==, 0);
        again = guest_uuid(fx, h1, a.name);
        g_assert_cmpstr(again, ==, uuid);
}

/* A qcow2 image's backing file gets a shared lease, from QEMU's arguments
 * and from a domain XML alike: no one may start a writer on it. */
static void
test_argv_backing(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *base = disk_path(fx, "base");
        g_autofree char *top = disk_path(fx, "top");
        g_autofree char *top2 = disk_path(fx, "top2");
        g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
        g_autofree char *d_top = drive_arg(top, "format=qcow2");
        g_autofree char *d_top2 = drive_arg(top2, "format=qcow2");
        g_autofree char *xml_base = disk_xml(base);
        g_autofree char *xml_top2 = disk_xml(top2);
        g_autofree char *line = NULL;
        g_autofree char *holder = NULL;
        const char *args_top[] = { "-drive", d_top, NULL };
        const char *args_top2[] = { QEMU_NAME, "-machine", "none", "-display", "none",
                                    "-nodefaults", "-drive", d_top2, NULL };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) writer = { 0 };
        g_auto(Guest) reader = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        if (!qemu_img) {
                g_test_skip("qemu-img (qemu-utils) is not installed");
                return;
        }
        image_create(base, 1 << 20);
        for (guint i = 0; i < 2; i++) {
                const char *argv[] = { qemu_img, "create", "-q", "-f", "qcow2", "-F", "raw",
                                       "-b", base, i ? top2 : top, NULL };
                int status = -1;

                g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                                           NULL, NULL, NULL, &status, NULL));
                g_assert_cmpint(status, ==, 0);
        }

        g_assert_cmpint(qemu_start_argv(fx, h1, &a, "overlay", NULL, args_top, &r), ==, 0);
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        line = g_strdup_printf("%s  exclusive  held", top);
        g_assert_true(contains(r.out, line));
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("%s  shared (readonly)  held", base);
        g_assert_true(contains(r.out, line));

        /* A domain XML writing the backing file, on the other host: refused. */
        guest_init(fx, &writer, "base-writer", xml_base, NULL);
        g_assert_cmpint(qemu_start(fx, h2, &writer, NULL, NULL, &r), ==, 124);
        holder = g_strdup_printf("disk %s is in use by host 1 (%s)", base, h1->name);
        g_assert_true(contains(r.err, holder));
        /* Another overlay of it from a domain XML: its backing file shared too. */
        guest_init(fx, &reader, "overlay2", xml_top2, NULL);
        g_assert_cmpint(qemu_start_args(fx, h2, &reader, NULL, NULL, args_top2, &r), ==, 0);
        vmlock_as(fx, h2, &r, "status", reader.name, NULL);
        g_assert_true(contains(r.out, line));
}

/* With a domain XML, QEMU's arguments must name the same disks, read-only
 * alike: else nothing starts and no lease is left. */
static void
test_argv_disagree(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "xml-disk");
        g_autofree char *other = disk_path(fx, "argv-only");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *d_other = drive_arg(other, "format=raw");
        g_autofree char *d_disk = drive_arg(disk, "format=raw");
        g_autofree char *d_disk_ro = drive_arg(disk, "format=raw,readonly=on");
        g_autofree char *expect = NULL;
        const char *args_other[] = { QEMU_NAME, "-machine", "none", "-display", "none",
                                     "-drive", d_disk, "-drive", d_other, NULL };
        const char *args_ro[] = { QEMU_NAME, "-machine", "none", "-display", "none",
                                  "-drive", d_disk_ro, NULL };
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        guest_init(fx, &g, "disagree", devices, NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &g, NULL, NULL, args_other, &r), ==, 125);
        expect = g_strdup_printf("opens %s, which is not a disk of %s", other, g.xml);
        g_assert_true(contains(r.err, expect));
        g_clear_pointer(&expect, g_free);
        g_assert_cmpint(qemu_start_args(fx, h1, &g, NULL, NULL, args_ro, &r), ==, 125);
        expect = g_strdup_printf("disk %s is read-write in %s but QEMU opens it read-only",
                                 disk, g.xml);
        g_assert_true(contains(r.err, expect));
        vmlock_as(fx, h1, &r, "status", "--disk", disk, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(contains(r.out, "held"));
        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_false(contains(r.out, g.name));
}

/* A source vmlock cannot lease (nbd, a driver it cannot map): a warning
 * naming it, or with require_lease_for_disks a refusal. */
static void
test_argv_remote(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "beside-null");
        g_autofree char *d_disk = drive_arg(disk, "format=raw");
        g_autofree char *conf = config_requiring_leases(fx, h1);
        g_autofree char *conf_option = g_strconcat("--config=", conf, NULL);
        const char *args_null[] = { "-drive", d_disk, "-blockdev",
                                    "driver=null-co,node-name=n0,size=1048576", NULL };
        const char *args_nbd[] = { "-drive", "file=nbd:127.0.0.1:9,format=raw,if=none", NULL };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        g_assert_cmpint(qemu_start_argv(fx, h1, &a, "null", NULL, args_null, &r), ==, 0);
        g_assert_true(contains(r.err, "warning: -blockdev driver=null-co,node-name=n0,"
                                      "size=1048576 (argument 9): driver null-co is not a "
                                      "local path: vmlock takes no lease for it"));

        /* require_lease_for_disks: refused before QEMU runs. */
        g_assert_cmpint(qemu_start_argv(fx, h1, &b, "nbd", conf_option, args_nbd, &r), ==, 125);
        g_assert_true(contains(r.err, "nbd:127.0.0.1:9, which vmlock cannot lease"));
        g_assert_true(contains(r.err, "require_lease_for_disks"));
        /* Without: a warning (QEMU then fails to reach the server itself). */
        qemu_start_argv(fx, h1, &b, "nbd", NULL, args_nbd, &r);
        g_assert_true(contains(r.err, "warning: -drive file=nbd:127.0.0.1:9,format=raw,if=none "
                                      "(argument 7): nbd:127.0.0.1:9 is not a local path"));
}

/* snapshot=on: QEMU writes a temporary overlay of its own, which is no
 * image of anyone's: not UNPROTECTED, and no refusal under
 * require_lease_for_disks; the image itself gets a shared lease. */
static void
test_argv_snapshot(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "snap");
        g_autofree char *d_disk = drive_arg(disk, "format=raw,snapshot=on");
        g_autofree char *conf = config_requiring_leases(fx, h1);
        g_autofree char *conf_option = g_strconcat("--config=", conf, NULL);
        const char *args[] = { "-drive", d_disk, NULL };
        g_auto(Guest) a = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        g_assert_cmpint(qemu_start_argv(fx, h1, &a, "snap", conf_option, args, &r), ==, 0);
        g_assert_false(contains(r.err, "without a lease"));
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(contains(r.out, "UNPROTECTED"));
        g_assert_true(contains(r.out, "shared"));
}

/* ---- live migration ---------------------------------------------------------- */

typedef struct {
        char *qemu_args[16];
        char *blockdev_file;
        char *blockdev_raw;
} MigrationArgs;

/* A PC with the disk as virtio-blk, direct I/O: nothing cached on the host;
 * share-rw lets the tests write it through an NBD export of the same node. */
static void
migration_args_init(MigrationArgs *m, const char *disk)
{
        const char *const pc[] = { QEMU_PC_ARGS };
        guint n = 0;

        m->blockdev_file = g_strdup_printf("driver=file,node-name=f0,cache.direct=on,"
                                           "filename=%s", disk);
        m->blockdev_raw = g_strdup("driver=raw,node-name=d0,file=f0");
        for (guint i = 0; i < G_N_ELEMENTS(pc); i++)
                m->qemu_args[n++] = (char *)pc[i];
        m->qemu_args[n++] = (char *)"-blockdev";
        m->qemu_args[n++] = m->blockdev_file;
        m->qemu_args[n++] = (char *)"-blockdev";
        m->qemu_args[n++] = m->blockdev_raw;
        m->qemu_args[n++] = (char *)"-device";
        m->qemu_args[n++] = (char *)"virtio-blk-pci,drive=d0,id=vd0,share-rw=on";
        m->qemu_args[n] = NULL;
}

static void
migration_args_clear(MigrationArgs *m)
{
        g_free(m->blockdev_file);
        g_free(m->blockdev_raw);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(MigrationArgs, migration_args_clear)

/* qemu-io @command on the guest's disk as QEMU sees it, over a writable NBD
 * export set up through the proxy (and taken down again). */
static gboolean
qemu_io_via_guest(Fixture *fx, const char *proxy, const char *command)
{
        g_autofree char *socket_path = g_build_filename(fx->sock_dir, "nbd.sock", NULL);
        g_autofree char *server = g_strdup_printf(
                "{\"addr\": {\"type\": \"unix\", \"data\": {\"path\": \"%s\"}}}",
                socket_path);
        g_autofree char *uri = g_strdup_printf("nbd+unix:///d0?socket=%s", socket_path);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        const char *argv[] = { "qemu-io", "-f", "raw", "-c", command, uri, NULL };
        int status = -1;

        ret = qmp_via_proxy_json(proxy, "nbd-server-start", server, &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "block-export-add",
                                 "{\"type\": \"nbd\", \"id\": \"e0\", "
                                 "\"node-name\": \"d0\", \"writable\": true}",
                                 &error);
        g_assert_no_error(error);
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error);
        g_assert_no_error(error);
        g_test_message("qemu-io %s: %s%s", command, out, err);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy_json(proxy, "block-export-del", "{\"id\": \"e0\"}", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        ret = qmp_via_proxy(proxy, "nbd-server-stop", &error);
        g_assert_no_error(error);
        /* qemu-io exits 0 even when a pattern does not match: read its words. */
        return g_spawn_check_wait_status(status, NULL) && !contains(out, "Pattern verification") &&
               !contains(err, "Pattern verification") && !contains(out, "failed") &&
               !contains(err, "failed");
}

/* "vmlock migrate NAME URI" as @host; returns the state printed. */
static char *
migrate_as(Fixture *fx, const SanlockTestHost *host, const char *name, const char *uri,
           const char *state_file)
{
        g_auto(RunResult) r = { 0 };
        g_autofree char *option = g_strconcat("--dest-state-file=", state_file, NULL);
        g_autofree char *written = NULL;

        vmlock_as(fx, host, &r, "migrate", option, name, uri, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, "migrate: completed"));
        g_assert_true(g_file_get_contents(state_file, &written, NULL, NULL));
        g_assert_cmpstr(written, ==, r.out);
        return g_strdup(g_strstrip(r.out));
}

static int
incoming_start(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *uri,
               const MigrationArgs *m, RunResult *r)
{
        g_autofree char *option = g_strconcat("--incoming=", uri, NULL);

        return qemu_start_args(fx, host, g, NULL, option, (const char *const *)m->qemu_args,
                               r);
}

/* A running guest with a disk goes host 1 -> host 2 -> host 1 -> host 2;
 * at every step one host at most holds the disk, the data written on one
 * side is read on the other, a destination that cannot take the leases
 * leaves the source able to continue, and a third party taking the lease
 * between release and resume makes both sides refuse. */
static void
test_live_migration(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "migdisk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *state_file = g_build_filename(fx->dir, "state", NULL);
        g_autofree char *uri1 = g_strdup_printf("unix:%s/mig1.sock", fx->sock_dir);
        g_autofree char *uri2 = g_strdup_printf("unix:%s/mig2.sock", fx->sock_dir);
        g_autofree char *uri3 = g_strdup_printf("unix:%s/mig3.sock", fx->sock_dir);
        g_autofree char *uri4 = g_strdup_printf("unix:%s/mig4.sock", fx->sock_dir);
        g_autofree char *s1 = NULL;
        g_autofree char *s2 = NULL;
        g_autofree char *s3 = NULL;
        g_autofree char *s4 = NULL;
        g_autofree char *proxy_a = NULL;
        g_autofree char *proxy_b = NULL;
        g_autofree char *proxy_d = NULL;
        g_autofree char *proxy_e = NULL;
        g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
        g_auto(MigrationArgs) m = { 0 };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(Guest) d = { 0 };
        g_auto(Guest) e = { 0 };
        g_auto(Guest) thief = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        if (!qemu_io) {
                g_test_skip("qemu-io (qemu-utils) is not installed");
                return;
        }
        image_create(disk, 8 << 20);
        migration_args_init(&m, disk);
        guest_init(fx, &a, "live", devices, NULL);
        for (Guest *g = &b; g <= &e; g++) {
                g->name = g_strdup(a.name);
                g->xml = g_strdup(a.xml);
        }
        guest_init(fx, &thief, "thief", devices, NULL);

        /* Host 1 runs the guest, which writes its disk. */
        g_assert_cmpint(qemu_start_args(fx, h1, &a, NULL, NULL,
                                        (const char *const *)m.qemu_args, &r), ==, 0);
        proxy_a = qmp_proxy_path(fx, h1, a.name);
        g_assert_true(qemu_running(proxy_a));
        g_assert_true(qemu_io_via_guest(fx, proxy_a, "write -P 0x5a 0 64k"));
        assert_holder(fx, disk, "host 1");

        /* 1 -> 2. The destination holds nothing until its resume. */
        g_assert_cmpint(incoming_start(fx, h2, &b, uri1, &m, &r), ==, 0);
        assert_holder(fx, disk, "host 1");
        s1 = migrate_as(fx, h1, a.name, uri1, state_file);
        g_assert_true(g_str_has_prefix(s1, "__LIBVIRT__DISKS__:"));
        assert_holder(fx, disk, "free");
        g_assert_false(qemu_running(proxy_a));
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", s1, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, disk, "host 2");
        proxy_b = qmp_proxy_path(fx, h2, b.name);
        g_assert_true(qemu_running(proxy_b));
        /* The source can't come back now: its state is stale. */
        vmlock_as(fx, h1, &r, "resume", a.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_false(qemu_running(proxy_a));
        assert_holder(fx, disk, "host 2");
        g_assert_true(qemu_io_via_guest(fx, proxy_b, "read -P 0x5a 0 64k"));
        g_assert_true(qemu_io_via_guest(fx, proxy_b, "write -P 0xa5 64k 64k"));
        guest_kill(fx, h1, &a, NULL);

        /* 2 -> 1, the destination refused (a stale state): the source
         * takes its leases back and runs on. */
        g_assert_cmpint(incoming_start(fx, h1, &c, uri2, &m, &r), ==, 0);
        s2 = migrate_as(fx, h2, b.name, uri2, state_file);
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h1, &r, "resume", c.name, "--state", s1, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, "state mismatch"));
        g_assert_true(contains(r.err, "its migration source can take them back"));
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h2, &r, "resume", b.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, disk, "host 2");
        g_assert_true(qemu_running(proxy_b));
        guest_kill(fx, h1, &c, NULL);

        /* 2 -> 1 for real; the data written on host 2 is there. */
        g_assert_cmpint(incoming_start(fx, h1, &d, uri3, &m, &r), ==, 0);
        s3 = migrate_as(fx, h2, b.name, uri3, state_file);
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h1, &r, "resume", d.name, "--state", s3, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, disk, "host 1");
        proxy_d = qmp_proxy_path(fx, h1, d.name);
        g_assert_true(qemu_running(proxy_d));
        g_assert_true(qemu_io_via_guest(fx, proxy_d, "read -P 0x5a 0 64k"));
        g_assert_true(qemu_io_via_guest(fx, proxy_d, "read -P 0xa5 64k 64k"));
        guest_kill(fx, h2, &b, NULL);

        /* 1 -> 2, and a third party takes the lease between the release and
         * the resume: the destination refuses, and so does the source. */
        g_assert_cmpint(incoming_start(fx, h2, &e, uri4, &m, &r), ==, 0);
        s4 = migrate_as(fx, h1, d.name, uri4, state_file);
        assert_holder(fx, disk, "free");
        g_assert_cmpint(guest_start(fx, h2, &thief, NULL, NULL, NULL, &r), ==, 0);
        assert_holder(fx, disk, "host 2");
        guest_kill(fx, h2, &thief, disk);
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h2, &r, "resume", e.name, "--state", s4, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_true(contains(r.err, "state mismatch"));
        proxy_e = qmp_proxy_path(fx, h2, e.name);
        g_assert_false(qemu_running(proxy_e));
        vmlock_as(fx, h1, &r, "resume", d.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_false(qemu_running(proxy_d));
        assert_holder(fx, disk, "free");
}

/* Waits up to 10 s for @path (a command's output file) to contain @text. */
static void
wait_file_contains(const char *path, const char *text)
{
        for (int i = 0; i < WAIT_STEPS_10S; i++) {
                g_autofree char *contents = NULL;

                if (g_file_get_contents(path, &contents, NULL, NULL) && contains(contents, text))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("'%s' did not appear in %s within 10 s", text, path);
}

/* The `vmlock migrate` that started a migration is killed before its end:
 * the supervisor hands the leases over on QEMU's MIGRATION event anyway,
 * and the destination takes them. (It used to wait for the command's
 * polling: the source kept the leases, the destination never got them.) */
static void
test_migrate_client_killed(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "migdisk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", fx->sock_dir);
        g_autofree char *proxy_a = NULL;
        g_autofree char *proxy_b = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *state = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(MigrationArgs) m = { 0 };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };
        gboolean released = FALSE;
        pid_t client;

        if (!have_qemu())
                return;
        image_create(disk, 8 << 20);
        migration_args_init(&m, disk);
        guest_init(fx, &a, "killed", devices, NULL);
        b.name = g_strdup(a.name);
        b.xml = g_strdup(a.xml);
        g_assert_cmpint(qemu_start_args(fx, h1, &a, NULL, NULL,
                                        (const char *const *)m.qemu_args, &r), ==, 0);
        proxy_a = qmp_proxy_path(fx, h1, a.name);
        g_assert_cmpint(incoming_start(fx, h2, &b, uri, &m, &r), ==, 0);

        /* Too slow to converge: it stays active until the test lets it end. */
        ret = qmp_via_proxy_json(proxy_a, "migrate-set-parameters",
                                 "{\"max-bandwidth\": 4096, \"downtime-limit\": 1}", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        {
                const char *argv[] = { VMLOCK_BIN, "migrate", a.name, uri, NULL };

                client = spawn_async(fx, argv, env, &out, &err);
        }
        wait_file_contains(err, "migrate: active");
        g_assert_cmpint(kill(client, SIGKILL), ==, 0);
        tool_test_collect(&r, client, out, err);
        g_assert_cmpint(r.status, ==, 128 + SIGKILL);
        assert_holder(fx, disk, "host 1");

        /* Now it may end: nobody watches. */
        ret = qmp_via_proxy_json(proxy_a, "migrate-set-parameters",
                                 "{\"max-bandwidth\": 1073741824, \"downtime-limit\": 300}",
                                 &error);
        g_assert_no_error(error);
        for (int i = 0; i < WAIT_STEPS_10S && !released; i++) {
                vmlock_as(fx, h1, &r, "status", a.name, NULL);
                released = contains(r.out, "state: paused, leases released");
                if (!released)
                        g_usleep(WAIT_STEP_US);
        }
        g_assert_true(released);
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h1, &r, "inquire", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        g_assert_true(g_str_has_prefix(state, "__LIBVIRT__DISKS__:"));
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, disk, "host 2");
        proxy_b = qmp_proxy_path(fx, h2, b.name);
        g_assert_true(qemu_running(proxy_b));
        /* The source is done: a new migrate is refused for what it is. */
        vmlock_as(fx, h1, &r, "migrate", a.name, uri, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "its leases are released already"));
}

/* Ctrl-C on `vmlock migrate` mid-way: the migration is cancelled, the
 * source runs on holding its leases (its images active: it writes), and
 * the destination never got them. */
static void
test_migrate_interrupted(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "intdisk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *uri = g_strdup_printf("unix:%s/int.sock", fx->sock_dir);
        g_autofree char *proxy_a = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *expect = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(MigrationArgs) m = { 0 };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };
        pid_t client;

        if (!have_qemu())
                return;
        image_create(disk, 8 << 20);
        migration_args_init(&m, disk);
        guest_init(fx, &a, "interrupted", devices, NULL);
        b.name = g_strdup(a.name);
        b.xml = g_strdup(a.xml);
        g_assert_cmpint(qemu_start_args(fx, h1, &a, NULL, NULL,
                                        (const char *const *)m.qemu_args, &r), ==, 0);
        proxy_a = qmp_proxy_path(fx, h1, a.name);
        g_assert_cmpint(incoming_start(fx, sanlock_test_host(2), &b, uri, &m, &r), ==, 0);

        /* Too slow to converge: still active when the user gives up. */
        ret = qmp_via_proxy_json(proxy_a, "migrate-set-parameters",
                                 "{\"max-bandwidth\": 4096, \"downtime-limit\": 1}", &error);
        g_assert_no_error(error);
        {
                const char *argv[] = { VMLOCK_BIN, "migrate", a.name, uri, NULL };

                client = spawn_async(fx, argv, env, &out, &err);
        }
        wait_file_contains(err, "migrate: active");
        g_assert_cmpint(kill(client, SIGINT), ==, 0);
        tool_test_collect(&r, client, out, err);
        g_assert_cmpint(r.status, ==, 128 + SIGINT);
        expect = g_strdup_printf("migration of guest '%s' cancelled: it runs on here, holding "
                                 "its leases; its destination got none",
                                 a.name);
        if (!contains(r.err, expect))
                g_error("'%s' not in: %s", expect, r.err);
        g_assert_true(qemu_running(proxy_a));
        assert_holder(fx, disk, "host 1");
        vmlock_as(fx, h1, &r, "status", a.name, NULL);
        g_assert_true(contains(r.out, "state: running\n"));
        g_assert_true(contains(r.out, "exclusive  held"));
        g_assert_true(qemu_io_via_guest(fx, proxy_a, "write -P 0x5a 0 64k"));
}

/* Ctrl-C on `vmlock migrate` too late: QEMU completed the migration and
 * the leases went to the destination while the command was stopped. It
 * says so and prints their state, which the destination then takes. */
static void
test_migrate_interrupted_late(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "latedisk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *uri = g_strdup_printf("unix:%s/late.sock", fx->sock_dir);
        g_autofree char *proxy_a = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *state = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(MigrationArgs) m = { 0 };
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };
        gboolean released = FALSE;
        pid_t client;

        if (!have_qemu())
                return;
        image_create(disk, 8 << 20);
        migration_args_init(&m, disk);
        guest_init(fx, &a, "late", devices, NULL);
        b.name = g_strdup(a.name);
        b.xml = g_strdup(a.xml);
        g_assert_cmpint(qemu_start_args(fx, h1, &a, NULL, NULL,
                                        (const char *const *)m.qemu_args, &r), ==, 0);
        proxy_a = qmp_proxy_path(fx, h1, a.name);
        g_assert_cmpint(incoming_start(fx, h2, &b, uri, &m, &r), ==, 0);
        ret = qmp_via_proxy_json(proxy_a, "migrate-set-parameters",
                                 "{\"max-bandwidth\": 4096, \"downtime-limit\": 1}", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        {
                const char *argv[] = { VMLOCK_BIN, "migrate", a.name, uri, NULL };

                client = spawn_async(fx, argv, env, &out, &err);
        }
        wait_file_contains(err, "migrate: active");
        g_assert_cmpint(kill(client, SIGSTOP), ==, 0);
        wait_state(client, 'T', WAIT_STEPS_10S);
        ret = qmp_via_proxy_json(proxy_a, "migrate-set-parameters",
                                 "{\"max-bandwidth\": 1073741824, \"downtime-limit\": 300}",
                                 &error);
        g_assert_no_error(error);
        for (int i = 0; i < WAIT_STEPS_10S && !released; i++) {
                vmlock_as(fx, h1, &r, "status", a.name, NULL);
                released = contains(r.out, "state: paused, leases released");
                if (!released)
                        g_usleep(WAIT_STEP_US);
        }
        g_assert_true(released);
        /* The Ctrl-C lands now. */
        g_assert_cmpint(kill(client, SIGINT), ==, 0);
        g_assert_cmpint(kill(client, SIGCONT), ==, 0);
        tool_test_collect(&r, client, out, err);
        g_assert_cmpint(r.status, ==, 128 + SIGINT);
        if (!contains(r.err, "had migrated already: its leases are released here"))
                g_error("stderr: %s", r.err);
        state = g_strdup(g_strstrip(r.out));
        g_assert_true(g_str_has_prefix(state, "__LIBVIRT__DISKS__:"));
        assert_holder(fx, disk, "free");
        vmlock_as(fx, h2, &r, "resume", b.name, "--state", state, NULL);
        g_assert_cmpint(r.status, ==, 0);
        assert_holder(fx, disk, "host 2");
}

/* Starts a QEMU guest whose supervisor stops itself at crash point @point
 * (src/supervisor/crash_point.h); returns the supervisor's pid. */
static pid_t
qemu_start_stopping_at(Fixture *fx, const SanlockTestHost *host, Guest *g, const char *point)
{
        static const char *const qemu_args[] = { QEMU_PC_ARGS, NULL };
        g_auto(RunResult) r = { 0 };
        int status;

        g_setenv("VMLOCK_TEST_SUPERVISOR_STOP_AT", point, TRUE);
        status = qemu_start_args(fx, host, g, NULL, NULL, qemu_args, &r);
        g_unsetenv("VMLOCK_TEST_SUPERVISOR_STOP_AT");
        g_assert_cmpint(status, ==, 0);
        return proc_pid_parent(g->pid);
}

/* Runs "vmlock ARG1 ARG2 ARG3" as @host while its guest's supervisor
 * reaches its crash point and stops there; then kills the supervisor -9. */
static void
kill_supervisor_amid(Fixture *fx, const SanlockTestHost *host, pid_t supervisor,
                     const char *arg1, const char *arg2, const char *arg3)
{
        const char *argv[] = { VMLOCK_BIN, arg1, arg2, arg3, NULL };
        g_auto(GStrv) env = host_env(host, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_auto(RunResult) r = { 0 };
        pid_t client = spawn_async(fx, argv, env, &out, &err);

        wait_state(supervisor, 'T', WAIT_STEPS_10S);
        g_assert_cmpint(kill(supervisor, SIGKILL), ==, 0);
        tool_test_collect(&r, client, out, err);
        g_assert_cmpint(r.status, !=, 0);
}

/* The supervisor killed during pause --release, after the lock daemon
 * released the leases but before the record said so: list and status no
 * longer say `running` with its leases; they say what the lock daemon
 * says (nothing held), what was in flight, and how to stop the guest. */
static void
test_supervisor_killed_releasing(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "relkill");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *row = NULL;
        g_autofree char *not_held = NULL;
        g_autofree char *kill_cmd = NULL;
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        pid_t supervisor;

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        guest_init(fx, &g, "relkill", devices, NULL);
        supervisor = qemu_start_stopping_at(fx, h1, &g, "released");
        assert_holder(fx, disk, "host 1");
        kill_supervisor_amid(fx, h1, supervisor, "pause", "--release", g.name);
        wait_disk_free(fx, disk);

        not_held = g_strdup_printf("DAEMON SAYS  disk %s: not held\n", disk);
        kill_cmd = g_strdup_printf("stop it with kill %d", (int)g.pid);
        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        row = g_strdup_printf("%-24s %8d  %-24s %s\n", g.name, (int)g.pid, "no supervisor",
                              "sanlock");
        if (!contains(r.out, row) || !contains(r.out, not_held) ||
            !contains(r.out, "DAEMON SAYS  its supervisor died during `pause --release`"))
                g_error("list: %s", r.out);
        g_assert_true(contains(r.err, "runs without its supervisor"));
        g_assert_true(contains(r.err, kill_cmd));
        vmlock_as(fx, h1, &r, "list", "--json", NULL);
        g_assert_true(contains(r.out, "\"supervisor\" : false"));
        vmlock_as(fx, h1, &r, "status", g.name, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, kill_cmd));
        g_clear_pointer(&not_held, g_free);
        not_held = g_strdup_printf("the lock daemon says: disk %s: not held", disk);
        if (!contains(r.err, not_held))
                g_error("status: %s", r.err);
}

/* The supervisor killed during attach-disk, once the new disk's lease was
 * taken but before the record or QEMU had the disk: list and status show
 * the lease the guest holds that its record lacks, and what was in flight. */
static void
test_supervisor_killed_attaching(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *disk = disk_path(fx, "attkill");
        g_autofree char *hot = disk_path(fx, "atthot");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *in_flight = NULL;
        g_autofree char *held = NULL;
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        pid_t supervisor;

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        image_create(hot, 1 << 20);
        guest_init(fx, &g, "attkill", devices, NULL);
        supervisor = qemu_start_stopping_at(fx, h1, &g, "disk-leased");
        kill_supervisor_amid(fx, h1, supervisor, "attach-disk", g.name, hot);
        /* The guest's pid holds the new lease; QEMU never had the disk. */
        assert_holder(fx, hot, "host 1");

        in_flight = g_strdup_printf("DAEMON SAYS  its supervisor died during `attach-disk %s`",
                                    hot);
        held = g_strdup_printf("DAEMON SAYS  disk %s: held, not in its record\n", hot);
        vmlock_as(fx, h1, &r, "list", NULL);
        if (!contains(r.out, held) || !contains(r.out, in_flight) ||
            !contains(r.out, "no supervisor"))
                g_error("list: %s", r.out);
        g_assert_true(contains(r.err, "runs without its supervisor"));
        vmlock_as(fx, h1, &r, "status", g.name, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_clear_pointer(&held, g_free);
        held = g_strdup_printf("the lock daemon says: disk %s: held; disk %s: held, not in its "
                               "record; its supervisor died during `attach-disk %s`",
                               disk, hot, hot);
        if (!contains(r.err, held))
                g_error("status: %s", r.err);
}

/* The next message from the proxy that is not an event. */
static JsonObject *
proxy_receive_answer(QmpStream *stream)
{
        for (;;) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) message = qmp_stream_receive(stream, QMP_TIMEOUT_MS,
                                                                    &error);

                g_assert_no_error(error);
                if (qmp_message_kind(message) != QMP_MESSAGE_EVENT)
                        return g_steal_pointer(&message);
        }
}

static gint64
answer_id(JsonObject *answer)
{
        return json_object_get_int_member_with_default(answer, "id", -1);
}

/* What QEMU's own clients send, the proxy answers as QEMU would: a command
 * without a newline (QEMU's Python client sends none), one spread over
 * lines, two on one line; it offers no oob and refuses exec-oob. */
static void
proxy_framing(const char *proxy)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) stream = qmp_stream_connect(proxy, &error);
        g_autoptr(JsonObject) greeting = NULL;
        g_autoptr(JsonObject) answer = NULL;
        JsonObject *body;
        int fd;

        g_assert_no_error(error);
        fd = qmp_stream_get_fd(stream);
        greeting = qmp_stream_receive(stream, QMP_TIMEOUT_MS, &error);
        g_assert_no_error(error);
        body = json_object_get_object_member(greeting, "QMP");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(body, "capabilities")),
                         ==, 0);
        g_assert_true(json_object_has_member(body, "version")); /* QEMU's */

        {
                /* No newline. */
                const char bare[] = "{\"execute\": \"qmp_capabilities\", \"id\": 1}";

                g_assert_true(fd_write_all(fd, bare, strlen(bare)));
        }
        answer = proxy_receive_answer(stream);
        g_assert_cmpint(qmp_message_kind(answer), ==, QMP_MESSAGE_RETURN);
        g_assert_cmpint(answer_id(answer), ==, 1);
        g_clear_pointer(&answer, json_object_unref);

        {
                const char spread[] = "{\n  \"execute\": \"query-status\",\n  \"id\": 2\n}\n";

                g_assert_true(fd_write_all(fd, spread, strlen(spread)));
        }
        answer = proxy_receive_answer(stream);
        g_assert_true(json_object_has_member(json_object_get_object_member(answer, "return"),
                                             "running"));
        g_assert_cmpint(answer_id(answer), ==, 2);
        g_clear_pointer(&answer, json_object_unref);

        {
                const char two[] = "{\"execute\": \"query-name\", \"id\": 3}"
                                   "{\"execute\": \"query-status\", \"id\": 4}\n";

                g_assert_true(fd_write_all(fd, two, strlen(two)));
        }
        answer = proxy_receive_answer(stream);
        g_assert_cmpint(answer_id(answer), ==, 3);
        g_clear_pointer(&answer, json_object_unref);
        answer = proxy_receive_answer(stream);
        g_assert_cmpint(answer_id(answer), ==, 4);
        g_clear_pointer(&answer, json_object_unref);

        {
                const char oob[] = "{\"exec-oob\": \"query-status\", \"id\": 5}\n";

                g_assert_true(fd_write_all(fd, oob, strlen(oob)));
        }
        answer = proxy_receive_answer(stream);
        g_assert_cmpint(qmp_message_kind(answer), ==, QMP_MESSAGE_ERROR);
        g_assert_cmpint(answer_id(answer), ==, 5);
}

/* Another QMP client can't run a guest whose leases are released, nor slip
 * past vmlock with HMP; stop and cont through the proxy are vmlock's own. */
static void
test_qmp_proxy(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *proxy = NULL;
        g_autofree char *state = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        guest_init(fx, &vm, "proxy", devices, NULL);
        guest_init(fx, &other, "other", devices, NULL);
        g_assert_cmpint(qemu_start(fx, h1, &vm, NULL, NULL, &r), ==, 0);
        proxy = qmp_proxy_path(fx, h1, vm.name);
        g_assert_true(qemu_running(proxy));

        /* stop through the proxy: vmlock's pause (the leases stay). */
        ret = qmp_via_proxy(proxy, "stop", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        vmlock_as(fx, h1, &r, "status", vm.name, NULL);
        g_assert_true(contains(r.out, "state: paused\n"));
        g_assert_true(contains(r.out, "exclusive  held"));
        ret = qmp_via_proxy(proxy, "cont", &error);
        g_assert_no_error(error);
        g_clear_pointer(&ret, json_node_unref);
        g_assert_true(qemu_running(proxy));

        /* Framed as QEMU frames QMP (objects, not lines), and no oob. */
        proxy_framing(proxy);

        /* HMP could do anything behind vmlock: refused. */
        {
                g_autoptr(QmpStream) stream = qmp_client_connect(proxy, &error);
                g_autoptr(JsonObject) arguments = json_object_new();

                g_assert_no_error(error);
                json_object_set_string_member(arguments, "command-line", "stop");
                ret = qmp_client_execute(stream, "human-monitor-command", arguments, &error);
                g_assert_null(ret);
                g_assert_true(contains(error->message, "refused"));
                g_clear_error(&error);
        }

        /* Handed over: another host takes the disk; a cont from another
         * client is refused, and QEMU stays paused. */
        vmlock_as(fx, h1, &r, "pause", "--release", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 0);
        ret = qmp_via_proxy(proxy, "cont", &error);
        g_assert_null(ret);
        g_assert_true(contains(error->message, "its leases are released"));
        g_clear_error(&error);
        g_assert_false(qemu_running(proxy));
        /* ...and so is vmlock's own resume: the disk changed hands. */
        vmlock_as(fx, h1, &r, "resume", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 124);
        g_assert_false(qemu_running(proxy));

        /* quit: QEMU exits, its supervisor with it. */
        ret = qmp_via_proxy(proxy, "quit", &error);
        g_clear_error(&error); /* QEMU may close before it answers */
        wait_state(vm.pid, 0, WAIT_STEPS_10S);
        for (int i = 0; i < WAIT_STEPS_10S && g_file_test(proxy, G_FILE_TEST_EXISTS); i++)
                g_usleep(WAIT_STEP_US);
        g_assert_false(g_file_test(proxy, G_FILE_TEST_EXISTS));
        vmlock_as(fx, h1, &r, "list", NULL);
        g_assert_false(contains(r.out, vm.name));
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
                tool_test_collect(&r, pid, out, err);
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

/* Removes @path and the files in it. */
static void
remove_dir(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *child = g_build_filename(path, name, NULL);

                g_unlink(child);
        }
        g_rmdir(path);
}

/* ---- lock failure: the helper ------------------------------------------------------ */

/* A lockspace of its own, joined by host 1 with a 1 s I/O timeout: its
 * renewal fails 8 s after its file stops answering. Removing it with
 * rem_lockspace would not do: sanlock then SIGKILLs the holders without
 * running their kill path. The guests are started with --state-dir, which
 * the helper must find from its arguments alone; a guest with the same name
 * and uuid in the host's own state dir, on healthy storage, is left alone. */
static void
test_lock_failure(Fixture *fx, gconstpointer data)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *ls = sanlock_test_unique_name("LF");
        g_autofree char *ls_path = g_build_filename(fx->dir, "lockspace", NULL);
        g_autofree char *ls_init = g_strdup_printf("%s:0:%s:0", ls, ls_path);
        g_autofree char *ls_join = g_strdup_printf("%s:1:%s:0", ls, ls_path);
        /* Short: sanlock passes the helper at most 127 bytes of arguments. */
        g_autofree char *state_dir = g_dir_make_tmp("vmlock-lf-XXXXXX", NULL);
        g_autofree char *proxy = NULL;
        g_autofree char *twin_proxy = NULL;
        g_auto(Guest) off = { 0 };
        g_auto(Guest) pause = { 0 };
        g_auto(Guest) twin = { 0 };
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
        if (!have_qemu())
                return;
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
        /* The twin: same XML name and uuid as "pause", a lease on the
         * harness's healthy lockspace, the host's usual state dir. */
        {
                g_autofree char *key = sanlock_test_unique_name("twin");
                g_autofree char *lease_base = g_strconcat(key, ".lease", NULL);
                g_autofree char *lease_path = g_build_filename(h->explicit_dir, lease_base, NULL);
                g_autofree char *xml = NULL;
                g_autofree char *twin_xml = NULL;
                g_autofree char *lease_dev = g_strdup_printf(
                        "<lease><lockspace>%s</lockspace><key>%s</key>"
                        "<target path='%s'/></lease>",
                        h->test_lockspace, key, lease_path);
                const char *from;

                sanlock_test_write_resource(h1, h->test_lockspace, key, lease_path);
                g_assert_true(g_file_get_contents(pause.xml, &xml, NULL, NULL));
                from = strstr(xml, "<lease>");
                g_assert_nonnull(from);
                twin_xml = g_strdup_printf("%.*s%s\n  </devices>\n</domain>\n",
                                           (int)(from - xml), xml, lease_dev);
                twin.name = g_strdup(pause.name);
                twin.xml = write_file(fx, "twin.xml", twin_xml);
        }
        out = sanlock_test_host_client(h1, &error, "add_lockspace", "-s", ls_join, "-o", "1",
                                       NULL);
        g_assert_no_error(error);
        g_clear_pointer(&out, g_free);

        {
                g_auto(GStrv) env = host_env(h1, NULL);
                g_autofree char *o = NULL;
                g_autofree char *e = NULL;
                const char *argv[] = { VMLOCK_BIN, "start", "--detach", "--state-dir", state_dir,
                                       off.xml, "--", GUEST_BIN, "--ready", off.ready, "--hold",
                                       NULL };
                pid_t pid = spawn_async(fx, argv, env, &o, &e);

                tool_test_collect(&r, pid, o, e);
                g_assert_cmpint(r.status, ==, 0);
                off.pid = (pid_t)atoi(r.out);
                g_ptr_array_add(fx->pids, GINT_TO_POINTER(off.pid));
                wait_file(off.ready);
        }
        g_assert_cmpint(qemu_start(fx, h1, &pause, state_dir, NULL, &r), ==, 0);
        g_assert_cmpint(qemu_start(fx, h1, &twin, NULL, NULL, &r), ==, 0);
        {
                g_autofree char *status = NULL;
                g_auto(GStrv) env = host_env(h1, state_dir);
                const char *argv[] = { VMLOCK_BIN, "status", pause.name, NULL };

                g_assert_true(g_spawn_sync(NULL, (char **)argv, env, 0, NULL, NULL, &status,
                                           NULL, NULL, &error));
                g_assert_no_error(error);
                proxy = g_strndup(strstr(status, "\nqmp: ") + 6,
                                  strcspn(strstr(status, "\nqmp: ") + 6, "\n"));
        }
        twin_proxy = qmp_proxy_path(fx, h1, twin.name);
        g_assert_cmpstr(proxy, !=, twin_proxy);
        g_assert_true(qemu_running(proxy));

        /* The storage goes away: renewals read nothing. */
        g_assert_cmpint(truncate(ls_path, 0), ==, 0);

        /* 8 s to fail, then the helper: poweroff leaves the guest dead... */
        wait_state(off.pid, 0, 30 * WAIT_STEPS_10S / 10);
        /* ...pause leaves QEMU stopped, its leases released and recorded so. */
        for (int i = 0; i < 3 * WAIT_STEPS_10S; i++) {
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
                g_assert_false(qemu_running(proxy));
                out = sanlock_test_host_client(h1, &error, "inquire", "-p", pid_str, NULL);
                g_test_message("inquire after the pause: %s", out ? out : error->message);
                g_assert_false(contains(out, ls));
                g_clear_error(&error);
        }
        /* The twin, same name and uuid elsewhere, still runs with its lease. */
        g_assert_true(qemu_running(twin_proxy));
        vmlock_as(fx, h1, &r, "status", twin.name, NULL);
        g_assert_true(contains(r.out, "state: running"));
        g_assert_true(contains(r.out, "exclusive  held"));

        kill(pause.pid, SIGKILL);
        wait_state(pause.pid, 0, WAIT_STEPS_10S);
        for (int i = 0; i < WAIT_STEPS_10S && g_file_test(proxy, G_FILE_TEST_EXISTS); i++)
                g_usleep(WAIT_STEP_US);
        remove_dir(state_dir);
}

/* The man page's hand-over of a stopped guest, with QEMUs that really open
 * the image: the destination's QEMU, started --paused while the source's
 * still has the image open, is refused by QEMU's own image lock when both
 * share one kernel; with file.locking=off (the leases protect the image) it
 * starts, also while the source holds QEMU's lock, takes the leases with the
 * source's state and runs; the source, whose memory is not carried over, is
 * then stopped at once. */
static void
test_handover_paused(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *locked_drive = g_strdup_printf(
                "file=%s,if=none,id=d0,format=raw,cache=none", disk);
        g_autofree char *drive = g_strdup_printf(
                "file=%s,if=none,id=d0,format=raw,cache=none,file.locking=off", disk);
        /* A device: QEMU locks what its users write, not an unused drive. */
        const char *const locked_args[] = { QEMU_PC_ARGS, "-drive", locked_drive, "-device",
                                            "virtio-blk-pci,drive=d0", NULL };
        const char *const args[] = { QEMU_PC_ARGS, "-drive", drive, "-device",
                                     "virtio-blk-pci,drive=d0", NULL };
        g_autofree char *state = NULL;
        g_autofree char *dst_qmp = NULL;
        g_auto(Guest) src = { 0 };
        g_auto(Guest) dst = { 0 };
        g_auto(RunResult) r = { 0 };

        if (!have_qemu())
                return;
        image_create(disk, 1 << 20);
        guest_init(fx, &src, "handover", devices, NULL);
        dst.name = g_strdup(src.name);
        dst.xml = g_strdup(src.xml);

        g_assert_cmpint(qemu_start_args(fx, h1, &src, NULL, NULL, locked_args, &r), ==, 0);
        /* QEMU's own lock, not the lease, refuses a second opener here. */
        g_assert_cmpint(qemu_start_args(fx, h2, &dst, NULL, "--paused", locked_args, &r), ==,
                        125);
        g_assert_true(contains(r.err, "Failed to get \"write\" lock"));

        g_assert_cmpint(qemu_start_args(fx, h2, &dst, NULL, "--paused", args, &r), ==, 0);
        dst_qmp = qmp_proxy_path(fx, h2, dst.name);
        vmlock_as(fx, h1, &r, "pause", "--release", src.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        state = g_strdup(g_strstrip(r.out));
        vmlock_as(fx, h2, &r, "resume", "--state", state, dst.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(qemu_running(dst_qmp));
        vmlock_as(fx, h1, &r, "stop", "--timeout", "0", src.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(proc_state(src.pid), ==, 0);
        assert_holder(fx, disk, "host 2");
}

/* ---- stop ---------------------------------------------------------------------- */

/* `vmlock stop` on a plain program: SIGTERM ends it (also when paused by
 * SIGSTOP), well before the timeout; it returns once the leases are free on
 * disk, so host 2 takes the disk at once. One started --paused, which never
 * ran, is killed at once. */
static void
test_stop_program(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(Guest) c = { 0 };
        g_auto(Guest) d = { 0 };
        g_auto(RunResult) r = { 0 };
        gint64 started;

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        guest_init(fx, &c, "c", devices, NULL);
        g_assert_cmpint(guest_start(fx, h1, &a, NULL, NULL, NULL, &r), ==, 0);
        wait_file(a.ready);

        started = g_get_monotonic_time();
        vmlock_as(fx, h1, &r, "stop", "--timeout", "60", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(g_get_monotonic_time() - started, <, 60 * G_USEC_PER_SEC);
        g_assert_cmpint(proc_state(a.pid), ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        wait_file(b.ready);

        /* Paused: continued to handle its SIGTERM (it holds its leases). */
        vmlock_as(fx, h2, &r, "pause", b.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_state(b.pid, 'T', WAIT_STEPS_10S);
        vmlock_as(fx, h2, &r, "stop", b.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(proc_state(b.pid), ==, 0);
        g_assert_cmpint(guest_start(fx, h1, &c, NULL, NULL, NULL, &r), ==, 0);

        vmlock_as(fx, h1, &r, "stop", b.name, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, b.name));
        vmlock_as(fx, h1, &r, "stop", "--timeout", "-1", c.name, NULL);
        g_assert_cmpint(r.status, ==, 2);

        /* Started --paused, never executed: killed at once, whatever the
         * timeout. */
        vmlock_as(fx, h1, &r, "stop", c.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        guest_init(fx, &d, "d", devices, NULL);
        g_assert_cmpint(guest_start(fx, h2, &d, "--paused", NULL, NULL, &r), ==, 0);
        started = g_get_monotonic_time();
        vmlock_as(fx, h2, &r, "stop", d.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(g_get_monotonic_time() - started, <, 30 * G_USEC_PER_SEC);
        g_assert_cmpint(proc_state(d.pid), ==, 0);
        g_assert_false(g_file_test(d.ready, G_FILE_TEST_EXISTS));
}

/* A QEMU guest without an OS ignores the ACPI power button: it is killed
 * at the timeout, and stop returns once its lease is free for host 2. */
static void
test_stop_qemu(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        static const char *const qemu_args[] = { QEMU_PC_ARGS, NULL };
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *proxy = NULL;
        g_auto(Guest) vm = { 0 };
        g_auto(Guest) other = { 0 };
        g_auto(RunResult) r = { 0 };
        gint64 started;

        if (!have_qemu())
                return;
        guest_init(fx, &vm, "vm", devices, NULL);
        guest_init(fx, &other, "other", devices, NULL);
        g_assert_cmpint(qemu_start_args(fx, h1, &vm, NULL, NULL, qemu_args, &r), ==, 0);
        proxy = qmp_proxy_path(fx, h1, vm.name);
        g_assert_true(qemu_running(proxy));

        started = g_get_monotonic_time();
        vmlock_as(fx, h1, &r, "stop", "--timeout", "2", vm.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(g_get_monotonic_time() - started, >=, 2 * G_USEC_PER_SEC);
        g_assert_cmpint(proc_state(vm.pid), ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &other, NULL, NULL, NULL, &r), ==, 0);
}

/* ---- systemd ------------------------------------------------------------------- */

/* Under a Type=notify unit, `vmlock start` (foreground) says READY=1 on
 * $NOTIFY_SOCKET only once the guest runs under its leases: when it
 * arrives, the program is executed and host 2 is refused the disk. */
static void
test_notify_ready(Fixture *fx, gconstpointer data)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *disk = disk_path(fx, "disk");
        g_autofree char *devices = disk_xml(disk);
        g_autofree char *notify_path = g_build_filename(fx->sock_dir, "notify", NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *exe_link = NULL;
        g_autofree char *exe = NULL;
        g_autofree char *guest_bin = g_canonicalize_filename(GUEST_BIN, NULL);
        g_auto(GStrv) env = host_env(h1, NULL);
        g_auto(Guest) a = { 0 };
        g_auto(Guest) b = { 0 };
        g_auto(RunResult) r = { 0 };
        g_auto(RunResult) start = { 0 };
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        struct pollfd pfd = { .events = POLLIN };
        char message[512] = { 0 };
        const char *status_line;
        pid_t start_pid;
        pid_t guest_pid;
        ssize_t n;

        guest_init(fx, &a, "a", devices, NULL);
        guest_init(fx, &b, "b", devices, NULL);
        pfd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(pfd.fd, >=, 0);
        g_strlcpy(addr.sun_path, notify_path, sizeof(addr.sun_path));
        g_assert_cmpint(bind(pfd.fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        env = g_environ_setenv(env, "NOTIFY_SOCKET", notify_path, TRUE);
        {
                const char *argv[] = { VMLOCK_BIN, "start", a.xml, "--", GUEST_BIN, "--ready",
                                       a.ready, "--hold", NULL };

                start_pid = spawn_async(fx, argv, env, &out, &err);
        }
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(start_pid));

        g_assert_cmpint(poll(&pfd, 1, 60000), ==, 1);
        n = recv(pfd.fd, message, sizeof(message) - 1, 0);
        g_assert_cmpint(n, >, 0);
        g_test_message("notify: %s", message);
        g_assert_true(contains(message, "READY=1"));
        status_line = strstr(message, "(pid ");
        g_assert_nonnull(status_line);
        guest_pid = (pid_t)atoi(status_line + 5);
        g_assert_cmpint(guest_pid, >, 0);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(guest_pid));
        exe_link = g_strdup_printf("/proc/%d/exe", (int)guest_pid);
        exe = g_file_read_link(exe_link, NULL);
        g_assert_cmpstr(exe, ==, guest_bin);
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 124);
        g_assert_true(contains(r.err, "in use by host 1"));

        /* ExecStop: the foreground start then exits with the guest's status. */
        vmlock_as(fx, h1, &r, "stop", a.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        tool_test_collect(&start, start_pid, out, err);
        g_assert_cmpint(start.status, ==, 0);
        g_assert_cmpint(guest_start(fx, h2, &b, NULL, NULL, NULL, &r), ==, 0);
        close(pfd.fd);
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
        ADD("/vmlock-sanlock/start/paused-plain", test_start_paused_plain);
        ADD("/vmlock-sanlock/start/config-typo", test_start_config_typo);
        ADD("/vmlock-sanlock/start/cdrom-shared", test_start_cdrom_shared);
        ADD("/vmlock-sanlock/start/wrapped-monitor", test_start_wrapped_monitor);
        ADD("/vmlock-sanlock/start/damaged-lease-file", test_damaged_lease_file);
        ADD("/vmlock-sanlock/start/lease-dir-missing", test_lease_dir_missing);
        ADD("/vmlock-sanlock/start/refused-stale-local", test_start_refused_stale_local);
        ADD("/vmlock-sanlock/status/disk-json", test_status_disk_json);
        ADD("/vmlock-sanlock/hotplug", test_hotplug);
        ADD("/vmlock-sanlock/hotplug/qemu", test_hotplug_qemu);
        ADD("/vmlock-sanlock/hotplug/q35", test_hotplug_q35);
        ADD("/vmlock-sanlock/hotplug/proxy-blockdev", test_proxy_blockdev);
        ADD("/vmlock-sanlock/start/unprotected", test_unprotected);
        ADD("/vmlock-sanlock/start/argv", test_argv_start);
        ADD("/vmlock-sanlock/start/argv/backing-file", test_argv_backing);
        ADD("/vmlock-sanlock/start/argv/disagree", test_argv_disagree);
        ADD("/vmlock-sanlock/start/argv/remote", test_argv_remote);
        ADD("/vmlock-sanlock/start/argv/snapshot", test_argv_snapshot);
        ADD("/vmlock-sanlock/pause-keeps-leases", test_pause_keeps_leases);
        ADD("/vmlock-sanlock/stop/program", test_stop_program);
        ADD("/vmlock-sanlock/stop/qemu", test_stop_qemu);
        ADD("/vmlock-sanlock/systemd/notify-ready", test_notify_ready);
        ADD("/vmlock-sanlock/migrate", test_migrate);
        ADD("/vmlock-sanlock/migrate/handover-paused", test_handover_paused);
        ADD("/vmlock-sanlock/migrate/live", test_live_migration);
        ADD("/vmlock-sanlock/migrate/hotplugged", test_migrate_hotplugged);
        ADD("/vmlock-sanlock/resume/state-coverage", test_resume_state_coverage);
        ADD("/vmlock-sanlock/migrate/client-killed", test_migrate_client_killed);
        ADD("/vmlock-sanlock/migrate/interrupted", test_migrate_interrupted);
        ADD("/vmlock-sanlock/migrate/interrupted-late", test_migrate_interrupted_late);
        ADD("/vmlock-sanlock/supervisor-killed/releasing", test_supervisor_killed_releasing);
        ADD("/vmlock-sanlock/supervisor-killed/attaching", test_supervisor_killed_attaching);
        ADD("/vmlock-sanlock/restricted-fd", test_restricted_fd);
        ADD("/vmlock-sanlock/seclabel", test_seclabel);
        ADD("/vmlock-sanlock/lock-failure", test_lock_failure);
        ADD("/vmlock-sanlock/qmp-proxy", test_qmp_proxy);
#undef ADD

        return g_test_run();
}
