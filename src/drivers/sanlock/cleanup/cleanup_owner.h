/* vmlock-sanlock-cleanup: who holds a lease, read from its file, and whether that host lives. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        guint64 owner_id;               /* the holder's host id */
        guint64 owner_generation;       /* its generation in the lockspace */
} CleanupOwner;

/* Reads the paxos leader record at the start of the lease file @fd. TRUE,
 * with the owner, when it says the lease is held exclusively; FALSE when it
 * is free, held shared only, or unreadable: then only an acquire can tell. */
gboolean cleanup_owner_read(int fd, CleanupOwner *ret_owner);

/* The lockspace's hosts as the local daemon sees them, asked again when a
 * second old. One per thread. */
typedef struct _CleanupHosts CleanupHosts;

CleanupHosts *cleanup_hosts_new(const char *lockspace);
void cleanup_hosts_free(CleanupHosts *hosts);
/* TRUE when host @owner's generation is alive, failing or not yet known:
 * its lease is in use, and an acquire would be refused (or wait). */
gboolean cleanup_hosts_owner_alive(CleanupHosts *hosts, const CleanupOwner *owner);

/* The id of a host other than @self_id that is alive, failing or not yet
 * known in the lockspace (one that may hold leases), or 0 if there is none.
 * -1 when the daemon cannot tell. */
gint64 cleanup_hosts_other_alive(CleanupHosts *hosts, guint64 self_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CleanupHosts, cleanup_hosts_free)

G_END_DECLS
