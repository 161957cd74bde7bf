/* vmlock: telling systemd the guest is up (Type=notify units). */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "supervisor/service_notify.h"

void
service_notify_ready(const char *name, pid_t pid, gboolean paused)
{
#ifdef HAVE_LIBSYSTEMD
        int rv;

        /* Kept in the environment: nothing else of ours reads it, and the
         * guest, executed already, has its own copy. */
        rv = sd_notifyf(0, "READY=1\nSTATUS=guest %s (pid %d) %s", name, (int)pid,
                        paused ? "is paused, waiting for `vmlock resume`"
                               : "runs under its leases");
        g_debug("sd_notify READY=1 for guest '%s': %d", name, rv);
#else
        g_debug("built without libsystemd: no READY=1 for guest '%s' (pid %d, %s)", name,
                (int)pid, paused ? "paused" : "running");
#endif
}
