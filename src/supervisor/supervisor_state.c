/* vmlock: the supervisor: the guest's state, and the changes that can happen. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "supervisor/supervisor_priv.h"

static const char *const state_names[] = {
        [GUEST_RUNNING] = "running",
        [GUEST_PAUSED] = "paused",
        [GUEST_RELEASED] = "released",
        [GUEST_MIGRATING] = "migrating",
};

/* Everything else is a bug: a lease released from a running guest, a
 * migration of a guest that holds nothing. */
static gboolean
change_is_legal(GuestState from, GuestState to)
{
        switch (from) {
        case GUEST_RUNNING:
                return to == GUEST_PAUSED || to == GUEST_MIGRATING;
        case GUEST_PAUSED:
                /* PAUSED again: a stop before a release flushes once more. */
                return to == GUEST_PAUSED || to == GUEST_RUNNING || to == GUEST_RELEASED ||
                       to == GUEST_MIGRATING;
        case GUEST_RELEASED:
                return to == GUEST_PAUSED; /* the leases taken back, CPUs still stopped */
        case GUEST_MIGRATING:
                /* Back where it was (failed, cancelled), or stopped for the
                 * hand-over at its end. */
                return to == GUEST_RUNNING || to == GUEST_PAUSED;
        }
        return FALSE;
}

GuestState
supervisor_initial_state(const GuestRecord *record)
{
        if (record->released)
                return GUEST_RELEASED;
        return record->paused ? GUEST_PAUSED : GUEST_RUNNING;
}

void
supervisor_set_state(Supervisor *sv, GuestState state)
{
        if (!change_is_legal(sv->state, state))
                g_critical("guest '%s': no change from %s to %s", guest_name(sv),
                           state_names[sv->state], state_names[state]);
        g_debug("guest '%s': %s -> %s", guest_name(sv), state_names[sv->state],
                state_names[state]);
        if (state == GUEST_MIGRATING)
                sv->state_before_migration = sv->state;
        sv->state = state;
        sv->record->released = state == GUEST_RELEASED;
        sv->record->paused = supervisor_is_paused(sv);
}

gboolean
supervisor_is_released(const Supervisor *sv)
{
        return sv->state == GUEST_RELEASED;
}

gboolean
supervisor_is_paused(const Supervisor *sv)
{
        switch (sv->state) {
        case GUEST_RUNNING:
                return FALSE;
        case GUEST_MIGRATING:
                return sv->state_before_migration == GUEST_PAUSED;
        case GUEST_PAUSED:
        case GUEST_RELEASED:
                return TRUE;
        }
        return TRUE;
}

gboolean
supervisor_note_stopped(Supervisor *sv)
{
        switch (sv->state) {
        case GUEST_RUNNING:
                supervisor_set_state(sv, GUEST_PAUSED);
                return TRUE;
        case GUEST_MIGRATING:
                if (sv->state_before_migration == GUEST_PAUSED)
                        return FALSE;
                sv->state_before_migration = GUEST_PAUSED;
                sv->record->paused = TRUE;
                return TRUE;
        case GUEST_PAUSED:
        case GUEST_RELEASED:
                break;
        }
        return FALSE;
}

void
supervisor_note_running(Supervisor *sv)
{
        if (sv->state == GUEST_MIGRATING) {
                sv->state_before_migration = GUEST_RUNNING;
                sv->record->paused = FALSE;
        } else if (sv->state != GUEST_RUNNING) {
                supervisor_set_state(sv, GUEST_RUNNING);
        }
}

static const char *const op_names[] = {
        [GUEST_OP_NONE] = "idle",
        [GUEST_OP_PAUSING] = "pausing",
        [GUEST_OP_RESUMING] = "resuming",
        [GUEST_OP_ATTACHING_DISK] = "attaching a disk",
        [GUEST_OP_STARTING_MIGRATION] = "starting a migration",
};

gboolean
supervisor_check_idle(Supervisor *sv, GuestOp op, GError **error)
{
        const char *busy = sv->op != GUEST_OP_NONE ? op_names[sv->op] : NULL;

        /* A lock failure's or a hand-over's stop, then the release: nothing
         * may run the guest or change its leases in between (a pause may
         * come along). */
        if (!busy && sv->releasing > 0 && op != GUEST_OP_PAUSING)
                busy = "stopping to release its leases";
        if (busy) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' is busy: %s (waiting for QEMU); try again once it is "
                            "done",
                            guest_name(sv), busy);
                return FALSE;
        }
        return TRUE;
}

gboolean
supervisor_begin_op(Supervisor *sv, GuestOp op, GError **error)
{
        if (!supervisor_check_idle(sv, op, error))
                return FALSE;
        g_debug("guest '%s': %s", guest_name(sv), op_names[op]);
        sv->op = op;
        return TRUE;
}

void
supervisor_end_op(Supervisor *sv)
{
        g_debug("guest '%s': %s done", guest_name(sv), op_names[sv->op]);
        sv->op = GUEST_OP_NONE;
}
