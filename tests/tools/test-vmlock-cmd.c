/* vmlock: tests of the vmlock command and its lock-failure helper, run as programs, with the nop driver. */
#define _GNU_SOURCE /* pipe2, accept4 */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>
#include <vmlock/vmlock.h>

#include "attacker.h"
#include "supervisor/state_dir.h"
#include "tool-test-util.h"
#include "util/fd_util.h"
#include "util/proc_stat.h"

#define UUID "5b1ea2a4-7c1c-4b8e-9d0d-3b2f3f7e0a11"
#define WAIT_STEP_US 10000
#define WAIT_MAX_STEPS 1000 /* 10 s */

typedef struct {
        char *dir;
        char *state_dir;
        char *config_dir;
        char *xml;        /* a domain "g1" with a disk and a lease */
        char *ready;      /* the guest writes its pid here */
        GStrv envp;
        GPtrArray *pids;  /* processes to kill at teardown */
} Fixture;

static const char *
env_path(const char *var)
{
        const char *value = g_getenv(var);

        if (!value)
                g_error("%s is not set: run through meson test", var);
        return value;
}

static char *
write_domain(Fixture *fx, const char *file, const char *name, const char *extra)
{
        g_autofree char *xml = g_strdup_printf(
                "<domain type='kvm'>\n"
                "  <name>%s</name>\n"
                "  <uuid>" UUID "</uuid>\n"
                "  %s\n"
                "  <devices>\n"
                "    <disk type='file' device='disk'>\n"
                "      <source file='%s/disk1.img'/><target dev='vda'/>\n"
                "    </disk>\n"
                "    <disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>\n"
                "    <lease><lockspace>TESTLS</lockspace><key>k1</key>\n"
                "      <target path='%s/leases' offset='1048576'/></lease>\n"
                "  </devices>\n"
                "</domain>\n",
                name, extra ? extra : "", fx->dir, fx->dir);
        char *path = g_build_filename(fx->dir, file, NULL);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, xml, -1, &error);
        g_assert_no_error(error);
        return path;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        fx->dir = g_dir_make_tmp("vmlock-cmd-XXXXXX", &error);
        g_assert_no_error(error);
        fx->state_dir = g_build_filename(fx->dir, "state", NULL);
        fx->config_dir = g_build_filename(fx->dir, "etc", NULL);
        g_assert_cmpint(g_mkdir(fx->config_dir, 0755), ==, 0);
        fx->xml = write_domain(fx, "g1.xml", "g1", NULL);
        fx->ready = g_build_filename(fx->dir, "ready", NULL);
        fx->envp = g_get_environ();
        fx->envp = g_environ_setenv(fx->envp, "VMLOCK_STATE_DIR", fx->state_dir, TRUE);
        fx->envp = g_environ_setenv(fx->envp, "VMLOCK_CONFIG_DIR", fx->config_dir, TRUE);
        fx->envp = g_environ_unsetenv(fx->envp, "LD_PRELOAD");
        fx->pids = g_ptr_array_new();
}

static void
remove_tree(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        if (dir) {
                while ((name = g_dir_read_name(dir))) {
                        g_autofree char *child = g_build_filename(path, name, NULL);

                        remove_tree(child);
                }
        }
        g_remove(path);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
        for (guint i = 0; i < fx->pids->len; i++) {
                pid_t pid = GPOINTER_TO_INT(g_ptr_array_index(fx->pids, i));

                kill(pid, SIGKILL);
                waitpid(pid, NULL, WNOHANG);
        }
        g_ptr_array_unref(fx->pids);
        remove_tree(fx->dir);
        g_free(fx->dir);
        g_free(fx->state_dir);
        g_free(fx->config_dir);
        g_free(fx->xml);
        g_free(fx->ready);
        g_strfreev(fx->envp);
}

/* Starts @argv (argv[0] is a path) with @envp, or the fixture's environment. */
static pid_t
spawn_async(Fixture *fx, const char *const *argv, char *const *envp, char **ret_out_path,
            char **ret_err_path)
{
        return tool_test_spawn(fx->dir, argv, envp ? envp : fx->envp, ret_out_path,
                               ret_err_path);
}

static void
run_argv_env(Fixture *fx, RunResult *r, const char *const *argv, char *const *envp)
{
        g_autofree char *out_path = NULL;
        g_autofree char *err_path = NULL;
        pid_t pid = spawn_async(fx, argv, envp, &out_path, &err_path);

        tool_test_collect(r, pid, out_path, err_path);
}

/* Runs "vmlock ARGS..." (NULL-terminated) and waits. */
static void
run_vmlock(Fixture *fx, RunResult *r, ...)
{
        g_autoptr(GPtrArray) argv = NULL;
        va_list ap;

        va_start(ap, r);
        argv = tool_test_argv_new_va(env_path("VMLOCK_TEST_VMLOCK"), ap);
        va_end(ap);
        run_argv_env(fx, r, (const char *const *)argv->pdata, NULL);
}

/* Waits until the guest wrote its pid into fx->ready; returns it. */
static pid_t
wait_ready(Fixture *fx)
{
        for (int i = 0; i < WAIT_MAX_STEPS; i++) {
                g_autofree char *text = NULL;

                if (g_file_get_contents(fx->ready, &text, NULL, NULL))
                        return (pid_t)atoi(text);
                g_usleep(WAIT_STEP_US);
        }
        g_error("the guest did not start within 10 s");
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
wait_proc_state(pid_t pid, char want)
{
        for (int i = 0; i < WAIT_MAX_STEPS; i++) {
                if (proc_state(pid) == want)
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("process %d never reached state %c (it is %c)", (int)pid, want, proc_state(pid));
}

static void
wait_gone(pid_t pid)
{
        for (int i = 0; i < WAIT_MAX_STEPS; i++) {
                char state = proc_state(pid);

                if (state == 0 || state == 'Z')
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("process %d did not exit", (int)pid);
}

/* Gone from the process table: a zombie could still be sent a signal. */
static void
wait_reaped(pid_t pid)
{
        for (int i = 0; i < WAIT_MAX_STEPS; i++) {
                if (proc_state(pid) == 0)
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("process %d was not reaped", (int)pid);
}

/* "vmlock start --detach" of fx->xml with a holding guest; returns its pid. */
static pid_t
start_detached(Fixture *fx, const char *extra_option)
{
        g_auto(RunResult) r = { 0 };
        pid_t pid;

        if (extra_option)
                run_vmlock(fx, &r, "start", "--detach", extra_option, fx->xml, "--",
                           env_path("VMLOCK_TEST_GUEST"), "--ready", fx->ready, "--hold", NULL);
        else
                run_vmlock(fx, &r, "start", "--detach", fx->xml, "--",
                           env_path("VMLOCK_TEST_GUEST"), "--ready", fx->ready, "--hold", NULL);
        g_assert_cmpint(r.status, ==, 0);
        pid = (pid_t)atoi(r.out);
        g_assert_cmpint(pid, >, 0);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(pid));
        return pid;
}

static GuestRecord *
load_record(Fixture *fx, const char *name)
{
        g_autoptr(GError) error = NULL;
        GuestRecord *record = state_dir_load(fx->state_dir, name, &error);

        g_assert_no_error(error);
        return record;
}

static gboolean
record_exists(Fixture *fx, const char *name)
{
        g_autofree char *base = g_strconcat(name, ".state", NULL);
        g_autofree char *path = g_build_filename(fx->state_dir, base, NULL);

        return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* A JSON object printed by a command (the test fails on anything else). */
static JsonObject *
parse_json_object(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        JsonNode *root;

        g_assert_nonnull(text);
        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        root = json_parser_get_root(parser);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
        return json_object_ref(json_node_get_object(root));
}

/* Waits (10 s at most) until the supervisor has written the guest's record. */
static void
wait_record(Fixture *fx, const char *name)
{
        for (int i = 0; i < WAIT_MAX_STEPS; i++) {
                if (record_exists(fx, name))
                        return;
                g_usleep(WAIT_STEP_US);
        }
        g_error("no record of guest %s within 10 s", name);
}

/* ---- help and usage ----------------------------------------------------- */

static void
test_help(Fixture *fx, gconstpointer data)
{
        static const char *const commands[] = { "start", "list", "status", "attach-disk",
                                                "detach-disk", "attach-lease", "detach-lease",
                                                "pause", "resume", "inquire" };
        g_auto(RunResult) r = { 0 };

        run_vmlock(fx, &r, "--help", NULL);
        g_assert_cmpint(r.status, ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
                g_assert_true(contains(r.out, commands[i]));
        for (gsize i = 0; i < 5; i++) {
                static const char *const codes[] = { "124", "125", "126", "127", "128+N" };

                g_assert_true(contains(r.out, codes[i]));
        }
        run_result_clear(&r);

        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_auto(RunResult) c = { 0 };
                g_autofree char *usage = g_strdup_printf("vmlock %s", commands[i]);

                run_vmlock(fx, &c, commands[i], "--help", NULL);
                g_assert_cmpint(c.status, ==, 0);
                g_assert_true(contains(c.out, usage));
                g_assert_true(contains(c.out, "--state-dir"));
                g_assert_true(contains(c.out, "Exit status"));
        }

        run_vmlock(fx, &r, "start", "--help", NULL);
        g_assert_true(contains(r.out, "--paused"));
        g_assert_true(contains(r.out, "--qemu"));
        g_assert_true(contains(r.out, "125"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "help", "pause", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "--release"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "--version", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(g_str_has_prefix(r.out, "vmlock " VMLOCK_VERSION));
}

typedef struct {
        const char *args[12];
        int status;
        const char *message; /* in stderr */
} UsageCase;

static void
test_usage(Fixture *fx, gconstpointer data)
{
        static const UsageCase cases[] = {
                { { NULL }, 2, "Usage: vmlock COMMAND" },
                { { "bogus" }, 2, "unknown command 'bogus'" },
                { { "help", "bogus" }, 2, "unknown command 'bogus'" },
                { { "start" }, 125, "missing DOMAIN.xml" },
                { { "start", "g.xml" }, 125, "missing '-- PROGRAM" },
                { { "start", "g.xml", "--" }, 125, "missing '-- PROGRAM" },
                { { "start", "a.xml", "b.xml", "--", "true" }, 125, "expected one DOMAIN.xml" },
                { { "start", "--bogus", "g.xml", "--", "true" }, 125, "--bogus" },
                { { "start", "--name", "g", "g.xml", "--", "true" }, 125,
                  "--name and --uuid are for a start without DOMAIN.xml" },
                { { "start", "--name", "g", "--", "true" }, 125,
                  "without DOMAIN.xml, PROGRAM must be QEMU" },
                { { "start", "--name", "g", "--qemu", "--", "true", "-drive", "file=a.img" },
                  125, "-drive file=a.img (argument 2): disk path 'a.img' must be absolute" },
                { { "start", "--name", "g", "--qemu", "--", "true", "-drive",
                    "file=/a,readonly=x" },
                  125, "-drive file=/a,readonly=x (argument 2): readonly: 'x' is not on or off" },
                { { "start", "--name", "g", "--uuid", "nope", "--qemu", "--", "true" }, 125,
                  "invalid uuid 'nope'" },
                { { "start", "--name", "../g", "--qemu", "--", "true" }, 125,
                  "not a usable guest name" },
                { { "list", "extra" }, 2, "unexpected argument 'extra'" },
                { { "status" }, 2, "missing NAME" },
                { { "status", "a", "b" }, 2, "unexpected argument 'b'" },
                { { "pause" }, 2, "missing argument" },
                { { "pause", "--bogus", "g" }, 2, "--bogus" },
                { { "resume", "a", "b" }, 2, "unexpected argument" },
                { { "attach-disk", "g" }, 2, "missing argument" },
                { { "attach-lease", "g", "--path", "/p" }, 2, "missing --key" },
                { { "attach-lease", "g", "--key", "k" }, 2, "missing --path" },
                { { "attach-lease", "g", "--key", "k", "--path", "/p", "--offset", "-1" },
                  2, "--offset" },
                { { "attach-lease", "g", "--key", "k", "--path", "/p", "--offset", "x" },
                  2, "--offset" },
                { { "detach-lease", "g" }, 2, "missing --key" },
                { { "status", "--disk", "/x" }, 1, "lock driver nop cannot tell who holds disk /x" },
                { { "status", "nosuch" }, 1, "no guest named 'nosuch'" },
                { { "pause", "nosuch" }, 1, "no guest named 'nosuch'" },
                { { "resume", "nosuch" }, 1, "no guest named 'nosuch'" },
                { { "inquire", "nosuch" }, 1, "no guest named 'nosuch'" },
                { { "attach-disk", "nosuch", "/d" }, 1, "no guest named 'nosuch'" },
                { { "detach-disk", "../x", "/d" }, 1, "not a usable guest name" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) argv = g_ptr_array_new();
                g_auto(RunResult) r = { 0 };

                g_ptr_array_add(argv, (gpointer)env_path("VMLOCK_TEST_VMLOCK"));
                for (gsize j = 0; cases[i].args[j]; j++)
                        g_ptr_array_add(argv, (gpointer)cases[i].args[j]);
                g_ptr_array_add(argv, NULL);
                run_argv_env(fx, &r, (const char *const *)argv->pdata, NULL);
                g_assert_cmpint(r.status, ==, cases[i].status);
                if (!contains(r.err, cases[i].message))
                        g_error("case %zu: '%s' not in stderr: %s", i, cases[i].message, r.err);
        }
}

/* ---- start: errors and exit statuses -------------------------------------- */

static void
test_start_errors(Fixture *fx, gconstpointer data)
{
        g_autofree char *bad_xml = g_build_filename(fx->dir, "bad.xml", NULL);
        g_autofree char *conf = g_build_filename(fx->config_dir, "vmlock.conf", NULL);
        g_autofree char *missing = g_build_filename(fx->dir, "missing.xml", NULL);
        g_auto(RunResult) r = { 0 };

        run_vmlock(fx, &r, "start", missing, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "missing.xml"));
        run_result_clear(&r);

        g_file_set_contents(bad_xml, "<domain><name>x</name><uuid>zz</uuid></domain>", -1, NULL);
        run_vmlock(fx, &r, "start", bad_xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "zz"));
        run_result_clear(&r);

        g_file_set_contents(conf, "lock_manager = [\n", -1, NULL);
        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "vmlock.conf"));
        run_result_clear(&r);

        g_file_set_contents(conf, "lock_manager = \"nosuch\"\n", -1, NULL);
        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "nosuch"));
        run_result_clear(&r);

        /* --config wins over $VMLOCK_CONFIG_DIR. */
        run_vmlock(fx, &r, "start", "--config", fx->dir, fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);
        g_file_set_contents(conf, "lock_manager = \"nop\"\n", -1, NULL);

        run_vmlock(fx, &r, "start", fx->xml, "--", "/nonexistent/program", NULL);
        g_assert_cmpint(r.status, ==, 127);
        g_assert_true(contains(r.err, "cannot execute /nonexistent/program"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "start", fx->xml, "--", "no-such-program-in-path", NULL);
        g_assert_cmpint(r.status, ==, 127);
        run_result_clear(&r);

        run_vmlock(fx, &r, "start", fx->xml, "--", fx->xml, NULL); /* not executable */
        g_assert_cmpint(r.status, ==, 126);
        g_assert_true(contains(r.err, "Permission denied"));
        run_result_clear(&r);

        g_assert_false(record_exists(fx, "g1"));
}

static void
test_start_exit_status(Fixture *fx, gconstpointer data)
{
        g_auto(RunResult) r = { 0 };

        run_vmlock(fx, &r, "start", fx->xml, "--", env_path("VMLOCK_TEST_GUEST"), "--exit",
                   "0", NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);

        run_vmlock(fx, &r, "start", fx->xml, "--", env_path("VMLOCK_TEST_GUEST"), "--exit",
                   "3", NULL);
        g_assert_cmpint(r.status, ==, 3);
        run_result_clear(&r);

        /* Options after "--" are PROGRAM's, even vmlock's own. */
        run_vmlock(fx, &r, "start", fx->xml, "--", "sh", "-c", "exit 42", "--paused", NULL);
        g_assert_cmpint(r.status, ==, 42);
        run_result_clear(&r);

        run_vmlock(fx, &r, "start", fx->xml, "--", "sh", "-c", "kill -TERM $$", NULL);
        g_assert_cmpint(r.status, ==, 128 + SIGTERM);
        run_result_clear(&r);

        g_assert_false(record_exists(fx, "g1"));
}

/* ---- a guest's life ------------------------------------------------------- */

static void
test_cycle(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) record = NULL;
        g_auto(RunResult) r = { 0 };
        g_autofree char *fds = g_build_filename(fx->dir, "fds", NULL);
        g_autofree char *fds_text = NULL;
        pid_t pid;

        run_vmlock(fx, &r, "start", "--detach", fx->xml, "--", env_path("VMLOCK_TEST_GUEST"),
                   "--fds", fds, "--ready", fx->ready, "--hold", NULL);
        g_assert_cmpint(r.status, ==, 0);
        pid = (pid_t)atoi(r.out);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(pid));
        g_assert_cmpint(wait_ready(fx), ==, pid);
        run_result_clear(&r);

        /* No fd of vmlock's (name lock, state dir, handshake) leaks into the
         * guest; the nop driver gives it none either. */
        g_assert_true(g_file_get_contents(fds, &fds_text, NULL, NULL));
        g_assert_cmpstr(fds_text, ==, "");

        record = load_record(fx, "g1");
        g_assert_cmpint(vmlock_domain_get_pid(record->dom), ==, pid);
        g_assert_cmpstr(vmlock_domain_get_uuid_string(record->dom), ==, UUID);
        g_assert_cmpstr(record->domain_xml, ==, fx->xml);
        g_assert_cmpstr(record->lock_manager, ==, "nop");
        g_assert_cmpint(record->supervisor_pid, >, 0);
        g_assert_cmpint(record->supervisor_pid, !=, pid);
        g_assert_null(record->qmp); /* not QEMU */
        g_assert_false(record->paused);
        g_assert_false(record->released);
        g_assert_cmpuint(vmlock_domain_get_n_disks(record->dom), ==, 2);
        g_assert_cmpuint(vmlock_domain_get_n_leases(record->dom), ==, 1);

        run_vmlock(fx, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "g1"));
        g_assert_true(contains(r.out, "running"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "uuid: " UUID));
        g_assert_true(contains(r.out, "state: running"));
        g_assert_true(contains(r.out, "disk1.img  exclusive  not tracked"));
        g_assert_true(contains(r.out, "lease TESTLS:k1"));
        g_assert_true(contains(r.out, "not locked (no local path)"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "inquire", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.out, ==, "");
        run_result_clear(&r);

        /* --json: parsed as a script would. */
        run_vmlock(fx, &r, "status", "--json", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonObject) status = parse_json_object(r.out);
                JsonArray *resources = json_object_get_array_member(status, "resources");
                JsonObject *disk = json_array_get_object_element(resources, 1);

                g_assert_cmpstr(json_object_get_string_member(status, "name"), ==, "g1");
                g_assert_cmpstr(json_object_get_string_member(status, "uuid"), ==, UUID);
                g_assert_cmpint(json_object_get_int_member(status, "pid"), ==, pid);
                g_assert_cmpint(json_object_get_int_member(status, "supervisor_pid"), ==,
                                record->supervisor_pid);
                g_assert_cmpstr(json_object_get_string_member(status, "state"), ==, "running");
                g_assert_false(json_object_get_boolean_member(status, "paused"));
                g_assert_false(json_object_get_boolean_member(status, "released"));
                g_assert_cmpstr(json_object_get_string_member(status, "lock_manager"), ==, "nop");
                g_assert_cmpstr(json_object_get_string_member(status, "on_lockfailure"), ==,
                                "default");
                g_assert_cmpstr(json_object_get_string_member(status, "domain"), ==, fx->xml);
                g_assert_true(json_object_get_null_member(status, "qmp"));
                g_assert_cmpuint(json_array_get_length(resources), ==, 3);
                g_assert_cmpstr(json_object_get_string_member(disk, "kind"), ==, "disk");
                g_assert_true(g_str_has_suffix(json_object_get_string_member(disk, "path"),
                                               "/disk1.img"));
                g_assert_cmpstr(json_object_get_string_member(disk, "mode"), ==, "exclusive");
                g_assert_cmpstr(json_object_get_string_member(disk, "held"), ==, "not tracked");
        }
        run_result_clear(&r);
        run_vmlock(fx, &r, "list", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonObject) list = parse_json_object(r.out);
                JsonArray *guests = json_object_get_array_member(list, "guests");
                JsonObject *guest = json_array_get_object_element(guests, 0);

                g_assert_cmpuint(json_array_get_length(guests), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(guest, "name"), ==, "g1");
                g_assert_cmpint(json_object_get_int_member(guest, "pid"), ==, pid);
                g_assert_cmpint(json_object_get_int_member(guest, "supervisor_pid"), ==,
                                record->supervisor_pid);
                g_assert_cmpstr(json_object_get_string_member(guest, "state"), ==, "running");
                g_assert_false(json_object_get_boolean_member(guest, "paused"));
                g_assert_false(json_object_get_boolean_member(guest, "released"));
                g_assert_cmpstr(json_object_get_string_member(guest, "lock_manager"), ==, "nop");
        }
        run_result_clear(&r);

        /* The same name twice is refused, and the first guest is untouched. */
        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "already runs here"));
        run_result_clear(&r);
        g_assert_cmpint(proc_state(pid), !=, 0);

        /* The guest ends: its record is stale, dropped by list. */
        kill(pid, SIGTERM);
        wait_gone(pid);
        run_vmlock(fx, &r, "list", NULL);
        g_assert_false(contains(r.out, "g1"));
        g_assert_false(record_exists(fx, "g1"));
        run_result_clear(&r);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 1);
}

/* vmlock waits in the foreground, passes SIGTERM on and exits as the guest did. */
static void
test_foreground(Fixture *fx, gconstpointer data)
{
        g_autofree char *out_path = NULL;
        g_autofree char *err_path = NULL;
        g_auto(RunResult) r = { 0 };
        const char *argv[] = { env_path("VMLOCK_TEST_VMLOCK"), "start", fx->xml, "--",
                               env_path("VMLOCK_TEST_GUEST"), "--ready", fx->ready, "--hold",
                               "--exit", "7", NULL };
        pid_t vmlock_pid = spawn_async(fx, argv, NULL, &out_path, &err_path);
        pid_t guest;

        g_ptr_array_add(fx->pids, GINT_TO_POINTER(vmlock_pid));
        guest = wait_ready(fx);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(guest));
        g_assert_cmpint(guest, !=, vmlock_pid);
        /* The supervisor records the guest once it runs: not before. */
        wait_record(fx, "g1");

        kill(vmlock_pid, SIGTERM);
        tool_test_collect(&r, vmlock_pid, out_path, err_path);
        g_assert_cmpint(r.status, ==, 7);
        g_assert_false(record_exists(fx, "g1"));
}

/* A record left by a guest that is gone does not block a new start. */
static void
test_stale_record(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_new("g1", UUID, &error);
        g_autoptr(GuestRecord) stale = NULL;
        g_autoptr(GuestRecord) record = NULL;
        pid_t dead;
        pid_t pid;

        dead = fork();
        if (dead == 0)
                _exit(0);
        waitpid(dead, NULL, 0);
        vmlock_domain_set_pid(dom, dead);
        stale = guest_record_new(dom);
        stale->pid_start_time = 12345;
        g_assert_true(state_dir_save(fx->state_dir, stale, &error));

        pid = start_detached(fx, NULL);
        record = load_record(fx, "g1");
        g_assert_cmpint(vmlock_domain_get_pid(record->dom), ==, pid);
}

/* Eight starts of one name at once: exactly one runs. */
static void
test_concurrent_start(Fixture *fx, gconstpointer data)
{
        enum { N = 8 };
        pid_t pids[N];
        char *outs[N];
        char *errs[N];
        int n_ok = 0;
        int n_refused = 0;
        pid_t guest = 0;

        for (int i = 0; i < N; i++) {
                const char *argv[] = { env_path("VMLOCK_TEST_VMLOCK"), "start", "--detach",
                                       fx->xml, "--", env_path("VMLOCK_TEST_GUEST"), "--hold",
                                       NULL };

                pids[i] = spawn_async(fx, argv, NULL, &outs[i], &errs[i]);
        }
        for (int i = 0; i < N; i++) {
                g_auto(RunResult) r = { 0 };

                tool_test_collect(&r, pids[i], outs[i], errs[i]);
                if (r.status == 0) {
                        n_ok++;
                        guest = (pid_t)atoi(r.out);
                        g_ptr_array_add(fx->pids, GINT_TO_POINTER(guest));
                } else {
                        g_assert_cmpint(r.status, ==, 125);
                        g_assert_true(contains(r.err, "already runs here"));
                        n_refused++;
                }
                g_free(outs[i]);
                g_free(errs[i]);
        }
        g_assert_cmpint(n_ok, ==, 1);
        g_assert_cmpint(n_refused, ==, N - 1);
        {
                g_autoptr(GuestRecord) record = load_record(fx, "g1");

                g_assert_cmpint(vmlock_domain_get_pid(record->dom), ==, guest);
        }
}

/* ---- pause and resume ------------------------------------------------------ */

static void
test_pause_resume(Fixture *fx, gconstpointer data)
{
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, NULL);

        wait_ready(fx);
        run_vmlock(fx, &r, "pause", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.out, ==, "");
        wait_proc_state(pid, 'T');
        run_result_clear(&r);
        {
                g_autoptr(GuestRecord) record = load_record(fx, "g1");

                g_assert_true(record->paused);
                g_assert_false(record->released);
        }
        run_vmlock(fx, &r, "list", NULL);
        g_assert_true(contains(r.out, "paused"));
        run_result_clear(&r);

        /* --state is for released leases only. */
        run_vmlock(fx, &r, "resume", "g1", "--state", "x", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "holds its leases"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "resume", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        wait_proc_state(pid, 'S');
        run_result_clear(&r);

        /* No handoff without QMP: SIGSTOP would leave writes in flight. */
        run_vmlock(fx, &r, "pause", "--release", "g1", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "guest 'g1' cannot hand its leases over"));
        g_assert_true(contains(r.err, "only a QEMU guest"));
        run_result_clear(&r);
        {
                g_autoptr(GuestRecord) record = load_record(fx, "g1");

                g_assert_false(record->paused);
                g_assert_false(record->released);
        }
        g_assert_cmpint(proc_state(pid), ==, 'S');
}

/* The comm of a paused plain program that has not been executed yet. */
#define PREEXEC_COMM "vmlock-prexec\n"

static char *
proc_comm(pid_t pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
        char *comm = NULL;

        g_file_get_contents(path, &comm, NULL, NULL);
        return comm;
}

/* start --paused of a plain program: PROGRAM itself only runs after resume,
 * whatever signal comes before. */
static void
test_start_paused(Fixture *fx, gconstpointer data)
{
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, "--paused");
        g_autofree char *comm = NULL;

        {
                g_autoptr(GuestRecord) record = load_record(fx, "g1");

                g_assert_true(record->paused);
                g_assert_true(record->released);
        }
        /* SIGCONT (fg, bg, kill -CONT) used to run it without its leases. */
        g_assert_cmpint(kill(pid, SIGCONT), ==, 0);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_true(contains(r.out, "state: paused, leases released"));
        run_result_clear(&r);
        comm = proc_comm(pid);
        g_assert_cmpstr(comm, ==, PREEXEC_COMM);
        g_assert_false(g_file_test(fx->ready, G_FILE_TEST_EXISTS));

        run_vmlock(fx, &r, "resume", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpint(wait_ready(fx), ==, pid);
}

/* A paused start whose PROGRAM can't run: resume says so, and the
 * supervisor ends with 127. */
static void
test_start_paused_exec_fails(Fixture *fx, gconstpointer data)
{
        g_autofree char *out_path = NULL;
        g_autofree char *err_path = NULL;
        g_auto(RunResult) r = { 0 };
        g_auto(RunResult) resume = { 0 };
        const char *argv[] = { env_path("VMLOCK_TEST_VMLOCK"), "start", "--paused", fx->xml,
                               "--", "/nonexistent/program", NULL };
        pid_t vmlock_pid = spawn_async(fx, argv, NULL, &out_path, &err_path);

        g_ptr_array_add(fx->pids, GINT_TO_POINTER(vmlock_pid));
        wait_record(fx, "g1");
        run_vmlock(fx, &resume, "resume", "g1", NULL);
        g_assert_cmpint(resume.status, ==, 1);
        g_assert_true(contains(resume.err, "cannot execute /nonexistent/program"));
        tool_test_collect(&r, vmlock_pid, out_path, err_path);
        g_assert_cmpint(r.status, ==, 127);
        g_assert_false(record_exists(fx, "g1"));
}

/* The guest's process dies after its leases were taken and before exec:
 * an error, never a guest reported started. */
static void
test_start_died_before_exec(Fixture *fx, gconstpointer data)
{
        g_autofree char *out_path = NULL;
        g_autofree char *err_path = NULL;
        g_auto(RunResult) r = { 0 };
        g_auto(RunResult) resume = { 0 };
        const char *argv[] = { env_path("VMLOCK_TEST_VMLOCK"), "start", "--paused", fx->xml,
                               "--", env_path("VMLOCK_TEST_GUEST"), "--hold", NULL };
        pid_t vmlock_pid = spawn_async(fx, argv, NULL, &out_path, &err_path);
        g_autoptr(GuestRecord) record = NULL;

        g_ptr_array_add(fx->pids, GINT_TO_POINTER(vmlock_pid));
        wait_record(fx, "g1");
        record = load_record(fx, "g1");
        kill(vmlock_domain_get_pid(record->dom), SIGKILL);
        run_vmlock(fx, &resume, "resume", "g1", NULL);
        g_assert_cmpint(resume.status, ==, 1);
        tool_test_collect(&r, vmlock_pid, out_path, err_path);
        g_assert_cmpint(r.status, ==, 128 + SIGKILL);
        g_assert_false(record_exists(fx, "g1"));
}

/* Two guests with one uuid would confuse the lock-failure helper. */
static void
test_start_duplicate_uuid(Fixture *fx, gconstpointer data)
{
        g_autofree char *other = write_domain(fx, "g2.xml", "g2", NULL);
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, NULL);

        run_vmlock(fx, &r, "start", other, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "guest 'g1'"));
        g_assert_true(contains(r.err, "already runs here with uuid " UUID));
        g_assert_false(record_exists(fx, "g2"));
        g_assert_cmpint(proc_state(pid), !=, 0);
}

/* Runs "pid=$(SCRIPT_PART) && echo $pid" in sh, bounded by timeout(1):
 * a supervisor or guest holding the captured output would hang it. */
static pid_t
run_captured_start(Fixture *fx, const char *start_command)
{
        g_autofree char *script = g_strdup_printf("pid=$(%s) && echo \"$pid\"", start_command);
        const char *argv[] = { "timeout", "10", "sh", "-c", script, NULL };
        g_autofree char *out = NULL;
        g_autoptr(GError) error = NULL;
        int wait_status = 0;
        pid_t pid;

        g_spawn_sync(NULL, (char **)argv, fx->envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                     &wait_status, &error);
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(wait_status, NULL));
        pid = (pid_t)atoi(out);
        g_assert_cmpint(pid, >, 0);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(pid));
        return pid;
}

/* pid=$(vmlock start --detach ...) returns at once: the supervisor keeps no
 * stdout of the caller's, and lives in its own session; nor does a paused
 * guest, waiting for resume, keep the caller's stderr. */
static void
test_start_detach(Fixture *fx, gconstpointer data)
{
        g_autofree char *start = g_strdup_printf("%s start --detach %s -- %s --ready %s --hold",
                                                 env_path("VMLOCK_TEST_VMLOCK"), fx->xml,
                                                 env_path("VMLOCK_TEST_GUEST"), fx->ready);
        g_autofree char *other_xml = write_domain(fx, "g2.xml", "g2", NULL);
        g_autofree char *start_paused = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GString) other = NULL;
        g_autofree char *other_uuid = g_strconcat("a", UUID + 1, NULL);
        g_autofree char *conf = g_build_filename(fx->config_dir, "vmlock.conf", NULL);
        pid_t pid;

        /* Quiet (no warning in the captured output): nop on purpose. */
        g_assert_true(g_file_set_contents(conf, "lock_manager = \"nop\"\n", -1, NULL));
        pid = run_captured_start(fx, start);

        g_assert_cmpint(wait_ready(fx), ==, pid);
        record = load_record(fx, "g1");
        /* setsid: the supervisor leads its own session. */
        g_assert_cmpint(getsid(record->supervisor_pid), ==, record->supervisor_pid);
        g_assert_cmpint(getsid(pid), ==, record->supervisor_pid);

        /* Another guest (its own uuid), paused, stderr captured too. */
        g_assert_true(g_file_get_contents(other_xml, &text, NULL, NULL));
        other = g_string_new(text);
        g_string_replace(other, UUID, other_uuid, 0);
        g_assert_true(g_file_set_contents(other_xml, other->str, -1, NULL));
        start_paused = g_strdup_printf("%s start --detach --paused %s -- %s --hold 2>&1",
                                       env_path("VMLOCK_TEST_VMLOCK"), other_xml,
                                       env_path("VMLOCK_TEST_GUEST"));
        run_captured_start(fx, start_paused);
}

/* -daemonize would take the process holding the leases away from vmlock;
 * a QEMU's own monitors, or its gdbstub, would let others resume it. */
static void
test_start_refused_arguments(Fixture *fx, gconstpointer data)
{
        static const struct {
                const char *args[7];
                const char *message;
        } cases[] = {
                { { "sh", "-c", "true", "-daemonize" }, "-daemonize: vmlock cannot supervise" },
                { { "qemu-system-x86_64", "--daemonize" }, "--daemonize" },
                { { "qemu-system-x86_64", "-qmp", "unix:/tmp/q,server=on" },
                  "-qmp: vmlock is the only QMP client" },
                { { "/usr/bin/qemu-system-x86_64", "-monitor", "stdio" }, "-monitor" },
                { { "qemu-kvm", "-mon", "chardev=c" }, "-mon" },
                { { "qemu-system-x86_64", "-serial", "mon:stdio" }, "mon:stdio" },
                /* a gdbstub's "continue" resumes a paused guest */
                { { "qemu-system-x86_64", "-gdb", "tcp::1234" },
                  "-gdb: a gdbstub can resume the guest without its leases" },
                { { "qemu-system-x86_64", "-s" }, "-s: a gdbstub can resume" },
                { { "env", "qemu-system-x86_64", "--gdb", "tcp::1234" }, "--gdb: a gdbstub" },
                /* QEMU behind a wrapper is QEMU all the same */
                { { "env", "qemu-system-x86_64", "-qmp", "unix:/tmp/q,server=on" },
                  "-qmp: vmlock is the only QMP client" },
                { { "taskset", "-c", "0", "qemu-kvm", "-monitor", "stdio" }, "give vmlock "
                  "start --qemu" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) argv = g_ptr_array_new();
                g_auto(RunResult) r = { 0 };

                g_ptr_array_add(argv, (gpointer)env_path("VMLOCK_TEST_VMLOCK"));
                g_ptr_array_add(argv, "start");
                g_ptr_array_add(argv, fx->xml);
                g_ptr_array_add(argv, "--");
                for (gsize j = 0; cases[i].args[j]; j++)
                        g_ptr_array_add(argv, (gpointer)cases[i].args[j]);
                g_ptr_array_add(argv, NULL);
                run_argv_env(fx, &r, (const char *const *)argv->pdata, NULL);
                g_assert_cmpint(r.status, ==, 125);
                if (!contains(r.err, cases[i].message))
                        g_error("case %zu: '%s' not in stderr: %s", i, cases[i].message, r.err);
        }
        g_assert_false(record_exists(fx, "g1"));
}

/* The supervisor killed: the guest runs on with its leases, and the
 * commands say nothing can act on it any more (and list says so). */
static void
test_start_supervisor_killed(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) record = NULL;
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, NULL);

        record = load_record(fx, "g1");
        g_assert_cmpint(kill(record->supervisor_pid, SIGKILL), ==, 0);
        wait_gone(record->supervisor_pid);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "runs without its supervisor"));
        g_assert_true(contains(r.err, "the nop lock driver keeps no leases to ask about"));
        /* list no longer repeats the record as if someone kept it. */
        run_vmlock(fx, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "no supervisor"));
        g_assert_false(contains(r.out, "running"));
        g_assert_true(contains(r.err, "runs without its supervisor"));
        run_vmlock(fx, &r, "metrics", NULL);
        g_assert_true(contains(r.out, "vmlock_guest_supervisor_up{guest=\"g1\"} 0\n"));
        g_assert_cmpint(proc_state(pid), !=, 0);
}

/* How much a test sends a client-flooding supervisor at most: far past its
 * bound on one client's unsent answers and the sockets' buffers. */
#define FLOOD_MAX (32 * 1024 * 1024)

/* Waits up to 10 s for @fd to take more. */
static void
wait_writable(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int r;

        do {
                r = poll(&pfd, 1, WAIT_STEP_US / 1000 * WAIT_MAX_STEPS);
        } while (r < 0 && errno == EINTR);
        if (r == 0)
                g_error("the supervisor stopped reading its control socket");
        g_assert_cmpint(r, ==, 1);
}

/* A control client that sends commands and never reads the answers: the
 * supervisor drops it and goes on serving the others; it still notices its
 * guest's end. (A blocking send to it stopped the supervisor whole.) */
static void
test_control_non_reading_client(Fixture *fx, gconstpointer data)
{
        g_autofree char *path = state_dir_control_path(fx->state_dir, "g1");
        g_autofree char *name = g_strnfill(4096, 'x');
        g_autofree char *request = g_strdup_printf("{\"execute\": \"%s\"}\n", name);
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(RunResult) r = { 0 };
        gsize len = strlen(request);
        gsize written = 0;
        gsize offset = 0;
        pid_t pid = start_detached(fx, NULL);
        int fd;

        wait_ready(fx);
        record = load_record(fx, "g1");
        fd = unix_socket_connect(path, &error);
        g_assert_no_error(error);
        g_assert_true(fd_write_all(fd, "{\"execute\": \"qmp_capabilities\"}\n", 32));
        /* Each answer (an unknown command) echoes its 4 KiB name. */
        while (written < FLOOD_MAX) {
                ssize_t n = send(fd, request + offset, len - offset,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
                        break;
                if (n < 0 && errno == EAGAIN) {
                        wait_writable(fd);
                        continue;
                }
                g_assert_cmpint(n, >, 0);
                written += (gsize)n;
                offset = (offset + (gsize)n) % len;
        }
        g_assert_cmpuint(written, <, FLOOD_MAX);

        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "g1"));
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        wait_gone(record->supervisor_pid);
        g_assert_false(record_exists(fx, "g1"));
        close(fd);
}

/* A supervisor that is slow to answer (here: stopped) is busy, not gone:
 * nobody is told to kill a guest that is well looked after. */
static void
test_start_supervisor_busy(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) record = NULL;
        g_auto(RunResult) r = { 0 };
        g_autofree char *busy = NULL;

        start_detached(fx, NULL);
        wait_ready(fx);
        record = load_record(fx, "g1");
        g_assert_cmpint(kill(record->supervisor_pid, SIGSTOP), ==, 0);
        wait_proc_state(record->supervisor_pid, 'T');
        /* Waits out the command's timeout for an answer (10 s). */
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(kill(record->supervisor_pid, SIGCONT), ==, 0);
        g_assert_cmpint(r.status, ==, 1);
        busy = g_strdup_printf("the supervisor of guest 'g1' (vmlock start, pid %d) is busy",
                               (int)record->supervisor_pid);
        if (!contains(r.err, busy))
                g_error("'%s' not in: %s", busy, r.err);
        g_assert_false(contains(r.err, "kill"));
        g_assert_false(contains(r.err, "gone"));
        run_result_clear(&r);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
}

/* A QEMU that refuses its arguments: the error says so, with its status. */
static void
test_start_qemu_fails(Fixture *fx, gconstpointer data)
{
        g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
        g_auto(RunResult) r = { 0 };

        if (!qemu) {
                g_test_skip("qemu-system-x86_64 is not installed");
                return;
        }
        run_vmlock(fx, &r, "start", fx->xml, "--", qemu, "-machine", "none", "-display", "none",
                   "-no-such-option", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "exited with status 1"));
        g_assert_false(record_exists(fx, "g1"));
}

/* Detached without --log, QEMU's own words still reach the caller. */
static void
test_start_detached_qemu_says_why(Fixture *fx, gconstpointer data)
{
        g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
        /* The XML's disk, which does not exist: QEMU is the one to say so. */
        g_autofree char *missing = g_build_filename(fx->dir, "disk1.img", NULL);
        g_autofree char *drive = g_strdup_printf("file=%s,if=none,format=raw", missing);
        g_auto(RunResult) r = { 0 };

        if (!qemu) {
                g_test_skip("qemu-system-x86_64 is not installed");
                return;
        }
        run_vmlock(fx, &r, "start", "--detach", fx->xml, "--", qemu, "-machine", "none",
                   "-display", "none", "-drive", drive, NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "exited with status 1"));
        g_assert_true(contains(r.err, " said:\n"));
        g_assert_true(contains(r.err, missing));
        g_assert_false(record_exists(fx, "g1"));
}

/* No config at all: the guest runs unprotected, and vmlock says so. */
static void
test_start_nop_warning(Fixture *fx, gconstpointer data)
{
        g_autofree char *conf = g_build_filename(fx->config_dir, "vmlock.conf", NULL);
        g_autofree char *warning = g_strdup_printf("warning: %s does not exist", conf);
        g_auto(RunResult) r = { 0 };

        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, warning));
        g_assert_true(contains(r.err, "WITHOUT disk leases"));
        run_result_clear(&r);

        /* A file that names no driver is no choice either. */
        g_assert_true(g_file_set_contents(conf, "# lock_manager = \"sanlock\"\n", -1, NULL));
        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_clear_pointer(&warning, g_free);
        warning = g_strdup_printf("warning: %s sets no lock_manager", conf);
        g_assert_true(contains(r.err, warning));
        g_assert_true(contains(r.err, "WITHOUT disk leases"));
        run_result_clear(&r);

        g_assert_true(g_file_set_contents(conf, "lock_manager = \"nop\"\n", -1, NULL));
        run_vmlock(fx, &r, "start", fx->xml, "--", "true", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.err, ==, "");
}

/* A misspelt key is an error naming file and line, never a nop guest. */
static void
test_start_config_typo(Fixture *fx, gconstpointer data)
{
        g_autofree char *conf = g_build_filename(fx->config_dir, "vmlock.conf", NULL);
        g_autofree char *message = g_strdup_printf(
                "%s:2: unknown key 'lock_manger' (did you mean 'lock_manager'?)", conf);
        g_autofree char *ran = g_build_filename(fx->dir, "ran", NULL);
        g_auto(RunResult) r = { 0 };

        g_assert_true(g_file_set_contents(conf, "# vmlock\nlock_manger = \"sanlock\"\n", -1,
                                          NULL));
        run_vmlock(fx, &r, "start", fx->xml, "--", "touch", ran, NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, message));
        g_assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));
}

/* ---- hotplug --------------------------------------------------------------- */

static void
test_hotplug(Fixture *fx, gconstpointer data)
{
        g_autofree char *disk2 = g_build_filename(fx->dir, "disk2.img", NULL);
        g_auto(RunResult) r = { 0 };

        start_detached(fx, NULL);
        run_vmlock(fx, &r, "attach-disk", "g1", disk2, "--readonly", NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_true(contains(r.out, "disk2.img  shared (readonly)  not tracked"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "attach-disk", "g1", disk2, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "already attached"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "attach-disk", "--type", "floppy", "g1", "/x", NULL);
        g_assert_cmpint(r.status, ==, 2);
        run_result_clear(&r);

        run_vmlock(fx, &r, "attach-lease", "g1", "--lockspace", "TESTLS", "--key", "k2",
                   "--path", "/shared/l2", "--offset", "2097152", NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);
        {
                g_autoptr(GuestRecord) record = load_record(fx, "g1");
                const VmlockLease *lease;
                const VmlockDisk *disk;

                g_assert_cmpuint(vmlock_domain_get_n_disks(record->dom), ==, 3);
                disk = vmlock_domain_get_disk(record->dom, 2);
                g_assert_cmpstr(vmlock_disk_get_source(disk), ==, disk2);
                g_assert_true(vmlock_disk_get_readonly(disk));
                g_assert_cmpuint(vmlock_domain_get_n_leases(record->dom), ==, 2);
                lease = vmlock_domain_get_lease(record->dom, 1);
                g_assert_cmpstr(vmlock_lease_get_key(lease), ==, "k2");
                g_assert_cmpuint(vmlock_lease_get_offset(lease), ==, 2097152);
        }
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_true(contains(r.out, "lease TESTLS:k2 (/shared/l2 offset 2097152)"));
        run_result_clear(&r);

        run_vmlock(fx, &r, "detach-disk", "g1", disk2, NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);
        run_vmlock(fx, &r, "detach-disk", "g1", disk2, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "has no disk"));
        run_result_clear(&r);
        run_vmlock(fx, &r, "detach-lease", "g1", "--lockspace", "TESTLS", "--key", "k2", NULL);
        g_assert_cmpint(r.status, ==, 0);
        run_result_clear(&r);
        run_vmlock(fx, &r, "detach-lease", "g1", "--lockspace", "TESTLS", "--key", "k2", NULL);
        g_assert_cmpint(r.status, ==, 1);
        run_result_clear(&r);

        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_false(contains(r.out, "disk2.img"));
        g_assert_false(contains(r.out, "k2"));
}

/* ---- the lock-failure helper ------------------------------------------------ */

static void
run_helper(Fixture *fx, RunResult *r, const char *action, const char *uuid, pid_t pid)
{
        g_autofree char *pid_str = g_strdup_printf("%d", (int)pid);
        g_autofree char *uri = g_strconcat("vmlock://", fx->state_dir, NULL);
        /* pid 0: none given, as sanlock may */
        const char *argv[] = { env_path("VMLOCK_TEST_LOCKFAILURE_HELPER"), action, uri, uuid,
                               pid > 0 ? pid_str : NULL, NULL };

        run_argv_env(fx, r, argv, NULL);
}

/* A plain program cannot be paused safely (SIGSTOP can be undone by anyone):
 * on a lock failure it is killed. */
static void
test_helper_pause(Fixture *fx, gconstpointer data)
{
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, NULL);

        wait_ready(fx);
        run_helper(fx, &r, "pause", UUID, pid);
        g_assert_cmpint(r.status, ==, 0);
        wait_reaped(pid);
        run_result_clear(&r);

        /* Run again (sanlock repeats it): still fine. */
        run_helper(fx, &r, "pause", UUID, pid);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, "is gone"));
}

static void
test_helper_poweroff(Fixture *fx, gconstpointer data)
{
        g_auto(RunResult) r = { 0 };
        pid_t pid = start_detached(fx, NULL);

        wait_ready(fx);
        run_helper(fx, &r, "poweroff", UUID, pid);
        g_assert_cmpint(r.status, ==, 0);
        wait_gone(pid);
        run_result_clear(&r);

        /* Gone already: nothing left to do, not an error for the pid alone. */
        run_helper(fx, &r, "poweroff", UUID, pid);
        g_assert_cmpint(r.status, ==, 0);
}

static void
test_helper_errors(Fixture *fx, gconstpointer data)
{
        const char *argv[] = { env_path("VMLOCK_TEST_LOCKFAILURE_HELPER"), "pause", NULL };
        const char *bad_uri[] = { env_path("VMLOCK_TEST_LOCKFAILURE_HELPER"), "pause",
                                  "qemu:///system", UUID, NULL };
        g_auto(RunResult) r = { 0 };

        run_argv_env(fx, &r, argv, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "Usage"));
        run_result_clear(&r);

        run_helper(fx, &r, "restart", UUID, 1);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "unsupported lock failure action 'restart'"));
        run_result_clear(&r);

        run_argv_env(fx, &r, bad_uri, NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "'qemu:///system' is not a vmlock URI"));
        run_result_clear(&r);

        run_helper(fx, &r, "pause", "00000000-0000-0000-0000-000000000000", 999999);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, "no guest with uuid"));
        g_assert_true(contains(r.err, "is gone"));
}

/* ---- SELinux labelling, end to end ------------------------------------------ */

/* With libselinux stand-ins preloaded into vmlock, the guest's process (not
 * vmlock) asks to exec PROGRAM under the domain's label. */
static void
test_seclabel(Fixture *fx, gconstpointer data)
{
        g_autofree char *log = g_build_filename(fx->dir, "selinux.log", NULL);
        g_autofree char *xml = write_domain(
                fx, "label.xml", "labelled",
                "<seclabel type='static' model='selinux'>"
                "<label>system_u:system_r:svirt_t:s0:c1,c2</label></seclabel>");
        g_autofree char *expect = NULL;
        g_autofree char *text = NULL;
        g_auto(GStrv) envp = g_strdupv(fx->envp);
        g_auto(RunResult) r = { 0 };
        const char *argv[] = { env_path("VMLOCK_TEST_VMLOCK"), "start", "--detach", xml, "--",
                               env_path("VMLOCK_TEST_GUEST"), "--hold", NULL };
        pid_t pid;

        envp = g_environ_setenv(envp, "LD_PRELOAD", env_path("VMLOCK_TEST_SELINUX_STANDIN"),
                                TRUE);
        envp = g_environ_setenv(envp, "VMLOCK_TEST_SELINUX_LOG", log, TRUE);
        run_argv_env(fx, &r, argv, envp);
        g_assert_cmpint(r.status, ==, 0);
        pid = (pid_t)atoi(r.out);
        g_ptr_array_add(fx->pids, GINT_TO_POINTER(pid));

        g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
        expect = g_strdup_printf("setexeccon %d system_u:system_r:svirt_t:s0:c1,c2\n", (int)pid);
        g_assert_true(contains(text, expect));
        /* The nop driver gives no fd to label. */
        g_assert_false(contains(text, "fsetfilecon"));
}

/* ---- a state dir, or files in it, that others could have planted --------------
 *
 * Run as root, with a real unprivileged user (tests/common/attacker.h): the
 * commands and the root helper must refuse, naming the dir or file and what
 * to do, and the victim (a file of root's) must stay as it was. */

#define VICTIM_TEXT "root's precious data\n"

static uid_t attacker_uid;
static gid_t attacker_gid;

static gboolean
need_root(void)
{
        if (geteuid() == 0)
                return TRUE;
        g_test_skip("needs root: the attacker is a real user");
        return FALSE;
}

/* A file of root's that a planted link points at. */
static char *
victim_new(Fixture *fx)
{
        char *path = g_build_filename(fx->dir, "victim", NULL);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, VICTIM_TEXT, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(chmod(path, 0600), ==, 0);
        return path;
}

static void
victim_assert_untouched(const char *path)
{
        g_autofree char *text = NULL;
        struct stat st;

        g_assert_cmpint(lstat(path, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpuint(st.st_uid, ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, VICTIM_TEXT);
}

/* The state dir, made by the test as @mode, @uid:@gid. */
static void
state_dir_make(Fixture *fx, mode_t mode, uid_t uid, gid_t gid)
{
        g_assert_cmpint(g_mkdir(fx->state_dir, 0700), ==, 0);
        g_assert_cmpint(chown(fx->state_dir, uid, gid), ==, 0);
        g_assert_cmpint(chmod(fx->state_dir, mode), ==, 0);
        /* the attacker must reach it through the fixture's dir */
        g_assert_cmpint(chmod(fx->dir, 0711), ==, 0);
}

/* A symlink in the (root's) state dir, as the attacker had planted it. */
static char *
plant_root_dir_symlink(Fixture *fx, const char *base, const char *target)
{
        char *path = g_build_filename(fx->state_dir, base, NULL);

        g_assert_cmpint(symlink(target, path), ==, 0);
        g_assert_cmpint(lchown(path, attacker_uid, attacker_gid), ==, 0);
        return path;
}

/* A live guest's record for uuid UUID, and a control socket listening
 * where it says (nobody must connect to it): what the helper would act on. */
static int
plant_record_and_socket(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_new("g1", UUID, &error);
        g_autoptr(GuestRecord) record = NULL;
        g_autofree char *ctl = state_dir_control_path(fx->state_dir, "g1");
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd;

        g_assert_no_error(error);
        vmlock_domain_set_pid(dom, getpid());
        record = guest_record_new(dom);
        g_assert_true(proc_pid_stat(getpid(), NULL, &record->pid_start_time, &error));
        g_assert_true(state_dir_save(fx->state_dir, record, &error));
        g_assert_no_error(error);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(fd, >=, 0);
        g_strlcpy(addr.sun_path, ctl, sizeof(addr.sun_path));
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(fd, 4), ==, 0);
        return fd;
}

static void
assert_nobody_connected(int listen_fd)
{
        g_assert_cmpint(accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC), ==, -1);
        g_assert_cmpint(errno, ==, EAGAIN);
        close(listen_fd);
}

/* start, list, status and the lock-failure helper all refuse the state
 * dir, with a message naming it and containing @part and @fix. */
static void
assert_state_dir_refused(Fixture *fx, const char *part, const char *fix)
{
        const char *const commands[][3] = {
                { "start", "--detach", NULL }, { "list", NULL }, { "status", "g1", NULL },
        };
        g_auto(RunResult) r = { 0 };

        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (g_str_equal(commands[i][0], "start"))
                        run_vmlock(fx, &r, "start", "--detach", fx->xml, "--",
                                   env_path("VMLOCK_TEST_GUEST"), "--hold", NULL);
                else
                        run_vmlock(fx, &r, commands[i][0], commands[i][1], NULL);
                g_assert_cmpint(r.status, !=, 0);
                if (g_str_equal(commands[i][0], "start"))
                        g_assert_cmpint(r.status, ==, 125);
                g_assert_true(contains(r.err, fx->state_dir));
                g_assert_true(contains(r.err, part));
                g_assert_true(contains(r.err, fix));
                run_result_clear(&r);
        }

        /* No pid: having refused the dir, it has nothing it may do. */
        run_helper(fx, &r, "poweroff", UUID, 0);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, fx->state_dir));
        g_assert_true(contains(r.err, part));
        g_assert_true(contains(r.err, "no pid"));
}

static void
test_state_dir_foreign_owner(Fixture *fx, gconstpointer data)
{
        g_autofree char *victim = NULL;
        g_autofree char *record = NULL;
        g_autofree char *lock = NULL;
        g_autofree char *part = NULL;
        int listen_fd;

        if (!need_root())
                return;
        victim = victim_new(fx);
        state_dir_make(fx, 0700, 0, 0);
        listen_fd = plant_record_and_socket(fx);
        g_assert_cmpint(chown(fx->state_dir, attacker_uid, attacker_gid), ==, 0);
        /* Theirs now: they plant links to root's file. */
        lock = g_build_filename(fx->state_dir, "g1.lock", NULL);
        attacker_plant(PLANT_SYMLINK, lock, victim);
        record = g_build_filename(fx->state_dir, "g2.state", NULL);
        attacker_plant(PLANT_SYMLINK, record, victim);

        part = g_strdup_printf("belongs to uid %u (" ATTACKER ")", (unsigned int)attacker_uid);
        assert_state_dir_refused(fx, part, "chown root");
        assert_nobody_connected(listen_fd);
        victim_assert_untouched(victim);
}

static void
test_state_dir_world_writable(Fixture *fx, gconstpointer data)
{
        g_autofree char *victim = NULL;
        g_autofree char *lock = NULL;
        int listen_fd;

        if (!need_root())
                return;
        victim = victim_new(fx);
        state_dir_make(fx, 0700, 0, 0);
        listen_fd = plant_record_and_socket(fx);
        g_assert_cmpint(chmod(fx->state_dir, 01777), ==, 0);
        lock = g_build_filename(fx->state_dir, "g1.lock", NULL);
        attacker_plant(PLANT_SYMLINK, lock, victim);

        assert_state_dir_refused(fx, "writable by every user", "chmod 0700");
        assert_nobody_connected(listen_fd);
        victim_assert_untouched(victim);
}

static void
test_state_dir_group_writable(Fixture *fx, gconstpointer data)
{
        g_autofree char *part = NULL;
        int listen_fd;

        if (!need_root())
                return;
        state_dir_make(fx, 0700, 0, attacker_gid);
        listen_fd = plant_record_and_socket(fx);
        g_assert_cmpint(chmod(fx->state_dir, 0770), ==, 0);

        part = g_strdup_printf("writable by group gid %u (" ATTACKER ")",
                               (unsigned int)attacker_gid);
        assert_state_dir_refused(fx, part, "chmod 0700");
        assert_nobody_connected(listen_fd);
}

static void
test_state_dir_acl(Fixture *fx, gconstpointer data)
{
        g_autofree char *part = NULL;
        int listen_fd;

        if (!need_root())
                return;
        state_dir_make(fx, 0700, 0, 0);
        listen_fd = plant_record_and_socket(fx);
        attacker_grant_write_by_acl(fx->state_dir, attacker_uid);

        part = g_strdup_printf("writable by uid %u (" ATTACKER ") through an ACL",
                               (unsigned int)attacker_uid);
        assert_state_dir_refused(fx, part, "setfacl -b");
        assert_nobody_connected(listen_fd);
}

/* The state dir itself a link (to a dir of root's that would pass). */
static void
test_state_dir_symlink(Fixture *fx, gconstpointer data)
{
        g_autofree char *real = g_build_filename(fx->dir, "real-state", NULL);

        if (!need_root())
                return;
        g_assert_cmpint(g_mkdir(real, 0700), ==, 0);
        g_assert_cmpint(symlink(real, fx->state_dir), ==, 0);
        assert_state_dir_refused(fx, "is a symbolic link", "--state-dir");
}

/* A record that is a link to root's file: refused by whoever reads it,
 * replaced (never written through) by the start that writes its own. */
static void
test_record_symlink(Fixture *fx, gconstpointer data)
{
        g_autofree char *victim = NULL;
        g_autofree char *record = NULL;
        g_auto(RunResult) r = { 0 };
        struct stat st;
        pid_t pid;

        if (!need_root())
                return;
        victim = victim_new(fx);
        state_dir_make(fx, 0700, 0, 0);
        record = plant_root_dir_symlink(fx, "g1.state", victim);

        /* Readers of records: list (skips it, saying why) and the helper. */
        run_vmlock(fx, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, "refusing the state record"));
        g_assert_true(contains(r.err, record));
        g_assert_true(contains(r.err, "symbolic link"));
        g_assert_true(contains(r.err, victim));
        run_result_clear(&r);
        run_helper(fx, &r, "poweroff", UUID, 0);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "no guest with uuid"));
        run_result_clear(&r);

        pid = start_detached(fx, NULL);
        wait_ready(fx);
        g_assert_cmpint(lstat(record, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpuint(st.st_uid, ==, 0);
        victim_assert_untouched(victim);
        kill(pid, SIGKILL);
}

/* A record of the attacker's own, well formed and naming a live guest. */
static void
test_record_foreign_owner(Fixture *fx, gconstpointer data)
{
        g_autofree char *record = NULL;
        g_autofree char *part = NULL;
        g_auto(RunResult) r = { 0 };
        int listen_fd;

        if (!need_root())
                return;
        state_dir_make(fx, 0700, 0, 0);
        listen_fd = plant_record_and_socket(fx);
        record = g_build_filename(fx->state_dir, "g1.state", NULL);
        g_assert_cmpint(chown(record, attacker_uid, attacker_gid), ==, 0);

        part = g_strdup_printf("belongs to uid %u (" ATTACKER ")", (unsigned int)attacker_uid);
        run_vmlock(fx, &r, "list", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.err, "refusing the state record"));
        g_assert_true(contains(r.err, record));
        g_assert_true(contains(r.err, part));
        g_assert_false(contains(r.out, "g1"));
        run_result_clear(&r);
        run_helper(fx, &r, "poweroff", UUID, 0);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "no guest with uuid"));
        assert_nobody_connected(listen_fd);
}

/* <name>.lock a link: opened without following it, so refused. */
static void
test_lock_symlink(Fixture *fx, gconstpointer data)
{
        g_autofree char *victim = NULL;
        g_autofree char *lock = NULL;
        g_auto(RunResult) r = { 0 };

        if (!need_root())
                return;
        victim = victim_new(fx);
        state_dir_make(fx, 0700, 0, 0);
        lock = plant_root_dir_symlink(fx, "g1.lock", victim);

        run_vmlock(fx, &r, "start", "--detach", fx->xml, "--", env_path("VMLOCK_TEST_GUEST"),
                   "--hold", NULL);
        g_assert_cmpint(r.status, ==, 125);
        g_assert_true(contains(r.err, "refusing the lock file"));
        g_assert_true(contains(r.err, lock));
        g_assert_true(contains(r.err, "symbolic link"));
        victim_assert_untouched(victim);
        g_assert_false(record_exists(fx, "g1"));
}

/* <name>.ctl a link left before start: the supervisor replaces it with
 * its socket (unlink removes the link, not what it names). */
static void
test_control_socket_symlink(Fixture *fx, gconstpointer data)
{
        g_autofree char *victim = NULL;
        g_autofree char *ctl = NULL;
        g_autofree char *qmp = NULL;
        g_auto(RunResult) r = { 0 };
        struct stat st;
        pid_t pid;

        if (!need_root())
                return;
        victim = victim_new(fx);
        state_dir_make(fx, 0700, 0, 0);
        ctl = plant_root_dir_symlink(fx, "g1.ctl", victim);
        qmp = plant_root_dir_symlink(fx, "g1.qmp", victim);

        pid = start_detached(fx, NULL);
        wait_ready(fx);
        g_assert_cmpint(lstat(ctl, &st), ==, 0);
        g_assert_true(S_ISSOCK(st.st_mode));
        g_assert_cmpuint(st.st_uid, ==, 0);
        g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
        victim_assert_untouched(victim);
        run_vmlock(fx, &r, "status", "g1", NULL);
        g_assert_cmpint(r.status, ==, 0);
        kill(pid, SIGKILL);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        if (geteuid() == 0)
                attacker_ensure(&attacker_uid, &attacker_gid);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/tools/vmlock/help", test_help);
        ADD("/tools/vmlock/usage", test_usage);
        ADD("/tools/vmlock/start/errors", test_start_errors);
        ADD("/tools/vmlock/start/exit-status", test_start_exit_status);
        ADD("/tools/vmlock/start/cycle", test_cycle);
        ADD("/tools/vmlock/start/foreground", test_foreground);
        ADD("/tools/vmlock/start/stale-record", test_stale_record);
        ADD("/tools/vmlock/start/concurrent", test_concurrent_start);
        ADD("/tools/vmlock/start/paused", test_start_paused);
        ADD("/tools/vmlock/start/paused-exec-fails", test_start_paused_exec_fails);
        ADD("/tools/vmlock/start/died-before-exec", test_start_died_before_exec);
        ADD("/tools/vmlock/start/duplicate-uuid", test_start_duplicate_uuid);
        ADD("/tools/vmlock/start/detach", test_start_detach);
        ADD("/tools/vmlock/start/refused-arguments", test_start_refused_arguments);
        ADD("/tools/vmlock/start/nop-warning", test_start_nop_warning);
        ADD("/tools/vmlock/start/config-typo", test_start_config_typo);
        ADD("/tools/vmlock/start/supervisor-killed", test_start_supervisor_killed);
        ADD("/tools/vmlock/start/supervisor-busy", test_start_supervisor_busy);
        ADD("/tools/vmlock/start/qemu-fails", test_start_qemu_fails);
        ADD("/tools/vmlock/start/qemu-detached-says-why", test_start_detached_qemu_says_why);
        ADD("/tools/vmlock/control/non-reading-client", test_control_non_reading_client);
        ADD("/tools/vmlock/pause-resume", test_pause_resume);
        ADD("/tools/vmlock/hotplug", test_hotplug);
        ADD("/tools/vmlock/seclabel", test_seclabel);
        ADD("/tools/lockfailure-helper/pause", test_helper_pause);
        ADD("/tools/lockfailure-helper/poweroff", test_helper_poweroff);
        ADD("/tools/lockfailure-helper/errors", test_helper_errors);
        ADD("/tools/attack/state-dir-foreign-owner", test_state_dir_foreign_owner);
        ADD("/tools/attack/state-dir-world-writable", test_state_dir_world_writable);
        ADD("/tools/attack/state-dir-group-writable", test_state_dir_group_writable);
        ADD("/tools/attack/state-dir-acl", test_state_dir_acl);
        ADD("/tools/attack/state-dir-symlink", test_state_dir_symlink);
        ADD("/tools/attack/record-symlink", test_record_symlink);
        ADD("/tools/attack/record-foreign-owner", test_record_foreign_owner);
        ADD("/tools/attack/lock-symlink", test_lock_symlink);
        ADD("/tools/attack/control-socket-symlink", test_control_socket_symlink);
#undef ADD

        return g_test_run();
}
