/* vmlock: what every vmlock command shares: exit statuses, error and usage
 * reporting, option parsing. GLib only: `vmlock start` uses it before the
 * guest's exec. */
#pragma once

#include <glib.h>

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

G_END_DECLS
