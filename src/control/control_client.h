/* vmlock: the client side of a guest supervisor's control socket.
 *
 * The vmlock commands and the lock-failure helper ask a guest's supervisor
 * to act through it. When the supervisor does not answer, they must not
 * guess why: one that is merely slow (a QMP stop may take seconds) is
 * "busy", and only one whose process is gone leaves its guest running
 * without anyone to act on it. The pid decides, not the silence.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "state-dir.h"

G_BEGIN_DECLS

/* Asks the supervisor of guest @name (state dir @state_dir) to run @command
 * and returns its answer. The supervisor's refusal comes back as the GError
 * it sent. When it cannot be asked: no such guest is VMLOCK_ERROR_INVALID_ARG
 * ("no guest named ..."); a supervisor that runs but did not answer in time
 * is VMLOCK_ERROR_IO ("... is busy ..."); one that is gone while its guest
 * runs is VMLOCK_ERROR_INVALID_ARG naming both pids. */
JsonNode *control_client_execute(const char *state_dir, const char *name, const char *command,
                                 JsonObject *arguments, GError **error);

G_END_DECLS
