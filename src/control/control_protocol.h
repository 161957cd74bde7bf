/* vmlock: the control protocol, declared once.
 *
 * The vmlock commands and the lock-failure helper speak it to a guest's
 * supervisor over its control socket, in QMP's framing: a greeting naming
 * the protocol's version, then commands with typed arguments, each answered
 * with a return value or a GError (qmp_error_from_gerror() and back). This
 * table is what both sides read: the server checks every command against
 * it, the client stubs (control_client.h) build them from it.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* In the greeting's "control-protocol": raised on an incompatible change. */
#define CONTROL_PROTOCOL_VERSION 1

typedef enum {
        CONTROL_QUERY_GUEST,     /* -> the guest's status (guest_status.h) */
        CONTROL_PAUSE,           /* release -> {state} */
        CONTROL_RESUME,          /* state */
        CONTROL_INQUIRE,         /* -> {state} */
        CONTROL_ATTACH_DISK,     /* path type readonly shareable lease-only format bus
                                  * cache */
        CONTROL_DETACH_DISK,     /* path */
        CONTROL_ATTACH_LEASE,    /* lockspace key path offset */
        CONTROL_DETACH_LEASE,    /* lockspace key */
        CONTROL_MIGRATE,         /* uri */
        CONTROL_MIGRATE_CANCEL,  /* -> {cancelling} */
        CONTROL_QUERY_MIGRATION, /* -> {status error transferred total remaining
                                  *     active completed ended
                                  *     handed-over cancelling running state} */
        CONTROL_LOCK_FAILURE,    /* action uuid */
        CONTROL_STOP,            /* timeout: shut the guest down, kill it at the timeout */
} ControlCommandId;

typedef enum {
        CONTROL_ARG_STRING,
        CONTROL_ARG_BOOL,
        CONTROL_ARG_UINT,
} ControlArgType;

typedef struct {
        const char *name;
        ControlArgType type;
        gboolean required;
} ControlArg;

typedef struct {
        ControlCommandId id;
        const char *name;       /* on the wire */
        const ControlArg *args; /* ends with a NULL name */
} ControlCommand;

const ControlCommand *control_command_get(ControlCommandId id);
/* The command named @name, or NULL: none. */
const ControlCommand *control_command_lookup(const char *name);

/* Checks @arguments (may be NULL) against @command: a member it does not
 * declare, one of another type, or a required one missing is
 * VMLOCK_ERROR_INVALID_ARG naming it. */
gboolean control_command_check(const ControlCommand *command, JsonObject *arguments,
                               GError **error);

/* Reading an argument (the server): @name must be one of @id's, else it is
 * a bug (a critical); absent or of another type reads as NULL, FALSE, 0. */
const char *control_arg_string(ControlCommandId id, JsonObject *arguments, const char *name);
gboolean control_arg_bool(ControlCommandId id, JsonObject *arguments, const char *name);
guint64 control_arg_uint(ControlCommandId id, JsonObject *arguments, const char *name);

/* Setting an argument (the client): @name must be one of @id's, of that
 * type. A NULL string is left out. */
void control_args_set_string(JsonObject *arguments, ControlCommandId id, const char *name,
                             const char *value);
void control_args_set_bool(JsonObject *arguments, ControlCommandId id, const char *name,
                           gboolean value);
void control_args_set_uint(JsonObject *arguments, ControlCommandId id, const char *name,
                           guint64 value);

/* The greeting of guest @guest's supervisor, version @vmlock_version. */
JsonObject *control_greeting_new(const char *vmlock_version, const char *guest);

G_END_DECLS
