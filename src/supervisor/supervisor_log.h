/* vmlock: the supervisor's log lines (its stderr, the --log file of a
 * detached start): each stamped with its local time in ISO 8601, to the
 * millisecond, as an administrator reading the log expects.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "2026-12-04T00:06:10.123+01:00" for @time. */
char *supervisor_log_timestamp(GDateTime *time);

/* From now on in this process, every line of g_printerr() and every GLib
 * log message shown (warnings, messages; debug ones as G_MESSAGES_DEBUG
 * says) starts with the time. For the supervisor once its guest runs: the
 * command's own errors before that are not stamped. Call once. */
void supervisor_log_stamp_lines(void);

G_END_DECLS
