/* vmlock: the control protocol, declared once. */
#define G_LOG_DOMAIN "vmlock-control"

#include "config-build.h"

#include <vmlock/error.h>

#include "control/control_protocol.h"

#define END { NULL, 0, FALSE }

static const ControlArg no_args[] = { END };
static const ControlArg pause_args[] = { { "release", CONTROL_ARG_BOOL, FALSE }, END };
static const ControlArg resume_args[] = { { "state", CONTROL_ARG_STRING, FALSE }, END };
static const ControlArg attach_disk_args[] = {
        { "path", CONTROL_ARG_STRING, TRUE },
        { "type", CONTROL_ARG_STRING, FALSE },
        { "readonly", CONTROL_ARG_BOOL, FALSE },
        { "shareable", CONTROL_ARG_BOOL, FALSE },
        { "lease-only", CONTROL_ARG_BOOL, FALSE },
        { "format", CONTROL_ARG_STRING, FALSE },
        { "bus", CONTROL_ARG_STRING, FALSE },
        { "cache", CONTROL_ARG_STRING, FALSE },
        END,
};
static const ControlArg detach_disk_args[] = { { "path", CONTROL_ARG_STRING, TRUE }, END };
static const ControlArg attach_lease_args[] = {
        { "lockspace", CONTROL_ARG_STRING, FALSE },
        { "key", CONTROL_ARG_STRING, TRUE },
        { "path", CONTROL_ARG_STRING, FALSE },
        { "offset", CONTROL_ARG_UINT, FALSE },
        END,
};
static const ControlArg detach_lease_args[] = {
        { "lockspace", CONTROL_ARG_STRING, FALSE },
        { "key", CONTROL_ARG_STRING, TRUE },
        END,
};
static const ControlArg migrate_args[] = { { "uri", CONTROL_ARG_STRING, TRUE }, END };
static const ControlArg stop_args[] = { { "timeout", CONTROL_ARG_UINT, FALSE }, END };
static const ControlArg lock_failure_args[] = {
        { "action", CONTROL_ARG_STRING, TRUE },
        { "uuid", CONTROL_ARG_STRING, TRUE },
        END,
};

/* In ControlCommandId order. */
static const ControlCommand commands[] = {
        { CONTROL_QUERY_GUEST, "query-guest", no_args },
        { CONTROL_PAUSE, "pause", pause_args },
        { CONTROL_RESUME, "resume", resume_args },
        { CONTROL_INQUIRE, "inquire", no_args },
        { CONTROL_ATTACH_DISK, "attach-disk", attach_disk_args },
        { CONTROL_DETACH_DISK, "detach-disk", detach_disk_args },
        { CONTROL_ATTACH_LEASE, "attach-lease", attach_lease_args },
        { CONTROL_DETACH_LEASE, "detach-lease", detach_lease_args },
        { CONTROL_MIGRATE, "migrate", migrate_args },
        { CONTROL_MIGRATE_CANCEL, "migrate-cancel", no_args },
        { CONTROL_QUERY_MIGRATION, "query-migration", no_args },
        { CONTROL_LOCK_FAILURE, "lock-failure", lock_failure_args },
        { CONTROL_STOP, "stop", stop_args },
};

const ControlCommand *
control_command_get(ControlCommandId id)
{
        g_return_val_if_fail((gsize)id < G_N_ELEMENTS(commands), NULL);
        g_assert(commands[id].id == id);
        return &commands[id];
}

const ControlCommand *
control_command_lookup(const char *name)
{
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (g_str_equal(commands[i].name, name))
                        return &commands[i];
        }
        return NULL;
}

static const ControlArg *
find_arg(const ControlCommand *command, const char *name)
{
        for (const ControlArg *arg = command->args; arg->name; arg++) {
                if (g_str_equal(arg->name, name))
                        return arg;
        }
        return NULL;
}

static gboolean
has_type(JsonNode *value, ControlArgType type)
{
        switch (type) {
        case CONTROL_ARG_STRING:
                return json_node_get_value_type(value) == G_TYPE_STRING;
        case CONTROL_ARG_BOOL:
                return json_node_get_value_type(value) == G_TYPE_BOOLEAN;
        case CONTROL_ARG_UINT:
                return json_node_get_value_type(value) == G_TYPE_INT64 &&
                       json_node_get_int(value) >= 0;
        }
        return FALSE;
}

static const char *
type_name(ControlArgType type)
{
        switch (type) {
        case CONTROL_ARG_STRING:
                return "a string";
        case CONTROL_ARG_BOOL:
                return "a boolean";
        case CONTROL_ARG_UINT:
                return "a number (0 or more)";
        }
        return "?";
}

gboolean
control_command_check(const ControlCommand *command, JsonObject *arguments, GError **error)
{
        JsonObjectIter iter;
        const char *member;
        JsonNode *value;

        if (arguments) {
                json_object_iter_init(&iter, arguments);
                while (json_object_iter_next(&iter, &member, &value)) {
                        const ControlArg *arg = find_arg(command, member);

                        if (!arg) {
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                            "control command '%s' has no argument '%s'",
                                            command->name, member);
                                return FALSE;
                        }
                        if (!has_type(value, arg->type)) {
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                            "control command '%s': argument '%s' must be %s",
                                            command->name, member, type_name(arg->type));
                                return FALSE;
                        }
                }
        }
        for (const ControlArg *arg = command->args; arg->name; arg++) {
                if (arg->required && !(arguments && json_object_has_member(arguments, arg->name))) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "control command '%s' needs argument '%s'", command->name,
                                    arg->name);
                        return FALSE;
                }
        }
        return TRUE;
}

/* @name, declared for @id with @type: anything else is a bug. */
static gboolean
declared(ControlCommandId id, const char *name, ControlArgType type)
{
        const ControlArg *arg = find_arg(control_command_get(id), name);

        if (!arg || arg->type != type) {
                g_critical("control command '%s' declares no argument '%s' (%s)",
                           control_command_get(id)->name, name, type_name(type));
                return FALSE;
        }
        return TRUE;
}

static JsonNode *
arg_value(ControlCommandId id, JsonObject *arguments, const char *name, ControlArgType type)
{
        JsonNode *value;

        if (!declared(id, name, type) || !arguments)
                return NULL;
        value = json_object_get_member(arguments, name);
        return value && has_type(value, type) ? value : NULL;
}

const char *
control_arg_string(ControlCommandId id, JsonObject *arguments, const char *name)
{
        JsonNode *value = arg_value(id, arguments, name, CONTROL_ARG_STRING);

        return value ? json_node_get_string(value) : NULL;
}

gboolean
control_arg_bool(ControlCommandId id, JsonObject *arguments, const char *name)
{
        JsonNode *value = arg_value(id, arguments, name, CONTROL_ARG_BOOL);

        return value && json_node_get_boolean(value);
}

guint64
control_arg_uint(ControlCommandId id, JsonObject *arguments, const char *name)
{
        JsonNode *value = arg_value(id, arguments, name, CONTROL_ARG_UINT);

        return value ? (guint64)json_node_get_int(value) : 0;
}

void
control_args_set_string(JsonObject *arguments, ControlCommandId id, const char *name,
                        const char *value)
{
        if (declared(id, name, CONTROL_ARG_STRING) && value)
                json_object_set_string_member(arguments, name, value);
}

void
control_args_set_bool(JsonObject *arguments, ControlCommandId id, const char *name,
                      gboolean value)
{
        if (declared(id, name, CONTROL_ARG_BOOL))
                json_object_set_boolean_member(arguments, name, value);
}

void
control_args_set_uint(JsonObject *arguments, ControlCommandId id, const char *name,
                      guint64 value)
{
        if (declared(id, name, CONTROL_ARG_UINT))
                json_object_set_int_member(arguments, name, (gint64)MIN(value, G_MAXINT64));
}

JsonObject *
control_greeting_new(const char *vmlock_version, const char *guest)
{
        JsonObject *greeting = json_object_new();
        JsonObject *body = json_object_new();

        json_object_set_string_member(body, "vmlock", vmlock_version);
        json_object_set_int_member(body, "control-protocol", CONTROL_PROTOCOL_VERSION);
        json_object_set_string_member(body, "guest", guest);
        json_object_set_array_member(body, "capabilities", json_array_new());
        json_object_set_object_member(greeting, "QMP", body);
        return greeting;
}
