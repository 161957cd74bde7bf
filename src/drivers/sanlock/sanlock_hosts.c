/* vmlock sanlock driver: this host's membership of a lockspace and the health of its hosts.
 *
 * The state of each host (live, fail, dead...) comes from sanlock_get_hosts().
 * What libsanlock 3.8.5 does not return, the daemon still tells its own
 * client: when it last saw each host renew (`sanlock client host_status -D`,
 * last_live, in this machine's CLOCK_MONOTONIC seconds, like the daemon's)
 * and how long this host's own renewals took (`sanlock client renewal`).
 * Both are asked of the sanlock command; without it those fields are unknown.
 */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_holder.h"
#include "drivers/sanlock/sanlock_hosts.h"
#include "drivers/sanlock/sanlock_lockspace.h"
#include "util/log.h"

/* sanlock_get_hosts() retries while the host table is being filled. */
#define GET_HOSTS_ATTEMPTS 50
#define GET_HOSTS_PAUSE_US (100 * 1000)

/* What the daemon's renewal history says of this host's own renewals. */
typedef struct {
        guint64 last;            /* monotime of the last successful renewal, 0 unknown */
        gint64 latency_ms;       /* its read + write time, or VMLOCK_UNKNOWN */
        guint failures;          /* failed attempts in the history */
} Renewals;

/* What the daemon's host_status -D says of one host. */
typedef struct {
        guint64 last_live; /* daemon monotime when it last saw the host renew, 0 unknown */
        char *owner_name;
} HostDebug;

static void
host_debug_free(gpointer data)
{
        HostDebug *debug = data;

        g_free(debug->owner_name);
        g_free(debug);
}

guint
vmlock_sanlock_host_dead_seconds(guint io_timeout)
{
        return 8 * io_timeout + VMLOCK_SANLOCK_WATCHDOG_FIRE_TIMEOUT;
}

/* CLOCK_MONOTONIC in seconds: the daemon's clock (sanlock's monotime()). */
static gint64
monotime(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

static char *
find_sanlock_command(void)
{
        char *path = g_find_program_in_path("sanlock");

        if (path)
                return path;
        /* root's PATH has sbin; a user's may not */
        if (g_file_test("/usr/sbin/sanlock", G_FILE_TEST_IS_EXECUTABLE))
                return g_strdup("/usr/sbin/sanlock");
        if (g_file_test("/sbin/sanlock", G_FILE_TEST_IS_EXECUTABLE))
                return g_strdup("/sbin/sanlock");
        return NULL;
}

/* stdout of `sanlock client ARGS...` (with this process's SANLOCK_RUN_DIR),
 * or NULL when it cannot be had: the callers then leave fields unknown. */
static char *
sanlock_client_output(const char *const *args)
{
        g_autofree char *command = find_sanlock_command();
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        int status = 0;

        if (!command) {
                g_debug("no sanlock command: renewal times unknown");
                return NULL;
        }
        g_ptr_array_add(argv, command);
        g_ptr_array_add(argv, (gpointer) "client");
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);

        if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                          G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_CLOEXEC_PIPES, NULL, NULL, &out,
                          NULL, &status, &error) ||
            !g_spawn_check_wait_status(status, &error)) {
                g_debug("sanlock client %s: %s", args[0], error->message);
                return NULL;
        }
        return g_steal_pointer(&out);
}

/* host_status -D: "ID timestamp T" lines, each followed by indented
 * "key=value" lines. host id -> HostDebug. */
static GHashTable *
read_host_debug(const char *lockspace)
{
        const char *args[] = { "host_status", "-s", lockspace, "-D", NULL };
        g_autofree char *out = sanlock_client_output(args);
        GHashTable *table = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                  host_debug_free);
        g_auto(GStrv) lines = NULL;
        HostDebug *current = NULL;

        if (!out)
                return table;
        lines = g_strsplit(out, "\n", -1);
        for (char **line = lines; *line; line++) {
                const char *text = g_strstrip(*line);
                guint64 id, timestamp;

                if (!*text)
                        continue;
                if (sscanf(text, "%" G_GUINT64_FORMAT " timestamp %" G_GUINT64_FORMAT, &id,
                           &timestamp) == 2) {
                        gint64 *key = g_new(gint64, 1);

                        *key = (gint64)id;
                        current = g_new0(HostDebug, 1);
                        g_hash_table_replace(table, key, current);
                } else if (current && g_str_has_prefix(text, "last_live=")) {
                        current->last_live = g_ascii_strtoull(text + strlen("last_live="),
                                                              NULL, 10);
                } else if (current && g_str_has_prefix(text, "owner_name=")) {
                        const char *name = text + strlen("owner_name=");

                        g_free(current->owner_name);
                        current->owner_name = *name ? g_strdup(name) : NULL;
                }
        }
        return table;
}

/* The daemon's renewal history ("timestamp=T read_ms=R write_ms=W
 * next_timeouts=N next_errors=E" per successful renewal, oldest first): its
 * own renewals are exact there, while its host table is only refreshed
 * every few seconds. */
static Renewals
read_renewals(const char *lockspace)
{
        const char *args[] = { "renewal", "-s", lockspace, NULL };
        g_autofree char *out = sanlock_client_output(args);
        Renewals renewals = { .latency_ms = VMLOCK_UNKNOWN };
        g_auto(GStrv) lines = NULL;

        if (!out)
                return renewals;
        lines = g_strsplit(out, "\n", -1);
        for (char **line = lines; *line; line++) {
                guint64 timestamp;
                guint read_ms, write_ms, timeouts, errors;

                if (sscanf(*line, "timestamp=%" G_GUINT64_FORMAT " read_ms=%u write_ms=%u "
                           "next_timeouts=%u next_errors=%u", &timestamp, &read_ms, &write_ms,
                           &timeouts, &errors) != 5)
                        continue;
                renewals.last = timestamp;
                renewals.latency_ms = (gint64)read_ms + write_ms;
                renewals.failures += timeouts + errors;
        }
        return renewals;
}

static VmlockHostState
host_state(guint32 flags)
{
        switch (flags & SANLK_HOST_MASK) {
        case SANLK_HOST_FREE:
                return VMLOCK_HOST_FREE;
        case SANLK_HOST_LIVE:
                return VMLOCK_HOST_LIVE;
        case SANLK_HOST_FAIL:
                return VMLOCK_HOST_FAIL;
        case SANLK_HOST_DEAD:
                return VMLOCK_HOST_DEAD;
        default:
                return VMLOCK_HOST_UNKNOWN;
        }
}

/* The lockspace as this host's daemon joined it (for our host id and the
 * file), or FALSE when it has not. */
static gboolean
find_joined(const char *lockspace, struct sanlk_lockspace *ret_ls)
{
        struct sanlk_lockspace *spaces = NULL;
        int n = 0;
        gboolean found = FALSE;

        if (sanlock_get_lockspaces(&spaces, &n, 0) < 0)
                return FALSE;
        for (int i = 0; i < n; i++) {
                if (strncmp(spaces[i].name, lockspace, SANLK_NAME_LEN) == 0 &&
                    !(spaces[i].flags & (SANLK_LSF_ADD | SANLK_LSF_REM))) {
                        *ret_ls = spaces[i];
                        found = TRUE;
                        break;
                }
        }
        free(spaces);
        return found;
}

static VmlockHostInfo *
host_info_new(const struct sanlk_host *h, const struct sanlk_lockspace *ls,
              GHashTable *debug, const Renewals *own, gint64 now)
{
        VmlockHostInfo *info = g_new0(VmlockHostInfo, 1);
        gint64 key = (gint64)h->host_id;
        const HostDebug *d = debug ? g_hash_table_lookup(debug, &key) : NULL;

        info->host_id = h->host_id;
        info->generation = h->generation;
        info->state = host_state(h->flags);
        info->self = ls && ls->host_id == h->host_id;
        info->io_timeout = h->io_timeout ? h->io_timeout : VMLOCK_SANLOCK_DEFAULT_IO_TIMEOUT;
        if (ls)
                info->name = vmlock_sanlock_holder_host_name(ls, h->host_id);
        if (!info->name && d && d->owner_name)
                info->name = g_strdup(d->owner_name);

        info->renewal_age = VMLOCK_UNKNOWN;
        if (info->self && own && own->last)
                info->renewal_age = MAX(0, now - (gint64)own->last);
        else if (info->self && h->timestamp)
                /* our own delta lease carries our own clock */
                info->renewal_age = MAX(0, now - (gint64)h->timestamp);
        else if (d && d->last_live)
                info->renewal_age = MAX(0, now - (gint64)d->last_live);

        info->dead_in = VMLOCK_UNKNOWN;
        if (info->state == VMLOCK_HOST_DEAD) {
                info->dead_in = 0;
        } else if (info->state == VMLOCK_HOST_FAIL && info->renewal_age != VMLOCK_UNKNOWN) {
                gint64 dead = vmlock_sanlock_host_dead_seconds(info->io_timeout);

                info->dead_in = MAX(0, dead - info->renewal_age);
        }
        return info;
}

static gint
compare_host_id(gconstpointer a, gconstpointer b)
{
        const VmlockHostInfo *ha = *(VmlockHostInfo *const *)a;
        const VmlockHostInfo *hb = *(VmlockHostInfo *const *)b;

        return ha->host_id < hb->host_id ? -1 : ha->host_id > hb->host_id;
}

static void
set_not_joined_error(GError **error, const char *lockspace)
{
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                    "this host has not joined lockspace %s: only a member sees the other "
                    "hosts renew (vmlock lockspace join)", lockspace);
}

gboolean
vmlock_sanlock_hosts_list(const char *lockspace, const char *path, GPtrArray **ret_hosts,
                          GError **error)
{
        g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(
                (GDestroyNotify)vmlock_host_info_free);
        g_autoptr(GHashTable) debug = NULL;
        struct sanlk_lockspace ls = { 0 };
        struct sanlk_host *hss = NULL;
        Renewals own;
        int n = 0;
        int rv;
        gint64 now;

        VMLOCK_TRACE("lockspace=%s path=%s", lockspace, VMLOCK_NULLSTR(path));

        if (!vmlock_sanlock_daemon_check(error))
                return FALSE;
        if (!find_joined(lockspace, &ls)) {
                set_not_joined_error(error, lockspace);
                return FALSE;
        }
        if (path && !*ls.host_id_disk.path)
                g_strlcpy(ls.host_id_disk.path, path, sizeof(ls.host_id_disk.path));

        /* Right after a join the daemon answers -EAGAIN until its host
         * table is filled, a moment later. */
        for (int attempt = 0;; attempt++) {
                rv = sanlock_get_hosts(lockspace, 0, &hss, &n, 0);
                if (rv != -EAGAIN || attempt >= GET_HOSTS_ATTEMPTS)
                        break;
                free(hss);
                hss = NULL;
                g_usleep(GET_HOSTS_PAUSE_US);
        }
        if (rv == -EAGAIN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "this host is still joining (or leaving) lockspace %s: its list "
                            "of hosts is not ready yet, try again in a moment", lockspace);
                return FALSE;
        }
        if (rv == -ENOENT) {
                free(hss);
                set_not_joined_error(error, lockspace);
                return FALSE;
        }
        if (rv < 0) {
                g_autofree char *subject = g_strdup_printf("the hosts of lockspace %s",
                                                           lockspace);
                free(hss);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_DAEMON,
                            "cannot list %s: %s (sanlock error %d)", subject,
                            rv <= -200 ? sanlock_strerror(rv) : g_strerror(-rv), rv);
                return FALSE;
        }

        debug = read_host_debug(lockspace);
        own = read_renewals(lockspace);
        now = monotime();
        for (int i = 0; i < n; i++)
                g_ptr_array_add(hosts, host_info_new(&hss[i], &ls, debug, &own, now));
        free(hss);
        g_ptr_array_sort(hosts, compare_host_id);
        *ret_hosts = g_steal_pointer(&hosts);
        return TRUE;
}

VmlockHostInfo *
vmlock_sanlock_host_get(const char *lockspace, const char *path, guint64 host_id)
{
        g_autoptr(GHashTable) debug = NULL;
        struct sanlk_lockspace ls = { 0 };
        struct sanlk_host *hss = NULL;
        VmlockHostInfo *info = NULL;
        int n = 0;

        VMLOCK_TRACE("lockspace=%s path=%s host_id=%" G_GUINT64_FORMAT, lockspace,
                     VMLOCK_NULLSTR(path), host_id);

        if (!find_joined(lockspace, &ls))
                return NULL;
        if (path && !*ls.host_id_disk.path)
                g_strlcpy(ls.host_id_disk.path, path, sizeof(ls.host_id_disk.path));
        if (sanlock_get_hosts(lockspace, host_id, &hss, &n, 0) < 0 || n < 1) {
                free(hss);
                return NULL;
        }
        /* the daemon's view of when it last saw renewals matters only then */
        if (host_state(hss[0].flags) != VMLOCK_HOST_LIVE)
                debug = read_host_debug(lockspace);
        info = host_info_new(&hss[0], &ls, debug, NULL, monotime());
        free(hss);
        return info;
}

char *
vmlock_sanlock_host_health_words(const VmlockHostInfo *host)
{
        g_autofree char *since = NULL;

        if (host->renewal_age != VMLOCK_UNKNOWN)
                since = g_strdup_printf(" %" G_GINT64_FORMAT " s ago", host->renewal_age);

        switch (host->state) {
        case VMLOCK_HOST_FAIL:
                if (host->dead_in != VMLOCK_UNKNOWN)
                        return g_strdup_printf(", which stopped renewing%s; its lease can be "
                                               "taken in about %" G_GINT64_FORMAT " s",
                                               since ? since : "", host->dead_in);
                return g_strdup_printf(", which stopped renewing; its lease can be taken "
                                       "once it has not renewed for %u s",
                                       vmlock_sanlock_host_dead_seconds(host->io_timeout));
        case VMLOCK_HOST_DEAD:
                return g_strdup_printf(", which stopped renewing%s and counts as dead: its "
                                       "lease can be taken now", since ? since : "");
        case VMLOCK_HOST_UNKNOWN:
                return g_strdup(", whose renewals this host has not watched long enough to "
                                "tell whether it is alive");
        default:
                return g_strdup("");
        }
}

/* ---- this host --------------------------------------------------------------- */

gboolean
vmlock_sanlock_lockspace_status(const VmlockSanlockConfig *config,
                                VmlockLockspaceStatus **ret_status, GError **error)
{
        g_autoptr(VmlockLockspaceStatus) status = g_new0(VmlockLockspaceStatus, 1);
        struct sanlk_lockspace ls = { 0 };
        int rv;

        VMLOCK_TRACE("config=%s", config->filename);

        status->lockspace = g_strdup(VMLOCK_SANLOCK_DISK_LOCKSPACE);
        status->path = g_build_filename(config->disk_lease_dir, VMLOCK_SANLOCK_DISK_LOCKSPACE,
                                        NULL);
        status->host_id = config->host_id;
        status->io_timeout = config->io_timeout ? config->io_timeout
                                                : VMLOCK_SANLOCK_DEFAULT_IO_TIMEOUT;
        status->renewal_age = VMLOCK_UNKNOWN;
        status->renewal_latency_ms = VMLOCK_UNKNOWN;

        if (!vmlock_sanlock_daemon_check(error))
                return FALSE;

        g_strlcpy(ls.name, VMLOCK_SANLOCK_DISK_LOCKSPACE, sizeof(ls.name));
        ls.host_id = config->host_id;
        g_strlcpy(ls.host_id_disk.path, status->path, sizeof(ls.host_id_disk.path));
        rv = sanlock_inq_lockspace(&ls, 0);
        status->joined = rv == 0;
        status->joining = rv == -EINPROGRESS || rv == -EAGAIN;
        g_debug("inq_lockspace %s host_id %u: %d", ls.name, config->host_id, rv);

        if (status->joined) {
                g_autoptr(VmlockHostInfo) self = NULL;
                Renewals own = read_renewals(VMLOCK_SANLOCK_DISK_LOCKSPACE);

                self = vmlock_sanlock_host_get(VMLOCK_SANLOCK_DISK_LOCKSPACE, status->path,
                                               config->host_id);
                if (self) {
                        status->renewal_age = self->renewal_age;
                        status->host_name = g_steal_pointer(&self->name);
                        status->io_timeout = self->io_timeout;
                }
                if (own.last)
                        status->renewal_age = MAX(0, monotime() - (gint64)own.last);
                status->renewal_latency_ms = own.latency_ms;
                status->renewal_failures = own.failures;
        }
        *ret_status = g_steal_pointer(&status);
        return TRUE;
}

gboolean
vmlock_sanlock_lockspace_leave(const VmlockSanlockConfig *config, unsigned int flags,
                               GError **error)
{
        g_autofree char *path = g_build_filename(config->disk_lease_dir,
                                                 VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);
        struct sanlk_lockspace ls = { 0 };
        gboolean force = (flags & VMLOCK_LOCKSPACE_LEAVE_FORCE) != 0;
        int rv;

        VMLOCK_TRACE("config=%s flags=0x%x", config->filename, flags);

        if (!vmlock_sanlock_daemon_check(error))
                return FALSE;
        g_strlcpy(ls.name, VMLOCK_SANLOCK_DISK_LOCKSPACE, sizeof(ls.name));
        ls.host_id = config->host_id;
        g_strlcpy(ls.host_id_disk.path, path, sizeof(ls.host_id_disk.path));

        /* Without force, the daemon refuses while leases are held in it;
         * with it, the daemon kills their holders. */
        rv = sanlock_rem_lockspace(&ls, force ? 0 : SANLK_REM_UNUSED);
        if (rv == 0 || rv == -ENOENT)
                return TRUE;
        if (rv == -EBUSY) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                            "cannot leave lockspace %s: processes of this host hold leases "
                            "in it; stop them first, or leave by force, which kills them",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE);
                return FALSE;
        }
        if (rv == -EINPROGRESS) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "cannot leave lockspace %s: it is being left already",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE);
                return FALSE;
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                    "cannot leave lockspace %s (%s) as host_id %u: %s (sanlock error %d)",
                    VMLOCK_SANLOCK_DISK_LOCKSPACE, path, config->host_id,
                    rv <= -200 ? sanlock_strerror(rv) : g_strerror(-rv), rv);
        return FALSE;
}
