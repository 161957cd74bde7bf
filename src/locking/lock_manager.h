/* vmlock: internal side of the lock manager: the per-operation lock object.
 *
 * Each operation builds a short-lived object describing one domain, adds the
 * resources it needs, calls one of acquire, release or inquire, and frees it.
 * The object holds a reference on its manager, so the driver stays loaded.
 */
#pragma once

#include <vmlock/lock-manager.h>

#include "locking/lock_driver.h"

G_BEGIN_DECLS

typedef struct _LockObject LockObject;

/* A driver whose new_object fails cleans up after itself: the object is
 * discarded without free_object. */
LockObject *lock_object_new(VmlockLockManager *manager, VmlockLockObjectType type,
                            const VmlockLockParam *params, gsize n_params, unsigned int flags,
                            GError **error);
gboolean lock_object_add_resource(LockObject *object, VmlockLockResourceType type,
                                  const char *name, const VmlockLockParam *params,
                                  gsize n_params, unsigned int flags, GError **error);
/* @ret_fd (may be NULL) gets the fd the guest must inherit, or -1. */
gboolean lock_object_acquire(LockObject *object, const char *state, unsigned int flags,
                             VmlockLockFailureAction action, int *ret_fd, GError **error);
/* @ret_state (may be NULL) gets the driver's state, or NULL when it has none. */
gboolean lock_object_release(LockObject *object, char **ret_state, unsigned int flags,
                             GError **error);
gboolean lock_object_inquire(LockObject *object, char **ret_state, unsigned int flags,
                             GError **error);
/* The leases @state holds beyond the object's (VmlockLockDriver.state_extra),
 * *@ret_extra NULL when none or when the driver cannot tell. */
gboolean lock_object_state_extra(LockObject *object, const char *state, GStrv *ret_extra,
                                 GError **error);
void lock_object_free(LockObject *object);

/* Whether @state (from release or inquire; NULL: nothing) holds the
 * resource @type/@name, asked of the driver (optional callback: without it,
 * VMLOCK_ERROR_UNSUPPORTED). No object: nothing is acquired. */
gboolean lock_manager_state_holds(VmlockLockManager *manager, const char *state,
                                  VmlockLockResourceType type, const char *name,
                                  const VmlockLockParam *params, gsize n_params,
                                  gboolean *ret_held, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LockObject, lock_object_free)

G_END_DECLS
