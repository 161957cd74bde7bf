/* vmlock: QMP traffic at debug level.
 *
 * Every message the supervisor exchanges with QEMU's monitor and with its
 * QMP proxy's clients, with its direction and peer:
 * G_MESSAGES_DEBUG=vmlock-qemu shows them.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
        QEMU_TRACE_SENT,
        QEMU_TRACE_RECEIVED,
} QemuTraceDirection;

/* "QMP sent to PEER: MESSAGE" or "QMP received from PEER: MESSAGE"; nothing
 * is formatted when debug messages of vmlock-qemu are not shown. */
void qemu_trace_message(const char *peer, QemuTraceDirection direction, JsonObject *message);

G_END_DECLS
