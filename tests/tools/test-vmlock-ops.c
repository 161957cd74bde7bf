/* vmlock tests: the operations commands (lockspace, hosts, metrics) against real sanlock daemons. */
#define G_LOG_DOMAIN "vmlock-tools-test"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "private-sanlock.h"
#include "sanlock-test-util.h"
#include "tool-test-util.h"

/* Polls are bounded; each step is short so that a loaded machine only
 * makes them take more steps, never fail. */
#define POLL_US (200 * 1000)
/* The private lockspace's io_timeout: a stopped host fails after 8 s and
 * is dead after 8 + 60 s. */
#define IO_TIMEOUT 1
#define DEAD_SECONDS (8 * IO_TIMEOUT + 60)

#define VMLOCK_BIN tool_test_build_path("tools/vmlock")

/* `vmlock ARGS...` as @host, its records in @state_dir. */
static void
vmlock_as(const SanlockTestHost *host, const char *state_dir, RunResult *r, ...)
{
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) error = NULL;
        int wait_status = 0;
        va_list ap;

        run_result_clear(r);
        va_start(ap, r);
        argv = tool_test_argv_new_va(VMLOCK_BIN, ap);
        va_end(ap);
        {
                g_auto(GStrv) env = sanlock_test_host_environ(host);

                env = g_environ_setenv(env, "VMLOCK_STATE_DIR", state_dir, TRUE);
                g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, 0, NULL, NULL,
                                           &r->out, &r->err, &wait_status, &error));
        }
        g_assert_no_error(error);
        r->status = WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status)
                                              : WEXITSTATUS(wait_status);
        g_test_message("vmlock %s as %s: exit %d\n%s%s", (char *)argv->pdata[1], host->name,
                       r->status, r->out, r->err);
}

static JsonNode *
parse_json(const char *text)
{
        g_autoptr(GError) error = NULL;
        JsonNode *root = json_from_string(text, &error);

        g_assert_no_error(error);
        g_assert_nonnull(root);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
        return root;
}

/* The host @host_id of a `vmlock hosts --json` output (NULL if absent). */
static JsonObject *
json_host(JsonNode *root, guint64 host_id)
{
        JsonArray *hosts = json_object_get_array_member(json_node_get_object(root), "hosts");

        g_assert_nonnull(hosts);
        for (guint i = 0; i < json_array_get_length(hosts); i++) {
                JsonObject *host = json_array_get_object_element(hosts, i);

                if ((guint64)json_object_get_int_member(host, "host_id") == host_id)
                        return host;
        }
        return NULL;
}

/* ---- the harness's two hosts ---------------------------------------------------------- */

static char *
state_dir_new(const char *what)
{
        g_autofree char *base = sanlock_test_unique_name(what);
        char *dir = g_build_filename(sanlock_test_scratch_dir(), base, NULL);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        return dir;
}

static void
test_lockspace_status(void)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *state_dir = state_dir_new("state");
        g_auto(RunResult) r = { 0 };
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        vmlock_as(h1, state_dir, &r, "lockspace", "status", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        root = parse_json(r.out);
        o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "lockspace"), ==,
                        sanlock_test_harness()->disk_lockspace);
        g_assert_cmpstr(json_object_get_string_member(o, "path"), ==,
                        sanlock_test_harness()->disk_lockspace_path);
        g_assert_cmpint(json_object_get_int_member(o, "host_id"), ==, h1->id);
        g_assert_cmpstr(json_object_get_string_member(o, "host_name"), ==, h1->name);
        g_assert_true(json_object_get_boolean_member(o, "joined"));
        g_assert_false(json_object_get_boolean_member(o, "joining"));
        g_assert_cmpint(json_object_get_int_member(o, "io_timeout"), ==, 10);
        /* renewed every 20 s; a loaded machine may be late, not 3 intervals late */
        g_assert_false(json_object_get_null_member(o, "renewal_age"));
        g_assert_cmpint(json_object_get_int_member(o, "renewal_age"), >=, 0);
        g_assert_cmpint(json_object_get_int_member(o, "renewal_age"), <=, 60);
        g_assert_false(json_object_get_null_member(o, "renewal_latency_ms"));
        g_assert_cmpint(json_object_get_int_member(o, "renewal_latency_ms"), >=, 0);
        g_assert_true(json_object_has_member(o, "renewal_failures"));

        vmlock_as(h1, state_dir, &r, "lockspace", "status", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "joined       yes"));
        g_assert_true(contains(r.out, h1->name));
}

static void
test_hosts_live(void)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        const SanlockTestHost *h2 = sanlock_test_host(2);
        g_autofree char *state_dir = state_dir_new("state");
        g_auto(RunResult) r = { 0 };
        g_autoptr(JsonNode) root = NULL;

        vmlock_as(h1, state_dir, &r, "hosts", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        root = parse_json(r.out);
        for (guint id = 1; id <= SANLOCK_TEST_N_HOSTS; id++) {
                const SanlockTestHost *h = sanlock_test_host(id);
                JsonObject *host = json_host(root, id);

                g_assert_nonnull(host);
                g_assert_cmpstr(json_object_get_string_member(host, "name"), ==, h->name);
                g_assert_cmpstr(json_object_get_string_member(host, "state"), ==, "live");
                g_assert_cmpint(json_object_get_boolean_member(host, "self"), ==, id == h1->id);
                g_assert_cmpint(json_object_get_int_member(host, "io_timeout"), ==, 10);
                g_assert_cmpint(json_object_get_int_member(host, "generation"), >=, 1);
                g_assert_true(json_object_get_null_member(host, "dead_in"));
                g_assert_true(json_object_has_member(host, "renewal_age"));
        }

        vmlock_as(h2, state_dir, &r, "hosts", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "HOST_ID"));
        g_assert_true(contains(r.out, h1->name));
        g_assert_true(contains(r.out, " (this host)"));
        /* Aligned: each host's state starts under STATE, whatever its name. */
        {
                g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
                const char *state = strstr(lines[0], "STATE");
                gsize column;

                g_assert_nonnull(state);
                column = (gsize)(state - lines[0]);
                for (guint i = 1; lines[i] && *lines[i]; i++) {
                        g_test_message("%s", lines[i]);
                        g_assert_cmpuint(strlen(lines[i]), >, column);
                        g_assert_true(g_str_has_prefix(lines[i] + column, "live ") ||
                                      g_str_has_prefix(lines[i] + column, "unknown ") ||
                                      g_str_has_prefix(lines[i] + column, "fail ") ||
                                      g_str_has_prefix(lines[i] + column, "dead ") ||
                                      g_str_has_prefix(lines[i] + column, "free "));
                        g_assert_cmpint(lines[i][column - 1], ==, ' ');
                }
        }
}

static void
test_metrics(void)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *state_dir = state_dir_new("state");
        g_autofree char *joined = g_strdup_printf(
                "vmlock_lockspace_joined{lockspace=\"%s\",host_id=\"1\"} 1\n",
                sanlock_test_harness()->disk_lockspace);
        g_autofree char *live = g_strdup_printf(
                "vmlock_host_state{lockspace=\"%s\",host_id=\"2\",host=\"%s\",state=\"live\"} 1\n",
                sanlock_test_harness()->disk_lockspace, sanlock_test_host(2)->name);
        g_autofree char *file = g_build_filename(state_dir, "vmlock.prom", NULL);
        g_autofree char *text = NULL;
        g_auto(RunResult) r = { 0 };

        vmlock_as(h1, state_dir, &r, "metrics", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "# TYPE vmlock_guests gauge\nvmlock_guests 0\n"));
        g_assert_true(contains(r.out, "vmlock_leases_held 0\n"));
        g_assert_true(contains(r.out, joined));
        g_assert_true(contains(r.out, live));
        g_assert_true(contains(r.out, "vmlock_lockspace_renewal_latency_seconds{"));
        g_assert_true(contains(r.out, "vmlock_metrics_error{source=\"any\"} 0\n"));

        vmlock_as(h1, state_dir, &r, "metrics", "--output", file, NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.out, ==, "");
        g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
        g_assert_true(contains(text, joined));
}

/* ---- private hosts: a lockspace of their own, a host that dies -------------------------- */

typedef struct {
        char *dir;
        char *lease_dir;
        char *state_dir;
        PrivateHost hosts[2];
} Private;

static void
private_setup(Private *p)
{
        g_autofree char *base = sanlock_test_unique_name("private");

        p->dir = g_build_filename(sanlock_test_scratch_dir(), base, NULL);
        p->lease_dir = g_build_filename(p->dir, "leases", NULL);
        p->state_dir = g_build_filename(p->dir, "state", NULL);
        g_assert_cmpint(g_mkdir_with_parents(p->lease_dir, 0700), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(p->state_dir, 0700), ==, 0);
        private_host_start(&p->hosts[0], p->dir, p->lease_dir, 1, IO_TIMEOUT);
        private_host_start(&p->hosts[1], p->dir, p->lease_dir, 2, IO_TIMEOUT);
}

static void
private_teardown(Private *p)
{
        for (guint i = 0; i < G_N_ELEMENTS(p->hosts); i++)
                private_host_clear(&p->hosts[i]);
        g_free(p->dir);
        g_free(p->lease_dir);
        g_free(p->state_dir);
}

static gboolean
dir_is_empty(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);

        return dir && !g_dir_read_name(dir);
}

/* The host @host_id as @host's `vmlock hosts --json` shows it. */
static JsonNode *
hosts_json(const Private *p, const SanlockTestHost *host)
{
        g_auto(RunResult) r = { 0 };

        vmlock_as(host, p->state_dir, &r, "hosts", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        return parse_json(r.out);
}

static const char *
host_state(JsonNode *root, guint64 host_id)
{
        JsonObject *host = json_host(root, host_id);

        return host ? json_object_get_string_member(host, "state") : NULL;
}

/* In a child acting as a host: who holds the disk @data, through a
 * read-only lock manager (what `vmlock status --disk` needs). */
static gboolean
describe_read_only(gpointer data, GString *reply, GError **error)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *description = NULL;

        manager = vmlock_lock_manager_new_full("sanlock", NULL, NULL,
                                               VMLOCK_LOCK_MANAGER_READ_ONLY, NULL, NULL, error);
        if (!manager || !vmlock_lock_manager_describe_disk(manager, data, &description, error))
                return FALSE;
        g_string_append(reply, description);
        return TRUE;
}

static char *
describe_as(const SanlockTestHost *host, const char *disk)
{
        g_autoptr(GError) error = NULL;
        char *reply = NULL;

        g_assert_true(sanlock_test_host_call(host, describe_read_only, (gpointer)disk, &reply,
                                             &error));
        g_assert_no_error(error);
        g_test_message("describe %s as %s: %s", disk, host->name, reply);
        return reply;
}

static gboolean
try_start(const SanlockTestHost *host, const char *disk, SanlockTestGuest **ret_guest,
          GError **error)
{
        g_autoptr(VmlockDomain) dom = sanlock_test_domain_new("ops");
        SanlockTestStart start = { 0 };
        SanlockTestGuest *guest;

        sanlock_test_domain_add_disk(dom, disk, FALSE, FALSE);
        start.dom = dom;
        guest = sanlock_test_guest_start(host, sanlock_test_process_start, &start, error);
        if (!guest)
                return FALSE;
        *ret_guest = guest;
        return TRUE;
}

/* The N of "can be taken in about N s" in @message, or -1. */
static gint64
countdown(const char *message)
{
        const char *p = strstr(message, "can be taken in about ");

        if (!p)
                return -1;
        return g_ascii_strtoll(p + strlen("can be taken in about "), NULL, 10);
}

static void
test_failing_host(void)
{
        Private p = { 0 };
        const SanlockTestHost *a, *b;
        g_autofree char *disk = sanlock_test_disk_path("ops-dying");
        g_autofree char *ls_file = NULL;
        g_autoptr(SanlockTestGuest) held = NULL;
        g_autoptr(SanlockTestGuest) taken = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(RunResult) r = { 0 };
        g_auto(RunResult) rb = { 0 };
        g_autofree char *busy = NULL;
        gint64 first_countdown = -1, last_countdown = -1, first_age = -1;
        gint64 deadline;
        gboolean dead = FALSE;

        private_setup(&p);
        a = &p.hosts[0].host;
        b = &p.hosts[1].host;
        ls_file = g_build_filename(p.lease_dir, "__LIBVIRT__DISKS__", NULL);

        /* Not joined: the queries say so, and create nothing. */
        vmlock_as(a, p.state_dir, &r, "lockspace", "status", "--json", NULL);
        g_assert_cmpint(r.status, ==, 0);
        {
                g_autoptr(JsonNode) root = parse_json(r.out);
                JsonObject *o = json_node_get_object(root);

                g_assert_false(json_object_get_boolean_member(o, "joined"));
                g_assert_cmpint(json_object_get_int_member(o, "host_id"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(o, "io_timeout"), ==, IO_TIMEOUT);
                g_assert_true(json_object_get_null_member(o, "renewal_age"));
        }
        vmlock_as(a, p.state_dir, &r, "hosts", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "this host has not joined lockspace __LIBVIRT__DISKS__"));
        vmlock_as(a, p.state_dir, &r, "metrics", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(contains(r.out, "vmlock_lockspace_joined{lockspace=\"__LIBVIRT__DISKS__\","
                                      "host_id=\"1\"} 0\n"));
        g_assert_true(dir_is_empty(p.lease_dir));
        {
                g_autofree char *d = describe_as(a, disk);

                g_assert_true(g_str_has_prefix(d, "no lease file yet"));
        }
        g_assert_true(dir_is_empty(p.lease_dir));

        /* Both join, with progress; io_timeout 1 s makes it quick. */
        {
                const char *argv[] = { VMLOCK_BIN, "lockspace", "join", NULL };
                g_auto(GStrv) env = sanlock_test_host_environ(b);
                GPid pid;
                int fd_err = -1;
                int wait_status;

                env = g_environ_setenv(env, "VMLOCK_STATE_DIR", p.state_dir, TRUE);
                g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, env,
                                                       G_SPAWN_DO_NOT_REAP_CHILD |
                                                       G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                                       &pid, NULL, NULL, &fd_err, &error));
                g_assert_no_error(error);
                vmlock_as(a, p.state_dir, &r, "lockspace", "join", NULL);
                g_assert_cmpint(r.status, ==, 0);
                g_assert_true(contains(r.err, "joining lockspace __LIBVIRT__DISKS__ as host_id 1"));
                g_assert_true(contains(r.err, "joined lockspace __LIBVIRT__DISKS__ as host_id 1"));
                g_assert_cmpint(waitpid(pid, &wait_status, 0), ==, pid);
                close(fd_err);
                g_assert_true(WIFEXITED(wait_status));
                g_assert_cmpint(WEXITSTATUS(wait_status), ==, 0);
        }
        g_assert_true(g_file_test(ls_file, G_FILE_TEST_IS_REGULAR));

        /* Each sees the other live, once watched long enough. */
        deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(JsonNode) root = hosts_json(&p, a);

                if (g_strcmp0(host_state(root, 2), "live") == 0 &&
                    g_strcmp0(host_state(root, 1), "live") == 0) {
                        JsonObject *hb = json_host(root, 2);

                        g_assert_cmpstr(json_object_get_string_member(hb, "name"), ==, b->name);
                        g_assert_cmpint(json_object_get_int_member(hb, "io_timeout"), ==,
                                        IO_TIMEOUT);
                        break;
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(POLL_US);
        }

        vmlock_as(a, p.state_dir, &r, "lockspace", "status", NULL);
        g_assert_true(contains(r.out, "joined       yes"));

        /* B's guest holds the disk; A is refused, naming B, no countdown. */
        g_assert_true(try_start(b, disk, &held, &error));
        g_assert_no_error(error);
        g_assert_false(try_start(a, disk, &taken, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        busy = g_strdup_printf("is in use by host 2 (%s)", b->name);
        g_test_message("live holder: %s", error->message);
        g_assert_true(contains(error->message, busy));
        g_assert_false(contains(error->message, "stopped renewing"));
        g_clear_error(&error);
        {
                g_autofree char *d = describe_as(a, disk);
                g_autofree char *want = g_strdup_printf("held exclusively by %s", busy + 13);

                g_assert_cmpstr(d, ==, want);
        }

        /* B's daemon dies without a word: its delta lease stops renewing. */
        private_host_kill(&p.hosts[1]);

        /* A sees it fail (8 s), then counts down to dead (68 s). */
        deadline = g_get_monotonic_time() + (DEAD_SECONDS + 90) * G_USEC_PER_SEC;
        while (!dead) {
                g_autoptr(JsonNode) root = hosts_json(&p, a);
                const char *state = host_state(root, 2);
                JsonObject *hb = json_host(root, 2);

                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                if (g_strcmp0(state, "dead") == 0) {
                        g_assert_cmpint(json_object_get_int_member(hb, "dead_in"), ==, 0);
                        dead = TRUE;
                        break;
                }
                if (g_strcmp0(state, "fail") != 0) {
                        g_assert_cmpstr(state, ==, "live");
                        g_usleep(POLL_US);
                        continue;
                }
                g_assert_false(json_object_get_null_member(hb, "renewal_age"));
                g_assert_false(json_object_get_null_member(hb, "dead_in"));
                g_assert_cmpint(json_object_get_int_member(hb, "renewal_age") +
                                json_object_get_int_member(hb, "dead_in"), ==, DEAD_SECONDS);

                /* While it fails, A is refused with a countdown. */
                if (try_start(a, disk, &taken, &error)) {
                        /* only fine if sanlock saw it dead meanwhile */
                        g_autoptr(JsonNode) now = hosts_json(&p, a);

                        g_assert_cmpstr(host_state(now, 2), ==, "dead");
                        dead = TRUE;
                        break;
                }
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
                g_assert_true(contains(error->message, busy));
                if (first_countdown < 0 && contains(error->message, "can be taken in about")) {
                        g_autofree char *d = describe_as(a, disk);

                        g_assert_true(contains(d, ", which stopped renewing "));
                }
                if (contains(error->message, "can be taken in about")) {
                        gint64 n = countdown(error->message);

                        g_assert_true(contains(error->message, ", which stopped renewing "));
                        g_assert_cmpint(n, >=, 0);
                        g_assert_cmpint(n, <=, DEAD_SECONDS);
                        if (first_countdown < 0) {
                                g_test_message("failing holder: %s", error->message);
                                first_countdown = n;
                                first_age = json_object_get_int_member(hb, "renewal_age");
                        } else {
                                g_assert_cmpint(n, <=, last_countdown);
                        }
                        last_countdown = n;
                }
                g_clear_error(&error);
                /* one refusal a few seconds, not a busy loop */
                g_usleep(10 * POLL_US);
        }
        g_assert_true(dead);
        g_assert_cmpint(first_countdown, >, 0);
        g_assert_cmpint(last_countdown, <, first_countdown);
        g_test_message("counted down from %" G_GINT64_FORMAT " s (at %" G_GINT64_FORMAT
                       " s without renewal) to %" G_GINT64_FORMAT " s", first_countdown,
                       first_age, last_countdown);

        /* Dead: sanlock lets A take the lease (bounded retry: its own view
         * and the acquire's check are a moment apart). */
        if (!taken) {
                deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
                while (!try_start(a, disk, &taken, &error)) {
                        g_test_message("after dead: %s", error->message);
                        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
                        g_clear_error(&error);
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(5 * POLL_US);
                }
        }
        g_assert_nonnull(taken);

        /* Leaving while a guest of A holds a lease is refused by the daemon... */
        vmlock_as(a, p.state_dir, &r, "lockspace", "leave", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "hold leases"));
        /* ...and allowed once it is gone. */
        sanlock_test_guest_stop(taken);
        g_clear_pointer(&taken, sanlock_test_guest_free);

        /* The cleanup tool's summary as JSON: the disk's lease file is unused now. */
        {
                const char *argv[] = { tool_test_build_path("tools/sanlock-cleanup/vmlock-sanlock-cleanup"),
                                       "--json", NULL };
                g_auto(GStrv) env = sanlock_test_host_environ(a);
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                int wait_status;

                g_assert_true(g_spawn_sync(NULL, (char **)argv, env, 0, NULL, NULL, &out, &err,
                                           &wait_status, &error));
                g_assert_no_error(error);
                g_test_message("cleanup --json: %s%s", out, err);
                g_assert_true(g_spawn_check_wait_status(wait_status, NULL));
                root = parse_json(out);
                o = json_node_get_object(root);
                g_assert_cmpstr(json_object_get_string_member(o, "lease_dir"), ==, p.lease_dir);
                g_assert_false(json_object_get_boolean_member(o, "dry_run"));
                g_assert_cmpint(json_object_get_int_member(o, "deleted"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(o, "failed"), ==, 0);
                g_assert_cmpint(json_object_get_int_member(o, "kept"), ==, 0);
                g_assert_true(json_object_get_boolean_member(o, "complete"));
                g_assert_true(json_object_has_member(o, "seconds"));
        }
        /* A damaged lease file, old: with host B dead, none can hold its
         * lease, so --remove-damaged removes it; without, it is reported. */
        {
                g_autofree char *name = g_compute_checksum_for_string(G_CHECKSUM_MD5,
                                                                      "/ops/damaged", -1);
                g_autofree char *path = g_build_filename(p.lease_dir, name, NULL);
                g_autofree char *line = g_strdup_printf("deleted %s: damaged: it is empty "
                                                        "(0 bytes)", name);
                const char *tool = tool_test_build_path(
                        "tools/sanlock-cleanup/vmlock-sanlock-cleanup");
                const char *report[] = { tool, NULL };
                const char *remove[] = { tool, "--remove-damaged", NULL };
                g_auto(GStrv) env = sanlock_test_host_environ(a);
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;
                struct timespec old[2] = { { .tv_sec = time(NULL) - 7200 },
                                           { .tv_sec = time(NULL) - 7200 } };
                int wait_status;

                g_assert_true(g_file_set_contents(path, "", 0, NULL));
                g_assert_cmpint(utimensat(AT_FDCWD, path, old, 0), ==, 0);
                g_assert_true(g_spawn_sync(NULL, (char **)report, env, 0, NULL, NULL, &out,
                                           &err, &wait_status, &error));
                g_assert_no_error(error);
                g_test_message("cleanup: %s%s", out, err);
                g_assert_true(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 1);
                g_assert_true(contains(err, "damaged: it is empty (0 bytes)"));
                g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
                g_clear_pointer(&out, g_free);
                g_clear_pointer(&err, g_free);
                g_assert_true(g_spawn_sync(NULL, (char **)remove, env, 0, NULL, NULL, &out,
                                           &err, &wait_status, &error));
                g_assert_no_error(error);
                g_test_message("cleanup --remove-damaged: %s%s", out, err);
                g_assert_true(g_spawn_check_wait_status(wait_status, NULL));
                g_assert_true(contains(out, line));
                g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        }

        vmlock_as(a, p.state_dir, &rb, "lockspace", "leave", NULL);
        g_assert_cmpint(rb.status, ==, 0);
        vmlock_as(a, p.state_dir, &r, "lockspace", "status", "--json", NULL);
        {
                g_autoptr(JsonNode) root = parse_json(r.out);

                g_assert_false(json_object_get_boolean_member(json_node_get_object(root),
                                                              "joined"));
        }

        g_clear_pointer(&held, sanlock_test_guest_free);
        private_teardown(&p);
}

/* Drivers without a lockspace say so; metrics still reports the guests. */
static void
test_nop_unsupported(void)
{
        const SanlockTestHost *h1 = sanlock_test_host(1);
        g_autofree char *state_dir = state_dir_new("state");
        g_autofree char *config = state_dir_new("nop-etc");
        SanlockTestHost nop_host = *h1;
        g_auto(RunResult) r = { 0 };

        nop_host.config_dir = config;
        vmlock_as(&nop_host, state_dir, &r, "hosts", "--json", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "lock driver nop has no lockspace"));
        vmlock_as(&nop_host, state_dir, &r, "lockspace", "join", NULL);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(contains(r.err, "lock driver nop has no lockspace"));
        vmlock_as(&nop_host, state_dir, &r, "metrics", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_false(contains(r.out, "vmlock_lockspace_joined"));
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }
        g_test_add_func("/vmlock/ops/lockspace-status", test_lockspace_status);
        g_test_add_func("/vmlock/ops/hosts-live", test_hosts_live);
        g_test_add_func("/vmlock/ops/metrics", test_metrics);
        g_test_add_func("/vmlock/ops/nop-unsupported", test_nop_unsupported);
        g_test_add_func("/vmlock/ops/failing-host", test_failing_host);
        return g_test_run();
}
