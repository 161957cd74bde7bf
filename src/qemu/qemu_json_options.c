/* vmlock: JSON option values of QEMU's command line, flattened as QEMU's
 * keyval does. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <json-glib/json-glib.h>

#include "qemu/qemu_json_options.h"

static gboolean flatten_json(JsonNode *node, const char *key, GHashTable *kv, char **ret_problem);

static gboolean
flatten_json_object(JsonObject *object, const char *prefix, GHashTable *kv, char **ret_problem)
{
        g_autoptr(GList) members = json_object_get_members(object);

        for (GList *l = members; l; l = l->next) {
                g_autofree char *key = prefix ? g_strconcat(prefix, ".", l->data, NULL)
                                              : g_strdup(l->data);

                if (!flatten_json(json_object_get_member(object, l->data), key, kv,
                                  ret_problem))
                        return FALSE;
        }
        return TRUE;
}

static gboolean
flatten_json(JsonNode *node, const char *key, GHashTable *kv, char **ret_problem)
{
        switch (json_node_get_node_type(node)) {
        case JSON_NODE_OBJECT:
                return flatten_json_object(json_node_get_object(node), key, kv, ret_problem);
        case JSON_NODE_ARRAY: {
                JsonArray *array = json_node_get_array(node);

                for (guint i = 0; i < json_array_get_length(array); i++) {
                        g_autofree char *item = g_strdup_printf("%s.%u", key, i);

                        if (!flatten_json(json_array_get_element(array, i), item, kv,
                                          ret_problem))
                                return FALSE;
                }
                return TRUE;
        }
        case JSON_NODE_NULL:
                g_hash_table_insert(kv, g_strdup(key), g_strdup(""));
                return TRUE;
        case JSON_NODE_VALUE:
                break;
        }
        switch (json_node_get_value_type(node)) {
        case G_TYPE_STRING:
                g_hash_table_insert(kv, g_strdup(key), g_strdup(json_node_get_string(node)));
                return TRUE;
        case G_TYPE_BOOLEAN:
                g_hash_table_insert(kv, g_strdup(key),
                                    g_strdup(json_node_get_boolean(node) ? "on" : "off"));
                return TRUE;
        case G_TYPE_INT64:
                g_hash_table_insert(kv, g_strdup(key),
                                    g_strdup_printf("%" G_GINT64_FORMAT,
                                                    json_node_get_int(node)));
                return TRUE;
        case G_TYPE_DOUBLE:
                g_hash_table_insert(kv, g_strdup(key),
                                    g_strdup_printf("%g", json_node_get_double(node)));
                return TRUE;
        default:
                *ret_problem = g_strdup_printf("'%s' has a value of an unknown type", key);
                return FALSE;
        }
}

gboolean
qemu_json_options_parse(const char *text, GHashTable *kv, gpointer user_data,
                        char **ret_problem)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        JsonNode *root;

        if (!json_parser_load_from_data(parser, text, -1, &local)) {
                *ret_problem = g_strdup_printf("not valid JSON: %s", local->message);
                return FALSE;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                *ret_problem = g_strdup("not a JSON object");
                return FALSE;
        }
        return flatten_json_object(json_node_get_object(root), NULL, kv, ret_problem);
}

const QemuJsonOptions qemu_json_options = { .parse = qemu_json_options_parse };
