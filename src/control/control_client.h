/* vmlock: the client side of a guest supervisor's control socket.
 *
 * The vmlock commands and the lock-failure helper ask a guest's supervisor
 * to act through it. When the supervisor does not answer, they must not
 * guess why: one that is merely slow (a QMP stop may take seconds) is
 * "busy", and only one whose process is gone leaves its guest running
 * without anyone to act on it. The pid decides, not the silence.
 */
#pragma once

#include <sys/types.h>

#include <json-glib/json-glib.h>

#include "control/control_protocol.h"

G_BEGIN_DECLS

/* A guest's supervisor, as the guest's record names it. */
typedef struct {
        const char *name;        /* the guest's, for messages */
        const char *socket_path; /* the control socket, checked by the caller */
        pid_t guest_pid;         /* a live guest's */
        pid_t supervisor_pid;
} ControlPeer;

/* The supervisor of @peer runs (socket_path unused). */
gboolean control_peer_supervisor_alive(const ControlPeer *peer);

/* Asks @peer to run command @id with @arguments (built with
 * control_args_set_*(), may be NULL) and returns its answer. The supervisor's
 * refusal comes back as the GError it sent. When it cannot be asked: a
 * supervisor that runs (still the guest's parent) but did not answer in
 * time is VMLOCK_ERROR_IO ("... is busy ..."); one that is gone is
 * VMLOCK_ERROR_INVALID_ARG naming both pids and how to stop the guest. */
JsonNode *control_client_execute(const ControlPeer *peer, ControlCommandId id,
                                 JsonObject *arguments, GError **error);

/* As control_client_execute(), for a command that ends the supervisor
 * (stop): once answered, waits up to @wait_ms for its process to exit, so
 * that what it does last (the release of the guest's leases) is done.
 * Still there after @wait_ms: VMLOCK_ERROR_IO naming its pid. */
JsonNode *control_client_execute_until_exit(const ControlPeer *peer, ControlCommandId id,
                                            JsonObject *arguments, guint wait_ms,
                                            GError **error);

G_END_DECLS
