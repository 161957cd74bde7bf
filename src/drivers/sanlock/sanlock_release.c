/* vmlock sanlock driver: waiting until an ended guest's leases are free on disk. */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>

#include <sanlock.h>

#include "drivers/sanlock/sanlock_holder.h"
#include "drivers/sanlock/sanlock_lease.h"
#include "drivers/sanlock/sanlock_release.h"

/* A release takes one write, about a millisecond: look again soon, then
 * less and less often, so the daemon's reads of the lease area (1 MiB
 * each) do not crowd it when the storage is slow. */
#define POLL_FIRST_US 500
#define POLL_MAX_US 20000

/* TRUE once @held (with the version it was taken at) is no longer held by
 * that acquisition: free, taken again since, or unreadable. */
static gboolean
lease_released(const struct sanlk_resource *held)
{
        g_autofree struct sanlk_resource *now = NULL;
        struct sanlk_host *owners = NULL;
        int n_owners = 0;
        int rv;

        rv = vmlock_sanlock_holder_owners(held, &now, &owners, &n_owners);
        free(owners);
        if (rv < 0) {
                g_debug("lease %.48s:%.48s unreadable (%d): not waiting for it",
                        held->lockspace_name, held->name, rv);
                return TRUE;
        }
        return n_owners == 0 || now->lver != held->lver;
}

gboolean
vmlock_sanlock_wait_released(const char *state, guint timeout_ms, gboolean *ret_released,
                             GError **error)
{
        g_autoptr(GPtrArray) pending = vmlock_sanlock_state_parse(state, error);
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        gulong pause_us = POLL_FIRST_US;

        if (!pending)
                return FALSE;
        /* Shared leases are not waited for: one left set a moment longer
         * only refuses a writer, and this host's mark in it may stay for
         * another guest of this host that shares the disk. */
        for (guint i = pending->len; i > 0; i--) {
                const struct sanlk_resource *res = g_ptr_array_index(pending, i - 1);

                if (res->flags & SANLK_RES_SHARED)
                        g_ptr_array_remove_index_fast(pending, i - 1);
        }

        for (;;) {
                for (guint i = pending->len; i > 0; i--) {
                        if (lease_released(g_ptr_array_index(pending, i - 1)))
                                g_ptr_array_remove_index_fast(pending, i - 1);
                }
                if (pending->len == 0 || g_get_monotonic_time() >= deadline)
                        break;
                g_usleep(pause_us);
                pause_us = MIN(pause_us * 2, POLL_MAX_US);
        }
        *ret_released = pending->len == 0;
        return TRUE;
}
