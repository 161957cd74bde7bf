/* vmlock: the supervisor's insides, shared by its files (one concern each:
 * supervisor.c the guest's life and QEMU's events, supervisor_ops.c pause,
 * resume, stop and lock failure, supervisor_hotplug.c disks and leases,
 * supervisor_migration.c migration, supervisor_control.c the control
 * socket, supervisor_proxy.c the QMP proxy). Not for use outside them. */
#pragma once

#include <vmlock/vmlock.h>

#include "control/control_server.h"
#include "qemu/qemu_migration.h"
#include "qemu/qemu_monitor.h"
#include "supervisor/guest_stop.h"
#include "supervisor/lease_watch.h"
#include "supervisor/supervisor.h"
#include "util/qmp.h"

G_BEGIN_DECLS

/* QEMU may take a while to create its monitor on a loaded machine. */
#define MONITOR_GREETING_TIMEOUT_MS 60000
/* How long detach-disk waits for QEMU to let go of a device: under the
 * vmlock command's own wait for an answer (QMP_TIMEOUT_MS). A scsi-hd goes
 * at once; a PCI device needs the guest's OS to agree. */
#define UNPLUG_TIMEOUT_MS 6000
/* How long an ended guest's supervisor waits for the lock daemon to write
 * the release of its leases (one write each; seconds only if the storage
 * hangs). */
#define RELEASE_WAIT_MS 10000

/* The guest as the supervisor keeps it: one state, changed only through
 * supervisor_set_state(), which knows the legal changes (supervisor_state.c).
 * The record's paused and released follow it. */
typedef enum {
        GUEST_RUNNING,   /* its CPUs run; it holds its leases */
        GUEST_PAUSED,    /* its CPUs are stopped; it holds its leases */
        GUEST_RELEASED,  /* stopped, its leases handed over (pause --release, the end of a
                          * migration) or not yet taken (start --paused, --incoming) */
        GUEST_MIGRATING, /* QEMU sends it elsewhere; it holds its leases until the end */
} GuestState;

/* What a client asked that waits for QEMU's answer: one at a time
 * (supervisor_begin_op()); reads (status, inquire, query-migration) are
 * answered meanwhile. */
typedef enum {
        GUEST_OP_NONE,
        GUEST_OP_PAUSING,
        GUEST_OP_RESUMING,
        GUEST_OP_ATTACHING_DISK,
        GUEST_OP_STARTING_MIGRATION,
} GuestOp;

/* An operation that waited for QEMU is over: @error says why it failed. */
typedef void (*SupervisorDoneFunc)(const GError *error, gpointer user_data);
/* The same, for a command whose answer is a QMP reply (taken). */
typedef void (*SupervisorReplyFunc)(JsonObject *reply, gpointer user_data);

/* A disk vmlock gave QEMU, by its path. */
typedef struct {
        char *path;
        char *id;                /* device id; nodes ID-file, ID-format */
        gboolean unplugging;     /* device_del sent, DEVICE_DELETED not seen */
        gboolean removing;       /* DEVICE_DELETED seen: its nodes go, then its lease */
        QmpServerClient *waiter; /* the detach-disk waiting for it, or NULL */
        guint timeout;
} PluggedDisk;

struct Supervisor {
        char *state_dir;
        char *uri;
        char *program;
        GuestRecord *record;         /* the caller's */
        VmlockLockManager *manager;  /* the caller's */
        pid_t pid;
        int pidfd;
        guint pidfd_watch;
        gboolean reaped;         /* the guest ended: its pid is no longer ours to signal */
        int go_fd;
        QemuMonitor *monitor;
        guint monitor_watch;
        QmpServer *control;
        QmpServer *proxy;
        GMainLoop *loop;
        int wait_status;
        GHashTable *plugged;     /* path -> PluggedDisk: disks vmlock hotplugged */
        guint next_disk;
        GHashTable *proxy_nodes; /* node name -> path: image nodes added through the proxy */
        GPtrArray *unprotected;  /* images QEMU opened writable at start that no lease covers */
        char *incoming;          /* a migration destination: where QEMU waits for the guest */
        GuestState state;
        GuestState state_before_migration; /* RUNNING or PAUSED: where a failed one returns */
        GuestOp op;              /* a client's, waiting for QEMU */
        guint releasing;         /* stops sent that a release of the leases follows: no
                                  * cont goes to QEMU meanwhile */
        guint handover_idle;     /* the MIGRATION event said completed: hand over */
        gboolean cancelling;     /* migrate-cancel asked; the source runs again once QEMU
                                  * says cancelled (migration_cancelled()) */
        gboolean ran_before_migration; /* its CPUs ran (QEMU said) when the migration started */
        guint cancelled_idle;    /* the MIGRATION event said cancelled or failed after
                                  * migrate-cancel: run the source again */
        char *handover_error;    /* why the last migration's hand-over failed, or NULL */
        char *held_state;        /* what the guest holds, as inquire says (NULL: nothing) */
        LeaseWatch *lease_watch; /* sees the leases go behind vmlock's back */
        GuestStop *stop;         /* `vmlock stop`: shutdown asked, kill armed */
};

static inline const char *
guest_name(const Supervisor *sv)
{
        return vmlock_domain_get_name(sv->record->dom);
}

/* supervisor_state.c: the guest's state */
GuestState supervisor_initial_state(const GuestRecord *record);
void supervisor_set_state(Supervisor *sv, GuestState state);
gboolean supervisor_is_released(const Supervisor *sv);
/* Its CPUs are stopped (by vmlock, or by QEMU itself). */
gboolean supervisor_is_paused(const Supervisor *sv);
/* The CPUs stopped, or run again; a migration under way goes on, and
 * returns there if it fails. supervisor_note_stopped() says whether
 * anything changed. */
gboolean supervisor_note_stopped(Supervisor *sv);
void supervisor_note_running(Supervisor *sv);
/* A client's operation @op begins: refused ("guest NAME is busy: pausing")
 * while another waits for QEMU. */
gboolean supervisor_begin_op(Supervisor *sv, GuestOp op, GError **error);
/* The same check alone, for what is done at once (@op NONE: a change of
 * the leases, as detach-disk). */
gboolean supervisor_check_idle(Supervisor *sv, GuestOp op, GError **error);
void supervisor_end_op(Supervisor *sv);

/* supervisor_ops.c: the guest's record, CPUs and leases */
gboolean supervisor_save_record(Supervisor *sv, GError **error);
void supervisor_save_record_or_warn(Supervisor *sv);
/* GuestRecord.in_flight, saved before the leases change (takes @what), and
 * cleared once they did: should the supervisor die mid-way, a reader of the
 * record knows it may be behind the lock daemon (guest_orphan.h). */
void supervisor_begin_in_flight(Supervisor *sv, char *what);
void supervisor_end_in_flight(Supervisor *sv);
/* Its CPUs run again (PROGRAM started, if it had not), @done once they
 * do (maybe before this returns); its state is the caller's to change.
 * Refused while a stop before a release is under way, or released. */
void supervisor_cont_cpus(Supervisor *sv, SupervisorDoneFunc done, gpointer user_data);
void supervisor_note_held_leases(Supervisor *sv);
void supervisor_wait_leases_released(Supervisor *sv);
/* The operations below return FALSE when refused at once; else @done
 * comes once QEMU answered (maybe before they return, for a guest that is
 * not QEMU). A client's pause and resume are one at a time; the
 * supervisor's own (lock failure, hand-over) are not refused. */
gboolean supervisor_pause(Supervisor *sv, gboolean release, SupervisorDoneFunc done,
                          gpointer user_data, GError **error);
/* The same, for the supervisor's own needs: never refused as busy. */
void supervisor_pause_now(Supervisor *sv, gboolean release, SupervisorDoneFunc done,
                          gpointer user_data);
gboolean supervisor_resume(Supervisor *sv, const char *state, SupervisorDoneFunc done,
                           gpointer user_data, GError **error);
gboolean supervisor_lock_failure(Supervisor *sv, const char *action, SupervisorDoneFunc done,
                                 gpointer user_data, GError **error);
/* `vmlock stop`: the guest asked to shut down, killed after @timeout_s. */
gboolean supervisor_stop(Supervisor *sv, guint timeout_s, GError **error);
gboolean supervisor_inquire(Supervisor *sv, char **ret_state, GError **error);
/* The lease watch's callbacks (lease_watch.h): what the guest should hold,
 * and its leases gone behind vmlock's back. */
void supervisor_expected_leases(gpointer data, const VmlockDomain **ret_dom,
                                const char **ret_state);
void supervisor_lease_lost(const char *reason, gboolean daemon_hangs, gpointer data);

/* supervisor_hotplug.c: disks and leases added and removed, and QEMU's images */
void supervisor_plugged_disk_free(PluggedDisk *plugged);
gboolean supervisor_attach_disk(Supervisor *sv, VmlockDisk *disk, GError **error);
gboolean supervisor_detach_disk(Supervisor *sv, const char *path, GError **error);
gboolean supervisor_attach_lease(Supervisor *sv, VmlockLease *lease, GError **error);
gboolean supervisor_detach_lease(Supervisor *sv, const char *lockspace, const char *key,
                                 GError **error);
gboolean supervisor_plug_disk(Supervisor *sv, VmlockDisk *disk, const char *format,
                              const char *bus, const char *cache, SupervisorDoneFunc done,
                              gpointer user_data, GError **error);
void supervisor_device_deleted(Supervisor *sv, const char *device);
gboolean supervisor_unplug_disk(Supervisor *sv, QmpServerClient *client, const char *path,
                                GError **error);
gboolean supervisor_check_images(Supervisor *sv, GError **error);

/* supervisor_migration.c: live migration, the source's side */
gboolean supervisor_migrate(Supervisor *sv, const char *uri, SupervisorDoneFunc done,
                            gpointer user_data, GError **error);
void supervisor_migration_event(Supervisor *sv, MigrationStatus status);
/* Ctrl-C on `vmlock migrate`: -> {cancelling} */
void supervisor_migrate_cancel(Supervisor *sv, SupervisorReplyFunc reply, gpointer user_data);
void supervisor_query_migration(Supervisor *sv, SupervisorReplyFunc reply, gpointer user_data);

/* supervisor_control.c: the control socket's commands */
JsonObject *supervisor_control_command(QmpServerClient *client, const char *command,
                                       JsonObject *arguments, gpointer user_data);
JsonObject *supervisor_control_greeting(Supervisor *sv);

/* supervisor_proxy.c: the QMP proxy */
/* Its traffic in the QMP trace (a QmpServerTraceFunc). */
void supervisor_proxy_trace(guint client, gboolean received, JsonObject *message,
                            gpointer user_data);
JsonObject *supervisor_proxy_command(QmpServerClient *client, const char *command,
                                     JsonObject *arguments, gpointer user_data);

G_END_DECLS
