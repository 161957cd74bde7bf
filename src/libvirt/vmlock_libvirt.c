/* vmlock for libvirt: vmlock.so, libvirt's lock driver "vmlock".
 *
 * `lock_manager = "vmlock"` in qemu.conf makes libvirtd load this module and
 * call it at each stage of a guest's life. Each call maps onto vmlock's
 * sanlock driver (the same code as its sanlock.so, linked in), configured by
 * /etc/libvirt/qemu-vmlock.conf with the keys of qemu-sanlock.conf. The
 * calls are followed exactly as libvirt makes them: libvirt releases the
 * leases on every pause and acquires them back on resume, with the state it
 * kept (if any), and its migration relies on that. What this module adds on top of the
 * driver is libvirt's: its fencing helper for <on_lockfailure> and its
 * error reporting.
 */
#define G_LOG_DOMAIN "vmlock-libvirt"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "libvirt/libvirt_killpath.h"
#include "libvirt/libvirt_lock_abi.h"
#include "libvirt/libvirt_report.h"
#include "locking/lock_driver.h"
#include "util/log.h"

/* vmlock's sanlock driver table (sanlock_driver.c, linked in). */
extern const VmlockLockDriver vmlock_lock_driver;
#define DRIVER (&vmlock_lock_driver)

typedef struct {
        VmlockLockObject object; /* the sanlock driver's */
        char *uri;               /* for the lock failure helper */
        char uuid[37];
        guint pid;
} LibvirtObject;

static int
fail(GError *error)
{
        vmlock_libvirt_report(error);
        g_clear_error(&error);
        return -1;
}

static gboolean
check_flags(const char *callback, unsigned int flags, unsigned int known, GError **error)
{
        if (flags & ~known) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "vmlock lock driver: %s: unsupported flags 0x%x", callback,
                            flags & ~known);
                return FALSE;
        }
        return TRUE;
}

/* ---- init / deinit ---------------------------------------------------- */

static void
init_progress(const char *message, gpointer user_data)
{
        g_debug("%s", message);
}

static int
vl_init(unsigned int version, const char *config_file, unsigned int flags)
{
        GError *error = NULL;

        VMLOCK_TRACE("version=%u config_file=%s flags=0x%x", version,
                     VMLOCK_NULLSTR(config_file), flags);

        vmlock_libvirt_report_init();
        if (!check_flags("init", flags, 0, &error))
                return fail(error);
        /* Same major: every later minor or micro only adds. */
        if (version / 1000000 != LIBVIRT_LOCK_ABI_VERSION / 1000000) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "vmlock.so implements libvirt's lock driver ABI %u, libvirt offers "
                            "%u", LIBVIRT_LOCK_ABI_VERSION, version);
                return fail(error);
        }
        /* Joining the disk lockspace takes ~20 s: libvirt's own plugin
         * makes libvirtd wait for it the same way. */
        if (!DRIVER->init(VMLOCK_LOCK_DRIVER_VERSION, config_file, 0, init_progress, NULL,
                          &error))
                return fail(error);
        return 0;
}

static int
vl_deinit(void)
{
        VMLOCK_TRACE(" ");
        DRIVER->deinit();
        return 0;
}

/* ---- objects ---------------------------------------------------------- */

/* libvirt's parameters in vmlock's form. Strings are borrowed. Types vmlock
 * has no use for (long, double) are left out: no key of either ABI uses
 * them. */
static GArray *
params_from_libvirt(gsize n_params, const LibvirtLockParam *params)
{
        GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(VmlockLockParam), n_params);

        for (gsize i = 0; i < n_params; i++) {
                const LibvirtLockParam *in = &params[i];
                VmlockLockParam param = { .key = in->key };

                switch (in->type) {
                case LIBVIRT_LOCK_PARAM_STRING:
                case LIBVIRT_LOCK_PARAM_CSTRING:
                        param.type = VMLOCK_LOCK_PARAM_STRING;
                        param.value.str = in->value.cstr;
                        break;
                case LIBVIRT_LOCK_PARAM_INT:
                        param.type = VMLOCK_LOCK_PARAM_INT;
                        param.value.i = in->value.iv;
                        break;
                case LIBVIRT_LOCK_PARAM_UINT:
                        param.type = VMLOCK_LOCK_PARAM_UINT;
                        param.value.ui = in->value.ui;
                        break;
                case LIBVIRT_LOCK_PARAM_ULONG:
                        param.type = VMLOCK_LOCK_PARAM_ULONG;
                        param.value.ul = in->value.ul;
                        break;
                case LIBVIRT_LOCK_PARAM_UUID:
                        param.type = VMLOCK_LOCK_PARAM_UUID;
                        memcpy(param.value.uuid, in->value.uuid, sizeof(param.value.uuid));
                        break;
                default:
                        g_debug("parameter %s of type %d ignored", VMLOCK_NULLSTR(in->key),
                                in->type);
                        continue;
                }
                g_array_append_val(out, param);
        }
        return out;
}

static void
libvirt_object_free(LibvirtObject *obj)
{
        if (!obj)
                return;
        if (obj->object.priv)
                DRIVER->free_object(&obj->object);
        g_free(obj->uri);
        g_free(obj);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LibvirtObject, libvirt_object_free)

/* What the lock failure helper needs, kept from new's parameters. */
static void
remember_params(LibvirtObject *obj, gsize n_params, const LibvirtLockParam *params)
{
        for (gsize i = 0; i < n_params; i++) {
                const LibvirtLockParam *param = &params[i];

                if (!param->key)
                        continue;
                if (g_str_equal(param->key, "uri") &&
                    (param->type == LIBVIRT_LOCK_PARAM_STRING ||
                     param->type == LIBVIRT_LOCK_PARAM_CSTRING)) {
                        g_free(obj->uri);
                        obj->uri = g_strdup(param->value.cstr);
                } else if (g_str_equal(param->key, "pid") &&
                           param->type == LIBVIRT_LOCK_PARAM_UINT) {
                        obj->pid = param->value.ui;
                } else if (g_str_equal(param->key, "uuid") &&
                           param->type == LIBVIRT_LOCK_PARAM_UUID) {
                        const unsigned char *u = param->value.uuid;

                        g_snprintf(obj->uuid, sizeof(obj->uuid),
                                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                                   "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
                                   u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                                   u[14], u[15]);
                }
        }
}

static int
vl_new(LibvirtLockManager *man, unsigned int type, size_t n_params, LibvirtLockParam *params,
       unsigned int flags)
{
        g_autoptr(LibvirtObject) obj = NULL;
        g_autoptr(GArray) vparams = NULL;
        GError *error = NULL;
        unsigned int vflags = 0;

        VMLOCK_TRACE("man=%p type=%u n_params=%zu flags=0x%x", man, type, n_params, flags);

        if (!check_flags("new", flags, LIBVIRT_LOCK_NEW_STARTED, &error))
                return fail(error);
        if (type != LIBVIRT_LOCK_OBJECT_DOMAIN) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "vmlock lock driver: unsupported object type %u", type);
                return fail(error);
        }
        if (flags & LIBVIRT_LOCK_NEW_STARTED)
                vflags |= VMLOCK_LOCK_NEW_STARTED;

        obj = g_new0(LibvirtObject, 1);
        obj->object.driver = DRIVER;
        remember_params(obj, n_params, params);
        vparams = params_from_libvirt(n_params, params);
        if (!DRIVER->new_object(&obj->object, VMLOCK_LOCK_OBJECT_DOMAIN, vparams->len,
                                (const VmlockLockParam *)vparams->data, vflags, &error)) {
                obj->object.priv = NULL; /* the driver cleaned up after itself */
                return fail(error);
        }
        man->priv = g_steal_pointer(&obj);
        return 0;
}

static void
vl_free(LibvirtLockManager *man)
{
        VMLOCK_TRACE("man=%p", man);

        if (!man)
                return;
        libvirt_object_free(man->priv);
        man->priv = NULL;
}

static int
vl_add_resource(LibvirtLockManager *man, unsigned int type, const char *name, size_t n_params,
                LibvirtLockParam *params, unsigned int flags)
{
        LibvirtObject *obj = man->priv;
        g_autoptr(GArray) vparams = NULL;
        GError *error = NULL;
        unsigned int vtype, vflags = 0;

        VMLOCK_TRACE("man=%p type=%u name=%s n_params=%zu flags=0x%x", man, type,
                     VMLOCK_NULLSTR(name), n_params, flags);

        if (!check_flags("add_resource", flags,
                         LIBVIRT_LOCK_RESOURCE_READONLY | LIBVIRT_LOCK_RESOURCE_SHARED, &error))
                return fail(error);
        switch (type) {
        case LIBVIRT_LOCK_RESOURCE_DISK:
                vtype = VMLOCK_LOCK_RESOURCE_DISK;
                break;
        case LIBVIRT_LOCK_RESOURCE_LEASE:
                vtype = VMLOCK_LOCK_RESOURCE_LEASE;
                break;
        default:
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "vmlock lock driver: unsupported resource type %u for %s", type,
                            VMLOCK_NULLSTR(name));
                return fail(error);
        }
        if (flags & LIBVIRT_LOCK_RESOURCE_READONLY)
                vflags |= VMLOCK_LOCK_RESOURCE_READONLY;
        if (flags & LIBVIRT_LOCK_RESOURCE_SHARED)
                vflags |= VMLOCK_LOCK_RESOURCE_SHARED;

        vparams = params_from_libvirt(n_params, params);
        if (!DRIVER->add_resource(&obj->object, vtype, name, vparams->len,
                                  (const VmlockLockParam *)vparams->data, vflags, &error))
                return fail(error);
        return 0;
}

/* ---- acquire / release / inquire ------------------------------------- */

/* The guest's registered connection, after the driver took what it had to:
 * libvirt's fencing helper, then restrict, which forbids any further call. */
static gboolean
finish_guest_connection(LibvirtObject *obj, int sock, unsigned int flags,
                        LibvirtLockFailureAction action, GError **error)
{
        int rv;

        if (!vmlock_libvirt_killpath_register(sock, action, obj->uri, obj->uuid, error))
                return FALSE;
        if (!(flags & LIBVIRT_LOCK_ACQUIRE_RESTRICT))
                return TRUE;
        rv = sanlock_restrict(sock, SANLK_RESTRICT_ALL);
        if (rv < 0) {
                g_autofree char *subject = g_strdup_printf("guest %s (pid %u)", obj->uuid,
                                                           obj->pid);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_RESTRICT,
                        .subject = subject,
                        .pid = obj->pid,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        return TRUE;
}

static int
vl_acquire(LibvirtLockManager *man, const char *state, unsigned int flags,
           LibvirtLockFailureAction action, int *fd)
{
        LibvirtObject *obj = man->priv;
        GError *error = NULL;
        gboolean in_guest = obj->pid == (guint)getpid();
        unsigned int vflags = 0;
        int sock = -1;

        VMLOCK_TRACE("man=%p state=%s flags=0x%x action=%d", man, VMLOCK_NULLSTR(state), flags,
                     (int)action);

        if (!check_flags("acquire", flags,
                         LIBVIRT_LOCK_ACQUIRE_REGISTER_ONLY | LIBVIRT_LOCK_ACQUIRE_RESTRICT,
                         &error))
                return fail(error);
        if ((flags & LIBVIRT_LOCK_ACQUIRE_RESTRICT) && !in_guest) {
                g_set_error_literal(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "vmlock lock driver: restrict only applies in the guest's "
                                    "own process, before exec");
                return fail(error);
        }
        /* A failure action vmlock refuses fails the start before any lease
         * is taken. */
        if (in_guest && action != LIBVIRT_LOCK_FAILURE_DEFAULT) {
                g_autofree char *path = NULL;
                g_autofree char *args = NULL;

                if (!vmlock_libvirt_killpath_build(action, obj->uri, obj->uuid, &path, &args,
                                                   &error))
                        return fail(error);
        }
        if (flags & LIBVIRT_LOCK_ACQUIRE_REGISTER_ONLY)
                vflags |= VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY;

        /* The driver registers the guest and takes its leases; the fencing
         * is libvirt's, so it gets the default action and no restrict. */
        if (!DRIVER->acquire(&obj->object, state, vflags, VMLOCK_LOCK_FAILURE_DEFAULT, &sock,
                             &error))
                return fail(error);
        if (sock >= 0 && !finish_guest_connection(obj, sock, flags, action, &error)) {
                /* closing the registered connection drops whatever it held */
                close(sock);
                return fail(error);
        }
        if ((flags & LIBVIRT_LOCK_ACQUIRE_RESTRICT) && sock < 0) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "vmlock lock driver: guest %s (pid %u) was registered already: "
                            "cannot restrict it", obj->uuid, obj->pid);
                return fail(error);
        }
        /* Without @fd the connection stays open in this process on purpose:
         * it is the guest's registration. */
        if (fd)
                *fd = sock;
        return 0;
}

static int
vl_release(LibvirtLockManager *man, char **state, unsigned int flags)
{
        LibvirtObject *obj = man->priv;
        GError *error = NULL;

        VMLOCK_TRACE("man=%p flags=0x%x", man, flags);

        if (!check_flags("release", flags, 0, &error))
                return fail(error);
        if (!DRIVER->release(&obj->object, state, 0, &error))
                return fail(error);
        return 0;
}

static int
vl_inquire(LibvirtLockManager *man, char **state, unsigned int flags)
{
        LibvirtObject *obj = man->priv;
        GError *error = NULL;

        VMLOCK_TRACE("man=%p flags=0x%x", man, flags);

        if (!check_flags("inquire", flags, 0, &error))
                return fail(error);
        if (!DRIVER->inquire(&obj->object, state, 0, &error))
                return fail(error);
        return 0;
}

/* The one symbol the module exports. */
__attribute__((visibility("default"))) LibvirtLockDriver virLockDriverImpl = {
        .version = LIBVIRT_LOCK_ABI_VERSION,
        .flags = LIBVIRT_LOCK_USES_STATE,
        .init = vl_init,
        .deinit = vl_deinit,
        .new_object = vl_new,
        .free_object = vl_free,
        .add_resource = vl_add_resource,
        .acquire = vl_acquire,
        .release = vl_release,
        .inquire = vl_inquire,
};
