/* vmlock: telling systemd the guest is up (Type=notify units).
 *
 * vmlock@.service runs `vmlock start` in the foreground as its main
 * process; systemd counts the unit started when it says READY=1, which it
 * does once the guest runs under its leases: after they were taken and the
 * program executed (QEMU greeted its monitor). Without $NOTIFY_SOCKET
 * nothing is sent.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* READY=1, with a STATUS= line naming guest @name, its @pid and whether it
 * runs under its leases or waits paused (start --paused, --incoming). */
void service_notify_ready(const char *name, pid_t pid, gboolean paused);

G_END_DECLS
