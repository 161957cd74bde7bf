/* vmlock tests: sanlock daemons of a test's own, beside the harness's two.
 *
 * The harness's daemons are shared by every test program running at the
 * same time: a test that kills or stops a daemon, or needs a lockspace
 * with a short io_timeout, starts its own. Each private host has its own
 * SANLOCK_RUN_DIR (in /tmp: the socket path must be short) and VMLOCK_CONFIG_DIR (vmlock.conf naming sanlock,
 * qemu-sanlock.conf with automatic disk leases in the lease dir given) and
 * joins its lockspace only when asked (`vmlock lockspace join`: ~3 s with
 * io_timeout 1, ~21 s with the default). Its daemon dies with the test
 * program.
 */
#pragma once

#include <glib.h>

#include "sanlock-test-util.h"

G_BEGIN_DECLS

typedef struct {
        SanlockTestHost host; /* id, name, run_dir, config_dir (daemon_pid unused) */
        char *dir;
        char *log;            /* the daemon's output */
        GPid pid;             /* the daemon, or 0 */
} PrivateHost;

/* Makes host @host_id's dirs under @dir/host<ID> and config (disk leases in
 * @lease_dir, lockspace io_timeout @io_timeout), and starts its daemon. */
void private_host_start(PrivateHost *ph, const char *dir, const char *lease_dir,
                        guint host_id, guint io_timeout);
/* Starts the daemon again, after private_host_kill(); returns once it
 * answers (asserts within 20 s). */
void private_host_daemon_start(PrivateHost *ph);
/* SIGKILLs the daemon and its helper process, as a crash would, and reaps it. */
void private_host_kill(PrivateHost *ph);
/* Kills the daemon (if any) and frees the strings. */
void private_host_clear(PrivateHost *ph);

G_END_DECLS
