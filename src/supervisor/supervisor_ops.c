/* vmlock: the supervisor: its record, its CPUs (pause, resume, stop) and its leases, a lock
 * failure. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <errno.h>
#include <signal.h>

#include "qemu/qemu_vm.h"
#include "supervisor/crash_point.h"
#include "supervisor/guest_launch.h"
#include "supervisor/lease_events.h"
#include "supervisor/supervisor_priv.h"

/* Saves the record, unless the guest is gone and a new start of the same
 * name replaced it meanwhile. */
gboolean
supervisor_save_record(Supervisor *sv, GError **error)
{
        g_autoptr(GuestRecord) on_disk = NULL;
        gboolean ok = TRUE;
        int lock_fd = state_dir_lock_name(sv->state_dir, guest_name(sv), error);

        if (lock_fd < 0)
                return FALSE;
        on_disk = state_dir_load(sv->state_dir, guest_name(sv), NULL);
        if (!on_disk || (vmlock_domain_get_pid(on_disk->dom) == sv->pid &&
                         on_disk->pid_start_time == sv->record->pid_start_time))
                ok = state_dir_save(sv->state_dir, sv->record, error);
        close(lock_fd);
        return ok;
}

/* A save that fails leaves the guest as it is, with a record behind the
 * truth: say so, but the operation itself happened. */
void
supervisor_save_record_or_warn(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;

        if (!supervisor_save_record(sv, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), error->message);
}

void
supervisor_begin_in_flight(Supervisor *sv, char *what)
{
        g_free(sv->record->in_flight);
        sv->record->in_flight = what;
        supervisor_save_record_or_warn(sv);
}

void
supervisor_end_in_flight(Supervisor *sv)
{
        g_clear_pointer(&sv->record->in_flight, g_free);
        supervisor_save_record_or_warn(sv);
}

/* The CPUs stopped (QEMU: its writes flushed once it answered), @done
 * called maybe before this returns. */
static void
stop_cpus(Supervisor *sv, SupervisorDoneFunc done, gpointer user_data)
{
        g_autoptr(GError) error = NULL;

        if (sv->monitor) {
                qemu_vm_stop_async(sv->monitor, done, user_data);
                return;
        }
        /* With go_fd, PROGRAM has not started. */
        if (sv->go_fd < 0 && !sv->reaped && kill(sv->pid, SIGSTOP) < 0) {
                int saved = errno;

                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot stop guest '%s' (pid %d): %s", guest_name(sv), (int)sv->pid,
                            g_strerror(saved));
        }
        done(error, user_data);
}

void
supervisor_cont_cpus(Supervisor *sv, SupervisorDoneFunc done, gpointer user_data)
{
        g_autoptr(GError) error = NULL;

        /* Never a guest without its leases, nor one whose stop before a
         * release is under way (QEMU would run it after that stop). */
        if (supervisor_is_released(sv) || sv->releasing > 0) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' must not run: its leases are %s", guest_name(sv),
                            sv->releasing > 0 ? "being released" : "released");
        } else if (sv->go_fd >= 0) {
                int go_fd = sv->go_fd;

                sv->go_fd = -1;
                guest_launch_go(go_fd, sv->pid, sv->program, &error);
        } else if (sv->monitor) {
                qemu_vm_cont_async(sv->monitor, done, user_data);
                return;
        } else if (sv->reaped || kill(sv->pid, SIGCONT) < 0) {
                int saved = sv->reaped ? ESRCH : errno;

                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot continue guest '%s' (pid %d): %s", guest_name(sv),
                            (int)sv->pid, g_strerror(saved));
        }
        done(error, user_data);
}

/* Follows what the guest holds, with the versions its leases were taken
 * at: when it ends, the wait for their release compares with them. */
void
supervisor_note_held_leases(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        lease_watch_changed(sv->lease_watch);
        if (supervisor_is_released(sv)) {
                g_clear_pointer(&sv->held_state, g_free);
                return;
        }
        /* Kept as it was: the wait then covers what was known. */
        if (!vmlock_domain_lock_process_inquire(sv->manager, sv->record->dom, &state, &error)) {
                g_debug("guest '%s': cannot inquire its leases: %s", guest_name(sv),
                        error->message);
                return;
        }
        g_free(sv->held_state);
        sv->held_state = g_steal_pointer(&state);
}

/* The guest has ended and its leases went with it, but the lock daemon
 * writes their release after it forgot the guest: until then another host
 * is refused them. Exiting before would tell whoever waits for this process
 * (the caller of a foreground `vmlock start`) that the disks are free when
 * they are not yet. */
void
supervisor_wait_leases_released(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;
        gboolean released = TRUE;

        if (!vmlock_lock_manager_wait_released(sv->manager, sv->held_state, RELEASE_WAIT_MS,
                                               &released, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), error->message);
        else if (!released)
                g_printerr("vmlock: guest '%s' has ended, but %u s later the lock daemon has "
                           "still not written the release of its leases: another host is "
                           "refused them until it does\n",
                           guest_name(sv), RELEASE_WAIT_MS / 1000);
}

static gboolean
release_leases(Supervisor *sv, GError **error)
{
        g_autofree char *state = NULL;

        if (!vmlock_domain_lock_process_pause(sv->manager, sv->record->dom, &state, error))
                return FALSE;
        g_free(sv->record->lock_state);
        sv->record->lock_state = g_steal_pointer(&state);
        supervisor_set_state(sv, GUEST_RELEASED);
        supervisor_note_held_leases(sv);
        lease_events_log_domain(sv->manager, LEASE_EVENT_RELEASED, sv->record->dom, NULL);
        return TRUE;
}

/* A pause or a resume waiting for QEMU. */
typedef struct {
        Supervisor *sv;
        gboolean release;
        gboolean counted;    /* in sv->releasing */
        gboolean client_op;  /* sv->op is its to end */
        gboolean reacquired; /* resume: the leases were taken back for it */
        SupervisorDoneFunc done;
        gpointer user_data;
} CpuOp;

static CpuOp *
cpu_op_new(Supervisor *sv, gboolean client_op, SupervisorDoneFunc done, gpointer user_data)
{
        CpuOp *op = g_new0(CpuOp, 1);

        op->sv = sv;
        op->client_op = client_op;
        op->done = done;
        op->user_data = user_data;
        return op;
}

static void
cpu_op_finish(CpuOp *op, const GError *error)
{
        if (op->client_op)
                supervisor_end_op(op->sv);
        if (op->done)
                op->done(error, op->user_data);
        g_free(op);
}

/* QEMU confirmed the stop (writes flushed), or said why not. */
static void
pause_stopped(const GError *stop_error, gpointer data)
{
        CpuOp *op = data;
        Supervisor *sv = op->sv;
        g_autoptr(GError) error = NULL;

        if (op->counted)
                sv->releasing--;
        if (stop_error) {
                /* Nothing released: whatever QEMU did, the leases are held. */
                cpu_op_finish(op, stop_error);
                return;
        }
        /* A release ends a migration under way; a plain stop does not. */
        if (op->release && sv->state == GUEST_MIGRATING)
                supervisor_set_state(sv, GUEST_PAUSED);
        else
                supervisor_note_stopped(sv);
        if (op->release && !supervisor_is_released(sv)) {
                /* No cont went to QEMU since the stop (sv->releasing). */
                supervisor_begin_in_flight(sv, g_strdup(GUEST_IN_FLIGHT_RELEASE));
                if (!release_leases(sv, &error)) {
                        supervisor_end_in_flight(sv); /* paused, still holding */
                        cpu_op_finish(op, error);
                        return;
                }
                crash_point(CRASH_POINT_RELEASED);
                supervisor_end_in_flight(sv);
                cpu_op_finish(op, NULL);
                return;
        }
        supervisor_save_record_or_warn(sv);
        cpu_op_finish(op, NULL);
}

static void
pause_begin(CpuOp *op)
{
        Supervisor *sv = op->sv;

        /* Before a release, always: stop also flushes a guest paused earlier. */
        if (supervisor_is_paused(sv) && !(op->release && !supervisor_is_released(sv))) {
                pause_stopped(NULL, op);
                return;
        }
        if (op->release) {
                op->counted = TRUE;
                sv->releasing++;
        }
        stop_cpus(sv, pause_stopped, op);
}

gboolean
supervisor_pause(Supervisor *sv, gboolean release, SupervisorDoneFunc done, gpointer user_data,
                 GError **error)
{
        CpuOp *op;

        if (release && !supervisor_is_released(sv) && !sv->monitor) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "guest '%s' cannot hand its leases over: vmlock has no QMP to "
                            "it, so it cannot stop it with its writes flushed (SIGSTOP "
                            "leaves them in flight); only a QEMU guest can be paused with "
                            "--release",
                            guest_name(sv));
                return FALSE;
        }
        if (!supervisor_begin_op(sv, GUEST_OP_PAUSING, error))
                return FALSE;
        op = cpu_op_new(sv, TRUE, done, user_data);
        op->release = release;
        pause_begin(op);
        return TRUE;
}

void
supervisor_pause_now(Supervisor *sv, gboolean release, SupervisorDoneFunc done,
                     gpointer user_data)
{
        CpuOp *op = cpu_op_new(sv, FALSE, done, user_data);

        op->release = release;
        pause_begin(op);
}

/* QEMU answered cont. */
static void
resume_continued(const GError *cont_error, gpointer data)
{
        CpuOp *op = data;
        Supervisor *sv = op->sv;
        g_autoptr(GError) release_error = NULL;
        g_autoptr(GError) error = NULL;

        if (!cont_error) {
                supervisor_note_running(sv);
                supervisor_save_record_or_warn(sv);
                cpu_op_finish(op, NULL);
                return;
        }
        if (g_error_matches(cont_error, VMLOCK_ERROR, VMLOCK_ERROR_IO)) {
                /* No answer: QEMU may run it. It keeps its leases, and
                 * counts as running (a pause --release stops it first). */
                g_set_error(&error, cont_error->domain, cont_error->code,
                            "%s; guest '%s' may be running: it holds its leases",
                            cont_error->message, guest_name(sv));
                supervisor_note_running(sv);
                supervisor_save_record_or_warn(sv);
                cpu_op_finish(op, error);
                return;
        }
        /* Refused: still stopped, so the leases go back as they were. */
        if (op->reacquired && !supervisor_is_released(sv) &&
            !release_leases(sv, &release_error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(sv), release_error->message);
        supervisor_save_record_or_warn(sv);
        cpu_op_finish(op, cont_error);
}

gboolean
supervisor_resume(Supervisor *sv, const char *state, SupervisorDoneFunc done,
                  gpointer user_data, GError **error)
{
        GuestRecord *record = sv->record;
        CpuOp *op;

        if (state && !supervisor_is_released(sv)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' holds its leases: --state is for a guest whose leases "
                            "were released (pause --release) or not yet taken (start --paused)",
                            guest_name(sv));
                return FALSE;
        }
        if (!supervisor_begin_op(sv, GUEST_OP_RESUMING, error))
                return FALSE;
        op = cpu_op_new(sv, TRUE, done, user_data);
        if (supervisor_is_released(sv)) {
                g_autoptr(GError) local = NULL;

                /* A state given (even empty) is a hand-over: it must cover
                 * every lease; the one recorded here is our own. */
                gboolean ok = state ? vmlock_domain_lock_process_take_over(
                                              sv->manager, sv->uri, record->dom, state, &local)
                                    : vmlock_domain_lock_process_resume(
                                              sv->manager, sv->uri, record->dom,
                                              record->lock_state, &local);

                if (!ok) {
                        lease_events_log_refusal(sv->manager, record->dom, NULL, local);
                        /* The guest runs nowhere now: say where it can. */
                        if (sv->incoming)
                                g_set_error(error, local->domain, local->code,
                                            "%s; guest '%s' stays paused here, without its "
                                            "leases: its migration source can take them back "
                                            "and continue it with `vmlock resume %s` there",
                                            local->message, guest_name(sv), guest_name(sv));
                        else
                                g_propagate_error(error, g_steal_pointer(&local));
                        supervisor_end_op(sv);
                        g_free(op);
                        return FALSE;
                }
                g_clear_pointer(&record->lock_state, g_free);
                supervisor_set_state(sv, GUEST_PAUSED);
                record->lease_lost = FALSE;
                op->reacquired = TRUE;
                supervisor_note_held_leases(sv);
                lease_events_log_domain(sv->manager, LEASE_EVENT_TAKEN, record->dom, NULL);
                /* It arrived: from now on it is a possible source. */
                g_clear_pointer(&sv->incoming, g_free);
                /* Readers of the record see the leases held meanwhile. */
                supervisor_save_record_or_warn(sv);
        }
        /* cont goes only now, with the leases held. */
        supervisor_cont_cpus(sv, resume_continued, op);
        return TRUE;
}

/* `vmlock stop`: the guest is asked to shut down, killed at the timeout;
 * its end then goes as any other (the leases' release waited for). */
gboolean
supervisor_stop(Supervisor *sv, guint timeout_s, GError **error)
{
        GuestStopRequest request = {
                .monitor = sv->monitor,
                .exec_pending = sv->go_fd >= 0,
                /* SIGSTOPped by pause, holding its leases: continued to
                 * handle SIGTERM. Never one without them. */
                .stopped = !sv->monitor && sv->go_fd < 0 && sv->state == GUEST_PAUSED,
                .timeout_s = timeout_s,
        };

        if (!sv->stop)
                sv->stop = guest_stop_new(guest_name(sv), sv->pid);
        if (!guest_stop_request(sv->stop, &request, error))
                return FALSE;
        if (request.stopped && timeout_s > 0) {
                supervisor_note_running(sv);
                supervisor_save_record_or_warn(sv);
        }
        return TRUE;
}

static gboolean
kill_after_lock_failure(Supervisor *sv, GError **error)
{
        if (sv->reaped)
                return TRUE; /* gone already */
        if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot kill guest '%s' (pid %d): %s", guest_name(sv), (int)sv->pid,
                            g_strerror(saved));
                return FALSE;
        }
        g_printerr("vmlock: guest '%s' (pid %d) killed after a lock failure\n", guest_name(sv),
                   (int)sv->pid);
        return TRUE;
}

typedef struct {
        Supervisor *sv;
        SupervisorDoneFunc done;
        gpointer user_data;
} LockFailure;

/* The pause after a lock failure is over: a guest that could not be
 * paused is killed. */
static void
lock_failure_paused(const GError *pause_error, gpointer data)
{
        g_autofree LockFailure *failure = data;
        Supervisor *sv = failure->sv;
        g_autoptr(GError) error = NULL;

        if (!pause_error) {
                g_printerr("vmlock: guest '%s' paused and its leases released after a lock "
                           "failure\n",
                           guest_name(sv));
        } else {
                g_printerr("vmlock: guest '%s': pause after a lock failure failed (%s): "
                           "killing it\n",
                           guest_name(sv), pause_error->message);
                kill_after_lock_failure(sv, &error);
        }
        failure->done(error, failure->user_data);
}

/* The lock daemon lost this host's lockspace: the guest must stop writing
 * now. A guest vmlock cannot pause safely is killed. Never refused as
 * busy: whatever a client asked waits behind it. */
gboolean
supervisor_lock_failure(Supervisor *sv, const char *action, SupervisorDoneFunc done,
                        gpointer user_data, GError **error)
{
        if (g_str_equal(action, "pause") && sv->monitor) {
                LockFailure *failure = g_new0(LockFailure, 1);

                failure->sv = sv;
                failure->done = done;
                failure->user_data = user_data;
                supervisor_pause_now(sv, TRUE, lock_failure_paused, failure);
                return TRUE;
        } else if (g_str_equal(action, "pause")) {
                g_printerr("vmlock: guest '%s' has no QMP: it cannot be paused safely after a "
                           "lock failure; killing it\n",
                           guest_name(sv));
        } else if (!g_str_equal(action, "poweroff")) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown lock failure action '%s'", action);
                return FALSE;
        }
        if (!kill_after_lock_failure(sv, error))
                return FALSE;
        done(NULL, user_data);
        return TRUE;
}

void
supervisor_expected_leases(gpointer data, const VmlockDomain **ret_dom, const char **ret_state)
{
        Supervisor *sv = data;

        *ret_dom = sv->record->dom;
        *ret_state = supervisor_is_released(sv) ? NULL : sv->held_state;
}

static void
kill_after_lease_loss(Supervisor *sv)
{
        if (sv->reaped)
                return; /* gone already */
        if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH)
                g_printerr("vmlock: cannot kill guest '%s' (pid %d): %s\n", guest_name(sv),
                           (int)sv->pid, g_strerror(errno));
        else
                g_printerr("vmlock: guest '%s' (pid %d) killed after losing its leases\n",
                           guest_name(sv), (int)sv->pid);
        supervisor_save_record_or_warn(sv);
}

typedef struct {
        Supervisor *sv;
        char *held; /* the state its leases were held at */
        gboolean daemon_hangs;
} LeaseLoss;

/* QEMU answered the stop after a lease loss. */
static void
lease_loss_stopped(const GError *stop_error, gpointer data)
{
        LeaseLoss *loss = data;
        Supervisor *sv = loss->sv;
        GuestRecord *record = sv->record;
        g_autoptr(GError) error = NULL;

        sv->releasing--;
        if (stop_error) {
                g_printerr("vmlock: guest '%s' cannot be paused safely (%s): killing it\n",
                           guest_name(sv), stop_error->message);
                kill_after_lease_loss(sv);
        } else {
                /* Whatever was under way (a migration) ends here. What the
                 * daemon may still hold goes back (a daemon that hangs would
                 * hang this loop). */
                if (sv->state != GUEST_RELEASED) {
                        supervisor_set_state(sv, GUEST_PAUSED);
                        if (loss->daemon_hangs || !release_leases(sv, &error)) {
                                g_debug("guest '%s': leases not released: %s", guest_name(sv),
                                        error ? error->message : "the daemon hangs");
                                supervisor_set_state(sv, GUEST_RELEASED);
                                supervisor_note_held_leases(sv);
                        }
                }
                g_free(record->lock_state);
                record->lock_state = g_steal_pointer(&loss->held);
                supervisor_save_record_or_warn(sv);
                g_printerr("vmlock: guest '%s' paused after losing its leases: `vmlock resume "
                           "%s` takes them again, refused if another host held them "
                           "meanwhile\n",
                           guest_name(sv), guest_name(sv));
        }
        g_free(loss->held);
        g_free(loss);
}

/* The leases went behind vmlock's back (the lock daemon ended, or no longer
 * lists them), where the daemon's kill path cannot act: the guest's
 * <on_lockfailure> is applied here. A paused guest keeps the state its
 * leases were held at, so resume takes them again only if no other host
 * held them meanwhile. */
void
supervisor_lease_lost(const char *reason, gboolean daemon_hangs, gpointer data)
{
        Supervisor *sv = data;
        GuestRecord *record = sv->record;
        g_autofree char *held = g_strdup(sv->held_state);
        LeaseEvent event = {
                .kind = LEASE_EVENT_LOST,
                .guest = guest_name(sv),
                .uuid = vmlock_domain_get_uuid_string(record->dom),
                .reason = reason,
        };

        if (!lease_events_wanted(sv->manager) || !lease_event_log(&event))
                g_printerr("vmlock: guest '%s' (pid %d): lease lost: %s\n", guest_name(sv),
                           (int)sv->pid, reason);
        record->lease_lost = TRUE;
        if (vmlock_domain_get_on_lockfailure(record->dom) == VMLOCK_LOCK_FAILURE_PAUSE &&
            sv->monitor) {
                LeaseLoss *loss = g_new0(LeaseLoss, 1);

                loss->sv = sv;
                loss->held = g_steal_pointer(&held);
                loss->daemon_hangs = daemon_hangs;
                /* No cont goes to QEMU until the leases are dealt with. */
                sv->releasing++;
                qemu_vm_stop_async(sv->monitor, lease_loss_stopped, loss);
                return;
        }
        if (vmlock_domain_get_on_lockfailure(record->dom) == VMLOCK_LOCK_FAILURE_PAUSE)
                g_printerr("vmlock: guest '%s' cannot be paused safely (no QMP to it): killing "
                           "it\n",
                           guest_name(sv));
        kill_after_lease_loss(sv);
}

gboolean
supervisor_inquire(Supervisor *sv, char **ret_state, GError **error)
{
        if (supervisor_is_released(sv)) {
                *ret_state = g_strdup(sv->record->lock_state);
                return TRUE;
        }
        return vmlock_domain_lock_process_inquire(sv->manager, sv->record->dom, ret_state,
                                                  error);
}
