/* vmlock: the vmlock command's commands, exit statuses and error reporting. */
#pragma once

#include <json-glib/json-glib.h>

#include "control/control_protocol.h"

G_BEGIN_DECLS

/* Exit statuses. `vmlock start` exits with the guest's own status once the
 * guest ran (128+N when killed by signal N); before that, with one of the
 * 12x codes (the convention of env(1), timeout(1) and chroot(1)). */
#define VMLOCK_EXIT_OK 0
#define VMLOCK_EXIT_ERROR 1
#define VMLOCK_EXIT_USAGE 2
#define VMLOCK_EXIT_LOCK_FAILURE 124   /* the leases could not be had */
#define VMLOCK_EXIT_START_FAILURE 125  /* any other error before the guest ran */
#define VMLOCK_EXIT_CANNOT_EXECUTE 126 /* PROGRAM is not executable */
#define VMLOCK_EXIT_NOT_FOUND 127      /* PROGRAM was not found */

/* The text of the exit statuses, for --help. */
extern const char tool_exit_status_help[];
extern const char tool_start_exit_status_help[];

/* The error says the leases could not be had (held elsewhere, state changed,
 * lockspace missing): exit status 124. */
gboolean tool_error_is_lock_failure(const GError *error);

/* Prints "PRGNAME: MESSAGE" on stderr and returns 124 for a lock failure,
 * else @other_status. Takes the error. */
int tool_report_error(GError *error, int other_status);

/* Prints a usage error with a hint to --help and returns @status. */
int tool_usage_error(int status, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Parses @argv with @context; a bad option is a usage error (returns FALSE
 * and sets *failure_status). */
gboolean tool_parse_options(GOptionContext *context, int *argc, char ***argv, int usage_status,
                            int *failure_status);

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

int cmd_start(int argc, char **argv);
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
