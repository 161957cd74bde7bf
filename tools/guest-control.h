/* vmlock: acting on a running guest: its CPUs (QMP or signals) and its leases. */
#pragma once

#include <vmlock/lock-manager.h>

#include "state-dir.h"

G_BEGIN_DECLS

/* The lock driver the guest was started with, loaded with the same config. */
VmlockLockManager *guest_control_load_manager(const GuestRecord *record, GError **error);

/* Stops / continues the guest's CPUs: QMP "stop"/"cont" when the record has a
 * QMP socket, else SIGSTOP/SIGCONT to its process. */
gboolean guest_control_stop_cpus(const GuestRecord *record, GError **error);
gboolean guest_control_cont_cpus(const GuestRecord *record, GError **error);

/* Ends the guest: QMP "quit" (falling back to SIGKILL if QEMU does not answer),
 * else SIGKILL. A guest already gone is fine. */
gboolean guest_control_kill(const GuestRecord *record, GError **error);

/* Hands the leases over: releases them for the guest and keeps the state in
 * the record (released = TRUE). The caller saves the record. */
gboolean guest_control_release(GuestRecord *record, VmlockLockManager *manager,
                               GError **error);

/* Takes the leases back with @state (NULL: the record's); on success the
 * record is marked not released. The caller saves the record. */
gboolean guest_control_reacquire(GuestRecord *record, VmlockLockManager *manager,
                                 const char *state, GError **error);

G_END_DECLS
