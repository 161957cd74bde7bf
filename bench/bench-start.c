/* vmlock bench: `vmlock start` of a one-disk guest against `sanlock client command` on the same lease.
 *
 * Runs under tests/sanlock/harness.sh, as host 1. Both sides are whole
 * processes, as a user runs them:
 *   vmlock start DOMAIN.xml -- /bin/true
 *   sanlock client command -r __LIBVIRT__DISKS__:MD5:LEASE_DIR/MD5:0 -c /bin/true
 * each taking the disk's automatic lease, running /bin/true under it and
 * ending once it exits. Rounds alternate which side goes first; a run
 * refused because the daemon has not yet seen the previous holder exit is
 * retried, uncounted. Prints the medians and their ratio against the
 * target. Exits 0 whatever the figures (a measurement, not a test); 1 on
 * errors.
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
#define TARGET_RATIO 1.15
#define MAX_RETRIES 200

extern char **environ;

/* Runs @argv with @envp; returns the wall time in us, or -1 when it failed
 * (its exit status in *ret_status). */
static gint64
run_timed(char *const *argv, char *const *envp, int *ret_status)
{
        gint64 start = g_get_monotonic_time();
        posix_spawn_file_actions_t actions;
        int status = 0;
        pid_t pid;

        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid, argv[0], &actions, NULL, argv, envp) != 0)
                g_error("cannot run %s", argv[0]);
        posix_spawn_file_actions_destroy(&actions);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        *ret_status = status;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -1;
        return g_get_monotonic_time() - start;
}

/* One counted run: retried while the lease is still busy from the last. */
static gint64
run_counted(char *const *argv, char *const *envp, guint *retries)
{
        for (int i = 0; i < MAX_RETRIES; i++) {
                int status;
                gint64 us = run_timed(argv, envp, &status);

                if (us >= 0)
                        return us;
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
        g_auto(GStrv) envp = NULL;
        g_autoptr(GArray) vmlock_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GArray) sanlock_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        guint rounds = DEFAULT_ROUNDS;
        guint retries = 0;
        double vmlock_ms, sanlock_ms;

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
        state_dir = g_build_filename(work, "state", NULL);
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
                                        (char *)"/bin/true", NULL };
                char *sanlock_argv[] = { h->sanlock_bin, "client", "command", "-r", resource,
                                         "-c", (char *)"/bin/true", NULL };
                int status;

                /* Warm-up: creates the lease file, fills the page cache. */
                if (run_timed(vmlock_argv, envp, &status) < 0)
                        g_error("vmlock start failed (wait status 0x%x): run it by hand to see "
                                "why", status);
                run_counted(sanlock_argv, envp, &retries);
                retries = 0;
                for (guint i = 0; i < rounds; i++) {
                        gint64 a, b;

                        if (i % 2) {
                                a = run_counted(vmlock_argv, envp, &retries);
                                b = run_counted(sanlock_argv, envp, &retries);
                        } else {
                                b = run_counted(sanlock_argv, envp, &retries);
                                a = run_counted(vmlock_argv, envp, &retries);
                        }
                        g_array_append_val(vmlock_us, a);
                        g_array_append_val(sanlock_us, b);
                }
        }
        vmlock_ms = median_ms(vmlock_us);
        sanlock_ms = median_ms(sanlock_us);
        printf("vmlock start DOMAIN.xml -- /bin/true vs sanlock client command -r RES -c "
               "/bin/true, one disk, %u rounds (%u busy retries, uncounted)\n",
               rounds, retries);
        printf("  vmlock start        %7.2f ms (median)\n", vmlock_ms);
        printf("  sanlock client      %7.2f ms (median)\n", sanlock_ms);
        printf("  ratio               %7.3f (target <= %.2f: %s)\n", vmlock_ms / sanlock_ms,
               TARGET_RATIO, vmlock_ms / sanlock_ms <= TARGET_RATIO ? "met" : "NOT met");
        return 0;
}
