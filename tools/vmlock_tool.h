/* vmlock: the vmlock command's commands and their control calls. */
#pragma once

#include <json-glib/json-glib.h>

#include "control/control_protocol.h"
#include "tool_common.h"

G_BEGIN_DECLS

/* Asks the supervisor of guest @name (state dir: @state_dir_option, else
 * the default) to run control command @id (control_protocol.h); returns its
 * answer. */
JsonNode *tool_control_execute(const char *state_dir_option, const char *name,
                               ControlCommandId id, JsonObject *arguments, GError **error);

/* The same for a command that ends the supervisor: returns once it exited
 * (waited for up to @wait_ms). */
JsonNode *tool_control_execute_until_exit(const char *state_dir_option, const char *name,
                                          ControlCommandId id, JsonObject *arguments,
                                          guint wait_ms, GError **error);

/* The commands of the daemon module (daemon_module.h), each exported. */
int cmd_migrate(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_attach_disk(int argc, char **argv);
int cmd_detach_disk(int argc, char **argv);
int cmd_attach_lease(int argc, char **argv);
int cmd_detach_lease(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_inquire(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_lockspace(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_metrics(int argc, char **argv);

G_END_DECLS
