/* vmlock for libvirt: fencing through libvirt's <on_lockfailure>. */
#pragma once

#include <glib.h>

#include "libvirt/libvirt_lock_abi.h"

/* Overrides the helper's compiled-in path (tests, odd installs). */
#define VMLOCK_LIBVIRT_HELPER_ENV "VMLOCK_LIBVIRT_LOCKFAILURE_HELPER"

/* What sanlock runs, instead of SIGTERM, when the lockspace of the guest's
 * leases fails: libvirt's own helper, as libvirt's sanlock plugin registers
 * it, `<helper> <uri> <uuid> <action>`, which asks libvirtd at @uri to
 * destroy (poweroff) or suspend (pause, which releases the leases) the
 * guest @uuid. restart and ignore are VMLOCK_ERROR_UNSUPPORTED. */
gboolean vmlock_libvirt_killpath_build(LibvirtLockFailureAction action, const char *uri,
                                       const char *uuid, char **ret_path, char **ret_args,
                                       GError **error);

/* Registers it on @sock, the guest's registered connection, before restrict
 * (which forbids it). default registers nothing: sanlock's SIGTERM, then
 * SIGKILL. A helper that is not installed is not registered either, with a
 * warning in the domain's log: the guest is then killed the same way. */
gboolean vmlock_libvirt_killpath_register(int sock, LibvirtLockFailureAction action,
                                          const char *uri, const char *uuid, GError **error);
