/* vmlock-sanlock-cleanup: several leases examined at once, by worker threads. */
#pragma once

#include <glib.h>

#include "cleanup_lease.h"

G_BEGIN_DECLS

/* The daemon spends ~4 ms on one acquire, much of it waiting for the disk;
 * several in flight keep it busy. Its default worker pool has 8 threads. */
#define CLEANUP_POOL_DEFAULT_JOBS 8
#define CLEANUP_POOL_MAX_JOBS 64

/* Called in the calling thread, about ten times a second. */
typedef void (*CleanupProgressFunc)(guint done, guint total, gpointer user_data);

/* Runs cleanup_lease_remove() on every LEASE entry of @entries, @n_jobs at a
 * time, each worker with a sanlock connection of its own. Stops early when
 * *@stop becomes non-zero (entries not reached stay PENDING), or on an error
 * that ends everything (returned). @progress may be NULL. */
gboolean cleanup_pool_run(GPtrArray *entries, const CleanupLeaseOptions *options, guint n_jobs,
                          const volatile gint *stop, CleanupProgressFunc progress,
                          gpointer progress_data, GError **error);

G_END_DECLS
