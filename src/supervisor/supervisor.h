/* vmlock: the supervisor: the `vmlock start` process that owns one guest.
 *
 * It holds the guest's lock manager, its record and, for QEMU, its only
 * monitor connection. Everything that changes the guest (pause, resume,
 * hotplug, a lock failure) goes through it: its control socket serves the
 * vmlock commands and the lock-failure helper, its QMP proxy other tools.
 * It runs until the guest exits, then removes the record.
 */
#pragma once

#include <vmlock/lock-manager.h>

#include "supervisor/state_dir.h"

G_BEGIN_DECLS

typedef struct Supervisor Supervisor;

typedef struct {
        const char *state_dir;
        const char *uri;         /* the lock driver's: names the state dir */
        /* The guest, just started, not yet saved, and its lock manager: both
         * the caller's, kept until the supervisor is freed. */
        GuestRecord *record;
        VmlockLockManager *manager;
        int go_fd;               /* a plain program waiting to exec at resume, or -1 */
        int monitor_fd;          /* QEMU's monitor (taken), or -1: not QEMU */
        const char *program;     /* for messages */
        const char *incoming;    /* a migration destination: the URI QEMU waits at, or NULL */
        const char *held_state;  /* what the guest holds, as the driver's state, or NULL */
} SupervisorSetup;

/* Opens the sockets, greets QEMU's monitor and saves the record. Call with
 * the guest's name lock held. Takes go_fd and monitor_fd, even on failure.
 * On failure nothing is left behind but the guest, which the caller kills. */
Supervisor *supervisor_new(const SupervisorSetup *setup, GError **error);
void supervisor_free(Supervisor *supervisor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Supervisor, supervisor_free)

/* Serves until the guest exits; removes its record and sockets; returns
 * the guest's wait status. */
int supervisor_run(Supervisor *supervisor);

G_END_DECLS
