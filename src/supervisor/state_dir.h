/* vmlock: the state directory, where the vmlock command records running guests.
 *
 * One GKeyFile per guest, <statedir>/<name>.state, replaced atomically (written
 * under a temporary name, then renamed), so a reader sees the old record or the
 * new one, never half of one. Changes to a guest's record are made under a
 * per-name lock (flock on <statedir>/<name>.lock). A record whose process is
 * gone (its pid is dead, or was reused: the start time differs) is stale.
 */
#pragma once

#include <sys/types.h>

#include <vmlock/domain.h>

G_BEGIN_DECLS

/* What vmlock knows about a guest it started. The domain carries the name,
 * uuid, pid, on_lockfailure action and the resources (disks and leases,
 * including hotplugged ones), so later commands can rebuild the lock requests
 * without the XML. */
typedef struct {
        VmlockDomain *dom;
        guint64 pid_start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
        char *domain_xml;       /* the file the guest was started from */
        char *lock_manager;     /* driver name */
        pid_t supervisor_pid;   /* the `vmlock start` process that owns the guest */
        char *qmp;              /* the supervisor's QMP proxy socket, or NULL: not QEMU */
        gboolean paused;        /* its CPUs are stopped by vmlock */
        gboolean released;      /* its leases are handed over: resume takes them back */
        char *lock_state;       /* the state from the release, when released */
        gboolean lease_lost;    /* its leases went behind vmlock's back (the lock daemon
                                 * ended, or no longer listed them): it was stopped */
        GStrv unprotected;      /* images QEMU opened writable at start that no lease
                                 * covers, or NULL */
        char *in_flight;        /* what the supervisor is doing to the leases, saved
                                 * before it acts ("pause --release", "attach-disk
                                 * PATH"), or NULL: if it dies mid-way, readers know
                                 * the record may be behind the lock daemon */
} GuestRecord;

/* GuestRecord.in_flight: "pause --release", or "attach-disk " and the path. */
#define GUEST_IN_FLIGHT_RELEASE "pause --release"
#define GUEST_IN_FLIGHT_ATTACH_DISK "attach-disk "

GuestRecord *guest_record_new(VmlockDomain *dom);
void guest_record_free(GuestRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestRecord, guest_record_free)

/* Serialisation, exposed for the tests. */
char *guest_record_to_data(const GuestRecord *record, gsize *ret_len);
GuestRecord *guest_record_from_data(const char *data, gsize len, const char *filename,
                                    GError **error);

/* The process the record names still runs (same pid, same start time, not
 * a zombie). */
gboolean guest_record_is_alive(const GuestRecord *record);

/* @option (--state-dir), else $VMLOCK_STATE_DIR, else the compiled-in default. */
const char *state_dir_path_resolve(const char *option);

/* A name usable as a file name in the state dir (no '/', no leading '.'). */
gboolean state_dir_check_name(const char *name, GError **error);

/* The state dir must be ours alone: a directory (not a link) owned by root
 * (or by the calling user, when not root), writable by no group nor other
 * user, no ACL granting anyone else write. Every function below checks it
 * before use and refuses it otherwise, with VMLOCK_ERROR_IO naming the dir
 * and the chmod/chown to run. Files in it are opened without following
 * links and must be regular files of root's (or the caller's): a link, or
 * another user's file, is refused naming it. */

/* Creates the directory (mode 0700) if needed, and checks it. */
gboolean state_dir_ensure(const char *dir, GError **error);

/* Takes the per-name lock, waiting for it; returns the fd to close() to
 * release it. The lock file stays behind: removing it would race with a waiter. */
int state_dir_lock_name(const char *dir, const char *name, GError **error);
/* The same for a uuid: two starts of one uuid under different names can't
 * both pass the check. Take it after the name lock. */
int state_dir_lock_uuid(const char *dir, const char *uuid, GError **error);

/* The sockets of a guest's supervisor: its control socket (the vmlock
 * commands) and its QMP proxy (other QMP clients). */
char *state_dir_control_path(const char *dir, const char *name);
char *state_dir_qmp_path(const char *dir, const char *name);
/* The control socket to connect to: the dir is checked, and what is there
 * must be a socket of root's (or ours), not a link, else an error naming
 * it. A missing one is left to connect() to report. */
char *state_dir_control_path_checked(const char *dir, const char *name, GError **error);

/* Reads <dir>/<name>.state; a missing record is VMLOCK_ERROR_INVALID_ARG
 * ("no guest named NAME runs here"). */
GuestRecord *state_dir_load(const char *dir, const char *name, GError **error);
/* Like state_dir_load(), but a stale record also counts as missing. */
GuestRecord *state_dir_load_alive(const char *dir, const char *name, GError **error);
/* Writes the record of record->dom's name atomically, mode 0600. */
gboolean state_dir_save(const char *dir, const GuestRecord *record, GError **error);
/* Removes the record; a missing one is fine. */
gboolean state_dir_remove(const char *dir, const char *name, GError **error);
/* Removes the record only if it still names @pid started at @start_time
 * (another start may have replaced it meanwhile). Takes the name lock. */
gboolean state_dir_remove_if_owned(const char *dir, const char *name, pid_t pid,
                                   guint64 start_time, GError **error);

/* The names with a record, sorted. */
GStrv state_dir_list_names(const char *dir, GError **error);
/* The live records, sorted by name; stale ones are removed on the way
 * (under their name lock, and only if still stale). Unreadable records are
 * reported with g_printerr() and skipped. */
GPtrArray *state_dir_list_alive(const char *dir, GError **error);
/* The live record whose domain has @uuid, or NULL with an error. Takes no
 * lock and removes nothing. */
GuestRecord *state_dir_find_uuid(const char *dir, const char *uuid, GError **error);

G_END_DECLS
