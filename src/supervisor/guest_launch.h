/* vmlock: starting a guest: fork, take its leases in the child, exec PROGRAM. */
#pragma once

#include <sys/types.h>

#include <vmlock/domain.h>
#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

typedef struct {
        VmlockLockManager *manager;
        VmlockDomain *dom;
        const char *uri;        /* handed to the lock driver (the lock-failure helper's) */
        gboolean register_only; /* start --paused: take the leases at resume */
        /* PROGRAM waits for guest_launch_go() before exec: a paused start of a
         * program vmlock cannot pause otherwise. */
        gboolean wait_for_go;
        const int *close_in_child; /* fds whose locks must not outlive the parent, -1 ended */
        int inherit_fd;            /* an fd PROGRAM gets (QEMU's monitor), or -1 */
        int stdio_fd;              /* PROGRAM's stdin, stdout and stderr, or -1: ours */
        int output_fd;             /* PROGRAM's stdout and stderr instead, or -1 */
        char *const *argv;         /* PROGRAM and its arguments; PATH is searched */
        const sigset_t *child_sigmask; /* the child's signal mask (NULL: inherited) */
} GuestLaunch;

/* Forks; the child sets the domain's pid to its own, takes the leases (or
 * registers), labels the lock fd, and execs PROGRAM, reporting each step back
 * over a socket. Returns once PROGRAM runs, with the child's pid and in
 * *ret_held_state what it holds, as the driver's state (NULL: nothing, or
 * unknown); with wait_for_go, once the child waits, and *ret_go_fd is the
 * socket guest_launch_go() needs. On failure the child has exited and been
 * reaped and @error is the child's error: the lock driver's (VMLOCK_ERROR), or
 * G_SPAWN_ERROR when PROGRAM could not be executed (G_SPAWN_ERROR_NOENT: not
 * found); a child that died before exec is an error too. */
gboolean guest_launch(const GuestLaunch *launch, pid_t *ret_pid, int *ret_go_fd,
                      char **ret_held_state, GError **error);

/* Lets the waiting child exec PROGRAM (@program names it in messages) and
 * returns once it did; closes @go_fd. On failure the child is gone (not
 * reaped: the caller waits for it). */
gboolean guest_launch_go(int go_fd, pid_t pid, const char *program, GError **error);

G_END_DECLS
