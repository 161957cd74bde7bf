/* vmlock: the supervisor: live migration, the source's side, handed over on QEMU's event. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_migration.h"
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
        if (!migration_start(sv->monitor, uri, error))
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

void
supervisor_migration_event(Supervisor *sv, const char *status)
{
        g_debug("migration: %s", status);
        if (sv->state != GUEST_MIGRATING)
                return;
        if (g_str_equal(status, "completed") && !sv->handover_idle)
                sv->handover_idle = g_idle_add(migration_completed, sv);
        else if (migration_status_is_final(status))
                /* failed, cancelled: it runs on here, as it was */
                supervisor_set_state(sv, sv->state_before_migration);
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
        if (completed && supervisor_is_released(sv) && sv->record->lock_state)
                json_object_set_string_member(body, "state", sv->record->lock_state);
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}
