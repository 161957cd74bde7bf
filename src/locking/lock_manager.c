/* vmlock: loads a lock driver (built-in nop or a plugin) and dispatches to it. */
#define G_LOG_DOMAIN "vmlock-locking"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif

#include "config-build.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmlock/error.h>
#include <vmlock/lock-manager.h>

#include "locking/lock_driver_nop.h"
#include "locking/lock_manager.h"
#include "util/log.h"

#define NOP_NAME "nop"

/* A plugin loaded and initialised once per process, however many managers use
 * it: a driver's state (its config, a joined lockspace) is process-wide, so
 * init runs for the first user and deinit after the last. */
typedef struct {
        char *path;
        char *config_file; /* what init was given; later users must agree */
        void *handle;
        const VmlockLockDriver *driver;
        guint users;
        gboolean read_only; /* initialised with VMLOCK_LOCK_INIT_READ_ONLY, not joined since */
} LoadedPlugin;

static GMutex loaded_plugins_lock;
static GHashTable *loaded_plugins; /* path -> LoadedPlugin, under loaded_plugins_lock */

/* Refcounted with g_atomic_rc_box: the last unref drops the plugin. */
struct _VmlockLockManager {
        char *name;
        char *config_file;
        LoadedPlugin *plugin; /* NULL for the built-in nop */
        const VmlockLockDriver *driver;
        /* Held across each driver call about a process (objects,
         * process_state): sanlock refuses a second call for a pid with
         * -EBUSY while one runs, and a supervisor asks from two threads. */
        GMutex process_calls;
};

struct _LockObject {
        VmlockLockManager *manager; /* a reference: keeps the driver loaded */
        VmlockLockObject object;    /* what the driver sees */
};

const char *
vmlock_default_plugin_dir(void)
{
        VMLOCK_TRACE("");

        return VMLOCK_PLUGIN_DIR;
}

const char *
vmlock_default_config_dir(void)
{
        VMLOCK_TRACE("");

        return VMLOCK_CONFIG_DIR;
}

const char *
vmlock_resolve_dir(const char *dir, const char *env_name, const char *fallback)
{
        const char *env;

        VMLOCK_TRACE("dir=%s env_name=%s fallback=%s", VMLOCK_NULLSTR(dir),
                     VMLOCK_NULLSTR(env_name), VMLOCK_NULLSTR(fallback));

        if (dir && *dir)
                return dir;
        env = secure_getenv(env_name);
        if (env && *env)
                return env;
        return fallback;
}

const char *
vmlock_resolve_config_dir(const char *dir)
{
        VMLOCK_TRACE("dir=%s", VMLOCK_NULLSTR(dir));

        return vmlock_resolve_dir(dir, "VMLOCK_CONFIG_DIR", VMLOCK_CONFIG_DIR);
}

static void
loaded_plugin_free(LoadedPlugin *plugin)
{
        g_free(plugin->path);
        g_free(plugin->config_file);
        g_free(plugin);
}

static void
loaded_plugin_unuse(LoadedPlugin *plugin)
{
        g_mutex_lock(&loaded_plugins_lock);
        if (--plugin->users == 0) {
                g_hash_table_remove(loaded_plugins, plugin->path);
                plugin->driver->deinit();
                dlclose(plugin->handle);
                loaded_plugin_free(plugin);
        }
        g_mutex_unlock(&loaded_plugins_lock);
}

static void
lock_manager_clear(gpointer data)
{
        VmlockLockManager *manager = data;

        if (manager->plugin)
                loaded_plugin_unuse(manager->plugin);
        else if (manager->driver)
                manager->driver->deinit(); /* the built-in nop */
        g_free(manager->name);
        g_free(manager->config_file);
        g_mutex_clear(&manager->process_calls);
}

static gboolean
check_name(const char *name, GError **error)
{
        if (!*name) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver name is empty");
                return FALSE;
        }
        /* The name picks a file inside the plugin dir, never one outside it. */
        if (strchr(name, '/')) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver name '%s' must not contain '/'", name);
                return FALSE;
        }
        if (name[0] == '.') {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver name '%s' must not start with '.'", name);
                return FALSE;
        }
        return TRUE;
}

/* The name of the first NULL callback, or NULL when the table is complete. */
static const char *
driver_missing_callback(const VmlockLockDriver *driver)
{
        if (!driver->init)
                return "init";
        if (!driver->deinit)
                return "deinit";
        if (!driver->new_object)
                return "new_object";
        if (!driver->free_object)
                return "free_object";
        if (!driver->add_resource)
                return "add_resource";
        if (!driver->acquire)
                return "acquire";
        if (!driver->release)
                return "release";
        if (!driver->inquire)
                return "inquire";
        /* The lockspace callbacks come as a set: a driver with some of them
         * would fail in ways no caller could predict. */
        if (driver->lockspace_join || driver->lockspace_leave || driver->lockspace_status ||
            driver->list_hosts) {
                if (!driver->lockspace_join)
                        return "lockspace_join";
                if (!driver->lockspace_leave)
                        return "lockspace_leave";
                if (!driver->lockspace_status)
                        return "lockspace_status";
                if (!driver->list_hosts)
                        return "list_hosts";
        }
        if (!driver->daemon_connect != !driver->process_state)
                return driver->daemon_connect ? "process_state" : "daemon_connect";
        return NULL;
}

/* dlopen()s @path and checks its driver table. On failure nothing stays loaded. */
static gboolean
load_plugin(const char *path, void **ret_handle, const VmlockLockDriver **ret_driver,
            GError **error)
{
        const VmlockLockDriver *driver;
        const char *missing;
        void *handle;

        if (access(path, F_OK) < 0) {
                int err = errno;

                if (err == ENOENT)
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "lock driver plugin %s not found", path);
                else
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "lock driver plugin %s is not accessible: %s",
                                    path, g_strerror(err));
                return FALSE;
        }

        handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "cannot load lock driver plugin %s: %s", path, dlerror());
                return FALSE;
        }

        dlerror();
        driver = dlsym(handle, VMLOCK_LOCK_DRIVER_SYMBOL);
        if (!driver) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver plugin %s does not export '%s'", path,
                            VMLOCK_LOCK_DRIVER_SYMBOL);
                goto cleanup;
        }
        if (driver->version != VMLOCK_LOCK_DRIVER_VERSION) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver plugin %s has driver ABI version %u, "
                            "this library needs version %u", path,
                            driver->version, VMLOCK_LOCK_DRIVER_VERSION);
                goto cleanup;
        }
        missing = driver_missing_callback(driver);
        if (missing) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                            "lock driver plugin %s has no '%s' callback", path,
                            missing);
                goto cleanup;
        }

        *ret_handle = g_steal_pointer(&handle);
        *ret_driver = driver;
        return TRUE;

cleanup:
        dlclose(handle);
        return FALSE;
}

/* The loaded, initialised plugin at @path: loads and initialises it for the
 * first user, shares it with the next ones. */
static LoadedPlugin *
loaded_plugin_use(const char *path, const char *config_file, unsigned int init_flags,
                  VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&loaded_plugins_lock);
        LoadedPlugin *plugin;
        GError *local = NULL;

        if (!loaded_plugins)
                loaded_plugins = g_hash_table_new(g_str_hash, g_str_equal);

        plugin = g_hash_table_lookup(loaded_plugins, path);
        if (plugin) {
                if (!g_str_equal(plugin->config_file, config_file)) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                    "lock driver plugin %s is already initialised with %s "
                                    "in this process; it cannot also use %s", path,
                                    plugin->config_file, config_file);
                        return NULL;
                }
                /* Loaded for queries only, now wanted for leases: what
                 * init skipped happens now. */
                if (plugin->read_only && !(init_flags & VMLOCK_LOCK_INIT_READ_ONLY)) {
                        if (plugin->driver->lockspace_join &&
                            !plugin->driver->lockspace_join(VMLOCK_LOCK_JOIN_AS_INIT, progress,
                                                            progress_data, error))
                                return NULL;
                        plugin->read_only = FALSE;
                }
                plugin->users++;
                return plugin;
        }

        plugin = g_new0(LoadedPlugin, 1);
        if (!load_plugin(path, &plugin->handle, &plugin->driver, error)) {
                g_free(plugin);
                return NULL;
        }
        /* The driver's message already names what went wrong (its config
         * file, its daemon...): pass it on as it is. */
        if (!plugin->driver->init(VMLOCK_LOCK_DRIVER_VERSION, config_file, init_flags, progress,
                                  progress_data, &local)) {
                if (!local)
                        local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_PLUGIN,
                                            "lock driver %s failed to initialise", path);
                g_propagate_error(error, local);
                dlclose(plugin->handle);
                g_free(plugin);
                return NULL;
        }
        g_clear_error(&local);
        plugin->path = g_strdup(path);
        plugin->config_file = g_strdup(config_file);
        plugin->users = 1;
        plugin->read_only = (init_flags & VMLOCK_LOCK_INIT_READ_ONLY) != 0;
        g_hash_table_insert(loaded_plugins, plugin->path, plugin);
        return plugin;
}

VmlockLockManager *
vmlock_lock_manager_new(const char *name, const char *plugin_dir, const char *config_dir,
                        VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        VMLOCK_TRACE("name=%s plugin_dir=%s config_dir=%s progress=%p progress_data=%p",
                     VMLOCK_NULLSTR(name), VMLOCK_NULLSTR(plugin_dir),
                     VMLOCK_NULLSTR(config_dir), progress, progress_data);

        return vmlock_lock_manager_new_full(name, plugin_dir, config_dir, 0, progress,
                                            progress_data, error);
}

VmlockLockManager *
vmlock_lock_manager_new_full(const char *name, const char *plugin_dir, const char *config_dir,
                             unsigned int flags, VmlockProgressFunc progress,
                             gpointer progress_data, GError **error)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *config_base = NULL;
        unsigned int init_flags = 0;

        VMLOCK_TRACE("name=%s plugin_dir=%s config_dir=%s flags=0x%x progress=%p "
                     "progress_data=%p", VMLOCK_NULLSTR(name), VMLOCK_NULLSTR(plugin_dir),
                     VMLOCK_NULLSTR(config_dir), flags, progress, progress_data);

        if (flags & ~(unsigned int)VMLOCK_LOCK_MANAGER_READ_ONLY) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "unknown lock manager flags 0x%x",
                            flags & ~(unsigned int)VMLOCK_LOCK_MANAGER_READ_ONLY);
                return NULL;
        }
        if (flags & VMLOCK_LOCK_MANAGER_READ_ONLY)
                init_flags |= VMLOCK_LOCK_INIT_READ_ONLY;
        if (!name) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock driver name given");
                return NULL;
        }

        manager = g_atomic_rc_box_new0(VmlockLockManager);
        g_mutex_init(&manager->process_calls);
        manager->name = g_strdup(name);
        config_dir = vmlock_resolve_config_dir(config_dir);
        config_base = g_strdup_printf("qemu-%s.conf", name);

        manager->config_file = g_build_filename(config_dir, config_base, NULL);

        if (g_str_equal(name, NOP_NAME)) {
                /* Built in, so the library works with no plugin installed;
                 * its init cannot fail and holds nothing. */
                manager->driver = &lock_driver_nop;
                if (!manager->driver->init(VMLOCK_LOCK_DRIVER_VERSION, manager->config_file,
                                           init_flags, progress, progress_data, error))
                        return NULL;
        } else {
                g_autofree char *file = NULL;
                g_autofree char *path = NULL;

                if (!check_name(name, error))
                        return NULL;
                plugin_dir = vmlock_resolve_dir(plugin_dir, "VMLOCK_PLUGIN_DIR",
                                                VMLOCK_PLUGIN_DIR);
                file = g_strdup_printf("%s.so", name);
                path = g_build_filename(plugin_dir, file, NULL);
                manager->plugin = loaded_plugin_use(path, manager->config_file, init_flags,
                                                    progress, progress_data, error);
                if (!manager->plugin)
                        return NULL;
                manager->driver = manager->plugin->driver;
        }

        return g_steal_pointer(&manager);
}

VmlockLockManager *
vmlock_lock_manager_ref(VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        g_return_val_if_fail(manager != NULL, NULL);

        return g_atomic_rc_box_acquire(manager);
}

void
vmlock_lock_manager_unref(VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        if (!manager)
                return;
        g_atomic_rc_box_release_full(manager, lock_manager_clear);
}

const char *
vmlock_lock_manager_get_name(const VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        g_return_val_if_fail(manager != NULL, NULL);

        return manager->name;
}

const char *
vmlock_lock_manager_get_config_file(const VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        g_return_val_if_fail(manager != NULL, NULL);

        return manager->config_file;
}

gboolean
vmlock_lock_manager_uses_state(const VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        g_return_val_if_fail(manager != NULL, FALSE);

        return (manager->driver->flags & VMLOCK_LOCK_DRIVER_USES_STATE) != 0;
}

gboolean
vmlock_lock_manager_requires_disk_leases(const VmlockLockManager *manager)
{
        VMLOCK_TRACE("manager=%p", manager);

        g_return_val_if_fail(manager != NULL, FALSE);

        return manager->driver->requires_disk_leases && manager->driver->requires_disk_leases();
}

gboolean
vmlock_lock_manager_describe_disk(VmlockLockManager *manager, const char *path,
                                  char **ret_description, GError **error)
{
        g_autofree char *description = NULL;
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p path=%s ret_description=%p", manager, VMLOCK_NULLSTR(path),
                     ret_description);

        if (!manager || !path || !*path || !ret_description) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "describing a disk needs a lock manager, a disk path and "
                                    "somewhere to put the description");
                return FALSE;
        }
        /* Optional in the ABI: older or simpler drivers cannot tell. */
        if (!manager->driver->describe_resource) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "lock driver %s cannot tell who holds disk %s", manager->name,
                            path);
                return FALSE;
        }

        ok = manager->driver->describe_resource(VMLOCK_LOCK_RESOURCE_DISK, path, 0, NULL, 0,
                                                &description, &local);
        if (ok && !description) {
                g_clear_error(&local);
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: describe_resource succeeded without a "
                                    "description of disk %s", manager->name, path);
                ok = FALSE;
        }
        if (ok) {
                if (local)
                        g_debug("lock driver %s: describe_resource succeeded but set an "
                                "error: %s", manager->name, local->message);
                g_clear_error(&local);
                *ret_description = g_steal_pointer(&description);
                return TRUE;
        }
        if (!local)
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: describe_resource failed without saying "
                                    "why", manager->name);
        g_propagate_error(error, local);
        return FALSE;
}

void
vmlock_disk_holder_free(VmlockDiskHolder *holder)
{
        if (!holder)
                return;
        g_free(holder->host_name);
        g_free(holder);
}

const char *
vmlock_disk_lease_mode_to_string(VmlockDiskLeaseMode mode)
{
        switch (mode) {
        case VMLOCK_DISK_LEASE_NO_FILE:
                return "no-file";
        case VMLOCK_DISK_LEASE_FREE:
                return "free";
        case VMLOCK_DISK_LEASE_EXCLUSIVE:
                return "exclusive";
        case VMLOCK_DISK_LEASE_SHARED:
                return "shared";
        }
        return "unknown";
}

gboolean
vmlock_lock_manager_disk_holders(VmlockLockManager *manager, const char *path,
                                 VmlockDiskLeaseMode *ret_mode, GPtrArray **ret_holders,
                                 GError **error)
{
        g_autoptr(GPtrArray) holders = NULL;
        GError *local = NULL;
        int mode = VMLOCK_DISK_LEASE_FREE;

        VMLOCK_TRACE("manager=%p path=%s", manager, VMLOCK_NULLSTR(path));

        if (!manager || !path || !*path || !ret_mode || !ret_holders) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "reading a disk's holders needs a lock manager, a disk "
                                    "path and somewhere to put them");
                return FALSE;
        }
        if (!manager->driver->resource_holders) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "lock driver %s cannot tell who holds disk %s", manager->name,
                            path);
                return FALSE;
        }
        if (!manager->driver->resource_holders(VMLOCK_LOCK_RESOURCE_DISK, path, 0, NULL, 0,
                                               &mode, &holders, &local)) {
                if (!local)
                        local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                            "lock driver %s: resource_holders failed without "
                                            "saying why", manager->name);
                g_propagate_error(error, local);
                return FALSE;
        }
        g_clear_error(&local);
        if (!holders || mode < VMLOCK_DISK_LEASE_NO_FILE || mode > VMLOCK_DISK_LEASE_SHARED) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "lock driver %s: resource_holders of disk %s answered nothing "
                            "usable", manager->name, path);
                return FALSE;
        }
        *ret_mode = (VmlockDiskLeaseMode)mode;
        *ret_holders = g_steal_pointer(&holders);
        return TRUE;
}

const char *
vmlock_host_state_to_string(VmlockHostState state)
{
        switch (state) {
        case VMLOCK_HOST_UNKNOWN:
                return "unknown";
        case VMLOCK_HOST_FREE:
                return "free";
        case VMLOCK_HOST_LIVE:
                return "live";
        case VMLOCK_HOST_FAIL:
                return "fail";
        case VMLOCK_HOST_DEAD:
                return "dead";
        }
        return "unknown";
}

void
vmlock_lockspace_status_free(VmlockLockspaceStatus *status)
{
        if (!status)
                return;
        g_free(status->lockspace);
        g_free(status->path);
        g_free(status->host_name);
        g_free(status);
}

void
vmlock_host_info_free(VmlockHostInfo *host)
{
        if (!host)
                return;
        g_free(host->name);
        g_free(host);
}

/* The optional lockspace callbacks: NULL means the driver has no lockspace. */
static gboolean
check_lockspace_support(const VmlockLockManager *manager, const char *what, GError **error)
{
        if (!manager) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock manager given");
                return FALSE;
        }
        if (!manager->driver->lockspace_join) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "lock driver %s has no lockspace: cannot %s", manager->name, what);
                return FALSE;
        }
        return TRUE;
}

/* As driver_outcome(), for calls without an object. */
static gboolean
manager_outcome(const VmlockLockManager *manager, const char *callback, gboolean ok,
                GError *local, GError **error)
{
        if (ok) {
                if (local) {
                        g_debug("lock driver %s: %s succeeded but set an error: %s",
                                manager->name, callback, local->message);
                        g_error_free(local);
                }
                return TRUE;
        }
        if (!local)
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: %s failed without saying why",
                                    manager->name, callback);
        g_propagate_error(error, local);
        return FALSE;
}

gboolean
vmlock_lock_manager_wait_released(VmlockLockManager *manager, const char *state,
                                  guint timeout_ms, gboolean *ret_released, GError **error)
{
        GError *local = NULL;
        gboolean released = TRUE;
        gboolean ok;

        VMLOCK_TRACE("manager=%p state=%s timeout_ms=%u ret_released=%p", manager,
                     VMLOCK_NULLSTR(state), timeout_ms, ret_released);

        if (!manager || !ret_released) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "waiting for a release needs a lock manager and somewhere "
                                    "to put the outcome");
                return FALSE;
        }
        /* Optional in the ABI: a driver without it releases synchronously. */
        if (state && manager->driver->wait_released) {
                ok = manager->driver->wait_released(state, timeout_ms, 0, &released, &local);
                if (!manager_outcome(manager, "wait_released", ok, local, error))
                        return FALSE;
        }
        *ret_released = released;
        return TRUE;
}

gboolean
vmlock_lock_manager_daemon_connect(VmlockLockManager *manager, int *ret_fd, GError **error)
{
        GError *local = NULL;
        int fd = -1;
        gboolean ok;

        VMLOCK_TRACE("manager=%p ret_fd=%p", manager, ret_fd);

        if (!manager || !ret_fd) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "connecting to the lock daemon needs a lock manager and "
                                    "somewhere to put the fd");
                return FALSE;
        }
        /* Optional in the ABI: a driver without it has no daemon to watch. */
        if (manager->driver->daemon_connect) {
                ok = manager->driver->daemon_connect(0, &fd, &local);
                if (!manager_outcome(manager, "daemon_connect", ok, local, error))
                        return FALSE;
        }
        *ret_fd = fd;
        return TRUE;
}

gboolean
vmlock_lock_manager_process_state(VmlockLockManager *manager, unsigned int pid,
                                  char **ret_state, GError **error)
{
        GError *local = NULL;
        char *state = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p pid=%u ret_state=%p", manager, pid, ret_state);

        if (!manager || !ret_state || pid == 0) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "asking what a process holds needs a lock manager, a pid "
                                    "and somewhere to put the state");
                return FALSE;
        }
        if (!manager->driver->process_state) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "lock driver %s has no daemon to ask what process %u holds",
                            manager->name, pid);
                return FALSE;
        }
        g_mutex_lock(&manager->process_calls);
        ok = manager->driver->process_state(pid, 0, &state, &local);
        g_mutex_unlock(&manager->process_calls);
        if (!manager_outcome(manager, "process_state", ok, local, error))
                return FALSE;
        *ret_state = state;
        return TRUE;
}

gboolean
vmlock_lock_manager_lockspace_join(VmlockLockManager *manager, VmlockProgressFunc progress,
                                   gpointer progress_data, GError **error)
{
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p progress=%p progress_data=%p", manager, progress,
                     progress_data);

        if (!check_lockspace_support(manager, "join it", error))
                return FALSE;
        ok = manager->driver->lockspace_join(0, progress, progress_data, &local);
        if (!manager_outcome(manager, "lockspace_join", ok, local, error))
                return FALSE;
        if (manager->plugin) {
                g_mutex_lock(&loaded_plugins_lock);
                manager->plugin->read_only = FALSE;
                g_mutex_unlock(&loaded_plugins_lock);
        }
        return TRUE;
}

gboolean
vmlock_lock_manager_lockspace_leave(VmlockLockManager *manager, unsigned int flags,
                                    GError **error)
{
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p flags=0x%x", manager, flags);

        if (!check_lockspace_support(manager, "leave it", error))
                return FALSE;
        ok = manager->driver->lockspace_leave(flags, &local);
        return manager_outcome(manager, "lockspace_leave", ok, local, error);
}

gboolean
vmlock_lock_manager_lockspace_status(VmlockLockManager *manager,
                                     VmlockLockspaceStatus **ret_status, GError **error)
{
        g_autoptr(VmlockLockspaceStatus) status = NULL;
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p ret_status=%p", manager, ret_status);

        if (!check_lockspace_support(manager, "tell this host's lockspace status", error))
                return FALSE;
        if (!ret_status) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "lockspace status needs somewhere to put it");
                return FALSE;
        }
        ok = manager->driver->lockspace_status(0, &status, &local);
        if (ok && !status) {
                g_clear_error(&local);
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: lockspace_status succeeded without a "
                                    "status", manager->name);
                ok = FALSE;
        }
        if (!manager_outcome(manager, "lockspace_status", ok, local, error))
                return FALSE;
        *ret_status = g_steal_pointer(&status);
        return TRUE;
}

gboolean
vmlock_lock_manager_list_hosts(VmlockLockManager *manager, GPtrArray **ret_hosts,
                               GError **error)
{
        g_autoptr(GPtrArray) hosts = NULL;
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p ret_hosts=%p", manager, ret_hosts);

        if (!check_lockspace_support(manager, "list the hosts of its lockspace", error))
                return FALSE;
        if (!ret_hosts) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "listing hosts needs somewhere to put them");
                return FALSE;
        }
        ok = manager->driver->list_hosts(0, &hosts, &local);
        if (ok && !hosts) {
                g_clear_error(&local);
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: list_hosts succeeded without a list",
                                    manager->name);
                ok = FALSE;
        }
        if (!manager_outcome(manager, "list_hosts", ok, local, error))
                return FALSE;
        *ret_hosts = g_steal_pointer(&hosts);
        return TRUE;
}

/* A driver callback's outcome, made safe against a driver that fails without
 * an error (a bug, reported as one) or succeeds with one (dropped). */
static gboolean
driver_outcome(const LockObject *object, const char *callback, gboolean ok, GError *local,
               GError **error)
{
        if (ok) {
                if (local) {
                        g_debug("lock driver %s: %s succeeded but set an error: %s",
                                object->manager->name, callback, local->message);
                        g_error_free(local);
                }
                return TRUE;
        }
        if (!local)
                local = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "lock driver %s: %s failed without saying why",
                                    object->manager->name, callback);
        g_propagate_error(error, local);
        return FALSE;
}

static gboolean
check_params(const VmlockLockParam *params, gsize n_params, GError **error)
{
        if (n_params > 0 && !params) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "%" G_GSIZE_FORMAT " lock parameters announced but none given",
                            n_params);
                return FALSE;
        }
        return TRUE;
}

LockObject *
lock_object_new(VmlockLockManager *manager, VmlockLockObjectType type,
                const VmlockLockParam *params, gsize n_params, unsigned int flags,
                GError **error)
{
        g_autofree LockObject *object = NULL;
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("manager=%p type=%d params=%p n_params=%" G_GSIZE_FORMAT " flags=0x%x",
                     manager, type, params, n_params, flags);

        if (!manager) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock manager given");
                return NULL;
        }
        if (!check_params(params, n_params, error))
                return NULL;

        object = g_new0(LockObject, 1);
        object->manager = manager;
        object->object.driver = manager->driver;
        g_mutex_lock(&manager->process_calls);
        ok = manager->driver->new_object(&object->object, type, n_params, params, flags,
                                         &local);
        g_mutex_unlock(&manager->process_calls);
        if (!driver_outcome(object, "new_object", ok, local, error))
                return NULL;

        object->manager = vmlock_lock_manager_ref(manager);
        return g_steal_pointer(&object);
}

gboolean
lock_object_add_resource(LockObject *object, VmlockLockResourceType type, const char *name,
                         const VmlockLockParam *params, gsize n_params, unsigned int flags,
                         GError **error)
{
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("object=%p type=%d name=%s params=%p n_params=%" G_GSIZE_FORMAT
                     " flags=0x%x", object, type, VMLOCK_NULLSTR(name), params, n_params,
                     flags);

        if (!object || !name) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "lock resource needs an object and a name");
                return FALSE;
        }
        if (!check_params(params, n_params, error))
                return FALSE;

        ok = object->object.driver->add_resource(&object->object, type, name, n_params, params,
                                                 flags, &local);
        return driver_outcome(object, "add_resource", ok, local, error);
}

gboolean
lock_object_acquire(LockObject *object, const char *state, unsigned int flags,
                    VmlockLockFailureAction action, int *ret_fd, GError **error)
{
        GError *local = NULL;
        int fd = -1;
        gboolean ok;

        VMLOCK_TRACE("object=%p state=%s flags=0x%x action=%d ret_fd=%p", object,
                     VMLOCK_NULLSTR(state), flags, action, ret_fd);

        if (!object) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock object given");
                return FALSE;
        }

        g_mutex_lock(&object->manager->process_calls);
        ok = object->object.driver->acquire(&object->object, state, flags, action,
                                            ret_fd ? &fd : NULL, &local);
        g_mutex_unlock(&object->manager->process_calls);
        if (!driver_outcome(object, "acquire", ok, local, error))
                return FALSE;

        if (ret_fd)
                *ret_fd = fd;
        return TRUE;
}

/* release and inquire: the same contract, a state out of the driver. */
typedef gboolean (*StateCallback)(VmlockLockObject *object, char **ret_state,
                                  unsigned int flags, GError **error);

static gboolean
object_state_call(LockObject *object, const char *callback, StateCallback call,
                  char **ret_state, unsigned int flags, GError **error)
{
        g_autofree char *state = NULL;
        GError *local = NULL;
        gboolean ok;

        g_mutex_lock(&object->manager->process_calls);
        ok = call(&object->object, ret_state ? &state : NULL, flags, &local);
        g_mutex_unlock(&object->manager->process_calls);
        if (!driver_outcome(object, callback, ok, local, error))
                return FALSE;

        if (ret_state)
                *ret_state = g_steal_pointer(&state);
        return TRUE;
}

gboolean
lock_object_release(LockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        VMLOCK_TRACE("object=%p ret_state=%p flags=0x%x", object, ret_state, flags);

        if (!object) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock object given");
                return FALSE;
        }
        return object_state_call(object, "release", object->object.driver->release, ret_state,
                                 flags, error);
}

gboolean
lock_object_inquire(LockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        VMLOCK_TRACE("object=%p ret_state=%p flags=0x%x", object, ret_state, flags);

        if (!object) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no lock object given");
                return FALSE;
        }
        return object_state_call(object, "inquire", object->object.driver->inquire, ret_state,
                                 flags, error);
}

gboolean
lock_manager_state_holds(VmlockLockManager *manager, const char *state,
                         VmlockLockResourceType type, const char *name,
                         const VmlockLockParam *params, gsize n_params, gboolean *ret_held,
                         GError **error)
{
        GError *local = NULL;
        gboolean held = FALSE;
        gboolean ok;

        VMLOCK_TRACE("manager=%p state=%s type=%d name=%s params=%p n_params=%" G_GSIZE_FORMAT
                     " ret_held=%p", manager, VMLOCK_NULLSTR(state), type, VMLOCK_NULLSTR(name),
                     params, n_params, ret_held);

        if (!manager || !name || !ret_held) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "asking whether a state holds a resource needs a lock "
                                    "manager, a resource name and somewhere to put the answer");
                return FALSE;
        }
        if (!check_params(params, n_params, error))
                return FALSE;
        /* Optional in the ABI. Checked before looking at the state, so a
         * caller learns the driver cannot tell whatever the guest holds. */
        if (!manager->driver->state_holds_resource) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "lock driver %s cannot tell whether its state holds %s",
                            manager->name, name);
                return FALSE;
        }
        if (state) {
                ok = manager->driver->state_holds_resource(state, type, name, n_params, params,
                                                           0, &held, &local);
                if (!manager_outcome(manager, "state_holds_resource", ok, local, error))
                        return FALSE;
        }
        *ret_held = held;
        return TRUE;
}

gboolean
lock_object_state_extra(LockObject *object, const char *state, GStrv *ret_extra,
                        GError **error)
{
        g_auto(GStrv) extra = NULL;
        GError *local = NULL;
        gboolean ok;

        VMLOCK_TRACE("object=%p state=%s ret_extra=%p", object, VMLOCK_NULLSTR(state),
                     ret_extra);

        if (!object || !ret_extra) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "no lock object or no place for the answer given");
                return FALSE;
        }
        if (state && object->object.driver->state_extra) {
                ok = object->object.driver->state_extra(&object->object, state, 0, &extra,
                                                        &local);
                if (!driver_outcome(object, "state_extra", ok, local, error))
                        return FALSE;
        }
        *ret_extra = g_steal_pointer(&extra);
        return TRUE;
}

void
lock_object_free(LockObject *object)
{
        VMLOCK_TRACE("object=%p", object);

        if (!object)
                return;
        object->object.driver->free_object(&object->object);
        vmlock_lock_manager_unref(object->manager);
        g_free(object);
}
