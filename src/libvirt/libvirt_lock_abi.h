/* vmlock for libvirt: libvirt's lock driver ABI, version 1.0.0.
 *
 * libvirtd dlopen()s <lock-driver dir>/<lock_manager>.so, looks up the table
 * LIBVIRT_LOCK_DRIVER_SYMBOL and calls its callbacks. These declarations are
 * written from the ABI's documented facts (layout, values, call contract);
 * nothing of libvirt is included or linked. The ABI has not changed since
 * 2011: a change here would break every libvirt host.
 */
#pragma once

#include <stddef.h>

/* MAJOR * 1000000 + MINOR * 1000 + MICRO; libvirt passes its own to init. */
#define LIBVIRT_LOCK_ABI_VERSION 1000000u
#define LIBVIRT_LOCK_DRIVER_SYMBOL "virLockDriverImpl"

/* LibvirtLockDriver.flags: release/inquire return a state acquire needs back. */
#define LIBVIRT_LOCK_USES_STATE (1u << 0)

enum {
        LIBVIRT_LOCK_OBJECT_DOMAIN = 0,
};

enum {
        LIBVIRT_LOCK_RESOURCE_DISK = 0,  /* name = the disk's path; no params */
        LIBVIRT_LOCK_RESOURCE_LEASE = 1, /* name = <key>; path, offset[, lockspace] */
};

/* add_resource flags */
enum {
        LIBVIRT_LOCK_RESOURCE_READONLY = 1u << 0,
        LIBVIRT_LOCK_RESOURCE_SHARED = 1u << 1,
};

/* new flags */
enum {
        LIBVIRT_LOCK_NEW_STARTED = 1u << 0,
};

/* acquire flags */
enum {
        LIBVIRT_LOCK_ACQUIRE_REGISTER_ONLY = 1u << 0,
        LIBVIRT_LOCK_ACQUIRE_RESTRICT = 1u << 1,
};

/* <on_lockfailure>, passed to acquire */
typedef enum {
        LIBVIRT_LOCK_FAILURE_DEFAULT = 0,
        LIBVIRT_LOCK_FAILURE_POWEROFF,
        LIBVIRT_LOCK_FAILURE_RESTART,
        LIBVIRT_LOCK_FAILURE_PAUSE,
        LIBVIRT_LOCK_FAILURE_IGNORE,
} LibvirtLockFailureAction;

typedef enum {
        LIBVIRT_LOCK_PARAM_STRING = 0,
        LIBVIRT_LOCK_PARAM_CSTRING,
        LIBVIRT_LOCK_PARAM_INT,
        LIBVIRT_LOCK_PARAM_LONG,
        LIBVIRT_LOCK_PARAM_UINT,
        LIBVIRT_LOCK_PARAM_ULONG,
        LIBVIRT_LOCK_PARAM_DOUBLE,
        LIBVIRT_LOCK_PARAM_UUID,
} LibvirtLockParamType;

/* new: uuid (UUID), name (STRING), id (UINT), pid (UINT), uri (CSTRING, may
 * be NULL). Lease: path (STRING), offset (ULONG), lockspace (STRING, may be
 * missing). libvirt writes id and pid through iv though it tags them UINT. */
typedef struct {
        int type; /* LibvirtLockParamType */
        const char *key;
        union {
                int iv;
                long long l;
                unsigned int ui;
                unsigned long long ul;
                double d;
                char *str;
                const char *cstr;
                unsigned char uuid[16];
        } value;
} LibvirtLockParam;

typedef struct _LibvirtLockDriver LibvirtLockDriver;

/* libvirt's per-operation object: the driver keeps its state in priv. */
typedef struct {
        LibvirtLockDriver *driver;
        void *priv;
} LibvirtLockManager;

/* Every callback returns 0 or -1 (free and the void ones aside) and must
 * be set. An error is reported through libvirt's error machinery. */
struct _LibvirtLockDriver {
        unsigned int version; /* LIBVIRT_LOCK_ABI_VERSION the driver implements */
        unsigned int flags;   /* LIBVIRT_LOCK_USES_STATE */

        int (*init)(unsigned int version, const char *config_file, unsigned int flags);
        /* -1 keeps the module loaded */
        int (*deinit)(void);

        int (*new_object)(LibvirtLockManager *man, unsigned int type, size_t n_params,
                          LibvirtLockParam *params, unsigned int flags);
        void (*free_object)(LibvirtLockManager *man);

        int (*add_resource)(LibvirtLockManager *man, unsigned int type, const char *name,
                            size_t n_params, LibvirtLockParam *params, unsigned int flags);

        /* @state may be NULL; @fd (may be NULL, preset to -1 by libvirt)
         * gets the fd the guest inherits, which libvirt does not close. */
        int (*acquire)(LibvirtLockManager *man, const char *state, unsigned int flags,
                       LibvirtLockFailureAction action, int *fd);
        /* @state, when not NULL, gets the state (or NULL); libvirt frees it. */
        int (*release)(LibvirtLockManager *man, char **state, unsigned int flags);
        int (*inquire)(LibvirtLockManager *man, char **state, unsigned int flags);
};
