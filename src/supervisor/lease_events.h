/* vmlock: lease events (taken, released, refused, lost) as structured
 * journal entries.
 *
 * Under systemd, where the supervisor's stderr is the journal's stream
 * ($JOURNAL_STREAM names it), each event is one entry with fields a query
 * can select on (`journalctl VMLOCK_GUEST=web VMLOCK_EVENT=lost`, or by
 * MESSAGE_ID): VMLOCK_EVENT, VMLOCK_GUEST, VMLOCK_UUID, VMLOCK_DISK or
 * VMLOCK_LEASE (LOCKSPACE:KEY), VMLOCK_REASON. Elsewhere nothing is added:
 * the plain lines on stderr stay as they were.
 */
#pragma once

#include <vmlock/vmlock.h>

G_BEGIN_DECLS

typedef enum {
        LEASE_EVENT_TAKEN,
        LEASE_EVENT_RELEASED,
        LEASE_EVENT_REFUSED,
        LEASE_EVENT_LOST,
} LeaseEventKind;

typedef struct {
        LeaseEventKind kind;
        const char *guest;
        const char *uuid;   /* or NULL */
        const char *disk;   /* the disk's path, or NULL */
        const char *lease;  /* an explicit lease, LOCKSPACE:KEY, or NULL */
        const char *reason; /* why (refused, lost), or NULL */
} LeaseEvent;

/* The journal fields of @event, "NAME=value" each, MESSAGE first. */
GPtrArray *lease_event_fields(const LeaseEvent *event);

/* TRUE when stderr is the journal's stream: events go there structured. */
gboolean lease_events_to_journal(void);

/* Whether @manager's events are worth a journal entry: it goes there, and
 * the driver holds leases (the nop driver takes none). */
gboolean lease_events_wanted(const VmlockLockManager *manager);

/* Sends @event to the journal when lease_events_to_journal(); returns
 * whether it did (if not, the caller prints its plain line as before). */
gboolean lease_event_log(const LeaseEvent *event);

/* One @kind event per leased resource of @dom (its disks with a source
 * path, its explicit leases), when lease_events_wanted(@manager). */
void lease_events_log_domain(const VmlockLockManager *manager, LeaseEventKind kind,
                             const VmlockDomain *dom, const char *reason);

/* A refused lease (the lock driver's error: held elsewhere, changed state,
 * lockspace missing) as a "refused" event of @dom, or of its disk @disk. */
void lease_events_log_refusal(const VmlockLockManager *manager, const VmlockDomain *dom,
                               const char *disk, const GError *error);

G_END_DECLS
