/* vmlock: QEMU live migration over its monitor, the QMP side.
 *
 * The leases are the supervisor's business: the source releases them once
 * QEMU's MIGRATION event (qemu_event.h) says completed (its CPUs stopped, its images
 * inactivated and flushed), the destination takes them with the source's
 * state before its CPUs run.
 */
#pragma once

#include "qemu/qemu_monitor.h"

G_BEGIN_DECLS

/* QEMU's MigrationStatus, from query-migrate and the MIGRATION event. */
typedef enum {
        MIGRATION_STATUS_UNKNOWN, /* a word this vmlock does not know: never final */
        MIGRATION_STATUS_NONE,
        MIGRATION_STATUS_SETUP,
        MIGRATION_STATUS_CANCELLING,
        MIGRATION_STATUS_CANCELLED,
        MIGRATION_STATUS_ACTIVE,
        MIGRATION_STATUS_POSTCOPY_ACTIVE,
        MIGRATION_STATUS_POSTCOPY_PAUSED,
        MIGRATION_STATUS_POSTCOPY_RECOVER,
        MIGRATION_STATUS_COMPLETED,
        MIGRATION_STATUS_FAILED,
        MIGRATION_STATUS_COLO,
        MIGRATION_STATUS_PRE_SWITCHOVER,
        MIGRATION_STATUS_DEVICE,
        MIGRATION_STATUS_WAIT_UNPLUG,
} MigrationStatus;

/* QEMU's word (NULL: UNKNOWN), and back ("unknown" for UNKNOWN). */
MigrationStatus migration_status_from_string(const char *text);
const char *migration_status_to_string(MigrationStatus status);
/* completed, failed or cancelled: nothing more will happen. */
gboolean migration_status_is_final(MigrationStatus status);

typedef struct {
        MigrationStatus status;
        char *status_text;  /* QEMU's own word, for the user */
        char *error;        /* why it failed, when QEMU says */
        guint64 transferred; /* RAM bytes */
        guint64 total;
        guint64 remaining;
} MigrationProgress;

void migration_progress_clear(MigrationProgress *progress);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(MigrationProgress, migration_progress_clear)

/* The destination, started with -incoming defer: sets late-block-activate
 * where QEMU has it (*ret_late_block_activate says), then migrate-incoming. */
gboolean migration_incoming(QemuMonitor *monitor, const char *uri,
                            gboolean *ret_late_block_activate, GError **error);
/* The source: QMP migrate to @uri, with QEMU's MIGRATION events on. */
void migration_start_async(QemuMonitor *monitor, const char *uri, QemuDoneFunc done,
                           gpointer user_data);
/* The source: QMP migrate_cancel. QEMU answers at once; its MIGRATION
 * event says cancelled (or completed, when it was too late) once it is. */
void migration_cancel_async(QemuMonitor *monitor, QemuDoneFunc done, gpointer user_data);
/* QMP query-migrate: @progress is NULL with @error. */
typedef void (*MigrationProgressFunc)(const MigrationProgress *progress, const GError *error,
                                      gpointer user_data);
void migration_query_async(QemuMonitor *monitor, MigrationProgressFunc func,
                           gpointer user_data);
/* query-migrate's answer. */
void migration_progress_parse(JsonNode *ret, MigrationProgress *ret_progress);

G_END_DECLS
