/* vmlock sanlock driver: watching a running guest's leases from its supervisor. */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_watch.h"

/* libsanlock reports connect() as it failed: refused, or no socket file. */
static gboolean
rv_is_no_daemon(int rv)
{
        return rv == -ECONNREFUSED || rv == -ENOENT;
}

gboolean
vmlock_sanlock_daemon_connect(int *ret_fd, GError **error)
{
        /* Registering is what keeps a client's connection open on the
         * daemon's side; a client that takes no lease costs it nothing. */
        int fd = sanlock_register();

        if (fd < 0) {
                VmlockSanlockErrorContext ctx = { .op = VMLOCK_SANLOCK_OP_CONNECT };

                vmlock_sanlock_set_error(error, fd, &ctx);
                return FALSE;
        }
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                int saved = errno;

                close(fd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot set close-on-exec on the sanlock connection: %s",
                            g_strerror(saved));
                return FALSE;
        }
        *ret_fd = fd;
        return TRUE;
}

gboolean
vmlock_sanlock_process_state(guint pid, char **ret_state, GError **error)
{
        char *state = NULL;
        int count = 0;
        int rv = sanlock_inquire(-1, (int)pid, 0, &count, &state);

        if (rv_is_no_daemon(rv)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_DAEMON,
                            "the sanlock daemon is not running (nothing listens on "
                            "%s/sanlock.sock): every lease of this host went with it",
                            vmlock_sanlock_socket_dir());
                return FALSE;
        }
        if (rv == -ESRCH || rv == -ESTALE) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "the sanlock daemon does not know process %u: it was restarted "
                            "since the process registered, or the process closed its "
                            "connection; it holds no lease", pid);
                return FALSE;
        }
        if (rv < 0) {
                g_autofree char *who = g_strdup_printf("the leases of process %u", pid);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_INQUIRE,
                        .subject = who,
                        .pid = pid,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        *ret_state = state && *state ? g_strdup(state) : NULL;
        free(state);
        return TRUE;
}
