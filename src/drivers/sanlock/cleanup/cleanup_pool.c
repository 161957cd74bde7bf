/* vmlock-sanlock-cleanup: several leases examined at once, by worker threads. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include <stdint.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_errors.h"

#include "cleanup_entry.h"
#include "cleanup_lease.h"
#include "cleanup_owner.h"
#include "cleanup_pool.h"

#define PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 10)

typedef struct {
        GPtrArray *leases;      /* the LEASE entries (borrowed) */
        const CleanupLeaseOptions *options;
        const volatile gint *stop;

        gint next;              /* index of the next lease to take (atomic) */
        gint done;              /* leases finished (atomic) */
        gint failed;            /* set when a worker hit an error that ends all (atomic) */

        GMutex lock;
        GCond finished_cond;
        guint running;          /* workers still running */
        GError *error;          /* the first error that ends all */
} Pool;

static void
pool_fail(Pool *pool, GError *error)
{
        g_atomic_int_set(&pool->failed, 1);
        g_mutex_lock(&pool->lock);
        if (!pool->error)
                pool->error = error;
        else
                g_error_free(error);
        g_mutex_unlock(&pool->lock);
}

static gpointer
worker(gpointer data)
{
        Pool *pool = data;
        g_autoptr(CleanupHosts) hosts = cleanup_hosts_new(VMLOCK_SANLOCK_DISK_LOCKSPACE);
        GError *error = NULL;
        int sock;

        /* One registered connection each: the daemon runs one command per
         * connection at a time, and drops its leases when it closes. */
        sock = sanlock_register();
        if (sock < 0) {
                VmlockSanlockErrorContext ctx = { .op = VMLOCK_SANLOCK_OP_CONNECT };

                vmlock_sanlock_set_error(&error, sock, &ctx);
                pool_fail(pool, error);
                goto cleanup;
        }

        while (!g_atomic_int_get(pool->stop) && !g_atomic_int_get(&pool->failed)) {
                gint i = g_atomic_int_add(&pool->next, 1);

                if (i >= (gint)pool->leases->len)
                        break;
                if (!cleanup_lease_remove(&sock, hosts, pool->options,
                                          g_ptr_array_index(pool->leases, i), &error)) {
                        pool_fail(pool, error);
                        break;
                }
                g_atomic_int_inc(&pool->done);
        }

cleanup:
        if (sock >= 0)
                close(sock);
        g_mutex_lock(&pool->lock);
        pool->running--;
        g_cond_signal(&pool->finished_cond);
        g_mutex_unlock(&pool->lock);
        return NULL;
}

gboolean
cleanup_pool_run(GPtrArray *entries, const CleanupLeaseOptions *options, guint n_jobs,
                 const volatile gint *stop, CleanupProgressFunc progress,
                 gpointer progress_data, GError **error)
{
        g_autoptr(GPtrArray) leases = g_ptr_array_new();
        g_autoptr(GPtrArray) threads = g_ptr_array_new();
        Pool pool = { .options = options, .stop = stop };
        gboolean ok;

        for (guint i = 0; i < entries->len; i++) {
                CleanupEntry *entry = g_ptr_array_index(entries, i);

                if (entry->kind == CLEANUP_KIND_LEASE && entry->outcome == CLEANUP_OUTCOME_PENDING)
                        g_ptr_array_add(leases, entry);
        }
        if (leases->len == 0)
                return TRUE;
        pool.leases = leases;
        n_jobs = CLAMP(n_jobs, 1, MIN(leases->len, CLEANUP_POOL_MAX_JOBS));
        g_mutex_init(&pool.lock);
        g_cond_init(&pool.finished_cond);

        pool.running = n_jobs;
        for (guint i = 0; i < n_jobs; i++) {
                GThread *thread = g_thread_try_new("cleanup", worker, &pool, NULL);

                if (!thread) {
                        /* run with those we have */
                        g_mutex_lock(&pool.lock);
                        pool.running -= n_jobs - i;
                        g_mutex_unlock(&pool.lock);
                        break;
                }
                g_ptr_array_add(threads, thread);
        }
        if (threads->len == 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot start a worker thread");
                ok = FALSE;
                goto cleanup;
        }

        g_mutex_lock(&pool.lock);
        while (pool.running > 0) {
                gint64 deadline = g_get_monotonic_time() + PROGRESS_INTERVAL_US;

                if (!g_cond_wait_until(&pool.finished_cond, &pool.lock, deadline) && progress) {
                        g_mutex_unlock(&pool.lock);
                        progress((guint)g_atomic_int_get(&pool.done), leases->len,
                                 progress_data);
                        g_mutex_lock(&pool.lock);
                }
        }
        g_mutex_unlock(&pool.lock);
        if (progress)
                progress((guint)g_atomic_int_get(&pool.done), leases->len, progress_data);

        for (guint i = 0; i < threads->len; i++)
                g_thread_join(g_ptr_array_index(threads, i));

        ok = pool.error == NULL;
        if (pool.error)
                g_propagate_error(error, pool.error);

cleanup:
        g_cond_clear(&pool.finished_cond);
        g_mutex_clear(&pool.lock);
        return ok;
}
