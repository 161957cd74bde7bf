/* vmlock: QEMU live migration over its monitor, the QMP side. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <vmlock/error.h>

#include "qemu/qemu_migration.h"

static const char *const status_names[] = {
        [MIGRATION_STATUS_UNKNOWN] = "unknown",
        [MIGRATION_STATUS_NONE] = "none",
        [MIGRATION_STATUS_SETUP] = "setup",
        [MIGRATION_STATUS_CANCELLING] = "cancelling",
        [MIGRATION_STATUS_CANCELLED] = "cancelled",
        [MIGRATION_STATUS_ACTIVE] = "active",
        [MIGRATION_STATUS_POSTCOPY_ACTIVE] = "postcopy-active",
        [MIGRATION_STATUS_POSTCOPY_PAUSED] = "postcopy-paused",
        [MIGRATION_STATUS_POSTCOPY_RECOVER] = "postcopy-recover",
        [MIGRATION_STATUS_COMPLETED] = "completed",
        [MIGRATION_STATUS_FAILED] = "failed",
        [MIGRATION_STATUS_COLO] = "colo",
        [MIGRATION_STATUS_PRE_SWITCHOVER] = "pre-switchover",
        [MIGRATION_STATUS_DEVICE] = "device",
        [MIGRATION_STATUS_WAIT_UNPLUG] = "wait-unplug",
};

MigrationStatus
migration_status_from_string(const char *text)
{
        /* "unknown" is not QEMU's: it stays UNKNOWN, as any other stranger. */
        for (guint i = MIGRATION_STATUS_UNKNOWN + 1; text && i < G_N_ELEMENTS(status_names);
             i++) {
                if (g_str_equal(text, status_names[i]))
                        return (MigrationStatus)i;
        }
        return MIGRATION_STATUS_UNKNOWN;
}

const char *
migration_status_to_string(MigrationStatus status)
{
        return (guint)status < G_N_ELEMENTS(status_names) ? status_names[status] : "unknown";
}

gboolean
migration_status_is_final(MigrationStatus status)
{
        return status == MIGRATION_STATUS_COMPLETED || status == MIGRATION_STATUS_FAILED ||
               status == MIGRATION_STATUS_CANCELLED;
}

void
migration_progress_clear(MigrationProgress *progress)
{
        g_clear_pointer(&progress->status_text, g_free);
        g_clear_pointer(&progress->error, g_free);
}

static gboolean
has_capability(JsonNode *capabilities, const char *name)
{
        JsonArray *array = JSON_NODE_HOLDS_ARRAY(capabilities)
                                   ? json_node_get_array(capabilities)
                                   : NULL;

        for (guint i = 0; array && i < json_array_get_length(array); i++) {
                JsonObject *cap = json_array_get_object_element(array, i);

                if (cap && g_strcmp0(json_object_get_string_member_with_default(
                                             cap, "capability", NULL),
                                     name) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* migrate-set-capabilities' arguments for one capability. */
static JsonObject *
capability_arguments(const char *name, gboolean state)
{
        JsonObject *arguments = json_object_new();
        JsonArray *list = json_array_new();
        JsonObject *cap = json_object_new();

        json_object_set_string_member(cap, "capability", name);
        json_object_set_boolean_member(cap, "state", state);
        json_array_add_object_element(list, cap);
        json_object_set_array_member(arguments, "capabilities", list);
        return arguments;
}

static gboolean
set_capability(QemuMonitor *monitor, const char *name, gboolean state, GError **error)
{
        g_autoptr(JsonObject) arguments = capability_arguments(name, state);
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, "migrate-set-capabilities",
                                                       arguments, error);

        return ret != NULL;
}

/* Waits: the destination's start-up, before anything is served. */
gboolean
migration_incoming(QemuMonitor *monitor, const char *uri, gboolean *ret_late_block_activate,
                   GError **error)
{
        g_autoptr(JsonNode) capabilities = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_autoptr(JsonObject) arguments = json_object_new();
        gboolean late;

        g_debug("incoming migration at %s", uri);
        capabilities = qemu_monitor_execute(monitor, "query-migrate-capabilities", NULL, error);
        if (!capabilities)
                return FALSE;
        /* Without it, QEMU activates the images (reads and may write their
         * metadata) as the migration ends, before vmlock holds the leases. */
        late = has_capability(capabilities, "late-block-activate");
        if (late) {
                if (!set_capability(monitor, "late-block-activate", TRUE, error))
                        return FALSE;
        }
        json_object_set_string_member(arguments, "uri", uri);
        ret = qemu_monitor_execute(monitor, "migrate-incoming", arguments, error);
        if (!ret)
                return FALSE;
        *ret_late_block_activate = late;
        return TRUE;
}

typedef struct {
        QemuMonitor *monitor;
        char *uri;
        QemuDoneFunc done;
        gpointer user_data;
} StartCall;

static void
start_call_free(StartCall *call)
{
        g_free(call->uri);
        g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StartCall, start_call_free)

static void
migrate_answered(const GError *error, gpointer data)
{
        g_autoptr(StartCall) call = data;

        call->done(error, call->user_data);
}

static void
events_enabled(const GError *error, gpointer data)
{
        StartCall *call = data;
        g_autoptr(JsonObject) arguments = NULL;

        if (error) {
                migrate_answered(error, call);
                return;
        }
        arguments = json_object_new();
        json_object_set_string_member(arguments, "uri", call->uri);
        qemu_monitor_call_done(call->monitor, "migrate", arguments, migrate_answered, call);
}

void
migration_start_async(QemuMonitor *monitor, const char *uri, QemuDoneFunc done,
                      gpointer user_data)
{
        g_autoptr(JsonObject) arguments = capability_arguments("events", TRUE);
        StartCall *call = g_new0(StartCall, 1);

        g_debug("migrating to %s", uri);
        call->monitor = monitor;
        call->uri = g_strdup(uri);
        call->done = done;
        call->user_data = user_data;
        /* QEMU reports the migration's end only with this on. */
        qemu_monitor_call_done(monitor, "migrate-set-capabilities", arguments, events_enabled,
                               call);
}

void
migration_cancel_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data)
{
        g_debug("cancelling the migration");
        qemu_monitor_call_done(monitor, "migrate_cancel", NULL, done, user_data);
}

void
migration_progress_parse(JsonNode *ret, MigrationProgress *ret_progress)
{
        JsonObject *info = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
        JsonNode *ram_node = info ? json_object_get_member(info, "ram") : NULL;
        JsonObject *ram = ram_node && JSON_NODE_HOLDS_OBJECT(ram_node)
                                  ? json_node_get_object(ram_node)
                                  : NULL;

        /* No status: no migration was ever started. */
        ret_progress->status_text = g_strdup(
                info ? json_object_get_string_member_with_default(info, "status", "none")
                     : "none");
        ret_progress->status = migration_status_from_string(ret_progress->status_text);
        ret_progress->error = g_strdup(
                info ? json_object_get_string_member_with_default(info, "error-desc", NULL)
                     : NULL);
        if (ram) {
                ret_progress->transferred = json_object_get_int_member_with_default(
                        ram, "transferred", 0);
                ret_progress->total = json_object_get_int_member_with_default(ram, "total", 0);
                ret_progress->remaining = json_object_get_int_member_with_default(
                        ram, "remaining", 0);
        }
}

typedef struct {
        MigrationProgressFunc func;
        gpointer user_data;
} QueryCall;

static void
query_answered(JsonNode *ret, const GError *error, gpointer data)
{
        g_autofree QueryCall *call = data;
        g_auto(MigrationProgress) progress = { 0 };

        if (error) {
                call->func(NULL, error, call->user_data);
                return;
        }
        migration_progress_parse(ret, &progress);
        call->func(&progress, NULL, call->user_data);
}

void
migration_query_async(QemuMonitor *monitor, MigrationProgressFunc func, gpointer user_data)
{
        QueryCall *call = g_new0(QueryCall, 1);

        call->func = func;
        call->user_data = user_data;
        qemu_monitor_call(monitor, "query-migrate", NULL, query_answered, call);
}
