/* vmlock: a guest's record: what vmlock knows about a guest it started, and
 * its serialisation. Where records live, and who may write them, is
 * state_dir.h's business. */
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

G_END_DECLS
