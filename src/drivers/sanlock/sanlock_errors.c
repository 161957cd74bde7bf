/* vmlock sanlock driver: translating sanlock's return values into VMLOCK_ERROR. */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* secure_getenv */

#include "config-build.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <sanlock.h>
#include <sanlock_resource.h>
#include <sanlock_rv.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "util/log.h"

const char *
vmlock_sanlock_socket_dir(void)
{
        const char *dir = secure_getenv("SANLOCK_RUN_DIR");

        return dir && *dir ? dir : "/run/sanlock";
}

gboolean
vmlock_sanlock_rv_is_busy(int rv)
{
        switch (rv) {
        case SANLK_ACQUIRE_IDLIVE:      /* the owner's host is alive */
        case SANLK_ACQUIRE_OWNED:       /* another host won this ballot */
        case SANLK_ACQUIRE_OTHER:
        case SANLK_ACQUIRE_SHRETRY:     /* shared and exclusive requests collided */
        case SANLK_ACQUIRE_OWNED_RETRY:
        case -EEXIST:                   /* another process of this host holds it */
        case -EBUSY:                    /* another acquire of it is in flight here */
        case -EAGAIN:
                return TRUE;
        default:
                return FALSE;
        }
}

static const char *
op_verb(VmlockSanlockOp op)
{
        switch (op) {
        case VMLOCK_SANLOCK_OP_CONNECT:
                return "cannot reach";
        case VMLOCK_SANLOCK_OP_LOCKSPACE:
                return "cannot set up";
        case VMLOCK_SANLOCK_OP_LEASE_INIT:
                return "cannot create the lease file for";
        case VMLOCK_SANLOCK_OP_ACQUIRE:
                return "cannot lock";
        case VMLOCK_SANLOCK_OP_RELEASE:
                return "cannot release";
        case VMLOCK_SANLOCK_OP_INQUIRE:
                return "cannot list the leases of";
        case VMLOCK_SANLOCK_OP_KILLPATH:
                return "cannot register the lock failure action of";
        case VMLOCK_SANLOCK_OP_RESTRICT:
                return "cannot restrict the sanlock connection of";
        case VMLOCK_SANLOCK_OP_STATE:
                return "cannot use the lock state of";
        case VMLOCK_SANLOCK_OP_READ:
                return "cannot read who holds";
        }
        return "cannot use";
}

/* The words for a lease someone else holds. */
static char *
busy_message(int rv, const VmlockSanlockErrorContext *ctx)
{
        const char *subject = ctx->subject;

        switch (rv) {
        case -EEXIST:
                return g_strdup_printf("%s is in use by another guest on this host", subject);
        case -EBUSY:
                return g_strdup_printf("%s is being locked by another guest on this host "
                                       "at this very moment", subject);
        default:
                if (ctx->holder)
                        return g_strdup_printf("%s is in use by %s", subject, ctx->holder);
                if (rv == -EAGAIN)
                        return g_strdup_printf("%s is still being released by a guest that "
                                               "stopped on this host", subject);
                return g_strdup_printf("%s is in use by another host", subject);
        }
}

/* Sets *ret_code and returns the reason for @rv, or NULL if it is not one
 * we have words for. */
static char *
describe(int rv, const VmlockSanlockErrorContext *ctx, VmlockError *ret_code)
{
        const char *path = ctx->path ? ctx->path : "the lease file";
        const char *lockspace = ctx->lockspace ? ctx->lockspace : "its lockspace";

        /* libsanlock reports connect() failures as they are */
        if (rv == -ECONNREFUSED || (ctx->op == VMLOCK_SANLOCK_OP_CONNECT && rv == -ENOENT)) {
                *ret_code = VMLOCK_ERROR_DAEMON;
                if (ctx->op == VMLOCK_SANLOCK_OP_CONNECT)
                        return g_strdup_printf("is it running? nothing listens on "
                                               "%s/sanlock.sock", vmlock_sanlock_socket_dir());
                return g_strdup_printf("the sanlock daemon is not running (nothing listens "
                                       "on %s/sanlock.sock)", vmlock_sanlock_socket_dir());
        }
        if (ctx->op == VMLOCK_SANLOCK_OP_CONNECT && (rv == -EACCES || rv == -EPERM)) {
                *ret_code = VMLOCK_ERROR_DAEMON;
                return g_strdup_printf("not allowed to talk to the sanlock daemon through "
                                       "%s/sanlock.sock (run as root or in the daemon's group)",
                                       vmlock_sanlock_socket_dir());
        }

        switch (rv) {
        case SANLK_ACQUIRE_LVER:
                *ret_code = VMLOCK_ERROR_LEASE_STATE;
                return g_strdup("state mismatch: the lease was held by someone else since "
                                "the state was saved");
        case SANLK_ACQUIRE_LOCKSPACE:
                *ret_code = VMLOCK_ERROR_LOCKSPACE;
                return g_strdup_printf("the sanlock daemon does not know lockspace %s",
                                       lockspace);
        case SANLK_ACQUIRE_IDDISK:
                *ret_code = VMLOCK_ERROR_LOCKSPACE;
                return g_strdup_printf("the file of lockspace %s cannot be read", lockspace);
        case SANLK_LEADER_MAGIC:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("%s holds no initialised sanlock lease at that offset",
                                       path);
        case SANLK_LEADER_LOCKSPACE:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("%s holds a lease of another lockspace (wrong path or "
                                       "offset?)", path);
        case SANLK_LEADER_RESOURCE:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("%s holds another lease (wrong path or offset?)", path);
        case SANLK_LEADER_VERSION:
        case SANLK_LEADER_SECTORSIZE:
        case SANLK_LEADER_NUMHOSTS:
        case SANLK_LEADER_CHECKSUM:
        case SANLK_DBLOCK_CHECKSUM:
        case SANLK_LEADER_DIFF:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("%s is damaged or not a sanlock lease (%s)", path,
                                       sanlock_strerror(rv));
        case SANLK_AIO_TIMEOUT:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("I/O to %s timed out", path);
        case SANLK_DBLOCK_READ:
        case SANLK_LEADER_READ:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("reading %s failed", path);
        case SANLK_DBLOCK_WRITE:
        case SANLK_LEADER_WRITE:
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("writing %s failed", path);
        case SANLK_HOSTID_BUSY:
                *ret_code = VMLOCK_ERROR_LOCKSPACE;
                return g_strdup_printf("host_id %u is in use by another host: every host "
                                       "sharing the lockspace needs its own host_id",
                                       ctx->host_id);
        case SANLK_ADDLS_SIZES:
        case SANLK_ADDLS_INVALID_HOSTID:
                *ret_code = VMLOCK_ERROR_LOCKSPACE;
                return g_strdup_printf("host_id %u does not fit the lockspace in %s",
                                       ctx->host_id, path);
        case SANLK_RELEASE_LVER:
        case SANLK_RELEASE_OWNER:
                *ret_code = VMLOCK_ERROR_LEASE_STATE;
                return g_strdup("the lease is no longer held by this host");
        case -ESRCH:
        case -ESTALE:
                *ret_code = VMLOCK_ERROR_INVALID_ARG;
                return g_strdup_printf("process %u is not registered with the sanlock daemon "
                                       "(or has exited)", ctx->pid);
        case -ENOSPC:
                if (ctx->op == VMLOCK_SANLOCK_OP_ACQUIRE) {
                        *ret_code = VMLOCK_ERROR_LOCKSPACE;
                        return g_strdup_printf("this host has not joined lockspace %s, or is "
                                               "failing in it (see 'sanlock client status')",
                                               lockspace);
                }
                *ret_code = VMLOCK_ERROR_IO;
                return g_strdup_printf("no space left for %s", path);
        case -EPERM:
                if (ctx->op == VMLOCK_SANLOCK_OP_RELEASE) {
                        *ret_code = VMLOCK_ERROR_LEASE_STATE;
                        return g_strdup_printf("process %u does not hold it", ctx->pid);
                }
                break;
        case -ENODEV:
        case -ENOENT:
        case -EACCES:
                if (ctx->op == VMLOCK_SANLOCK_OP_ACQUIRE ||
                    ctx->op == VMLOCK_SANLOCK_OP_READ ||
                    ctx->op == VMLOCK_SANLOCK_OP_LEASE_INIT ||
                    ctx->op == VMLOCK_SANLOCK_OP_LOCKSPACE) {
                        *ret_code = VMLOCK_ERROR_IO;
                        return g_strdup_printf("the sanlock daemon cannot open %s (does it "
                                               "exist, and may the daemon's user read and "
                                               "write it?)", path);
                }
                break;
        default:
                break;
        }
        return NULL;
}

void
vmlock_sanlock_set_error(GError **error, int rv, const VmlockSanlockErrorContext *ctx)
{
        g_autofree char *reason = NULL;
        g_autofree char *message = NULL;
        VmlockError code;

        g_debug("sanlock returned %d (%s) for %s", rv,
                rv <= -200 ? sanlock_strerror(rv) : g_strerror(-rv),
                VMLOCK_NULLSTR(ctx->subject));

        if (ctx->op == VMLOCK_SANLOCK_OP_ACQUIRE && vmlock_sanlock_rv_is_busy(rv)) {
                code = VMLOCK_ERROR_LEASE_BUSY;
                message = busy_message(rv, ctx);
        } else {
                reason = describe(rv, ctx, &code);
                if (!reason) {
                        switch (ctx->op) {
                        case VMLOCK_SANLOCK_OP_LOCKSPACE:
                                code = VMLOCK_ERROR_LOCKSPACE;
                                break;
                        case VMLOCK_SANLOCK_OP_LEASE_INIT:
                                code = VMLOCK_ERROR_IO;
                                break;
                        default:
                                code = VMLOCK_ERROR_INTERNAL;
                                break;
                        }
                        if (rv <= -200)
                                reason = g_strdup_printf("%s (sanlock error %d)",
                                                         sanlock_strerror(rv), rv);
                        else
                                reason = g_strdup_printf("%s (sanlock error %d)",
                                                         g_strerror(-rv), rv);
                }
                message = g_strdup_printf("%s %s: %s", op_verb(ctx->op),
                                          ctx->subject ? ctx->subject : "the sanlock daemon",
                                          reason);
        }

        if (ctx->detail)
                g_set_error(error, VMLOCK_ERROR, code, "%s (%s)", message, ctx->detail);
        else
                g_set_error_literal(error, VMLOCK_ERROR, code, message);
}
