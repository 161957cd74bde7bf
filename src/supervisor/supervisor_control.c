/* vmlock: the supervisor: the control socket's commands. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "supervisor/guest_status.h"
#include "supervisor/supervisor_priv.h"

/* The control socket's commands. */

static const char *
arg_string(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_STRING ? json_node_get_string(node)
                                                                        : NULL;
}

static gboolean
arg_bool(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
               json_node_get_boolean(node);
}

static guint64
arg_uint(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_INT64 &&
                               json_node_get_int(node) > 0
                       ? (guint64)json_node_get_int(node)
                       : 0;
}

static JsonObject *
state_reply(const char *state)
{
        JsonObject *body = json_object_new();

        if (state)
                json_object_set_string_member(body, "state", state);
        else
                json_object_set_null_member(body, "state");
        return qmp_return_new(json_node_init_object(json_node_alloc(), body), NULL);
}

JsonObject *
supervisor_control_command(QmpServerClient *client, const char *command, JsonObject *arguments,
                gpointer user_data)
{
        Supervisor *sv = user_data;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        gboolean ok;

        g_debug("control: %s", command);
        if (g_str_equal(command, "query-guest")) {
                g_autofree char *inquired = NULL;

                /* Best effort: status still shows the guest when the daemon
                 * does not answer. */
                if (!sv->record->released)
                        supervisor_inquire(sv, &inquired, NULL);
                JsonNode *status = guest_status_to_json(sv->record, sv->manager, inquired);
                JsonArray *unprotected = json_array_new();

                for (guint i = 0; i < sv->unprotected->len; i++)
                        json_array_add_string_element(unprotected,
                                                      g_ptr_array_index(sv->unprotected, i));
                json_object_set_array_member(json_node_get_object(status), "unprotected",
                                             unprotected);
                return qmp_return_new(status, NULL);
        } else if (g_str_equal(command, "pause")) {
                ok = supervisor_pause(sv, arg_bool(arguments, "release"), &error);
                if (ok)
                        return state_reply(arg_bool(arguments, "release")
                                                   ? sv->record->lock_state
                                                   : NULL);
        } else if (g_str_equal(command, "resume")) {
                ok = supervisor_resume(sv, arg_string(arguments, "state"), &error);
        } else if (g_str_equal(command, "inquire")) {
                ok = supervisor_inquire(sv, &state, &error);
                if (ok)
                        return state_reply(state);
        } else if (g_str_equal(command, "attach-disk")) {
                const char *type_str = arg_string(arguments, "type");
                int type = vmlock_disk_type_from_string(type_str ? type_str : "file");
                VmlockDisk *disk = NULL;

                if (type < 0)
                        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "unknown disk type '%s'", type_str);
                else
                        disk = vmlock_disk_new(type, VMLOCK_DISK_DEVICE_DISK,
                                               arg_string(arguments, "path"),
                                               arg_bool(arguments, "readonly"),
                                               arg_bool(arguments, "shareable"), &error);
                if (disk && sv->monitor && !arg_bool(arguments, "lease-only"))
                        ok = supervisor_plug_disk(sv, disk, arg_string(arguments, "format"),
                                                  arg_string(arguments, "bus"), &error);
                else
                        ok = disk && supervisor_attach_disk(sv, disk, &error);
        } else if (g_str_equal(command, "detach-disk")) {
                const char *path = arg_string(arguments, "path");

                /* QEMU has it: its lease goes only once QEMU let go. */
                if (path && g_hash_table_contains(sv->plugged, path)) {
                        if (supervisor_unplug_disk(sv, client, path, &error))
                                return NULL; /* answered once QEMU let go */
                        ok = FALSE;
                } else {
                        ok = supervisor_detach_disk(sv, path, &error);
                }
        } else if (g_str_equal(command, "attach-lease")) {
                VmlockLease *lease = vmlock_lease_new(arg_string(arguments, "lockspace"),
                                                      arg_string(arguments, "key"),
                                                      arg_string(arguments, "path"),
                                                      arg_uint(arguments, "offset"), &error);

                ok = lease && supervisor_attach_lease(sv, lease, &error);
        } else if (g_str_equal(command, "detach-lease")) {
                ok = supervisor_detach_lease(sv, arg_string(arguments, "lockspace"),
                                             arg_string(arguments, "key"), &error);
        } else if (g_str_equal(command, "migrate")) {
                ok = supervisor_migrate(sv, arg_string(arguments, "uri"), &error);
        } else if (g_str_equal(command, "query-migration")) {
                return supervisor_query_migration(sv);
        } else if (g_str_equal(command, "lock-failure")) {
                const char *uuid = arg_string(arguments, "uuid");

                if (g_strcmp0(uuid, vmlock_domain_get_uuid_string(sv->record->dom)) != 0) {
                        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "guest '%s' has uuid %s, not %s", guest_name(sv),
                                    vmlock_domain_get_uuid_string(sv->record->dom),
                                    uuid ? uuid : "(none)");
                        ok = FALSE;
                } else {
                        ok = supervisor_lock_failure(sv, arg_string(arguments, "action"),
                                                     &error);
                }
        } else {
                return qmp_error_new("CommandNotFound", NULL, "The command %s has not been found",
                                     command);
        }
        if (!ok)
                return qmp_error_from_gerror(error);
        return qmp_return_new(NULL, NULL);
}

JsonObject *
supervisor_control_greeting(Supervisor *sv)
{
        g_autoptr(JsonObject) greeting = json_object_new();
        JsonObject *body = json_object_new();

        json_object_set_string_member(body, "vmlock", VMLOCK_VERSION);
        json_object_set_string_member(body, "guest", guest_name(sv));
        json_object_set_array_member(body, "capabilities", json_array_new());
        json_object_set_object_member(greeting, "QMP", body);
        return g_steal_pointer(&greeting);
}
