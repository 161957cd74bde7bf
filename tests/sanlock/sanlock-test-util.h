/* vmlock tests: helpers for integration tests against the real sanlock daemons of harness.sh.
 *
 * harness.sh starts two daemons, "host 1" and "host 2", each with its own
 * SANLOCK_RUN_DIR, both joined to __LIBVIRT__DISKS__ (in the shared disk lease
 * dir) and to TESTLS (for explicit <lease> tests), and describes them in an env
 * file named by $VMLOCK_SANLOCK_HARNESS_ENV. The test process itself talks to
 * no daemon ($SANLOCK_RUN_DIR points nowhere): anything a host does runs in a
 * forked child with that host's SANLOCK_RUN_DIR and VMLOCK_CONFIG_DIR, as it
 * would on that machine. A child also gets its own libvmlock and driver state,
 * which is per process like the host_id it was configured with.
 *
 * Never call libsanlock in the test process itself: it remembers the daemon
 * address it first used, and every child forked later would inherit it.
 *
 * Test programs run in parallel with each other against the same daemons: give
 * every disk path, lease key and file a name no other program uses (put them
 * in sanlock_test_scratch_dir(), name keys with sanlock_test_unique_name()).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <glib.h>
#include <sanlock.h>
#include <sanlock_resource.h>

#include <vmlock/vmlock.h>

G_BEGIN_DECLS

#define SANLOCK_TEST_ENV_VAR "VMLOCK_SANLOCK_HARNESS_ENV"
/* The guest program (sanlock-test-guest), set by meson; default: the one
 * beside the test program. */
#define SANLOCK_TEST_GUEST_VAR "VMLOCK_SANLOCK_TEST_GUEST"
#define SANLOCK_TEST_N_HOSTS 2

/* sanlock's "Lease is held by another host". */
#define SANLOCK_TEST_IDLIVE (-243)

typedef struct {
        guint id;                       /* host_id in both lockspaces: 1 or 2 */
        char *name;                     /* the daemon's host name (-e) */
        char *run_dir;                  /* its SANLOCK_RUN_DIR */
        char *config_dir;               /* VMLOCK_CONFIG_DIR: qemu-sanlock.conf, vmlock.conf */
        pid_t daemon_pid;
} SanlockTestHost;

typedef struct {
        char *env_file;
        char *work_dir;
        char *sanlock_bin;              /* the sanlock command */
        char *lease_dir;                /* disk_lease_dir of both hosts */
        char *disk_lockspace;           /* "__LIBVIRT__DISKS__" */
        char *disk_lockspace_path;
        char *test_lockspace;           /* "TESTLS", for explicit leases */
        char *test_lockspace_path;
        char *explicit_dir;             /* where TESTLS lives; put explicit lease files here */
        char *short_scratch_dir;        /* outside the build dir: see sanlock_test_short_dir() */
        char *log_dir;
        SanlockTestHost hosts[SANLOCK_TEST_N_HOSTS];
} SanlockTestHarness;

/* g_test_init() plus reading the harness env file. Returns NULL when the
 * program does not run under harness.sh; main() should then register only
 * sanlock_test_add_skip() and run. Aborts when the env file is unreadable. */
const SanlockTestHarness *sanlock_test_init(int *argc, char ***argv);
/* Reads a harness env file; aborts naming what is wrong with it. For programs
 * other than GTest ones (benchmarks); tests use sanlock_test_init(). */
SanlockTestHarness *sanlock_test_harness_load(const char *env_file);
/* The harness read by sanlock_test_init() (asserts it was). */
const SanlockTestHarness *sanlock_test_harness(void);
/* Host 1 or 2. */
const SanlockTestHost *sanlock_test_host(guint id);
/* Registers one case that skips, saying the harness is missing. */
void sanlock_test_add_skip(void);

/* A directory private to this test program, on the same disk as the leases,
 * created empty on first call (work/scratch/<program>-<pid>). */
const char *sanlock_test_scratch_dir(void);
/* The same, mode 0700, in the harness's short dir outside the build dir
 * (/var/tmp/vmlock-harness.XXXXXX/scratch/<program>-<pid>, also on a disk),
 * for what the build dir may not allow: AF_UNIX sockets (a build dir deep in
 * a home dir overflows the 108 bytes of sun_path) and files another user must
 * reach (the clone may sit under a 0700 home; chmod this dir 0711 then). The
 * harness removes it when it stops. */
const char *sanlock_test_short_dir(void);
/* "<prefix>-<program pid>-<counter>": a lease key or file name no other
 * program or call uses, short enough for sanlock (47 bytes). */
char *sanlock_test_unique_name(const char *prefix);

/* ---- acting as a host ---------------------------------------------------- */

/* Sets SANLOCK_RUN_DIR and VMLOCK_CONFIG_DIR of @host in this process. Only
 * for a forked child about to act as that host. */
void sanlock_test_host_enter(const SanlockTestHost *host);
/* The current environment with @host's SANLOCK_RUN_DIR and VMLOCK_CONFIG_DIR,
 * for g_spawn_*(). */
GStrv sanlock_test_host_environ(const SanlockTestHost *host);

/* A start line for racers: children given a gate wait, after fork, until the
 * parent opens it, so that they all set off at once. */
typedef struct _SanlockTestGate SanlockTestGate;
SanlockTestGate *sanlock_test_gate_new(void);
void sanlock_test_gate_open(SanlockTestGate *gate);
void sanlock_test_gate_free(SanlockTestGate *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SanlockTestGate, sanlock_test_gate_free)

/* Runs in a child acting as a host. On success it may append text to @reply;
 * on failure it sets @error, which travels back to the parent intact (domain,
 * code, message), so g_assert_error() works on it. */
typedef gboolean (*SanlockTestHostFunc)(gpointer data, GString *reply, GError **error);

/* Forks a child acting as @host, runs @func in it and waits. Returns what
 * @func returned; @ret_reply (optional) gets its reply on success. A child that
 * crashes or exits without answering is a G_SPAWN_ERROR naming how it ended. */
gboolean sanlock_test_host_call(const SanlockTestHost *host, SanlockTestHostFunc func,
                                gpointer data, char **ret_reply, GError **error);

/* The same in two steps, for calls running at the same time: _begin forks
 * (the child waits for @gate, when given), _finish waits and frees @call. */
typedef struct _SanlockTestCall SanlockTestCall;
SanlockTestCall *sanlock_test_host_call_begin(const SanlockTestHost *host,
                                              SanlockTestHostFunc func, gpointer data,
                                              SanlockTestGate *gate);
gboolean sanlock_test_host_call_finish(SanlockTestCall *call, char **ret_reply,
                                       GError **error);

/* Runs @argv (argv[0] searched in PATH) as @host and waits; output and
 * status as g_spawn_sync(). */
gboolean sanlock_test_host_spawn(const SanlockTestHost *host, const char *const *argv,
                                 char **ret_stdout, char **ret_stderr, int *ret_wait_status,
                                 GError **error);
/* "sanlock client ARGS..." as @host; returns its stdout, fails on a nonzero exit. */
char *sanlock_test_host_client(const SanlockTestHost *host, GError **error, ...)
        G_GNUC_NULL_TERMINATED;

/* ---- guests -------------------------------------------------------------- */

typedef struct _SanlockTestGuest SanlockTestGuest;

/* Runs in the future guest's process (a child acting as a host), before exec:
 * take the leases (e.g. vmlock_domain_lock_process_start() with the domain's
 * pid set to getpid()) and return the fd the guest must inherit, or -1. The fd
 * may have FD_CLOEXEC: the helper makes it inheritable. */
typedef gboolean (*SanlockTestStartFunc)(gpointer data, int *ret_fd, GError **error);

/* Forks a child acting as @host, runs @start in it and, when that succeeds,
 * execs the guest program (sanlock-test-guest) with the fd. Returns once the
 * guest answers; an error from @start comes back intact (see host_call).
 * The guest lives until sanlock_test_guest_stop() or _free(), or until this
 * process dies (it exits when its stdin closes). */
SanlockTestGuest *sanlock_test_guest_start(const SanlockTestHost *host,
                                           SanlockTestStartFunc start, gpointer data,
                                           GError **error);
/* The same in two steps, for guests starting at the same time: _begin forks
 * (the child waits for @gate, when given); _finish returns TRUE once the
 * guest answers, or FALSE with @start's error, after which the guest is
 * gone and only needs freeing. */
SanlockTestGuest *sanlock_test_guest_begin(const SanlockTestHost *host,
                                           SanlockTestStartFunc start, gpointer data,
                                           SanlockTestGate *gate);
gboolean sanlock_test_guest_finish(SanlockTestGuest *guest, GError **error);
pid_t sanlock_test_guest_get_pid(const SanlockTestGuest *guest);
const SanlockTestHost *sanlock_test_guest_get_host(const SanlockTestGuest *guest);
/* The inherited fd number in the guest (-1 if none). */
int sanlock_test_guest_get_fd(const SanlockTestGuest *guest);
/* Sends one command line to the guest and returns its one-line answer
 * (without the newline). Commands (see sanlock-test-guest.c):
 *   "ping"     -> "pong"
 *   "inquire"  -> "inquire RV COUNT STATE": sanlock_inquire() on the inherited fd,
 *                 or "inquire timeout": no answer in 2 s (the daemon ignores calls
 *                 on a restricted connection)
 *   "fd"       -> "fd N open|closed|none": whether the inherited fd is still open */
char *sanlock_test_guest_command(SanlockTestGuest *guest, const char *command);
/* Ends the guest (closes its stdin; SIGKILL after 10 s), reaps it and waits
 * until its host's daemon has let go of the pid, so its leases are free when
 * this returns. Returns the guest's wait status. */
int sanlock_test_guest_stop(SanlockTestGuest *guest);
/* Like stop, but with SIGKILL: a crashing guest. */
int sanlock_test_guest_kill(SanlockTestGuest *guest);
/* Stops the guest if still running. */
void sanlock_test_guest_free(SanlockTestGuest *guest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SanlockTestGuest, sanlock_test_guest_free)

/* ---- raw libsanlock ------------------------------------------------------ */

/* Errors whose code is a raw sanlock return value (-243, -EEXIST...). */
#define SANLOCK_TEST_RV_ERROR (sanlock_test_rv_error_quark())
GQuark sanlock_test_rv_error_quark(void);
void sanlock_test_set_rv_error(GError **error, int rv, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* sanlock_test_host_call() of @func (an acquire failing with a
 * SANLOCK_TEST_RV_ERROR) again while a holder that ended is still letting
 * go: another host's release not yet on disk (SANLOCK_TEST_IDLIVE), or this
 * host's daemon releasing it (-EAGAIN). 10 s at most. */
gboolean sanlock_test_host_call_once_released(const SanlockTestHost *host,
                                              SanlockTestHostFunc func, gpointer data,
                                              GError **error);

/* A one-disk resource LOCKSPACE:NAME:PATH:OFFSET, flags 0. g_free() it. */
struct sanlk_resource *sanlock_test_resource_new(const char *lockspace, const char *name,
                                                 const char *path, guint64 offset);
/* Creates @path (1 MiB, mode 0600) and initialises a lease in it through
 * @host's daemon (sanlock_write_resource). Asserts on failure. */
void sanlock_test_write_resource(const SanlockTestHost *host, const char *lockspace,
                                 const char *name, const char *path);
/* The lease file of the auto disk lease of @disk_path: lease_dir/md5(path). */
char *sanlock_test_disk_lease_path(const char *disk_path);
/* Waits until the automatic lease of @disk_path has no owner on disk. A
 * holder's daemon forgets it as it ends, a moment before the release
 * reaches the disk: on a loaded machine another host may look in between.
 * Only for a disk nobody else may take meanwhile. */
void sanlock_test_wait_disk_free(const char *disk_path);

/* ---- the vmlock API, as a host --------------------------------------------- */

/* A guest description for the tests: @name plus a fresh uuid, no disks. */
VmlockDomain *sanlock_test_domain_new(const char *name);
/* Adds a file disk (asserts it is valid). */
void sanlock_test_domain_add_disk(VmlockDomain *dom, const char *path, gboolean readonly,
                                  gboolean shareable);
void sanlock_test_domain_add_lease(VmlockDomain *dom, const char *lockspace, const char *key,
                                   const char *path);
/* A disk path in sanlock_test_scratch_dir() no other test uses (the file is
 * not created: the driver never touches the disk itself). */
char *sanlock_test_disk_path(const char *prefix);

/* In a child acting as a host: the "sanlock" lock manager as that host's
 * config (VMLOCK_CONFIG_DIR) and the build's plugin dir (VMLOCK_PLUGIN_DIR)
 * make it. */
VmlockLockManager *sanlock_test_manager_new(GError **error);

/* A config dir of its own, in the scratch dir, holding qemu-sanlock.conf
 * with @text (NULL: no file). */
char *sanlock_test_config_dir_new(const char *text);
/* A SanlockTestHostFunc: loads the sanlock driver with the config dir @data
 * (a path), and unloads it. */
gboolean sanlock_test_init_driver(gpointer data, GString *reply, GError **error);

typedef struct {
        VmlockDomain *dom;
        gboolean paused;        /* only register (a paused or incoming guest) */
} SanlockTestStart;

/* A SanlockTestStartFunc for a SanlockTestStart: the guest's own process
 * start, vmlock_domain_lock_process_start() with the domain's pid set to the
 * calling process, as the vmlock command does between fork and exec. */
gboolean sanlock_test_process_start(gpointer data, int *ret_fd, GError **error);

/* A guest of @dom on host @host_id, started with sanlock_test_process_start. */
SanlockTestGuest *sanlock_test_domain_start(guint host_id, VmlockDomain *dom, gboolean paused,
                                            GError **error);
/* A guest that must start (running): retried for up to 10 s while a lease is
 * busy, since a holder that just ended may not have reached the disk yet. */
SanlockTestGuest *sanlock_test_domain_start_ok(guint host_id, VmlockDomain *dom);

typedef enum {
        SANLOCK_TEST_PAUSE,             /* state out */
        SANLOCK_TEST_RESUME,            /* state in (may be NULL) */
        SANLOCK_TEST_INQUIRE,           /* state out */
        SANLOCK_TEST_DISK_ATTACH,       /* disk */
        SANLOCK_TEST_DISK_DETACH,
        SANLOCK_TEST_LEASE_ATTACH,      /* lease */
        SANLOCK_TEST_LEASE_DETACH,
} SanlockTestDomainOp;

/* One domain-lock call as @host from a process other than the guest, on
 * behalf of the guest process @pid, as the vmlock command does for a running
 * guest. @item is the VmlockDisk or VmlockLease of the hotplug calls.
 * @ret_state (may be NULL) gets the state of pause and inquire. */
gboolean sanlock_test_domain_call(const SanlockTestHost *host, SanlockTestDomainOp op,
                                  VmlockDomain *dom, pid_t pid, const char *state,
                                  gconstpointer item, char **ret_state, GError **error);

G_END_DECLS
