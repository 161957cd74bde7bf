/* vmlock tests: helpers for integration tests against the real sanlock daemons of harness.sh. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sanlock.h>
#include <sanlock_admin.h>

#include "sanlock-test-util.h"

#define LEASE_FILE_SIZE (1024 * 1024)
/* How long a stopped guest's host daemon may take to let go of its pid. */
#define RELEASE_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define GUEST_EXIT_TIMEOUT_US (10 * G_USEC_PER_SEC)

struct _SanlockTestGuest {
        const SanlockTestHost *host;
        pid_t pid;
        int fd;                 /* the inherited fd's number in the guest */
        FILE *in;               /* the guest's stdin */
        FILE *out;              /* the guest's stdout */
        int status_fd;          /* until finish: the start's answer */
        gboolean reaped;
        int wait_status;
};

static SanlockTestHarness *harness;

/* ---- the env file -------------------------------------------------------- */

static GHashTable *
read_env_file(const char *path, GError **error)
{
        g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents(path, &text, NULL, error))
                return NULL;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                const char *line = lines[i];
                const char *eq;
                char *value;

                while (g_ascii_isspace(*line))
                        line++;
                if (*line == '\0' || *line == '#')
                        continue;
                eq = strchr(line, '=');
                if (!eq) {
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                                    "%s:%u: expected NAME=VALUE", path, i + 1);
                        return NULL;
                }
                value = g_shell_unquote(eq + 1, error);
                if (!value) {
                        g_prefix_error(error, "%s:%u: ", path, i + 1);
                        return NULL;
                }
                g_hash_table_replace(vars, g_strndup(line, eq - line), value);
        }
        return g_steal_pointer(&vars);
}

static char *
take_var(GHashTable *vars, const char *env_file, const char *name)
{
        const char *value = g_hash_table_lookup(vars, name);

        if (!value || !*value)
                g_error("%s: %s is missing; was it written by tests/sanlock/harness.sh?",
                        env_file, name);
        return g_strdup(value);
}

SanlockTestHarness *
sanlock_test_harness_load(const char *env_file)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GHashTable) vars = read_env_file(env_file, &error);
        SanlockTestHarness *h;

        if (!vars)
                g_error("cannot read the sanlock harness env file: %s", error->message);

        h = g_new0(SanlockTestHarness, 1);
        h->env_file = g_strdup(env_file);
        h->work_dir = take_var(vars, env_file, "VMLOCK_HARNESS_WORKDIR");
        h->sanlock_bin = take_var(vars, env_file, "VMLOCK_HARNESS_SANLOCK");
        h->lease_dir = take_var(vars, env_file, "VMLOCK_HARNESS_LEASE_DIR");
        h->disk_lockspace = take_var(vars, env_file, "VMLOCK_HARNESS_DISK_LOCKSPACE");
        h->disk_lockspace_path = take_var(vars, env_file, "VMLOCK_HARNESS_DISK_LOCKSPACE_PATH");
        h->test_lockspace = take_var(vars, env_file, "VMLOCK_HARNESS_TEST_LOCKSPACE");
        h->test_lockspace_path = take_var(vars, env_file, "VMLOCK_HARNESS_TEST_LOCKSPACE_PATH");
        h->explicit_dir = take_var(vars, env_file, "VMLOCK_HARNESS_EXPLICIT_DIR");
        h->short_scratch_dir = take_var(vars, env_file, "VMLOCK_HARNESS_SHORT_SCRATCH_DIR");
        h->log_dir = take_var(vars, env_file, "VMLOCK_HARNESS_LOG_DIR");

        for (guint i = 0; i < SANLOCK_TEST_N_HOSTS; i++) {
                SanlockTestHost *host = &h->hosts[i];
                g_autofree char *id = NULL;
                g_autofree char *pid = NULL;
                g_autofree char *prefix = g_strdup_printf("VMLOCK_HARNESS_HOST%u_", i + 1);
                g_autofree char *id_var = g_strconcat(prefix, "ID", NULL);
                g_autofree char *name_var = g_strconcat(prefix, "NAME", NULL);
                g_autofree char *run_var = g_strconcat(prefix, "RUN_DIR", NULL);
                g_autofree char *conf_var = g_strconcat(prefix, "CONFIG_DIR", NULL);
                g_autofree char *pid_var = g_strconcat(prefix, "PID", NULL);

                id = take_var(vars, env_file, id_var);
                host->id = (guint) g_ascii_strtoull(id, NULL, 10);
                host->name = take_var(vars, env_file, name_var);
                host->run_dir = take_var(vars, env_file, run_var);
                host->config_dir = take_var(vars, env_file, conf_var);
                pid = take_var(vars, env_file, pid_var);
                host->daemon_pid = (pid_t) g_ascii_strtoll(pid, NULL, 10);
                if (host->id != i + 1)
                        g_error("%s: %s is %s, expected %u", env_file, id_var, id, i + 1);
        }
        return h;
}

const SanlockTestHarness *
sanlock_test_init(int *argc, char ***argv)
{
        const char *env_file;

        g_test_init(argc, argv, NULL);
        env_file = g_getenv(SANLOCK_TEST_ENV_VAR);
        if (!env_file || !*env_file)
                return NULL;
        harness = sanlock_test_harness_load(env_file);
        return harness;
}

const SanlockTestHarness *
sanlock_test_harness(void)
{
        g_assert_nonnull(harness);
        return harness;
}

const SanlockTestHost *
sanlock_test_host(guint id)
{
        g_assert_nonnull(harness);
        g_assert_cmpuint(id, >=, 1);
        g_assert_cmpuint(id, <=, SANLOCK_TEST_N_HOSTS);
        return &harness->hosts[id - 1];
}

static void
test_skip_no_harness(void)
{
        g_test_skip("needs the sanlock daemons of tests/sanlock/harness.sh "
                    "(meson test --suite sanlock)");
}

void
sanlock_test_add_skip(void)
{
        g_test_add_func("/sanlock/no-harness", test_skip_no_harness);
}

/* <parent>/<program>-<pid>, created on first call. */
static char *
program_dir_new(const char *parent)
{
        g_autofree char *prg = g_path_get_basename(g_get_prgname());
        g_autofree char *base = g_strdup_printf("%s-%d", prg, (int) getpid());
        char *dir = g_build_filename(parent, base, NULL);

        if (g_mkdir_with_parents(dir, 0700) < 0)
                g_error("cannot create %s: %s", dir, g_strerror(errno));
        return dir;
}

const char *
sanlock_test_scratch_dir(void)
{
        static char *dir;

        if (!dir) {
                g_autofree char *parent = g_build_filename(sanlock_test_harness()->work_dir,
                                                           "scratch", NULL);

                dir = program_dir_new(parent);
        }
        return dir;
}

const char *
sanlock_test_short_dir(void)
{
        static char *dir;

        if (!dir)
                dir = program_dir_new(sanlock_test_harness()->short_scratch_dir);
        return dir;
}

char *
sanlock_test_unique_name(const char *prefix)
{
        static guint counter;
        char *name = g_strdup_printf("%s-%d-%u", prefix, (int) getpid(), counter++);

        g_assert_cmpuint(strlen(name), <, SANLK_NAME_LEN);
        return name;
}

/* ---- acting as a host ---------------------------------------------------- */

void
sanlock_test_host_enter(const SanlockTestHost *host)
{
        /* Not g_setenv(): once the parent has had a thread, it logs a
         * warning, which in a guest child would land on the guest's stdout. */
        if (setenv("SANLOCK_RUN_DIR", host->run_dir, 1) < 0 ||
            setenv("VMLOCK_CONFIG_DIR", host->config_dir, 1) < 0)
                g_error("setenv: %s", g_strerror(errno));
}

GStrv
sanlock_test_host_environ(const SanlockTestHost *host)
{
        GStrv env = g_get_environ();

        env = g_environ_setenv(env, "SANLOCK_RUN_DIR", host->run_dir, TRUE);
        env = g_environ_setenv(env, "VMLOCK_CONFIG_DIR", host->config_dir, TRUE);
        return env;
}

/* The answer of a child: (ok, error domain, error code, error message, reply). */
#define ANSWER_TYPE "(bsiss)"

static void
write_all(int fd, const void *buf, gsize len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                p += n;
                len -= n;
        }
}

/* In a child: sends the outcome to the parent over @fd. */
static void
send_answer(int fd, gboolean ok, const GError *error, const char *reply)
{
        g_autoptr(GVariant) answer = NULL;

        answer = g_variant_ref_sink(g_variant_new(ANSWER_TYPE, ok,
                                                  error ? g_quark_to_string(error->domain) : "",
                                                  error ? error->code : 0,
                                                  error ? error->message : "",
                                                  reply ? reply : ""));
        write_all(fd, g_variant_get_data(answer), g_variant_get_size(answer));
}

static GBytes *
read_all(int fd)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();
        guint8 chunk[4096];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                g_byte_array_append(buf, chunk, n);
        }
        return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

/* Turns a child's answer back into a result; FALSE when the answer says so. */
static gboolean
parse_answer(GBytes *bytes, char **ret_reply, GError **error)
{
        g_autoptr(GVariant) answer = NULL;
        gboolean ok;
        const char *domain;
        int code;
        const char *message;
        const char *reply;

        answer = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(ANSWER_TYPE),
                                                             bytes, FALSE));
        g_assert_true(g_variant_is_normal_form(answer));
        g_variant_get(answer, "(b&si&s&s)", &ok, &domain, &code, &message, &reply);
        if (!ok) {
                g_assert_cmpstr(domain, !=, "");
                g_set_error_literal(error, g_quark_from_string(domain), code, message);
                return FALSE;
        }
        if (ret_reply)
                *ret_reply = g_strdup(reply);
        return TRUE;
}

static void
set_child_died_error(GError **error, const SanlockTestHost *host, int status)
{
        g_autoptr(GError) how = NULL;

        if (g_spawn_check_wait_status(status, &how))
                g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                            "the child acting as host %u exited without answering", host->id);
        else
                g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                            "the child acting as host %u died without answering: %s",
                            host->id, how->message);
}

/* ---- gates ---------------------------------------------------------------- */

struct _SanlockTestGate {
        int fds[2];             /* children read [0] until the parent closes [1] */
};

/* Open gates: every child closes their write ends, or a gate would stay
 * shut while any child lives. */
static GPtrArray *live_gates;

SanlockTestGate *
sanlock_test_gate_new(void)
{
        SanlockTestGate *gate = g_new0(SanlockTestGate, 1);

        g_assert_true(g_unix_open_pipe(gate->fds, FD_CLOEXEC, NULL));
        if (!live_gates)
                live_gates = g_ptr_array_new();
        g_ptr_array_add(live_gates, gate);
        return gate;
}

void
sanlock_test_gate_open(SanlockTestGate *gate)
{
        if (gate->fds[1] >= 0) {
                close(gate->fds[1]);
                gate->fds[1] = -1;
        }
}

void
sanlock_test_gate_free(SanlockTestGate *gate)
{
        if (!gate)
                return;
        sanlock_test_gate_open(gate);
        close(gate->fds[0]);
        g_ptr_array_remove(live_gates, gate);
        g_free(gate);
}

/* In a child: waits until @gate (may be NULL) opens. */
static void
gate_wait(SanlockTestGate *gate)
{
        char c;

        if (!gate)
                return;
        while (read(gate->fds[0], &c, 1) < 0 && errno == EINTR)
                ;
}

static pid_t
fork_child(void)
{
        pid_t pid;

        /* Nothing buffered may be written twice. */
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0 && live_gates) {
                for (guint i = 0; i < live_gates->len; i++) {
                        SanlockTestGate *gate = g_ptr_array_index(live_gates, i);

                        if (gate->fds[1] >= 0) {
                                close(gate->fds[1]);
                                gate->fds[1] = -1;
                        }
                }
        }
        return pid;
}

static int
waitpid_retry(pid_t pid, int options)
{
        int status = 0;
        pid_t rv;

        do {
                rv = waitpid(pid, &status, options);
        } while (rv < 0 && errno == EINTR);
        g_assert_cmpint(rv, >=, 0);
        return rv == 0 ? -1 : status;
}

struct _SanlockTestCall {
        const SanlockTestHost *host;
        pid_t pid;
        int fd;                 /* the answer pipe */
};

SanlockTestCall *
sanlock_test_host_call_begin(const SanlockTestHost *host, SanlockTestHostFunc func,
                             gpointer data, SanlockTestGate *gate)
{
        SanlockTestCall *call;
        int fds[2];
        pid_t pid;

        g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
        pid = fork_child();
        if (pid == 0) {
                g_autoptr(GString) reply = g_string_new(NULL);
                g_autoptr(GError) child_error = NULL;
                gboolean ok;

                close(fds[0]);
                gate_wait(gate);
                sanlock_test_host_enter(host);
                ok = func(data, reply, &child_error);
                g_assert_true(ok == (child_error == NULL));
                send_answer(fds[1], ok, child_error, reply->str);
                _exit(ok ? 0 : 1);
        }

        close(fds[1]);
        call = g_new0(SanlockTestCall, 1);
        call->host = host;
        call->pid = pid;
        call->fd = fds[0];
        return call;
}

gboolean
sanlock_test_host_call_finish(SanlockTestCall *call, char **ret_reply, GError **error)
{
        g_autoptr(GBytes) bytes = read_all(call->fd);
        const SanlockTestHost *host = call->host;
        int status;

        close(call->fd);
        status = waitpid_retry(call->pid, 0);
        g_free(call);
        if (g_bytes_get_size(bytes) == 0) {
                set_child_died_error(error, host, status);
                return FALSE;
        }
        return parse_answer(bytes, ret_reply, error);
}

gboolean
sanlock_test_host_call(const SanlockTestHost *host, SanlockTestHostFunc func, gpointer data,
                       char **ret_reply, GError **error)
{
        SanlockTestCall *call = sanlock_test_host_call_begin(host, func, data, NULL);

        return sanlock_test_host_call_finish(call, ret_reply, error);
}

gboolean
sanlock_test_host_spawn(const SanlockTestHost *host, const char *const *argv,
                        char **ret_stdout, char **ret_stderr, int *ret_wait_status,
                        GError **error)
{
        g_auto(GStrv) env = sanlock_test_host_environ(host);

        return g_spawn_sync(NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL,
                            ret_stdout, ret_stderr, ret_wait_status, error);
}

char *
sanlock_test_host_client(const SanlockTestHost *host, GError **error, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *arg;
        va_list ap;
        int status;

        g_ptr_array_add(argv, sanlock_test_harness()->sanlock_bin);
        g_ptr_array_add(argv, (char *) "client");
        va_start(ap, error);
        while ((arg = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) arg);
        va_end(ap);
        g_ptr_array_add(argv, NULL);

        if (!sanlock_test_host_spawn(host, (const char *const *) argv->pdata, &out, &err,
                                     &status, error))
                return NULL;
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, "sanlock client %s as host %u: %s%s",
                               (char *) argv->pdata[2], host->id, err, out);
                return NULL;
        }
        return g_steal_pointer(&out);
}

/* ---- guests -------------------------------------------------------------- */

/* $VMLOCK_SANLOCK_TEST_GUEST, else the one built beside this test program. */
static const char *
guest_program(void)
{
        static char *path;

        if (!path) {
                const char *env = g_getenv(SANLOCK_TEST_GUEST_VAR);
                g_autofree char *self = NULL;
                g_autofree char *dir = NULL;

                if (env && *env) {
                        path = g_strdup(env);
                } else {
                        self = g_file_read_link("/proc/self/exe", NULL);
                        g_assert_nonnull(self);
                        dir = g_path_get_dirname(self);
                        path = g_build_filename(dir, "sanlock-test-guest", NULL);
                }
                if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
                        g_error("no guest program %s (set %s)", path, SANLOCK_TEST_GUEST_VAR);
        }
        return path;
}

/* In the child: moves @fd off stdin/stdout/stderr and makes it inheritable. */
static int
make_inheritable(int fd)
{
        int flags;

        if (fd >= 0 && fd <= 2) {
                int moved = fcntl(fd, F_DUPFD, 3);

                if (moved < 0)
                        return -1;
                fd = moved;
        }
        flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
                return -1;
        return fd;
}

G_NORETURN static void
guest_child(const SanlockTestHost *host, SanlockTestStartFunc start, gpointer data,
            SanlockTestGate *gate, const char *program, int status_fd, int stdin_fd,
            int stdout_fd)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *fd_arg = NULL;
        int fd = -1;

        if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0)
                _exit(127);
        gate_wait(gate);
        sanlock_test_host_enter(host);
        if (!start(data, &fd, &error)) {
                send_answer(status_fd, FALSE, error, NULL);
                _exit(1);
        }
        if (fd >= 0 && (fd = make_inheritable(fd)) < 0) {
                g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot pass the fd on to the guest: %s", g_strerror(errno));
                send_answer(status_fd, FALSE, error, NULL);
                _exit(1);
        }
        fd_arg = g_strdup_printf("%d", fd);
        execl(program, program, "--fd", fd_arg, (char *) NULL);
        g_set_error(&error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "cannot run %s: %s",
                    program, g_strerror(errno));
        send_answer(status_fd, FALSE, error, NULL);
        _exit(127);
}

SanlockTestGuest *
sanlock_test_guest_begin(const SanlockTestHost *host, SanlockTestStartFunc start,
                         gpointer data, SanlockTestGate *gate)
{
        SanlockTestGuest *guest;
        const char *program = guest_program();
        int status_pipe[2];
        int in_pipe[2];
        int out_pipe[2];

        g_assert_true(g_unix_open_pipe(status_pipe, FD_CLOEXEC, NULL));
        g_assert_true(g_unix_open_pipe(in_pipe, FD_CLOEXEC, NULL));
        g_assert_true(g_unix_open_pipe(out_pipe, FD_CLOEXEC, NULL));

        guest = g_new0(SanlockTestGuest, 1);
        guest->host = host;
        guest->fd = -1;
        guest->pid = fork_child();
        if (guest->pid == 0) {
                close(status_pipe[0]);
                close(in_pipe[1]);
                close(out_pipe[0]);
                guest_child(host, start, data, gate, program, status_pipe[1], in_pipe[0],
                            out_pipe[1]);
        }
        close(status_pipe[1]);
        close(in_pipe[0]);
        close(out_pipe[1]);
        guest->status_fd = status_pipe[0];
        guest->in = fdopen(in_pipe[1], "w");
        guest->out = fdopen(out_pipe[0], "r");
        g_assert_nonnull(guest->in);
        g_assert_nonnull(guest->out);
        return guest;
}

gboolean
sanlock_test_guest_finish(SanlockTestGuest *guest, GError **error)
{
        g_autoptr(GBytes) bytes = NULL;
        char line[256] = "";

        g_assert_cmpint(guest->status_fd, >=, 0);
        /* EOF without a word: exec succeeded (the pipe is close-on-exec). */
        bytes = read_all(guest->status_fd);
        close(guest->status_fd);
        guest->status_fd = -1;
        if (g_bytes_get_size(bytes) > 0) {
                guest->wait_status = waitpid_retry(guest->pid, 0);
                guest->reaped = TRUE;
                if (parse_answer(bytes, NULL, error))
                        g_error("guest %d: start reported success, then failed",
                                (int) guest->pid);
                return FALSE;
        }

        /* Whatever came before "ready" is noise, shown in the log. */
        while (fgets(line, sizeof(line), guest->out) && !g_str_has_prefix(line, "ready "))
                g_test_message("guest %d said: %s", (int) guest->pid, g_strchomp(line));
        if (!g_str_has_prefix(line, "ready ")) {
                kill(guest->pid, SIGKILL);
                guest->wait_status = waitpid_retry(guest->pid, 0);
                guest->reaped = TRUE;
                set_child_died_error(error, guest->host, guest->wait_status);
                return FALSE;
        }
        guest->fd = (int) g_ascii_strtoll(line + strlen("ready "), NULL, 10);
        return TRUE;
}

SanlockTestGuest *
sanlock_test_guest_start(const SanlockTestHost *host, SanlockTestStartFunc start,
                         gpointer data, GError **error)
{
        g_autoptr(SanlockTestGuest) guest = sanlock_test_guest_begin(host, start, data, NULL);

        if (!sanlock_test_guest_finish(guest, error))
                return NULL;
        return g_steal_pointer(&guest);
}

pid_t
sanlock_test_guest_get_pid(const SanlockTestGuest *guest)
{
        return guest->pid;
}

const SanlockTestHost *
sanlock_test_guest_get_host(const SanlockTestGuest *guest)
{
        return guest->host;
}

int
sanlock_test_guest_get_fd(const SanlockTestGuest *guest)
{
        return guest->fd;
}

char *
sanlock_test_guest_command(SanlockTestGuest *guest, const char *command)
{
        char line[8192];
        gsize len;

        g_assert_false(guest->reaped);
        g_assert_nonnull(guest->in);
        g_assert_cmpint(fprintf(guest->in, "%s\n", command), >, 0);
        g_assert_cmpint(fflush(guest->in), ==, 0);
        if (!fgets(line, sizeof(line), guest->out))
                g_error("guest %d did not answer '%s'", (int) guest->pid, command);
        len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
                line[len - 1] = '\0';
        return g_strdup(line);
}

typedef struct {
        pid_t pid;
} ForgetData;

/* As the guest's host: waits until the daemon no longer knows the pid. The
 * daemon notices a client's exit by its socket closing; once it has forgotten
 * the pid, the leases are free on disk (another host gets them at once: 80 of
 * 80 tries; it forgets within ~0.1 ms of the exit). */
static gboolean
wait_forgotten(gpointer data, GString *reply, GError **error)
{
        ForgetData *forget = data;
        gint64 deadline = g_get_monotonic_time() + RELEASE_TIMEOUT_US;
        int rv;

        for (;;) {
                int count = 0;

                rv = sanlock_inquire(-1, forget->pid, 0, &count, NULL);
                /* a daemon that is gone (a test killed it) knows no pid */
                if (rv == -ESRCH || rv == -ECONNREFUSED)
                        return TRUE;
                if (g_get_monotonic_time() > deadline)
                        break;
                g_usleep(10 * 1000);
        }
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "the daemon still knows pid %d after %d s (inquire: %d)",
                    (int) forget->pid, (int) (RELEASE_TIMEOUT_US / G_USEC_PER_SEC), rv);
        return FALSE;
}

static int
guest_end(SanlockTestGuest *guest, int sig)
{
        g_autoptr(GError) error = NULL;
        ForgetData forget = { guest->pid };
        gint64 deadline;

        if (guest->reaped)
                return guest->wait_status;
        if (guest->status_fd >= 0) {
                /* never finished: whatever it did, end it */
                close(guest->status_fd);
                guest->status_fd = -1;
                sig = SIGKILL;
        }
        if (sig)
                kill(guest->pid, sig);
        if (guest->in) {
                fclose(guest->in);
                guest->in = NULL;
        }
        deadline = g_get_monotonic_time() + GUEST_EXIT_TIMEOUT_US;
        for (;;) {
                int status = waitpid_retry(guest->pid, WNOHANG);

                if (status >= 0) {
                        guest->wait_status = status;
                        break;
                }
                if (g_get_monotonic_time() > deadline) {
                        kill(guest->pid, SIGKILL);
                        guest->wait_status = waitpid_retry(guest->pid, 0);
                        break;
                }
                g_usleep(10 * 1000);
        }
        guest->reaped = TRUE;
        if (guest->out) {
                fclose(guest->out);
                guest->out = NULL;
        }
        if (!sanlock_test_host_call(guest->host, wait_forgotten, &forget, NULL, &error))
                g_error("guest %d on host %u: %s", (int) guest->pid, guest->host->id,
                        error->message);
        return guest->wait_status;
}

int
sanlock_test_guest_stop(SanlockTestGuest *guest)
{
        return guest_end(guest, 0);
}

int
sanlock_test_guest_kill(SanlockTestGuest *guest)
{
        return guest_end(guest, SIGKILL);
}

void
sanlock_test_guest_free(SanlockTestGuest *guest)
{
        if (!guest)
                return;
        guest_end(guest, guest->reaped ? 0 : SIGKILL);
        if (guest->in)
                fclose(guest->in);
        if (guest->out)
                fclose(guest->out);
        g_free(guest);
}

/* ---- raw libsanlock ------------------------------------------------------ */

G_DEFINE_QUARK(sanlock-test-rv-error-quark, sanlock_test_rv_error)

void
sanlock_test_set_rv_error(GError **error, int rv, const char *format, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error(error, SANLOCK_TEST_RV_ERROR, rv, "%s: %d (%s)", what, rv,
                    rv <= -200 ? sanlock_strerror(rv) : g_strerror(-rv));
}

gboolean
sanlock_test_host_call_once_released(const SanlockTestHost *host, SanlockTestHostFunc func,
                                     gpointer data, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(GError) local = NULL;

                if (sanlock_test_host_call(host, func, data, NULL, &local))
                        return TRUE;
                if ((!g_error_matches(local, SANLOCK_TEST_RV_ERROR, SANLOCK_TEST_IDLIVE) &&
                     !g_error_matches(local, SANLOCK_TEST_RV_ERROR, -EAGAIN)) ||
                    g_get_monotonic_time() > deadline) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                g_usleep(10 * 1000);
        }
}

struct sanlk_resource *
sanlock_test_resource_new(const char *lockspace, const char *name, const char *path,
                          guint64 offset)
{
        struct sanlk_resource *res;

        res = g_malloc0(sizeof(*res) + sizeof(struct sanlk_disk));
        g_assert_cmpuint(strlen(lockspace), <, SANLK_NAME_LEN);
        g_assert_cmpuint(strlen(name), <, SANLK_NAME_LEN);
        g_assert_cmpuint(strlen(path), <, SANLK_PATH_LEN);
        g_strlcpy(res->lockspace_name, lockspace, SANLK_NAME_LEN);
        g_strlcpy(res->name, name, SANLK_NAME_LEN);
        g_strlcpy(res->disks[0].path, path, SANLK_PATH_LEN);
        res->disks[0].offset = offset;
        res->num_disks = 1;
        return res;
}

static gboolean
write_resource(gpointer data, GString *reply, GError **error)
{
        struct sanlk_resource *res = data;
        int rv = sanlock_write_resource(res, 0, 0, 0);

        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_write_resource(%s:%s:%s)",
                                          res->lockspace_name, res->name, res->disks[0].path);
                return FALSE;
        }
        return TRUE;
}

void
sanlock_test_write_resource(const SanlockTestHost *host, const char *lockspace,
                            const char *name, const char *path)
{
        g_autoptr(GError) error = NULL;
        g_autofree struct sanlk_resource *res = NULL;
        int fd;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                g_error("cannot create %s: %s", path, g_strerror(errno));
        if (ftruncate(fd, LEASE_FILE_SIZE) < 0)
                g_error("cannot size %s: %s", path, g_strerror(errno));
        close(fd);

        res = sanlock_test_resource_new(lockspace, name, path, 0);
        sanlock_test_host_call(host, write_resource, res, NULL, &error);
        g_assert_no_error(error);
}

char *
sanlock_test_disk_lease_path(const char *disk_path)
{
        g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk_path, -1);

        return g_build_filename(sanlock_test_harness()->lease_dir, md5, NULL);
}

/* As some host: until the resource in @data has no owner on disk. */
static gboolean
wait_no_owner(gpointer data, GString *reply, GError **error)
{
        struct sanlk_resource *res = data;
        gint64 deadline = g_get_monotonic_time() + RELEASE_TIMEOUT_US;

        for (;;) {
                struct sanlk_host *owners = NULL;
                int n_owners = 0;
                int rv;

                res->lver = 0;
                res->flags = 0;
                rv = sanlock_read_resource_owners(res, 0, &owners, &n_owners);
                free(owners);
                if (rv >= 0 && n_owners == 0)
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                    "%s:%s still has %d owner(s) after %d s (%d)",
                                    res->lockspace_name, res->name, n_owners,
                                    (int) (RELEASE_TIMEOUT_US / G_USEC_PER_SEC), rv);
                        return FALSE;
                }
                g_usleep(10 * 1000);
        }
}

void
sanlock_test_wait_disk_free(const char *disk_path)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk_path, -1);
        g_autofree char *lease = sanlock_test_disk_lease_path(disk_path);
        g_autofree struct sanlk_resource *res =
                sanlock_test_resource_new(h->disk_lockspace, md5, lease, 0);
        g_autoptr(GError) error = NULL;

        if (!sanlock_test_host_call(sanlock_test_host(1), wait_no_owner, res, NULL, &error))
                g_error("the lease of disk %s: %s", disk_path, error->message);
}

/* ---- the vmlock API, as a host --------------------------------------------- */

VmlockDomain *
sanlock_test_domain_new(const char *name)
{
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_new(name, NULL, &error);

        g_assert_no_error(error);
        return dom;
}

void
sanlock_test_domain_add_disk(VmlockDomain *dom, const char *path, gboolean readonly,
                             gboolean shareable)
{
        g_autoptr(GError) error = NULL;
        VmlockDisk *disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, path,
                                           readonly, shareable, &error);

        g_assert_no_error(error);
        vmlock_domain_add_disk(dom, disk);
}

void
sanlock_test_domain_add_lease(VmlockDomain *dom, const char *lockspace, const char *key,
                              const char *path)
{
        g_autoptr(GError) error = NULL;
        VmlockLease *lease = vmlock_lease_new(lockspace, key, path, 0, &error);

        g_assert_no_error(error);
        vmlock_domain_add_lease(dom, lease);
}

char *
sanlock_test_disk_path(const char *prefix)
{
        g_autofree char *name = sanlock_test_unique_name(prefix);
        g_autofree char *file = g_strconcat(name, ".img", NULL);

        return g_build_filename(sanlock_test_scratch_dir(), file, NULL);
}

VmlockLockManager *
sanlock_test_manager_new(GError **error)
{
        return vmlock_lock_manager_new("sanlock", NULL, NULL, NULL, NULL, error);
}

char *
sanlock_test_config_dir_new(const char *text)
{
        g_autofree char *name = sanlock_test_unique_name("etc");
        char *dir = g_build_filename(sanlock_test_scratch_dir(), name, NULL);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        if (text) {
                g_autofree char *file = g_build_filename(dir, "qemu-sanlock.conf", NULL);
                g_autoptr(GError) error = NULL;

                g_file_set_contents(file, text, -1, &error);
                g_assert_no_error(error);
        }
        return dir;
}

gboolean
sanlock_test_init_driver(gpointer data, GString *reply, GError **error)
{
        const char *config_dir = data;
        g_autoptr(VmlockLockManager) manager = NULL;

        manager = vmlock_lock_manager_new("sanlock", NULL, config_dir, NULL, NULL, error);
        return manager != NULL;
}

gboolean
sanlock_test_process_start(gpointer data, int *ret_fd, GError **error)
{
        SanlockTestStart *start = data;
        g_autoptr(VmlockLockManager) manager = sanlock_test_manager_new(error);

        if (!manager)
                return FALSE;
        vmlock_domain_set_pid(start->dom, getpid());
        return vmlock_domain_lock_process_start(manager, NULL, start->dom, start->paused, ret_fd,
                                                error);
}

SanlockTestGuest *
sanlock_test_domain_start(guint host_id, VmlockDomain *dom, gboolean paused, GError **error)
{
        SanlockTestStart start = { dom, paused };

        return sanlock_test_guest_start(sanlock_test_host(host_id), sanlock_test_process_start,
                                        &start, error);
}

SanlockTestGuest *
sanlock_test_domain_start_ok(guint host_id, VmlockDomain *dom)
{
        g_autoptr(GError) error = NULL;
        SanlockTestGuest *guest = NULL;

        /* A holder that just ended is forgotten by its daemon a moment before
         * its release reaches the disk: on a loaded machine another host may
         * still find the lease busy. 10 s at most; a real holder stays. */
        for (int i = 0; i < 500; i++) {
                g_clear_error(&error);
                guest = sanlock_test_domain_start(host_id, dom, FALSE, &error);
                if (guest || !g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY))
                        break;
                g_usleep(20 * 1000);
        }
        g_assert_no_error(error);
        g_assert_nonnull(guest);
        return guest;
}

typedef struct {
        SanlockTestDomainOp op;
        VmlockDomain *dom;
        pid_t pid;
        const char *state;
        gconstpointer item;
} DomainCall;

static gboolean
domain_call(gpointer data, GString *reply, GError **error)
{
        DomainCall *call = data;
        g_autoptr(VmlockLockManager) manager = sanlock_test_manager_new(error);
        g_autofree char *state = NULL;
        gboolean ok = FALSE;

        if (!manager)
                return FALSE;
        vmlock_domain_set_pid(call->dom, call->pid);
        switch (call->op) {
        case SANLOCK_TEST_PAUSE:
                ok = vmlock_domain_lock_process_pause(manager, call->dom, &state, error);
                break;
        case SANLOCK_TEST_RESUME:
                ok = vmlock_domain_lock_process_resume(manager, NULL, call->dom, call->state,
                                                       error);
                break;
        case SANLOCK_TEST_INQUIRE:
                ok = vmlock_domain_lock_process_inquire(manager, call->dom, &state, error);
                break;
        case SANLOCK_TEST_DISK_ATTACH:
                ok = vmlock_domain_lock_disk_attach(manager, NULL, call->dom, call->item, error);
                break;
        case SANLOCK_TEST_DISK_DETACH:
                ok = vmlock_domain_lock_disk_detach(manager, call->dom, call->item, error);
                break;
        case SANLOCK_TEST_LEASE_ATTACH:
                ok = vmlock_domain_lock_lease_attach(manager, NULL, call->dom, call->item, error);
                break;
        case SANLOCK_TEST_LEASE_DETACH:
                ok = vmlock_domain_lock_lease_detach(manager, call->dom, call->item, error);
                break;
        }
        if (ok && state)
                g_string_append(reply, state);
        return ok;
}

gboolean
sanlock_test_domain_call(const SanlockTestHost *host, SanlockTestDomainOp op, VmlockDomain *dom,
                         pid_t pid, const char *state, gconstpointer item, char **ret_state,
                         GError **error)
{
        DomainCall call = { op, dom, pid, state, item };
        g_autofree char *reply = NULL;

        if (!sanlock_test_host_call(host, domain_call, &call, &reply, error))
                return FALSE;
        if (ret_state)
                *ret_state = reply && *reply ? g_steal_pointer(&reply) : NULL;
        return TRUE;
}
