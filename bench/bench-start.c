/* vmlock bench: `vmlock start` of a one-disk guest against `sanlock client command` on the same lease.
 *
 * Runs under tests/sanlock/harness.sh, as host 1. Both sides are whole
 * processes, as a user runs them:
 *   vmlock start DOMAIN.xml -- PROGRAM
 *   sanlock client command -r __LIBVIRT__DISKS__:MD5:LEASE_DIR/MD5:0 -c PROGRAM
 * each taking the disk's automatic lease, running PROGRAM under it and
 * ending once it exits. PROGRAM is bench-exec-stamp, which writes when it was
 * executed: each run gives the time until exec (what a guest waits for) and
 * the whole run (the lease's release and the supervisor's exit included).
 * Rounds alternate which side goes first; a run refused because the daemon
 * has not yet seen the previous holder exit is retried, uncounted. Prints the
 * medians and their ratios against the targets. Exits 0 whatever the figures
 * (a measurement, not a test); 1 on errors.
 *
 *   bench-start [--rounds N]
 */
#define G_LOG_DOMAIN "vmlock-bench"
#define _GNU_SOURCE

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sanlock-test-util.h"

#define DEFAULT_ROUNDS 31
#define TARGET_EXEC_RATIO 1.25
#define TARGET_WHOLE_RATIO 1.15
#define MAX_RETRIES 200

extern char **environ;

typedef struct {
        GArray *exec_us;        /* from spawn until PROGRAM was executed */
        GArray *whole_us;       /* from spawn until the command exited */
} Samples;

/* Runs @argv with @envp, PROGRAM writing its exec time to @stamp. Appends
 * the times to @samples and returns TRUE when it exited 0; else returns FALSE
 * with its wait status in *ret_status. */
static gboolean
run_timed(char *const *argv, char *const *envp, const char *stamp, Samples *samples,
          int *ret_status)
{
        posix_spawn_file_actions_t actions;
        g_autofree char *text = NULL;
        gint64 start, end, exec_at, us;
        int status = 0;
        pid_t pid;

        if (unlink(stamp) < 0 && errno != ENOENT)
                g_error("cannot remove %s: %s", stamp, g_strerror(errno));
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        start = g_get_monotonic_time();
        if (posix_spawn(&pid, argv[0], &actions, NULL, argv, envp) != 0)
                g_error("cannot run %s", argv[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        end = g_get_monotonic_time();
        posix_spawn_file_actions_destroy(&actions);
        *ret_status = status;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return FALSE;
        if (!g_file_get_contents(stamp, &text, NULL, NULL))
                g_error("%s exited 0 but never ran PROGRAM (no %s)", argv[0], stamp);
        exec_at = g_ascii_strtoll(text, NULL, 10);
        if (exec_at < start || exec_at > end)
                g_error("%s: %s is not within the run", stamp, text);
        us = exec_at - start;
        g_array_append_val(samples->exec_us, us);
        us = end - start;
        g_array_append_val(samples->whole_us, us);
        return TRUE;
}

/* One counted run: retried while the lease is still busy from the last. */
static void
run_counted(char *const *argv, char *const *envp, const char *stamp, Samples *samples,
            guint *retries)
{
        for (int i = 0; i < MAX_RETRIES; i++) {
                int status;

                if (run_timed(argv, envp, stamp, samples, &status))
                        return;
                (*retries)++;
        }
        g_error("%s kept failing: is the harness up?", argv[0]);
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

static double
median_ms(GArray *samples)
{
        g_array_sort(samples, compare_gint64);
        return g_array_index(samples, gint64, samples->len / 2) / 1000.0;
}

static Samples
samples_new(void)
{
        Samples s = { g_array_new(FALSE, FALSE, sizeof(gint64)),
                      g_array_new(FALSE, FALSE, sizeof(gint64)) };

        return s;
}

static void
samples_clear(Samples *s)
{
        g_array_unref(s->exec_us);
        g_array_unref(s->whole_us);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Samples, samples_clear)

static void
print_ratio(const char *what, double vmlock_ms, double sanlock_ms, double target)
{
        double ratio = vmlock_ms / sanlock_ms;

        printf("  %-12s  vmlock %7.2f ms  sanlock %7.2f ms  ratio %5.3f "
               "(target <= %.2f: %s)\n", what, vmlock_ms, sanlock_ms, ratio, target,
               ratio <= target ? "met" : "NOT met");
}

int
main(int argc, char **argv)
{
        const char *env_file = g_getenv(SANLOCK_TEST_ENV_VAR);
        const SanlockTestHarness *h;
        const SanlockTestHost *host;
        g_autofree char *work = NULL;
        g_autofree char *disk = NULL;
        g_autofree char *xml_path = NULL;
        g_autofree char *xml = NULL;
        g_autofree char *md5 = NULL;
        g_autofree char *resource = NULL;
        g_autofree char *state_dir = NULL;
        g_autofree char *stamp = NULL;
        g_auto(GStrv) envp = NULL;
        g_auto(Samples) vmlock = samples_new();
        g_auto(Samples) sanlock = samples_new();
        g_auto(Samples) warm_up = samples_new();
        guint rounds = DEFAULT_ROUNDS;
        guint retries = 0;

        if (argc == 3 && g_str_equal(argv[1], "--rounds"))
                rounds = (guint)atoi(argv[2]);
        if (!env_file || rounds == 0) {
                g_printerr("usage: run under tests/sanlock/harness.sh run WORKDIR -- "
                           "bench-start [--rounds N]\n");
                return 1;
        }
        h = sanlock_test_harness_load(env_file);
        host = &h->hosts[0];
        work = g_strdup_printf("%s/bench-start-%d", h->work_dir, (int)getpid());
        g_assert_cmpint(g_mkdir_with_parents(work, 0700), ==, 0);
        disk = g_build_filename(work, "disk.img", NULL);
        stamp = g_build_filename(work, "exec-stamp", NULL);
        /* the supervisor's control socket goes there: a short path */
        state_dir = g_strdup_printf("%s/bench-start-%d", h->short_scratch_dir, (int)getpid());
        xml = g_strdup_printf("<domain type='kvm'><name>bench-start</name><devices>"
                              "<disk type='file' device='disk'><source file='%s'/>"
                              "<target dev='vda'/></disk></devices></domain>\n",
                              disk);
        xml_path = g_build_filename(work, "bench.xml", NULL);
        g_assert_true(g_file_set_contents(xml_path, xml, -1, NULL));
        md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk, -1);
        resource = g_strdup_printf("%s:%s:%s/%s:0", h->disk_lockspace, md5, h->lease_dir, md5);

        envp = sanlock_test_host_environ(host);
        envp = g_environ_setenv(envp, "VMLOCK_STATE_DIR", state_dir, TRUE);
        envp = g_environ_setenv(envp, "VMLOCK_PLUGIN_DIR", BENCH_PLUGIN_DIR, TRUE);
        envp = g_environ_unsetenv(envp, "LD_PRELOAD");
        {
                char *vmlock_argv[] = { (char *)BENCH_VMLOCK, "start", xml_path, "--",
                                        (char *)BENCH_EXEC_STAMP, stamp, NULL };
                char *sanlock_argv[] = { h->sanlock_bin, "client", "command", "-r", resource,
                                         "-c", (char *)BENCH_EXEC_STAMP, stamp, NULL };
                int status;

                /* Warm-up: creates the lease file, fills the page cache. */
                if (!run_timed(vmlock_argv, envp, stamp, &warm_up, &status))
                        g_error("vmlock start failed (wait status 0x%x): run it by hand to see "
                                "why", status);
                run_counted(sanlock_argv, envp, stamp, &warm_up, &retries);
                retries = 0;
                for (guint i = 0; i < rounds; i++) {
                        if (i % 2) {
                                run_counted(vmlock_argv, envp, stamp, &vmlock, &retries);
                                run_counted(sanlock_argv, envp, stamp, &sanlock, &retries);
                        } else {
                                run_counted(sanlock_argv, envp, stamp, &sanlock, &retries);
                                run_counted(vmlock_argv, envp, stamp, &vmlock, &retries);
                        }
                }
        }
        printf("vmlock start DOMAIN.xml -- PROGRAM vs sanlock client command -r RES -c "
               "PROGRAM, one disk, %u rounds (%u busy retries, uncounted), medians:\n",
               rounds, retries);
        print_ratio("until exec", median_ms(vmlock.exec_us), median_ms(sanlock.exec_us),
                    TARGET_EXEC_RATIO);
        print_ratio("whole run", median_ms(vmlock.whole_us), median_ms(sanlock.whole_us),
                    TARGET_WHOLE_RATIO);
        return 0;
}
