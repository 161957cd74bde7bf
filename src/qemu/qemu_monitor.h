/* vmlock: the supervisor's end of QEMU's monitor.
 *
 * QEMU gets one end of a socket pair as its only QMP monitor; the
 * supervisor holds the other, so no other process can reach QEMU's QMP but
 * through the supervisor. Its commands and the proxy's are answered from the
 * main loop, which never waits for QEMU (a stop may take seconds while QEMU
 * flushes); only the start-up, before anything is served, waits.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct QemuMonitor QemuMonitor;

/* @reply is QEMU's answer with the proxy client's id back in place, or NULL
 * when the monitor closed first. */
typedef void (*QemuMonitorReplyFunc)(JsonObject *reply, gpointer user_data);
typedef void (*QemuMonitorEventFunc)(JsonObject *event, gpointer user_data);
/* QEMU's answer to one of our commands: its "return" value (borrowed), or
 * NULL and @error: VMLOCK_ERROR_INTERNAL with QEMU's "desc" when QEMU
 * refused it, VMLOCK_ERROR_IO when it did not answer (gone, or silent past
 * the call timeout): then whether it ran is unknown. */
typedef void (*QemuMonitorCallback)(JsonNode *ret, const GError *error, gpointer user_data);
/* The same, for a command whose answer is only success or not. */
typedef void (*QemuDoneFunc)(const GError *error, gpointer user_data);

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
 * gone. Other messages read meanwhile are dispatched later. Blocks: for the
 * start-up only, before the main loop serves anyone. */
JsonNode *qemu_monitor_execute(QemuMonitor *monitor, const char *command,
                               JsonObject *arguments, GError **error);
/* Sends @command now; @callback gets the answer from the main loop (never
 * from inside this call), within the call timeout. */
void qemu_monitor_call(QemuMonitor *monitor, const char *command, JsonObject *arguments,
                       QemuMonitorCallback callback, gpointer user_data);
void qemu_monitor_call_done(QemuMonitor *monitor, const char *command, JsonObject *arguments,
                            QemuDoneFunc done, gpointer user_data);
/* How long a call waits for its answer: QMP_TIMEOUT_MS unless a test says. */
void qemu_monitor_set_call_timeout(QemuMonitor *monitor, guint timeout_ms);
/* Sends a proxy client's @command (its id is replaced by one of ours) and
 * calls @func with the answer. */
void qemu_monitor_forward(QemuMonitor *monitor, JsonObject *command, QemuMonitorReplyFunc func,
                          gpointer user_data);
/* The fd is readable: reads and dispatches. FALSE once QEMU closed it
 * (pending forwards are then answered NULL, calls VMLOCK_ERROR_IO). */
gboolean qemu_monitor_dispatch(QemuMonitor *monitor);

G_END_DECLS
