/* vmlock bench: vmlock-sanlock-cleanup against libvirt's way, on the same fresh lease files.
 *
 * Runs under tests/sanlock/harness.sh (two joined sanlock daemons), acting
 * as host 1. Each round creates N fresh, initialised lease files and removes
 * them with vmlock-sanlock-cleanup, then creates N fresh ones again and
 * removes them the way libvirt's virt-sanlock-cleanup does: a shell loop
 * running, for each file,
 *   sanlock client command -r __LIBVIRT__DISKS__:NAME:PATH:0 -c /bin/rm -f PATH
 * Prints both times and the ratio. See bench/meson.build for how to run it. */
#define G_LOG_DOMAIN "vmlock-bench"

#include "config-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "drivers/sanlock/sanlock_lease.h"
#include "sanlock-test-util.h"

#define DEFAULT_FILES 2000
#define CREATE_THREADS 8


typedef struct {
        const VmlockSanlockConfig *config;
        GPtrArray *disks;       /* disk paths whose leases to create */
        gint next;
        GMutex lock;
        GError *error;
} CreateJob;

static gpointer
create_worker(gpointer data)
{
        CreateJob *job = data;

        for (;;) {
                gint i = g_atomic_int_add(&job->next, 1);
                g_autoptr(VmlockSanlockLease) lease = NULL;
                GError *error = NULL;

                if (i >= (gint)job->disks->len)
                        break;
                lease = vmlock_sanlock_disk_lease_new(job->config,
                                                      g_ptr_array_index(job->disks, i), FALSE,
                                                      &error);
                if (!lease || !vmlock_sanlock_disk_lease_ensure(job->config, lease, &error)) {
                        g_mutex_lock(&job->lock);
                        if (!job->error)
                                job->error = error;
                        else
                                g_error_free(error);
                        g_mutex_unlock(&job->lock);
                        break;
                }
        }
        return NULL;
}

/* Creates and initialises the lease files of @n new disk paths, as a guest
 * start would; returns their file names. */
static GPtrArray *
create_leases(const VmlockSanlockConfig *config, guint round, const char *pass, guint n,
              GError **error)
{
        g_autoptr(GPtrArray) disks = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GThread *threads[CREATE_THREADS];
        CreateJob job = { .config = config };

        for (guint i = 0; i < n; i++) {
                char *disk = g_strdup_printf("/bench/%u/%s/disk-%u.img", round, pass, i);

                g_ptr_array_add(disks, disk);
                g_ptr_array_add(names, vmlock_sanlock_disk_lease_name(disk));
        }
        job.disks = disks;
        g_mutex_init(&job.lock);
        for (guint i = 0; i < CREATE_THREADS; i++)
                threads[i] = g_thread_new("create", create_worker, &job);
        for (guint i = 0; i < CREATE_THREADS; i++)
                g_thread_join(threads[i]);
        g_mutex_clear(&job.lock);
        if (job.error) {
                g_propagate_error(error, job.error);
                return NULL;
        }
        return g_steal_pointer(&names);
}

static guint
count_present(const char *dir, GPtrArray *names)
{
        guint n = 0;

        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);

                if (g_file_test(path, G_FILE_TEST_EXISTS))
                        n++;
        }
        return n;
}

static gboolean
run(const char *const *argv, double *ret_seconds, GError **error)
{
        g_autofree char *err_text = NULL;
        gint64 start = g_get_monotonic_time();
        int status;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                          NULL, &err_text, &status, error))
                return FALSE;
        *ret_seconds = (g_get_monotonic_time() - start) / (double)G_USEC_PER_SEC;
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, "%s: %s", argv[0], err_text ? err_text : "");
                return FALSE;
        }
        return TRUE;
}

static gboolean
run_tool(const SanlockTestHarness *h, const char *tool, int jobs, double *ret_seconds,
         GError **error)
{
        g_autofree char *jobs_arg = g_strdup_printf("--jobs=%d", jobs);
        const char *argv[] = { tool, "--quiet", "--config", h->hosts[0].config_dir,
                               jobs > 0 ? jobs_arg : NULL, NULL };

        return run(argv, ret_seconds, error);
}

/* libvirt's tools/virt-sanlock-cleanup, minus the augtool and glob. */
static gboolean
run_libvirt_loop(const SanlockTestHarness *h, GPtrArray *names, double *ret_seconds,
                 GError **error)
{
        static const char script[] =
                "sanlock=$1 dir=$2; shift 2\n"
                "for f in \"$@\"; do\n"
                "  \"$sanlock\" client command -r \"__LIBVIRT__DISKS__:$f:$dir/$f:0\" "
                "-c /bin/rm -f \"$dir/$f\" > /dev/null 2>&1\n"
                "done\n";
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer)"/bin/sh");
        g_ptr_array_add(argv, (gpointer)"-c");
        g_ptr_array_add(argv, (gpointer)script);
        g_ptr_array_add(argv, (gpointer)"sh");
        g_ptr_array_add(argv, h->sanlock_bin);
        g_ptr_array_add(argv, h->lease_dir);
        for (guint i = 0; i < names->len; i++)
                g_ptr_array_add(argv, g_ptr_array_index(names, i));
        g_ptr_array_add(argv, NULL);
        return run((const char *const *)argv->pdata, ret_seconds, error);
}

static gboolean
bench_round(const SanlockTestHarness *h, const VmlockSanlockConfig *config, const char *tool, int jobs,
            guint round, guint n, double *ret_tool, double *ret_libvirt, GError **error)
{
        g_autoptr(GPtrArray) names = NULL;
        double create_s;
        gint64 start;
        guint left;

        /* alternate the order, so neither always runs on a warmer cache */
        for (guint pass = 0; pass < 2; pass++) {
                gboolean tool_pass = (pass + round) % 2 == 0;

                start = g_get_monotonic_time();
                g_clear_pointer(&names, g_ptr_array_unref);
                names = create_leases(config, round, tool_pass ? "tool" : "libvirt", n, error);
                if (!names)
                        return FALSE;
                create_s = (g_get_monotonic_time() - start) / (double)G_USEC_PER_SEC;
                printf("round %u: created %u lease files in %.2f s\n", round, n, create_s);

                if (tool_pass ? !run_tool(h, tool, jobs, ret_tool, error)
                              : !run_libvirt_loop(h, names, ret_libvirt, error))
                        return FALSE;
                left = count_present(h->lease_dir, names);
                printf("round %u: %-40s %7.2f s  %6.2f ms/file  (%u of %u left)\n", round,
                       tool_pass ? "vmlock-sanlock-cleanup" : "libvirt's loop (sanlock client command)",
                       tool_pass ? *ret_tool : *ret_libvirt,
                       1000.0 * (tool_pass ? *ret_tool : *ret_libvirt) / n, left, n);
                if (left) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "%s left %u of %u unused lease files behind",
                                    tool_pass ? "vmlock-sanlock-cleanup" : "the libvirt loop",
                                    left, n);
                        return FALSE;
                }
                fflush(stdout);
        }
        return TRUE;
}

int
main(int argc, char **argv)
{
        const SanlockTestHarness *h;
        const char *env_file;
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *tool = NULL;
        g_autofree char *config_path = NULL;
        gint files = DEFAULT_FILES, rounds = 1, jobs = 0;
        double min_ratio = 0, tool_total = 0, libvirt_total = 0, ratio;
        GOptionEntry options[] = {
                { "files", 'n', 0, G_OPTION_ARG_INT, &files,
                  "Lease files per run (default: 2000)", "N" },
                { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Rounds (default: 1)", "N" },
                { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
                  "--jobs for the tool (default: its own)", "N" },
                { "tool", 't', 0, G_OPTION_ARG_FILENAME, &tool,
                  "The vmlock-sanlock-cleanup to run (default: the build tree's)", "PATH" },
                { "min-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &min_ratio,
                  "Fail unless the tool is at least this many times faster", "X" },
                { NULL },
        };

        context = g_option_context_new("- time vmlock-sanlock-cleanup against libvirt's loop");
        g_option_context_add_main_entries(context, options, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || files < 1 || rounds < 1) {
                g_printerr("bench-cleanup: %s\n", error ? error->message : "bad --files/--rounds");
                return 2;
        }
        if (!tool)
                tool = g_strdup(BENCH_CLEANUP_TOOL);

        env_file = g_getenv(SANLOCK_TEST_ENV_VAR);
        if (!env_file) {
                g_printerr("bench-cleanup: %s is not set: run this under "
                           "tests/sanlock/harness.sh run WORKDIR -- ...\n", SANLOCK_TEST_ENV_VAR);
                return 2;
        }
        h = sanlock_test_harness_load(env_file);
        /* we act as host 1, like the tool we run */
        g_setenv("SANLOCK_RUN_DIR", h->hosts[0].run_dir, TRUE);
        config_path = g_build_filename(h->hosts[0].config_dir, "qemu-sanlock.conf", NULL);
        config = vmlock_sanlock_config_load(config_path, &error);
        if (!config)
                goto fail;

        printf("%d lease files per run, %d round(s), in %s\n", files, rounds,
               config->disk_lease_dir);
        for (gint round = 0; round < rounds; round++) {
                double tool_s = 0, libvirt_s = 0;

                if (!bench_round(h, config, tool, jobs, (guint)round, (guint)files, &tool_s,
                                 &libvirt_s, &error))
                        goto fail;
                tool_total += tool_s;
                libvirt_total += libvirt_s;
        }

        ratio = libvirt_total / tool_total;
        printf("vmlock-sanlock-cleanup: %.2f ms/file; libvirt's loop: %.2f ms/file; "
               "ratio: %.1fx faster (target: at least 8x)\n",
               1000.0 * tool_total / ((double)files * rounds),
               1000.0 * libvirt_total / ((double)files * rounds), ratio);
        if (min_ratio > 0 && ratio < min_ratio) {
                g_printerr("bench-cleanup: %.1fx is below --min-ratio %.1f\n", ratio, min_ratio);
                return 1;
        }
        return 0;

fail:
        g_printerr("bench-cleanup: %s\n", error->message);
        return 1;
}
