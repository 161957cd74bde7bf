/* vmlock: PROGRAM's command line, and QEMU's with vmlock's monitor added. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "qemu/qemu_argv.h"

/* Named in QEMU's arguments: vmlock's monitor chardev. */
#define MONITOR_ID "vmlock-monitor"

gboolean
qemu_argv_is_qemu(const char *program)
{
        g_autofree char *base = g_path_get_basename(program);

        return g_str_has_prefix(base, "qemu-system-") || g_str_equal(base, "qemu-kvm") ||
               g_str_equal(base, "kvm");
}

/* QEMU takes "-opt" and "--opt" alike. */
static const char *
option_name(const char *arg)
{
        if (arg[0] != '-')
                return NULL;
        return arg[1] == '-' ? arg + 2 : arg + 1;
}

/* Where QEMU's own arguments start: after the program for QEMU (or
 * --qemu), after the QEMU program a wrapper runs (env, taskset, sudo ...
 * qemu-system-x86_64 ...), else nowhere (0). */
static guint
qemu_args_start(char *const *argv, gboolean is_qemu)
{
        if (is_qemu)
                return 1;
        for (guint i = 1; argv[i]; i++) {
                if (argv[i][0] != '-' && qemu_argv_is_qemu(argv[i]))
                        return i + 1;
        }
        return 0;
}

gboolean
qemu_argv_check(char *const *argv, gboolean is_qemu, GError **error)
{
        static const char *const monitor_options[] = {
                "qmp", "qmp-pretty", "monitor", "mon", "readconfig", NULL,
        };
        /* -s is -gdb tcp::1234: a debugger's "continue" resumes a guest
         * vmlock paused (and released). */
        static const char *const gdbstub_options[] = { "gdb", "s", NULL };
        guint qemu_start = qemu_args_start(argv, is_qemu);

        for (guint i = 1; argv[i]; i++) {
                const char *name = option_name(argv[i]);

                if (name && g_str_equal(name, "daemonize")) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "%s: vmlock cannot supervise a guest that daemonizes (its "
                                    "process would leave vmlock while holding the leases); use "
                                    "vmlock start --detach instead",
                                    argv[i]);
                        return FALSE;
                }
                if (qemu_start == 0 || i < qemu_start)
                        continue;
                if ((name && g_strv_contains(monitor_options, name)) ||
                    g_str_has_prefix(argv[i], "mon:")) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "%s: vmlock is the only QMP client of the guest (another "
                                    "monitor could resume it without its leases); other tools "
                                    "use the QMP proxy socket shown by vmlock status%s",
                                    argv[i],
                                    is_qemu ? "" : " (QEMU behind a wrapper: give vmlock "
                                                   "start --qemu)");
                        return FALSE;
                }
                if (name && g_strv_contains(gdbstub_options, name)) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "%s: a gdbstub can resume the guest without its leases "
                                    "(after vmlock pause); debug it without vmlock, on a copy "
                                    "of its disks%s",
                                    argv[i],
                                    is_qemu ? "" : " (QEMU behind a wrapper: give vmlock "
                                                   "start --qemu)");
                        return FALSE;
                }
        }
        return TRUE;
}

GPtrArray *
qemu_argv_copy(char *const *argv)
{
        GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; argv[i]; i++)
                g_ptr_array_add(copy, g_strdup(argv[i]));
        g_ptr_array_add(copy, NULL);
        return copy;
}

GPtrArray *
qemu_argv_build(char *const *argv, int monitor_fd, gboolean paused, gboolean incoming)
{
        GPtrArray *built = qemu_argv_copy(argv);

        g_ptr_array_remove_index(built, built->len - 1); /* the NULL */
        /* A chardev on an fd already connected to vmlock: nothing to listen
         * on, so no other process can reach this monitor. */
        g_ptr_array_add(built, g_strdup("-chardev"));
        g_ptr_array_add(built, g_strdup_printf("socket,id=" MONITOR_ID ",fd=%d", monitor_fd));
        g_ptr_array_add(built, g_strdup("-mon"));
        g_ptr_array_add(built, g_strdup("chardev=" MONITOR_ID ",mode=control"));
        if (paused)
                g_ptr_array_add(built, g_strdup("-S"));
        /* The URI comes later (migrate-incoming), once late-block-activate
         * is set: the images stay untouched until the leases are held. */
        if (incoming) {
                g_ptr_array_add(built, g_strdup("-incoming"));
                g_ptr_array_add(built, g_strdup("defer"));
        }
        g_ptr_array_add(built, NULL);
        return built;
}
