/* vmlock: the guest as QEMU runs it: its CPUs and the images it opened.
 *
 * Typed calls over the monitor, so that nothing above src/qemu/ writes a
 * QMP command name.
 */
#pragma once

#include "qemu/qemu_monitor.h"

G_BEGIN_DECLS

/* QMP stop. QEMU drains and flushes the block layer before it answers:
 * nothing is in flight once it returned. */
gboolean qemu_vm_stop(QemuMonitor *monitor, GError **error);
/* QMP cont. */
gboolean qemu_vm_cont(QemuMonitor *monitor, GError **error);
/* QMP system_powerdown: presses the guest's ACPI power button. Returns once
 * QEMU passed it on; the guest's OS decides whether and when it shuts down
 * (one without ACPI never does). */
gboolean qemu_vm_powerdown(QemuMonitor *monitor, GError **error);
/* QMP query-status: whether the CPUs run (a QEMU started with -S does not). */
gboolean qemu_vm_query_running(QemuMonitor *monitor, gboolean *ret_running, GError **error);
/* The images QEMU has open read-write (file and host_device nodes, from
 * query-named-block-nodes), each path once; QEMU's own temporary snapshot
 * overlays (snapshot=on) are not images of anyone's. */
GPtrArray *qemu_vm_query_writable_images(QemuMonitor *monitor, GError **error);
/* The same from query-named-block-nodes' answer (flat). */
GPtrArray *qemu_vm_writable_images(JsonArray *nodes);

G_END_DECLS
