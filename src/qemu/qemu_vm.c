/* vmlock: the guest as QEMU runs it: its CPUs and the images it opened. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include "qemu/qemu_vm.h"

gboolean
qemu_vm_stop(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, "stop", NULL, error);

        return ret != NULL;
}

gboolean
qemu_vm_cont(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, "cont", NULL, error);

        return ret != NULL;
}

gboolean
qemu_vm_powerdown(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, "system_powerdown", NULL, error);

        return ret != NULL;
}

gboolean
qemu_vm_query_running(QemuMonitor *monitor, gboolean *ret_running, GError **error)
{
        g_autoptr(JsonNode) status = qemu_monitor_execute(monitor, "query-status", NULL, error);

        if (!status)
                return FALSE;
        /* Without a word on it, the guest is taken to run: the safer guess
         * for what may write. */
        *ret_running = !JSON_NODE_HOLDS_OBJECT(status) ||
                       json_object_get_boolean_member_with_default(json_node_get_object(status),
                                                                   "running", TRUE);
        return TRUE;
}

GPtrArray *
qemu_vm_query_writable_images(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) nodes = NULL;
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        JsonArray *array;

        json_object_set_boolean_member(arguments, "flat", TRUE);
        nodes = qemu_monitor_execute(monitor, "query-named-block-nodes", arguments, error);
        if (!nodes)
                return NULL;
        array = JSON_NODE_HOLDS_ARRAY(nodes) ? json_node_get_array(nodes) : NULL;
        for (guint i = 0; array && i < json_array_get_length(array); i++) {
                JsonNode *element = json_array_get_element(array, i);
                JsonObject *node = JSON_NODE_HOLDS_OBJECT(element) ? json_node_get_object(element)
                                                                   : NULL;
                const char *drv;
                const char *path;

                if (!node)
                        continue;
                drv = json_object_get_string_member_with_default(node, "drv", "");
                path = json_object_get_string_member_with_default(node, "file", NULL);
                if (!path || json_object_get_boolean_member_with_default(node, "ro", FALSE) ||
                    !(g_str_equal(drv, "file") || g_str_equal(drv, "host_device")))
                        continue;
                if (!g_ptr_array_find_with_equal_func(paths, path, g_str_equal, NULL))
                        g_ptr_array_add(paths, g_strdup(path));
        }
        return g_steal_pointer(&paths);
}
