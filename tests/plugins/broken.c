/* vmlock tests: lock drivers the loader must refuse, one per BROKEN_* define,
 * and with BROKEN_NONE the smallest driver it accepts: no optional callback. */
#include "config-build.h"

#include <vmlock/error.h>

#include "locking/lock_driver.h"

#define BROKEN_EXPORT __attribute__((visibility("default")))

static gboolean
broken_init(unsigned int version, const char *config_file, unsigned int flags,
            VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
#ifdef BROKEN_INIT
        /* As a real driver would report a bad config: naming the file. */
        g_set_error(error, g_quark_from_static_string("vmlock-error-quark"),
                    VMLOCK_ERROR_CONFIG, "%s:3: init-fails test driver refuses this config",
                    config_file);
        return FALSE;
#else
        return TRUE;
#endif
}

static void
broken_deinit(void)
{
}

static gboolean
broken_new_object(VmlockLockObject *object, unsigned int type, gsize n_params,
                  const VmlockLockParam *params, unsigned int flags, GError **error)
{
        return TRUE;
}

static void
broken_free_object(VmlockLockObject *object)
{
}

static gboolean
broken_add_resource(VmlockLockObject *object, unsigned int type, const char *name,
                    gsize n_params, const VmlockLockParam *params, unsigned int flags,
                    GError **error)
{
        return TRUE;
}

static gboolean
broken_acquire(VmlockLockObject *object, const char *state, unsigned int flags,
               VmlockLockFailureAction action, int *ret_fd, GError **error)
{
        return TRUE;
}

static gboolean
broken_release(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        return TRUE;
}

#ifndef BROKEN_NULL_CALLBACK
static gboolean
broken_inquire(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        return TRUE;
}
#endif

#ifdef BROKEN_HALF_WATCH
/* daemon_connect without process_state: the pair comes together. */
static gboolean
broken_daemon_connect(unsigned int flags, int *ret_fd, GError **error)
{
        *ret_fd = -1;
        return TRUE;
}
#endif

#ifdef BROKEN_NO_SYMBOL
/* Exported, but under a name the loader does not look for. */
BROKEN_EXPORT const VmlockLockDriver vmlock_lock_driver_misspelt = {
#else
BROKEN_EXPORT const VmlockLockDriver vmlock_lock_driver = {
#endif
#ifdef BROKEN_VERSION
        .version = VMLOCK_LOCK_DRIVER_VERSION + 1000,
#else
        .version = VMLOCK_LOCK_DRIVER_VERSION,
#endif
        .flags = 0,
        .init = broken_init,
        .deinit = broken_deinit,
        .new_object = broken_new_object,
        .free_object = broken_free_object,
        .add_resource = broken_add_resource,
        .acquire = broken_acquire,
        .release = broken_release,
#ifndef BROKEN_NULL_CALLBACK
        .inquire = broken_inquire,
#endif
#ifdef BROKEN_HALF_WATCH
        .daemon_connect = broken_daemon_connect,
#endif
};
