/* vmlock-sanlock-cleanup: what the run did, in lines a person reads. */
#pragma once

#include <stdio.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        guint deleted;
        guint kept;
        guint gone;
        guint skipped;
        guint failed;
        guint pending;          /* not reached: interrupted or stopped */
} CleanupCounts;

void cleanup_report_count(GPtrArray *entries, CleanupCounts *ret_counts);

/* One line per entry worth showing: on @out "skipped NAME: REASON" (unless
 * @quiet), "deleted NAME" / "would delete NAME" (with @verbose or @dry_run),
 * "kept NAME: REASON" and "gone NAME: REASON" (with @verbose); on @err
 * "failed NAME: REASON", always. */
void cleanup_report_entries(GPtrArray *entries, gboolean dry_run, gboolean verbose,
                            gboolean quiet, FILE *out, FILE *err);

/* "DIR: 3 deleted, 1 kept (in use), 0 gone meanwhile, 2 skipped, 0 failed
 * (0.01 s)"; with @dry_run, "3 to delete (dry run)". */
char *cleanup_report_summary(const char *dir, const CleanupCounts *counts, gboolean dry_run,
                             double seconds);

/* "examined 120 of 2000 lease files" */
char *cleanup_report_progress(guint done, guint total);

G_END_DECLS
