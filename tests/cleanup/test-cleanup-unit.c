/* vmlock tests: vmlock-sanlock-cleanup's directory scan and report, without a daemon. */
#define G_LOG_DOMAIN "vmlock-cleanup-test"

#include "config-build.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/error.h>

#include "drivers/sanlock/cleanup/cleanup_entry.h"
#include "drivers/sanlock/cleanup/cleanup_report.h"
#include "drivers/sanlock/cleanup/cleanup_scan.h"

#define HEX "0123456789abcdef0123456789abcdef"
#define NOW 1700000000

static void
test_classify(void)
{
        static const struct {
                const char *name;
                CleanupName kind;
        } cases[] = {
                { HEX, CLEANUP_NAME_LEASE },
                { "bfa0240911bc17753e0b473688822159", CLEANUP_NAME_LEASE },
                { "__LIBVIRT__DISKS__", CLEANUP_NAME_LOCKSPACE },
                { "." HEX ".vmlock-cleanup", CLEANUP_NAME_LEFTOVER },
                { "." HEX ".aB3dE9", CLEANUP_NAME_TEMP },
                { ".__LIBVIRT__DISKS__.Xy12Zz", CLEANUP_NAME_TEMP },
                /* not quite */
                { "0123456789ABCDEF0123456789ABCDEF", CLEANUP_NAME_OTHER },
                { "0123456789abcdef0123456789abcde", CLEANUP_NAME_OTHER },
                { HEX "0", CLEANUP_NAME_OTHER },
                { "g123456789abcdef0123456789abcdef", CLEANUP_NAME_OTHER },
                { HEX ".img", CLEANUP_NAME_OTHER },
                { "." HEX, CLEANUP_NAME_OTHER },
                { "." HEX ".", CLEANUP_NAME_OTHER },
                { "." HEX ".aB3dE", CLEANUP_NAME_OTHER },
                { "." HEX ".aB3dE9x", CLEANUP_NAME_OTHER },
                { "." HEX ".aB3-E9", CLEANUP_NAME_OTHER },
                { "." HEX ".vmlock-cleanupX", CLEANUP_NAME_OTHER },
                { ".0123.aB3dE9", CLEANUP_NAME_OTHER },
                { "__LIBVIRT__DISKS__.bak", CLEANUP_NAME_OTHER },
                { ".__LIBVIRT__DISKS__.vmlock-cleanup", CLEANUP_NAME_OTHER },
                { "lost+found", CLEANUP_NAME_OTHER },
                { ".", CLEANUP_NAME_OTHER },
                { "", CLEANUP_NAME_OTHER },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_test_message("%s", cases[i].name);
                g_assert_cmpint(cleanup_name_classify(cases[i].name), ==, cases[i].kind);
        }
}

static void
touch(const char *dir, const char *name, gint64 mtime)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        struct timeval times[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

        g_assert_true(g_file_set_contents(path, "", 0, NULL));
        g_assert_cmpint(utimes(path, times), ==, 0);
}

static const CleanupEntry *
find(GPtrArray *entries, const char *name)
{
        for (guint i = 0; i < entries->len; i++) {
                const CleanupEntry *entry = g_ptr_array_index(entries, i);

                if (g_str_equal(entry->name, name))
                        return entry;
        }
        g_error("no entry %s", name);
}

static void
assert_entry(GPtrArray *entries, const char *name, CleanupKind kind, CleanupOutcome outcome,
             const char *reason_part)
{
        const CleanupEntry *entry = find(entries, name);

        g_assert_cmpint(entry->kind, ==, kind);
        g_assert_cmpint(entry->outcome, ==, outcome);
        if (reason_part)
                g_assert_nonnull(strstr(entry->reason, reason_part));
        else
                g_assert_null(entry->reason);
}

static void
test_scan(void)
{
        g_autofree char *dir = g_dir_make_tmp("cleanup-scan-XXXXXX", NULL);
        g_autofree char *sub = g_build_filename(dir, "fedcba9876543210fedcba9876543210", NULL);
        g_autofree char *link = g_build_filename(dir, "00000000000000000000000000000000", NULL);
        g_autoptr(GPtrArray) entries = NULL;
        g_autoptr(GError) error = NULL;
        gint64 young = NOW - 60, old = NOW - CLEANUP_ABANDONED_AGE_SECONDS - 1;

        g_assert_nonnull(dir);
        touch(dir, HEX, old);
        touch(dir, "__LIBVIRT__DISKS__", old);
        touch(dir, "." HEX ".vmlock-cleanup", young);
        touch(dir, "." HEX ".aB3dE9", young);
        touch(dir, "." HEX ".Zz99Yy", old);
        touch(dir, "README", old);
        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        g_assert_cmpint(symlink(HEX, link), ==, 0);

        entries = cleanup_scan(dir, NOW, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(entries->len, ==, 8);
        /* sorted by name */
        for (guint i = 1; i < entries->len; i++)
                g_assert_cmpint(strcmp(((CleanupEntry *)entries->pdata[i - 1])->name,
                                       ((CleanupEntry *)entries->pdata[i])->name), <, 0);

        assert_entry(entries, HEX, CLEANUP_KIND_LEASE, CLEANUP_OUTCOME_PENDING, NULL);
        assert_entry(entries, "__LIBVIRT__DISKS__", CLEANUP_KIND_OTHER, CLEANUP_OUTCOME_SKIPPED,
                     "the lockspace");
        assert_entry(entries, "." HEX ".vmlock-cleanup", CLEANUP_KIND_LEFTOVER,
                     CLEANUP_OUTCOME_PENDING, NULL);
        assert_entry(entries, "." HEX ".aB3dE9", CLEANUP_KIND_OTHER, CLEANUP_OUTCOME_SKIPPED,
                     "being created");
        assert_entry(entries, "." HEX ".Zz99Yy", CLEANUP_KIND_ABANDONED,
                     CLEANUP_OUTCOME_PENDING, NULL);
        assert_entry(entries, "README", CLEANUP_KIND_OTHER, CLEANUP_OUTCOME_SKIPPED,
                     "not named like a disk lease");
        assert_entry(entries, "fedcba9876543210fedcba9876543210", CLEANUP_KIND_OTHER,
                     CLEANUP_OUTCOME_SKIPPED, "not a regular file");
        assert_entry(entries, "00000000000000000000000000000000", CLEANUP_KIND_OTHER,
                     CLEANUP_OUTCOME_SKIPPED, "not a regular file");

        for (guint i = 0; i < entries->len; i++) {
                g_autofree char *path = g_build_filename(dir, ((CleanupEntry *)
                                                               entries->pdata[i])->name, NULL);

                g_assert_cmpint(g_remove(path), ==, 0);
        }
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_scan_missing_dir(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = cleanup_scan("/nonexistent/lease/dir", NOW, &error);

        g_assert_null(entries);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "/nonexistent/lease/dir"));
}

static GPtrArray *
sample_entries(void)
{
        GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)cleanup_entry_free);
        CleanupEntry *entry;

        entry = cleanup_entry_new("a1", CLEANUP_KIND_LEASE);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
        g_ptr_array_add(entries, entry);
        entry = cleanup_entry_new("a2", CLEANUP_KIND_LEASE);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_KEPT, g_strdup("in use by host 2 (b)"));
        g_ptr_array_add(entries, entry);
        entry = cleanup_entry_new("a3", CLEANUP_KIND_LEASE);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_FAILED, g_strdup("cannot lock its lease: x"));
        g_ptr_array_add(entries, entry);
        entry = cleanup_entry_new("a4", CLEANUP_KIND_OTHER);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_SKIPPED, g_strdup("not named like a lease"));
        g_ptr_array_add(entries, entry);
        entry = cleanup_entry_new("a5", CLEANUP_KIND_LEASE);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_GONE, g_strdup("removed meanwhile"));
        g_ptr_array_add(entries, entry);
        entry = cleanup_entry_new(".a6.vmlock-cleanup", CLEANUP_KIND_LEFTOVER);
        cleanup_entry_set(entry, CLEANUP_OUTCOME_DELETED, NULL);
        g_ptr_array_add(entries, entry);
        g_ptr_array_add(entries, cleanup_entry_new("a7", CLEANUP_KIND_LEASE));
        return entries;
}

static char *
report(GPtrArray *entries, gboolean dry_run, gboolean verbose, gboolean quiet, char **ret_err)
{
        char *out_text = NULL, *err_text = NULL;
        size_t out_len = 0, err_len = 0;
        FILE *out = open_memstream(&out_text, &out_len);
        FILE *err = open_memstream(&err_text, &err_len);

        cleanup_report_entries(entries, dry_run, verbose, quiet, out, err);
        fclose(out);
        fclose(err);
        *ret_err = err_text;
        return out_text;
}

static void
test_report(void)
{
        g_autoptr(GPtrArray) entries = sample_entries();
        g_autofree char *out = NULL, *err = NULL;
        g_autofree char *summary = NULL;
        CleanupCounts counts;

        cleanup_report_count(entries, &counts);
        g_assert_cmpuint(counts.deleted, ==, 2);
        g_assert_cmpuint(counts.kept, ==, 1);
        g_assert_cmpuint(counts.failed, ==, 1);
        g_assert_cmpuint(counts.skipped, ==, 1);
        g_assert_cmpuint(counts.gone, ==, 1);
        g_assert_cmpuint(counts.pending, ==, 1);

        out = report(entries, FALSE, FALSE, FALSE, &err);
        g_assert_cmpstr(out, ==, "skipped a4: not named like a lease\n");
        g_assert_cmpstr(err, ==, "failed a3: cannot lock its lease: x\n");
        g_clear_pointer(&out, free);
        g_clear_pointer(&err, free);

        out = report(entries, FALSE, TRUE, FALSE, &err);
        g_assert_cmpstr(out, ==,
                        "deleted a1\n"
                        "kept a2: in use by host 2 (b)\n"
                        "skipped a4: not named like a lease\n"
                        "gone a5: removed meanwhile\n"
                        "deleted .a6.vmlock-cleanup: left over by an interrupted cleanup\n");
        g_clear_pointer(&out, free);
        g_clear_pointer(&err, free);

        out = report(entries, TRUE, FALSE, FALSE, &err);
        g_assert_cmpstr(out, ==,
                        "would delete a1\n"
                        "skipped a4: not named like a lease\n"
                        "would delete .a6.vmlock-cleanup: left over by an interrupted cleanup\n");
        g_clear_pointer(&out, free);
        g_clear_pointer(&err, free);

        /* quiet: failures only */
        out = report(entries, TRUE, TRUE, TRUE, &err);
        g_assert_cmpstr(out, ==, "");
        g_assert_cmpstr(err, ==, "failed a3: cannot lock its lease: x\n");
        g_clear_pointer(&out, free);
        g_clear_pointer(&err, free);

        summary = cleanup_report_summary("/d", &counts, FALSE, 1.234);
        g_assert_cmpstr(summary, ==, "/d: 2 deleted, 1 kept (in use), 1 gone meanwhile, "
                        "1 skipped, 1 failed, 1 not examined (1.23 s)");
        g_free(summary);
        counts.pending = 0;
        summary = cleanup_report_summary("/d", &counts, TRUE, 0);
        g_assert_cmpstr(summary, ==, "/d: 2 to delete (dry run), 1 kept (in use), "
                        "1 gone meanwhile, 1 skipped, 1 failed (0.00 s)");
        g_free(summary);
        summary = cleanup_report_progress(5, 2000);
        g_assert_cmpstr(summary, ==, "examined 5 of 2000 lease files");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cleanup/name/classify", test_classify);
        g_test_add_func("/cleanup/scan/entries", test_scan);
        g_test_add_func("/cleanup/scan/missing-dir", test_scan_missing_dir);
        g_test_add_func("/cleanup/report/lines", test_report);
        return g_test_run();
}
