/* vmlock-sanlock-cleanup: what the run did, in lines a person reads. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include "cleanup_entry.h"
#include "cleanup_report.h"

void
cleanup_report_count(GPtrArray *entries, CleanupCounts *ret_counts)
{
        CleanupCounts counts = { 0 };

        for (guint i = 0; i < entries->len; i++) {
                const CleanupEntry *entry = g_ptr_array_index(entries, i);

                switch (entry->outcome) {
                case CLEANUP_OUTCOME_PENDING:
                        counts.pending++;
                        break;
                case CLEANUP_OUTCOME_DELETED:
                        counts.deleted++;
                        break;
                case CLEANUP_OUTCOME_KEPT:
                        counts.kept++;
                        break;
                case CLEANUP_OUTCOME_GONE:
                        counts.gone++;
                        break;
                case CLEANUP_OUTCOME_SKIPPED:
                        counts.skipped++;
                        break;
                case CLEANUP_OUTCOME_FAILED:
                        counts.failed++;
                        break;
                }
        }
        *ret_counts = counts;
}

/* Why a file that is no lease was removed. */
static const char *
deleted_note(const CleanupEntry *entry)
{
        switch (entry->kind) {
        case CLEANUP_KIND_LEFTOVER:
                return "left over by an interrupted cleanup";
        case CLEANUP_KIND_ABANDONED:
                return "temporary file of a lease creation that never finished";
        case CLEANUP_KIND_LEASE:
        case CLEANUP_KIND_OTHER:
                break;
        }
        return NULL;
}

static void
print_line(FILE *stream, const char *what, const CleanupEntry *entry, const char *reason)
{
        if (reason)
                fprintf(stream, "%s %s: %s\n", what, entry->name, reason);
        else
                fprintf(stream, "%s %s\n", what, entry->name);
}

void
cleanup_report_entries(GPtrArray *entries, gboolean dry_run, gboolean verbose, gboolean quiet,
                       FILE *out, FILE *err)
{
        for (guint i = 0; i < entries->len; i++) {
                const CleanupEntry *entry = g_ptr_array_index(entries, i);

                switch (entry->outcome) {
                case CLEANUP_OUTCOME_FAILED:
                        print_line(err, "failed", entry, entry->reason);
                        break;
                case CLEANUP_OUTCOME_DELETED:
                        /* a damaged file's removal is always worth a line */
                        if (!quiet && (verbose || dry_run || entry->reason))
                                print_line(out, dry_run ? "would delete" : "deleted", entry,
                                           entry->reason ? entry->reason
                                                         : deleted_note(entry));
                        break;
                case CLEANUP_OUTCOME_SKIPPED:
                        if (!quiet)
                                print_line(out, "skipped", entry, entry->reason);
                        break;
                case CLEANUP_OUTCOME_KEPT:
                        if (!quiet && verbose)
                                print_line(out, "kept", entry, entry->reason);
                        break;
                case CLEANUP_OUTCOME_GONE:
                        if (!quiet && verbose)
                                print_line(out, "gone", entry, entry->reason);
                        break;
                case CLEANUP_OUTCOME_PENDING:
                        break;
                }
        }
}

char *
cleanup_report_summary(const char *dir, const CleanupCounts *counts, gboolean dry_run,
                       double seconds)
{
        GString *out = g_string_new(NULL);

        g_string_append_printf(out, "%s: %u %s, %u kept (in use), %u gone meanwhile, "
                               "%u skipped, %u failed", dir, counts->deleted,
                               dry_run ? "to delete (dry run)" : "deleted", counts->kept,
                               counts->gone, counts->skipped, counts->failed);
        if (counts->pending)
                g_string_append_printf(out, ", %u not examined", counts->pending);
        g_string_append_printf(out, " (%.2f s)", seconds);
        return g_string_free(out, FALSE);
}

char *
cleanup_report_progress(guint done, guint total)
{
        return g_strdup_printf("examined %u of %u lease files", done, total);
}
