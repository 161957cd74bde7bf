/* vmlock: the supervisor: the control socket's commands. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "control/control_protocol.h"
#include "supervisor/guest_status.h"
#include "supervisor/supervisor_priv.h"

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

static JsonObject *
query_guest(Supervisor *sv)
{
        g_autofree char *inquired = NULL;
        JsonArray *unprotected = json_array_new();
        JsonNode *status;

        /* Best effort: status still shows the guest when the daemon does not
         * answer. */
        if (!supervisor_is_released(sv))
                supervisor_inquire(sv, &inquired, NULL);
        status = guest_status_to_json(sv->record, sv->manager, inquired);
        for (guint i = 0; i < sv->unprotected->len; i++)
                json_array_add_string_element(unprotected, g_ptr_array_index(sv->unprotected, i));
        json_object_set_array_member(json_node_get_object(status), "unprotected", unprotected);
        return qmp_return_new(status, NULL);
}

/* A command answered once QEMU did. */
typedef struct {
        Supervisor *sv;
        QmpServerClient *client;
        ControlCommandId id;
        gboolean release; /* pause */
} Deferred;

static Deferred *
deferred_new(Supervisor *sv, QmpServerClient *client, ControlCommandId id)
{
        Deferred *deferred = g_new0(Deferred, 1);

        deferred->sv = sv;
        deferred->client = qmp_server_client_ref(client);
        deferred->id = id;
        return deferred;
}

static void
deferred_free(Deferred *deferred)
{
        qmp_server_client_unref(deferred->client);
        g_free(deferred);
}

/* A client gone meanwhile is fine: the operation itself went on. */
static void
deferred_done(const GError *error, gpointer data)
{
        Deferred *deferred = data;
        Supervisor *sv = deferred->sv;
        JsonObject *reply;

        if (deferred->id == CONTROL_ATTACH_DISK)
                supervisor_end_in_flight(sv);
        if (error)
                reply = qmp_error_from_gerror(error);
        else if (deferred->id == CONTROL_PAUSE)
                reply = state_reply(deferred->release ? sv->record->lock_state : NULL);
        else
                reply = qmp_return_new(NULL, NULL);
        qmp_server_client_reply(deferred->client, reply);
        deferred_free(deferred);
}

static void
deferred_reply(JsonObject *reply, gpointer data)
{
        Deferred *deferred = data;

        qmp_server_client_reply(deferred->client, reply);
        deferred_free(deferred);
}

static gboolean
attach_disk(Supervisor *sv, JsonObject *arguments, Deferred *deferred, GError **error)
{
        const ControlCommandId id = CONTROL_ATTACH_DISK;
        const char *type_str = control_arg_string(id, arguments, "type");
        int type = vmlock_disk_type_from_string(type_str ? type_str : "file");
        VmlockDisk *disk;

        if (type < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown disk type '%s'", type_str);
                return FALSE;
        }
        disk = vmlock_disk_new(type, VMLOCK_DISK_DEVICE_DISK,
                               control_arg_string(id, arguments, "path"),
                               control_arg_bool(id, arguments, "readonly"),
                               control_arg_bool(id, arguments, "shareable"), error);
        if (!disk)
                return FALSE;
        if (sv->monitor && !control_arg_bool(id, arguments, "lease-only"))
                return supervisor_plug_disk(sv, disk, control_arg_string(id, arguments, "format"),
                                            control_arg_string(id, arguments, "bus"),
                                            control_arg_string(id, arguments, "cache"),
                                            deferred_done, deferred, error);
        /* At once: still not amid another's wait for QEMU. */
        if (!supervisor_check_idle(sv, GUEST_OP_NONE, error)) {
                vmlock_disk_free(disk);
                return FALSE;
        }
        if (!supervisor_attach_disk(sv, disk, error))
                return FALSE;
        deferred_done(NULL, deferred);
        return TRUE;
}

static gboolean
lock_failure(Supervisor *sv, JsonObject *arguments, Deferred *deferred, GError **error)
{
        const char *uuid = control_arg_string(CONTROL_LOCK_FAILURE, arguments, "uuid");
        const char *ours = vmlock_domain_get_uuid_string(sv->record->dom);

        if (g_strcmp0(uuid, ours) != 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "guest '%s' has uuid %s, not %s", guest_name(sv), ours,
                            uuid ? uuid : "(none)");
                return FALSE;
        }
        return supervisor_lock_failure(sv,
                                       control_arg_string(CONTROL_LOCK_FAILURE, arguments,
                                                          "action"),
                                       deferred_done, deferred, error);
}

static gboolean
stop(Supervisor *sv, JsonObject *arguments, GError **error)
{
        guint64 timeout_s = GUEST_STOP_DEFAULT_TIMEOUT_S;

        if (arguments && json_object_has_member(arguments, "timeout"))
                timeout_s = control_arg_uint(CONTROL_STOP, arguments, "timeout");
        if (timeout_s > G_MAXINT32) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "stop timeout %" G_GUINT64_FORMAT " s is out of range", timeout_s);
                return FALSE;
        }
        return supervisor_stop(sv, (guint)timeout_s, error);
}

JsonObject *
supervisor_control_command(QmpServerClient *client, const char *command,
                           JsonObject *arguments, gpointer user_data)
{
        Supervisor *sv = user_data;
        const ControlCommand *declared = control_command_lookup(command);
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        Deferred *deferred = NULL;
        gboolean ok = FALSE;

        g_debug("control: %s", command);
        if (!declared)
                return qmp_error_new("CommandNotFound", NULL, "The command %s has not been found",
                                     command);
        if (!control_command_check(declared, arguments, &error))
                return qmp_error_from_gerror(error);
        /* Whatever waits for QEMU is answered once QEMU did: the
         * supervisor serves everyone meanwhile. */
        switch (declared->id) {
        case CONTROL_QUERY_GUEST:
                return query_guest(sv);
        case CONTROL_PAUSE:
                deferred = deferred_new(sv, client, declared->id);
                deferred->release = control_arg_bool(CONTROL_PAUSE, arguments, "release");
                if (supervisor_pause(sv, deferred->release, deferred_done, deferred, &error))
                        return NULL;
                break;
        case CONTROL_RESUME:
                deferred = deferred_new(sv, client, declared->id);
                if (supervisor_resume(sv, control_arg_string(CONTROL_RESUME, arguments, "state"),
                                      deferred_done, deferred, &error))
                        return NULL;
                break;
        case CONTROL_INQUIRE:
                if (supervisor_inquire(sv, &state, &error))
                        return state_reply(state);
                return qmp_error_from_gerror(error);
        case CONTROL_ATTACH_DISK:
                /* Not over another's mark in the record. */
                if (!supervisor_check_idle(sv, GUEST_OP_ATTACHING_DISK, &error))
                        break;
                /* Until QEMU has the disk too (or refused it). */
                supervisor_begin_in_flight(
                        sv, g_strconcat(GUEST_IN_FLIGHT_ATTACH_DISK,
                                        control_arg_string(CONTROL_ATTACH_DISK, arguments, "path"),
                                        NULL));
                deferred = deferred_new(sv, client, declared->id);
                if (attach_disk(sv, arguments, deferred, &error))
                        return NULL;
                supervisor_end_in_flight(sv);
                break;
        case CONTROL_DETACH_DISK: {
                const char *path = control_arg_string(CONTROL_DETACH_DISK, arguments, "path");

                /* Not the disk QEMU is being given, nor amid a release. */
                if (!supervisor_check_idle(sv, GUEST_OP_NONE, &error)) {
                        ok = FALSE;
                } else if (path && g_hash_table_contains(sv->plugged, path)) {
                        /* QEMU has it: its lease goes only once QEMU let go. */
                        if (supervisor_unplug_disk(sv, client, path, &error))
                                return NULL; /* answered once QEMU let go */
                        ok = FALSE;
                } else {
                        ok = supervisor_detach_disk(sv, path, &error);
                }
                break;
        }
        case CONTROL_ATTACH_LEASE: {
                VmlockLease *lease = vmlock_lease_new(
                        control_arg_string(CONTROL_ATTACH_LEASE, arguments, "lockspace"),
                        control_arg_string(CONTROL_ATTACH_LEASE, arguments, "key"),
                        control_arg_string(CONTROL_ATTACH_LEASE, arguments, "path"),
                        control_arg_uint(CONTROL_ATTACH_LEASE, arguments, "offset"), &error);

                ok = lease && supervisor_check_idle(sv, GUEST_OP_NONE, &error) &&
                     supervisor_attach_lease(sv, g_steal_pointer(&lease), &error);
                if (lease)
                        vmlock_lease_free(lease);
                break;
        }
        case CONTROL_DETACH_LEASE:
                ok = supervisor_check_idle(sv, GUEST_OP_NONE, &error) &&
                     supervisor_detach_lease(
                        sv, control_arg_string(CONTROL_DETACH_LEASE, arguments, "lockspace"),
                        control_arg_string(CONTROL_DETACH_LEASE, arguments, "key"), &error);
                break;
        case CONTROL_MIGRATE:
                deferred = deferred_new(sv, client, declared->id);
                if (supervisor_migrate(sv, control_arg_string(CONTROL_MIGRATE, arguments, "uri"),
                                       deferred_done, deferred, &error))
                        return NULL;
                break;
        case CONTROL_MIGRATE_CANCEL:
                supervisor_migrate_cancel(sv, deferred_reply,
                                          deferred_new(sv, client, declared->id));
                return NULL;
        case CONTROL_QUERY_MIGRATION:
                supervisor_query_migration(sv, deferred_reply,
                                           deferred_new(sv, client, declared->id));
                return NULL;
        case CONTROL_LOCK_FAILURE:
                deferred = deferred_new(sv, client, declared->id);
                if (lock_failure(sv, arguments, deferred, &error))
                        return NULL;
                break;
        case CONTROL_STOP:
                ok = stop(sv, arguments, &error);
                break;
        }
        if (deferred)
                deferred_free(deferred); /* refused at once */
        if (!ok)
                return qmp_error_from_gerror(error);
        return qmp_return_new(NULL, NULL);
}

JsonObject *
supervisor_control_greeting(Supervisor *sv)
{
        return control_greeting_new(VMLOCK_VERSION, guest_name(sv));
}
