/* vmlock-sanlock-cleanup: removing one lease file under its own lease. */
#pragma once

#include <glib.h>

#include "cleanup_entry.h"
#include "cleanup_owner.h"

G_BEGIN_DECLS

typedef struct {
        const char *dir;                /* the lease directory */
        gboolean dry_run;               /* release instead of removing */
        gboolean describe_holders;      /* name the holders of kept leases (a read each) */
        gboolean remove_damaged;        /* also damaged files no host can hold */
        guint64 host_id;                /* this host's, in the lockspace */
        gint64 now;                     /* wall clock seconds, for a file's age */
} CleanupLeaseOptions;

/* Decides the fate of the lease file @entry and records it in @entry: when
 * this host can take its lease exclusively, no guest on any host uses it,
 * and the file is removed while the lease is held (with dry_run, only
 * released). A lease whose file says a live host holds it is kept without
 * asking. A damaged file (no lease sanlock can read) is reported as failed,
 * and with remove_damaged removed when no host can hold its lease (see
 * remove_damaged() in the .c file for the rule). *@sock is a connection registered with sanlock_register() and
 * @hosts a host cache, both of the calling thread; *@sock may be replaced.
 * Returns FALSE only when nothing more can be done (the daemon is gone,
 * the lockspace was left), with @error; @entry then stays PENDING. */
gboolean cleanup_lease_remove(int *sock, CleanupHosts *hosts, const CleanupLeaseOptions *options,
                              CleanupEntry *entry, GError **error);

/* Removes a leftover of an interrupted cleanup or an abandoned temporary
 * file (no lease to take: no start can find them by name). */
void cleanup_file_remove(const char *dir, CleanupEntry *entry, gboolean dry_run);

G_END_DECLS
