/* vmlock sanlock driver: watching a running guest's leases from its supervisor. */
#pragma once

#include <glib.h>

/* A registered connection of the caller's own to the sanlock daemon
 * (O_CLOEXEC). It holds nothing; it hangs up when the daemon ends, which
 * takes every lease of this host with it. Error: VMLOCK_ERROR_DAEMON. */
gboolean vmlock_sanlock_daemon_connect(int *ret_fd, GError **error);

/* What process @pid holds now, as sanlock_inquire() puts it (NULL:
 * nothing). VMLOCK_ERROR_DAEMON: no daemon runs; VMLOCK_ERROR_LEASE_STATE:
 * the daemon does not know @pid (restarted since it registered, or the
 * process closed its connection), so it holds nothing. Thread-safe: one
 * connection a call, no driver state. */
gboolean vmlock_sanlock_process_state(guint pid, char **ret_state, GError **error);
