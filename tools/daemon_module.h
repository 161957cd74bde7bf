/* vmlock: the vmlock command's daemon module.
 *
 * `vmlock start` must reach its guest's exec with no more than GLib,
 * libvmlock and the lock driver loaded (README, Performance). What needs
 * json-glib, GIO or libsystemd (the supervisor, every other command) is a
 * module, vmlock-daemon.so, loaded once needed: by start once its guest
 * runs, by the other commands at once. The module exports this table and
 * the commands (cmd_*, vmlock_tool.h).
 */
#pragma once

#include "supervisor/supervisor_runtime.h"

G_BEGIN_DECLS

#define DAEMON_MODULE_FILE "vmlock-daemon.so"
#define DAEMON_MODULE_SYMBOL "vmlock_daemon_module"

typedef struct {
        const char *version; /* VMLOCK_VERSION: the module must be vmlock's own build's */
        const SupervisorRuntime *runtime;
} DaemonModule;

/* The executable's side: the module, loaded the first time (from beside
 * the executable in the build tree, else from its install dir), or NULL
 * with @error. */
const DaemonModule *daemon_module_load(GError **error);

/* The supervisor of daemon_module_load(), as a SupervisorRuntimeLoadFunc. */
const SupervisorRuntime *daemon_module_load_runtime(GError **error);

/* The module's command @symbol ("cmd_list"), or NULL with @error. */
int (*daemon_module_command(const char *symbol, GError **error))(int argc, char **argv);

G_END_DECLS
