/* vmlock sanlock driver: the driver table (init, objects, acquire/release/inquire in batches). */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* O_PATH */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_resource.h>
#include <sanlock_rv.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_damage.h"
#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_holder.h"
#include "drivers/sanlock/sanlock_hosts.h"
#include "drivers/sanlock/sanlock_killpath.h"
#include "drivers/sanlock/sanlock_lease.h"
#include "drivers/sanlock/sanlock_lockspace.h"
#include "drivers/sanlock/sanlock_release.h"
#include "drivers/sanlock/sanlock_trust.h"
#include "drivers/sanlock/sanlock_watch.h"
#include "locking/lock_driver.h"
#include "util/log.h"

/* One sanlock_acquire() takes at most SANLK_MAX_RESOURCES (8); a guest may
 * have more, taken in several calls. */
#define BATCH_MAX SANLK_MAX_RESOURCES

/* Set up once per process by the first init, shared by every loader of the
 * module, and freed when the last one calls deinit. */
static GMutex driver_lock;
static guint driver_refs;
static VmlockSanlockConfig *driver_config;
/* Initialised for queries only: the lockspace was not set up. */
static gboolean driver_read_only;

typedef struct {
        char *name;
        char *uri; /* the lock-failure helper's */
        char uuid[37];
        guint pid;
        gboolean registered;    /* the daemon knows pid (probed, or we registered it) */
        GPtrArray *leases;      /* VmlockSanlockLease *, in the order added */
        GPtrArray *rw_disks;    /* manual mode: paths of read-write exclusive disks */
        guint domain_leases;    /* the guest's <lease>s, also those not added here */
} SanlockObject;

static gboolean
check_flags(const char *callback, unsigned int flags, unsigned int known, GError **error)
{
        if (flags & ~known) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "sanlock lock driver: %s: unsupported flags 0x%x", callback,
                            flags & ~known);
                return FALSE;
        }
        return TRUE;
}

/* ---- init / deinit ---------------------------------------------------- */

static gboolean
sanlock_drv_init(unsigned int version, const char *config_file, unsigned int flags,
                 VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&driver_lock);
        g_autoptr(VmlockSanlockConfig) config = NULL;

        VMLOCK_TRACE("version=%u config_file=%s flags=0x%x", version,
                     VMLOCK_NULLSTR(config_file), flags);

        if (!check_flags("init", flags, VMLOCK_LOCK_INIT_READ_ONLY, error))
                return FALSE;
        if (version != VMLOCK_LOCK_DRIVER_VERSION) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "sanlock lock driver built for ABI %u, loaded with %u",
                            VMLOCK_LOCK_DRIVER_VERSION, version);
                return FALSE;
        }
        /* A second init in the same process is a no-op: the first config wins. */
        if (driver_config) {
                driver_refs++;
                return TRUE;
        }
        if (!config_file) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: no config file given");
                return FALSE;
        }

        config = vmlock_sanlock_config_load(config_file, error);
        if (!config)
                return FALSE;
        /* Unlike libvirt, a lockspace that can't be set up fails here, with
         * what to check, not later as a puzzling acquire error. Queries
         * (who holds a disk, which hosts live) must not join or create it. */
        if (!(flags & VMLOCK_LOCK_INIT_READ_ONLY) && config->auto_disk_leases &&
            !vmlock_sanlock_lockspace_setup(config, progress, progress_data, error))
                return FALSE;

        driver_config = g_steal_pointer(&config);
        driver_read_only = (flags & VMLOCK_LOCK_INIT_READ_ONLY) != 0;
        driver_refs = 1;
        return TRUE;
}

static void
sanlock_drv_deinit(void)
{
        G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&driver_lock);

        VMLOCK_TRACE(" ");

        if (driver_refs == 0 || --driver_refs > 0)
                return;
        g_clear_pointer(&driver_config, vmlock_sanlock_config_free);
}

/* ---- objects ---------------------------------------------------------- */

static SanlockObject *
object_priv(VmlockLockObject *object)
{
        return object->priv;
}

static void
sanlock_object_free(SanlockObject *obj)
{
        if (!obj)
                return;
        g_free(obj->name);
        g_free(obj->uri);
        g_ptr_array_unref(obj->leases);
        g_ptr_array_unref(obj->rw_disks);
        g_free(obj);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SanlockObject, sanlock_object_free)

static gboolean
param_type_ok(const VmlockLockParam *param, VmlockLockParamType want, GError **error)
{
        if (param->type != want) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "sanlock lock driver: parameter '%s' has type %d, expected %d",
                            param->key, (int)param->type, (int)want);
                return FALSE;
        }
        return TRUE;
}

static gboolean
sanlock_drv_new_object(VmlockLockObject *object, unsigned int type, gsize n_params,
                       const VmlockLockParam *params, unsigned int flags, GError **error)
{
        g_autoptr(SanlockObject) obj = NULL;

        VMLOCK_TRACE("object=%p type=%u n_params=%" G_GSIZE_FORMAT " flags=0x%x", object, type,
                     n_params, flags);

        if (!check_flags("new", flags, VMLOCK_LOCK_NEW_STARTED, error))
                return FALSE;
        if (!driver_config) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "sanlock lock driver is not initialised");
                return FALSE;
        }
        if (type != VMLOCK_LOCK_OBJECT_DOMAIN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "sanlock lock driver: unsupported object type %u", type);
                return FALSE;
        }

        obj = g_new0(SanlockObject, 1);
        obj->leases = g_ptr_array_new_with_free_func((GDestroyNotify)vmlock_sanlock_lease_free);
        obj->rw_disks = g_ptr_array_new_with_free_func(g_free);

        for (gsize i = 0; i < n_params; i++) {
                const VmlockLockParam *param = &params[i];

                if (!param->key)
                        continue;
                if (g_str_equal(param->key, "uuid")) {
                        const guint8 *u = param->value.uuid;

                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_UUID, error))
                                return FALSE;
                        g_snprintf(obj->uuid, sizeof(obj->uuid),
                                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                                   "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
                                   u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                                   u[14], u[15]);
                } else if (g_str_equal(param->key, "name")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_STRING, error))
                                return FALSE;
                        g_free(obj->name);
                        obj->name = g_strdup(param->value.str);
                } else if (g_str_equal(param->key, "uri")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_STRING, error))
                                return FALSE;
                        g_free(obj->uri);
                        obj->uri = g_strdup(param->value.str);
                } else if (g_str_equal(param->key, "pid")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_UINT, error))
                                return FALSE;
                        obj->pid = param->value.ui;
                } else if (g_str_equal(param->key, "leases")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_UINT, error))
                                return FALSE;
                        obj->domain_leases = param->value.ui;
                }
                /* other keys (id...) are not needed here */
        }

        /* A guest started with another lock driver, or none, was never
         * registered: release and inquire must then be no-ops, not errors.
         * A guest being started has nothing to probe. */
        if (!(flags & VMLOCK_LOCK_NEW_STARTED) && obj->pid > 0) {
                int count = 0;
                int rv = sanlock_inquire(-1, (int)obj->pid, 0, &count, NULL);

                obj->registered = rv >= 0;
                g_debug("pid %u %s registered with sanlock (%d)", obj->pid,
                        obj->registered ? "is" : "is not", rv);
        }

        object->priv = g_steal_pointer(&obj);
        return TRUE;
}

static void
sanlock_drv_free_object(VmlockLockObject *object)
{
        VMLOCK_TRACE("object=%p", object);

        if (!object)
                return;
        g_clear_pointer(&object->priv, sanlock_object_free);
}

/* ---- resources -------------------------------------------------------- */

/* The same lease twice (one disk attached twice, readonly and writable)
 * would make sanlock refuse the whole batch: keep one, exclusive if any
 * of them is. */
static void
object_add_lease(SanlockObject *obj, VmlockSanlockLease *lease)
{
        for (guint i = 0; i < obj->leases->len; i++) {
                VmlockSanlockLease *have = g_ptr_array_index(obj->leases, i);

                if (!vmlock_sanlock_lease_same(have->res, lease->res))
                        continue;
                if ((have->res->flags & SANLK_RES_SHARED) &&
                    !(lease->res->flags & SANLK_RES_SHARED)) {
                        g_ptr_array_index(obj->leases, i) = lease;
                        lease = have;
                }
                vmlock_sanlock_lease_free(lease);
                return;
        }
        g_ptr_array_add(obj->leases, lease);
}

static gboolean
add_disk(SanlockObject *obj, const char *path, gsize n_params, unsigned int flags,
         GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        gboolean shared = (flags & (VMLOCK_LOCK_RESOURCE_READONLY |
                                    VMLOCK_LOCK_RESOURCE_SHARED)) != 0;
        g_autoptr(VmlockSanlockLease) lease = NULL;

        if (n_params > 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "disk %s: a disk resource takes no parameters", path);
                return FALSE;
        }

        if (config->auto_disk_leases && driver_read_only) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "disk %s: the sanlock lock driver was loaded for queries only: "
                            "it takes no leases", path);
                return FALSE;
        }
        if (!config->auto_disk_leases) {
                /* Only remembered, for require_lease_for_disks. */
                if (!shared)
                        g_ptr_array_add(obj->rw_disks, g_strdup(path));
                return TRUE;
        }

        /* Readers and <shareable/> writers share the lease: they coexist, and
         * keep any exclusive writer out. */
        lease = vmlock_sanlock_disk_lease_new(config, path, shared, error);
        if (!lease || !vmlock_sanlock_disk_lease_ensure(config, lease, error))
                return FALSE;
        object_add_lease(obj, g_steal_pointer(&lease));
        return TRUE;
}

/* An explicit lease's file is named by the admin, links included (such as
 * /dev/disk/by-path/...): it is followed, and what it names must be a
 * regular file or a block device owned by root or the configured user. A
 * missing one is left to the daemon to report. */
static gboolean
check_explicit_lease_file(const VmlockSanlockLease *lease, GError **error)
{
        const char *path = lease->res->disks[0].path;
        g_autofree char *what = NULL;
        struct stat st;
        int fd;

        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return TRUE;
        if (fstat(fd, &st) < 0) {
                close(fd);
                return TRUE;
        }
        close(fd);
        what = g_strdup_printf("the file of %s", lease->label);
        return vmlock_sanlock_trust_stat(driver_config, path, what, &st, TRUE, error);
}

/* The sanlock resource of an explicit <lease> from add_resource's params. */
static VmlockSanlockLease *
lease_from_params(const char *key, gsize n_params, const VmlockLockParam *params,
                  gboolean shared, GError **error)
{
        const char *path = NULL, *lockspace = NULL;
        guint64 offset = 0;
        g_autofree char *label = NULL;

        for (gsize i = 0; i < n_params; i++) {
                const VmlockLockParam *param = &params[i];

                if (!param->key)
                        continue;
                if (g_str_equal(param->key, "path")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_STRING, error))
                                return NULL;
                        path = param->value.str;
                } else if (g_str_equal(param->key, "offset")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_ULONG, error))
                                return NULL;
                        offset = param->value.ul;
                } else if (g_str_equal(param->key, "lockspace")) {
                        if (!param_type_ok(param, VMLOCK_LOCK_PARAM_STRING, error))
                                return NULL;
                        lockspace = param->value.str;
                }
        }

        label = g_strdup_printf("lease %s:%s (%s:%" G_GUINT64_FORMAT ")",
                                lockspace ? lockspace : "", key, VMLOCK_NULLSTR(path), offset);
        if (!path) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "%s: no target path", label);
                return NULL;
        }
        if (!lockspace) {
                /* libvirt passes it on and sanlock fails later, cryptically */
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lease %s (%s:%" G_GUINT64_FORMAT "): sanlock needs a <lockspace>",
                            key, path, offset);
                return NULL;
        }
        return vmlock_sanlock_lease_new(label, lockspace, key, path, offset, shared, error);
}

static gboolean
add_lease(SanlockObject *obj, const char *key, gsize n_params, const VmlockLockParam *params,
          unsigned int flags, GError **error)
{
        VmlockSanlockLease *lease;

        lease = lease_from_params(key, n_params, params,
                                  (flags & (VMLOCK_LOCK_RESOURCE_READONLY |
                                            VMLOCK_LOCK_RESOURCE_SHARED)) != 0, error);
        if (!lease || !check_explicit_lease_file(lease, error)) {
                vmlock_sanlock_lease_free(lease);
                return FALSE;
        }
        object_add_lease(obj, lease);
        return TRUE;
}

static gboolean
sanlock_drv_add_resource(VmlockLockObject *object, unsigned int type, const char *name,
                         gsize n_params, const VmlockLockParam *params, unsigned int flags,
                         GError **error)
{
        SanlockObject *obj = object_priv(object);

        VMLOCK_TRACE("object=%p type=%u name=%s n_params=%" G_GSIZE_FORMAT " flags=0x%x",
                     object, type, VMLOCK_NULLSTR(name), n_params, flags);

        if (!check_flags("add_resource", flags,
                         VMLOCK_LOCK_RESOURCE_READONLY | VMLOCK_LOCK_RESOURCE_SHARED, error))
                return FALSE;
        if (!name || !*name) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: a resource needs a name");
                return FALSE;
        }

        switch (type) {
        case VMLOCK_LOCK_RESOURCE_DISK:
                return add_disk(obj, name, n_params, flags, error);
        case VMLOCK_LOCK_RESOURCE_LEASE:
                return add_lease(obj, name, n_params, params, flags, error);
        default:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "sanlock lock driver: unsupported resource type %u for %s", type,
                            name);
                return FALSE;
        }
}

/* ---- acquire ---------------------------------------------------------- */

static char *
object_describe(const SanlockObject *obj)
{
        if (obj->name)
                return g_strdup_printf("guest %s (pid %u)", obj->name, obj->pid);
        return g_strdup_printf("guest process %u", obj->pid);
}

/* Releases @count leases from @first on, in batches, for the connection
 * @sock or (sock -1) on behalf of obj->pid. Returns 0 or the first error. */
static int
release_range(const SanlockObject *obj, int sock, struct sanlk_resource **res, guint count)
{
        int first_error = 0;

        for (guint done = 0; done < count; done += BATCH_MAX) {
                guint n = MIN(BATCH_MAX, count - done);
                int rv = sanlock_release(sock, sock < 0 ? (int)obj->pid : -1, 0, (int)n,
                                         res + done);

                if (rv < 0 && first_error == 0)
                        first_error = rv;
        }
        return first_error;
}

/* Which lease of a refused batch is the one in the way, and who holds it. */
static void
set_acquire_error(const SanlockObject *obj, int rv, VmlockSanlockLease **batch, guint n,
                  GError **error)
{
        VmlockSanlockErrorContext ctx = {
                .op = VMLOCK_SANLOCK_OP_ACQUIRE,
                .subject = batch[0]->label,
                .lockspace = batch[0]->res->lockspace_name,
                .path = batch[0]->res->disks[0].path,
                .pid = obj->pid,
        };
        g_autofree char *holder = NULL;
        g_autofree char *detail = NULL;

        if (vmlock_sanlock_rv_is_busy(rv)) {
                for (guint i = 0; i < n; i++) {
                        holder = vmlock_sanlock_holder_describe(batch[i]->res);
                        if (holder) {
                                ctx.subject = batch[i]->label;
                                break;
                        }
                }
                ctx.holder = holder;
        } else if (rv == SANLK_ACQUIRE_LVER) {
                /* Name the lease whose version moved on since the state. */
                for (guint i = 0; i < n; i++) {
                        g_autofree struct sanlk_resource *now = NULL;
                        gsize size = sizeof(struct sanlk_resource) + sizeof(struct sanlk_disk);

                        if (!(batch[i]->res->flags & SANLK_RES_LVER))
                                continue;
                        now = g_malloc0(size);
                        memcpy(now, batch[i]->res, size);
                        now->flags = 0;
                        if (sanlock_read_resource(now, 0) < 0 ||
                            now->lver == batch[i]->res->lver)
                                continue;
                        ctx.subject = batch[i]->label;
                        detail = g_strdup_printf("version %" G_GUINT64_FORMAT " in the state, %"
                                                 G_GUINT64_FORMAT " on disk",
                                                 (guint64)batch[i]->res->lver,
                                                 (guint64)now->lver);
                        break;
                }
                ctx.detail = detail;
        } else if (n > 1 && rv != -ENOSPC) {
                /* can't tell which: say it is one of them */
                detail = g_strdup_printf("or one of the %u leases taken with it", n - 1);
                ctx.detail = detail;
        }
        vmlock_sanlock_set_error(error, rv, &ctx);
}

/* Two refusals pass if retried for a moment:
 * - a shared acquire briefly owns the lease exclusively, to write its host's
 *   mode, so two readers arriving together collide and the loser is refused
 *   (-243/-244/-245) though nobody holds it exclusively;
 * - -EAGAIN: the lease of a guest of this host that just exited is still
 *   being released by the daemon, in the background.
 * They are retried after short random pauses for up to two seconds (sanlock's
 * own ballot retries take up to a few hundred ms). A real holder refuses every
 * try, so a reader refused by a writer learns it after those two seconds. */
#define RETRY_BUDGET_US (2 * G_USEC_PER_SEC)
#define RETRY_MIN_US 5000
#define RETRY_MAX_US 30000

static int
acquire_batch(const SanlockObject *obj, int sock, struct sanlk_resource **res, guint n,
              struct sanlk_options *opt)
{
        gboolean shared = FALSE;
        gint64 deadline = 0;
        int rv;

        for (guint i = 0; i < n; i++)
                shared |= (res[i]->flags & SANLK_RES_SHARED) != 0;

        for (;;) {
                /* NOWAIT: a lease whose holder stopped renewing is refused
                 * (-247) with a countdown, instead of blocking the start
                 * silently until that host counts as dead (140 s). */
                rv = sanlock_acquire(sock, sock < 0 ? (int)obj->pid : -1,
                                     SANLK_ACQUIRE_OWNER_NOWAIT, (int)n, res, opt);
                if (rv >= 0 || !vmlock_sanlock_rv_is_busy(rv))
                        return rv;
                if (!shared && rv != -EAGAIN)
                        return rv;
                if (!deadline)
                        deadline = g_get_monotonic_time() + RETRY_BUDGET_US;
                else if (g_get_monotonic_time() >= deadline)
                        return rv;
                g_debug("acquire refused (%d), retrying", rv);
                g_usleep(g_random_int_range(RETRY_MIN_US, RETRY_MAX_US));
        }
}

/* vmlock-sanlock-cleanup may remove an automatic lease file between
 * add_resource and the daemon opening it (rename, truncate to 0, unlink):
 * the daemon then finds no file or an empty one. Each such file of @batch
 * is created anew and noted. Returns 1 if there was one (*ret_removed: the
 * first), 0 if none, -1 with @error when a file cannot be created. */
static int
renew_removed_files(VmlockSanlockLease **batch, guint n, VmlockSanlockLease **ret_removed,
                    GError **error)
{
        int renewed = 0;

        for (guint i = 0; i < n; i++) {
                VmlockSanlockLease *lease = batch[i];

                if (!lease->auto_file || !vmlock_sanlock_disk_lease_file_changed(lease))
                        continue;
                g_debug("lease file %s of %s was removed or replaced: creating it again",
                        lease->res->disks[0].path, lease->label);
                if (!renewed)
                        *ret_removed = lease;
                renewed = 1;
                if (!vmlock_sanlock_disk_lease_ensure(driver_config, lease, error))
                        return -1;
        }
        return renewed;
}

/* A batch refused by anything but a holder: a damaged lease file of it is
 * named, with what is wrong with it, rather than sanlock's errno of its
 * reads. Returns TRUE when there was one. */
static gboolean
set_damage_error(VmlockSanlockLease **batch, guint n, GError **error)
{
        for (guint i = 0; i < n; i++) {
                const char *path = batch[i]->res->disks[0].path;
                g_autofree char *damage = vmlock_sanlock_lease_file_damage(
                        path, batch[i]->res->disks[0].offset);

                if (damage) {
                        vmlock_sanlock_set_damage_error(error, batch[i]->label, path, damage);
                        return TRUE;
                }
        }
        return FALSE;
}

/* A batch refused by anything but a holder, after a removed lease file:
 * renews the files and tries again, a few times, before giving up. */
#define FILE_RETRIES 3

/* sanlock opens lease files by path, after add_resource checked them: an
 * automatic lease file replaced in between (by someone who can write
 * disk_lease_dir) would have been followed. Each is looked at again once
 * held; a file that is no longer the one checked must pass the checks
 * itself. This narrows the window, it cannot close it: only a lease dir
 * that no untrusted user can write does (vmlock_sanlock_trust_lease_dir). */
static gboolean
verify_files_held(const SanlockObject *obj, GError **error)
{
        for (guint i = 0; i < obj->leases->len; i++) {
                VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);
                const char *path = lease->res->disks[0].path;
                g_autofree char *what = NULL;
                struct stat st;
                int found;

                if (!lease->auto_file)
                        continue;
                if (lstat(path, &st) == 0 && st.st_dev == lease->file_dev &&
                    st.st_ino == lease->file_ino)
                        continue;
                what = g_strdup_printf("the lease file of %s", lease->label);
                found = vmlock_sanlock_trust_file(driver_config, path, what, &st, error);
                if (found == 0)
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "%s, %s, vanished while it was taken", what, path);
                if (found <= 0)
                        return FALSE;
                lease->file_dev = st.st_dev;
                lease->file_ino = st.st_ino;
        }
        return TRUE;
}

/* All leases or none: if a later batch is refused, the earlier ones are
 * released before the error is returned. */
static gboolean
acquire_leases(const SanlockObject *obj, int sock, GError **error)
{
        guint count = obj->leases->len;
        g_autofree struct sanlk_resource **res = g_new0(struct sanlk_resource *, count + 1);
        struct sanlk_options opt = { 0 };

        for (guint i = 0; i < count; i++)
                res[i] = ((VmlockSanlockLease *)g_ptr_array_index(obj->leases, i))->res;
        /* sanlock shows it in 'sanlock client status' only */
        if (obj->name)
                g_strlcpy(opt.owner_name, obj->name, sizeof(opt.owner_name));

        for (guint done = 0; done < count; done += BATCH_MAX) {
                guint n = MIN(BATCH_MAX, count - done);
                VmlockSanlockLease **batch = (VmlockSanlockLease **)obj->leases->pdata + done;
                VmlockSanlockLease *removed = NULL;
                GError *local = NULL;
                int rv = acquire_batch(obj, sock, res + done, n, &opt);
                guint retries = 0;

                while (rv < 0 && !vmlock_sanlock_rv_is_busy(rv) && retries < FILE_RETRIES) {
                        int renewed = renew_removed_files(batch, n, &removed, &local);

                        if (renewed <= 0)
                                break;
                        retries++;
                        rv = acquire_batch(obj, sock, res + done, n, &opt);
                }

                if (rv < 0 || local) {
                        int undo = release_range(obj, sock, res, done);
                        gboolean busy = vmlock_sanlock_rv_is_busy(rv);

                        if (undo < 0)
                                g_debug("releasing the %u leases taken before failed: %d",
                                        done, undo);
                        if (local)
                                g_propagate_error(error, local);
                        else if (!busy && set_damage_error(batch, n, error))
                                g_debug("batch refused (%d) for a damaged lease file", rv);
                        else if (retries == FILE_RETRIES && !busy)
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                                            "cannot lock %s: the lease file %s was removed "
                                            "while starting (by vmlock-sanlock-cleanup?); "
                                            "try again", removed->label,
                                            removed->res->disks[0].path);
                        else
                                set_acquire_error(obj, rv, batch, n, error);
                        return FALSE;
                }
        }
        if (!verify_files_held(obj, error)) {
                int undo = release_range(obj, sock, res, count);

                if (undo < 0)
                        g_debug("releasing the %u leases taken failed: %d", count, undo);
                return FALSE;
        }
        return TRUE;
}

/* Marks each lease the state string lists with a version with that
 * version, so sanlock refuses it if anyone held it since (SANLK_RES_LVER). */
static gboolean
apply_state(SanlockObject *obj, const char *state, GError **error)
{
        g_autoptr(GPtrArray) resources = NULL;

        for (guint i = 0; i < obj->leases->len; i++) {
                VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);

                lease->res->flags &= ~SANLK_RES_LVER;
                lease->res->lver = 0;
        }

        resources = vmlock_sanlock_state_parse(state, error);
        if (!resources)
                return FALSE;
        for (guint j = 0; j < resources->len; j++) {
                const struct sanlk_resource *arg = g_ptr_array_index(resources, j);

                for (guint i = 0; i < obj->leases->len; i++) {
                        VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);

                        if (!vmlock_sanlock_lease_same(lease->res, arg))
                                continue;
                        /* shared leases have no version in the state (":SH") */
                        if ((arg->flags & SANLK_RES_LVER) &&
                            !(lease->res->flags & SANLK_RES_SHARED)) {
                                lease->res->lver = arg->lver;
                                lease->res->flags |= SANLK_RES_LVER;
                        }
                }
        }
        return TRUE;
}

/* Whether one of the object's leases is the sanlock resource @res. */
static gboolean
object_has_lease(const SanlockObject *obj, const struct sanlk_resource *res)
{
        for (guint i = 0; i < obj->leases->len; i++) {
                const VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);

                if (vmlock_sanlock_lease_same(lease->res, res))
                        return TRUE;
        }
        return FALSE;
}

/* A lease a hand-over state lists that the object lacks (a disk hot-plugged
 * at the source, missing from the XML here): taken as the state names it,
 * once its file passes the checks a lease file of ours would. */
static VmlockSanlockLease *
handed_over_lease(const struct sanlk_resource *res, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        gboolean shared = (res->flags & SANLK_RES_SHARED) != 0;
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autofree char *label = NULL;
        g_autofree char *what = NULL;
        g_autofree char *expected = NULL;
        /* sanlock's names need not end in a NUL at their full length */
        char ls_name[SANLK_NAME_LEN + 1] = { 0 };
        char res_name[SANLK_NAME_LEN + 1] = { 0 };
        const char *path;
        struct stat st;
        int found;

        memcpy(ls_name, res->lockspace_name, SANLK_NAME_LEN);
        memcpy(res_name, res->name, SANLK_NAME_LEN);
        if (res->num_disks != 1) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "the state handed over names lease %s:%s on %u disks: vmlock "
                            "leases live on one", ls_name, res_name,
                            res->num_disks);
                return NULL;
        }
        path = res->disks[0].path;
        if (!g_str_equal(ls_name, VMLOCK_SANLOCK_DISK_LOCKSPACE)) {
                label = g_strdup_printf("lease %s:%s (%s:%" G_GUINT64_FORMAT ") handed over "
                                        "by the state", ls_name, res_name, path,
                                        (guint64)res->disks[0].offset);
                lease = vmlock_sanlock_lease_new(label, ls_name, res_name, path,
                                                 res->disks[0].offset, shared, error);
                if (!lease || !check_explicit_lease_file(lease, error))
                        return NULL;
                return g_steal_pointer(&lease);
        }

        label = g_strdup_printf("disk lease %s (%s) handed over by the state, for a disk "
                                "not in this guest's XML", res_name, path);
        expected = config->auto_disk_leases
                           ? g_build_filename(config->disk_lease_dir, res_name, NULL)
                           : NULL;
        if (!expected || !g_str_equal(path, expected) || res->disks[0].offset != 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "cannot take the %s: %s", label,
                            expected ? "this host keeps that lease elsewhere, in "
                                       "disk_lease_dir"
                                     : "this host has no automatic disk leases "
                                       "(auto_disk_leases = 0)");
                if (expected)
                        g_prefix_error(error, "%s: ", config->filename);
                return NULL;
        }
        lease = vmlock_sanlock_lease_new(label, ls_name, res_name, path, 0, shared,
                                         error);
        if (!lease)
                return NULL;
        what = g_strdup_printf("the lease file of the %s", label);
        found = vmlock_sanlock_trust_file(config, path, what, &st, error);
        if (found < 0)
                return NULL;
        if (found == 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "cannot take the %s: its lease file does not exist here (is "
                            "disk_lease_dir the same shared directory on both hosts?)",
                            label);
                return NULL;
        }
        lease->auto_file = TRUE;
        lease->file_dev = st.st_dev;
        lease->file_ino = st.st_ino;
        return g_steal_pointer(&lease);
}

/* A state handed over by another holder (VMLOCK_LOCK_ACQUIRE_HANDOVER) must
 * list every lease of the object: one it lacks (an empty or truncated
 * state) would be taken with no version to check. What it lists beyond
 * them is added, so no lease the source gave up is left untaken. */
static gboolean
apply_handover(SanlockObject *obj, const char *state, GError **error)
{
        g_autoptr(GPtrArray) resources = NULL;
        g_autoptr(GPtrArray) missing = g_ptr_array_new();
        g_autoptr(GError) local = NULL;

        resources = vmlock_sanlock_state_parse(state, &local);
        if (!resources) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "the state handed over cannot be read (truncated in the copy?): "
                            "%s", local->message);
                return FALSE;
        }
        /* An exclusive lease listed without its version (an entry cut short)
         * is as unchecked as one not listed. */
        for (guint i = 0; i < obj->leases->len; i++) {
                VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);
                gboolean exclusive = !(lease->res->flags & SANLK_RES_SHARED);
                gboolean listed = FALSE;

                for (guint j = 0; j < resources->len && !listed; j++) {
                        const struct sanlk_resource *arg = g_ptr_array_index(resources, j);

                        listed = vmlock_sanlock_lease_same(lease->res, arg) &&
                                 (!exclusive || (arg->flags & SANLK_RES_LVER));
                }
                if (!listed)
                        g_ptr_array_add(missing, lease->label);
        }
        if (missing->len > 0) {
                g_autofree char *who = object_describe(obj);
                g_autofree char *names = NULL;

                g_ptr_array_add(missing, NULL);
                names = g_strjoinv(", ", (char **)missing->pdata);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                            "cannot take the leases of %s: the state handed over does not list "
                            "%s with %s (%s state?), so vmlock cannot check that "
                            "nobody used %s since; give the whole state that `pause --release` "
                            "or `migrate` printed",
                            who, names, missing->len > 2 ? "their versions" : "its version",
                            *state ? "a truncated" : "an empty",
                            missing->len > 2 ? "them" : "it");
                return FALSE;
        }
        if (!apply_state(obj, state, error))
                return FALSE;
        for (guint j = 0; j < resources->len; j++) {
                const struct sanlk_resource *arg = g_ptr_array_index(resources, j);
                VmlockSanlockLease *extra;

                if (object_has_lease(obj, arg))
                        continue;
                if (!(arg->flags & SANLK_RES_SHARED) && !(arg->flags & SANLK_RES_LVER)) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE,
                                    "the state handed over lists lease %.48s:%.48s without "
                                    "its version (a truncated state?): give the whole state "
                                    "that `pause --release` or `migrate` printed",
                                    arg->lockspace_name, arg->name);
                        return FALSE;
                }
                extra = handed_over_lease(arg, error);
                if (!extra)
                        return FALSE;
                if (!(extra->res->flags & SANLK_RES_SHARED)) {
                        extra->res->lver = arg->lver;
                        extra->res->flags |= SANLK_RES_LVER;
                }
                g_debug("taking %s too", extra->label);
                g_ptr_array_add(obj->leases, extra);
        }
        return TRUE;
}

static gboolean
sanlock_drv_requires_disk_leases(void)
{
        return driver_config && driver_config->require_lease_for_disks;
}

static gboolean
check_require_lease(const SanlockObject *obj, GError **error)
{
        g_autofree char *disks = NULL;
        g_autofree char *who = NULL;

        /* The whole guest counts: a disk hotplugged into a guest that has a
         * <lease> comes alone, without the lease. */
        if (!driver_config->require_lease_for_disks || obj->leases->len > 0 ||
            obj->domain_leases > 0 || obj->rw_disks->len == 0)
                return TRUE;

        g_ptr_array_add(obj->rw_disks, NULL);
        disks = g_strjoinv(", ", (char **)obj->rw_disks->pdata);
        g_ptr_array_remove_index(obj->rw_disks, obj->rw_disks->len - 1);
        who = object_describe(obj);
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                    "%s has read-write disks (%s) but no lease, and %s sets "
                    "require_lease_for_disks: add a <lease>, mark the disks <readonly/> or "
                    "<shareable/>, or enable auto_disk_leases", who, disks,
                    driver_config->filename);
        return FALSE;
}

static gboolean
sanlock_drv_acquire(VmlockLockObject *object, const char *state, unsigned int flags,
                    VmlockLockFailureAction action, int *ret_fd, GError **error)
{
        SanlockObject *obj = object_priv(object);
        int sock = -1;
        gboolean in_guest;

        VMLOCK_TRACE("object=%p state=%s flags=0x%x action=%d", object, VMLOCK_NULLSTR(state),
                     flags, (int)action);

        if (!check_flags("acquire", flags,
                         VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY | VMLOCK_LOCK_ACQUIRE_RESTRICT |
                                 VMLOCK_LOCK_ACQUIRE_HANDOVER,
                         error))
                return FALSE;
        if ((flags & VMLOCK_LOCK_ACQUIRE_HANDOVER) && !state) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: a hand-over needs the state");
                return FALSE;
        }
        if (!check_require_lease(obj, error))
                return FALSE;
        if (driver_read_only && obj->leases->len > 0 &&
            !(flags & VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY)) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "the sanlock lock driver was loaded for queries only: it "
                                    "takes no leases");
                return FALSE;
        }

        /* Only an explicit hand-over proves coverage; a state of our own
         * (pause --release, then resume here) may lack a disk recorded
         * since, which has no version to check. */
        if (flags & VMLOCK_LOCK_ACQUIRE_HANDOVER) {
                if (!apply_handover(obj, state, error))
                        return FALSE;
        } else if (state && *state && !apply_state(obj, state, error)) {
                return FALSE;
        }

        /* In the process about to exec the guest, unless an earlier call
         * registered it already (then act for it as any other process). */
        in_guest = obj->pid == (guint)getpid() && !obj->registered;
        if (!in_guest) {
                if (!obj->registered) {
                        g_autofree char *who = NULL;

                        /* libvirt succeeds here doing nothing, and the guest
                         * then runs with disks it never leased. Nothing to
                         * take (a paused start, no leases) is still fine.
                         * INVALID_ARG, as for -ESRCH: the process is unusable,
                         * not the lockspace. */
                        if ((flags & VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY) ||
                            obj->leases->len == 0) {
                                g_debug("pid %u is not registered with sanlock: nothing to "
                                        "acquire", obj->pid);
                                if (ret_fd)
                                        *ret_fd = -1;
                                return TRUE;
                        }
                        who = object_describe(obj);
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "%s is not registered with the sanlock daemon (started "
                                    "without the sanlock driver, or the daemon restarted): "
                                    "cannot take its leases", who);
                        return FALSE;
                }
                if (flags & VMLOCK_LOCK_ACQUIRE_RESTRICT) {
                        g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                            "sanlock lock driver: restrict only applies in "
                                            "the guest's own process, before exec");
                        return FALSE;
                }
        }

        if (in_guest) {
                sock = sanlock_register();
                if (sock < 0) {
                        g_autofree char *who = object_describe(obj);
                        VmlockSanlockErrorContext ctx = {
                                .op = VMLOCK_SANLOCK_OP_CONNECT,
                                .subject = "the sanlock daemon",
                                .detail = who,
                        };

                        vmlock_sanlock_set_error(error, sock, &ctx);
                        return FALSE;
                }
                /* before restrict, which forbids it */
                if (!vmlock_sanlock_killpath_register(sock, action, obj->uri, obj->uuid, error))
                        goto cleanup;
        }

        if (!(flags & VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY) && !acquire_leases(obj, sock, error))
                goto cleanup;

        if (sock >= 0) {
                int fdflags = fcntl(sock, F_GETFD);

                /* On purpose inheritable: the guest keeps this registered
                 * connection across exec, and the daemon releases its leases
                 * when the guest dies and the socket closes. */
                if (fdflags < 0 || fcntl(sock, F_SETFD, fdflags & ~FD_CLOEXEC) < 0) {
                        int saved = errno;

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "cannot make the sanlock socket inheritable: %s",
                                    g_strerror(saved));
                        goto cleanup;
                }
                if (flags & VMLOCK_LOCK_ACQUIRE_RESTRICT) {
                        int rv = sanlock_restrict(sock, SANLK_RESTRICT_ALL);

                        if (rv < 0) {
                                g_autofree char *who = object_describe(obj);
                                VmlockSanlockErrorContext ctx = {
                                        .op = VMLOCK_SANLOCK_OP_RESTRICT,
                                        .subject = who,
                                        .pid = obj->pid,
                                };

                                vmlock_sanlock_set_error(error, rv, &ctx);
                                goto cleanup;
                        }
                }
                obj->registered = TRUE;
        }

        if (ret_fd)
                *ret_fd = sock;
        return TRUE;

cleanup:
        /* closing the registered connection drops whatever it held */
        if (sock >= 0)
                close(sock);
        return FALSE;
}

/* ---- release / inquire ------------------------------------------------ */

static gboolean
inquire_state(const SanlockObject *obj, char **ret_state, GError **error)
{
        char *state = NULL;
        int count = 0;
        int rv;

        rv = sanlock_inquire(-1, (int)obj->pid, 0, &count, &state);
        if (rv < 0) {
                g_autofree char *who = object_describe(obj);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_INQUIRE,
                        .subject = who,
                        .pid = obj->pid,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        *ret_state = state && *state ? g_strdup(state) : NULL;
        free(state);
        return TRUE;
}

/* The object's leases that @state (the pid's leases now) lists, or with
 * @all every lease it lists: a pause hands over all the guest holds, also
 * leases taken over from a migration source for disks not in its XML. A
 * state that cannot be read is an error: taking it as "nothing held" would
 * report a release that left every lease held. */
static gboolean
held_leases(const SanlockObject *obj, const char *state, gboolean all, GPtrArray **ret_held,
            GError **error)
{
        g_autoptr(GPtrArray) held = g_ptr_array_new();
        g_autoptr(GPtrArray) resources = NULL;
        g_autoptr(GError) local = NULL;

        resources = vmlock_sanlock_state_parse(state, &local);
        if (!resources) {
                g_autofree char *who = object_describe(obj);

                /* the daemon's own state: not the caller's mistake */
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot release the leases of %s: %s", who, local->message);
                return FALSE;
        }
        if (all) {
                *ret_held = g_steal_pointer(&resources);
                return TRUE;
        }
        for (guint i = 0; i < obj->leases->len; i++) {
                VmlockSanlockLease *lease = g_ptr_array_index(obj->leases, i);

                for (guint j = 0; j < resources->len; j++) {
                        if (vmlock_sanlock_lease_same(lease->res,
                                                      g_ptr_array_index(resources, j))) {
                                g_ptr_array_add(held, lease->res);
                                break;
                        }
                }
        }
        *ret_held = g_steal_pointer(&held);
        return TRUE;
}

static gboolean
sanlock_drv_release(VmlockLockObject *object, char **ret_state, unsigned int flags,
                    GError **error)
{
        SanlockObject *obj = object_priv(object);
        g_autofree char *state = NULL;
        g_autoptr(GPtrArray) held = NULL;
        int rv;

        VMLOCK_TRACE("object=%p flags=0x%x", object, flags);

        if (!check_flags("release", flags, 0, error))
                return FALSE;
        if (!obj->registered) {
                g_debug("pid %u is not registered with sanlock: nothing to release", obj->pid);
                if (ret_state)
                        *ret_state = NULL;
                return TRUE;
        }

        /* What the pid holds now: the state to hand back, and which of our
         * leases to release (one never taken is skipped, not an error). */
        if (!inquire_state(obj, &state, error) ||
            !held_leases(obj, state, ret_state != NULL, &held, error))
                return FALSE;

        /* Explicit batches, never SANLK_REL_ALL: with more than 8 leases held
         * it crashes the 3.8.5 daemon. */
        rv = release_range(obj, -1, (struct sanlk_resource **)held->pdata, held->len);
        if (rv < 0) {
                g_autofree char *who = object_describe(obj);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_RELEASE,
                        .subject = who,
                        .pid = obj->pid,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }

        if (ret_state)
                *ret_state = g_steal_pointer(&state);
        return TRUE;
}

static gboolean
sanlock_drv_inquire(VmlockLockObject *object, char **ret_state, unsigned int flags,
                    GError **error)
{
        SanlockObject *obj = object_priv(object);

        VMLOCK_TRACE("object=%p flags=0x%x", object, flags);

        if (!check_flags("inquire", flags, 0, error))
                return FALSE;
        if (!ret_state) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: inquire needs somewhere to put "
                                    "the state");
                return FALSE;
        }
        if (!obj->registered) {
                *ret_state = NULL;
                return TRUE;
        }
        return inquire_state(obj, ret_state, error);
}

static gboolean
sanlock_drv_state_extra(VmlockLockObject *object, const char *state, unsigned int flags,
                        GStrv *ret_extra, GError **error)
{
        SanlockObject *obj = object_priv(object);
        g_autoptr(GPtrArray) resources = NULL;
        g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func(g_free);

        VMLOCK_TRACE("object=%p state=%s flags=0x%x", object, VMLOCK_NULLSTR(state), flags);

        if (!check_flags("state_extra", flags, 0, error))
                return FALSE;
        resources = vmlock_sanlock_state_parse(state, error);
        if (!resources)
                return FALSE;
        for (guint j = 0; j < resources->len; j++) {
                const struct sanlk_resource *res = g_ptr_array_index(resources, j);
                const char *mode = (res->flags & SANLK_RES_SHARED) ? "shared" : "exclusive";

                if (object_has_lease(obj, res))
                        continue;
                if (strncmp(res->lockspace_name, VMLOCK_SANLOCK_DISK_LOCKSPACE,
                            SANLK_NAME_LEN) == 0)
                        g_ptr_array_add(extra, g_strdup_printf(
                                                "disk lease %.48s (%s), %s", res->name,
                                                res->num_disks ? res->disks[0].path : "?",
                                                mode));
                else
                        g_ptr_array_add(extra, g_strdup_printf(
                                                "lease %.48s:%.48s (%s:%" G_GUINT64_FORMAT
                                                "), %s",
                                                res->lockspace_name, res->name,
                                                res->num_disks ? res->disks[0].path : "?",
                                                res->num_disks ? (guint64)res->disks[0].offset
                                                               : 0,
                                                mode));
        }
        if (extra->len == 0) {
                *ret_extra = NULL;
                return TRUE;
        }
        g_ptr_array_add(extra, NULL);
        *ret_extra = (GStrv)g_ptr_array_free(g_steal_pointer(&extra), FALSE);
        return TRUE;
}

/* ---- describe ----------------------------------------------------------- */

static gboolean
disk_lockspace_joined(const VmlockSanlockConfig *config, const char *ls_path)
{
        struct sanlk_lockspace ls = { 0 };

        g_strlcpy(ls.name, VMLOCK_SANLOCK_DISK_LOCKSPACE, sizeof(ls.name));
        ls.host_id = config->host_id;
        g_strlcpy(ls.host_id_disk.path, ls_path, sizeof(ls.host_id_disk.path));
        return sanlock_inq_lockspace(&ls, 0) == 0;
}

/* Who holds an automatic disk lease, read from its file through the daemon
 * (no lockspace membership needed to read). */
/* The lease of disk @name for a query (describe_resource,
 * resource_holders), its file checked: *@ret_found is 0 when it has none
 * yet (*@ret_st unset). */
static VmlockSanlockLease *
query_disk_lease(const char *op, unsigned int type, const char *name, unsigned int flags,
                 int *ret_found, struct stat *ret_st, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autofree char *what = NULL;
        int found;

        if (!check_flags(op, flags, 0, error))
                return NULL;
        if (!config) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "sanlock lock driver is not initialised");
                return NULL;
        }
        if (!name || !*name) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: a resource needs a name");
                return NULL;
        }
        if (type != VMLOCK_LOCK_RESOURCE_DISK) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "sanlock lock driver: cannot describe resource %s of type %u: "
                            "only disks", name, type);
                return NULL;
        }
        if (!config->auto_disk_leases) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "cannot tell who holds disk %s: disks have no leases of their "
                            "own unless auto_disk_leases = 1 (%s)", name, config->filename);
                return NULL;
        }

        lease = vmlock_sanlock_disk_lease_new(config, name, FALSE, error);
        if (!lease)
                return NULL;
        what = g_strdup_printf("the lease file of %s", lease->label);
        found = vmlock_sanlock_trust_file(config, lease->res->disks[0].path, what, ret_st,
                                          error);
        if (found < 0)
                return NULL;
        *ret_found = found;
        return g_steal_pointer(&lease);
}

/* A lease that could not be read: its file's damage named if it has any,
 * else sanlock's error. */
static void
set_read_error(GError **error, const VmlockSanlockLease *lease, int rv)
{
        const char *path = lease->res->disks[0].path;
        g_autofree char *damage = vmlock_sanlock_lease_file_damage(path, 0);
        VmlockSanlockErrorContext ctx = {
                .op = VMLOCK_SANLOCK_OP_READ,
                .subject = lease->label,
                .lockspace = lease->res->lockspace_name,
                .path = path,
        };

        if (damage)
                vmlock_sanlock_set_damage_error(error, lease->label, path, damage);
        else
                vmlock_sanlock_set_error(error, rv, &ctx);
}

static gboolean
sanlock_drv_describe_resource(unsigned int type, const char *name, gsize n_params,
                              const VmlockLockParam *params, unsigned int flags,
                              char **ret_description, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autofree char *holders = NULL;
        g_autofree char *ls_path = NULL;
        gboolean shared = FALSE;
        const char *path;
        struct stat st;
        int found = 0;
        int rv;

        VMLOCK_TRACE("type=%u name=%s n_params=%" G_GSIZE_FORMAT " flags=0x%x", type,
                     VMLOCK_NULLSTR(name), n_params, flags);

        lease = query_disk_lease("describe_resource", type, name, flags, &found, &st, error);
        if (!lease)
                return FALSE;
        path = lease->res->disks[0].path;
        if (found == 0) {
                *ret_description = g_strdup_printf(
                        "no lease file yet: never started under auto_disk_leases "
                        "(%s would be its lease file)", path);
                return TRUE;
        }
        ls_path = g_build_filename(config->disk_lease_dir, VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);
        rv = vmlock_sanlock_holder_read(lease->res, ls_path, &holders, &shared);
        if (rv < 0 || st.st_size == 0) {
                g_autofree char *damage = vmlock_sanlock_lease_file_damage(path, 0);

                if (damage) {
                        vmlock_sanlock_set_damage_error(error, lease->label, path, damage);
                        return FALSE;
                }
        }
        if (rv < 0) {
                set_read_error(error, lease, rv);
                return FALSE;
        }
        if (holders && !disk_lockspace_joined(config, ls_path)) {
                /* Only a member sees whether the holders still renew. */
                g_autofree char *note = g_strdup_printf(
                        "%s (this host has not joined lockspace %s: it cannot tell whether "
                        "they still renew)", holders, VMLOCK_SANLOCK_DISK_LOCKSPACE);

                g_free(holders);
                holders = g_steal_pointer(&note);
        }
        if (!holders)
                *ret_description = g_strdup_printf("free (lease file %s)", path);
        else if (shared)
                *ret_description = g_strdup_printf("shared by %s", holders);
        else
                *ret_description = g_strdup_printf("held exclusively by %s", holders);
        return TRUE;
}

static gboolean
sanlock_drv_resource_holders(unsigned int type, const char *name, gsize n_params,
                             const VmlockLockParam *params, unsigned int flags, int *ret_mode,
                             GPtrArray **ret_holders, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autoptr(GPtrArray) holders = NULL;
        g_autofree char *ls_path = NULL;
        gboolean shared = FALSE;
        struct stat st;
        int found = 0;
        int rv;

        VMLOCK_TRACE("type=%u name=%s n_params=%" G_GSIZE_FORMAT " flags=0x%x", type,
                     VMLOCK_NULLSTR(name), n_params, flags);

        lease = query_disk_lease("resource_holders", type, name, flags, &found, &st, error);
        if (!lease)
                return FALSE;
        if (found == 0) {
                *ret_mode = VMLOCK_DISK_LEASE_NO_FILE;
                *ret_holders = g_ptr_array_new_with_free_func(
                        (GDestroyNotify)vmlock_disk_holder_free);
                return TRUE;
        }
        ls_path = g_build_filename(config->disk_lease_dir, VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);
        rv = vmlock_sanlock_holder_list(lease->res, ls_path, &holders, &shared);
        if (rv < 0 || st.st_size == 0) {
                g_autofree char *damage = vmlock_sanlock_lease_file_damage(
                        lease->res->disks[0].path, 0);

                if (damage || rv < 0) {
                        set_read_error(error, lease, rv);
                        return FALSE;
                }
        }
        *ret_mode = holders->len == 0 ? VMLOCK_DISK_LEASE_FREE
                    : shared          ? VMLOCK_DISK_LEASE_SHARED
                                      : VMLOCK_DISK_LEASE_EXCLUSIVE;
        *ret_holders = g_steal_pointer(&holders);
        return TRUE;
}

/* ---- what a state holds -------------------------------------------------- */

/* A state is what sanlock_inquire() returned: the resources' names, not
 * how vmlock chose them (md5 of a disk path, in __LIBVIRT__DISKS__), which
 * stays the driver's business. */
static gboolean
sanlock_drv_state_holds_resource(const char *state, unsigned int type, const char *name,
                                 gsize n_params, const VmlockLockParam *params,
                                 unsigned int flags, gboolean *ret_held, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;
        g_autoptr(VmlockSanlockLease) lease = NULL;
        g_autoptr(GPtrArray) resources = NULL;
        gboolean held = FALSE;

        VMLOCK_TRACE("state=%s type=%u name=%s n_params=%" G_GSIZE_FORMAT " flags=0x%x",
                     VMLOCK_NULLSTR(state), type, VMLOCK_NULLSTR(name), n_params, flags);

        if (!check_flags("state_holds_resource", flags, 0, error))
                return FALSE;
        if (!config) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "sanlock lock driver is not initialised");
                return FALSE;
        }
        if (!state || !name || !*name) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "sanlock lock driver: state_holds_resource needs a state "
                                    "and a resource name");
                return FALSE;
        }

        switch (type) {
        case VMLOCK_LOCK_RESOURCE_DISK:
                /* Without automatic leases a disk has no lease of its own. */
                if (!config->auto_disk_leases) {
                        *ret_held = FALSE;
                        return TRUE;
                }
                lease = vmlock_sanlock_disk_lease_new(config, name, FALSE, error);
                break;
        case VMLOCK_LOCK_RESOURCE_LEASE:
                lease = lease_from_params(name, n_params, params, FALSE, error);
                break;
        default:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "sanlock lock driver: unsupported resource type %u for %s", type,
                            name);
                return FALSE;
        }
        if (!lease)
                return FALSE;

        resources = vmlock_sanlock_state_parse(state, error);
        if (!resources) {
                g_prefix_error(error, "sanlock lock driver: ");
                return FALSE;
        }
        for (guint i = 0; i < resources->len; i++) {
                if (vmlock_sanlock_lease_same(lease->res, g_ptr_array_index(resources, i)))
                        held = TRUE;
        }
        *ret_held = held;
        return TRUE;
}

static gboolean
sanlock_drv_wait_released(const char *state, guint timeout_ms, unsigned int flags,
                          gboolean *ret_released, GError **error)
{
        VMLOCK_TRACE("state=%s timeout_ms=%u flags=0x%x", VMLOCK_NULLSTR(state), timeout_ms,
                     flags);

        if (!check_flags("wait_released", flags, 0, error))
                return FALSE;
        if (!state) {
                *ret_released = TRUE;
                return TRUE;
        }
        return vmlock_sanlock_wait_released(state, timeout_ms, ret_released, error);
}

static gboolean
sanlock_drv_daemon_connect(unsigned int flags, int *ret_fd, GError **error)
{
        VMLOCK_TRACE("flags=0x%x", flags);

        if (!check_flags("daemon_connect", flags, 0, error))
                return FALSE;
        return vmlock_sanlock_daemon_connect(ret_fd, error);
}

static gboolean
sanlock_drv_process_state(unsigned int pid, unsigned int flags, char **ret_state,
                          GError **error)
{
        VMLOCK_TRACE("pid=%u flags=0x%x", pid, flags);

        if (!check_flags("process_state", flags, 0, error))
                return FALSE;
        return vmlock_sanlock_process_state(pid, ret_state, error);
}

/* ---- the lockspace ------------------------------------------------------- */

/* The lockspace callbacks act on the automatic disk leases' lockspace. */
static const VmlockSanlockConfig *
lockspace_config(const char *what, GError **error)
{
        const VmlockSanlockConfig *config = driver_config;

        if (!config) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "sanlock lock driver is not initialised");
                return NULL;
        }
        if (!config->auto_disk_leases) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "cannot %s: this host uses no disk lockspace unless "
                            "auto_disk_leases = 1 (%s); lockspaces of <lease> elements are "
                            "joined with 'sanlock client add_lockspace'", what,
                            config->filename);
                return NULL;
        }
        return config;
}

static gboolean
sanlock_drv_lockspace_join(unsigned int flags, VmlockProgressFunc progress,
                           gpointer progress_data, GError **error)
{
        G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&driver_lock);
        const VmlockSanlockConfig *config;

        VMLOCK_TRACE("flags=0x%x", flags);

        if (!check_flags("lockspace_join", flags, VMLOCK_LOCK_JOIN_AS_INIT, error))
                return FALSE;
        if ((flags & VMLOCK_LOCK_JOIN_AS_INIT) && driver_config &&
            !driver_config->auto_disk_leases) {
                driver_read_only = FALSE;
                return TRUE;
        }
        config = lockspace_config("join the disk lockspace", error);
        if (!config || !vmlock_sanlock_lockspace_setup(config, progress, progress_data, error))
                return FALSE;
        driver_read_only = FALSE;
        return TRUE;
}

static gboolean
sanlock_drv_lockspace_leave(unsigned int flags, GError **error)
{
        const VmlockSanlockConfig *config;

        VMLOCK_TRACE("flags=0x%x", flags);

        if (!check_flags("lockspace_leave", flags, VMLOCK_LOCKSPACE_LEAVE_FORCE, error))
                return FALSE;
        config = lockspace_config("leave the disk lockspace", error);
        return config && vmlock_sanlock_lockspace_leave(config, flags, error);
}

static gboolean
sanlock_drv_lockspace_status(unsigned int flags, VmlockLockspaceStatus **ret_status,
                             GError **error)
{
        const VmlockSanlockConfig *config;

        VMLOCK_TRACE("flags=0x%x", flags);

        if (!check_flags("lockspace_status", flags, 0, error))
                return FALSE;
        config = lockspace_config("tell the disk lockspace's status", error);
        return config && vmlock_sanlock_lockspace_status(config, ret_status, error);
}

static gboolean
sanlock_drv_list_hosts(unsigned int flags, GPtrArray **ret_hosts, GError **error)
{
        const VmlockSanlockConfig *config;
        g_autofree char *path = NULL;

        VMLOCK_TRACE("flags=0x%x", flags);

        if (!check_flags("list_hosts", flags, 0, error))
                return FALSE;
        config = lockspace_config("list the hosts of the disk lockspace", error);
        if (!config)
                return FALSE;
        path = g_build_filename(config->disk_lease_dir, VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);
        return vmlock_sanlock_hosts_list(VMLOCK_SANLOCK_DISK_LOCKSPACE, path, ret_hosts, error);
}

/* The one symbol the module exports. */
__attribute__((visibility("default"))) const VmlockLockDriver vmlock_lock_driver = {
        .version = VMLOCK_LOCK_DRIVER_VERSION,
        .flags = VMLOCK_LOCK_DRIVER_USES_STATE,
        .init = sanlock_drv_init,
        .deinit = sanlock_drv_deinit,
        .new_object = sanlock_drv_new_object,
        .free_object = sanlock_drv_free_object,
        .add_resource = sanlock_drv_add_resource,
        .acquire = sanlock_drv_acquire,
        .release = sanlock_drv_release,
        .inquire = sanlock_drv_inquire,
        .describe_resource = sanlock_drv_describe_resource,
        .state_holds_resource = sanlock_drv_state_holds_resource,
        .lockspace_join = sanlock_drv_lockspace_join,
        .lockspace_leave = sanlock_drv_lockspace_leave,
        .lockspace_status = sanlock_drv_lockspace_status,
        .list_hosts = sanlock_drv_list_hosts,
        .requires_disk_leases = sanlock_drv_requires_disk_leases,
        .wait_released = sanlock_drv_wait_released,
        .state_extra = sanlock_drv_state_extra,
        .daemon_connect = sanlock_drv_daemon_connect,
        .process_state = sanlock_drv_process_state,
        .resource_holders = sanlock_drv_resource_holders,
};
