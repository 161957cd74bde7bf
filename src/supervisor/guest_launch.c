/* vmlock: fork, child-side locking and the exec handshake of a guest start. */
#define G_LOG_DOMAIN "vmlock-supervisor"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmlock/domain-lock.h>
#include <vmlock/error.h>

#include "supervisor/guest_launch.h"
#include "supervisor/lease_events.h"
#include "supervisor/seclabel.h"
#include "util/fd_util.h"

/* The child's name until exec replaces it: a child that died still
 * carrying it never ran PROGRAM. */
#define CHILD_COMM "vmlock-prexec"

/* Child-to-parent messages: a header, then a domain and a message (an
 * error's; for MSG_LOCKED, an empty domain and the driver's state). */
enum {
        MSG_LOCKED = 'L', /* leases taken (or registered), fd labelled */
        MSG_ERROR = 'E',  /* a GError follows; the child exits */
};

/* Parent to child, with wait_for_go: exec now. */
#define GO_BYTE 'G'


typedef struct {
        char tag;
        int32_t code;
        uint32_t domain_len;
        uint32_t message_len;
} __attribute__((packed)) LaunchMsgHeader;

static gboolean
child_send(int sock, char tag, int code, const char *domain, const char *message)
{
        LaunchMsgHeader header = {
                .tag = tag,
                .code = code,
                .domain_len = (uint32_t)strlen(domain),
                .message_len = (uint32_t)strlen(message),
        };

        return fd_write_all(sock, &header, sizeof(header)) &&
               fd_write_all(sock, domain, header.domain_len) &&
               fd_write_all(sock, message, header.message_len);
}

static gboolean
child_send_error(int sock, const GError *error)
{
        return child_send(sock, MSG_ERROR, error->code, g_quark_to_string(error->domain),
                          error->message);
}

static GError *
exec_error_new(int err, const char *program)
{
        GSpawnError code;

        switch (err) {
        case ENOENT:
        case ENOTDIR:
                code = G_SPAWN_ERROR_NOENT;
                break;
        case EACCES:
        case EPERM:
                code = G_SPAWN_ERROR_ACCES;
                break;
        case ENOEXEC:
                code = G_SPAWN_ERROR_NOEXEC;
                break;
        case E2BIG:
                code = G_SPAWN_ERROR_TOO_BIG;
                break;
        case ENAMETOOLONG:
                code = G_SPAWN_ERROR_NAMETOOLONG;
                break;
        case ELOOP:
                code = G_SPAWN_ERROR_LOOP;
                break;
        case ETXTBSY:
                code = G_SPAWN_ERROR_TXTBUSY;
                break;
        case EISDIR:
                code = G_SPAWN_ERROR_ISDIR;
                break;
        case ENOMEM:
                code = G_SPAWN_ERROR_NOMEM;
                break;
        default:
                code = G_SPAWN_ERROR_FAILED;
                break;
        }
        return g_error_new(G_SPAWN_ERROR, code, "cannot execute %s: %s", program,
                           g_strerror(err));
}

/* The guest's side: never returns. Whatever happens, the leases die with
 * this process if PROGRAM does not take its place. */
static G_GNUC_NORETURN void
guest_child(const GuestLaunch *launch, int sock)
{
        GError *error = NULL;
        g_autofree char *held_state = NULL;
        int lock_fd = -1;
        int flags;
        char go;

        prctl(PR_SET_NAME, CHILD_COMM);
        for (const int *fd = launch->close_in_child; fd && *fd >= 0; fd++)
                close(*fd);
        /* At once: a child waiting for "go" must not keep the caller's
         * terminal or pipe (x=$(vmlock start -d --paused ...) would hang).
         * Errors travel over @sock. */
        if (launch->stdio_fd >= 0) {
                for (int fd = 0; fd <= 2; fd++)
                        dup2(launch->stdio_fd, fd);
        }
        if (launch->output_fd >= 0) {
                dup2(launch->output_fd, STDOUT_FILENO);
                dup2(launch->output_fd, STDERR_FILENO);
        }
        if (launch->child_sigmask)
                sigprocmask(SIG_SETMASK, launch->child_sigmask, NULL);

        vmlock_domain_set_pid(launch->dom, getpid());
        /* With what it holds: the supervisor waits for its release once the
         * guest ends, when the process can no longer be asked. */
        if (!vmlock_domain_lock_process_start_held(launch->manager, launch->uri, launch->dom,
                                                   launch->register_only, &lock_fd,
                                                   &held_state, &error))
                goto fail;
        /* The one fd PROGRAM must inherit: its registration with the lock
         * daemon lives as long as this fd is open. Were it closed at exec,
         * the daemon would drop the leases and PROGRAM would run unprotected. */
        if (lock_fd >= 0 && ((flags = fcntl(lock_fd, F_GETFD)) < 0 ||
                             fcntl(lock_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)) {
                int saved = errno;

                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot pass the lock fd %d on to %s: %s", lock_fd,
                            launch->argv[0], g_strerror(saved));
                goto fail;
        }
        /* QEMU's end of its monitor: inherited on purpose, QEMU is told its
         * number on the command line. */
        if (launch->inherit_fd >= 0 && ((flags = fcntl(launch->inherit_fd, F_GETFD)) < 0 ||
                                        fcntl(launch->inherit_fd, F_SETFD,
                                              flags & ~FD_CLOEXEC) < 0)) {
                int saved = errno;

                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot pass fd %d on to %s: %s", launch->inherit_fd,
                            launch->argv[0], g_strerror(saved));
                goto fail;
        }
        if (!seclabel_apply(launch->dom, lock_fd, &error))
                goto fail;
        if (!child_send(sock, MSG_LOCKED, 0, "", held_state ? held_state : ""))
                _exit(125); /* the parent is gone: nobody would record the guest */

        /* A paused start of a plain program: it must not run before resume
         * took its leases. A read, not SIGSTOP, which anyone could undo; a
         * parent gone (end of file) means no resume will ever come. */
        if (launch->wait_for_go && (fd_read_full(sock, &go, 1) != 1 || go != GO_BYTE))
                _exit(125);

        execvp(launch->argv[0], launch->argv);
        error = exec_error_new(errno, launch->argv[0]);

fail:
        if (!child_send_error(sock, error))
                g_printerr("vmlock: %s\n", error->message);
        if (error->domain == G_SPAWN_ERROR)
                _exit(error->code == G_SPAWN_ERROR_NOENT ? 127 : 126);
        _exit(125);
}

static char *
describe_wait_status(int status)
{
        if (WIFEXITED(status))
                return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
        if (WIFSIGNALED(status))
                return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(status),
                                       g_strsignal(WTERMSIG(status)));
        return g_strdup_printf("ended (wait status 0x%x)", (unsigned)status);
}

/* Reads the child's messages up to end of file (exec, or exit), or with
 * @until_locked, up to MSG_LOCKED (the child then waits for "go").
 * @ret_held_state (may be NULL) gets the state MSG_LOCKED carried. */
static gboolean
parent_read(int sock, gboolean until_locked, gboolean *ret_locked, char **ret_held_state,
            GError **error)
{
        GError *child_error = NULL;
        gboolean locked = FALSE;

        while (!(until_locked && locked)) {
                LaunchMsgHeader header;
                g_autofree char *domain = NULL;
                g_autofree char *message = NULL;
                gssize n = fd_read_full(sock, &header, sizeof(header));

                if (n == 0)
                        break;
                if (n != (gssize)sizeof(header) || header.domain_len > 4096 ||
                    header.message_len > 1024 * 1024) {
                        g_clear_error(&child_error);
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "garbled report from the guest process");
                        return FALSE;
                }
                domain = g_malloc0(header.domain_len + 1);
                message = g_malloc0(header.message_len + 1);
                if (fd_read_full(sock, domain, header.domain_len) !=
                            (gssize)header.domain_len ||
                    fd_read_full(sock, message, header.message_len) !=
                            (gssize)header.message_len) {
                        g_clear_error(&child_error);
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "truncated report from the guest process");
                        return FALSE;
                }
                if (header.tag == MSG_LOCKED && !locked) {
                        locked = TRUE;
                        if (*message && ret_held_state)
                                *ret_held_state = g_steal_pointer(&message);
                } else if (header.tag == MSG_ERROR && !child_error) {
                        child_error = g_error_new_literal(g_quark_from_string(domain),
                                                          header.code, message);
                        break;
                }
        }
        if (child_error) {
                g_propagate_error(error, child_error);
                return FALSE;
        }
        *ret_locked = locked;
        return TRUE;
}

/* The report socket reached end of file: PROGRAM replaced the child, or the
 * child died first (killed: every other way out reports an error). A dead
 * child still named CHILD_COMM never got to exec. Leaves it unreaped; its
 * wait status goes to @ret_status. */
static gboolean
child_died_before_exec(pid_t pid, int *ret_status)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
        g_autofree char *comm = NULL;
        siginfo_t info = { 0 };

        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            info.si_pid != pid)
                return FALSE; /* alive: it exec'd */
        if (!g_file_get_contents(path, &comm, NULL, NULL))
                return FALSE;
        if (!g_str_equal(g_strchomp(comm), CHILD_COMM))
                return FALSE;
        /* Encoded as waitpid(2) does. */
        *ret_status = info.si_code == CLD_EXITED ? info.si_status << 8 : info.si_status;
        return TRUE;
}

static void
set_died_error(GError **error, pid_t pid, gboolean have_status, int status,
               const char *program)
{
        g_autofree char *how = have_status ? describe_wait_status(status) : g_strdup("ended");

        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                    "the guest process %d %s before it could run %s", (int)pid, how, program);
}

gboolean
guest_launch(const GuestLaunch *launch, pid_t *ret_pid, int *ret_go_fd, char **ret_held_state,
             GError **error)
{
        g_autofree char *held_state = NULL;
        gboolean locked = FALSE;
        int sv[2];
        int status = 0;
        pid_t pid;

        g_return_val_if_fail(launch->argv && launch->argv[0], FALSE);

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot create a socket pair: %s", g_strerror(saved));
                return FALSE;
        }
        /* The child runs the lock driver (GLib, malloc) before exec: safe only
         * because vmlock has a single thread here. Keep it so: no thread may
         * outlive the call that starts it (the sanlock driver's join thread
         * is waited for).
         *
         * vfork: the guest's process borrows this one's memory until its
         * exec, so nothing is copied and it runs at once (a fork cost the
         * guest 1-2 ms: README, Performance). This process is frozen
         * meanwhile, as it would wait for the child's report anyway. Safe
         * because the child leaves only through exec or _exit, its fds and
         * signal handlers are its own, and what it writes in memory is either
         * freed before it leaves or what this process would write too (the
         * domain's pid, the driver's caches). A plain program held until
         * resume must not keep this process frozen: forked. */
        pid = launch->wait_for_go ? fork() : vfork();
        if (pid < 0) {
                int saved = errno;

                close(sv[0]);
                close(sv[1]);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "cannot fork: %s",
                            g_strerror(saved));
                return FALSE;
        }
        if (pid == 0) {
                close(sv[0]);
                guest_child(launch, sv[1]);
        }
        close(sv[1]);

        if (!parent_read(sv[0], launch->wait_for_go, &locked, &held_state, error)) {
                close(sv[0]);
                lease_events_log_refusal(launch->manager, launch->dom, NULL, error ? *error : NULL);
                /* The child exits right after reporting; don't leave a zombie. */
                waitpid_noeintr(pid, NULL, 0);
                return FALSE;
        }
        if (!locked) {
                close(sv[0]);
                set_died_error(error, pid, waitpid_noeintr(pid, &status, 0) >= 0, status,
                               launch->argv[0]);
                return FALSE;
        }
        if (launch->wait_for_go) {
                *ret_go_fd = sv[0];
        } else {
                close(sv[0]);
                if (child_died_before_exec(pid, &status)) {
                        waitpid_noeintr(pid, NULL, 0);
                        set_died_error(error, pid, TRUE, status, launch->argv[0]);
                        return FALSE;
                }
                *ret_go_fd = -1;
        }
        *ret_pid = pid;
        *ret_held_state = g_steal_pointer(&held_state);
        return TRUE;
}

gboolean
guest_launch_go(int go_fd, pid_t pid, const char *program, GError **error)
{
        const char go = GO_BYTE;
        gboolean locked = FALSE;
        int status = 0;
        gboolean ok;

        if (!fd_write_all(go_fd, &go, 1)) {
                close(go_fd);
                set_died_error(error, pid, FALSE, 0, program);
                return FALSE;
        }
        ok = parent_read(go_fd, FALSE, &locked, NULL, error);
        close(go_fd);
        if (ok && child_died_before_exec(pid, &status)) {
                set_died_error(error, pid, TRUE, status, program);
                return FALSE;
        }
        return ok;
}
