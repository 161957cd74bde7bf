/* vmlock: the guest as QEMU runs it: its CPUs and the images it opened.
 *
 * Typed calls over the monitor, so that nothing above src/qemu/ writes a
 * QMP command name.
 */
#pragma once

#include "qemu/qemu_monitor.h"

G_BEGIN_DECLS

/* The calls answer through the main loop (qemu_monitor.h); those that
 * wait are for the start-up only, before anything is served. */

/* QMP stop. QEMU drains and flushes the block layer before it answers:
 * nothing is in flight once it did. */
void qemu_vm_stop_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data);
/* QMP cont. */
void qemu_vm_cont_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data);
/* QMP system_powerdown: presses the guest's ACPI power button. Done once
 * QEMU passed it on; the guest's OS decides whether and when it shuts down
 * (one without ACPI never does). */
void qemu_vm_powerdown_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data);
/* QMP query-status: whether the CPUs run (a QEMU started with -S does not). */
typedef void (*QemuRunningFunc)(gboolean running, const GError *error, gpointer user_data);
void qemu_vm_query_running_async(QemuMonitor *monitor, QemuRunningFunc func,
                                 gpointer user_data);
/* The same, waiting: for the start-up. */
gboolean qemu_vm_query_running(QemuMonitor *monitor, gboolean *ret_running, GError **error);
/* The images QEMU has open read-write (file and host_device nodes, from
 * query-named-block-nodes), each path once; QEMU's own temporary snapshot
 * overlays (snapshot=on) are not images of anyone's. Waits: for the
 * start-up. */
GPtrArray *qemu_vm_query_writable_images(QemuMonitor *monitor, GError **error);
/* The same from query-named-block-nodes' answer (flat). */
GPtrArray *qemu_vm_writable_images(JsonArray *nodes);

G_END_DECLS
