/* vmlock: reading a process's /proc/PID/stat. */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* From /proc/PID/stat: the state letter (may be NULL) and the start time in
 * clock ticks since boot. */
gboolean proc_pid_stat(pid_t pid, char *ret_state, guint64 *ret_start_time, GError **error);
/* The parent of @pid (field 4 of /proc/PID/stat), or 0. */
pid_t proc_pid_parent(pid_t pid);

G_END_DECLS
