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

typedef struct {
        char *status;       /* QEMU's: setup, active, completed, failed, cancelled... */
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
gboolean migration_start(QemuMonitor *monitor, const char *uri, GError **error);
/* The source: QMP migrate_cancel. QEMU answers at once; its MIGRATION
 * event says cancelled (or completed, when it was too late) once it is. */
gboolean migration_cancel(QemuMonitor *monitor, GError **error);
gboolean migration_query(QemuMonitor *monitor, MigrationProgress *ret_progress, GError **error);
/* completed, failed or cancelled: nothing more will happen. */
gboolean migration_status_is_final(const char *status);

G_END_DECLS
