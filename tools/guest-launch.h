/* vmlock: starting a guest: fork, take its leases in the child, exec PROGRAM. */
#pragma once

#include <sys/types.h>

#include <vmlock/domain.h>
#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

typedef struct {
        VmlockLockManager *manager;
        VmlockDomain *dom;
        gboolean register_only;    /* start --paused: take the leases at resume */
        gboolean stop_before_exec; /* SIGSTOP before exec: PROGRAM waits for resume */
        int close_in_child;        /* an fd whose lock must not outlive the parent (or -1) */
        char *const *argv;         /* PROGRAM and its arguments; PATH is searched */
        const sigset_t *child_sigmask; /* the child's signal mask (NULL: inherited) */
} GuestLaunch;

typedef enum {
        GUEST_LAUNCH_EXECUTED, /* PROGRAM runs */
        GUEST_LAUNCH_STOPPED,  /* the process is stopped before exec (stop_before_exec) */
} GuestLaunchResult;

/* Forks; the child sets the domain's pid to its own, takes the leases (or
 * registers), labels the lock fd, and execs PROGRAM, reporting each step back
 * over a socket. Returns once PROGRAM runs (or the child has stopped itself),
 * with the child's pid. On failure the child has exited and been reaped and
 * @error is the child's error: the lock driver's (VMLOCK_ERROR), or
 * G_SPAWN_ERROR when PROGRAM could not be executed (G_SPAWN_ERROR_NOENT: not
 * found). */
gboolean guest_launch(const GuestLaunch *launch, pid_t *ret_pid, GuestLaunchResult *ret_result,
                      GError **error);

G_END_DECLS
