/* vmlock: stopping, continuing and ending a running guest, and moving its leases. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <signal.h>

#include <vmlock/domain-lock.h>
#include <vmlock/error.h>

#include "guest-control.h"
#include "qmp.h"
#include "tool-config.h"

VmlockLockManager *
guest_control_load_manager(const GuestRecord *record, GError **error)
{
        return tool_lock_manager_new(record->lock_manager ? record->lock_manager : "nop",
                                     record->plugin_dir, record->config_dir, error);
}

static gboolean
guest_signal(const GuestRecord *record, int sig, GError **error)
{
        pid_t pid = vmlock_domain_get_pid(record->dom);

        if (kill(pid, sig) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot send %s to guest '%s' (pid %d): %s", g_strsignal(sig),
                            vmlock_domain_get_name(record->dom), (int)pid, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

gboolean
guest_control_stop_cpus(const GuestRecord *record, GError **error)
{
        if (record->qmp)
                return qmp_execute(record->qmp, "stop", error);
        return guest_signal(record, SIGSTOP, error);
}

gboolean
guest_control_cont_cpus(const GuestRecord *record, GError **error)
{
        if (record->qmp)
                return qmp_execute(record->qmp, "cont", error);
        return guest_signal(record, SIGCONT, error);
}

gboolean
guest_control_kill(const GuestRecord *record, GError **error)
{
        g_autoptr(GError) local = NULL;
        pid_t pid = vmlock_domain_get_pid(record->dom);

        if (record->qmp && qmp_execute(record->qmp, "quit", &local))
                return TRUE;
        if (local)
                g_printerr("%s: %s; killing guest '%s' (pid %d)\n", g_get_prgname(),
                           local->message, vmlock_domain_get_name(record->dom), (int)pid);
        if (kill(pid, SIGKILL) < 0 && errno != ESRCH) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot kill guest '%s' (pid %d): %s",
                            vmlock_domain_get_name(record->dom), (int)pid, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

gboolean
guest_control_release(GuestRecord *record, VmlockLockManager *manager, GError **error)
{
        g_autofree char *state = NULL;

        if (!vmlock_domain_lock_process_pause(manager, record->dom, &state, error))
                return FALSE;
        g_free(record->lock_state);
        record->lock_state = g_steal_pointer(&state);
        record->released = TRUE;
        return TRUE;
}

gboolean
guest_control_reacquire(GuestRecord *record, VmlockLockManager *manager, const char *state,
                        GError **error)
{
        if (!vmlock_domain_lock_process_resume(manager, NULL, record->dom,
                                               state ? state : record->lock_state, error))
                return FALSE;
        g_clear_pointer(&record->lock_state, g_free);
        record->released = FALSE;
        return TRUE;
}
