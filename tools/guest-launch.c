/* vmlock: fork, child-side locking and the exec handshake of a guest start. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmlock/domain-lock.h>
#include <vmlock/error.h>

#include "guest-launch.h"
#include "seclabel.h"

/* Child-to-parent messages: a header, then the error's domain and message. */
enum {
        MSG_LOCKED = 'L',   /* leases taken (or registered), fd labelled */
        MSG_STOPPING = 'S', /* about to SIGSTOP itself before exec */
        MSG_ERROR = 'E',    /* a GError follows; the child exits */
};

typedef struct {
        char tag;
        int32_t code;
        uint32_t domain_len;
        uint32_t message_len;
} __attribute__((packed)) LaunchMsgHeader;

static gboolean
write_full(int fd, const void *data, gsize len)
{
        const char *p = data;

        while (len > 0) {
                /* A socket, so a parent that went away is EPIPE, not SIGPIPE. */
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return FALSE;
                p += n;
                len -= (gsize)n;
        }
        return TRUE;
}

/* Returns the bytes read: less than @len only at EOF; -1 on error. */
static gssize
read_full(int fd, void *data, gsize len)
{
        char *p = data;
        gsize done = 0;

        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                done += (gsize)n;
        }
        return (gssize)done;
}

static gboolean
child_send(int sock, char tag, const GError *error)
{
        const char *domain = error ? g_quark_to_string(error->domain) : "";
        const char *message = error ? error->message : "";
        LaunchMsgHeader header = {
                .tag = tag,
                .code = error ? error->code : 0,
                .domain_len = (uint32_t)strlen(domain),
                .message_len = (uint32_t)strlen(message),
        };

        return write_full(sock, &header, sizeof(header)) &&
               write_full(sock, domain, header.domain_len) &&
               write_full(sock, message, header.message_len);
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
        int lock_fd = -1;
        int flags;

        if (launch->close_in_child >= 0)
                close(launch->close_in_child);
        if (launch->child_sigmask)
                sigprocmask(SIG_SETMASK, launch->child_sigmask, NULL);

        vmlock_domain_set_pid(launch->dom, getpid());
        if (!vmlock_domain_lock_process_start(launch->manager, NULL, launch->dom,
                                              launch->register_only, &lock_fd, &error))
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
        if (!seclabel_apply(launch->dom, lock_fd, &error))
                goto fail;
        if (!child_send(sock, MSG_LOCKED, NULL))
                _exit(125); /* the parent is gone: nobody would record the guest */

        if (launch->stop_before_exec) {
                /* With nobody to resume or kill it, a stopped child would hold
                 * its registration forever. */
                if (!child_send(sock, MSG_STOPPING, NULL))
                        _exit(125);
                /* The parent stops listening once we are stopped; an exec
                 * failure after resume goes to stderr. */
                close(sock);
                sock = -1;
                raise(SIGSTOP);
        }

        execvp(launch->argv[0], launch->argv);
        error = exec_error_new(errno, launch->argv[0]);

fail:
        if (sock < 0 || !child_send(sock, MSG_ERROR, error))
                g_printerr("vmlock: %s\n", error->message);
        if (error->domain == G_SPAWN_ERROR)
                _exit(error->code == G_SPAWN_ERROR_NOENT ? 127 : 126);
        _exit(125);
}

static pid_t
waitpid_noeintr(pid_t pid, int *status, int options)
{
        pid_t r;

        do {
                r = waitpid(pid, status, options);
        } while (r < 0 && errno == EINTR);
        return r;
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

/* Reads the child's messages up to EOF (exec, or exit). */
static gboolean
parent_read(int sock, gboolean *ret_locked, gboolean *ret_stopping, GError **error)
{
        GError *child_error = NULL;
        gboolean locked = FALSE;
        gboolean stopping = FALSE;

        for (;;) {
                LaunchMsgHeader header;
                g_autofree char *domain = NULL;
                g_autofree char *message = NULL;
                gssize n = read_full(sock, &header, sizeof(header));

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
                if (read_full(sock, domain, header.domain_len) != (gssize)header.domain_len ||
                    read_full(sock, message, header.message_len) !=
                            (gssize)header.message_len) {
                        g_clear_error(&child_error);
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "truncated report from the guest process");
                        return FALSE;
                }
                switch (header.tag) {
                case MSG_LOCKED:
                        locked = TRUE;
                        break;
                case MSG_STOPPING:
                        stopping = TRUE;
                        break;
                case MSG_ERROR:
                        if (!child_error)
                                child_error = g_error_new_literal(g_quark_from_string(domain),
                                                                  header.code, message);
                        break;
                default:
                        break;
                }
        }
        if (child_error) {
                g_propagate_error(error, child_error);
                return FALSE;
        }
        *ret_locked = locked;
        *ret_stopping = stopping;
        return TRUE;
}

gboolean
guest_launch(const GuestLaunch *launch, pid_t *ret_pid, GuestLaunchResult *ret_result,
             GError **error)
{
        g_autofree char *how = NULL;
        gboolean locked = FALSE;
        gboolean stopping = FALSE;
        gboolean have_status = FALSE;
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
         * is waited for). */
        pid = fork();
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

        if (!parent_read(sv[0], &locked, &stopping, error)) {
                close(sv[0]);
                /* The child exits right after reporting; don't leave a zombie. */
                waitpid_noeintr(pid, NULL, 0);
                return FALSE;
        }
        close(sv[0]);

        if (!locked)
                goto died;
        if (stopping) {
                have_status = waitpid_noeintr(pid, &status, WUNTRACED) >= 0;
                if (!have_status || !WIFSTOPPED(status))
                        goto died;
                *ret_result = GUEST_LAUNCH_STOPPED;
        } else {
                *ret_result = GUEST_LAUNCH_EXECUTED;
        }
        *ret_pid = pid;
        return TRUE;

died:
        if (!stopping)
                have_status = waitpid_noeintr(pid, &status, 0) >= 0;
        how = have_status ? describe_wait_status(status) : g_strdup("ended");
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                    "the guest process %d %s before it could run %s", (int)pid, how,
                    launch->argv[0]);
        return FALSE;
}
