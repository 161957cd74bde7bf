/* vmlock: the supervisor: live migration, the source's side, handed over on QEMU's event
 * (or cancelled). */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_migration.h"
#include "qemu/qemu_vm.h"
#include "supervisor/supervisor_priv.h"

/* The source of a live migration: QEMU sends the guest; the leases stay
 * until QEMU's MIGRATION event says it completed (migration_completed()),
 * whoever watches or not. */
gboolean
supervisor_migrate(Supervisor *sv, const char *uri, GError **error)
{
        const char *why = !sv->monitor                   ? "vmlock has no QMP to it (not QEMU)"
                          : supervisor_is_released(sv)     ? "its leases are released already"
                          : sv->state == GUEST_MIGRATING ? "a migration is under way"
                          : !uri                           ? "no URI"
                                                           : NULL;

        if (why) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' cannot migrate: %s", guest_name(sv), why);
                return FALSE;
        }
        if (!qemu_vm_query_running(sv->monitor, &sv->ran_before_migration, error) ||
            !migration_start(sv->monitor, uri, error))
                return FALSE;
        g_clear_pointer(&sv->handover_error, g_free);
        supervisor_set_state(sv, GUEST_MIGRATING);
        return TRUE;
}

/* QEMU says the migration completed (the guest stopped, its images
 * inactivated and flushed): the leases go, their state for the
 * destination's resume. From the main loop: the event may come amid a
 * command's answer. */
static gboolean
migration_completed(gpointer data)
{
        Supervisor *sv = data;
        g_autoptr(GError) error = NULL;

        sv->handover_idle = 0;
        if (sv->state != GUEST_MIGRATING)
                return G_SOURCE_REMOVE;
        if (!supervisor_pause(sv, TRUE, &error)) {
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
                return G_SOURCE_REMOVE;
        }
        g_printerr("vmlock: guest '%s' migrated: its leases are released for its "
                   "destination\n",
                   guest_name(sv));
        return G_SOURCE_REMOVE;
}

/* A migration cancelled (or failed) after migrate-cancel: the source
 * still holds its leases, so it runs again if it ran before (QEMU itself
 * restarts a guest it stopped for the last pass; this covers a QEMU that
 * did not). */
static gboolean
migration_cancelled(gpointer data)
{
        Supervisor *sv = data;
        g_autoptr(GError) error = NULL;
        gboolean running = FALSE;

        sv->cancelled_idle = 0;
        sv->cancelling = FALSE;
        /* Back where it was (supervisor_migration_event()): paused, by
         * vmlock or QEMU, it stays so. */
        if (sv->state != GUEST_RUNNING || sv->record->lease_lost || !sv->ran_before_migration)
                return G_SOURCE_REMOVE;
        if (!qemu_vm_query_running(sv->monitor, &running, &error) ||
            (!running && !supervisor_cont_cpus(sv, &error))) {
                g_printerr("vmlock: guest '%s': its migration was cancelled, but it cannot "
                           "run again here: %s; it holds its leases: `vmlock resume %s`\n",
                           guest_name(sv), error->message, guest_name(sv));
                return G_SOURCE_REMOVE;
        }
        g_printerr("vmlock: guest '%s': migration cancelled: it runs on here, with its "
                   "leases\n",
                   guest_name(sv));
        return G_SOURCE_REMOVE;
}

void
supervisor_migration_event(Supervisor *sv, const char *status)
{
        g_debug("migration: %s", status);
        if (sv->state != GUEST_MIGRATING)
                return;
        if (g_str_equal(status, "completed") && !sv->handover_idle) {
                sv->cancelling = FALSE; /* too late: the hand-over goes on */
                sv->handover_idle = g_idle_add(migration_completed, sv);
        } else if (migration_status_is_final(status)) {
                /* failed, cancelled: it runs on here, as it was */
                supervisor_set_state(sv, sv->state_before_migration);
                if (sv->cancelling && !sv->cancelled_idle)
                        sv->cancelled_idle = g_idle_add(migration_cancelled, sv);
        }
}

/* Ctrl-C on `vmlock migrate`: QEMU stops sending the guest. Once QEMU said
 * completed, it is too late: the leases go to the destination. */
JsonObject *
supervisor_migrate_cancel(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;
        JsonObject *body;

        if (!sv->monitor) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' is not QEMU: it does not migrate", guest_name(sv));
                return qmp_error_from_gerror(error);
        }
        if (sv->state == GUEST_MIGRATING && !sv->handover_idle && !sv->cancelling) {
                if (!migration_cancel(sv->monitor, &error))
                        return qmp_error_from_gerror(error);
                sv->cancelling = TRUE;
        }
        body = json_object_new();
        json_object_set_boolean_member(body, "cancelling", sv->cancelling);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

/* How the migration goes, as QEMU says; once the leases were handed over,
 * the answer carries their state for the destination's resume. */
JsonObject *
supervisor_query_migration(Supervisor *sv)
{
        g_auto(MigrationProgress) progress = { 0 };
        g_autoptr(GError) error = NULL;
        gboolean completed;
        JsonObject *body;

        if (!sv->monitor) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' is not QEMU: it does not migrate", guest_name(sv));
                return qmp_error_from_gerror(error);
        }
        if (!migration_query(sv->monitor, &progress, &error))
                return qmp_error_from_gerror(error);
        completed = g_str_equal(progress.status, "completed");
        if (completed && sv->handover_error) {
                g_set_error_literal(&error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    sv->handover_error);
                return qmp_error_from_gerror(error);
        }
        body = json_object_new();
        json_object_set_string_member(body, "status", progress.status);
        if (progress.error)
                json_object_set_string_member(body, "error", progress.error);
        json_object_set_int_member(body, "transferred", (gint64)progress.transferred);
        json_object_set_int_member(body, "total", (gint64)progress.total);
        json_object_set_int_member(body, "remaining", (gint64)progress.remaining);
        /* Completed, but the event not handled yet: ask again. */
        json_object_set_boolean_member(body, "handed-over",
                                       completed && supervisor_is_released(sv));
        /* Cancelled, but the source not yet running again: ask again. */
        json_object_set_boolean_member(body, "cancelling", sv->cancelling);
        if (migration_status_is_final(progress.status) && !sv->cancelling) {
                gboolean running = FALSE;

                if (qemu_vm_query_running(sv->monitor, &running, NULL))
                        json_object_set_boolean_member(body, "running", running);
        }
        if (completed && supervisor_is_released(sv) && sv->record->lock_state)
                json_object_set_string_member(body, "state", sv->record->lock_state);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}
