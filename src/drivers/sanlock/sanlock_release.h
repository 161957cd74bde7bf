/* vmlock sanlock driver: waiting until an ended guest's leases are free on disk. */
#pragma once

#include <glib.h>

/* When a holder ends, its daemon forgets it at once but writes the release
 * to the lease afterwards, in the background; until then another host's
 * acquire is refused. Waits, up to @timeout_ms, until each exclusive lease
 * of @state (as sanlock_inquire() returned it while the holder ran) is free
 * on disk or was taken again since (its version moved on). *@ret_released
 * is FALSE when the time ran out. An unreadable lease (file removed, daemon
 * gone) has nothing left to wait for. Error: a state that cannot be parsed. */
gboolean vmlock_sanlock_wait_released(const char *state, guint timeout_ms,
                                      gboolean *ret_released, GError **error);
