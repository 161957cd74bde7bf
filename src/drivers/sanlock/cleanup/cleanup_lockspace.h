/* vmlock-sanlock-cleanup: is this host in the disk leases' lockspace? */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Succeeds when the local sanlock daemon has joined __LIBVIRT__DISKS__
 * from <lease_dir>/__LIBVIRT__DISKS__. A lease is only known unused when
 * every host using it is in that lockspace: one joined from another file
 * would see the owners of these leases as dead hosts. Errors:
 * VMLOCK_ERROR_DAEMON (no daemon) or VMLOCK_ERROR_LOCKSPACE, saying what to do. */
gboolean cleanup_lockspace_check(const char *lease_dir, GError **error);

G_END_DECLS
