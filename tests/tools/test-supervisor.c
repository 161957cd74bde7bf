/* vmlock: tests of the supervisor (src/supervisor/supervisor.c) in-process,
 * with the nop driver, a child process standing in for QEMU's and a scripted
 * fake QMP peer as its monitor: what it asks QEMU, in which order, and what
 * it answers its clients. The script fails the test on any command it does
 * not expect, so "nothing reaches QEMU" is checked too. */
#include "config-build.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <vmlock/vmlock.h>

#include "fake-qmp-peer.h"
#include "control/control_protocol.h"
#include "qemu/qemu_proxy.h"
#include "supervisor/state_dir.h"
#include "supervisor/supervisor.h"
#include "util/proc_stat.h"
#include "util/qmp.h"

#define UUID "5b1ea2a4-7c1c-4b8e-9d0d-3b2f3f7e0a11"
#define WAIT_STEP_US 10000
#define WAIT_STEPS 500 /* 5 s */

#define GREETING                                                                       \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
        "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
/* QEMU's empty answer to the N-th command. */
#define OK(n) "< {\"return\": {}, \"id\": $" #n "}\r\n"
/* QEMU's answer to the N-th command, a query-status: its CPUs run, or not. */
#define RUNNING(n)                                                                   \
        "< {\"return\": {\"running\": true, \"status\": \"running\"}, \"id\": $" #n \
        "}\r\n"
#define STOPPED(n)                                                                   \
        "< {\"return\": {\"running\": false, \"status\": \"paused\"}, \"id\": $" #n \
        "}\r\n"
/* QEMU's answer to the N-th command, the hotplug's qom-get of the machine's
 * type: not PCI Express, so a virtio disk goes where QEMU puts it. */
#define PC_MACHINE(n) "< {\"return\": \"pc-i440fx-7.2-machine\", \"id\": $" #n "}\r\n"
/* What supervisor_new() asks QEMU (commands 0-2): the handshake, whether
 * the CPUs run, the images open. */
#define START_STEPS                                                                  \
        "< " GREETING, "> qmp_capabilities", OK(0), "> query-status",                \
                "< {\"return\": {\"running\": true, \"status\": \"running\"}, "      \
                "\"id\": $1}\r\n",                                                   \
                "> query-named-block-nodes", "< {\"return\": [], \"id\": $2}\r\n"

typedef struct SvTest SvTest;
typedef void (*ClientFunc)(SvTest *t);

struct SvTest {
        char *dir;
        char *state_dir;
        char *disk;       /* a disk to hotplug */
        pid_t guest;      /* stands in for QEMU's process */
        GuestRecord *record;
        VmlockLockManager *manager;
        Supervisor *sv;
        FakePeer fake;
        char *control;    /* the supervisor's sockets */
        char *proxy;
        ClientFunc client;
};

static void
sv_test_start(SvTest *t, const char *const *script)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        SupervisorSetup setup = { 0 };
        guint64 start_time = 0;
        g_autoptr(VmlockDomain) dom = NULL;

        memset(t, 0, sizeof(*t));
        t->dir = g_dir_make_tmp("vmlock-test-supervisor-XXXXXX", &error);
        g_assert_no_error(error);
        t->state_dir = g_build_filename(t->dir, "state", NULL);
        g_assert_true(state_dir_ensure(t->state_dir, &error));
        t->disk = g_build_filename(t->dir, "disk2.img", NULL);
        xml = g_strdup_printf("<domain type='kvm'><name>g1</name><uuid>" UUID "</uuid>"
                              "<devices><disk type='file' device='disk'>"
                              "<source file='%s/disk1.img'/><target dev='vda'/></disk>"
                              "</devices></domain>",
                              t->dir);
        dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
        g_assert_no_error(error);

        t->guest = fork();
        g_assert_cmpint(t->guest, >=, 0);
        if (t->guest == 0) {
                /* Gone with the test, should it fail before it kills us. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        vmlock_domain_set_pid(dom, t->guest);
        t->record = guest_record_new(dom);
        g_assert_true(proc_pid_stat(t->guest, NULL, &start_time, &error));
        t->record->pid_start_time = start_time;
        t->manager = vmlock_lock_manager_new("nop", NULL, t->dir, NULL, NULL, &error);
        g_assert_no_error(error);

        setup.state_dir = t->state_dir;
        setup.uri = "vmlock:///test";
        setup.record = t->record;
        setup.manager = t->manager;
        setup.go_fd = -1;
        setup.monitor_fd = fake_peer_start_pair(&t->fake, script);
        setup.program = "qemu-system-x86_64";
        t->sv = supervisor_new(&setup, &error);
        g_assert_no_error(error);
        g_assert_nonnull(t->sv);
        t->control = state_dir_control_path(t->state_dir, "g1");
        t->proxy = state_dir_qmp_path(t->state_dir, "g1");
}

static gpointer
client_thread(gpointer data)
{
        SvTest *t = data;

        t->client(t);
        /* The guest ends: so does the supervisor. */
        g_assert_cmpint(kill(t->guest, SIGKILL), ==, 0);
        return NULL;
}

/* Runs the supervisor until the guest ends, @client (in a thread) acting
 * meanwhile and then killing the guest. */
static void
sv_test_run(SvTest *t, ClientFunc client)
{
        GThread *thread;
        int status;

        t->client = client;
        thread = g_thread_new("client", client_thread, t);
        status = supervisor_run(t->sv);
        g_thread_join(thread);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Its record and sockets are gone with it. */
        g_assert_false(g_file_test(t->control, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(t->proxy, G_FILE_TEST_EXISTS));
}

static void
remove_tree(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *child = g_build_filename(path, name, NULL);

                remove_tree(child);
        }
        g_remove(path);
}

static void
sv_test_finish(SvTest *t)
{
        g_clear_pointer(&t->sv, supervisor_free);
        /* The whole script ran: QEMU was asked exactly that. */
        fake_peer_clear(&t->fake);
        guest_record_free(t->record);
        vmlock_lock_manager_unref(t->manager);
        remove_tree(t->dir);
        g_free(t->dir);
        g_free(t->state_dir);
        g_free(t->disk);
        g_free(t->control);
        g_free(t->proxy);
}

static JsonObject *
parse(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* @command (arguments as JSON text, or NULL) on the socket at @path. */
static JsonNode *
call(const char *path, const char *command, const char *arguments, GError **error)
{
        g_autoptr(QmpStream) stream = qmp_client_connect(path, error);
        g_autoptr(JsonObject) args = arguments ? parse(arguments) : NULL;

        if (!stream)
                return NULL;
        return qmp_client_execute(stream, command, args, error);
}

static void
call_ok(const char *path, const char *command, const char *arguments)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = call(path, command, arguments, &error);

        g_assert_no_error(error);
        g_assert_nonnull(ret);
}

static GuestRecord *
load_record(SvTest *t)
{
        g_autoptr(GError) error = NULL;
        GuestRecord *record = state_dir_load(t->state_dir, "g1", &error);

        g_assert_no_error(error);
        return record;
}

static gboolean
record_has_disk(SvTest *t, const char *path)
{
        g_autoptr(GuestRecord) record = load_record(t);

        for (guint i = 0; i < vmlock_domain_get_n_disks(record->dom); i++) {
                if (g_strcmp0(vmlock_disk_get_source(vmlock_domain_get_disk(record->dom, i)),
                              path) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* ---- the QMP proxy ---- */

static void
proxy_client(SvTest *t)
{
        g_autoptr(QmpStream) stream = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) name = NULL;
        JsonObject *object;

        stream = qmp_client_connect(t->proxy, &error);
        g_assert_no_error(error);
        /* Every refused command is answered here: none reaches QEMU. */
        for (guint i = 0; qemu_proxy_refused_command(i); i++) {
                g_autoptr(GError) refused = NULL;
                g_autoptr(JsonNode) ret = qmp_client_execute(
                        stream, qemu_proxy_refused_command(i), NULL, &refused);

                g_assert_null(ret);
                g_assert_nonnull(strstr(refused->message, "is refused for guest 'g1'"));
        }
        /* Others pass, and the answer comes back. */
        name = qmp_client_execute(stream, "query-name", NULL, &error);
        g_assert_no_error(error);
        object = json_node_get_object(name);
        g_assert_cmpstr(json_object_get_string_member(object, "name"), ==, "vm");
}

static void
test_proxy(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> query-name",
                "< {\"return\": {\"name\": \"vm\"}, \"id\": $3}\r\n",
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, proxy_client);
        sv_test_finish(&t);
}

/* ---- the control socket ---- */

static void
control_client(SvTest *t)
{
        g_autoptr(QmpStream) stream = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) greeting = NULL;
        JsonObject *body;
        static const struct {
                const char *command;
                const char *arguments;
                const char *error;
        } refused[] = {
                { "pause", "{\"release\": \"yes\"}", "argument 'release' must be a boolean" },
                { "detach-disk", NULL, "'detach-disk' needs argument 'path'" },
                { "migrate", "{\"uri\": \"unix:/x\", \"speed\": 1}", "has no argument 'speed'" },
                { "quit", NULL, "The command quit has not been found" },
        };

        /* The greeting names the protocol's version. */
        stream = qmp_stream_connect(t->control, &error);
        g_assert_no_error(error);
        greeting = qmp_stream_receive(stream, FAKE_QMP_PEER_WAIT_MS, &error);
        g_assert_no_error(error);
        body = json_object_get_object_member(greeting, "QMP");
        g_assert_cmpint(json_object_get_int_member(body, "control-protocol"), ==,
                        CONTROL_PROTOCOL_VERSION);
        g_assert_cmpstr(json_object_get_string_member(body, "guest"), ==, "g1");
        /* Arguments are checked against the table before anything is done;
         * none of these reaches QEMU. */
        for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_autoptr(GError) call_error = NULL;
                g_autoptr(JsonNode) ret = call(t->control, refused[i].command,
                                               refused[i].arguments, &call_error);

                g_assert_null(ret);
                g_assert_nonnull(strstr(call_error->message, refused[i].error));
        }
}

static void
test_control(void)
{
        static const char *const script[] = { START_STEPS, NULL };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, control_client);
        sv_test_finish(&t);
}

/* ---- hotplug through QEMU ---- */

static void
hotplug_client(SvTest *t)
{
        g_autofree char *arguments = g_strdup_printf("{\"path\": \"%s\"}", t->disk);

        call_ok(t->control, "attach-disk", arguments);
        g_assert_true(record_has_disk(t, t->disk));
        /* Answered once QEMU let go (DEVICE_DELETED) and the nodes went. */
        call_ok(t->control, "detach-disk", arguments);
        g_assert_false(record_has_disk(t, t->disk));
}

static void
test_hotplug(void)
{
        static const char *const script[] = {
                START_STEPS,
                /* attach-disk: the image node, the format node, the machine's
                 * type (a root port on q35), the device */
                "> blockdev-add", OK(3), "> blockdev-add", OK(4), "> qom-get", PC_MACHINE(5),
                "> device_add", OK(6),
                /* detach-disk */
                "> device_del", OK(7),
                "< {\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"vmlock-disk0\"}}\r\n",
                "> blockdev-del", OK(8), "> blockdev-del", OK(9),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, hotplug_client);
        g_assert_cmpstr(json_object_get_string_member(g_ptr_array_index(t.fake.received, 6),
                                                      "execute"),
                        ==, "device_add");
        sv_test_finish(&t);
}

static void
unplug_timeout_client(SvTest *t)
{
        g_autofree char *arguments = g_strdup_printf("{\"path\": \"%s\"}", t->disk);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        call_ok(t->control, "attach-disk", arguments);
        /* QEMU never lets go: the answer says so in time, the lease stays. */
        ret = call(t->control, "detach-disk", arguments, &error);
        g_assert_null(ret);
        g_assert_nonnull(strstr(error->message, "QEMU has not let go of disk"));
        g_assert_true(record_has_disk(t, t->disk));
}

static void
test_unplug_timeout(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> blockdev-add", OK(3), "> blockdev-add", OK(4), "> qom-get", PC_MACHINE(5),
                "> device_add", OK(6),
                "> device_del", OK(7),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, unplug_timeout_client);
        sv_test_finish(&t);
}

/* ---- stop ---- */

static void
stop_client(SvTest *t)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        /* A day is past what the supervisor arms: refused before QEMU is asked. */
        ret = call(t->control, "stop", "{\"timeout\": 4294967296}", &error);
        g_assert_null(ret);
        g_assert_nonnull(strstr(error->message, "out of range"));
        /* QEMU gets the power button; the guest's OS (this test) then ends. */
        call_ok(t->control, "stop", "{\"timeout\": 600}");
}

static void
test_stop(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> system_powerdown", OK(3),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, stop_client);
        sv_test_finish(&t);
}

/* ---- migration ---- */

static void
migration_client(SvTest *t)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) progress = NULL;
        gboolean released = FALSE;

        call_ok(t->control, "migrate", "{\"uri\": \"unix:/nowhere\"}");
        /* Nobody asks how it goes: QEMU's event alone hands the leases over. */
        for (int i = 0; i < WAIT_STEPS && !released; i++) {
                g_autoptr(GuestRecord) record = load_record(t);

                released = record->released && record->paused;
                if (!released)
                        g_usleep(WAIT_STEP_US);
        }
        g_assert_true(released);
        progress = call(t->control, "query-migration", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(progress), "status"),
                        ==, "completed");
        g_assert_true(json_object_get_boolean_member(json_node_get_object(progress),
                                                     "handed-over"));
        /* Done here: a second migrate is refused. */
        g_clear_pointer(&progress, json_node_unref);
        progress = call(t->control, "migrate", "{\"uri\": \"unix:/nowhere\"}", &error);
        g_assert_null(progress);
        g_assert_nonnull(strstr(error->message, "its leases are released already"));
}

static void
test_migration_handover(void)
{
        static const char *const script[] = {
                START_STEPS,
                /* migrate: whether the CPUs run (where a cancel returns),
                 * QEMU's MIGRATION events on, then migrate */
                "> query-status", RUNNING(3),
                "> migrate-set-capabilities", OK(4), "> migrate", OK(5),
                "< {\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}\r\n",
                "< {\"event\": \"MIGRATION\", \"data\": {\"status\": \"completed\"}}\r\n",
                /* the hand-over: stop (flushed), then the leases go */
                "> stop", OK(6),
                /* query-migration: QEMU's progress, and whether it runs */
                "> query-migrate",
                "< {\"return\": {\"status\": \"completed\"}, \"id\": $7}\r\n",
                "> query-status", STOPPED(8),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, migration_client);
        sv_test_finish(&t);
}

static void
migration_failed_client(SvTest *t)
{
        gboolean ended = FALSE;

        call_ok(t->control, "migrate", "{\"uri\": \"unix:/nowhere\"}");
        /* Failed: it runs on here with its leases, and may migrate again. */
        for (int i = 0; i < WAIT_STEPS && !ended; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonNode) ret = call(t->control, "migrate",
                                               "{\"uri\": \"unix:/elsewhere\"}", &error);

                ended = ret != NULL;
                if (!ended) {
                        g_assert_nonnull(strstr(error->message, "a migration is under way"));
                        g_usleep(WAIT_STEP_US);
                }
        }
        g_assert_true(ended);
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
        }
}

static void
test_migration_failed(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> query-status", RUNNING(3),
                "> migrate-set-capabilities", OK(4), "> migrate", OK(5),
                "< {\"event\": \"MIGRATION\", \"data\": {\"status\": \"failed\"}}\r\n",
                "> query-status", RUNNING(6),
                "> migrate-set-capabilities", OK(7), "> migrate", OK(8),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, migration_failed_client);
        sv_test_finish(&t);
}

static void
migration_cancelled_client(SvTest *t)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) progress = NULL;
        JsonObject *body;
        gboolean cancelling = TRUE;

        call_ok(t->control, "migrate", "{\"uri\": \"unix:/nowhere\"}");
        progress = call(t->control, "migrate-cancel", NULL, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_get_boolean_member(json_node_get_object(progress),
                                                     "cancelling"));
        /* Asked again, QEMU is not: cancelling until the source runs again. */
        for (int i = 0; i < WAIT_STEPS && cancelling; i++) {
                g_clear_pointer(&progress, json_node_unref);
                progress = call(t->control, "migrate-cancel", NULL, &error);
                g_assert_no_error(error);
                cancelling = json_object_get_boolean_member(json_node_get_object(progress),
                                                            "cancelling");
                if (cancelling)
                        g_usleep(WAIT_STEP_US);
        }
        g_assert_false(cancelling);
        g_clear_pointer(&progress, json_node_unref);
        progress = call(t->control, "query-migration", NULL, &error);
        g_assert_no_error(error);
        body = json_node_get_object(progress);
        g_assert_cmpstr(json_object_get_string_member(body, "status"), ==, "cancelled");
        g_assert_false(json_object_get_boolean_member(body, "cancelling"));
        g_assert_false(json_object_get_boolean_member(body, "handed-over"));
        g_assert_true(json_object_get_boolean_member(body, "running"));
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
                g_assert_false(record->paused);
        }
}

/* migrate-cancel (Ctrl-C on vmlock migrate): QEMU cancels; the source,
 * which ran before and which QEMU left stopped, runs again with its leases. */
static void
test_migration_cancelled(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> query-status", RUNNING(3),
                "> migrate-set-capabilities", OK(4), "> migrate", OK(5),
                "> migrate_cancel", OK(6),
                "< {\"event\": \"MIGRATION\", \"data\": {\"status\": \"cancelled\"}}\r\n",
                /* QEMU did not restart it: the supervisor does */
                "> query-status", STOPPED(7), "> cont", OK(8),
                "> query-migrate",
                "< {\"return\": {\"status\": \"cancelled\"}, \"id\": $9}\r\n",
                "> query-status", RUNNING(10),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, migration_cancelled_client);
        sv_test_finish(&t);
}

/* ---- QEMU taking its time: the supervisor serves meanwhile ---- */

/* Sends @command on a connection of its own, without waiting for the
 * answer: read it later with finish_call(). */
static QmpStream *
start_call(const char *path, const char *command, const char *arguments)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) stream = qmp_client_connect(path, &error);
        g_autoptr(JsonObject) args = arguments ? parse(arguments) : NULL;
        g_autoptr(JsonObject) request = qmp_command_new(command, args);

        g_assert_no_error(error);
        g_assert_true(qmp_stream_send(stream, request, &error));
        g_assert_no_error(error);
        return g_steal_pointer(&stream);
}

/* The answer to start_call()'s command: its return, or its error. */
static JsonNode *
finish_call(QmpStream *stream, const char *command, GError **error)
{
        g_autoptr(GError) io_error = NULL;
        g_autoptr(JsonObject) reply = qmp_stream_receive(stream, FAKE_QMP_PEER_WAIT_MS,
                                                         &io_error);

        g_assert_no_error(io_error);
        return qmp_reply_take_return(reply, command, error);
}

static void
call_busy(const char *path, const char *command, const char *arguments, const char *busy)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = call(path, command, arguments, &error);
        g_autofree char *expected = g_strdup_printf("guest 'g1' is busy: %s", busy);

        g_assert_null(ret);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, expected));
}

/* status is answered while QEMU holds on to an answer. */
static void
assert_status_answered(SvTest *t)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) status = call(t->control, "query-guest", NULL, &error);

        g_assert_no_error(error);
        g_assert_nonnull(status);
}

static void
slow_stop_client(SvTest *t)
{
        g_autoptr(QmpStream) pausing = start_call(t->control, "pause", "{\"release\": true}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        /* QEMU flushes: its stop is not answered yet. */
        fake_peer_wait_held(&t->fake);
        assert_status_answered(t);
        call_busy(t->control, "resume", NULL, "pausing");
        call_busy(t->control, "pause", NULL, "pausing");
        /* Nothing released before QEMU confirmed the stop. */
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
        }
        fake_peer_release(&t->fake);
        ret = finish_call(pausing, "pause", &error);
        g_assert_no_error(error);
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_true(record->released);
                g_assert_true(record->paused);
        }
        /* Not busy any more: resume takes the leases, then QEMU gets cont. */
        call_ok(t->control, "resume", NULL);
}

static void
test_slow_stop(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> stop", "=", OK(3),
                "> cont", OK(4),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, slow_stop_client);
        sv_test_finish(&t);
}

static void
eof_while_stop_client(SvTest *t)
{
        g_autoptr(QmpStream) pausing = start_call(t->control, "pause", "{\"release\": true}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        fake_peer_wait_held(&t->fake);
        /* QEMU goes without answering: the pause fails, nothing released. */
        fake_peer_release(&t->fake);
        ret = finish_call(pausing, "pause", &error);
        g_assert_null(ret);
        g_assert_nonnull(strstr(error->message, "closed before QEMU answered 'stop'"));
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
        }
        /* Not busy, and served still: the guest's end is the supervisor's. */
        assert_status_answered(t);
}

static void
test_eof_while_stop(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> stop", "=",
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, eof_while_stop_client);
        sv_test_finish(&t);
}

static void
client_gone_client(SvTest *t)
{
        g_autoptr(QmpStream) pausing = start_call(t->control, "pause", "{\"release\": true}");
        gboolean released = FALSE;

        fake_peer_wait_held(&t->fake);
        /* Its client goes before QEMU answered: the pause goes on. */
        g_clear_pointer(&pausing, qmp_stream_free);
        fake_peer_release(&t->fake);
        for (int i = 0; i < WAIT_STEPS && !released; i++) {
                g_autoptr(GuestRecord) record = load_record(t);

                released = record->released;
                if (!released)
                        g_usleep(WAIT_STEP_US);
        }
        g_assert_true(released);
        /* And it is over: the next one is not refused. */
        call_ok(t->control, "resume", NULL);
}

static void
test_client_gone(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> stop", "=", OK(3),
                "> cont", OK(4),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, client_gone_client);
        sv_test_finish(&t);
}

static void
slow_cont_eof_client(SvTest *t)
{
        g_autoptr(QmpStream) resuming = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        call_ok(t->control, "pause", "{\"release\": true}");
        resuming = start_call(t->control, "resume", NULL);
        /* The leases are taken again before cont goes to QEMU. */
        fake_peer_wait_held(&t->fake);
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
        }
        call_busy(t->control, "pause", NULL, "resuming");
        /* QEMU goes without answering cont: it may have run the guest, so
         * the guest keeps its leases. */
        fake_peer_release(&t->fake);
        ret = finish_call(resuming, "resume", &error);
        g_assert_null(ret);
        g_assert_nonnull(strstr(error->message, "it holds its leases"));
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_false(record->released);
        }
}

static void
test_slow_cont_eof(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> stop", OK(3),
                "> cont", "=",
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, slow_cont_eof_client);
        sv_test_finish(&t);
}

static void
lock_failure_during_resume_client(SvTest *t)
{
        g_autoptr(QmpStream) resuming = NULL;
        g_autoptr(QmpStream) failing = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) resumed = NULL;
        g_autoptr(JsonNode) failed = NULL;

        call_ok(t->control, "pause", "{\"release\": true}");
        /* The leases are taken again and cont sent; QEMU answers it only
         * once the lock failure's stop came too (the script says). */
        resuming = start_call(t->control, "resume", NULL);
        failing = start_call(t->control, "lock-failure",
                             "{\"uuid\": \"" UUID "\", \"action\": \"pause\"}");
        resumed = finish_call(resuming, "resume", &error);
        g_assert_no_error(error);
        failed = finish_call(failing, "lock-failure", &error);
        g_assert_no_error(error);
        /* QEMU ran cont, then stop: the leases went only after the stop. */
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_true(record->released);
                g_assert_true(record->paused);
        }
}

/* A lock failure while a resume waits for QEMU's cont is not refused as
 * busy: its stop follows the cont, and the release follows the stop. */
static void
test_lock_failure_during_resume(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> stop", OK(3),
                "> cont", "> stop", OK(4), OK(5),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, lock_failure_during_resume_client);
        sv_test_finish(&t);
}

static void
slow_hotplug_client(SvTest *t)
{
        g_autofree char *arguments = g_strdup_printf("{\"path\": \"%s\"}", t->disk);
        g_autoptr(QmpStream) attaching = start_call(t->control, "attach-disk", arguments);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        /* The lease is held before QEMU opens the image. */
        fake_peer_wait_held(&t->fake);
        g_assert_true(record_has_disk(t, t->disk));
        assert_status_answered(t);
        call_busy(t->control, "pause", NULL, "attaching a disk");
        /* Its lease stays until QEMU answered, and so does its mark in the
         * record (for a supervisor killed meanwhile). */
        call_busy(t->control, "detach-disk", arguments, "attaching a disk");
        call_busy(t->control, "attach-disk", arguments, "attaching a disk");
        {
                g_autoptr(GuestRecord) record = load_record(t);

                g_assert_nonnull(record->in_flight);
                g_assert_nonnull(strstr(record->in_flight, t->disk));
        }
        fake_peer_release(&t->fake);
        ret = finish_call(attaching, "attach-disk", &error);
        g_assert_no_error(error);
        g_assert_true(record_has_disk(t, t->disk));
}

static void
test_slow_hotplug(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> blockdev-add", "=", OK(3), "> blockdev-add", OK(4), "> qom-get",
                PC_MACHINE(5), "> device_add", OK(6),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, slow_hotplug_client);
        sv_test_finish(&t);
}

static void
refused_hotplug_client(SvTest *t)
{
        g_autofree char *arguments = g_strdup_printf("{\"path\": \"%s\"}", t->disk);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = call(t->control, "attach-disk", arguments, &error);

        /* QEMU refused the device: the nodes went, and only then the lease. */
        g_assert_null(ret);
        g_assert_nonnull(strstr(error->message, "QEMU refused 'device_add': no bus"));
        g_assert_false(record_has_disk(t, t->disk));
}

static void
test_refused_hotplug(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> blockdev-add", OK(3), "> blockdev-add", OK(4), "> qom-get",
                PC_MACHINE(5), "> device_add",
                "< {\"error\": {\"class\": \"GenericError\", \"desc\": \"no bus\"}, "
                "\"id\": $6}\r\n",
                "> blockdev-del", OK(7), "> blockdev-del", OK(8),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, refused_hotplug_client);
        sv_test_finish(&t);
}

static void
slow_migrate_client(SvTest *t)
{
        g_autoptr(QmpStream) migrating = start_call(t->control, "migrate",
                                                    "{\"uri\": \"unix:/nowhere\"}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;

        fake_peer_wait_held(&t->fake);
        assert_status_answered(t);
        call_busy(t->control, "pause", NULL, "starting a migration");
        fake_peer_release(&t->fake);
        ret = finish_call(migrating, "migrate", &error);
        g_assert_no_error(error);
}

static void
test_slow_migrate(void)
{
        static const char *const script[] = {
                START_STEPS,
                "> query-status", RUNNING(3),
                "> migrate-set-capabilities", OK(4), "> migrate", "=", OK(5),
                NULL,
        };
        SvTest t;

        sv_test_start(&t, script);
        sv_test_run(&t, slow_migrate_client);
        sv_test_finish(&t);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/supervisor/proxy", test_proxy);
        g_test_add_func("/supervisor/control", test_control);
        g_test_add_func("/supervisor/hotplug", test_hotplug);
        g_test_add_func("/supervisor/hotplug/unplug-timeout", test_unplug_timeout);
        g_test_add_func("/supervisor/stop", test_stop);
        g_test_add_func("/supervisor/migration/handover", test_migration_handover);
        g_test_add_func("/supervisor/migration/failed", test_migration_failed);
        g_test_add_func("/supervisor/migration/cancelled", test_migration_cancelled);
        g_test_add_func("/supervisor/async/slow-stop", test_slow_stop);
        g_test_add_func("/supervisor/async/eof-while-stop", test_eof_while_stop);
        g_test_add_func("/supervisor/async/client-gone", test_client_gone);
        g_test_add_func("/supervisor/async/slow-cont-eof", test_slow_cont_eof);
        g_test_add_func("/supervisor/async/lock-failure-during-resume",
                        test_lock_failure_during_resume);
        g_test_add_func("/supervisor/async/slow-hotplug", test_slow_hotplug);
        g_test_add_func("/supervisor/async/refused-hotplug", test_refused_hotplug);
        g_test_add_func("/supervisor/async/slow-migrate", test_slow_migrate);
        return g_test_run();
}
