/* vmlock: the guest as QEMU runs it: its CPUs and the images it opened. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <string.h>

#include "qemu/qemu_vm.h"

void
qemu_vm_stop_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data)
{
        qemu_monitor_call_done(monitor, "stop", NULL, done, user_data);
}

void
qemu_vm_cont_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data)
{
        qemu_monitor_call_done(monitor, "cont", NULL, done, user_data);
}

void
qemu_vm_powerdown_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data)
{
        qemu_monitor_call_done(monitor, "system_powerdown", NULL, done, user_data);
}

/* query-status' answer: without a word on it, the guest is taken to run,
 * the safer guess for what may write. */
static gboolean
status_is_running(JsonNode *status)
{
        return !JSON_NODE_HOLDS_OBJECT(status) ||
               json_object_get_boolean_member_with_default(json_node_get_object(status),
                                                           "running", TRUE);
}

typedef struct {
        QemuRunningFunc func;
        gpointer user_data;
} RunningCall;

static void
status_answered(JsonNode *ret, const GError *error, gpointer data)
{
        g_autofree RunningCall *call = data;

        call->func(!error && status_is_running(ret), error, call->user_data);
}

void
qemu_vm_query_running_async(QemuMonitor *monitor, QemuRunningFunc func, gpointer user_data)
{
        RunningCall *call = g_new0(RunningCall, 1);

        call->func = func;
        call->user_data = user_data;
        qemu_monitor_call(monitor, "query-status", NULL, status_answered, call);
}

gboolean
qemu_vm_query_running(QemuMonitor *monitor, gboolean *ret_running, GError **error)
{
        g_autoptr(JsonNode) status = qemu_monitor_execute(monitor, "query-status", NULL, error);

        if (!status)
                return FALSE;
        *ret_running = status_is_running(status);
        return TRUE;
}

static const char *
node_string(JsonObject *node, const char *member)
{
        return json_object_get_string_member_with_default(node, member, NULL);
}

/* The file under a format node's json: filename ("json:{..., "file":
 * {"driver": "file", "filename": P}}"), or NULL. */
static char *
json_filename_file(const char *filename)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *root;
        JsonObject *file;
        const char *path;

        if (!filename || !g_str_has_prefix(filename, "json:") ||
            !json_parser_load_from_data(parser, filename + strlen("json:"), -1, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
                return NULL;
        root = json_node_get_object(json_parser_get_root(parser));
        file = json_object_has_member(root, "file") &&
                               JSON_NODE_HOLDS_OBJECT(json_object_get_member(root, "file"))
                       ? json_object_get_object_member(root, "file")
                       : NULL;
        path = file ? json_object_get_string_member_with_default(file, "filename", NULL) : NULL;
        return g_strdup(path);
}

/* QEMU's temporary snapshot overlays (snapshot=on, -snapshot): a qcow2
 * node over a backing image, in a file QEMU made itself with mkstemp
 * ("vl.XXXXXX" in $TMPDIR or /var/tmp) and removes at exit. Its writes go
 * to no image anyone else opens, so it needs no lease. */
static GPtrArray *
temporary_overlays(JsonArray *nodes)
{
        g_autoptr(GPtrArray) overlays = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GRegex) mkstemp_name = g_regex_new("^vl\\.[A-Za-z0-9]{6}$", 0, 0, NULL);

        for (guint i = 0; i < json_array_get_length(nodes); i++) {
                JsonNode *element = json_array_get_element(nodes, i);
                JsonObject *node = JSON_NODE_HOLDS_OBJECT(element) ? json_node_get_object(element)
                                                                   : NULL;
                g_autofree char *path = NULL;
                g_autofree char *base = NULL;

                if (!node || g_strcmp0(node_string(node, "drv"), "qcow2") != 0 ||
                    !node_string(node, "backing_file"))
                        continue;
                path = json_filename_file(node_string(node, "file"));
                if (!path)
                        continue;
                base = g_path_get_basename(path);
                if (g_regex_match(mkstemp_name, base, 0, NULL))
                        g_ptr_array_add(overlays, g_steal_pointer(&path));
        }
        return g_steal_pointer(&overlays);
}

GPtrArray *
qemu_vm_writable_images(JsonArray *nodes)
{
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) overlays = temporary_overlays(nodes);

        for (guint i = 0; i < json_array_get_length(nodes); i++) {
                JsonNode *element = json_array_get_element(nodes, i);
                JsonObject *node = JSON_NODE_HOLDS_OBJECT(element) ? json_node_get_object(element)
                                                                   : NULL;
                const char *drv;
                const char *path;

                if (!node)
                        continue;
                drv = json_object_get_string_member_with_default(node, "drv", "");
                path = node_string(node, "file");
                if (!path || json_object_get_boolean_member_with_default(node, "ro", FALSE) ||
                    !(g_str_equal(drv, "file") || g_str_equal(drv, "host_device")))
                        continue;
                if (g_ptr_array_find_with_equal_func(overlays, path, g_str_equal, NULL)) {
                        g_debug("%s: QEMU's temporary snapshot overlay, not an image", path);
                        continue;
                }
                if (!g_ptr_array_find_with_equal_func(paths, path, g_str_equal, NULL))
                        g_ptr_array_add(paths, g_strdup(path));
        }
        return g_steal_pointer(&paths);
}

GPtrArray *
qemu_vm_query_writable_images(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) nodes = NULL;

        json_object_set_boolean_member(arguments, "flat", TRUE);
        nodes = qemu_monitor_execute(monitor, "query-named-block-nodes", arguments, error);
        if (!nodes)
                return NULL;
        if (!JSON_NODE_HOLDS_ARRAY(nodes))
                return g_ptr_array_new_with_free_func(g_free);
        return qemu_vm_writable_images(json_node_get_array(nodes));
}
