/* vmlock: QEMU's events, typed. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include "qemu/qemu_event.h"

/* data.@member of @event, when a string. */
static const char *
data_string(JsonObject *event, const char *member)
{
        JsonNode *data = json_object_get_member(event, "data");
        JsonNode *value = data && JSON_NODE_HOLDS_OBJECT(data)
                                  ? json_object_get_member(json_node_get_object(data), member)
                                  : NULL;

        return value && json_node_get_value_type(value) == G_TYPE_STRING
                       ? json_node_get_string(value)
                       : NULL;
}

void
qemu_event_parse(JsonObject *event, QemuEvent *ret_event)
{
        JsonNode *name_node = json_object_get_member(event, "event");
        const char *name = name_node && json_node_get_value_type(name_node) == G_TYPE_STRING
                                   ? json_node_get_string(name_node)
                                   : "";

        *ret_event = (QemuEvent){ .kind = QEMU_EVENT_OTHER };
        if (g_str_equal(name, "STOP")) {
                ret_event->kind = QEMU_EVENT_STOP;
        } else if (g_str_equal(name, "RESUME")) {
                ret_event->kind = QEMU_EVENT_RESUME;
        } else if (g_str_equal(name, "DEVICE_DELETED")) {
                ret_event->device = data_string(event, "device");
                if (ret_event->device)
                        ret_event->kind = QEMU_EVENT_DEVICE_DELETED;
        } else if (g_str_equal(name, "MIGRATION")) {
                const char *status = data_string(event, "status");

                if (status) {
                        ret_event->kind = QEMU_EVENT_MIGRATION;
                        ret_event->migration = migration_status_from_string(status);
                }
        }
}
