/* vmlock: the lock driver (plugin) ABI.
 *
 * A driver is a shared module exporting one symbol, VMLOCK_LOCK_DRIVER_SYMBOL,
 * a VmlockLockDriver table filled with designated initializers. Drivers are
 * built in-tree, so this header is not installed and may change between
 * releases; the version field guards against loading a stale module.
 *
 * Life cycle: init once per load; for each operation the core makes an object
 * (new), describes its resources (add_resource), calls one of acquire, release
 * or inquire, then frees it. Every callback is mandatory, except those marked
 * optional (NULL: the core reports VMLOCK_ERROR_UNSUPPORTED), and rejects flags
 * it does not know. Failures set @error and return FALSE.
 *
 * `vmlock start` runs a guest's start (new_object, add_resource, acquire,
 * inquire, free_object) in a vfork()ed child, which shares the supervisor's
 * memory until its exec: there a driver starts no thread, leaves only by
 * returning, and knows that what it keeps in memory (a cache, a counter) is
 * the supervisor's afterwards.
 */
#pragma once

#include <vmlock/domain.h>
#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

/* MAJOR * 1000000 + MINOR * 1000 + MICRO; the loader requires an exact match.
 * A change to the table (a callback added, even an optional one) changes it:
 * a module built against a shorter table must not be read past its end.
 * 1.1.0: state_holds_resource. 1.2.0: requires_disk_leases.
 * 1.3.0: wait_released. 1.4.0: state_extra, daemon_connect, process_state.
 * 1.5.0: resource_holders. */
#define VMLOCK_LOCK_DRIVER_VERSION 1005000u
#define VMLOCK_LOCK_DRIVER_SYMBOL "vmlock_lock_driver"

/* VmlockLockDriver.flags */
typedef enum {
        VMLOCK_LOCK_DRIVER_USES_STATE = 1 << 0, /* acquire needs release's state back */
} VmlockLockDriverFlags;

/* init flags */
typedef enum {
        /* Queries only: join nothing, create no file (describe_resource,
         * lockspace_status and list_hosts must work; lockspace_join may
         * follow and lifts it). */
        VMLOCK_LOCK_INIT_READ_ONLY = 1 << 0,
} VmlockLockInitFlags;

/* lockspace_join flags */
typedef enum {
        /* Only what an init without READ_ONLY would have done: nothing, and
         * no error, when the driver's config uses no lockspace. */
        VMLOCK_LOCK_JOIN_AS_INIT = 1 << 0,
} VmlockLockJoinFlags;

typedef enum {
        VMLOCK_LOCK_OBJECT_DOMAIN = 0,
} VmlockLockObjectType;

typedef enum {
        VMLOCK_LOCK_RESOURCE_DISK = 0,  /* name = disk path; no params */
        VMLOCK_LOCK_RESOURCE_LEASE = 1, /* name = key; params path, offset[, lockspace] */
} VmlockLockResourceType;

/* add_resource flags */
typedef enum {
        VMLOCK_LOCK_RESOURCE_READONLY = 1 << 0,
        VMLOCK_LOCK_RESOURCE_SHARED = 1 << 1,
} VmlockLockResourceFlags;

/* new flags */
typedef enum {
        VMLOCK_LOCK_NEW_STARTED = 1 << 0, /* a guest being started: nothing to probe */
} VmlockLockNewFlags;

/* acquire flags */
typedef enum {
        VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY = 1 << 0, /* paused start: register, take nothing */
        VMLOCK_LOCK_ACQUIRE_RESTRICT = 1 << 1,      /* lock the fd down before exec */
        /* The state was handed over by another holder (a migration source):
         * it must list every resource (one it lacks would be taken without
         * its version check), and those it lists beyond the object's (disks
         * hot-plugged at the source) are taken too. */
        VMLOCK_LOCK_ACQUIRE_HANDOVER = 1 << 2,
} VmlockLockAcquireFlags;

typedef enum {
        VMLOCK_LOCK_PARAM_STRING,
        VMLOCK_LOCK_PARAM_INT,
        VMLOCK_LOCK_PARAM_UINT,
        VMLOCK_LOCK_PARAM_ULONG,
        VMLOCK_LOCK_PARAM_UUID,
} VmlockLockParamType;

/* new params: "uuid" (UUID), "name" (STRING), "id" (INT), "pid" (UINT),
 * "uri" (STRING, may be NULL), "leases" (UINT: how many <lease> the domain
 * has, also when the object carries none of them, as for a disk hotplug,
 * so a driver can judge the whole guest). Lease params: "path" (STRING), "offset" (ULONG),
 * "lockspace" (STRING, omitted when the lease has none). Drivers ignore keys
 * they do not know. */
typedef struct {
        VmlockLockParamType type;
        const char *key;
        union {
                const char *str;
                int i;
                unsigned int ui;
                guint64 ul;
                guint8 uuid[16];
        } value;
} VmlockLockParam;

/* One operation's object; the driver keeps its own state in priv. */
typedef struct {
        const struct _VmlockLockDriver *driver;
        void *priv;
} VmlockLockObject;

typedef struct _VmlockLockDriver {
        unsigned int version; /* VMLOCK_LOCK_DRIVER_VERSION the driver was built with */
        unsigned int flags;   /* VmlockLockDriverFlags */

        /* Reads @config_file (absent = defaults) and sets up what the driver
         * needs; slow steps report through @progress (may be NULL). */
        gboolean (*init)(unsigned int version, const char *config_file, unsigned int flags,
                         VmlockProgressFunc progress, gpointer progress_data, GError **error);
        void (*deinit)(void);

        gboolean (*new_object)(VmlockLockObject *object, unsigned int type, gsize n_params,
                               const VmlockLockParam *params, unsigned int flags,
                               GError **error);
        void (*free_object)(VmlockLockObject *object);

        gboolean (*add_resource)(VmlockLockObject *object, unsigned int type, const char *name,
                                 gsize n_params, const VmlockLockParam *params,
                                 unsigned int flags, GError **error);

        /* @state: NULL, or what release/inquire returned. @ret_fd: when not
         * NULL, receives the fd the guest must inherit (or -1). */
        gboolean (*acquire)(VmlockLockObject *object, const char *state, unsigned int flags,
                            VmlockLockFailureAction action, int *ret_fd, GError **error);
        /* @ret_state: when not NULL, receives the state before release (NULL for none). */
        gboolean (*release)(VmlockLockObject *object, char **ret_state, unsigned int flags,
                            GError **error);
        gboolean (*inquire)(VmlockLockObject *object, char **ret_state, unsigned int flags,
                            GError **error);

        /* Optional (may be NULL). Who holds the resource @type/@name (the
         * params as for add_resource), read from where the driver keeps its
         * leases, whether any guest of this process or host uses it or not:
         * one line a person reads, e.g. "held exclusively by host 2 (node-b)".
         * No object: nothing is acquired. No flags are defined yet. */
        gboolean (*describe_resource)(unsigned int type, const char *name, gsize n_params,
                                      const VmlockLockParam *params, unsigned int flags,
                                      char **ret_description, GError **error);

        /* Optional (may be NULL). Whether @state, as inquire or release
         * returned it, holds the resource @type/@name (the params as for
         * add_resource), in *@ret_held: the caller need not know how the
         * driver names its leases. A resource the driver takes no lease for
         * is not held. Never called with a NULL state (nothing is held). No
         * flags are defined yet. */
        gboolean (*state_holds_resource)(const char *state, unsigned int type,
                                         const char *name, gsize n_params,
                                         const VmlockLockParam *params, unsigned int flags,
                                         gboolean *ret_held, GError **error);

        /* Optional (may be NULL, all four or none). The lockspace holding
         * this host's automatic leases: join it (progress as for init; lifts
         * VMLOCK_LOCK_INIT_READ_ONLY), leave it (flags
         * VmlockLockspaceLeaveFlags), this host's status in it, and the hosts
         * seen in it (VmlockHostInfo *). Status and hosts never join and
         * create nothing. */
        gboolean (*lockspace_join)(unsigned int flags, VmlockProgressFunc progress,
                                   gpointer progress_data, GError **error);
        gboolean (*lockspace_leave)(unsigned int flags, GError **error);
        gboolean (*lockspace_status)(unsigned int flags, VmlockLockspaceStatus **ret_status,
                                     GError **error);
        gboolean (*list_hosts)(unsigned int flags, GPtrArray **ret_hosts, GError **error);

        /* Optional (NULL: no). Whether the driver's configuration refuses
         * read-write disks without a lease (sanlock: require_lease_for_disks),
         * so the hypervisor refuses images it gives the guest unleased. */
        gboolean (*requires_disk_leases)(void);

        /* Optional (NULL: nothing to wait for). @state is what inquire
         * returned for a guest that has ended since: waits, up to
         * @timeout_ms, until the release its end set off has reached the
         * lease storage (a daemon that forgets an ended holder at once but
         * writes the release later would otherwise make another host's
         * acquire fail meanwhile). A lease taken by someone since counts as
         * released. *@ret_released is FALSE when the time ran out. No flags
         * are defined yet. */
        gboolean (*wait_released)(const char *state, guint timeout_ms, unsigned int flags,
                                  gboolean *ret_released, GError **error);

        /* Optional (NULL: none). The leases @state (as inquire returned it)
         * holds that @object, with its resources added, does not: taken over
         * from another holder (VMLOCK_LOCK_ACQUIRE_HANDOVER) for disks the
         * domain lacks. One line a person reads each, e.g. "disk lease
         * <md5> (<file>), exclusive", in *@ret_extra (NULL-terminated; NULL
         * for none). No flags are defined yet. */
        gboolean (*state_extra)(VmlockLockObject *object, const char *state, unsigned int flags,
                                GStrv *ret_extra, GError **error);

        /* Optional (NULL, both or none: the driver has no daemon whose end
         * takes the leases with it). What the hypervisor needs to see a
         * running guest's leases go behind its back. daemon_connect: a new
         * connection (O_CLOEXEC) to the lock daemon holding this host's
         * leases, which hangs up when that daemon ends (killed, or
         * restarted: a new daemon holds none of the old one's leases); the
         * caller only watches and closes it. process_state: what process
         * @pid holds now, as inquire's state (NULL: nothing), asked of the
         * daemon without an object; may be called from any thread.
         * VMLOCK_ERROR_DAEMON when no daemon runs, VMLOCK_ERROR_LEASE_STATE
         * when it does not know @pid (so it holds nothing: the daemon was
         * restarted since, or the process closed its connection). No flags
         * are defined yet. */
        gboolean (*daemon_connect)(unsigned int flags, int *ret_fd, GError **error);
        gboolean (*process_state)(unsigned int pid, unsigned int flags, char **ret_state,
                                  GError **error);

        /* Optional (may be NULL). describe_resource as data: *@ret_mode
         * (VmlockDiskLeaseMode) and the hosts holding the resource in
         * *@ret_holders (VmlockDiskHolder, g_new/g_strdup allocated, the
         * array freeing them). No flags are defined yet. */
        gboolean (*resource_holders)(unsigned int type, const char *name, gsize n_params,
                                     const VmlockLockParam *params, unsigned int flags,
                                     int *ret_mode, GPtrArray **ret_holders, GError **error);
} VmlockLockDriver;

G_END_DECLS
