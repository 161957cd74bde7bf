/* vmlock: the daemon module's table (the module's side of daemon_module.h). */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include "daemon_module.h"

/* The one symbol the loader asks for, beside the commands. */
const DaemonModule vmlock_daemon_module = {
        .version = VMLOCK_VERSION,
        .runtime = &supervisor_runtime,
};
