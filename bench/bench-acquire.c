/* vmlock bench: acquiring a guest's disk leases and creating lease files, the driver against raw libsanlock.
 *
 * Runs under tests/sanlock/harness.sh (two joined sanlock daemons), acting
 * as host 1. Two measurements, each against sanlock's own cost in the same
 * run on the same lease files:
 *
 * 1. Acquire: a guest with 1, 4, 8, 16, 32 automatic disk leases (files
 *    created beforehand). Driver: vmlock_domain_lock_process_start() in the
 *    guest's process, timed from the call to its return. Raw:
 *    sanlock_register() + sanlock_acquire() of the same resources in batches
 *    of 8. Each is a fresh forked child (libsanlock keeps the daemon it first
 *    talked to per process; the parent never calls it) that releases its
 *    leases (untimed) and exits; the next child waits until the daemon has
 *    forgotten the previous one. Driver and raw rounds alternate.
 * 2. Lease file creation: vmlock_sanlock_disk_lease_ensure() (temp file,
 *    sanlock_align, allocate, sanlock_write_resource, link) against open +
 *    ftruncate + sanlock_write_resource of a new file, alternating per file.
 *
 * Prints medians, the ratio and whether the driver adds under 10%. Exits 0
 * whatever the figures (a measurement, not a test); 1 on errors. See
 * bench/meson.build for how to run it. */
#define G_LOG_DOMAIN "vmlock-bench"
#define _GNU_SOURCE /* pipe2, fallocate */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_resource.h>

#include <vmlock/vmlock.h>

#include "drivers/sanlock/sanlock_config.h"
#include "sanlock-test-util.h"
#include "drivers/sanlock/sanlock_lease.h"

#define DEFAULT_ROUNDS 9
#define DEFAULT_FILES 50
#define BATCH_MAX 8
#define TARGET_PERCENT 10.0
#define FORGET_TIMEOUT_US (20 * G_USEC_PER_SEC)

static const guint disk_counts[] = { 1, 4, 8, 16, 32 };
#define MAX_DISKS 32

typedef struct {
        const SanlockTestHost *host; /* host 1, whose part the children play */
        char *plugin_dir;
        VmlockSanlockConfig *config;
        GPtrArray *disks;       /* MAX_DISKS disk paths with lease files */
} Bench;

/* Runs in a forked child acting as host 1; may append its answer to @reply. */
typedef gboolean (*ChildFunc)(const Bench *b, gpointer data, GString *reply, GError **error);

static void
bench_clear(Bench *b)
{
        g_free(b->plugin_dir);
        vmlock_sanlock_config_free(b->config);
        if (b->disks)
                g_ptr_array_unref(b->disks);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Bench, bench_clear)

/* Host 1 of the harness, and its qemu-sanlock.conf. */
static gboolean
bench_load(Bench *b, GError **error)
{
        const char *env_file = g_getenv(SANLOCK_TEST_ENV_VAR);
        g_autofree char *config_path = NULL;

        if (!env_file) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "%s is not set: run this under "
                            "tests/sanlock/harness.sh run WORKDIR -- ...", SANLOCK_TEST_ENV_VAR);
                return FALSE;
        }
        b->host = &sanlock_test_harness_load(env_file)->hosts[0];
        config_path = g_build_filename(b->host->config_dir, "qemu-sanlock.conf", NULL);
        b->config = vmlock_sanlock_config_load(config_path, error);
        if (!b->config)
                return FALSE;
        if (!b->config->auto_disk_leases) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: auto_disk_leases is off; the benchmark needs it", config_path);
                return FALSE;
        }
        return TRUE;
}

/* ---- children ------------------------------------------------------------ */

static void G_GNUC_NORETURN
child_main(const Bench *b, int fd, ChildFunc func, gpointer data)
{
        g_autoptr(GString) reply = g_string_new("+");
        g_autoptr(GError) error = NULL;
        const char *out;
        gsize len;

        /* before any libsanlock call: the daemon this process talks to.
         * Not g_setenv(), which warns once the parent has had threads. */
        if (setenv("SANLOCK_RUN_DIR", b->host->run_dir, 1) < 0 ||
            setenv("VMLOCK_CONFIG_DIR", b->host->config_dir, 1) < 0) {
                dprintf(fd, "-setenv: %s", g_strerror(errno));
                _exit(1);
        }
        if (func(b, data, reply, &error)) {
                out = reply->str;
                len = reply->len;
        } else {
                g_string_printf(reply, "-%s", error->message);
                out = reply->str;
                len = reply->len;
        }
        while (len > 0) {
                ssize_t n = write(fd, out, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(2);
                out += n;
                len -= (gsize)n;
        }
        _exit(error ? 1 : 0);
}

/* Forks a child acting as host 1, runs @func in it and waits for its exit
 * (which closes its sanlock connection, releasing whatever it held). */
static char *
run_child(const Bench *b, ChildFunc func, gpointer data, pid_t *ret_pid, GError **error)
{
        g_autoptr(GString) answer = g_string_new(NULL);
        int fds[2];
        int status = 0;
        pid_t pid;
        char buf[4096];

        if (pipe2(fds, O_CLOEXEC) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "pipe: %s",
                            g_strerror(saved));
                return NULL;
        }
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int saved = errno;

                close(fds[0]);
                close(fds[1]);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "fork: %s",
                            g_strerror(saved));
                return NULL;
        }
        if (pid == 0) {
                close(fds[0]);
                child_main(b, fds[1], func, data);
        }
        close(fds[1]);
        for (;;) {
                ssize_t n = read(fds[0], buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                g_string_append_len(answer, buf, n);
        }
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;

        if (answer->len == 0 || (answer->str[0] != '+' && answer->str[0] != '-')) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "child %d ended without an answer (%s %d)", (int)pid,
                            WIFSIGNALED(status) ? "signal" : "exit status",
                            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                return NULL;
        }
        if (answer->str[0] == '-') {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "%s", answer->str + 1);
                return NULL;
        }
        if (ret_pid)
                *ret_pid = pid;
        return g_strdup(answer->str + 1);
}

/* The daemon forgets a client shortly after its socket closes. */
static gboolean
wait_forgotten(pid_t pid, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + FORGET_TIMEOUT_US;
        int rv;

        if (pid <= 0)
                return TRUE;
        for (;;) {
                int count = 0;

                rv = sanlock_inquire(-1, (int)pid, 0, &count, NULL);
                if (rv == -ESRCH)
                        return TRUE;
                if (g_get_monotonic_time() > deadline)
                        break;
                g_usleep(1000);
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                    "the daemon still knows pid %d after %d s (inquire: %d)", (int)pid,
                    (int)(FORGET_TIMEOUT_US / G_USEC_PER_SEC), rv);
        return FALSE;
}

/* Releases what this process holds, explicitly, before it exits: leases
 * a client leaves behind at exit are released asynchronously, and an
 * acquire while that is under way gets -EAGAIN (the driver would retry,
 * sanlock_acquire would not), skewing the next round. Goes through a new
 * connection: the driver restricted the registered one. */
static gboolean
release_all(GPtrArray *leases, GError **error)
{
        for (guint done = 0; done < leases->len; done += BATCH_MAX) {
                guint n = MIN(BATCH_MAX, leases->len - done);
                struct sanlk_resource *res[BATCH_MAX];
                int rv;

                for (guint i = 0; i < n; i++)
                        res[i] = ((VmlockSanlockLease *)g_ptr_array_index(leases, done + i))->res;
                rv = sanlock_release(-1, (int)getpid(), 0, (int)n, res);
                if (rv < 0) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "sanlock_release of %u leases from %s: %d", n,
                                    res[0]->disks[0].path, rv);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The first @n bench disks' leases, as the driver makes them. */
static GPtrArray *
bench_leases(const Bench *b, guint n, GError **error)
{
        g_autoptr(GPtrArray) leases = NULL;

        leases = g_ptr_array_new_with_free_func((GDestroyNotify)vmlock_sanlock_lease_free);
        for (guint i = 0; i < n; i++) {
                VmlockSanlockLease *lease = NULL;

                lease = vmlock_sanlock_disk_lease_new(b->config,
                                                      g_ptr_array_index(b->disks, i), FALSE,
                                                      error);
                if (!lease)
                        return NULL;
                g_ptr_array_add(leases, lease);
        }
        return g_steal_pointer(&leases);
}

static double
elapsed_ms(gint64 start_ns)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)((gint64)ts.tv_sec * 1000000000 + ts.tv_nsec - start_ns) / 1e6;
}

static gint64
now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- 1. acquire ------------------------------------------------------------ */

typedef struct {
        guint n_disks;
        pid_t previous;         /* the last round's child, to wait for */
} AcquireJob;

static gboolean
create_leases(const Bench *b, gpointer data, GString *reply, GError **error)
{
        for (guint i = 0; i < b->disks->len; i++) {
                g_autoptr(VmlockSanlockLease) lease = NULL;

                lease = vmlock_sanlock_disk_lease_new(b->config, g_ptr_array_index(b->disks, i),
                                                      FALSE, error);
                if (!lease || !vmlock_sanlock_disk_lease_ensure(b->config, lease, error))
                        return FALSE;
        }
        return TRUE;
}

static gboolean
acquire_driver(const Bench *b, gpointer data, GString *reply, GError **error)
{
        const AcquireJob *job = data;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GPtrArray) leases = NULL;
        gint64 start;
        double ms;
        int fd = -1;

        manager = vmlock_lock_manager_new("sanlock", b->plugin_dir, b->host->config_dir, NULL, NULL,
                                          error);
        if (!manager)
                return FALSE;
        dom = vmlock_domain_new("bench-guest", NULL, error);
        if (!dom)
                return FALSE;
        for (guint i = 0; i < job->n_disks; i++) {
                VmlockDisk *disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                   VMLOCK_DISK_DEVICE_DISK,
                                                   g_ptr_array_index(b->disks, i), FALSE,
                                                   FALSE, error);

                if (!disk)
                        return FALSE;
                vmlock_domain_add_disk(dom, disk);
        }
        vmlock_domain_set_pid(dom, getpid());
        if (!wait_forgotten(job->previous, error))
                return FALSE;

        start = now_ns();
        if (!vmlock_domain_lock_process_start(manager, NULL, dom, FALSE, &fd, error))
                return FALSE;
        ms = elapsed_ms(start);

        if (fd < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "process start returned no sanlock fd");
                return FALSE;
        }
        g_string_append_printf(reply, "%.6f", ms);
        leases = bench_leases(b, job->n_disks, error);
        return leases && release_all(leases, error);
}

static gboolean
acquire_raw(const Bench *b, gpointer data, GString *reply, GError **error)
{
        const AcquireJob *job = data;
        g_autoptr(GPtrArray) leases = NULL;
        g_autofree struct sanlk_resource **res = NULL;
        gint64 start;
        double ms;
        int sock;

        leases = bench_leases(b, job->n_disks, error);
        if (!leases)
                return FALSE;
        res = g_new0(struct sanlk_resource *, job->n_disks);
        for (guint i = 0; i < job->n_disks; i++)
                res[i] = ((VmlockSanlockLease *)g_ptr_array_index(leases, i))->res;
        if (!wait_forgotten(job->previous, error))
                return FALSE;

        start = now_ns();
        sock = sanlock_register();
        if (sock < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_DAEMON,
                            "sanlock_register: %d", sock);
                return FALSE;
        }
        for (guint done = 0; done < job->n_disks; done += BATCH_MAX) {
                guint n = MIN(BATCH_MAX, job->n_disks - done);
                int rv = sanlock_acquire(sock, -1, 0, (int)n, res + done, NULL);

                if (rv < 0) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "sanlock_acquire of %u leases from %s: %d", n,
                                    res[done]->disks[0].path, rv);
                        return FALSE;
                }
        }
        ms = elapsed_ms(start);

        g_string_append_printf(reply, "%.6f", ms);
        return release_all(leases, error);
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double
median(GArray *values)
{
        g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE, sizeof(double), values->len);
        guint n = values->len;

        g_array_append_vals(sorted, values->data, n);
        g_array_sort(sorted, compare_double);
        if (n % 2)
                return g_array_index(sorted, double, n / 2);
        return (g_array_index(sorted, double, n / 2 - 1) + g_array_index(sorted, double, n / 2)) / 2;
}

/* The median of driver[i] / raw[i]: each pair ran back to back, so this
 * holds even when the machine's speed drifts during the run. */
static double
paired_ratio(GArray *driver, GArray *raw)
{
        g_autoptr(GArray) ratios = g_array_new(FALSE, FALSE, sizeof(double));

        for (guint i = 0; i < driver->len && i < raw->len; i++) {
                double r = g_array_index(driver, double, i) / g_array_index(raw, double, i);

                g_array_append_val(ratios, r);
        }
        return median(ratios);
}

static gboolean
run_timed(const Bench *b, ChildFunc func, AcquireJob *job, GArray *times, GError **error)
{
        g_autofree char *answer = NULL;
        pid_t pid = 0;
        double ms;

        answer = run_child(b, func, job, &pid, error);
        if (!answer)
                return FALSE;
        ms = g_ascii_strtod(answer, NULL);
        g_array_append_val(times, ms);
        job->previous = pid;
        return TRUE;
}

static void
print_verdict(const char *what, double driver_ms, double raw_ms, double paired)
{
        double overhead = 100.0 * (driver_ms - raw_ms) / raw_ms;

        printf("%s: driver %.3f ms, sanlock %.3f ms: %+.1f%% (paired: %+.1f%%): "
               "\"the driver adds under %.0f%% to sanlock's own cost\" %s\n", what,
               driver_ms, raw_ms, overhead, 100.0 * (paired - 1), TARGET_PERCENT,
               overhead < TARGET_PERCENT ? "holds" : "does NOT hold");
}

static gboolean
bench_acquire(const Bench *b, guint rounds, GString *verdicts, GError **error)
{
        GArray *driver[G_N_ELEMENTS(disk_counts)];
        GArray *raw[G_N_ELEMENTS(disk_counts)];
        g_autoptr(GArray) discard = g_array_new(FALSE, FALSE, sizeof(double));
        AcquireJob job = { 0 };
        gboolean ok = FALSE;

        for (guint s = 0; s < G_N_ELEMENTS(disk_counts); s++) {
                driver[s] = g_array_new(FALSE, FALSE, sizeof(double));
                raw[s] = g_array_new(FALSE, FALSE, sizeof(double));
        }

        printf("== acquire: driver (vmlock_domain_lock_process_start) vs "
               "sanlock_register + sanlock_acquire (batches of %d), %u rounds after a "
               "warm-up\n", BATCH_MAX, rounds);
        /* round 0 warms up (daemon threads, caches) and is not counted */
        for (guint r = 0; r <= rounds; r++) {
                if (r == 0)
                        printf("warm-up:");
                else
                        printf("round %u:", r);
                for (guint s = 0; s < G_N_ELEMENTS(disk_counts); s++) {
                        /* alternate who goes first, so neither always follows the other */
                        gboolean driver_first = (r + s) % 2 == 0;

                        job.n_disks = disk_counts[s];
                        for (guint k = 0; k < 2; k++) {
                                gboolean is_driver = (k == 0) == driver_first;

                                GArray *times = r == 0 ? discard : is_driver ? driver[s] : raw[s];

                                if (!run_timed(b, is_driver ? acquire_driver : acquire_raw, &job,
                                               times, error)) {
                                        g_prefix_error(error, "acquiring %u disk leases (%s): ",
                                                       job.n_disks, is_driver ? "driver" : "raw");
                                        goto cleanup;
                                }
                        }
                        if (r > 0)
                                printf("  %u: %.2f/%.2f ms", disk_counts[s],
                                       g_array_index(driver[s], double, r - 1),
                                       g_array_index(raw[s], double, r - 1));
                }
                printf("\n");
                fflush(stdout);
        }

        printf("\n%6s %11s %9s %7s %10s %14s\n", "disks", "driver ms", "raw ms", "ratio",
               "overhead", "paired ratio");
        for (guint s = 0; s < G_N_ELEMENTS(disk_counts); s++) {
                double d = median(driver[s]), rw = median(raw[s]);
                double paired = paired_ratio(driver[s], raw[s]);
                g_autofree char *what = g_strdup_printf("acquire %u disk%s", disk_counts[s],
                                                        disk_counts[s] == 1 ? "" : "s");
                double overhead = 100.0 * (d - rw) / rw;

                printf("%6u %11.3f %9.3f %7.3f %+9.1f%% %14.3f\n", disk_counts[s], d, rw,
                       d / rw, overhead, paired);
                g_string_append_printf(verdicts, "%s\t%.6f\t%.6f\t%.6f\n", what, d, rw, paired);
        }
        printf("(medians of %u rounds; paired ratio: median of each round's driver/raw; "
               "driver = the whole process start: domain to resources, register, acquire, "
               "sanlock_restrict)\n\n", rounds);
        ok = TRUE;

cleanup:
        for (guint s = 0; s < G_N_ELEMENTS(disk_counts); s++) {
                g_array_unref(driver[s]);
                g_array_unref(raw[s]);
        }
        return ok;
}

/* ---- 2. lease file creation ---------------------------------------------- */

typedef struct {
        guint n_files;
        char *tag;              /* keeps our disk paths apart from anyone else's */
} CreateJob;

/* What a tool without vmlock would do: a new file of the aligned size, then
 * the daemon initialises the lease in it. */
static gboolean
raw_create(struct sanlk_resource *res, gsize size, gboolean allocate, GError **error)
{
        const char *path = res->disks[0].path;
        int fd;
        int rv;

        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot create %s: %s", path,
                            g_strerror(saved));
                return FALSE;
        }
        if (allocate ? fallocate(fd, 0, 0, (off_t)size) < 0 : ftruncate(fd, (off_t)size) < 0) {
                int saved = errno;

                close(fd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot size %s: %s", path,
                            g_strerror(saved));
                return FALSE;
        }
        rv = sanlock_write_resource(res, 0, 0, 0);
        close(fd);
        if (rv < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "sanlock_write_resource %s: %d", path, rv);
                return FALSE;
        }
        return TRUE;
}

/* The lease file size sanlock_align picks, asked once (outside the timing)
 * on a scratch file in the lease directory. */
static gboolean
aligned_size(const Bench *b, gsize *ret_size, GError **error)
{
        g_autofree char *path = g_build_filename(b->config->disk_lease_dir,
                                                 ".bench-align.XXXXXX", NULL);
        struct sanlk_disk disk = { 0 };
        int fd;
        int rv;

        fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot create %s: %s", path,
                            g_strerror(saved));
                return FALSE;
        }
        close(fd);
        g_strlcpy(disk.path, path, sizeof(disk.path));
        rv = sanlock_align(&disk);
        g_unlink(path);
        if (rv <= 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "sanlock_align %s: %d", path,
                            rv);
                return FALSE;
        }
        *ret_size = (gsize)rv;
        return TRUE;
}

static gboolean
create_files(const Bench *b, gpointer data, GString *reply, GError **error)
{
        const CreateJob *job = data;
        g_autoptr(GArray) driver = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) raw = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) alloc = g_array_new(FALSE, FALSE, sizeof(double));
        gsize size = 0;

        if (!aligned_size(b, &size, error))
                return FALSE;

        for (guint i = 0; i < job->n_files; i++) {
                g_autofree char *drv_disk = g_strdup_printf("/bench-create/%s/driver-%u.img",
                                                            job->tag, i);
                g_autofree char *raw_disk = g_strdup_printf("/bench-create/%s/raw-%u.img",
                                                            job->tag, i);
                g_autofree char *alloc_disk = g_strdup_printf("/bench-create/%s/alloc-%u.img",
                                                              job->tag, i);
                g_autoptr(VmlockSanlockLease) drv_lease = NULL;
                g_autoptr(VmlockSanlockLease) raw_lease = NULL;
                g_autoptr(VmlockSanlockLease) alloc_lease = NULL;

                drv_lease = vmlock_sanlock_disk_lease_new(b->config, drv_disk, FALSE, error);
                if (!drv_lease)
                        return FALSE;
                raw_lease = vmlock_sanlock_disk_lease_new(b->config, raw_disk, FALSE, error);
                if (!raw_lease)
                        return FALSE;
                alloc_lease = vmlock_sanlock_disk_lease_new(b->config, alloc_disk, FALSE, error);
                if (!alloc_lease)
                        return FALSE;

                /* the three in turn, each starting every third file */
                for (guint k = 0; k < 3; k++) {
                        guint which = (i + k) % 3;
                        gint64 start = now_ns();
                        double ms;

                        if (which == 0) {
                                if (!vmlock_sanlock_disk_lease_ensure(b->config, drv_lease, error))
                                        return FALSE;
                        } else if (!raw_create(which == 1 ? raw_lease->res : alloc_lease->res,
                                               size, which == 2, error)) {
                                return FALSE;
                        }
                        ms = elapsed_ms(start);
                        g_array_append_val(which == 0 ? driver : which == 1 ? raw : alloc, ms);
                }
                g_unlink(drv_lease->res->disks[0].path);
                g_unlink(raw_lease->res->disks[0].path);
                g_unlink(alloc_lease->res->disks[0].path);
        }
        g_string_append_printf(reply, "%.6f %.6f %.6f %.6f %" G_GSIZE_FORMAT, median(driver),
                               median(raw), median(alloc), paired_ratio(driver, raw), size);
        return TRUE;
}

static gboolean
bench_create(const Bench *b, guint n_files, GString *verdicts, GError **error)
{
        CreateJob job = { .n_files = n_files };
        g_autofree char *answer = NULL;
        g_auto(GStrv) fields = NULL;
        double d, rw, alloc, paired;

        job.tag = g_strdup_printf("%d", (int)getpid());
        answer = run_child(b, create_files, &job, NULL, error);
        g_free(job.tag);
        if (!answer)
                return FALSE;
        fields = g_strsplit(answer, " ", -1);
        if (g_strv_length(fields) != 5) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "bad answer from the creating child: %s", answer);
                return FALSE;
        }
        d = g_ascii_strtod(fields[0], NULL);
        rw = g_ascii_strtod(fields[1], NULL);
        alloc = g_ascii_strtod(fields[2], NULL);
        paired = g_ascii_strtod(fields[3], NULL);

        printf("== lease file creation (%s bytes each), %u files each, in turn\n", fields[4],
               n_files);
        printf("%-76s %8.3f ms\n",
               "driver: vmlock_sanlock_disk_lease_ensure (temp, align, fallocate, write, link)",
               d);
        printf("%-76s %8.3f ms\n", "raw: open O_CREAT + ftruncate + sanlock_write_resource", rw);
        printf("%-76s %8.3f ms\n", "(for reference: the same with fallocate instead of ftruncate)",
               alloc);
        printf("ratio %.3f, overhead %+.1f%% (medians); paired ratio %.3f\n\n", d / rw,
               100.0 * (d - rw) / rw, paired);
        g_string_append_printf(verdicts, "create a lease file\t%.6f\t%.6f\t%.6f\n", d, rw,
                               paired);
        return TRUE;
}

int
main(int argc, char **argv)
{
        g_auto(Bench) b = { 0 };
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GString) verdicts = g_string_new(NULL);
        g_autofree char *answer = NULL;
        g_auto(GStrv) lines = NULL;
        gint rounds = DEFAULT_ROUNDS, files = DEFAULT_FILES;
        GOptionEntry options[] = {
                { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds,
                  "Acquire rounds per disk count and side, after one warm-up (default: 9)", "N" },
                { "files", 'n', 0, G_OPTION_ARG_INT, &files,
                  "Lease files created per side (default: 50)", "N" },
                { "plugin-dir", 'p', 0, G_OPTION_ARG_FILENAME, &b.plugin_dir,
                  "Where sanlock.so is (default: the build tree's)", "DIR" },
                { NULL },
        };

        context = g_option_context_new("- time the sanlock driver against raw libsanlock");
        g_option_context_add_main_entries(context, options, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || rounds < 1 || files < 1) {
                g_printerr("bench-acquire: %s\n", error ? error->message : "bad --rounds/--files");
                return 2;
        }
        if (!b.plugin_dir)
                b.plugin_dir = g_strdup(BENCH_PLUGIN_DIR);

        if (!bench_load(&b, &error))
                goto fail;
        /* the parent itself never calls libsanlock: see run_child */
        b.disks = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < MAX_DISKS; i++)
                g_ptr_array_add(b.disks, g_strdup_printf("/bench-acquire/%d/disk-%02u.img",
                                                         (int)getpid(), i));
        printf("host 1 (%s), leases in %s\n", b.host->run_dir, b.config->disk_lease_dir);
        answer = run_child(&b, create_leases, NULL, NULL, &error);
        if (!answer)
                goto fail;

        if (!bench_acquire(&b, (guint)rounds, verdicts, &error) ||
            !bench_create(&b, (guint)files, verdicts, &error))
                goto fail;

        lines = g_strsplit(verdicts->str, "\n", -1);
        for (char **line = lines; *line && **line; line++) {
                g_auto(GStrv) f = g_strsplit(*line, "\t", 4);

                print_verdict(f[0], g_ascii_strtod(f[1], NULL), g_ascii_strtod(f[2], NULL),
                              g_ascii_strtod(f[3], NULL));
        }

        for (guint i = 0; i < b.disks->len; i++) {
                g_autofree char *name = vmlock_sanlock_disk_lease_name(g_ptr_array_index(b.disks,
                                                                                         i));
                g_autofree char *path = g_build_filename(b.config->disk_lease_dir, name, NULL);

                g_unlink(path);
        }
        return 0;

fail:
        g_printerr("bench-acquire: %s\n", error->message);
        return 1;
}
