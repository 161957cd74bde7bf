/* vmlock: turns a domain into lock resources for each stage of a guest's life. */
#define G_LOG_DOMAIN "vmlock-locking"

#include "config-build.h"

#include <string.h>
#include <unistd.h>

#include <vmlock/domain-lock.h>
#include <vmlock/error.h>

#include "locking/lock_manager.h"
#include "util/log.h"

/* Only a disk with a local path can be leased; network and volume disks
 * (whose path is not a host path) and empty drives are left alone. */
gboolean
vmlock_disk_is_lockable(const VmlockDisk *disk)
{
        VMLOCK_TRACE("disk=%p (%s)", disk,
                     disk ? VMLOCK_NULLSTR(vmlock_disk_get_source(disk)) : "(null)");

        if (!disk || !vmlock_disk_get_source(disk))
                return FALSE;

        switch (vmlock_disk_get_type(disk)) {
        case VMLOCK_DISK_TYPE_FILE:
        case VMLOCK_DISK_TYPE_BLOCK:
        case VMLOCK_DISK_TYPE_DIR:
                return TRUE;
        case VMLOCK_DISK_TYPE_NETWORK:
        case VMLOCK_DISK_TYPE_VOLUME:
        default:
                return FALSE;
        }
}

static gboolean
add_disk(LockObject *object, const VmlockDisk *disk, GError **error)
{
        unsigned int flags = 0;

        if (!vmlock_disk_is_lockable(disk))
                return TRUE;

        /* Readers share the lease with each other, never with a sole writer. */
        if (vmlock_disk_get_readonly(disk))
                flags |= VMLOCK_LOCK_RESOURCE_READONLY | VMLOCK_LOCK_RESOURCE_SHARED;
        if (vmlock_disk_get_shareable(disk))
                flags |= VMLOCK_LOCK_RESOURCE_SHARED;

        return lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_DISK,
                                        vmlock_disk_get_source(disk), NULL, 0, flags, error);
}

/* A <lease>'s resource params (path, offset[, lockspace]); returns how many. */
static gsize
lease_params(const VmlockLease *lease, VmlockLockParam params[3])
{
        gsize n = 0;

        memset(params, 0, 3 * sizeof(params[0]));
        params[n].type = VMLOCK_LOCK_PARAM_STRING;
        params[n].key = "path";
        params[n++].value.str = vmlock_lease_get_path(lease);
        params[n].type = VMLOCK_LOCK_PARAM_ULONG;
        params[n].key = "offset";
        params[n++].value.ul = vmlock_lease_get_offset(lease);
        if (vmlock_lease_get_lockspace(lease)) {
                params[n].type = VMLOCK_LOCK_PARAM_STRING;
                params[n].key = "lockspace";
                params[n++].value.str = vmlock_lease_get_lockspace(lease);
        }
        return n;
}

static gboolean
add_lease(LockObject *object, const VmlockLease *lease, GError **error)
{
        VmlockLockParam params[3];
        gsize n = lease_params(lease, params);

        /* A <lease> is always exclusive: the XML cannot say otherwise. */
        return lock_object_add_resource(object, VMLOCK_LOCK_RESOURCE_LEASE,
                                        vmlock_lease_get_key(lease), params, n, 0, error);
}

/* The object describing @dom; with @with_resources, every lease and then
 * every lockable disk, each in document order. */
static LockObject *
domain_lock_object_new(VmlockLockManager *manager, const char *uri, const VmlockDomain *dom,
                       gboolean with_resources, unsigned int flags, GError **error)
{
        g_autoptr(LockObject) object = NULL;
        VmlockLockParam params[6];
        guint i;

        memset(params, 0, sizeof(params));
        params[0].type = VMLOCK_LOCK_PARAM_UUID;
        params[0].key = "uuid";
        memcpy(params[0].value.uuid, vmlock_domain_get_uuid(dom), sizeof(params[0].value.uuid));
        params[1].type = VMLOCK_LOCK_PARAM_STRING;
        params[1].key = "name";
        params[1].value.str = vmlock_domain_get_name(dom);
        params[2].type = VMLOCK_LOCK_PARAM_INT;
        params[2].key = "id";
        params[2].value.i = vmlock_domain_get_id(dom);
        params[3].type = VMLOCK_LOCK_PARAM_UINT;
        params[3].key = "pid";
        params[3].value.ui = (unsigned int) vmlock_domain_get_pid(dom);
        params[4].type = VMLOCK_LOCK_PARAM_STRING;
        params[4].key = "uri";
        params[4].value.str = uri;
        /* A hotplug object carries only the new device: the driver still
         * needs to know whether the guest has leases. */
        params[5].type = VMLOCK_LOCK_PARAM_UINT;
        params[5].key = "leases";
        params[5].value.ui = vmlock_domain_get_n_leases(dom);

        object = lock_object_new(manager, VMLOCK_LOCK_OBJECT_DOMAIN, params,
                                 G_N_ELEMENTS(params), flags, error);
        if (!object)
                return NULL;
        if (!with_resources)
                return g_steal_pointer(&object);

        for (i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                if (!add_lease(object, vmlock_domain_get_lease(dom, i), error))
                        return NULL;
        }
        for (i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                if (!add_disk(object, vmlock_domain_get_disk(dom, i), error))
                        return NULL;
        }
        return g_steal_pointer(&object);
}

/* Refuses a NULL argument, naming the call and the argument. */
static gboolean
require_arg(gconstpointer arg, const char *func, const char *what, GError **error)
{
        if (!arg) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG, "%s: no %s given",
                            func, what);
                return FALSE;
        }
        return TRUE;
}

static gboolean
check_args(VmlockLockManager *manager, const VmlockDomain *dom, const char *func,
           GError **error)
{
        return require_arg(manager, func, "lock manager", error) &&
               require_arg(dom, func, "domain", error);
}

/* Both starts; @func names the caller in argument errors. */
static gboolean
process_start(const char *func, VmlockLockManager *manager, const char *uri,
              VmlockDomain *dom, gboolean paused, int *ret_fd, char **ret_state,
              GError **error)
{
        g_autoptr(LockObject) object = NULL;
        unsigned int flags = VMLOCK_LOCK_ACQUIRE_RESTRICT;
        pid_t self = getpid();

        if (ret_state)
                *ret_state = NULL;
        if (!check_args(manager, dom, func, error))
                return FALSE;
        /* The driver registers the calling process as the lease holder, so a
         * start from anywhere but the guest's own process would hand the
         * leases to the wrong one. */
        if (vmlock_domain_get_pid(dom) != self) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "domain %s: process start must run in the guest's process "
                            "(between fork and exec), but the domain's pid is %ld and "
                            "this process is %ld", vmlock_domain_get_name(dom),
                            (long) vmlock_domain_get_pid(dom), (long) self);
                return FALSE;
        }

        if (paused)
                flags |= VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY;

        object = domain_lock_object_new(manager, uri, dom, TRUE, VMLOCK_LOCK_NEW_STARTED,
                                        error);
        if (!object)
                return FALSE;
        if (!lock_object_acquire(object, NULL, flags, vmlock_domain_get_on_lockfailure(dom),
                                 ret_fd, error))
                return FALSE;
        /* The object that acquired knows the process is registered: no
         * probe, no second object. A state that cannot be read is no
         * reason to fail a start that holds its leases. */
        if (ret_state && !paused) {
                g_autoptr(GError) local = NULL;

                if (!lock_object_inquire(object, ret_state, 0, &local))
                        g_debug("domain %s: cannot inquire what it holds: %s",
                                vmlock_domain_get_name(dom), local->message);
        }
        return TRUE;
}

gboolean
vmlock_domain_lock_process_start(VmlockLockManager *manager, const char *uri,
                                 VmlockDomain *dom, gboolean paused, int *ret_fd,
                                 GError **error)
{
        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) paused=%d ret_fd=%p", manager,
                     VMLOCK_NULLSTR(uri), dom, dom ? vmlock_domain_get_name(dom) : "(null)",
                     paused, ret_fd);

        return process_start(G_STRFUNC, manager, uri, dom, paused, ret_fd, NULL, error);
}

gboolean
vmlock_domain_lock_process_start_held(VmlockLockManager *manager, const char *uri,
                                      VmlockDomain *dom, gboolean paused, int *ret_fd,
                                      char **ret_state, GError **error)
{
        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) paused=%d ret_fd=%p ret_state=%p",
                     manager, VMLOCK_NULLSTR(uri), dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", paused, ret_fd, ret_state);

        return process_start(G_STRFUNC, manager, uri, dom, paused, ret_fd, ret_state, error);
}

gboolean
vmlock_domain_lock_process_pause(VmlockLockManager *manager, VmlockDomain *dom,
                                 char **ret_state, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p dom=%p (%s) ret_state=%p", manager, dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", ret_state);

        if (!check_args(manager, dom, G_STRFUNC, error))
                return FALSE;

        object = domain_lock_object_new(manager, NULL, dom, TRUE, 0, error);
        if (!object)
                return FALSE;
        return lock_object_release(object, ret_state, 0, error);
}

gboolean
vmlock_domain_lock_process_resume(VmlockLockManager *manager, const char *uri,
                                  VmlockDomain *dom, const char *state, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) state=%s", manager, VMLOCK_NULLSTR(uri),
                     dom, dom ? vmlock_domain_get_name(dom) : "(null)", VMLOCK_NULLSTR(state));

        if (!check_args(manager, dom, G_STRFUNC, error))
                return FALSE;

        object = domain_lock_object_new(manager, uri, dom, TRUE, 0, error);
        if (!object)
                return FALSE;
        return lock_object_acquire(object, state, 0, vmlock_domain_get_on_lockfailure(dom),
                                   NULL, error);
}

gboolean
vmlock_domain_lock_process_take_over(VmlockLockManager *manager, const char *uri,
                                     VmlockDomain *dom, const char *state, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) state=%s", manager, VMLOCK_NULLSTR(uri),
                     dom, dom ? vmlock_domain_get_name(dom) : "(null)", VMLOCK_NULLSTR(state));

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(state, G_STRFUNC, "state", error))
                return FALSE;

        object = domain_lock_object_new(manager, uri, dom, TRUE, 0, error);
        if (!object)
                return FALSE;
        return lock_object_acquire(object, state, VMLOCK_LOCK_ACQUIRE_HANDOVER,
                                   vmlock_domain_get_on_lockfailure(dom), NULL, error);
}

gboolean
vmlock_domain_lock_state_extra(VmlockLockManager *manager, const VmlockDomain *dom,
                               const char *state, GStrv *ret_extra, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p dom=%p (%s) state=%s ret_extra=%p", manager, dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", VMLOCK_NULLSTR(state),
                     ret_extra);

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(ret_extra, G_STRFUNC, "place for the answer", error))
                return FALSE;
        if (!state) {
                *ret_extra = NULL;
                return TRUE;
        }
        object = domain_lock_object_new(manager, NULL, dom, TRUE, 0, error);
        if (!object)
                return FALSE;
        return lock_object_state_extra(object, state, ret_extra, error);
}

gboolean
vmlock_domain_lock_process_inquire(VmlockLockManager *manager, VmlockDomain *dom,
                                   char **ret_state, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p dom=%p (%s) ret_state=%p", manager, dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", ret_state);

        if (!check_args(manager, dom, G_STRFUNC, error))
                return FALSE;

        object = domain_lock_object_new(manager, NULL, dom, TRUE, 0, error);
        if (!object)
                return FALSE;
        return lock_object_inquire(object, ret_state, 0, error);
}

gboolean
vmlock_domain_lock_disk_attach(VmlockLockManager *manager, const char *uri, VmlockDomain *dom,
                               const VmlockDisk *disk, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) disk=%p (%s)", manager,
                     VMLOCK_NULLSTR(uri), dom, dom ? vmlock_domain_get_name(dom) : "(null)",
                     disk, disk ? VMLOCK_NULLSTR(vmlock_disk_get_source(disk)) : "(null)");

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(disk, G_STRFUNC, "disk", error))
                return FALSE;
        /* Nothing to lock, so nothing to ask the driver. */
        if (!vmlock_disk_is_lockable(disk))
                return TRUE;

        object = domain_lock_object_new(manager, uri, dom, FALSE, 0, error);
        if (!object || !add_disk(object, disk, error))
                return FALSE;
        return lock_object_acquire(object, NULL, 0, vmlock_domain_get_on_lockfailure(dom), NULL,
                                   error);
}

gboolean
vmlock_domain_lock_disk_detach(VmlockLockManager *manager, VmlockDomain *dom,
                               const VmlockDisk *disk, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p dom=%p (%s) disk=%p (%s)", manager, dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", disk,
                     disk ? VMLOCK_NULLSTR(vmlock_disk_get_source(disk)) : "(null)");

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(disk, G_STRFUNC, "disk", error))
                return FALSE;
        if (!vmlock_disk_is_lockable(disk))
                return TRUE;

        object = domain_lock_object_new(manager, NULL, dom, FALSE, 0, error);
        if (!object || !add_disk(object, disk, error))
                return FALSE;
        return lock_object_release(object, NULL, 0, error);
}

gboolean
vmlock_domain_lock_lease_attach(VmlockLockManager *manager, const char *uri,
                                VmlockDomain *dom, const VmlockLease *lease, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p uri=%s dom=%p (%s) lease=%p (%s:%s)", manager,
                     VMLOCK_NULLSTR(uri), dom, dom ? vmlock_domain_get_name(dom) : "(null)",
                     lease, lease ? VMLOCK_NULLSTR(vmlock_lease_get_lockspace(lease)) : "(null)",
                     lease ? vmlock_lease_get_key(lease) : "(null)");

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(lease, G_STRFUNC, "lease", error))
                return FALSE;

        object = domain_lock_object_new(manager, uri, dom, FALSE, 0, error);
        if (!object || !add_lease(object, lease, error))
                return FALSE;
        return lock_object_acquire(object, NULL, 0, vmlock_domain_get_on_lockfailure(dom), NULL,
                                   error);
}

gboolean
vmlock_domain_lock_lease_detach(VmlockLockManager *manager, VmlockDomain *dom,
                                const VmlockLease *lease, GError **error)
{
        g_autoptr(LockObject) object = NULL;

        VMLOCK_TRACE("manager=%p dom=%p (%s) lease=%p (%s:%s)", manager, dom,
                     dom ? vmlock_domain_get_name(dom) : "(null)", lease,
                     lease ? VMLOCK_NULLSTR(vmlock_lease_get_lockspace(lease)) : "(null)",
                     lease ? vmlock_lease_get_key(lease) : "(null)");

        if (!check_args(manager, dom, G_STRFUNC, error) ||
            !require_arg(lease, G_STRFUNC, "lease", error))
                return FALSE;

        object = domain_lock_object_new(manager, NULL, dom, FALSE, 0, error);
        if (!object || !add_lease(object, lease, error))
                return FALSE;
        return lock_object_release(object, NULL, 0, error);
}

gboolean
vmlock_domain_lock_state_holds_disk(VmlockLockManager *manager, const char *state,
                                    const VmlockDisk *disk, gboolean *ret_held, GError **error)
{
        VMLOCK_TRACE("manager=%p state=%s disk=%p (%s) ret_held=%p", manager,
                     VMLOCK_NULLSTR(state), disk,
                     disk ? VMLOCK_NULLSTR(vmlock_disk_get_source(disk)) : "(null)", ret_held);

        if (!require_arg(manager, G_STRFUNC, "lock manager", error) ||
            !require_arg(disk, G_STRFUNC, "disk", error) ||
            !require_arg(ret_held, G_STRFUNC, "place for the answer", error))
                return FALSE;
        /* Never a resource, so never held. */
        if (!vmlock_disk_is_lockable(disk)) {
                *ret_held = FALSE;
                return TRUE;
        }
        return lock_manager_state_holds(manager, state, VMLOCK_LOCK_RESOURCE_DISK,
                                        vmlock_disk_get_source(disk), NULL, 0, ret_held, error);
}

gboolean
vmlock_domain_lock_state_holds_lease(VmlockLockManager *manager, const char *state,
                                     const VmlockLease *lease, gboolean *ret_held,
                                     GError **error)
{
        VmlockLockParam params[3];
        gsize n;

        VMLOCK_TRACE("manager=%p state=%s lease=%p (%s:%s) ret_held=%p", manager,
                     VMLOCK_NULLSTR(state), lease,
                     lease ? VMLOCK_NULLSTR(vmlock_lease_get_lockspace(lease)) : "(null)",
                     lease ? vmlock_lease_get_key(lease) : "(null)", ret_held);

        if (!require_arg(manager, G_STRFUNC, "lock manager", error) ||
            !require_arg(lease, G_STRFUNC, "lease", error) ||
            !require_arg(ret_held, G_STRFUNC, "place for the answer", error))
                return FALSE;
        n = lease_params(lease, params);
        return lock_manager_state_holds(manager, state, VMLOCK_LOCK_RESOURCE_LEASE,
                                        vmlock_lease_get_key(lease), params, n, ret_held,
                                        error);
}
