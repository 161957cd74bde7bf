/* vmlock: the supervisor proper, as one table for the start path. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_json_options.h"
#include "supervisor/supervisor_log.h"
#include "supervisor/supervisor_runtime.h"

const SupervisorRuntime supervisor_runtime = {
        .supervisor_new = supervisor_new,
        .supervisor_run = supervisor_run,
        .supervisor_free = supervisor_free,
        .log_stamp_lines = supervisor_log_stamp_lines,
        .json_options = &qemu_json_options,
};
