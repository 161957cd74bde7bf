/* vmlock: stopping a guest for good: ask it to shut down, kill it if it
 * does not within a bound.
 *
 * A QEMU guest gets the ACPI power button (QMP system_powerdown), so its OS
 * shuts down cleanly; any other program gets SIGTERM. Whatever the guest
 * does with the request, it is killed (SIGKILL) once the timeout passes:
 * a stop always ends in a guest that is gone. The supervisor then sees the
 * guest exit and waits, as for any end, until the lock daemon wrote the
 * release of its leases.
 */
#pragma once

#include <sys/types.h>

#include "qemu/qemu_monitor.h"

G_BEGIN_DECLS

/* How long a guest gets to shut down by itself when the caller names no
 * timeout: a minute is plenty for an OS that heeds the power button, and
 * under systemd's default stop timeout (90 s) with room for the release. */
#define GUEST_STOP_DEFAULT_TIMEOUT_S 60

typedef struct GuestStop GuestStop;

/* For guest @name, process @pid (not taken). */
GuestStop *guest_stop_new(const char *name, pid_t pid);
void guest_stop_free(GuestStop *stop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestStop, guest_stop_free)

typedef struct {
        QemuMonitor *monitor; /* QEMU's, or NULL: not QEMU */
        gboolean exec_pending; /* a program started --paused, not yet executed */
        gboolean stopped;      /* a program stopped by SIGSTOP (pause) */
        guint timeout_s;       /* 0: kill at once */
} GuestStopRequest;

/* Asks the guest to shut down and arms the kill. Asked again, the request
 * is repeated and the earlier of the two deadlines holds. A program that
 * never ran, or a timeout of 0, is killed at once. Fails only when the
 * guest can be neither asked nor killed. */
gboolean guest_stop_request(GuestStop *stop, const GuestStopRequest *request, GError **error);

G_END_DECLS
