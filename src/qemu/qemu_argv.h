/* vmlock: PROGRAM's command line: is it QEMU, does it keep vmlock in
 * charge, and QEMU's with vmlock's monitor added. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* qemu-system-*, qemu-kvm or kvm, by the program's base name. */
gboolean qemu_argv_is_qemu(const char *program);

/* Refuses what would let the guest escape its supervisor: -daemonize (for
 * any program: vmlock would lose the process holding the leases) and, for
 * QEMU (@is_qemu, or a QEMU program a wrapper runs), monitors of its own
 * (another way to resume it without its leases). */
gboolean qemu_argv_check(char *const *argv, gboolean is_qemu, GError **error);

/* @argv, NULL-terminated, as a new array (owned strings). */
GPtrArray *qemu_argv_copy(char *const *argv);
/* @argv with vmlock's QMP monitor on @monitor_fd, and -S with @paused. */
GPtrArray *qemu_argv_build(char *const *argv, int monitor_fd, gboolean paused,
                           gboolean incoming);

G_END_DECLS
