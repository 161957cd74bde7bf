/* vmlock sanlock driver: this host's membership of a lockspace and the health of its hosts. */
#pragma once

#include <glib.h>

#include <vmlock/lock-manager.h>

#include "drivers/sanlock/sanlock_config.h"

/* sanlock's watchdog_fire_timeout default: a host that stopped renewing is
 * dead 8 * io_timeout + this many seconds after its last renewal. */
#define VMLOCK_SANLOCK_WATCHDOG_FIRE_TIMEOUT 60
/* the daemon's io_timeout when none is configured */
#define VMLOCK_SANLOCK_DEFAULT_IO_TIMEOUT 10

/* Seconds after its last renewal a host using @io_timeout counts as dead. */
guint vmlock_sanlock_host_dead_seconds(guint io_timeout);

/* This host's status in the disk lockspace of @config (never joins, creates
 * nothing). */
gboolean vmlock_sanlock_lockspace_status(const VmlockSanlockConfig *config,
                                         VmlockLockspaceStatus **ret_status, GError **error);

/* Leaves the disk lockspace of @config; @flags: VmlockLockspaceLeaveFlags. */
gboolean vmlock_sanlock_lockspace_leave(const VmlockSanlockConfig *config, unsigned int flags,
                                        GError **error);

/* The hosts seen in @lockspace (VmlockHostInfo *, by host id) by this host's
 * daemon; @path: the lockspace file, for host names (NULL: ask the daemon).
 * VMLOCK_ERROR_LOCKSPACE when this host has not joined it. */
gboolean vmlock_sanlock_hosts_list(const char *lockspace, const char *path,
                                   GPtrArray **ret_hosts, GError **error);

/* One host of @lockspace, as vmlock_sanlock_hosts_list() describes it, or
 * NULL when the daemon does not know it (not joined, or never seen). */
VmlockHostInfo *vmlock_sanlock_host_get(const char *lockspace, const char *path,
                                        guint64 host_id);

/* ", which stopped renewing 95 s ago; its lease can be taken in about 45 s"
 * for a failing or dead @host, "" for a live one. */
char *vmlock_sanlock_host_health_words(const VmlockHostInfo *host);
