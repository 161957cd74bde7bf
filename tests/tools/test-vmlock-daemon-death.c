/* vmlock tests: a guest whose lock daemon dies or restarts under it is stopped by its supervisor.
 *
 * The daemon killed here is a private one (private-sanlock.h): the
 * harness's two are shared with every other test program. Its lockspace
 * has io_timeout 1, so the join after each restart takes ~3 s.
 */
#define G_LOG_DOMAIN "vmlock-tools-test"

#include "config-build.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "private-sanlock.h"
#include "sanlock-test-util.h"
#include "supervisor/lease_watch.h"
#include "supervisor/state_dir.h"
#include "tool-test-util.h"
#include "util/proc_stat.h"
#include "util/qmp.h"

#define IO_TIMEOUT 1
#define STEP_US 20000
/* The product stops the guest within 2 s; a loaded machine gets more. */
#define FENCE_BOUND_S 10
/* A guest that must not be stopped is watched this long (the product's
 * bound and then some) before the test believes it. */
#define NO_FENCE_S 3
/* The supervisor's patience with a daemon that does not answer. */
#define LEASE_WATCH_STUCK_S (LEASE_WATCH_STUCK_MS / 1000)

#define VMLOCK_BIN tool_test_build_path("tools/vmlock")
#define HELPER_BIN tool_test_build_path("tools/vmlock-lockfailure-helper")
#define GUEST_BIN tool_test_build_path("tests/tools/tool-test-guest")
#define QEMU_NAME "qemu-system-x86_64"

/* One private host for the whole program: its daemon is killed and
 * started again by the cases, one after the other. */
static PrivateHost host;
static char *work_dir;
static char *lease_dir;
/* Short: sanlock passes the lock-failure helper at most 127 bytes, and the
 * state dir is one of them. */
static char *state_dir;

static GStrv
host_env(void)
{
        GStrv env = sanlock_test_host_environ(&host.host);

        env = g_environ_setenv(env, "VMLOCK_STATE_DIR", state_dir, TRUE);
        env = g_environ_setenv(env, "VMLOCK_LOCKFAILURE_HELPER", HELPER_BIN, TRUE);
        return g_environ_unsetenv(env, "LD_PRELOAD");
}

/* "vmlock ARGS..." as the private host, waited for. */
static void
vmlock_run(RunResult *r, ...)
{
        g_autoptr(GPtrArray) argv = NULL;
        g_auto(GStrv) env = host_env();
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        va_list ap;
        pid_t pid;

        va_start(ap, r);
        argv = tool_test_argv_new_va(VMLOCK_BIN, ap);
        va_end(ap);
        run_result_clear(r);
        pid = tool_test_spawn(work_dir, (const char *const *)argv->pdata, env, &out, &err);
        tool_test_collect(r, pid, out, err);
        g_test_message("vmlock %s: exit %d\n%s%s", (char *)argv->pdata[1], r->status, r->out,
                       r->err);
}

/* The daemon runs and this host is in the lockspace (again). */
static void
daemon_up(void)
{
        g_auto(RunResult) r = { 0 };

        if (host.pid == 0)
                private_host_daemon_start(&host);
        vmlock_run(&r, "lockspace", "join", NULL);
        g_assert_cmpint(r.status, ==, 0);
}

typedef struct {
        char *name;
        char *xml;
        char *log;  /* the supervisor's stderr (start --log) */
        char *disk;
        pid_t pid;
} Guest;

static GuestRecord *
record_load(const Guest *g)
{
        return state_dir_load(state_dir, g->name, NULL);
}

/* Kills the guest and waits (10 s at most) for its supervisor to forget
 * it, so that nothing writes in the state dir once the program removes it. */
static void
guest_clear(Guest *g)
{
        if (g->pid > 0) {
                kill(g->pid, SIGKILL);
                for (int i = 0; i < 500; i++) {
                        g_autoptr(GuestRecord) record = record_load(g);

                        if (!record)
                                break;
                        g_usleep(STEP_US);
                }
        }
        g_free(g->name);
        g_free(g->xml);
        g_free(g->log);
        g_free(g->disk);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Guest, guest_clear)

/* A guest of one disk, with <on_lockfailure>@action</on_lockfailure>
 * unless NULL. */
static void
guest_init(Guest *g, const char *prefix, const char *action)
{
        g_autofree char *extra = action ? g_strdup_printf("<on_lockfailure>%s</on_lockfailure>",
                                                          action)
                                        : g_strdup("");
        g_autofree char *text = NULL;
        g_autofree char *base = NULL;
        g_autoptr(GError) error = NULL;

        g->name = sanlock_test_unique_name(prefix);
        base = g_strconcat(g->name, ".img", NULL);
        g->disk = g_build_filename(work_dir, base, NULL);
        g_free(base);
        base = g_strconcat(g->name, ".log", NULL);
        g->log = g_build_filename(work_dir, base, NULL);
        g_free(base);
        base = g_strconcat(g->name, ".xml", NULL);
        g->xml = g_build_filename(work_dir, base, NULL);
        text = g_strdup_printf("<domain type='kvm'>\n  <name>%s</name>\n  %s\n  <devices>\n"
                               "    <disk type='file' device='disk'>\n"
                               "      <source file='%s'/><target dev='vda'/>\n"
                               "    </disk>\n  </devices>\n</domain>\n",
                               g->name, extra, g->disk);
        g_file_set_contents(g->xml, text, -1, &error);
        g_assert_no_error(error);
}

/* "vmlock start --detach --log LOG [OPTION] XML -- PROGRAM..." */
static void
guest_start(Guest *g, const char *option, const char *const *program)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) env = host_env();
        g_auto(RunResult) r = { 0 };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        pid_t pid;

        g_ptr_array_add(argv, (gpointer)VMLOCK_BIN);
        g_ptr_array_add(argv, (gpointer) "start");
        g_ptr_array_add(argv, (gpointer) "--detach");
        g_ptr_array_add(argv, (gpointer) "--log");
        g_ptr_array_add(argv, g->log);
        if (option)
                g_ptr_array_add(argv, (gpointer)option);
        g_ptr_array_add(argv, g->xml);
        g_ptr_array_add(argv, (gpointer) "--");
        for (guint i = 0; program[i]; i++)
                g_ptr_array_add(argv, (gpointer)program[i]);
        g_ptr_array_add(argv, NULL);
        pid = tool_test_spawn(work_dir, (const char *const *)argv->pdata, env, &out, &err);
        tool_test_collect(&r, pid, out, err);
        g_test_message("start %s: exit %d\n%s%s", g->name, r.status, r.out, r.err);
        g_assert_cmpint(r.status, ==, 0);
        g->pid = (pid_t)atoi(r.out);
        g_assert_cmpint(g->pid, >, 0);
}

static void
plain_start(Guest *g, const char *option)
{
        const char *const program[] = { GUEST_BIN, "--hold", NULL };

        guest_start(g, option, program);
}

static gboolean
have_qemu(void)
{
        g_autofree char *qemu = g_find_program_in_path(QEMU_NAME);

        if (!qemu)
                g_test_skip(QEMU_NAME " is not installed");
        return qemu != NULL;
}

/* A QEMU that needs no image: the disk is in the XML only (leases are by path). */
static void
qemu_start(Guest *g)
{
        const char *const program[] = { QEMU_NAME, "-machine", "none", "-display", "none",
                                        "-nodefaults", NULL };

        guest_start(g, NULL, program);
}

static gboolean
process_gone(pid_t pid)
{
        guint64 start_time;
        char state = 0;

        return !proc_pid_stat(pid, &state, &start_time, NULL) || state == 'Z';
}

/* Seconds from @since until @done(@g) holds, polled; fails the test past
 * FENCE_BOUND_S. */
static double
wait_until(const Guest *g, gboolean (*done)(const Guest *g), gint64 since, const char *what)
{
        gint64 deadline = since + FENCE_BOUND_S * G_USEC_PER_SEC;

        while (!done(g)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("guest %s: not %s %d s after its lock daemon died", g->name, what,
                                FENCE_BOUND_S);
                g_usleep(STEP_US);
        }
        return (g_get_monotonic_time() - since) / (double)G_USEC_PER_SEC;
}

static gboolean
guest_gone(const Guest *g)
{
        return process_gone(g->pid);
}

static gboolean
guest_lease_lost(const Guest *g)
{
        g_autoptr(GuestRecord) record = record_load(g);

        return record && record->lease_lost;
}

/* The supervisor is gone too (it exits once its guest has ended). */
static gboolean
record_gone(const Guest *g)
{
        g_autoptr(GuestRecord) record = record_load(g);

        return !record;
}

static char *
log_text(const Guest *g)
{
        char *text = NULL;

        g_assert_true(g_file_get_contents(g->log, &text, NULL, NULL));
        return text;
}

static gboolean
qemu_running(const Guest *g)
{
        g_autofree char *proxy = state_dir_qmp_path(state_dir, g->name);
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) stream = qmp_client_connect(proxy, &error);
        g_autoptr(JsonNode) status = NULL;

        g_assert_no_error(error);
        status = qmp_client_execute(stream, "query-status", NULL, &error);
        g_assert_no_error(error);
        return json_object_get_boolean_member(json_node_get_object(status), "running");
}

/* Killed -9 while a plain guest holds its disk: the guest is killed (the
 * default action), the supervisor says why and goes. */
static void
test_kill_plain(void)
{
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        g_autofree char *log = NULL;
        gint64 t0;
        double took;

        daemon_up();
        guest_init(&g, "plain", NULL);
        plain_start(&g, NULL);
        vmlock_run(&r, "status", g.name, NULL);
        g_assert_true(contains(r.out, "exclusive  held"));

        t0 = g_get_monotonic_time();
        private_host_kill(&host);
        took = wait_until(&g, guest_gone, t0, "killed");
        g_test_message("daemon killed -9: plain guest killed after %.3f s", took);
        wait_until(&g, record_gone, t0, "forgotten");

        log = log_text(&g);
        g_assert_true(contains(log, "lease lost: disk "));
        g_assert_true(contains(log, "the lock daemon closed its connection"));
        g_assert_true(contains(log, "killed after losing its leases"));
        /* Each of the supervisor's lines carries its time, ISO 8601 to the
         * millisecond. */
        g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}"
                                           "[+-]\\d\\d:\\d\\d vmlock: guest 'plain[^']*' \\(pid \\d+\\): "
                                           "lease lost: disk ",
                                           log, G_REGEX_MULTILINE, 0));
}

/* The same with a daemon restarted at once: the new one holds none of the
 * old one's leases, whoever looks first. */
static void
test_restart_plain(void)
{
        g_auto(Guest) g = { 0 };
        g_autofree char *log = NULL;
        gint64 t0;
        double took;

        daemon_up();
        guest_init(&g, "restart", "poweroff");
        plain_start(&g, NULL);

        t0 = g_get_monotonic_time();
        private_host_kill(&host);
        private_host_daemon_start(&host);
        took = wait_until(&g, guest_gone, t0, "killed");
        g_test_message("daemon restarted: plain guest killed after %.3f s", took);
        log = log_text(&g);
        g_assert_true(contains(log, "lease lost: disk "));
        g_assert_true(contains(log, "killed after losing its leases"));
}

/* A lease released behind vmlock's back (here by `sanlock client
 * release`): the daemon lives, but its inquire no longer lists it. */
static void
test_released_behind_back(void)
{
        g_auto(Guest) g = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *md5 = NULL;
        g_autofree char *resource = NULL;
        g_autofree char *pid = NULL;
        g_autofree char *out = NULL;
        g_autofree char *log = NULL;
        gint64 t0;
        double took;

        daemon_up();
        guest_init(&g, "behind", NULL);
        plain_start(&g, NULL);
        md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, g.disk, -1);
        resource = g_strdup_printf("__LIBVIRT__DISKS__:%s:%s/%s:0", md5, lease_dir, md5);
        pid = g_strdup_printf("%d", (int)g.pid);

        t0 = g_get_monotonic_time();
        out = sanlock_test_host_client(&host.host, &error, "release", "-p", pid, "-r", resource,
                                       NULL);
        g_assert_no_error(error);
        took = wait_until(&g, guest_gone, t0, "killed");
        g_test_message("lease released behind vmlock's back: guest killed after %.3f s", took);
        log = log_text(&g);
        g_assert_true(contains(log, "lease lost: disk "));
        g_assert_true(contains(log, "the lock daemon no longer lists them"));
        g_assert_true(contains(log, "killed after losing its leases"));
}

/* A daemon that stops answering (SIGSTOP: it renews nothing either) is
 * given LEASE_WATCH_STUCK_MS, no more. */
static void
test_stopped_daemon(void)
{
        g_auto(Guest) g = { 0 };
        g_autofree char *log = NULL;
        gint64 t0, deadline;
        double took;

        daemon_up();
        guest_init(&g, "stopped", NULL);
        plain_start(&g, NULL);

        t0 = g_get_monotonic_time();
        g_assert_cmpint(kill(host.pid, SIGSTOP), ==, 0);
        deadline = t0 + (LEASE_WATCH_STUCK_S + FENCE_BOUND_S) * G_USEC_PER_SEC;
        while (!process_gone(g.pid)) {
                if (g_get_monotonic_time() > deadline) {
                        kill(host.pid, SIGCONT);
                        g_error("guest %s still runs %d s after its lock daemon stopped", g.name,
                                LEASE_WATCH_STUCK_S + FENCE_BOUND_S);
                }
                g_usleep(STEP_US);
        }
        took = (g_get_monotonic_time() - t0) / (double)G_USEC_PER_SEC;
        /* Stopped that long, its lockspace has failed: the next case
         * starts a new one. */
        kill(host.pid, SIGCONT);
        private_host_kill(&host);
        g_test_message("daemon stopped: plain guest killed after %.3f s", took);
        g_assert_cmpfloat(took, >=, LEASE_WATCH_STUCK_S);
        log = log_text(&g);
        g_assert_true(contains(log, "the lock daemon has not answered"));
        g_assert_true(contains(log, "killed after losing its leases"));
}

/* pause with a daemon that hangs: QEMU is stopped without asking the
 * daemon anything more, and the supervisor still answers. */
static void
test_stopped_daemon_qemu_pause(void)
{
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        gint64 t0, deadline;
        double took;

        if (!have_qemu())
                return;
        daemon_up();
        guest_init(&g, "stopq", "pause");
        qemu_start(&g);

        t0 = g_get_monotonic_time();
        g_assert_cmpint(kill(host.pid, SIGSTOP), ==, 0);
        deadline = t0 + (LEASE_WATCH_STUCK_S + FENCE_BOUND_S) * G_USEC_PER_SEC;
        while (!guest_lease_lost(&g)) {
                if (g_get_monotonic_time() > deadline) {
                        kill(host.pid, SIGCONT);
                        g_error("QEMU %s still runs %d s after its lock daemon stopped", g.name,
                                LEASE_WATCH_STUCK_S + FENCE_BOUND_S);
                }
                g_usleep(STEP_US);
        }
        took = (g_get_monotonic_time() - t0) / (double)G_USEC_PER_SEC;
        g_test_message("daemon stopped: QEMU paused after %.3f s", took);
        g_assert_false(qemu_running(&g));
        vmlock_run(&r, "status", g.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "state: paused, lease lost"));
        kill(host.pid, SIGCONT);
        private_host_kill(&host);
}

/* <on_lockfailure>pause</on_lockfailure>: QEMU is stopped, status, list and
 * metrics say "lease lost", and nothing runs it again: resume cannot take
 * the leases back from a daemon that does not know QEMU, and the proxy's
 * cont is refused. */
static void
test_kill_qemu_pause(void)
{
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        g_autofree char *log = NULL;
        g_autofree char *proxy = NULL;
        g_autoptr(GError) error = NULL;
        gint64 t0;
        double took;

        if (!have_qemu())
                return;
        daemon_up();
        guest_init(&g, "qemu", "pause");
        qemu_start(&g);
        g_assert_true(qemu_running(&g));

        t0 = g_get_monotonic_time();
        private_host_kill(&host);
        took = wait_until(&g, guest_lease_lost, t0, "paused");
        g_test_message("daemon killed -9: QEMU paused after %.3f s", took);
        g_assert_false(qemu_running(&g));
        g_assert_false(process_gone(g.pid));

        vmlock_run(&r, "status", g.name, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "state: paused, lease lost"));
        g_assert_true(contains(r.out, "exclusive  lost"));
        vmlock_run(&r, "list", NULL);
        g_assert_true(contains(r.out, "paused, lease lost"));
        vmlock_run(&r, "metrics", NULL);
        {
                g_autofree char *line = g_strdup_printf("vmlock_guest_lease_lost{guest=\"%s\"} 1",
                                                        g.name);
                g_autofree char *leases = g_strdup_printf(
                        "vmlock_guest_leases{guest=\"%s\",lock_manager=\"sanlock\"} 0", g.name);

                g_assert_true(contains(r.out, line));
                g_assert_true(contains(r.out, leases));
        }
        log = log_text(&g);
        g_assert_true(contains(log, "lease lost: disk "));
        g_assert_true(contains(log, "paused after losing its leases"));

        /* Not without its leases, neither through vmlock nor the proxy. */
        vmlock_run(&r, "resume", g.name, NULL);
        g_assert_cmpint(r.status, !=, 0);
        g_assert_false(qemu_running(&g));
        proxy = state_dir_qmp_path(state_dir, g.name);
        {
                g_autoptr(QmpStream) stream = qmp_client_connect(proxy, &error);
                g_autoptr(JsonNode) ret = NULL;

                g_assert_no_error(error);
                ret = qmp_client_execute(stream, "cont", NULL, &error);
                g_assert_null(ret);
                g_assert_nonnull(error);
                g_test_message("cont: %s", error->message);
                g_clear_error(&error);
        }
        g_assert_false(qemu_running(&g));

        /* A new daemon does not know QEMU: still nothing to resume with. */
        daemon_up();
        vmlock_run(&r, "resume", g.name, NULL);
        g_assert_cmpint(r.status, !=, 0);
        g_assert_true(contains(r.err, "not registered"));
        g_assert_false(qemu_running(&g));
        vmlock_run(&r, "status", g.name, NULL);
        g_assert_true(contains(r.out, "state: paused, lease lost"));
}

/* Legitimately holding nothing: a guest started --paused (registered, no
 * lease taken) is not stopped when the daemon dies. */
static void
test_paused_not_fenced(void)
{
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        g_autofree char *log = NULL;
        gint64 until;

        daemon_up();
        guest_init(&g, "paused", NULL);
        plain_start(&g, "--paused");
        private_host_kill(&host);
        until = g_get_monotonic_time() + NO_FENCE_S * G_USEC_PER_SEC;
        while (g_get_monotonic_time() < until) {
                g_autoptr(GuestRecord) record = record_load(&g);

                g_assert_false(process_gone(g.pid));
                g_assert_nonnull(record);
                g_assert_false(record->lease_lost);
                g_usleep(10 * STEP_US);
        }
        vmlock_run(&r, "status", g.name, NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        log = log_text(&g);
        g_assert_false(contains(log, "lease lost"));
}

/* Leases that come and go on purpose (hotplug) are no loss, however the
 * watch's inquires fall between them. */
static void
test_hotplug_not_fenced(void)
{
        g_auto(Guest) g = { 0 };
        g_auto(RunResult) r = { 0 };
        g_autofree char *log = NULL;
        g_autofree char *extra = NULL;

        daemon_up();
        guest_init(&g, "hotplug", NULL);
        plain_start(&g, NULL);
        extra = g_strconcat(g.disk, "-extra", NULL);
        for (int i = 0; i < 20; i++) {
                vmlock_run(&r, "attach-disk", g.name, extra, NULL);
                g_assert_cmpint(r.status, ==, 0);
                vmlock_run(&r, "detach-disk", g.name, extra, NULL);
                g_assert_cmpint(r.status, ==, 0);
        }
        vmlock_run(&r, "status", g.name, NULL);
        g_assert_true(contains(r.out, "state: running"));
        g_assert_false(process_gone(g.pid));
        log = log_text(&g);
        g_assert_false(contains(log, "lease lost"));
}

/* The state dir holds files and sockets, no directory. */
static void
remove_flat_dir(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *file = g_build_filename(path, name, NULL);

                g_unlink(file);
        }
        g_rmdir(path);
}

int
main(int argc, char **argv)
{
        int status;

        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }
        {
                g_autofree char *base = sanlock_test_unique_name("death");

                work_dir = g_build_filename(sanlock_test_scratch_dir(), base, NULL);
        }
        lease_dir = g_build_filename(work_dir, "leases", NULL);
        g_assert_cmpint(g_mkdir_with_parents(lease_dir, 0700), ==, 0);
        state_dir = g_dir_make_tmp("vmlock-dd-XXXXXX", NULL);
        g_assert_nonnull(state_dir);
        private_host_start(&host, work_dir, lease_dir, 1, IO_TIMEOUT);

        g_test_add_func("/vmlock-daemon-death/hotplug-not-fenced", test_hotplug_not_fenced);
        g_test_add_func("/vmlock-daemon-death/kill/plain", test_kill_plain);
        g_test_add_func("/vmlock-daemon-death/restart/plain", test_restart_plain);
        g_test_add_func("/vmlock-daemon-death/kill/qemu-pause", test_kill_qemu_pause);
        g_test_add_func("/vmlock-daemon-death/paused-not-fenced", test_paused_not_fenced);
        g_test_add_func("/vmlock-daemon-death/released-behind-back", test_released_behind_back);
        g_test_add_func("/vmlock-daemon-death/stopped", test_stopped_daemon);
        g_test_add_func("/vmlock-daemon-death/stopped/qemu-pause", test_stopped_daemon_qemu_pause);
        status = g_test_run();

        private_host_clear(&host);
        remove_flat_dir(state_dir);
        g_free(state_dir);
        g_free(lease_dir);
        g_free(work_dir);
        return status;
}
