/* vmlock: a supervisor's watch on its guest's leases.
 *
 * The lock daemon holds a guest's leases for it. When the daemon dies or
 * is restarted, or no longer lists a lease, the lease is gone, and nothing
 * tells the guest, which goes on writing (sanlock's own kill path needs a
 * live daemon; the watchdog reacts only where one runs). The watch sees it
 * within about a second: its own connection to the daemon hangs up (at
 * once), or an inquire of the guest's process, every 500 ms in a thread so
 * that the main loop never waits for the daemon, no longer lists a lease
 * the guest held at its last deliberate change, or has not answered for
 * LEASE_WATCH_STUCK_MS. It then calls lost() on the main loop, once until
 * the next lease_watch_changed().
 */
#pragma once

#include <sys/types.h>

#include <vmlock/vmlock.h>

G_BEGIN_DECLS

/* How long an inquire may go unanswered before the leases count as lost: a
 * daemon stopped this long no longer renews them, and the watchdog would
 * fire soon; far below the time another host needs to take them (8 x the
 * lockspace's io_timeout, 80 s by default). */
#define LEASE_WATCH_STUCK_MS 10000

typedef struct LeaseWatch LeaseWatch;

/* What the guest must hold now: the resources of *@ret_dom that *@ret_state
 * (the driver's state after the guest's last deliberate change) holds;
 * *@ret_state NULL: nothing (leases released, or not taken yet). */
typedef void (*LeaseWatchExpectFunc)(gpointer data, const VmlockDomain **ret_dom,
                                     const char **ret_state);
/* The guest lost leases it must hold: @reason names them and says why.
 * @daemon_hangs: the daemon does not answer (a call to it would block). */
typedef void (*LeaseWatchLostFunc)(const char *reason, gboolean daemon_hangs, gpointer data);

/* Watches process @pid on the thread-default main context. A driver with
 * no daemon (nop) gives a watch that does nothing. */
LeaseWatch *lease_watch_new(VmlockLockManager *manager, pid_t pid, LeaseWatchExpectFunc expect,
                            LeaseWatchLostFunc lost, gpointer data);
/* The guest's leases changed on purpose (acquired, released, hotplugged):
 * an inquire begun before says nothing about now. Also re-arms lost(). */
void lease_watch_changed(LeaseWatch *watch);
void lease_watch_free(LeaseWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LeaseWatch, lease_watch_free)

G_END_DECLS
