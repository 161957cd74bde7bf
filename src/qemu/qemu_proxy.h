/* vmlock: what the QMP proxy does with another tool's command, as pure
 * functions.
 *
 * The supervisor's QMP proxy passes other tools' commands on to QEMU,
 * except those that could run the guest without its leases or hand it
 * storage behind vmlock's back. This file decides, from the command alone:
 * pass it on, refuse it (with the vmlock command to use instead), or hand
 * it to the supervisor (stop and cont are its own pause and resume; an
 * image node's blockdev-add needs the image's lease first; a blockdev-del
 * may free one). It knows QEMU's commands, never a lease.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
        QEMU_PROXY_FORWARD,      /* pass it on as it is */
        QEMU_PROXY_REFUSE,       /* answer with ->refusal */
        QEMU_PROXY_STOP,         /* the guest's pause */
        QEMU_PROXY_CONT,         /* the guest's resume */
        QEMU_PROXY_ADD_IMAGE,    /* blockdev-add of image ->path as ->node: lease first */
        QEMU_PROXY_DELETE_NODE,  /* blockdev-del of ->node (may be NULL) */
} QemuProxyAction;

typedef struct {
        QemuProxyAction action;
        char *refusal;     /* REFUSE: the whole message, naming the guest */
        char *node;        /* ADD_IMAGE, DELETE_NODE */
        char *path;        /* ADD_IMAGE: the image */
        gboolean block;    /* ADD_IMAGE: a host_device node (a block device) */
        gboolean readonly; /* ADD_IMAGE */
} QemuProxyDecision;

void qemu_proxy_decision_clear(QemuProxyDecision *decision);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuProxyDecision, qemu_proxy_decision_clear)

/* Decides what to do with @command (@arguments may be NULL) from a client
 * of guest @guest's proxy (the name is for the refusal's words). */
void qemu_proxy_decide(const char *guest, const char *command, JsonObject *arguments,
                       QemuProxyDecision *ret_decision);

/* The @i-th command refused whatever its arguments, or NULL past the last:
 * for tests. */
const char *qemu_proxy_refused_command(guint i);

G_END_DECLS
