/* vmlock: the start path of `vmlock start`: load the guest, fork, take its
 * leases in the child and exec PROGRAM, then supervise it (supervisor.h).
 *
 * One call for `vmlock start`, which parses its options and prints the
 * outcome.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "supervisor/supervisor_runtime.h"

G_BEGIN_DECLS

/* A failed start's class: its code is the exit status of `vmlock start`
 * (the 12x convention of env(1), timeout(1) and chroot(1)). */
#define SUPERVISOR_START_ERROR (supervisor_start_error_quark())
GQuark supervisor_start_error_quark(void);

typedef enum {
        SUPERVISOR_START_ERROR_LOCK_FAILURE = 124,   /* the leases could not be had */
        SUPERVISOR_START_ERROR_FAILED = 125,         /* any other error before the guest ran */
        SUPERVISOR_START_ERROR_CANNOT_EXECUTE = 126, /* PROGRAM is not executable */
        SUPERVISOR_START_ERROR_NOT_FOUND = 127,      /* PROGRAM was not found */
} SupervisorStartError;

typedef struct {
        const char *domain_xml;      /* the guest's XML, or NULL: name (and uuid) */
        const char *name;            /* without XML: the guest's name */
        const char *uuid;            /* without XML: its uuid, or NULL: derived from name */
        char **program;              /* PROGRAM and its arguments */
        gboolean qemu;               /* PROGRAM is QEMU, whatever its name */
        gboolean paused;             /* register only: resume takes the leases */
        const char *incoming;        /* a migration destination's URI (QEMU; paused too), or NULL */
        gboolean detach;             /* supervise in the background */
        const char *log;             /* with detach: where its output goes, or NULL */
        const char *state_dir;       /* the option, or NULL: $VMLOCK_STATE_DIR or the default */
        const char *config_dir;      /* resolved */
        /* The command's vmlock.conf, read by the command: the lock driver
         * to load, whether the file names it (an unprotected guest by
         * default is warned of) and the file, for that warning. */
        const char *lock_manager;
        gboolean lock_manager_named;
        const char *config_file;
        /* The supervisor proper: called once the guest runs (or earlier,
         * for a QEMU command line's JSON option value). */
        SupervisorRuntimeLoadFunc load_runtime;
} SupervisorStartRequest;

typedef struct {
        /* TRUE in the caller of a detached start: the guest runs, supervised
         * in the background. */
        gboolean detached;
        pid_t pid;        /* the guest's, when detached */
        int exit_status;  /* this process's exit status */
} SupervisorStartResult;

/* Whether @program is QEMU: @forced (--qemu), or named qemu-system-*. */
gboolean supervisor_start_is_qemu(const char *program, gboolean forced);

/* Starts the guest of @request, supervised. Returns FALSE with @error
 * (SUPERVISOR_START_ERROR) when the guest did not run. Else TRUE once the
 * guest ran: in the caller of a detached start at once (*@result says its
 * pid); otherwise once the guest exited, with its status in *@result (128+N
 * when killed by signal N). The detached background process returns TRUE
 * too, its outcome sent to the caller. Warnings go to stderr. */
gboolean supervisor_start(const SupervisorStartRequest *request, SupervisorStartResult *result,
                          GError **error);

G_END_DECLS
