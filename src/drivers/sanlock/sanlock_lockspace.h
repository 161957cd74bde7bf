/* vmlock sanlock driver: the automatic disk leases' lockspace. */
#pragma once

#include <glib.h>

#include <vmlock/lock-manager.h>

#include "drivers/sanlock/sanlock_config.h"

/* Fails with VMLOCK_ERROR_DAEMON when the sanlock daemon can't be reached. */
gboolean vmlock_sanlock_daemon_check(GError **error);

/* Makes sure <disk_lease_dir>/__LIBVIRT__DISKS__ exists, initialised (created
 * race-safely when missing), and that this host has joined it as host_id.
 * Already joined costs one daemon call; joining takes ~2 x io_timeout
 * (20 s by default), reported through @progress every few seconds. */
gboolean vmlock_sanlock_lockspace_setup(const VmlockSanlockConfig *config,
                                        VmlockProgressFunc progress, gpointer progress_data,
                                        GError **error);
