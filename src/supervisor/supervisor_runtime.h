/* vmlock: the supervisor proper, as the start path reaches it.
 *
 * The start path (supervisor_start.c) runs up to the guest's exec on GLib,
 * libvmlock and the lock driver alone. The supervisor (JSON, GIO, libsystemd)
 * comes through this table once the guest runs: `vmlock` loads it from its
 * daemon module then, so that those libraries cost the guest no time (README,
 * Performance). Tests and the module use the table directly.
 */
#pragma once

#include "qemu/qemu_cmdline.h"
#include "supervisor/supervisor.h"

G_BEGIN_DECLS

typedef struct {
        Supervisor *(*supervisor_new)(const SupervisorSetup *setup, GError **error);
        int (*supervisor_run)(Supervisor *supervisor);
        void (*supervisor_free)(Supervisor *supervisor);
        void (*log_stamp_lines)(void);
        /* For a QEMU command line with a JSON option value. */
        const QemuJsonOptions *json_options;
} SupervisorRuntime;

/* Returns the table, loading it the first time, or NULL with @error. */
typedef const SupervisorRuntime *(*SupervisorRuntimeLoadFunc)(GError **error);

extern const SupervisorRuntime supervisor_runtime;

G_END_DECLS
