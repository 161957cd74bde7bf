/* vmlock-sanlock-cleanup: who holds a lease, read from its file, and whether that host lives.
 *
 * Most lease files of a busy directory belong to running guests. Asking the
 * daemon to acquire one only to be refused costs it ~1.4 ms of work shared
 * with the guests' own starts; reading the leader record costs one small read
 * of our own. A lease found held by a live host is kept without an acquire;
 * anything else (free, shared, a dead or unknown owner, unreadable) goes to
 * the acquire, which alone can tell it is unused. Keeping is always safe. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include "cleanup_owner.h"

/* sanlock's paxos leader record, little-endian, at offset 0 of the lease */
#define LEADER_MAGIC 0x06152010u
#define LEADER_MAGIC_OFFSET 0
#define LEADER_OWNER_ID_OFFSET 32
#define LEADER_OWNER_GENERATION_OFFSET 40
#define LEADER_TIMESTAMP_OFFSET 152
#define LEADER_SIZE 512
/* O_DIRECT wants aligned buffers; 4 KiB suits every sector size */
#define READ_SIZE 4096

#define HOSTS_MAX_AGE_US G_USEC_PER_SEC

struct _CleanupHosts {
        char *lockspace;
        struct sanlk_host *hosts;       /* malloc()ed by libsanlock */
        int n_hosts;
        gint64 fetched;                 /* monotonic time; 0 = never */
        gboolean valid;
};

static guint64
get_le64(const guint8 *buf, gsize offset)
{
        guint64 value;

        memcpy(&value, buf + offset, sizeof(value));
        return GUINT64_FROM_LE(value);
}

gboolean
cleanup_owner_read(int fd, CleanupOwner *ret_owner)
{
        guint8 *buf = NULL;
        guint32 magic;
        ssize_t got;
        gboolean held = FALSE;

        if (posix_memalign((void **)&buf, READ_SIZE, READ_SIZE) != 0)
                return FALSE;
        do {
                got = pread(fd, buf, READ_SIZE, 0);
        } while (got < 0 && errno == EINTR);

        if (got >= LEADER_SIZE) {
                memcpy(&magic, buf + LEADER_MAGIC_OFFSET, sizeof(magic));
                /* a free lease has a zero timestamp; shared holders show in
                 * the mode blocks only, which the acquire checks */
                if (GUINT32_FROM_LE(magic) == LEADER_MAGIC &&
                    get_le64(buf, LEADER_TIMESTAMP_OFFSET) != 0) {
                        ret_owner->owner_id = get_le64(buf, LEADER_OWNER_ID_OFFSET);
                        ret_owner->owner_generation = get_le64(buf,
                                                               LEADER_OWNER_GENERATION_OFFSET);
                        held = TRUE;
                }
        }
        free(buf);
        return held;
}

CleanupHosts *
cleanup_hosts_new(const char *lockspace)
{
        CleanupHosts *hosts = g_new0(CleanupHosts, 1);

        hosts->lockspace = g_strdup(lockspace);
        return hosts;
}

void
cleanup_hosts_free(CleanupHosts *hosts)
{
        if (!hosts)
                return;
        free(hosts->hosts);
        g_free(hosts->lockspace);
        g_free(hosts);
}

static void
refresh(CleanupHosts *hosts)
{
        gint64 now = g_get_monotonic_time();
        int rv;

        if (hosts->fetched && now - hosts->fetched < HOSTS_MAX_AGE_US)
                return;
        free(hosts->hosts);
        hosts->hosts = NULL;
        hosts->n_hosts = 0;
        rv = sanlock_get_hosts(hosts->lockspace, 0, &hosts->hosts, &hosts->n_hosts, 0);
        hosts->valid = rv >= 0;
        if (!hosts->valid)
                g_debug("cannot list the hosts of %s: %d", hosts->lockspace, rv);
        hosts->fetched = now;
}

gboolean
cleanup_hosts_owner_alive(CleanupHosts *hosts, const CleanupOwner *owner)
{
        refresh(hosts);
        if (!hosts->valid)
                return FALSE;
        for (int i = 0; i < hosts->n_hosts; i++) {
                const struct sanlk_host *host = &hosts->hosts[i];

                if (host->host_id != owner->owner_id)
                        continue;
                /* a newer generation: the owner restarted since, and no
                 * longer holds what it held before */
                if (host->generation != owner->owner_generation)
                        return FALSE;
                switch (host->flags & SANLK_HOST_MASK) {
                case SANLK_HOST_LIVE:
                case SANLK_HOST_FAIL:
                case SANLK_HOST_UNKNOWN:
                        return TRUE;
                default:
                        return FALSE;
                }
        }
        /* never seen alive */
        return FALSE;
}

gint64
cleanup_hosts_other_alive(CleanupHosts *hosts, guint64 self_id)
{
        refresh(hosts);
        if (!hosts->valid)
                return -1;
        for (int i = 0; i < hosts->n_hosts; i++) {
                const struct sanlk_host *host = &hosts->hosts[i];

                if (host->host_id == self_id)
                        continue;
                switch (host->flags & SANLK_HOST_MASK) {
                case SANLK_HOST_LIVE:
                case SANLK_HOST_FAIL:
                case SANLK_HOST_UNKNOWN:
                        return (gint64)host->host_id;
                default:
                        break;
                }
        }
        return 0;
}
