/* vmlock-sanlock-cleanup: removes the disk lease files that no guest on any host uses. */
#define G_LOG_DOMAIN "vmlock-cleanup"

#include "config-build.h"

#include <json-glib/json-glib.h>

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <vmlock/error.h>
#include <vmlock/lock-manager.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_trust.h"

#include "drivers/sanlock/cleanup/cleanup_entry.h"
#include "drivers/sanlock/cleanup/cleanup_lease.h"
#include "drivers/sanlock/cleanup/cleanup_lockspace.h"
#include "drivers/sanlock/cleanup/cleanup_pool.h"
#include "drivers/sanlock/cleanup/cleanup_report.h"
#include "drivers/sanlock/cleanup/cleanup_scan.h"

#define EXIT_OK 0
#define EXIT_SOME_FAILED 1      /* some files failed, or the run was cut short */
#define EXIT_USAGE 2
#define EXIT_NOT_RUN 3          /* nothing done: config, daemon or lockspace */

#define CONF_NAME "qemu-sanlock.conf"
/* A run shorter than this shows no progress line. */
#define PROGRESS_DELAY_US (G_USEC_PER_SEC / 2)

static volatile gint stop_requested;

typedef struct {
        gint64 start;
        gboolean shown;
} Progress;

static void
on_signal(int sig)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };

        g_atomic_int_set(&stop_requested, 1);
        /* a second one ends us at once; the daemon drops our leases */
        sigaction(sig, &dfl, NULL);
}

static void
catch_signals(void)
{
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

static void
show_progress(guint done, guint total, gpointer user_data)
{
        Progress *progress = user_data;
        g_autofree char *line = NULL;

        if (g_get_monotonic_time() - progress->start < PROGRESS_DELAY_US)
                return;
        line = cleanup_report_progress(done, total);
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
        progress->shown = TRUE;
}

static int
fatal(const char *what, GError *error)
{
        g_printerr("%s: %s%s\n", g_get_prgname(), what ? what : "", error->message);
        g_error_free(error);
        return EXIT_NOT_RUN;
}

/* Leftovers and abandoned temporary files need no lease. */
static void
remove_stray_files(GPtrArray *entries, const char *dir, gboolean dry_run)
{
        for (guint i = 0; i < entries->len; i++) {
                CleanupEntry *entry = g_ptr_array_index(entries, i);

                if (g_atomic_int_get(&stop_requested))
                        return;
                if (entry->kind == CLEANUP_KIND_LEFTOVER || entry->kind == CLEANUP_KIND_ABANDONED)
                        cleanup_file_remove(dir, entry, dry_run);
        }
}

/* --json: the summary as one object (fields in vmlock-sanlock-cleanup(8)). */
static void
print_json_summary(const char *dir, const CleanupCounts *counts, gboolean dry_run,
                   double seconds, gboolean complete)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        const struct {
                const char *name;
                guint value;
        } fields[] = {
                { "deleted", counts->deleted }, { "kept", counts->kept },
                { "gone", counts->gone },       { "skipped", counts->skipped },
                { "failed", counts->failed },   { "pending", counts->pending },
        };

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "lease_dir");
        json_builder_add_string_value(builder, dir);
        json_builder_set_member_name(builder, "dry_run");
        json_builder_add_boolean_value(builder, dry_run);
        for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
                json_builder_set_member_name(builder, fields[i].name);
                json_builder_add_int_value(builder, fields[i].value);
        }
        json_builder_set_member_name(builder, "complete");
        json_builder_add_boolean_value(builder, complete);
        json_builder_set_member_name(builder, "seconds");
        json_builder_add_double_value(builder, seconds);
        json_builder_end_object(builder);
        root = json_builder_get_root(builder);
        json_generator_set_root(generator, root);
        json_generator_set_pretty(generator, TRUE);
        text = json_generator_to_data(generator, NULL);
        printf("%s\n", text);
}

int
main(int argc, char **argv)
{
        g_autofree char *config_dir_option = NULL;
        g_autofree char *config_path = NULL;
        g_autofree char *summary = NULL;
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;
        g_autoptr(GPtrArray) entries = NULL;
        g_autoptr(GError) pool_error = NULL;
        GError *error = NULL;
        gboolean dry_run = FALSE, quiet = FALSE, verbose = FALSE, version = FALSE;
        gboolean json = FALSE;
        gboolean remove_damaged = FALSE;
        double seconds;
        gint jobs = CLEANUP_POOL_DEFAULT_JOBS;
        Progress progress = { 0 };
        CleanupLeaseOptions lease_options = { 0 };
        CleanupCounts counts;
        gint64 start;
        GOptionEntry options[] = {
                { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_dir_option,
                  "Read qemu-sanlock.conf from DIR (default: $VMLOCK_CONFIG_DIR, else "
                  VMLOCK_CONFIG_DIR ")", "DIR" },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Only list the lease files that would be deleted", NULL },
                { "remove-damaged", 0, 0, G_OPTION_ARG_NONE, &remove_damaged,
                  "Also remove damaged lease files (empty, truncated, zeroed) that no host "
                  "can hold: older than an hour, no other host alive in the lockspace",
                  NULL },
                { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
                  "Print only failures", NULL },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
                  "Say what became of every file", NULL },
                { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
                  "Examine N leases at once (default: 8)", "N" },
                { "json", 0, 0, G_OPTION_ARG_NONE, &json,
                  "Print only the summary, as JSON, on stdout (failures still on stderr)",
                  NULL },
                { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
                  "Print the version and exit", NULL },
                { NULL },
        };

        setlocale(LC_ALL, "");
        g_set_prgname("vmlock-sanlock-cleanup");

        context = g_option_context_new("- remove unused disk lease files");
        g_option_context_add_main_entries(context, options, NULL);
        g_option_context_set_summary(context,
                "Removes the automatic disk lease files in disk_lease_dir (read from\n"
                "qemu-sanlock.conf) that no guest on any host uses: a lease is unused when\n"
                "this host can take it exclusively, and its file is removed while it is\n"
                "held. Only files named like a disk lease (32 lowercase hex digits) are\n"
                "considered; the lockspace and anything else are left alone, and listed.\n"
                "Run it on a host that has joined the lockspace (where guests with\n"
                "automatic disk leases run), with the sanlock daemon running.");
        g_option_context_set_description(context,
                "Exit status:\n"
                "  0  every lease file was examined; the unused ones were deleted\n"
                "  1  some files could not be examined or deleted (see the 'failed' lines:\n"
                "     damaged lease files among them), or the run was interrupted\n"
                "  2  wrong usage\n"
                "  3  nothing was done: unreadable configuration or lease directory, no\n"
                "     sanlock daemon, or this host is not in the lockspace\n");
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                g_printerr("%s: %s (try --help)\n", g_get_prgname(), error->message);
                g_error_free(error);
                return EXIT_USAGE;
        }
        if (version) {
                printf("%s %s\n", g_get_prgname(), VMLOCK_VERSION);
                return EXIT_OK;
        }
        if (argc > 1) {
                g_printerr("%s: unexpected argument '%s' (try --help)\n", g_get_prgname(),
                           argv[1]);
                return EXIT_USAGE;
        }
        if (jobs < 1 || jobs > CLEANUP_POOL_MAX_JOBS) {
                g_printerr("%s: --jobs must be 1 to %d (try --help)\n", g_get_prgname(),
                           CLEANUP_POOL_MAX_JOBS);
                return EXIT_USAGE;
        }
        if (json && verbose) {
                g_printerr("%s: --json and --verbose exclude each other (try --help)\n",
                           g_get_prgname());
                return EXIT_USAGE;
        }
        if (quiet || json)
                verbose = FALSE;

        config_path = g_build_filename(vmlock_resolve_config_dir(config_dir_option), CONF_NAME, NULL);
        config = vmlock_sanlock_config_load(config_path, &error);
        if (!config)
                return fatal(NULL, error);
        /* root deletes files there: the driver's rules on who may write it */
        if (!vmlock_sanlock_trust_lease_dir(config, &error) ||
            !cleanup_lockspace_check(config->disk_lease_dir, &error))
                return fatal(NULL, error);

        catch_signals();
        start = g_get_monotonic_time();
        entries = cleanup_scan(config->disk_lease_dir, g_get_real_time() / G_USEC_PER_SEC,
                               &error);
        if (!entries)
                return fatal(NULL, error);

        remove_stray_files(entries, config->disk_lease_dir, dry_run);
        progress.start = start;
        lease_options.dir = config->disk_lease_dir;
        lease_options.dry_run = dry_run;
        lease_options.remove_damaged = remove_damaged;
        lease_options.host_id = config->host_id;
        lease_options.now = g_get_real_time() / G_USEC_PER_SEC;
        /* kept leases are listed with --verbose only */
        lease_options.describe_holders = verbose;
        if (!cleanup_pool_run(entries, &lease_options, (guint)jobs,
                              &stop_requested,
                              !quiet && !json && isatty(STDERR_FILENO) ? show_progress : NULL,
                              &progress, &pool_error))
                g_debug("stopped: %s", pool_error->message);
        if (progress.shown)
                fputs("\r\033[K", stderr);

        /* with --json, stdout is the JSON alone */
        cleanup_report_entries(entries, dry_run, verbose, quiet || json, stdout, stderr);
        cleanup_report_count(entries, &counts);
        seconds = (g_get_monotonic_time() - start) / (double)G_USEC_PER_SEC;
        summary = cleanup_report_summary(config->disk_lease_dir, &counts, dry_run, seconds);
        if (json)
                print_json_summary(config->disk_lease_dir, &counts, dry_run, seconds,
                                   !pool_error && !counts.pending);
        else if (!quiet)
                printf("%s\n", summary);
        fflush(stdout);

        if (pool_error) {
                g_printerr("%s: stopped early: %s\n", g_get_prgname(), pool_error->message);
                return counts.deleted || counts.kept || counts.gone ? EXIT_SOME_FAILED
                                                                     : EXIT_NOT_RUN;
        }
        if (counts.pending) {
                g_printerr("%s: interrupted; %u lease files not examined\n", g_get_prgname(),
                           counts.pending);
                return EXIT_SOME_FAILED;
        }
        return counts.failed ? EXIT_SOME_FAILED : EXIT_OK;
}
