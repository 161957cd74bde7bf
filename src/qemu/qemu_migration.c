/* vmlock: QEMU live migration over its monitor, the QMP side. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <vmlock/error.h>

#include "qemu/qemu_migration.h"

void
migration_progress_clear(MigrationProgress *progress)
{
        g_clear_pointer(&progress->status, g_free);
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

/* migrate-set-capabilities of one capability. */
static gboolean
set_capability(QemuMonitor *monitor, const char *name, gboolean state, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) ret = NULL;
        JsonArray *list = json_array_new();
        JsonObject *cap = json_object_new();

        json_object_set_string_member(cap, "capability", name);
        json_object_set_boolean_member(cap, "state", state);
        json_array_add_object_element(list, cap);
        json_object_set_array_member(arguments, "capabilities", list);
        ret = qemu_monitor_execute(monitor, "migrate-set-capabilities", arguments, error);
        return ret != NULL;
}

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

gboolean
migration_start(QemuMonitor *monitor, const char *uri, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) ret = NULL;

        g_debug("migrating to %s", uri);
        /* QEMU reports the migration's end only with this on. */
        if (!set_capability(monitor, "events", TRUE, error))
                return FALSE;
        json_object_set_string_member(arguments, "uri", uri);
        ret = qemu_monitor_execute(monitor, "migrate", arguments, error);
        return ret != NULL;
}

gboolean
migration_cancel(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonNode) ret = NULL;

        g_debug("cancelling the migration");
        ret = qemu_monitor_execute(monitor, "migrate_cancel", NULL, error);
        return ret != NULL;
}

gboolean
migration_query(QemuMonitor *monitor, MigrationProgress *ret_progress, GError **error)
{
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, "query-migrate", NULL, error);
        JsonObject *info;
        JsonObject *ram;

        if (!ret)
                return FALSE;
        info = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
        ret_progress->status = g_strdup(
                info ? json_object_get_string_member_with_default(info, "status", "none")
                     : "none");
        ret_progress->error = g_strdup(
                info ? json_object_get_string_member_with_default(info, "error-desc", NULL)
                     : NULL);
        ram = info && json_object_has_member(info, "ram")
                      ? json_object_get_object_member(info, "ram")
                      : NULL;
        if (ram) {
                ret_progress->transferred = json_object_get_int_member_with_default(
                        ram, "transferred", 0);
                ret_progress->total = json_object_get_int_member_with_default(ram, "total", 0);
                ret_progress->remaining = json_object_get_int_member_with_default(
                        ram, "remaining", 0);
        }
        return TRUE;
}

gboolean
migration_status_is_final(const char *status)
{
        return g_strcmp0(status, "completed") == 0 || g_strcmp0(status, "failed") == 0 ||
               g_strcmp0(status, "cancelled") == 0;
}
