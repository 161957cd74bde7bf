/* vmlock: loading a lock driver (plugin) and initialising it with its config. */
#pragma once

#include <vmlock/vmlock-common.h>

G_BEGIN_DECLS

typedef struct _VmlockLockManager VmlockLockManager;

/* Called by a driver during slow steps (joining a lockspace takes ~20 s) with a
 * message a person can read; may be called several times. */
typedef void (*VmlockProgressFunc)(const char *message, gpointer user_data);

/* Loads the driver @name ("nop" is built in; anything else is
 * <plugin_dir>/<name>.so) and initialises it with <config_dir>/qemu-<name>.conf.
 * NULL dirs fall back to $VMLOCK_PLUGIN_DIR / $VMLOCK_CONFIG_DIR, then to the
 * compiled-in defaults. Errors: VMLOCK_ERROR_PLUGIN naming the plugin path, or
 * whatever the driver's init reports (config, lockspace, daemon...). */
VMLOCK_EXPORT VmlockLockManager *vmlock_lock_manager_new(const char *name,
                                                         const char *plugin_dir,
                                                         const char *config_dir,
                                                         VmlockProgressFunc progress,
                                                         gpointer progress_data,
                                                         GError **error);
/* vmlock_lock_manager_new_full() flags */
typedef enum {
        /* Only queries (describe_disk, lockspace_status, hosts) will be
         * made: the driver joins no lockspace and creates no file. Taking
         * leases through such a manager fails, unless the same process also
         * made a manager without this flag or called lockspace_join. */
        VMLOCK_LOCK_MANAGER_READ_ONLY = 1 << 0,
} VmlockLockManagerFlags;

/* vmlock_lock_manager_new() with @flags (VmlockLockManagerFlags). */
VMLOCK_EXPORT VmlockLockManager *vmlock_lock_manager_new_full(const char *name,
                                                              const char *plugin_dir,
                                                              const char *config_dir,
                                                              unsigned int flags,
                                                              VmlockProgressFunc progress,
                                                              gpointer progress_data,
                                                              GError **error);
VMLOCK_EXPORT VmlockLockManager *vmlock_lock_manager_ref(VmlockLockManager *manager);
VMLOCK_EXPORT void vmlock_lock_manager_unref(VmlockLockManager *manager);

VMLOCK_EXPORT const char *vmlock_lock_manager_get_name(const VmlockLockManager *manager);
/* The driver's config file path (it need not exist). */
VMLOCK_EXPORT const char *vmlock_lock_manager_get_config_file(const VmlockLockManager *manager);
/* TRUE when the driver's release/inquire return a state that acquire needs back. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_uses_state(const VmlockLockManager *manager);
/* TRUE when the driver's configuration refuses read-write disks without a
 * lease (sanlock's require_lease_for_disks): an image the guest writes that
 * no lease covers must then stop the guest's start. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_requires_disk_leases(const VmlockLockManager *manager);

/* After a guest has ended: waits, up to @timeout_ms, until the leases of
 * @state (what inquire returned while it ran; NULL: nothing) are released
 * where the driver keeps them, so that another host can take them at once.
 * A lease taken by someone else since counts as released. *@ret_released is
 * FALSE when the time ran out (TRUE at once for drivers that release
 * synchronously, such as nop). Errors: INVALID_ARG, or the driver's own. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_wait_released(VmlockLockManager *manager,
                                                         const char *state, guint timeout_ms,
                                                         gboolean *ret_released,
                                                         GError **error);

/* Who holds a disk's lease, as data (vmlock_lock_manager_describe_disk()
 * says it in words). */
typedef enum {
        VMLOCK_DISK_LEASE_NO_FILE,   /* no lease file yet: never started under leases */
        VMLOCK_DISK_LEASE_FREE,      /* nobody holds it */
        VMLOCK_DISK_LEASE_EXCLUSIVE, /* one host holds it (a writer) */
        VMLOCK_DISK_LEASE_SHARED,    /* readers hold it, each on its host */
} VmlockDiskLeaseMode;

typedef struct {
        guint64 host_id;
        char *host_name; /* from the lockspace's host record, or NULL */
        gboolean self;   /* this host */
} VmlockDiskHolder;

VMLOCK_EXPORT void vmlock_disk_holder_free(VmlockDiskHolder *holder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockDiskHolder, vmlock_disk_holder_free)
/* "no-file", "free", "exclusive", "shared". */
VMLOCK_EXPORT const char *vmlock_disk_lease_mode_to_string(VmlockDiskLeaseMode mode);

/* The holders of disk @path's lease now, read where the driver keeps it:
 * *@ret_mode, and *@ret_holders (VmlockDiskHolder, freed with the array;
 * empty when free). Errors as for describe_disk. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_disk_holders(VmlockLockManager *manager,
                                                        const char *path,
                                                        VmlockDiskLeaseMode *ret_mode,
                                                        GPtrArray **ret_holders,
                                                        GError **error);

/* Watching a running guest's leases (the hypervisor's side of a lock
 * daemon that dies or restarts under it).
 * daemon_connect: *@ret_fd gets a new connection to the lock daemon (close
 * it when done) that hangs up when the daemon ends, or -1 when the driver
 * has no daemon to watch (nop). Errors: the driver's own (daemon...).
 * process_state: what process @pid holds now, as inquire's state (NULL:
 * nothing), from the daemon; safe to call from any thread. Errors:
 * VMLOCK_ERROR_DAEMON (no daemon runs), VMLOCK_ERROR_LEASE_STATE (the daemon
 * does not know @pid: it holds nothing there), VMLOCK_ERROR_UNSUPPORTED (a
 * driver with nothing to watch), or the driver's own. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_daemon_connect(VmlockLockManager *manager,
                                                          int *ret_fd, GError **error);
VMLOCK_EXPORT gboolean vmlock_lock_manager_process_state(VmlockLockManager *manager,
                                                         unsigned int pid, char **ret_state,
                                                         GError **error);

/* Who holds the disk @path now, read from the driver's lease on shared
 * storage, whether a guest of this host uses it or not: one line such as
 * "held exclusively by host 2 (node-b)" or "free (lease file X)".
 * Errors: VMLOCK_ERROR_UNSUPPORTED when the driver cannot tell (nop, or a
 * sanlock driver without auto_disk_leases), INVALID_ARG for a NULL path, or
 * the driver's own (daemon, I/O...). */
VMLOCK_EXPORT gboolean vmlock_lock_manager_describe_disk(VmlockLockManager *manager,
                                                         const char *path,
                                                         char **ret_description,
                                                         GError **error);

/* ---- the lockspace of this host's leases, and the hosts in it ----------
 *
 * Drivers that keep leases in a lockspace shared by hosts (sanlock: the
 * automatic disk leases' __LIBVIRT__DISKS__) answer these; the others (nop)
 * fail with VMLOCK_ERROR_UNSUPPORTED. */

/* A host's health in the lockspace, as this host's lock daemon sees it. */
typedef enum {
        VMLOCK_HOST_UNKNOWN = 0, /* not watched long enough to tell yet */
        VMLOCK_HOST_FREE,        /* its host id is not held (left cleanly, or never joined) */
        VMLOCK_HOST_LIVE,        /* renews in time */
        VMLOCK_HOST_FAIL,        /* stopped renewing; may be killing its guests */
        VMLOCK_HOST_DEAD,        /* stopped renewing long enough: its leases can be taken */
} VmlockHostState;

/* "unknown", "free", "live", "fail", "dead". */
VMLOCK_EXPORT const char *vmlock_host_state_to_string(VmlockHostState state);

/* A duration or age not known (the daemon cannot tell, or not applicable). */
#define VMLOCK_UNKNOWN (-1)

/* This host in the lockspace. */
typedef struct {
        char *lockspace;          /* its name, e.g. "__LIBVIRT__DISKS__" */
        char *path;               /* the lockspace file */
        guint host_id;            /* this host's id (from the driver's config), 0 if none */
        char *host_name;          /* this host's name in the lockspace, or NULL */
        gboolean joined;          /* this host holds its host id in the lockspace */
        gboolean joining;         /* a join (or leave) is in progress */
        guint io_timeout;         /* seconds, the lockspace's I/O timeout, 0 if unknown */
        gint64 renewal_age;       /* seconds since this host's last renewal, or VMLOCK_UNKNOWN */
        gint64 renewal_latency_ms; /* how long the last renewal's I/O took, or VMLOCK_UNKNOWN */
        guint renewal_failures;   /* failed renewals in the daemon's recent history */
} VmlockLockspaceStatus;

VMLOCK_EXPORT void vmlock_lockspace_status_free(VmlockLockspaceStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockLockspaceStatus, vmlock_lockspace_status_free)

/* One host seen in the lockspace. */
typedef struct {
        guint64 host_id;
        guint64 generation;       /* incremented each time the host joins */
        char *name;               /* the host's name (sanlock -e), or NULL */
        VmlockHostState state;
        gboolean self;            /* this host */
        guint io_timeout;         /* seconds, the host's own I/O timeout */
        gint64 renewal_age;       /* seconds since its last renewal was seen, or VMLOCK_UNKNOWN */
        gint64 dead_in;           /* FAIL: seconds until it counts as dead and its leases
                                   * can be taken; DEAD: 0; else VMLOCK_UNKNOWN */
} VmlockHostInfo;

VMLOCK_EXPORT void vmlock_host_info_free(VmlockHostInfo *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockHostInfo, vmlock_host_info_free)

/* Joins the lockspace (sanlock: ~20 s, reported through @progress every few
 * seconds); already joined costs one daemon call. Creates the lockspace file
 * if missing. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_lockspace_join(VmlockLockManager *manager,
                                                          VmlockProgressFunc progress,
                                                          gpointer progress_data,
                                                          GError **error);

/* vmlock_lock_manager_lockspace_leave() flags */
typedef enum {
        /* Leave even while processes of this host hold leases in it: the
         * lock daemon kills them. Without it, such a leave fails with
         * VMLOCK_ERROR_LEASE_BUSY and changes nothing. */
        VMLOCK_LOCKSPACE_LEAVE_FORCE = 1 << 0,
} VmlockLockspaceLeaveFlags;

/* Leaves the lockspace (sanlock: 2-3 s). Not joined is success. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_lockspace_leave(VmlockLockManager *manager,
                                                           unsigned int flags,
                                                           GError **error);

/* This host's membership and renewals; never joins, creates nothing. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_lockspace_status(VmlockLockManager *manager,
                                                            VmlockLockspaceStatus **ret_status,
                                                            GError **error);

/* Every host seen in the lockspace (VmlockHostInfo *, by host id, freed by
 * the array). Needs this host to have joined: VMLOCK_ERROR_LOCKSPACE
 * ("this host has not joined ...") otherwise. Never joins. */
VMLOCK_EXPORT gboolean vmlock_lock_manager_list_hosts(VmlockLockManager *manager,
                                                      GPtrArray **ret_hosts, GError **error);

/* The compiled-in defaults, before environment overrides. */
VMLOCK_EXPORT const char *vmlock_default_plugin_dir(void);
VMLOCK_EXPORT const char *vmlock_default_config_dir(void);
/* A directory to use: @dir when set and not empty, else the environment
 * variable @env_name when set and not empty (ignored in setuid programs),
 * else @fallback. */
VMLOCK_EXPORT const char *vmlock_resolve_dir(const char *dir, const char *env_name,
                                             const char *fallback);
/* The config dir to use: @dir when set and not empty, else $VMLOCK_CONFIG_DIR,
 * else the compiled-in default (as vmlock_lock_manager_new() resolves it). */
VMLOCK_EXPORT const char *vmlock_resolve_config_dir(const char *dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockLockManager, vmlock_lock_manager_unref)

G_END_DECLS
