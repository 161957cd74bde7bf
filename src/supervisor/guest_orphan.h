/* vmlock: a guest whose supervisor is gone, against what the lock daemon says.
 *
 * A guest whose `vmlock start` was killed runs on, holding what it held,
 * but nothing updates its record any more; had the supervisor died amid a
 * change of leases (the record's in_flight: a pause --release, an
 * attach-disk), the record lags what the lock daemon did. So readers of
 * the record (list, status, any command) do not repeat it for such a
 * guest: they ask the lock daemon what the guest's pid holds.
 */
#pragma once

#include <vmlock/lock-manager.h>

#include "supervisor/guest_record.h"

G_BEGIN_DECLS

/* The guest of @record (alive) runs without the supervisor it names. */
gboolean guest_orphan_check(const GuestRecord *record);

/* What the lock daemon says the guest holds, one line each: "disk PATH:
 * held", "lease LOCKSPACE:KEY: not held", "disk PATH: held, not in its
 * record" (the lease of an attach-disk cut short; other leases beyond the
 * record in the driver's words, where it can name them), then "its
 * supervisor died during `IN_FLIGHT`" when it did. NULL-terminated, empty
 * when there is nothing to say; NULL with @error when the daemon cannot be
 * asked (nop: VMLOCK_ERROR_UNSUPPORTED). */
GStrv guest_orphan_reconcile(const GuestRecord *record, VmlockLockManager *manager,
                             GError **error);

G_END_DECLS
