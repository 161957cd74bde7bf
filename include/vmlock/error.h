/* vmlock: the project's error domain. */
#pragma once

#include <vmlock/vmlock-common.h>

G_BEGIN_DECLS

#define VMLOCK_ERROR (vmlock_error_quark())

/* Codes a caller can branch on; the message names the culprit. */
typedef enum {
        VMLOCK_ERROR_INTERNAL,       /* a bug or an unexpected condition */
        VMLOCK_ERROR_INVALID_ARG,    /* a caller passed something unusable */
        VMLOCK_ERROR_UNSUPPORTED,    /* valid, but this driver or build can't do it */
        VMLOCK_ERROR_CONFIG,         /* a config file is wrong (file:line: ...) */
        VMLOCK_ERROR_XML,            /* a domain XML is wrong */
        VMLOCK_ERROR_PLUGIN,         /* a lock driver can't be loaded or initialised */
        VMLOCK_ERROR_LEASE_BUSY,     /* another guest or host holds the lease */
        VMLOCK_ERROR_LEASE_STATE,    /* a lease was lost, or differs from the given state */
        VMLOCK_ERROR_DAEMON,         /* the lock daemon can't be reached */
        VMLOCK_ERROR_LOCKSPACE,      /* a lockspace is missing, not joined or failing */
        VMLOCK_ERROR_IO,             /* reading or writing a file or device failed */
} VmlockError;

VMLOCK_EXPORT GQuark vmlock_error_quark(void);

G_END_DECLS
