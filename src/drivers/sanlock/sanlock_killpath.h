/* vmlock sanlock driver: the program sanlock runs when a guest's leases fail. */
#pragma once

#include <glib.h>

#include <vmlock/domain.h>

/* Overrides the helper's compiled-in path (tests, odd installs). */
#define VMLOCK_SANLOCK_HELPER_ENV "VMLOCK_LOCKFAILURE_HELPER"
#define VMLOCK_SANLOCK_HELPER_NAME "vmlock-lockfailure-helper"

/* For @action poweroff or pause, asks the daemon to run, on @sock's behalf,
 *   <helper> <action> <uri> <uuid> <pid>
 * when the lockspace fails, instead of SIGTERM: @uri names the hypervisor
 * that knows the guest (vmlock://STATE_DIR for the vmlock command; "-" when
 * NULL). default registers nothing; restart and ignore are
 * VMLOCK_ERROR_UNSUPPORTED. */
gboolean vmlock_sanlock_killpath_register(int sock, VmlockLockFailureAction action,
                                          const char *uri, const char *uuid, GError **error);

/* Appends @arg to sanlock_killpath()'s argument string @out: the helper
 * splits it at blanks and takes a backslash as an escape for the next blank
 * or backslash. */
void vmlock_sanlock_killpath_append_arg(GString *out, const char *arg);

/* The two halves given to sanlock_killpath(), for tests. */
gboolean vmlock_sanlock_killpath_build(VmlockLockFailureAction action, const char *uri,
                                       const char *uuid, char **ret_path, char **ret_args,
                                       GError **error);
