/* vmlock sanlock driver: naming the hosts that hold a lease. */
#pragma once

#include <stdint.h>

#include <glib.h>
#include <sanlock.h>

/* "host 2 (node-b)" for each host holding @res, "host 1 (node-a, this
 * host)" for this one, joined with ", "; NULL when no holder can be read.
 * Host names are the sanlock daemons' -e names, read from the hosts'
 * records in the lockspace file. Costs a few hundred microseconds: for
 * error messages only. */
char *vmlock_sanlock_holder_describe(const struct sanlk_resource *res);

/* A holder that stopped renewing gets its countdown: "host 3 (node-c), which
 * stopped renewing 95 s ago; its lease can be taken in about 45 s".
 * The same, telling a free lease from an unreadable one: returns 0 with
 * *ret_holders NULL when nobody holds @res, or the holders named as above
 * and *ret_shared TRUE when they share it; or sanlock's negative error
 * (nothing set). @lockspace_path (may be NULL): where to read host names
 * when this host has not joined the lease's lockspace. */
int vmlock_sanlock_holder_read(const struct sanlk_resource *res, const char *lockspace_path,
                               char **ret_holders, gboolean *ret_shared);

/* The hosts holding @res now (VmlockDiskHolder each: id, name from the
 * lockspace's host records, whether it is this host), as
 * vmlock_sanlock_holder_read() finds them; an empty array when free. Returns
 * 0 or sanlock's error. */
int vmlock_sanlock_holder_list(const struct sanlk_resource *res, const char *lockspace_path,
                               GPtrArray **ret_holders, gboolean *ret_shared);

/* Reads @res's lease as it is on disk now: *@ret_now is a copy of @res
 * (g_free) with the version on disk and SANLK_RES_SHARED when hosts share
 * it, *@ret_owners (free()) its @ret_n_owners holders (none: free). Returns
 * 0, or sanlock's negative error with nothing set. */
int vmlock_sanlock_holder_owners(const struct sanlk_resource *res,
                                 struct sanlk_resource **ret_now,
                                 struct sanlk_host **ret_owners, int *ret_n_owners);

/* The name host @host_id wrote in its record of lockspace @ls (read from
 * ls->host_id_disk), or NULL. */
char *vmlock_sanlock_holder_host_name(const struct sanlk_lockspace *ls, guint64 host_id);
