/* vmlock tests: vmlock-sanlock-cleanup against real sanlock daemons (two hosts) and real starts.
 *
 * Runs under its own tests/sanlock/harness.sh (tests/cleanup/meson.build):
 * the tool scans the whole lease directory, which the other integration
 * tests must not share with it. */
#define G_LOG_DOMAIN "vmlock-cleanup-test"
#define _GNU_SOURCE /* O_DIRECT */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include "sanlock-test-util.h"

#define TOOL_ENV "VMLOCK_CLEANUP_TOOL"
#define RACE_SECONDS_ENV "VMLOCK_CLEANUP_RACE_SECONDS"
#define RACE_SECONDS_DEFAULT 20
/* A race that produced fewer races than this goes on, up to RACE_SECONDS_MAX:
 * a loaded machine may run few cleanups in the first seconds. */
#define RACE_MIN_RACES 5
#define RACE_SECONDS_MAX 180
#define RACE_DISKS 3

#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2
#define EXIT_NOT_RUN 3

/* sanlock's paxos leader record (little-endian), enough to see who holds it. */
#define LEADER_MAGIC 0x06152010u
#define LEADER_OWNER_ID_OFFSET 32
#define LEADER_TIMESTAMP_OFFSET 152

typedef struct {
        int status;             /* exit status, or -1 */
        char *out;
        char *err;
} ToolRun;

static void
tool_run_clear(ToolRun *run)
{
        g_clear_pointer(&run->out, g_free);
        g_clear_pointer(&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ToolRun, tool_run_clear)

static const char *
tool_path(void)
{
        const char *tool = g_getenv(TOOL_ENV);

        if (!tool)
                g_error("%s must name vmlock-sanlock-cleanup", TOOL_ENV);
        return tool;
}

/* Runs the tool as @host (its SANLOCK_RUN_DIR and VMLOCK_CONFIG_DIR) with
 * the NULL-terminated arguments, and waits. */
static void
run_tool_env(GStrv env, ToolRun *run, const char *first, va_list ap)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        int status;

        g_ptr_array_add(argv, (char *)tool_path());
        for (const char *arg = first; arg; arg = va_arg(ap, const char *))
                g_ptr_array_add(argv, (char *)arg);
        g_ptr_array_add(argv, NULL);

        g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, 0, NULL, NULL, &run->out,
                                   &run->err, &status, &error));
        g_assert_no_error(error);
        run->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        g_test_message("cleanup exit %d\nstdout:\n%sstderr:\n%s", run->status, run->out,
                       run->err);
}

static void G_GNUC_NULL_TERMINATED
run_tool(guint host_id, ToolRun *run, ...)
{
        g_auto(GStrv) env = sanlock_test_host_environ(sanlock_test_host(host_id));
        va_list ap;
        const char *first;

        va_start(ap, run);
        first = va_arg(ap, const char *);
        run_tool_env(env, run, first, ap);
        va_end(ap);
}

static void G_GNUC_NULL_TERMINATED
run_tool_with_env(GStrv env, ToolRun *run, ...)
{
        va_list ap;
        const char *first;

        va_start(ap, run);
        first = va_arg(ap, const char *);
        run_tool_env(env, run, first, ap);
        va_end(ap);
}

/* What the lease dir holds and what each host's daemon is doing with it:
 * for a failure's report. */
static char *
describe_lease_state(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autoptr(GDir) dir = g_dir_open(h->lease_dir, 0, NULL);
        GString *out = g_string_new("lease dir:\n");
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(h->lease_dir, name, NULL);
                struct stat st;

                if (lstat(path, &st) == 0)
                        g_string_append_printf(out, "  %s %lld bytes inode %llu\n", name,
                                               (long long)st.st_size,
                                               (unsigned long long)st.st_ino);
        }
        for (guint id = 1; id <= 2; id++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *status = sanlock_test_host_client(sanlock_test_host(id), &error,
                                                                   "status", NULL);

                g_string_append_printf(out, "host %u daemon:\n%s\n", id,
                                       status ? status : error->message);
        }
        return g_string_free(out, FALSE);
}

static void
assert_contains(const char *text, const char *needle)
{
        if (!strstr(text, needle)) {
                g_autofree char *state = describe_lease_state();

                g_error("expected to find \"%s\" in:\n%s\n%s", needle, text, state);
        }
}

static void G_GNUC_PRINTF(2, 3)
assert_containsf(const char *text, const char *format, ...)
{
        g_autofree char *needle = NULL;
        va_list ap;

        va_start(ap, format);
        needle = g_strdup_vprintf(format, ap);
        va_end(ap);
        assert_contains(text, needle);
}

static void
assert_lacks(const char *text, const char *needle)
{
        if (strstr(text, needle))
                g_error("did not expect \"%s\" in:\n%s", needle, text);
}

static char *
lease_name(const char *disk)
{
        return g_compute_checksum_for_string(G_CHECKSUM_MD5, disk, -1);
}

static gboolean
exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

/* The lease directory holds nothing but the lockspace: each test starts and
 * ends that way, so the summaries can be checked exactly. */
static void
assert_lease_dir_clean(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autoptr(GDir) dir = g_dir_open(h->lease_dir, 0, NULL);
        const char *name;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir)))
                g_assert_cmpstr(name, ==, h->disk_lockspace);
}

static VmlockDomain *
domain_with_disk(const char *disk, gboolean readonly)
{
        g_autofree char *name = sanlock_test_unique_name("cleanup");
        VmlockDomain *dom = sanlock_test_domain_new(name);

        sanlock_test_domain_add_disk(dom, disk, readonly, FALSE);
        return dom;
}

static SanlockTestGuest *
start_guest(guint host_id, const char *disk, gboolean readonly, GError **error)
{
        g_autoptr(VmlockDomain) dom = domain_with_disk(disk, readonly);

        return sanlock_test_domain_start(host_id, dom, FALSE, error);
}

static SanlockTestGuest *
start_guest_ok(guint host_id, const char *disk, gboolean readonly)
{
        g_autoptr(VmlockDomain) dom = domain_with_disk(disk, readonly);

        return sanlock_test_domain_start_ok(host_id, dom);
}

/* A guest of @disk on @host_id starts, then stops. */
static void
start_and_stop(guint host_id, const char *disk)
{
        g_autoptr(SanlockTestGuest) guest = start_guest_ok(host_id, disk, FALSE);

        g_assert_cmpint(sanlock_test_guest_stop(guest), ==, 0);
        sanlock_test_wait_disk_free(disk);
}

/* A disk whose lease file exists and nobody holds: a guest ran and stopped. */
static char *
unused_disk(guint host_id, const char *prefix)
{
        char *disk = sanlock_test_disk_path(prefix);
        g_autoptr(SanlockTestGuest) guest = start_guest_ok(host_id, disk, FALSE);
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);

        g_assert_cmpint(sanlock_test_guest_stop(guest), ==, 0);
        sanlock_test_wait_disk_free(disk);
        g_assert_true(exists(lease));
        return disk;
}

/* ---- what is removed, what is kept ------------------------------------------ */

static void
test_unused_removed_used_kept(void)
{
        g_autofree char *held1 = sanlock_test_disk_path("held1");
        g_autofree char *held2 = sanlock_test_disk_path("held2");
        g_autofree char *shared = sanlock_test_disk_path("shared");
        g_autoptr(SanlockTestGuest) guest1 = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(SanlockTestGuest) reader1 = NULL;
        g_autoptr(SanlockTestGuest) reader2 = NULL;
        g_autoptr(SanlockTestGuest) intruder = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(ToolRun) run = { 0 };
        g_auto(ToolRun) run2 = { 0 };
        char *unused[3];
        const char *held[] = { held1, held2, shared };
        g_autofree char *held2_name = lease_name(held2);

        assert_lease_dir_clean();
        guest1 = start_guest_ok(1, held1, FALSE);
        guest2 = start_guest_ok(2, held2, FALSE);
        reader1 = start_guest_ok(1, shared, TRUE);
        reader2 = start_guest_ok(2, shared, TRUE);
        for (guint i = 0; i < G_N_ELEMENTS(unused); i++)
                unused[i] = unused_disk(1 + i % 2, "unused");

        run_tool(1, &run, "--verbose", NULL);
        g_assert_cmpint(run.status, ==, 0);
        g_assert_cmpstr(run.err, ==, "");
        for (guint i = 0; i < G_N_ELEMENTS(unused); i++) {
                g_autofree char *lease = sanlock_test_disk_lease_path(unused[i]);
                g_autofree char *name = lease_name(unused[i]);
                g_autofree char *deleted = g_strdup_printf("deleted %s\n", name);

                g_assert_false(exists(lease));
                assert_contains(run.out, deleted);
                g_free(unused[i]);
        }
        for (guint i = 0; i < G_N_ELEMENTS(held); i++) {
                g_autofree char *lease = sanlock_test_disk_lease_path(held[i]);
                g_autofree char *name = lease_name(held[i]);
                g_autofree char *kept = g_strdup_printf("kept %s: in use", name);

                g_assert_true(exists(lease));
                assert_contains(run.out, kept);
        }
        /* the exclusive holder on the other host is named */
        assert_containsf(run.out, "kept %s: in use by host 2 (%s)", held2_name,
                         sanlock_test_host(2)->name);
        assert_contains(run.out, ": 3 deleted, 3 kept (in use), 0 gone meanwhile, 1 skipped, "
                                 "0 failed");
        assert_contains(run.out, "skipped __LIBVIRT__DISKS__: the lockspace");

        /* The guests still own their disks: a second writer is refused. */
        intruder = start_guest(2, held1, FALSE, &error);
        g_assert_null(intruder);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_clear_error(&error);
        intruder = start_guest(1, shared, FALSE, &error);
        g_assert_null(intruder);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);

        /* Once they stop, the other host removes the rest. */
        g_assert_cmpint(sanlock_test_guest_stop(guest1), ==, 0);
        g_assert_cmpint(sanlock_test_guest_stop(guest2), ==, 0);
        g_assert_cmpint(sanlock_test_guest_stop(reader1), ==, 0);
        g_assert_cmpint(sanlock_test_guest_stop(reader2), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(held); i++)
                sanlock_test_wait_disk_free(held[i]);
        run_tool(2, &run2, NULL);
        g_assert_cmpint(run2.status, ==, 0);
        assert_contains(run2.out, ": 3 deleted, 0 kept (in use)");
        assert_lease_dir_clean();
}

/* ---- what is never touched ---------------------------------------------------- */

static char *
make_file(const char *name, const char *contents)
{
        char *path = g_build_filename(sanlock_test_harness()->lease_dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, contents, -1, &error));
        g_assert_no_error(error);
        return path;
}

static void
make_old(const char *path)
{
        struct timeval times[2];

        gettimeofday(&times[0], NULL);
        times[0].tv_sec -= 2 * 60 * 60;
        times[1] = times[0];
        g_assert_cmpint(lutimes(path, times), ==, 0);
}

static void
test_others_skipped(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *target_disk = unused_disk(1, "target");
        g_autofree char *target = lease_name(target_disk);
        g_autofree char *hex = lease_name("/no/such/disk");
        g_autofree char *upper = g_ascii_strup(hex, -1);
        g_autofree char *dir_hex = lease_name("/a/directory");
        g_autofree char *link_hex = lease_name("/a/symlink");
        g_autofree char *young_temp = g_strdup_printf(".%s.Ab12Cd", hex);
        g_autofree char *old_temp = g_strdup_printf(".%s.Zz99Yy", hex);
        g_autofree char *leftover = g_strdup_printf(".%s.vmlock-cleanup", hex);
        g_autofree char *notes = make_file("notes.txt", "not a lease\n");
        g_autofree char *upper_path = make_file(upper, "");
        g_autofree char *young_path = make_file(young_temp, "");
        g_autofree char *old_path = make_file(old_temp, "");
        g_autofree char *leftover_path = make_file(leftover, "");
        g_autofree char *dir_path = g_build_filename(h->lease_dir, dir_hex, NULL);
        g_autofree char *link_path = g_build_filename(h->lease_dir, link_hex, NULL);
        g_autofree char *target_path = g_build_filename(h->lease_dir, target, NULL);
        g_auto(ToolRun) run = { 0 };

        g_assert_cmpint(mkdir(dir_path, 0700), ==, 0);
        g_assert_cmpint(symlink(target_path, link_path), ==, 0);
        make_old(old_path);

        run_tool(2, &run, "--verbose", NULL);
        g_assert_cmpint(run.status, ==, 0);
        assert_contains(run.out, "skipped __LIBVIRT__DISKS__: the lockspace of the disk leases "
                                 "(never removed)\n");
        assert_contains(run.out, "skipped notes.txt: not named like a disk lease");
        assert_containsf(run.out, "skipped %s: not named like a disk lease", upper);
        assert_containsf(run.out, "skipped %s: named like a disk lease, but not a regular file",
                         dir_hex);
        assert_containsf(run.out, "skipped %s: named like a disk lease, but not a regular file",
                         link_hex);
        assert_containsf(run.out, "skipped %s: a lease file being created", young_temp);
        assert_containsf(run.out, "deleted %s: temporary file of a lease creation that never "
                         "finished", old_temp);
        assert_containsf(run.out, "deleted %s: left over by an interrupted cleanup", leftover);
        assert_containsf(run.out, "deleted %s\n", target);
        assert_contains(run.out, ": 3 deleted, 0 kept (in use), 0 gone meanwhile, 6 skipped, "
                                 "0 failed");

        g_assert_true(exists(h->disk_lockspace_path));
        g_assert_true(exists(notes));
        g_assert_true(exists(upper_path));
        g_assert_true(exists(young_path));
        g_assert_true(exists(dir_path));
        g_assert_true(exists(link_path));
        g_assert_false(exists(old_path));
        g_assert_false(exists(leftover_path));
        g_assert_false(exists(target_path));

        g_assert_cmpint(unlink(notes), ==, 0);
        g_assert_cmpint(unlink(upper_path), ==, 0);
        g_assert_cmpint(unlink(young_path), ==, 0);
        g_assert_cmpint(rmdir(dir_path), ==, 0);
        g_assert_cmpint(unlink(link_path), ==, 0);
        assert_lease_dir_clean();
}

/* ---- options and output -------------------------------------------------------- */

static void
test_dry_run_and_quiet(void)
{
        g_autofree char *disk = unused_disk(2, "dry");
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);
        g_autofree char *name = lease_name(disk);
        g_autofree char *would = g_strdup_printf("would delete %s\n", name);
        g_auto(ToolRun) dry = { 0 };
        g_auto(ToolRun) quiet = { 0 };

        run_tool(1, &dry, "--dry-run", NULL);
        g_assert_cmpint(dry.status, ==, 0);
        g_assert_true(exists(lease));
        assert_contains(dry.out, would);
        assert_contains(dry.out, ": 1 to delete (dry run), 0 kept (in use)");

        /* the lease was let go: a guest can have it */
        start_and_stop(2, disk);

        run_tool(1, &quiet, "--quiet", NULL);
        g_assert_cmpint(quiet.status, ==, 0);
        g_assert_cmpstr(quiet.out, ==, "");
        g_assert_cmpstr(quiet.err, ==, "");
        g_assert_false(exists(lease));
        assert_lease_dir_clean();
}

static void
test_failure_reported(void)
{
        g_autofree char *name = lease_name("/not/initialised");
        g_autofree char *path = g_build_filename(sanlock_test_harness()->lease_dir, name, NULL);
        g_autofree char *disk = unused_disk(1, "next-to-broken");
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);
        g_autofree char *failed = g_strdup_printf("failed %s: ", name);
        g_auto(ToolRun) run = { 0 };
        int fd;

        /* named like a lease, but all zeros: nobody can lock it */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, 1024 * 1024), ==, 0);
        close(fd);

        run_tool(1, &run, "--quiet", NULL);
        g_assert_cmpint(run.status, ==, EXIT_SOME_FAILED);
        g_assert_cmpstr(run.out, ==, "");
        assert_contains(run.err, failed);
        assert_contains(run.err, "damaged: it holds no sanlock lease (zeroed or overwritten)");
        g_assert_true(exists(path));
        /* the others were dealt with all the same */
        g_assert_false(exists(lease));

        g_assert_cmpint(unlink(path), ==, 0);
        assert_lease_dir_clean();
}

/* A damaged lease file named @name (empty, @size bytes of a lease, or
 * zeroed when @size is 0 and @zeroed), written @age seconds ago. */
static char *
damaged_file(const char *name, gsize size, gboolean zeroed, gint64 age)
{
        char *path = g_build_filename(sanlock_test_harness()->lease_dir, name, NULL);
        g_autofree char *data = g_malloc0(1024 * 1024);
        struct timespec times[2];

        /* a lease's head (paxos leader magic), cut short */
        if (size > 0) {
                guint32 magic = GUINT32_TO_LE(LEADER_MAGIC);

                memcpy(data, &magic, sizeof(magic));
        }
        g_assert_true(g_file_set_contents(path, data, zeroed ? 1024 * 1024 : (gssize)size,
                                          NULL));
        times[0].tv_sec = times[1].tv_sec = time(NULL) - age;
        times[0].tv_nsec = times[1].tv_nsec = 0;
        g_assert_cmpint(utimensat(AT_FDCWD, path, times, 0), ==, 0);
        return path;
}

/* Damaged lease files are reported, never with sanlock's errno; with
 * --remove-damaged they are still kept while another host lives (it may
 * hold the lease from before the damage) or while young (a libvirt host
 * may be creating one in place). */
static void
test_damaged_reported(void)
{
        g_autofree char *empty_name = lease_name("/damaged/empty");
        g_autofree char *short_name = lease_name("/damaged/short");
        g_autofree char *zero_name = lease_name("/damaged/zeroed");
        g_autofree char *young_name = lease_name("/damaged/young");
        g_autofree char *empty = damaged_file(empty_name, 0, FALSE, 7200);
        g_autofree char *cut = damaged_file(short_name, 100, FALSE, 7200);
        g_autofree char *zero = damaged_file(zero_name, 0, TRUE, 7200);
        g_autofree char *young = damaged_file(young_name, 0, FALSE, 0);
        g_auto(ToolRun) run = { 0 };

        run_tool(1, &run, NULL);
        g_assert_cmpint(run.status, ==, EXIT_SOME_FAILED);
        assert_containsf(run.err, "failed %s: damaged: it is empty (0 bytes); no guest can "
                         "take its lease (--remove-damaged removes it", empty_name);
        assert_containsf(run.err, "failed %s: damaged: it is 100 bytes long, shorter than one "
                         "lease", short_name);
        assert_containsf(run.err, "failed %s: damaged: it holds no sanlock lease", zero_name);
        assert_lacks(run.err, "sanlock error");
        tool_run_clear(&run);

        run_tool(1, &run, "--remove-damaged", NULL);
        g_assert_cmpint(run.status, ==, EXIT_SOME_FAILED);
        assert_containsf(run.err, "failed %s: damaged: it is empty (0 bytes); kept: host 2 is "
                         "alive in the lockspace", empty_name);
        assert_containsf(run.err, "failed %s: damaged: it is empty (0 bytes); kept: written ",
                         young_name);
        g_assert_true(exists(empty) && exists(cut) && exists(zero) && exists(young));

        for (const char *const *p = (const char *const[]){ empty, cut, zero, young, NULL }; *p;
             p++)
                g_assert_cmpint(unlink(*p), ==, 0);
        assert_lease_dir_clean();
}

static void
test_cannot_run(void)
{
        const SanlockTestHost *host = sanlock_test_host(1);
        g_autofree char *etc = g_build_filename(sanlock_test_scratch_dir(), "etc-other", NULL);
        g_autofree char *other = g_build_filename(sanlock_test_scratch_dir(), "leases-other",
                                                  NULL);
        g_autofree char *conf = g_build_filename(etc, "qemu-sanlock.conf", NULL);
        g_autofree char *text = g_strdup_printf("disk_lease_dir = \"%s\"\n", other);
        g_autofree char *bad_etc = g_build_filename(sanlock_test_scratch_dir(), "etc-bad", NULL);
        g_autofree char *bad_conf = g_build_filename(bad_etc, "qemu-sanlock.conf", NULL);
        g_auto(GStrv) no_daemon = sanlock_test_host_environ(host);
        g_auto(ToolRun) elsewhere = { 0 };
        g_auto(ToolRun) open_dir = { 0 };
        g_auto(ToolRun) bad = { 0 };
        g_auto(ToolRun) down = { 0 };
        g_auto(ToolRun) usage = { 0 };
        g_auto(ToolRun) extra = { 0 };

        g_assert_cmpint(g_mkdir_with_parents(etc, 0700), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(other, 0700), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(bad_etc, 0700), ==, 0);
        g_assert_true(g_file_set_contents(conf, text, -1, NULL));
        g_assert_true(g_file_set_contents(bad_conf, "host_id = \"one\"\n", -1, NULL));

        /* a lease dir whose lockspace this host did not join */
        run_tool(1, &elsewhere, "--config", etc, NULL);
        g_assert_cmpint(elsewhere.status, ==, EXIT_NOT_RUN);
        assert_contains(elsewhere.err, "joined lockspace __LIBVIRT__DISKS__ from");
        assert_contains(elsewhere.err, other);

        /* a lease dir anyone may write: root deletes nothing there */
        g_assert_cmpint(chmod(other, 0777), ==, 0);
        run_tool(1, &open_dir, "--config", etc, NULL);
        g_assert_cmpint(open_dir.status, ==, EXIT_NOT_RUN);
        assert_contains(open_dir.err, other);
        assert_contains(open_dir.err, "chmod o-w");
        g_assert_cmpint(chmod(other, 0700), ==, 0);

        run_tool(1, &bad, "--config", bad_etc, NULL);
        g_assert_cmpint(bad.status, ==, EXIT_NOT_RUN);
        assert_contains(bad.err, bad_conf);
        assert_contains(bad.err, "host_id");

        no_daemon = g_environ_setenv(no_daemon, "SANLOCK_RUN_DIR",
                                     sanlock_test_short_dir(), TRUE);
        run_tool_with_env(no_daemon, &down, NULL);
        g_assert_cmpint(down.status, ==, EXIT_NOT_RUN);
        assert_contains(down.err, "sanlock.sock");

        run_tool(1, &usage, "--jobs", "0", NULL);
        g_assert_cmpint(usage.status, ==, EXIT_USAGE);
        run_tool(1, &extra, "somefile", NULL);
        g_assert_cmpint(extra.status, ==, EXIT_USAGE);
        assert_lacks(extra.err, "somefile\n");
}

/* ---- the removed inode is dead ----------------------------------------------- */

typedef struct {
        const char *name;
        const char *path;
} RawLease;

/* Takes @data's lease by path, as a daemon that still has the old file
 * open would, and lets it go; the error carries sanlock's return value. */
static gboolean
raw_acquire(gpointer data, GString *reply, GError **error)
{
        const RawLease *lease = data;
        g_autofree struct sanlk_resource *res = NULL;
        int sock = sanlock_register();
        int rv;

        if (sock < 0) {
                sanlock_test_set_rv_error(error, sock, "register");
                return FALSE;
        }
        res = sanlock_test_resource_new("__LIBVIRT__DISKS__", lease->name, lease->path, 0);
        rv = sanlock_acquire(sock, -1, 0, 1, &res, NULL);
        if (rv < 0) {
                close(sock);
                sanlock_test_set_rv_error(error, rv, "acquire %s", lease->path);
                return FALSE;
        }
        sanlock_release(sock, -1, 0, 1, &res);
        close(sock);
        return TRUE;
}

/* raw_acquire() as @host_id, waiting out a holder that is letting go (a
 * 'sanlock client command' releases when it exits, in the background): on
 * another host it still looks alive, on this one the daemon answers
 * -EAGAIN while the release is in progress. */
static gboolean
raw_acquire_as(guint host_id, RawLease *lease, GError **error)
{
        return sanlock_test_host_call_once_released(sanlock_test_host(host_id), raw_acquire,
                                                    lease, error);
}

/* A second name for the lease file: what a daemon that opened the file
 * just before it was removed still reaches. */
static char *
alias_of(const char *lease)
{
        g_autofree char *base = g_path_get_basename(lease);
        char *alias = g_build_filename(sanlock_test_scratch_dir(), base, NULL);

        g_assert_cmpint(link(lease, alias), ==, 0);
        return alias;
}

static void
test_removed_lease_dead(void)
{
        g_autofree char *disk = unused_disk(1, "dead");
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);
        g_autofree char *name = lease_name(disk);
        g_autofree char *alias = alias_of(lease);
        g_autofree char *libvirt_disk = unused_disk(2, "libvirt-way");
        g_autofree char *libvirt_lease = sanlock_test_disk_lease_path(libvirt_disk);
        g_autofree char *libvirt_name = lease_name(libvirt_disk);
        g_autofree char *libvirt_alias = alias_of(libvirt_lease);
        g_autofree char *resource = NULL;
        g_autofree char *out = NULL;
        RawLease old = { name, alias };
        RawLease libvirt_old = { libvirt_name, libvirt_alias };
        g_autoptr(GError) error = NULL;
        g_auto(ToolRun) run = { 0 };
        g_auto(ToolRun) last = { 0 };
        struct stat st;

        /* the alias proves it: the same lease, reached through the old inode */
        raw_acquire_as(2, &old, &error);
        g_assert_no_error(error);

        /* libvirt's way (acquire, rm -f, release) leaves the old inode's lease
         * intact, and marked held by the cleaning host (the daemon's release
         * cannot reopen the removed path): a start on that host whose daemon
         * opened the old file before the rm can still take it, while a start
         * elsewhere takes the new file's lease. */
        resource = g_strdup_printf("__LIBVIRT__DISKS__:%s:%s:0", libvirt_name, libvirt_lease);
        out = sanlock_test_host_client(sanlock_test_host(1), &error, "command", "-r", resource,
                                       "-c", "/bin/rm", "-f", libvirt_lease, NULL);
        g_assert_no_error(error);
        g_assert_false(exists(libvirt_lease));
        raw_acquire_as(1, &libvirt_old, &error);
        g_assert_no_error(error);

        run_tool(1, &run, "--quiet", NULL);
        g_assert_cmpint(run.status, ==, 0);
        g_assert_false(exists(lease));

        /* ours is emptied under the lease: no one can take it ever again */
        g_assert_cmpint(stat(alias, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 0);
        for (guint host = 1; host <= SANLOCK_TEST_N_HOSTS; host++) {
                g_assert_false(raw_acquire_as(host, &old, &error));
                g_assert_nonnull(error);
                g_test_message("host %u, acquire of the removed lease: %s", host,
                               error->message);
                g_clear_error(&error);
        }

        /* and a new start gets a fresh file */
        start_and_stop(2, disk);
        g_assert_true(exists(lease));

        g_assert_cmpint(unlink(alias), ==, 0);
        g_assert_cmpint(unlink(libvirt_alias), ==, 0);
        run_tool(2, &last, "--quiet", NULL);
        g_assert_cmpint(last.status, ==, 0);
        assert_lease_dir_clean();
}

/* ---- racing with starts ------------------------------------------------------- */

/* Who holds the lease in @path, from its leader record on disk: the owner's
 * host id, or 0 when it is free or no lease. */
static guint64
leader_owner(const char *path)
{
        void *buf = NULL;
        guint64 owner = 0, timestamp = 0;
        guint32 magic = 0;
        int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);

        if (fd < 0)
                return 0;
        g_assert_cmpint(posix_memalign(&buf, 4096, 4096), ==, 0);
        if (pread(fd, buf, 4096, 0) >= 512) {
                memcpy(&magic, buf, sizeof(magic));
                memcpy(&owner, (char *)buf + LEADER_OWNER_ID_OFFSET, sizeof(owner));
                memcpy(&timestamp, (char *)buf + LEADER_TIMESTAMP_OFFSET, sizeof(timestamp));
        }
        free(buf);
        close(fd);
        if (GUINT32_FROM_LE(magic) != LEADER_MAGIC || timestamp == 0)
                return 0;
        return GUINT64_FROM_LE(owner);
}

typedef struct {
        char *disk;
        char *lease;
        SanlockTestGuest *guest;        /* the one guest we believe holds it */
        guint host;                     /* its host */
} RaceDisk;

/* Every guest we started holds the lease of the file its disk's lease path
 * names now: had it taken a removed file's lease, the new file would be
 * free or someone else's. */
static void
assert_holders(RaceDisk *disks, guint n)
{
        for (guint i = 0; i < n; i++) {
                guint64 owner;

                if (!disks[i].guest)
                        continue;
                owner = leader_owner(disks[i].lease);
                if (owner != disks[i].host)
                        g_error("the guest of %s on host %u does not hold the lease in %s "
                                "(owner there: %" G_GUINT64_FORMAT ")", disks[i].disk,
                                disks[i].host, disks[i].lease, owner);
        }
}

/* The inode of @path, 0 when there is none. */
static ino_t
file_inode(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* A refusal a person can act on by trying again. */
static gboolean
is_retryable(const GError *error)
{
        return g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
}

static void
test_race_with_starts(void)
{
        const char *seconds_env = g_getenv(RACE_SECONDS_ENV);
        guint seconds = seconds_env ? (guint)atoi(seconds_env) : RACE_SECONDS_DEFAULT;
        g_autofree char *stop = g_build_filename(sanlock_test_scratch_dir(), "race-stop", NULL);
        g_autofree char *log = g_build_filename(sanlock_test_scratch_dir(), "race.log", NULL);
        g_autofree char *script = NULL;
        g_autofree char *log_text = NULL;
        g_autoptr(GHashTable) refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                                NULL);
        g_auto(GStrv) env = sanlock_test_host_environ(sanlock_test_host(1));
        g_autoptr(GError) error = NULL;
        RaceDisk disks[RACE_DISKS] = { { 0 } };
        guint starts = 0, refused = 0, unclear = 0, doubles = 0, runs = 0, deleted = 0;
        guint renewed = 0;
        GHashTableIter iter;
        gpointer key, value;
        gint64 start_time, deadline, hard_deadline;
        GPid loop_pid;
        int status;
        const char *argv[] = { "/bin/sh", "-c", NULL, NULL };

        for (guint i = 0; i < RACE_DISKS; i++) {
                disks[i].disk = sanlock_test_disk_path("race");
                disks[i].lease = sanlock_test_disk_lease_path(disks[i].disk);
        }

        /* Host 1 cleans up in a loop the whole time. */
        script = g_strdup_printf("while [ ! -e '%s' ]; do '%s' --verbose; echo \"exit $?\"; "
                                 "done > '%s' 2>&1", stop, tool_path(), log);
        argv[2] = script;
        g_assert_true(g_spawn_async(NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                    NULL, &loop_pid, &error));
        g_assert_no_error(error);

        /* At least @seconds, and on until the starts raced deletions a few
         * times (a start refused because the cleanup held the lease to
         * delete it, or one that found its lease file deleted and made
         * anew while it started), within a hard limit. */
        start_time = g_get_monotonic_time();
        deadline = start_time + (gint64)seconds * G_USEC_PER_SEC;
        hard_deadline = start_time + (gint64)MAX(seconds, RACE_SECONDS_MAX) * G_USEC_PER_SEC;
        for (;;) {
                gint64 now = g_get_monotonic_time();
                RaceDisk *d = &disks[g_random_int_range(0, RACE_DISKS)];
                guint host = (guint)g_random_int_range(1, SANLOCK_TEST_N_HOSTS + 1);
                SanlockTestGuest *guest;
                ino_t before;

                if (now >= hard_deadline ||
                    (now >= deadline && refused + renewed >= RACE_MIN_RACES))
                        break;

                if (d->guest && g_random_boolean()) {
                        g_assert_cmpint(sanlock_test_guest_stop(d->guest), ==, 0);
                        g_clear_pointer(&d->guest, sanlock_test_guest_free);
                        continue;
                }

                starts++;
                before = file_inode(d->lease);
                guest = start_guest(host, d->disk, FALSE, &error);
                if (guest && d->guest)
                        g_error("two guests hold %s: one on host %u, one on host %u", d->disk,
                                d->host, host);
                if (guest) {
                        d->guest = guest;
                        d->host = host;
                        /* the file it found was deleted while it started */
                        if (before != 0 && file_inode(d->lease) != before)
                                renewed++;
                } else if (d->guest) {
                        /* the holder refuses everyone */
                        doubles++;
                        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
                } else {
                        /* raced with the cleanup, which held the lease to delete it */
                        g_autofree char *what = g_strdup_printf("%s: %s",
                                                                g_quark_to_string(error->domain),
                                                                error->message);
                        guint count = GPOINTER_TO_UINT(g_hash_table_lookup(refusals, what));

                        refused++;
                        g_hash_table_replace(refusals, g_steal_pointer(&what),
                                             GUINT_TO_POINTER(count + 1));
                        if (!is_retryable(error))
                                unclear++;
                }
                g_clear_error(&error);
                assert_holders(disks, RACE_DISKS);
        }

        g_assert_true(g_file_set_contents(stop, "", -1, NULL));
        g_assert_cmpint(waitpid(loop_pid, &status, 0), ==, loop_pid);
        g_spawn_close_pid(loop_pid);
        assert_holders(disks, RACE_DISKS);

        g_assert_true(g_file_get_contents(log, &log_text, NULL, NULL));
        for (const char *p = log_text; (p = strstr(p, "exit ")); p += 5) {
                runs++;
                if (p[5] != '0')
                        g_error("a cleanup run failed:\n%s", log_text);
        }
        for (const char *p = log_text; (p = strstr(p, "\ndeleted ")); p += 9)
                deleted++;
        g_test_message("%u starts in %.1f s (%u refused while a guest held the disk, %u "
                       "refused by the race, %u of them unclearly, %u started on a lease file "
                       "made anew after a deletion), %u cleanup runs deleting %u lease files",
                       starts, (g_get_monotonic_time() - start_time) / (double)G_USEC_PER_SEC,
                       doubles, refused, unclear, renewed, runs, deleted);
        g_hash_table_iter_init(&iter, refusals);
        while (g_hash_table_iter_next(&iter, &key, &value))
                g_test_message("%4u x %s", GPOINTER_TO_UINT(value), (const char *)key);
        g_assert_cmpuint(runs, >, 0);
        g_assert_cmpuint(deleted, >, 0);
        /* a race that never happened proves nothing */
        if (refused + renewed == 0)
                g_error("no start raced a deletion in %u starts and %u cleanup runs: the test "
                        "tested nothing", starts, runs);

        /* Racing with a cleanup, a start may only be told to try again: the
         * lease is busy for a moment, or (the driver having created a
         * removed file anew and retried a few times) "was removed while
         * starting; try again". Anything else is listed above. */
        g_assert_cmpuint(unclear, ==, 0);
        for (guint i = 0; i < RACE_DISKS; i++) {
                if (disks[i].guest)
                        g_assert_cmpint(sanlock_test_guest_stop(disks[i].guest), ==, 0);
                sanlock_test_guest_free(disks[i].guest);
                g_free(disks[i].disk);
                g_free(disks[i].lease);
        }
        g_assert_cmpint(unlink(stop), ==, 0);
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/cleanup/unused-removed-used-kept", test_unused_removed_used_kept);
        g_test_add_func("/cleanup/others-skipped", test_others_skipped);
        g_test_add_func("/cleanup/dry-run-and-quiet", test_dry_run_and_quiet);
        g_test_add_func("/cleanup/failure-reported", test_failure_reported);
        g_test_add_func("/cleanup/damaged-reported", test_damaged_reported);
        g_test_add_func("/cleanup/cannot-run", test_cannot_run);
        g_test_add_func("/cleanup/removed-lease-dead", test_removed_lease_dead);
        g_test_add_func("/cleanup/race-with-starts", test_race_with_starts);
        return g_test_run();
}
