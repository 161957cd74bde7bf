/* vmlock: a supervisor's watch on its guest's leases. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "supervisor/lease_watch.h"

/* An inquire costs the daemon ~50 us: twice a second keeps a loss found
 * within a second, far below the 2 s the guest may write on. */
#define CHECK_INTERVAL_MS 500

/* One inquire in a thread. It outlives the watch when the daemon hangs:
 * the watch lets go of it (watch = NULL) and its answer is dropped. */
typedef struct {
        LeaseWatch *watch;
        VmlockLockManager *manager;
        guint pid;
        guint generation; /* the watch's when the inquire began */
        char *state;      /* out: what the guest holds */
        GError *error;    /* out */
        gint answered;    /* set by the thread: a main loop that lagged is not a stuck daemon */
} LeaseCheck;

struct LeaseWatch {
        VmlockLockManager *manager;
        pid_t pid;
        LeaseWatchExpectFunc expect;
        LeaseWatchLostFunc lost;
        gpointer data;
        int daemon_fd;       /* our connection to the daemon, or -1 */
        guint daemon_watch;
        guint timer;
        guint generation;    /* bumped by each deliberate change */
        LeaseCheck *pending; /* the inquire under way, or NULL */
        gint64 pending_since;
        gint64 failing_since; /* inquires fail (not a loss) since, or 0 */
        gboolean failing_told; /* ...and that was said */
        gboolean fired;      /* lost() was called since the last change */
};

static void
lease_check_free(LeaseCheck *check)
{
        vmlock_lock_manager_unref(check->manager);
        g_free(check->state);
        g_clear_error(&check->error);
        g_free(check);
}

/* The resources the guest must hold that @now (what the daemon says it
 * holds; NULL: nothing) lacks, as "disk X, lease LS:KEY", or NULL. With
 * @all, every resource it must hold counts as lacking. */
static char *
missing_leases(LeaseWatch *watch, const char *now, gboolean all)
{
        const VmlockDomain *dom = NULL;
        const char *expected = NULL;
        g_autoptr(GString) missing = g_string_new(NULL);

        watch->expect(watch->data, &dom, &expected);
        if (!dom || !expected)
                return NULL;
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                gboolean had = FALSE, has = FALSE;

                if (!vmlock_disk_is_lockable(disk) ||
                    !vmlock_domain_lock_state_holds_disk(watch->manager, expected, disk, &had,
                                                         NULL) ||
                    !had)
                        continue;
                if (!all && now &&
                    vmlock_domain_lock_state_holds_disk(watch->manager, now, disk, &has, NULL) &&
                    has)
                        continue;
                g_string_append_printf(missing, "%sdisk %s", missing->len ? ", " : "",
                                       vmlock_disk_get_source(disk));
        }
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                const char *lockspace = vmlock_lease_get_lockspace(lease);
                gboolean had = FALSE, has = FALSE;

                if (!vmlock_domain_lock_state_holds_lease(watch->manager, expected, lease, &had,
                                                          NULL) ||
                    !had)
                        continue;
                if (!all && now &&
                    vmlock_domain_lock_state_holds_lease(watch->manager, now, lease, &has,
                                                         NULL) &&
                    has)
                        continue;
                g_string_append_printf(missing, "%slease %s:%s", missing->len ? ", " : "",
                                       lockspace ? lockspace : "", vmlock_lease_get_key(lease));
        }
        return missing->len ? g_string_free(g_steal_pointer(&missing), FALSE) : NULL;
}

/* The guest (a child of ours) has ended, not yet reaped: the daemon has
 * forgotten it, which is no loss. */
static gboolean
guest_ended(pid_t pid)
{
        siginfo_t info = { 0 };

        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
                return info.si_pid == pid;
        return errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH;
}

static void
report_lost(LeaseWatch *watch, const char *missing, const char *why, gboolean hangs)
{
        g_autofree char *reason = NULL;

        if (watch->fired)
                return;
        if (guest_ended(watch->pid)) {
                g_debug("guest pid %d has ended: %s", (int)watch->pid, why);
                return;
        }
        watch->fired = TRUE;
        reason = g_strdup_printf("%s no longer held: %s", missing, why);
        watch->lost(reason, hangs, watch->data);
}

/* Everything the guest must hold is gone at once (the daemon ended). */
static void
all_lost(LeaseWatch *watch, const char *why, gboolean hangs)
{
        g_autofree char *missing = missing_leases(watch, NULL, TRUE);

        if (missing)
                report_lost(watch, missing, why, hangs);
        else
                g_debug("guest pid %d: %s, but it must hold nothing now", (int)watch->pid, why);
}

static void
check_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
        LeaseCheck *check = g_task_get_task_data(G_TASK(result));
        LeaseWatch *watch = check->watch;
        g_autofree char *missing = NULL;

        if (!watch)
                return; /* the watch is gone, or gave up on this one */
        watch->pending = NULL;
        if (check->generation != watch->generation)
                return;
        if (check->error && !g_error_matches(check->error, VMLOCK_ERROR, VMLOCK_ERROR_DAEMON) &&
            !g_error_matches(check->error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE)) {
                gint64 now = g_get_monotonic_time();

                /* Not a loss (a busy daemon, say): told once it lasts. */
                g_debug("guest pid %d: %s", (int)watch->pid, check->error->message);
                if (!watch->failing_since)
                        watch->failing_since = now;
                if (!watch->failing_told &&
                    now - watch->failing_since > LEASE_WATCH_STUCK_MS * 1000) {
                        g_printerr("vmlock: cannot tell whether guest pid %d still holds its "
                                   "leases: %s\n", (int)watch->pid, check->error->message);
                        watch->failing_told = TRUE;
                }
                return;
        }
        watch->failing_since = 0;
        watch->failing_told = FALSE;
        if (check->error) {
                all_lost(watch, check->error->message, FALSE);
                return;
        }
        missing = missing_leases(watch, check->state, FALSE);
        if (missing)
                report_lost(watch, missing, "the lock daemon no longer lists them for the guest",
                            FALSE);
}

static void
check_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        LeaseCheck *check = task_data;

        vmlock_lock_manager_process_state(check->manager, check->pid, &check->state,
                                          &check->error);
        g_atomic_int_set(&check->answered, 1);
        g_task_return_boolean(task, TRUE);
}

static void
check_start(LeaseWatch *watch)
{
        g_autoptr(GTask) task = g_task_new(NULL, NULL, check_done, NULL);
        LeaseCheck *check = g_new0(LeaseCheck, 1);

        check->watch = watch;
        check->manager = vmlock_lock_manager_ref(watch->manager);
        check->pid = (guint)watch->pid;
        check->generation = watch->generation;
        g_task_set_task_data(task, check, (GDestroyNotify)lease_check_free);
        watch->pending = check;
        watch->pending_since = g_get_monotonic_time();
        g_task_run_in_thread(task, check_thread);
}

static void
daemon_disconnect(LeaseWatch *watch)
{
        if (watch->daemon_watch)
                g_source_remove(watch->daemon_watch);
        watch->daemon_watch = 0;
        if (watch->daemon_fd >= 0)
                close(watch->daemon_fd);
        watch->daemon_fd = -1;
}

/* The daemon writes nothing to a registered client that asks nothing:
 * readable means closed, in practice. */
static gboolean
daemon_event(int fd, GIOCondition condition, gpointer user_data)
{
        LeaseWatch *watch = user_data;
        char buf[64];

        if (!(condition & (G_IO_HUP | G_IO_ERR))) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

                /* Anything but end-of-file (or a reset) keeps it. */
                if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
                        return G_SOURCE_CONTINUE;
        }
        watch->daemon_watch = 0;
        daemon_disconnect(watch);
        all_lost(watch,
                 "the lock daemon closed its connection: it ended or was restarted, and the "
                 "leases it held went with it",
                 FALSE);
        return G_SOURCE_REMOVE;
}

/* FALSE when the driver has no daemon to watch. */
static gboolean
daemon_connect(LeaseWatch *watch)
{
        g_autoptr(GError) error = NULL;
        int fd = -1;

        if (!vmlock_lock_manager_daemon_connect(watch->manager, &fd, &error)) {
                g_debug("guest pid %d: %s", (int)watch->pid, error->message);
                return TRUE; /* tried again at the next check */
        }
        if (fd < 0)
                return FALSE;
        watch->daemon_fd = fd;
        watch->daemon_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, daemon_event,
                                            watch);
        return TRUE;
}

static gboolean
tick(gpointer user_data)
{
        LeaseWatch *watch = user_data;

        if (watch->daemon_fd < 0)
                daemon_connect(watch);
        if (watch->pending) {
                gint64 waited = g_get_monotonic_time() - watch->pending_since;

                if (waited > LEASE_WATCH_STUCK_MS * 1000 &&
                    !g_atomic_int_get(&watch->pending->answered)) {
                        g_autofree char *why = g_strdup_printf(
                                "the lock daemon has not answered an inquire for %d s: it "
                                "renews no lease meanwhile", LEASE_WATCH_STUCK_MS / 1000);

                        all_lost(watch, why, TRUE);
                }
                return G_SOURCE_CONTINUE;
        }
        if (!watch->fired) {
                const VmlockDomain *dom = NULL;
                const char *expected = NULL;

                watch->expect(watch->data, &dom, &expected);
                if (dom && expected)
                        check_start(watch);
        }
        return G_SOURCE_CONTINUE;
}

LeaseWatch *
lease_watch_new(VmlockLockManager *manager, pid_t pid, LeaseWatchExpectFunc expect,
                LeaseWatchLostFunc lost, gpointer data)
{
        LeaseWatch *watch = g_new0(LeaseWatch, 1);

        watch->manager = vmlock_lock_manager_ref(manager);
        watch->pid = pid;
        watch->expect = expect;
        watch->lost = lost;
        watch->data = data;
        watch->daemon_fd = -1;
        if (daemon_connect(watch))
                watch->timer = g_timeout_add(CHECK_INTERVAL_MS, tick, watch);
        else
                g_debug("lock driver %s has no daemon: nothing to watch",
                        vmlock_lock_manager_get_name(manager));
        return watch;
}

void
lease_watch_changed(LeaseWatch *watch)
{
        if (!watch)
                return;
        watch->generation++;
        watch->fired = FALSE;
}

void
lease_watch_free(LeaseWatch *watch)
{
        if (!watch)
                return;
        if (watch->pending)
                watch->pending->watch = NULL;
        if (watch->timer)
                g_source_remove(watch->timer);
        daemon_disconnect(watch);
        vmlock_lock_manager_unref(watch->manager);
        g_free(watch);
}
