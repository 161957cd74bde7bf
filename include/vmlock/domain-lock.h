/* vmlock: locking calls for each stage of a guest's life.
 *
 * Each call describes the domain to the lock driver (its uuid, name, id, pid),
 * adds the resources the stage needs and asks the driver to act. Which disks
 * become resources, and how, is decided here:
 *   - every <lease> is an exclusive lease resource;
 *   - a disk with a local path (type file, block or dir) is a disk resource;
 *     network and volume disks, and disks without a source (an empty cdrom),
 *     are skipped;
 *   - a <readonly/> disk is flagged READONLY|SHARED and a <shareable/> one
 *     SHARED: readers and sharers may coexist, but never with a sole writer.
 */
#pragma once

#include <vmlock/domain.h>
#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

/* In the guest's own process, after fork() and before exec(): takes every
 * resource (or, when @paused, only registers the process) and returns in
 * @ret_fd the fd the guest must inherit (-1 if the driver has none). The
 * domain's pid must be the calling process. */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_start(VmlockLockManager *manager,
                                                        const char *uri, VmlockDomain *dom,
                                                        gboolean paused, int *ret_fd,
                                                        GError **error);
/* The same, and then what the process holds, as inquire would say it, in
 * @ret_state (NULL when @paused or nothing is held): one call to the driver
 * fewer than an inquire of its own, on the way to the guest's exec. */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_start_held(VmlockLockManager *manager,
                                                             const char *uri,
                                                             VmlockDomain *dom, gboolean paused,
                                                             int *ret_fd, char **ret_state,
                                                             GError **error);
/* The guest hands its disks over (migration, save): releases every resource and
 * returns the state that resume needs (NULL when the driver keeps none). */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_pause(VmlockLockManager *manager,
                                                        VmlockDomain *dom, char **ret_state,
                                                        GError **error);
/* Takes every resource back for the running guest; with @state (from pause or
 * inquire), a lease that changed hands in between is refused. */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_resume(VmlockLockManager *manager,
                                                         const char *uri, VmlockDomain *dom,
                                                         const char *state, GError **error);
/* Takes the leases another holder (a migration source) handed over with
 * @state, for the guest here: @state must list every lease the guest is to
 * hold (an empty or truncated one is refused, VMLOCK_ERROR_LEASE_STATE:
 * what it lacks would be taken without checking that nobody used it since),
 * each is refused if it changed hands in between, and the leases it lists
 * that the domain lacks (disks hot-plugged at the source) are taken too. */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_take_over(VmlockLockManager *manager,
                                                            const char *uri, VmlockDomain *dom,
                                                            const char *state,
                                                            GError **error);
/* The leases @state (from inquire) holds that @dom's disks and leases do
 * not name: those a take-over took for disks hot-plugged at the source, one
 * line each for a person ("disk lease <md5> (<file>), exclusive"), in
 * *@ret_extra (NULL-terminated; NULL when none, or the driver cannot tell). */
VMLOCK_EXPORT gboolean vmlock_domain_lock_state_extra(VmlockLockManager *manager,
                                                      const VmlockDomain *dom,
                                                      const char *state,
                                                      GStrv *ret_extra, GError **error);
/* The state of what the guest holds now (NULL when nothing or no state). */
VMLOCK_EXPORT gboolean vmlock_domain_lock_process_inquire(VmlockLockManager *manager,
                                                          VmlockDomain *dom, char **ret_state,
                                                          GError **error);
/* Hotplug, on behalf of the running guest. A disk without a local path is a no-op. */
VMLOCK_EXPORT gboolean vmlock_domain_lock_disk_attach(VmlockLockManager *manager,
                                                      const char *uri, VmlockDomain *dom,
                                                      const VmlockDisk *disk, GError **error);
VMLOCK_EXPORT gboolean vmlock_domain_lock_disk_detach(VmlockLockManager *manager,
                                                      VmlockDomain *dom, const VmlockDisk *disk,
                                                      GError **error);
VMLOCK_EXPORT gboolean vmlock_domain_lock_lease_attach(VmlockLockManager *manager,
                                                       const char *uri, VmlockDomain *dom,
                                                       const VmlockLease *lease, GError **error);
VMLOCK_EXPORT gboolean vmlock_domain_lock_lease_detach(VmlockLockManager *manager,
                                                       VmlockDomain *dom, const VmlockLease *lease,
                                                       GError **error);


/* TRUE when @disk becomes a lock resource: it has a local path (type file,
 * block or dir). Network and volume disks and empty drives do not. */
VMLOCK_EXPORT gboolean vmlock_disk_is_lockable(const VmlockDisk *disk);

/* Whether @state (from vmlock_domain_lock_process_inquire() or _pause();
 * NULL: nothing held) holds @disk's or @lease's lease, as the driver names
 * them: callers need not know the driver's naming. A disk that is not
 * lockable, or one the driver takes no lease for, is not held. Errors:
 * VMLOCK_ERROR_UNSUPPORTED when the driver cannot tell, INVALID_ARG for a
 * NULL argument, or the driver's own (a state it cannot parse). */
VMLOCK_EXPORT gboolean vmlock_domain_lock_state_holds_disk(VmlockLockManager *manager,
                                                           const char *state,
                                                           const VmlockDisk *disk,
                                                           gboolean *ret_held, GError **error);
VMLOCK_EXPORT gboolean vmlock_domain_lock_state_holds_lease(VmlockLockManager *manager,
                                                            const char *state,
                                                            const VmlockLease *lease,
                                                            gboolean *ret_held,
                                                            GError **error);

G_END_DECLS
