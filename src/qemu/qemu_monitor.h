/* vmlock: the supervisor's end of QEMU's monitor.
 *
 * QEMU gets one end of a socket pair as its only QMP monitor; the
 * supervisor holds the other, so no other process can reach QEMU's QMP but
 * through the supervisor. Its own commands are synchronous; the proxy's are
 * forwarded and answered from the main loop.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct QemuMonitor QemuMonitor;

/* @reply is QEMU's answer with the proxy client's id back in place, or NULL
 * when the monitor closed first. */
typedef void (*QemuMonitorReplyFunc)(JsonObject *reply, gpointer user_data);
typedef void (*QemuMonitorEventFunc)(JsonObject *event, gpointer user_data);

/* Takes @fd, connected to QEMU's monitor. */
QemuMonitor *qemu_monitor_new(int fd, QemuMonitorEventFunc on_event, gpointer user_data);
void qemu_monitor_free(QemuMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuMonitor, qemu_monitor_free)

/* Reads QEMU's greeting and leaves capability negotiation (waits up to
 * @timeout_ms: a loaded machine may take a while to start QEMU). */
gboolean qemu_monitor_handshake(QemuMonitor *monitor, int timeout_ms, GError **error);
/* QEMU's greeting, for the proxy to show its clients. */
JsonObject *qemu_monitor_get_greeting(QemuMonitor *monitor);
int qemu_monitor_get_fd(QemuMonitor *monitor);
gboolean qemu_monitor_is_closed(QemuMonitor *monitor);

/* Runs @command and waits for its answer: the "return" value, or
 * VMLOCK_ERROR_INTERNAL with QEMU's "desc", or VMLOCK_ERROR_IO when QEMU is
 * gone. Other messages read meanwhile are dispatched later. */
JsonNode *qemu_monitor_execute(QemuMonitor *monitor, const char *command,
                               JsonObject *arguments, GError **error);
/* Sends a proxy client's @command (its id is replaced by one of ours) and
 * calls @func with the answer. */
void qemu_monitor_forward(QemuMonitor *monitor, JsonObject *command, QemuMonitorReplyFunc func,
                          gpointer user_data);
/* The fd is readable: reads and dispatches. FALSE once QEMU closed it
 * (pending forwards are then answered NULL). */
gboolean qemu_monitor_dispatch(QemuMonitor *monitor);

G_END_DECLS
