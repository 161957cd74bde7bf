/* vmlock: the supervisor: live migration, the source's side, handed over on QEMU's event
 * (or cancelled). */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_migration.h"
#include "qemu/qemu_vm.h"
#include "supervisor/supervisor_priv.h"

typedef struct {
        Supervisor *sv;
        char *uri;
        SupervisorDoneFunc done;
        gpointer user_data;
} MigrateStart;

static void
migrate_start_free(MigrateStart *start)
{
        g_free(start->uri);
        g_free(start);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MigrateStart, migrate_start_free)

static void
migrate_answered(const GError *error, gpointer data)
{
        g_autoptr(MigrateStart) start = data;
        Supervisor *sv = start->sv;

        supervisor_end_op(sv);
        /* Refused (or a MIGRATION event said it ended already): back where
         * it was. */
        if (error && sv->state == GUEST_MIGRATING)
                supervisor_set_state(sv, sv->state_before_migration);
        start->done(error, start->user_data);
}

/* Whether its CPUs ran, where a cancel returns; then the migration. */
static void
migrate_status_known(gboolean running, const GError *error, gpointer data)
{
        MigrateStart *start = data;
        Supervisor *sv = start->sv;

        if (error) {
                migrate_answered(error, start);
                return;
        }
        sv->ran_before_migration = running;
        g_clear_pointer(&sv->handover_error, g_free);
        /* Before QEMU starts: its MIGRATION events may come before its
         * answer to migrate. */
        supervisor_set_state(sv, GUEST_MIGRATING);
        migration_start_async(sv->monitor, start->uri, migrate_answered, start);
}

/* The source of a live migration: QEMU sends the guest; the leases stay
 * until QEMU's MIGRATION event says it completed (migration_completed()),
 * whoever watches or not. */
gboolean
supervisor_migrate(Supervisor *sv, const char *uri, SupervisorDoneFunc done, gpointer user_data,
                   GError **error)
{
        const char *why = !sv->monitor                   ? "vmlock has no QMP to it (not QEMU)"
                          : supervisor_is_released(sv)     ? "its leases are released already"
                          : sv->state == GUEST_MIGRATING ? "a migration is under way"
                          : !uri                           ? "no URI"
                                                           : NULL;
        MigrateStart *start;

        if (why) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' cannot migrate: %s", guest_name(sv), why);
                return FALSE;
        }
        if (!supervisor_begin_op(sv, GUEST_OP_STARTING_MIGRATION, error))
                return FALSE;
        start = g_new0(MigrateStart, 1);
        start->sv = sv;
        start->uri = g_strdup(uri);
        start->done = done;
        start->user_data = user_data;
        qemu_vm_query_running_async(sv->monitor, migrate_status_known, start);
        return TRUE;
}

/* QEMU says the migration completed (the guest stopped, its images
 * inactivated and flushed): the leases go, their state for the
 * destination's resume. From the main loop: the event may come amid a
 * command's answer. */
static void
handed_over(const GError *error, gpointer data)
{
        Supervisor *sv = data;

        if (error) {
                /* QEMU stopped it as the migration ended: it is no longer
                 * migrating, only paused, still holding. */
                if (sv->state == GUEST_MIGRATING) {
                        supervisor_set_state(sv, GUEST_PAUSED);
                        supervisor_save_record_or_warn(sv);
                }
                sv->handover_error = g_strdup_printf(
                        "guest '%s' migrated, but its leases are still held here, so its "
                        "destination cannot take them: %s; `vmlock pause --release %s` "
                        "hands them over",
                        guest_name(sv), error->message, guest_name(sv));
                g_printerr("vmlock: %s\n", sv->handover_error);
                return;
        }
        g_printerr("vmlock: guest '%s' migrated: its leases are released for its "
                   "destination\n",
                   guest_name(sv));
}

static gboolean
migration_completed(gpointer data)
{
        Supervisor *sv = data;

        sv->handover_idle = 0;
        if (sv->state != GUEST_MIGRATING)
                return G_SOURCE_REMOVE;
        supervisor_pause_now(sv, TRUE, handed_over, sv);
        return G_SOURCE_REMOVE;
}

/* A migration cancelled (or failed) after migrate-cancel: the source
 * still holds its leases, so it runs again if it ran before (QEMU itself
 * restarts a guest it stopped for the last pass; this covers a QEMU that
 * did not). */
static void
running_again(const GError *error, gpointer data)
{
        Supervisor *sv = data;

        sv->cancelling = FALSE;
        if (error) {
                g_printerr("vmlock: guest '%s': its migration was cancelled, but it cannot "
                           "run again here: %s; it holds its leases: `vmlock resume %s`\n",
                           guest_name(sv), error->message, guest_name(sv));
                return;
        }
        g_printerr("vmlock: guest '%s': migration cancelled: it runs on here, with its "
                   "leases\n",
                   guest_name(sv));
}

static void
cancelled_status_known(gboolean running, const GError *error, gpointer data)
{
        Supervisor *sv = data;

        /* Paused meanwhile (by a client, a lease loss): it stays so. */
        if (!error && (running || sv->state != GUEST_RUNNING || sv->record->lease_lost)) {
                running_again(NULL, sv);
                return;
        }
        if (error) {
                running_again(error, sv);
                return;
        }
        /* With its leases held: supervisor_cont_cpus() refuses otherwise. */
        supervisor_cont_cpus(sv, running_again, sv);
}

static gboolean
migration_cancelled(gpointer data)
{
        Supervisor *sv = data;

        sv->cancelled_idle = 0;
        /* Back where it was (supervisor_migration_event()): paused, by
         * vmlock or QEMU, it stays so. */
        if (sv->state != GUEST_RUNNING || sv->record->lease_lost || !sv->ran_before_migration) {
                sv->cancelling = FALSE;
                return G_SOURCE_REMOVE;
        }
        /* Cancelling until it runs again: `vmlock migrate` waits for that. */
        qemu_vm_query_running_async(sv->monitor, cancelled_status_known, sv);
        return G_SOURCE_REMOVE;
}

void
supervisor_migration_event(Supervisor *sv, MigrationStatus status)
{
        g_debug("migration: %s", migration_status_to_string(status));
        if (sv->state != GUEST_MIGRATING)
                return;
        if (status == MIGRATION_STATUS_COMPLETED && !sv->handover_idle) {
                sv->cancelling = FALSE; /* too late: the hand-over goes on */
                sv->handover_idle = g_idle_add(migration_completed, sv);
        } else if (migration_status_is_final(status)) {
                /* failed, cancelled: it runs on here, as it was */
                supervisor_set_state(sv, sv->state_before_migration);
                if (sv->cancelling && !sv->cancelled_idle)
                        sv->cancelled_idle = g_idle_add(migration_cancelled, sv);
        }
}

static JsonObject *
not_qemu(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;

        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "guest '%s' is not QEMU: it does not migrate", guest_name(sv));
        return qmp_error_from_gerror(error);
}

static JsonObject *
cancelling_reply(Supervisor *sv)
{
        JsonObject *body = json_object_new();

        json_object_set_boolean_member(body, "cancelling", sv->cancelling);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

typedef struct {
        Supervisor *sv;
        SupervisorReplyFunc reply;
        gpointer user_data;
        MigrationProgress progress; /* query-migration */
        gboolean completed;
} MigrationRead;

static MigrationRead *
migration_read_new(Supervisor *sv, SupervisorReplyFunc reply, gpointer user_data)
{
        MigrationRead *read = g_new0(MigrationRead, 1);

        read->sv = sv;
        read->reply = reply;
        read->user_data = user_data;
        return read;
}

static void
migration_read_free(MigrationRead *read)
{
        migration_progress_clear(&read->progress);
        g_free(read);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MigrationRead, migration_read_free)

static void
cancel_answered(const GError *error, gpointer data)
{
        g_autoptr(MigrationRead) read = data;
        Supervisor *sv = read->sv;

        if (error) {
                sv->cancelling = FALSE;
                read->reply(qmp_error_from_gerror(error), read->user_data);
                return;
        }
        read->reply(cancelling_reply(sv), read->user_data);
}

/* Ctrl-C on `vmlock migrate`: QEMU stops sending the guest. Once QEMU said
 * completed, it is too late: the leases go to the destination. */
void
supervisor_migrate_cancel(Supervisor *sv, SupervisorReplyFunc reply, gpointer user_data)
{
        if (!sv->monitor) {
                reply(not_qemu(sv), user_data);
                return;
        }
        if (sv->state == GUEST_MIGRATING && !sv->handover_idle && !sv->cancelling) {
                /* From now: a second cancel is not sent again. */
                sv->cancelling = TRUE;
                migration_cancel_async(sv->monitor, cancel_answered,
                                       migration_read_new(sv, reply, user_data));
                return;
        }
        reply(cancelling_reply(sv), user_data);
}

static JsonObject *
progress_reply(MigrationRead *read, const gboolean *running)
{
        Supervisor *sv = read->sv;
        const MigrationProgress *progress = &read->progress;
        JsonObject *body = json_object_new();

        /* QEMU's word, for the user; what it means, for the client. */
        json_object_set_string_member(body, "status", progress->status_text);
        json_object_set_boolean_member(body, "active",
                                       progress->status == MIGRATION_STATUS_ACTIVE ||
                                               progress->status ==
                                                       MIGRATION_STATUS_POSTCOPY_ACTIVE);
        json_object_set_boolean_member(body, "completed", read->completed);
        /* failed or cancelled: it keeps its leases here */
        json_object_set_boolean_member(body, "ended",
                                       migration_status_is_final(progress->status) &&
                                               !read->completed);
        if (progress->error)
                json_object_set_string_member(body, "error", progress->error);
        json_object_set_int_member(body, "transferred", (gint64)progress->transferred);
        json_object_set_int_member(body, "total", (gint64)progress->total);
        json_object_set_int_member(body, "remaining", (gint64)progress->remaining);
        /* Completed, but the event not handled yet: ask again. */
        json_object_set_boolean_member(body, "handed-over",
                                       read->completed && supervisor_is_released(sv));
        /* Cancelled, but the source not yet running again: ask again. */
        json_object_set_boolean_member(body, "cancelling", sv->cancelling);
        if (running)
                json_object_set_boolean_member(body, "running", *running);
        if (read->completed && supervisor_is_released(sv) && sv->record->lock_state)
                json_object_set_string_member(body, "state", sv->record->lock_state);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

static void
final_status_known(gboolean running, const GError *error, gpointer data)
{
        g_autoptr(MigrationRead) read = data;

        read->reply(progress_reply(read, error ? NULL : &running), read->user_data);
}

static void
progress_known(const MigrationProgress *progress, const GError *error, gpointer data)
{
        MigrationRead *read = data;
        Supervisor *sv = read->sv;
        g_autoptr(GError) handover_error = NULL;

        if (error) {
                read->reply(qmp_error_from_gerror(error), read->user_data);
                migration_read_free(read);
                return;
        }
        read->progress = *progress;
        read->progress.status_text = g_strdup(progress->status_text);
        read->progress.error = g_strdup(progress->error);
        read->completed = progress->status == MIGRATION_STATUS_COMPLETED;
        if (read->completed && sv->handover_error) {
                g_set_error_literal(&handover_error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    sv->handover_error);
                read->reply(qmp_error_from_gerror(handover_error), read->user_data);
                migration_read_free(read);
                return;
        }
        /* Over: whether it runs (here, or again after a cancel). */
        if (migration_status_is_final(progress->status) && !sv->cancelling) {
                qemu_vm_query_running_async(sv->monitor, final_status_known, read);
                return;
        }
        read->reply(progress_reply(read, NULL), read->user_data);
        migration_read_free(read);
}

/* How the migration goes, as QEMU says; once the leases were handed over,
 * the answer carries their state for the destination's resume. */
void
supervisor_query_migration(Supervisor *sv, SupervisorReplyFunc reply, gpointer user_data)
{
        if (!sv->monitor) {
                reply(not_qemu(sv), user_data);
                return;
        }
        migration_query_async(sv->monitor, progress_known,
                              migration_read_new(sv, reply, user_data));
}
