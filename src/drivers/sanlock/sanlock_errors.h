/* vmlock sanlock driver: sanlock's return values in words a person understands. */
#pragma once

#include <glib.h>

/* What the driver was doing; the same number can mean different things
 * (-ENOENT from connect() is "no daemon", from an acquire it is not). */
typedef enum {
        VMLOCK_SANLOCK_OP_CONNECT,      /* register, version: reaching the daemon */
        VMLOCK_SANLOCK_OP_LOCKSPACE,    /* creating or joining a lockspace */
        VMLOCK_SANLOCK_OP_LEASE_INIT,   /* creating a lease file */
        VMLOCK_SANLOCK_OP_ACQUIRE,
        VMLOCK_SANLOCK_OP_RELEASE,
        VMLOCK_SANLOCK_OP_INQUIRE,
        VMLOCK_SANLOCK_OP_KILLPATH,
        VMLOCK_SANLOCK_OP_RESTRICT,
        VMLOCK_SANLOCK_OP_STATE,        /* parsing a state string */
        VMLOCK_SANLOCK_OP_READ,         /* reading who holds a lease */
} VmlockSanlockOp;

typedef struct {
        VmlockSanlockOp op;
        const char *subject;    /* "disk /x", "lease LS:KEY (/path:0)", "lockspace LS (/path)" */
        const char *lockspace;  /* lockspace name, for "not joined" (may be NULL) */
        const char *path;       /* file at fault, for missing/uninitialised (may be NULL) */
        const char *holder;     /* "host 2 (node-b)", for a busy lease (may be NULL) */
        const char *detail;     /* appended in parentheses (may be NULL) */
        guint host_id;          /* this host's id in the lockspace, 0 if unknown */
        guint pid;              /* the guest process, 0 if none */
} VmlockSanlockErrorContext;

/* TRUE when @rv from an acquire means someone else holds the lease. */
gboolean vmlock_sanlock_rv_is_busy(int rv);

/* Sets @error from @rv (a -2xx SANLK_* code or a -errno) with a VMLOCK_ERROR
 * code to branch on and a message naming @ctx's subject, holder or path. */
void vmlock_sanlock_set_error(GError **error, int rv, const VmlockSanlockErrorContext *ctx);

/* Where libsanlock looks for the daemon's socket ($SANLOCK_RUN_DIR). */
const char *vmlock_sanlock_socket_dir(void);
