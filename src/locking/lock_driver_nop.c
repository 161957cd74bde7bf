/* vmlock: the "nop" lock driver: accepts everything, holds nothing. */
#define G_LOG_DOMAIN "vmlock-locking"

#include "config-build.h"

#include <vmlock/error.h>

#include "locking/lock_driver_nop.h"

/* Accepting everything does not extend to flags: an unknown flag is a caller
 * asking for something no driver of this version understands. */
static gboolean
nop_check_flags(const char *callback, unsigned int flags, unsigned int known, GError **error)
{
        if (flags & ~known) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "nop lock driver: %s: unsupported flags 0x%x", callback,
                            flags & ~known);
                return FALSE;
        }
        return TRUE;
}

static gboolean
nop_init(unsigned int version, const char *config_file, unsigned int flags,
         VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        return nop_check_flags("init", flags, VMLOCK_LOCK_INIT_READ_ONLY, error);
}

static void
nop_deinit(void)
{
}

static gboolean
nop_new_object(VmlockLockObject *object, unsigned int type, gsize n_params,
               const VmlockLockParam *params, unsigned int flags, GError **error)
{
        return nop_check_flags("new", flags, VMLOCK_LOCK_NEW_STARTED, error);
}

static void
nop_free_object(VmlockLockObject *object)
{
}

static gboolean
nop_add_resource(VmlockLockObject *object, unsigned int type, const char *name,
                 gsize n_params, const VmlockLockParam *params, unsigned int flags,
                 GError **error)
{
        return nop_check_flags("add_resource", flags,
                               VMLOCK_LOCK_RESOURCE_READONLY | VMLOCK_LOCK_RESOURCE_SHARED,
                               error);
}

static gboolean
nop_acquire(VmlockLockObject *object, const char *state, unsigned int flags,
            VmlockLockFailureAction action, int *ret_fd, GError **error)
{
        if (!nop_check_flags("acquire", flags,
                             VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY | VMLOCK_LOCK_ACQUIRE_RESTRICT |
                                     VMLOCK_LOCK_ACQUIRE_HANDOVER,
                             error))
                return FALSE;
        if (ret_fd)
                *ret_fd = -1;
        return TRUE;
}

static gboolean
nop_release(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        if (!nop_check_flags("release", flags, 0, error))
                return FALSE;
        if (ret_state)
                *ret_state = NULL;
        return TRUE;
}

static gboolean
nop_inquire(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        if (!nop_check_flags("inquire", flags, 0, error))
                return FALSE;
        if (ret_state)
                *ret_state = NULL;
        return TRUE;
}

static gboolean
nop_state_holds_resource(const char *state, unsigned int type, const char *name,
                         gsize n_params, const VmlockLockParam *params, unsigned int flags,
                         gboolean *ret_held, GError **error)
{
        if (!nop_check_flags("state_holds_resource", flags, 0, error))
                return FALSE;
        *ret_held = FALSE; /* it holds nothing */
        return TRUE;
}

const VmlockLockDriver lock_driver_nop = {
        .version = VMLOCK_LOCK_DRIVER_VERSION,
        .flags = 0,
        .init = nop_init,
        .deinit = nop_deinit,
        .new_object = nop_new_object,
        .free_object = nop_free_object,
        .add_resource = nop_add_resource,
        .acquire = nop_acquire,
        .release = nop_release,
        .inquire = nop_inquire,
        .state_holds_resource = nop_state_holds_resource,
};
