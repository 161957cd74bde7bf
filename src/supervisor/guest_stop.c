/* vmlock: stopping a guest for good: ask it to shut down, kill it if it
 * does not within a bound. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <errno.h>
#include <signal.h>

#include <vmlock/error.h>

#include "qemu/qemu_vm.h"
#include "supervisor/guest_stop.h"

struct GuestStop {
        char *name;
        pid_t pid;
        guint kill_timer;
        gint64 deadline; /* monotonic, µs; 0: no stop asked */
};

GuestStop *
guest_stop_new(const char *name, pid_t pid)
{
        GuestStop *stop = g_new0(GuestStop, 1);

        stop->name = g_strdup(name);
        stop->pid = pid;
        return stop;
}

void
guest_stop_free(GuestStop *stop)
{
        if (!stop)
                return;
        if (stop->kill_timer)
                g_source_remove(stop->kill_timer);
        g_free(stop->name);
        g_free(stop);
}

static gboolean
send_signal(GuestStop *stop, int sig, GError **error)
{
        if (kill(stop->pid, sig) < 0 && errno != ESRCH) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot send %s to guest '%s' (pid %d): %s", g_strsignal(sig),
                            stop->name, (int)stop->pid, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

static gboolean
kill_timed_out(gpointer data)
{
        GuestStop *stop = data;
        g_autoptr(GError) error = NULL;

        stop->kill_timer = 0;
        g_printerr("vmlock: guest '%s' (pid %d) did not shut down in time: killing it\n",
                   stop->name, (int)stop->pid);
        if (!send_signal(stop, SIGKILL, &error))
                g_printerr("vmlock: %s\n", error->message);
        return G_SOURCE_REMOVE;
}

/* QEMU passed the power button on, or not (@data: the guest's name). */
static void
powerdown_done(const GError *error, gpointer data)
{
        g_autofree char *name = data;

        if (error)
                g_printerr("vmlock: guest '%s': the ACPI power button failed (%s): it is "
                           "killed at the timeout\n",
                           name, error->message);
}

/* The guest is asked to go: the OS's shutdown, or the program's own. A
 * failure here is said, not fatal: the kill follows anyway, so nobody
 * waits for QEMU's answer. */
static void
ask_to_shut_down(GuestStop *stop, const GuestStopRequest *request)
{
        g_autoptr(GError) error = NULL;

        if (request->monitor) {
                qemu_vm_powerdown_async(request->monitor, powerdown_done, g_strdup(stop->name));
                return;
        }
        /* A stopped program handles SIGTERM only once continued; it holds
         * its leases, so running the handler is safe. */
        if (!send_signal(stop, SIGTERM, &error) ||
            (request->stopped && !send_signal(stop, SIGCONT, &error)))
                g_printerr("vmlock: %s: it is killed at the timeout\n", error->message);
}

gboolean
guest_stop_request(GuestStop *stop, const GuestStopRequest *request, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)request->timeout_s * G_USEC_PER_SEC;

        g_debug("stop: guest '%s' (pid %d), timeout %u s%s", stop->name, (int)stop->pid,
                request->timeout_s, request->monitor ? ", QEMU" : "");
        /* Nothing ran yet that could shut down: no reason to wait. */
        if (request->exec_pending || request->timeout_s == 0) {
                if (stop->kill_timer)
                        g_source_remove(stop->kill_timer);
                stop->kill_timer = 0;
                stop->deadline = g_get_monotonic_time();
                return send_signal(stop, SIGKILL, error);
        }
        ask_to_shut_down(stop, request);
        if (stop->kill_timer && stop->deadline <= deadline)
                return TRUE;
        if (stop->kill_timer)
                g_source_remove(stop->kill_timer);
        stop->deadline = deadline;
        /* Not g_timeout_add_seconds() but for timeouts too long for
         * milliseconds: it may fire up to a second early, and the guest is
         * owed its whole timeout. */
        if (request->timeout_s <= G_MAXUINT / 1000)
                stop->kill_timer = g_timeout_add(request->timeout_s * 1000, kill_timed_out, stop);
        else
                stop->kill_timer = g_timeout_add_seconds(request->timeout_s, kill_timed_out, stop);
        return TRUE;
}
