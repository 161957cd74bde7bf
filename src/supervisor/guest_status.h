/* vmlock: a guest's status: built by its supervisor as JSON (`vmlock status
 * --json` prints it as is), printed as text by `vmlock status`. */
#pragma once

#include <json-glib/json-glib.h>
#include <vmlock/lock-manager.h>

#include "supervisor/state_dir.h"

G_BEGIN_DECLS

/* "running", "paused", "paused, leases released", "leases released",
 * "lease lost" (being killed) or "paused, lease lost". */
const char *guest_record_state_string(const GuestRecord *record);

/* Members: name, uuid, pid, supervisor_pid, state, paused, released, lease_lost,
 * lock_manager, on_lockfailure, domain (may be null), qmp (null: not QEMU),
 * resources: [{kind: "disk"|"lease", path, mode, held, and for a lease
 * lockspace, key, offset}]; the supervisor adds unprotected: [paths of
 * images QEMU opened writable that no lease covers]. @state is what the driver says the guest holds
 * now (NULL when released or unknown). */
JsonNode *guest_status_to_json(const GuestRecord *record, VmlockLockManager *manager,
                               const char *state);
/* The text form, on stdout. */
void guest_status_print(JsonObject *status);

G_END_DECLS
