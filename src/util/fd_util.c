/* vmlock: small fd helpers the tools share. */
#define G_LOG_DOMAIN "vmlock-util"

#include "config-build.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "util/fd_util.h"

gboolean
fd_write_all(int fd, const void *data, gsize len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                /* Not a socket (a pipe, a file): a plain write. */
                if (n < 0 && errno == ENOTSOCK)
                        n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return FALSE;
                if (n == 0) {
                        errno = EPIPE;
                        return FALSE;
                }
                p += n;
                len -= (gsize)n;
        }
        return TRUE;
}

gssize
fd_read_full(int fd, void *data, gsize len)
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

pid_t
waitpid_noeintr(pid_t pid, int *status, int options)
{
        pid_t r;

        do {
                r = waitpid(pid, status, options);
        } while (r < 0 && errno == EINTR);
        return r;
}

static gboolean
unix_address(const char *path, struct sockaddr_un *ret_addr, GError **error)
{
        memset(ret_addr, 0, sizeof(*ret_addr));
        ret_addr->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(ret_addr->sun_path)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "socket path %s is longer than %zu bytes", path,
                            sizeof(ret_addr->sun_path) - 1);
                return FALSE;
        }
        strcpy(ret_addr->sun_path, path);
        return TRUE;
}

int
unix_socket_listen(const char *path, GError **error)
{
        struct sockaddr_un addr;
        mode_t old_umask;
        int fd;
        int r;

        if (!unix_address(path, &addr, error))
                return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot create a socket: %s",
                            g_strerror(saved));
                return -1;
        }
        /* Our caller holds the guest's name lock: a socket file left there
         * belongs to a supervisor that is gone. */
        if (unlink(path) < 0 && errno != ENOENT) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot remove %s: %s", path,
                            g_strerror(saved));
                close(fd);
                return -1;
        }
        /* Created 0600 from the start: nobody else may connect, not even
         * between bind and chmod. */
        old_umask = umask(0177);
        r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
        umask(old_umask);
        if (r < 0 || listen(fd, 16) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot listen on %s: %s", path,
                            g_strerror(saved));
                close(fd);
                return -1;
        }
        return fd;
}

int
unix_socket_connect(const char *path, GError **error)
{
        struct sockaddr_un addr;
        int fd;

        if (!unix_address(path, &addr, error))
                return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot create a socket: %s",
                            g_strerror(saved));
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot connect to %s: %s",
                            path, g_strerror(saved));
                close(fd);
                return -1;
        }
        return fd;
}
