/* vmlock-sanlock-cleanup: removing one lease file under its own lease.
 *
 * A guest start on another host may know the file (it stat()ed it, or its
 * daemon opened it) and be about to take its lease while we remove it. Two
 * guests must never hold "the" lease of one disk at once: one on the
 * removed inode and one on a new file created after it. So, holding the
 * lease:
 *   1. rename the file to a dot name: from now on a start finds no file
 *      and creates a fresh one (whose lease is independent and free);
 *   2. truncate it to zero bytes: sanlock reads the whole lease area before
 *      every ballot, so a daemon that still has the old inode open gets a
 *      short read and fails; no one can ever take the old lease again.
 *      (Clearing it with SANLK_WRITE_CLEAR instead would zero the ballot
 *      blocks, and a ballot in flight that saw them zeroed could then win
 *      the old inode.) A ballot that completed before the truncation can only
 *      have chosen us as owner, which paxos guarantees, so it fails too;
 *   3. unlink it, then release (which fails on the emptied file, as it
 *      should; the daemon drops the lease all the same).
 * Interrupted after 1, the dot name is left behind; the next run removes it.
 * A start racing with this sees the lease busy (held by us for a few ms),
 * the file missing, or a short read: all of them retryable. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"
#define _GNU_SOURCE /* O_DIRECT */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_damage.h"
#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_holder.h"
#include "drivers/sanlock/sanlock_lease.h"

#include "cleanup_lease.h"
#include "cleanup_scan.h"

/* TRUE when @path names the file open as @fd. */
static gboolean
same_file(int fd, const char *path)
{
        struct stat open_st, path_st;

        if (fstat(fd, &open_st) < 0 || lstat(path, &path_st) < 0)
                return FALSE;
        return open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino;
}

static char *
holder_reason(const struct sanlk_resource *res, const CleanupLeaseOptions *options,
              const CleanupOwner *owner)
{
        g_autofree char *holder = NULL;

        if (options->describe_holders)
                holder = vmlock_sanlock_holder_describe(res);
        if (holder)
                return g_strdup_printf("in use by %s", holder);
        if (owner)
                return g_strdup_printf("in use by host %" G_GUINT64_FORMAT, owner->owner_id);
        return g_strdup("in use by another host");
}

static char *
busy_reason(int rv, const struct sanlk_resource *res, const CleanupLeaseOptions *options)
{
        switch (rv) {
        case -EEXIST:
                return g_strdup("in use by another process on this host");
        case -EBUSY:
                return g_strdup("being locked by another process on this host right now");
        case -EAGAIN:
                return g_strdup("being released by this host's lock daemon right now");
        default:
                return holder_reason(res, options, NULL);
        }
}

/* A lease this host's daemon is taking (-EBUSY) or releasing (-EAGAIN) for
 * another process is in passing: asked again, for up to a second, it is
 * held (kept, its holder named) or free (removed). */
#define SETTLE_BUDGET_US G_USEC_PER_SEC
#define SETTLE_PAUSE_US 10000

/* OWNER_NOWAIT: a lease of a host that stopped renewing is refused at once
 * (kept, for a later run), instead of waiting minutes until that host
 * counts as dead. */
static int
acquire_settled(int sock, struct sanlk_resource *res)
{
        gint64 deadline = g_get_monotonic_time() + SETTLE_BUDGET_US;
        int rv;

        for (;;) {
                rv = sanlock_acquire(sock, -1, SANLK_ACQUIRE_OWNER_NOWAIT, 1, &res, NULL);
                if ((rv != -EBUSY && rv != -EAGAIN) || g_get_monotonic_time() >= deadline)
                        return rv;
                g_usleep(SETTLE_PAUSE_US);
        }
}

/* O_DIRECT, so that what another host wrote is read from the storage, not
 * from a stale cache; file systems without it are read through the cache. */
static int
open_lease(const char *path, gboolean dry_run)
{
        int flags = (dry_run ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC;
        int fd = open(path, flags | O_DIRECT);

        if (fd < 0 && errno == EINVAL)
                fd = open(path, flags);
        return fd;
}

/* Lets go of the lease; the daemon must not keep it, or every later
 * start on this host of the disk (whose new file has the same lease name)
 * would be refused. On a removed file the release itself fails. */
static gboolean
release(int *sock, struct sanlk_resource *res, GError **error)
{
        int count = 0;
        int rv;

        rv = sanlock_release(*sock, -1, 0, 1, &res);
        if (rv < 0)
                g_debug("release of %.48s: %d (expected for a removed file)", res->name, rv);
        rv = sanlock_inquire(*sock, -1, 0, &count, NULL);
        if (rv >= 0 && count == 0)
                return TRUE;

        /* Closing the connection makes the daemon drop whatever it holds. */
        g_debug("the daemon still holds %d leases for us (%d); reconnecting", count, rv);
        close(*sock);
        *sock = sanlock_register();
        if (*sock < 0) {
                VmlockSanlockErrorContext ctx = { .op = VMLOCK_SANLOCK_OP_CONNECT };

                vmlock_sanlock_set_error(error, *sock, &ctx);
                return FALSE;
        }
        return TRUE;
}

/* The file is ours while we hold the lease: take it away from the path,
 * empty it, remove it. Sets the outcome. */
static void
remove_held(const char *dir, int fd, const char *path, CleanupEntry *entry)
{
        g_autofree char *leftover_name = g_strconcat(".", entry->name, CLEANUP_LEFTOVER_SUFFIX,
                                                     NULL);
        g_autofree char *leftover = g_build_filename(dir, leftover_name, NULL);
        g_autofree char *note = NULL;

        if (rename(path, leftover) < 0) {
                int saved = errno;

                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("cannot rename it to %s: %s", leftover_name,
                                                  g_strerror(saved)));
                return;
        }
        if (ftruncate(fd, 0) < 0) {
                int saved = errno;

                /* Unlinked anyway: no start can reach it by name any more. */
                note = g_strdup_printf("removed, but it could not be emptied first: %s",
                                       g_strerror(saved));
        }
        /* ENOENT: a cleanup on another host took the leftover already */
        if (unlink(leftover) < 0 && errno != ENOENT) {
                int saved = errno;

                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("cannot remove it (as %s): %s", leftover_name,
                                                  g_strerror(saved)));
                return;
        }
        if (note)
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED, g_steal_pointer(&note));
        else
                cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
}

/* A damaged lease file (empty, truncated, zeroed: no lease sanlock can
 * read, so no acquire can prove it unused) is removed only when no host
 * can hold its lease:
 *   1. it was last written more than CLEANUP_ABANDONED_AGE_SECONDS ago: a
 *      libvirt host creates lease files in place (vmlock links them in
 *      whole), and writes one within seconds of creating it;
 *   2. no other host is alive in the lockspace: a host that held the lease
 *      when its file was damaged holds it still, and only its own daemon
 *      knows;
 *   3. this host's daemon does not hold it (an acquire says -EEXIST before
 *      it reads the file).
 * Otherwise it is reported as failed, with what to do. */
static void
remove_damaged(int sock, CleanupHosts *hosts, const CleanupLeaseOptions *options, int fd,
               const struct stat *st, const char *path, struct sanlk_resource *res,
               const char *damage, CleanupEntry *entry)
{
        gint64 age = options->now - (gint64)st->st_mtime;
        gint64 other;
        int rv;

        if (!options->remove_damaged) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("damaged: %s; no guest can take its lease "
                                                  "(--remove-damaged removes it once no host "
                                                  "can hold it)", damage));
                return;
        }
        if (age < CLEANUP_ABANDONED_AGE_SECONDS) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("damaged: %s; kept: written %" G_GINT64_FORMAT
                                                  " s ago, a host may be creating it (removed "
                                                  "once older than %d s)", damage, MAX(age, 0),
                                                  CLEANUP_ABANDONED_AGE_SECONDS));
                return;
        }
        other = cleanup_hosts_other_alive(hosts, options->host_id);
        if (other != 0) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  other < 0 ? g_strdup_printf("damaged: %s; kept: the lock "
                                                              "daemon cannot tell which hosts "
                                                              "are alive", damage)
                                            : g_strdup_printf(
                                                      "damaged: %s; kept: host %" G_GINT64_FORMAT
                                                      " is alive in the lockspace and may "
                                                      "hold its lease from before the damage; "
                                                      "remove it by hand once no guest on any "
                                                      "host uses its disk", damage, other));
                return;
        }
        rv = acquire_settled(sock, res);
        if (rv >= 0) {
                /* not damaged for sanlock after all: left for the next run */
                sanlock_release(sock, -1, 0, 1, &res);
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("damaged: %s; kept: sanlock could take its "
                                                  "lease all the same", damage));
                return;
        }
        if (vmlock_sanlock_rv_is_busy(rv)) {
                g_autofree char *why = busy_reason(rv, res, options);

                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("damaged: %s; kept: %s", damage, why));
                return;
        }
        if (!same_file(fd, path))
                cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE,
                                  g_strdup("removed or replaced by someone else meanwhile"));
        else if (options->dry_run)
                cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, g_strdup_printf("damaged: %s",
                                                                                   damage));
        else if (unlink(path) < 0)
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup_printf("damaged: %s; cannot remove it: %s", damage,
                                                  g_strerror(errno)));
        else
                cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, g_strdup_printf("damaged: %s",
                                                                                   damage));
}

gboolean
cleanup_lease_remove(int *sock, CleanupHosts *hosts, const CleanupLeaseOptions *options,
                     CleanupEntry *entry, GError **error)
{
        g_autofree char *damage = NULL;
        g_autofree char *path = g_build_filename(options->dir, entry->name, NULL);
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autoptr(GError) local_error = NULL;
        CleanupOwner owner;
        struct stat st;
        int fd;
        int rv;

        fd = open_lease(path, options->dry_run);
        if (fd < 0) {
                int saved = errno;

                if (saved == ENOENT)
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE,
                                          g_strdup("removed by someone else meanwhile"));
                else
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                          g_strdup_printf("cannot open it: %s",
                                                          g_strerror(saved)));
                return TRUE;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_SKIPPED,
                                  g_strdup("named like a disk lease, but not a regular file"));
                goto cleanup;
        }

        lease = vmlock_sanlock_lease_new(entry->name, VMLOCK_SANLOCK_DISK_LOCKSPACE, entry->name,
                                         path, 0, FALSE, &local_error);
        if (!lease) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                  g_strdup(local_error->message));
                goto cleanup;
        }

        damage = vmlock_sanlock_lease_file_damage(path, 0);
        if (damage) {
                remove_damaged(*sock, hosts, options, fd, &st, path, lease->res, damage, entry);
                goto cleanup;
        }

        if (cleanup_owner_read(fd, &owner) && cleanup_hosts_owner_alive(hosts, &owner)) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_KEPT,
                                  holder_reason(lease->res, options, &owner));
                goto cleanup;
        }

        rv = acquire_settled(*sock, lease->res);
        if (rv < 0) {
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_ACQUIRE,
                        .subject = "its lease",
                        .lockspace = VMLOCK_SANLOCK_DISK_LOCKSPACE,
                        .path = path,
                };

                if (!same_file(fd, path)) {
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE,
                                          g_strdup("removed or replaced by someone else "
                                                   "meanwhile"));
                } else if (vmlock_sanlock_rv_is_busy(rv)) {
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_KEPT,
                                          busy_reason(rv, lease->res, options));
                } else {
                        vmlock_sanlock_set_error(&local_error, rv, &ctx);
                        /* the same for every other file: stop here */
                        if (g_error_matches(local_error, VMLOCK_ERROR, VMLOCK_ERROR_DAEMON) ||
                            g_error_matches(local_error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE)) {
                                close(fd);
                                g_propagate_error(error, g_steal_pointer(&local_error));
                                return FALSE;
                        }
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                          g_strdup(local_error->message));
                }
                goto cleanup;
        }

        /* sanlock opened the path during the acquire; while we hold the
         * lease nobody replaces what the path names, so if it is our open
         * file now, it is the file whose lease we hold. */
        if (!same_file(fd, path))
                cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE,
                                  g_strdup("replaced by a new lease file meanwhile (left for "
                                           "the next run)"));
        else if (options->dry_run)
                cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
        else
                remove_held(options->dir, fd, path, entry);

        if (!release(sock, lease->res, error)) {
                close(fd);
                return FALSE;
        }

cleanup:
        close(fd);
        return TRUE;
}

void
cleanup_file_remove(const char *dir, CleanupEntry *entry, gboolean dry_run)
{
        g_autofree char *path = g_build_filename(dir, entry->name, NULL);
        int fd;

        if (dry_run) {
                cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
                return;
        }

        /* A leftover may still hold a lease that a daemon has open: empty it
         * first, as a removal in progress would have. */
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                if (ftruncate(fd, 0) < 0)
                        g_debug("cannot empty %s: %s", path, g_strerror(errno));
                close(fd);
        }
        if (unlink(path) < 0) {
                int saved = errno;

                if (saved == ENOENT)
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE,
                                          g_strdup("removed by someone else meanwhile"));
                else
                        cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED,
                                          g_strdup_printf("cannot remove it: %s",
                                                          g_strerror(saved)));
                return;
        }
        cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
}
