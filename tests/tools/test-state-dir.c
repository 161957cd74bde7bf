/* vmlock: tests of the vmlock command's state directory (src/supervisor/state_dir.c). */
#define _GNU_SOURCE /* pipe2, accept4 */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/vmlock.h>

#include "supervisor/state_dir.h"
#include "util/proc_stat.h"

#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define N_WRITERS 8
#define N_ROUNDS 40

typedef struct {
        char *dir; /* a fresh state dir (not yet created) */
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = g_dir_make_tmp("vmlock-state-XXXXXX", &error);

        g_assert_no_error(error);
        fx->dir = g_build_filename(tmp, "state", NULL);
}

static void
remove_tree(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        if (dir) {
                while ((name = g_dir_read_name(dir))) {
                        g_autofree char *child = g_build_filename(path, name, NULL);

                        remove_tree(child);
                }
        }
        g_remove(path);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
        g_autofree char *parent = g_path_get_dirname(fx->dir);

        remove_tree(parent);
        g_free(fx->dir);
}

/* A record of a guest with every kind of resource; @pid's start time is read
 * from /proc when it runs, else made up. */
static GuestRecord *
make_record(const char *name, pid_t pid)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_new(name, UUID, &error);
        GuestRecord *record;
        guint64 start_time = 1;

        g_assert_no_error(error);
        vmlock_domain_set_pid(dom, pid);
        vmlock_domain_set_on_lockfailure(dom, VMLOCK_LOCK_FAILURE_PAUSE);
        /* Characters a GKeyFile group name could not hold. */
        vmlock_domain_add_disk(dom, vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                    VMLOCK_DISK_DEVICE_DISK,
                                                    "/var/lib/a [1]=x.img", FALSE, FALSE,
                                                    &error));
        g_assert_no_error(error);
        vmlock_domain_add_disk(dom, vmlock_disk_new(VMLOCK_DISK_TYPE_BLOCK,
                                                    VMLOCK_DISK_DEVICE_LUN, "/dev/sdb", TRUE,
                                                    TRUE, &error));
        g_assert_no_error(error);
        vmlock_domain_add_disk(dom, vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                    VMLOCK_DISK_DEVICE_CDROM, NULL, TRUE, FALSE,
                                                    &error));
        g_assert_no_error(error);
        vmlock_domain_add_lease(dom, vmlock_lease_new("TESTLS", "key1", "/shared/leases",
                                                      G_GUINT64_CONSTANT(1048576), &error));
        g_assert_no_error(error);
        vmlock_domain_add_lease(dom, vmlock_lease_new(NULL, "key2", "/shared/other", 0,
                                                      &error));
        g_assert_no_error(error);

        if (pid > 0)
                proc_pid_stat(pid, NULL, &start_time, NULL);
        record = guest_record_new(dom);
        record->pid_start_time = start_time;
        record->domain_xml = g_strdup("/etc/guests/g.xml");
        record->lock_manager = g_strdup("sanlock");
        record->supervisor_pid = 4242;
        record->qmp = g_strdup("/run/g.qmp");
        record->paused = TRUE;
        record->released = TRUE;
        record->lock_state = g_strdup("TESTLS:key1:/shared/leases:1048576:5");
        record->lease_lost = TRUE;
        /* A separator in a path survives. */
        record->unprotected = g_strsplit("/img/a;b.img|/img/c.img", "|", -1);
        record->in_flight = g_strdup("attach-disk /img/d.img");
        return record;
}

static void
assert_records_equal(const GuestRecord *a, const GuestRecord *b)
{
        g_assert_cmpstr(vmlock_domain_get_name(a->dom), ==, vmlock_domain_get_name(b->dom));
        g_assert_cmpstr(vmlock_domain_get_uuid_string(a->dom), ==,
                        vmlock_domain_get_uuid_string(b->dom));
        g_assert_cmpint(vmlock_domain_get_pid(a->dom), ==, vmlock_domain_get_pid(b->dom));
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(a->dom), ==,
                        vmlock_domain_get_on_lockfailure(b->dom));
        g_assert_cmpuint(a->pid_start_time, ==, b->pid_start_time);
        g_assert_cmpstr(a->domain_xml, ==, b->domain_xml);
        g_assert_cmpstr(a->lock_manager, ==, b->lock_manager);
        g_assert_cmpint(a->supervisor_pid, ==, b->supervisor_pid);
        g_assert_cmpstr(a->qmp, ==, b->qmp);
        g_assert_cmpint(a->paused, ==, b->paused);
        g_assert_cmpint(a->released, ==, b->released);
        g_assert_cmpstr(a->lock_state, ==, b->lock_state);
        g_assert_cmpint(a->lease_lost, ==, b->lease_lost);
        g_assert_cmpstrv(a->unprotected, b->unprotected);
        g_assert_cmpstr(a->in_flight, ==, b->in_flight);

        g_assert_cmpuint(vmlock_domain_get_n_disks(a->dom), ==,
                         vmlock_domain_get_n_disks(b->dom));
        for (guint i = 0; i < vmlock_domain_get_n_disks(a->dom); i++) {
                const VmlockDisk *da = vmlock_domain_get_disk(a->dom, i);
                const VmlockDisk *db = vmlock_domain_get_disk(b->dom, i);

                g_assert_cmpstr(vmlock_disk_get_source(da), ==, vmlock_disk_get_source(db));
                g_assert_cmpint(vmlock_disk_get_type(da), ==, vmlock_disk_get_type(db));
                g_assert_cmpint(vmlock_disk_get_device(da), ==, vmlock_disk_get_device(db));
                g_assert_cmpint(vmlock_disk_get_readonly(da), ==, vmlock_disk_get_readonly(db));
                g_assert_cmpint(vmlock_disk_get_shareable(da), ==,
                                vmlock_disk_get_shareable(db));
        }
        g_assert_cmpuint(vmlock_domain_get_n_leases(a->dom), ==,
                         vmlock_domain_get_n_leases(b->dom));
        for (guint i = 0; i < vmlock_domain_get_n_leases(a->dom); i++) {
                const VmlockLease *la = vmlock_domain_get_lease(a->dom, i);
                const VmlockLease *lb = vmlock_domain_get_lease(b->dom, i);

                g_assert_cmpstr(vmlock_lease_get_lockspace(la), ==,
                                vmlock_lease_get_lockspace(lb));
                g_assert_cmpstr(vmlock_lease_get_key(la), ==, vmlock_lease_get_key(lb));
                g_assert_cmpstr(vmlock_lease_get_path(la), ==, vmlock_lease_get_path(lb));
                g_assert_cmpuint(vmlock_lease_get_offset(la), ==, vmlock_lease_get_offset(lb));
        }
}

static void
test_roundtrip(void)
{
        g_autoptr(GuestRecord) record = make_record("guest-1", 4242);
        g_autoptr(GuestRecord) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        gsize len;

        data = guest_record_to_data(record, &len);
        back = guest_record_from_data(data, len, "x.state", &error);
        g_assert_no_error(error);
        assert_records_equal(record, back);
}

/* More than ten resources keep their order ("disk.10" after "disk.9"). */
static void
test_roundtrip_many(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_new("many", NULL, &error);
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GuestRecord) back = NULL;
        g_autofree char *data = NULL;
        gsize len;

        g_assert_no_error(error);
        vmlock_domain_set_pid(dom, 1);
        for (guint i = 0; i < 23; i++) {
                g_autofree char *path = g_strdup_printf("/disks/%u.img", i);

                vmlock_domain_add_disk(dom, vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                            VMLOCK_DISK_DEVICE_DISK, path,
                                                            FALSE, FALSE, &error));
                g_assert_no_error(error);
        }
        record = guest_record_new(dom);
        data = guest_record_to_data(record, &len);
        back = guest_record_from_data(data, len, "many.state", &error);
        g_assert_no_error(error);
        assert_records_equal(record, back);
}

static void
test_damaged(void)
{
        static const char *const cases[] = {
                "not a key file",
                "[guest]\nuuid=" UUID "\npid=1\npid_start_time=1\n",           /* no name */
                "[guest]\nname=g\nuuid=nope\npid=1\npid_start_time=1\n",       /* bad uuid */
                "[guest]\nname=g\nuuid=" UUID "\npid=0\npid_start_time=1\n",   /* bad pid */
                "[guest]\nname=g\nuuid=" UUID "\npid=x\npid_start_time=1\n",   /* bad pid */
                "[guest]\nname=g\nuuid=" UUID "\npid=1\n",                     /* no start time */
                "[guest]\nname=g\nuuid=" UUID "\npid=1\npid_start_time=1\n"
                "on_lockfailure=explode\n",
                "[guest]\nname=g\nuuid=" UUID "\npid=1\npid_start_time=1\n"
                "[disk.0]\npath=/x\ntype=floppy\ndevice=disk\n",
                "[guest]\nname=g\nuuid=" UUID "\npid=1\npid_start_time=1\n"
                "[lease.0]\nkey=k\n", /* no path */
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GuestRecord) record = guest_record_from_data(cases[i], strlen(cases[i]),
                                                                       "/state/g.state", &error);

                g_test_message("case %zu: %s", i, error ? error->message : "(parsed)");
                g_assert_null(record);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
                g_assert_nonnull(strstr(error->message, "/state/g.state"));
        }
}

static void
test_bad_names(void)
{
        static const char *const bad[] = { "", ".hidden", "..", "a/b", "/abs" };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_false(state_dir_check_name(bad[i], &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        }
        g_assert_true(state_dir_check_name("guest-1.example", NULL));
}

static void
test_save_load(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) record = make_record("g", getpid());
        g_autoptr(GuestRecord) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fx->dir, "g.state", NULL);
        g_auto(GStrv) names = NULL;
        struct stat st;

        g_assert_true(state_dir_save(fx->dir, record, &error));
        g_assert_no_error(error);
        g_assert_cmpint(stat(fx->dir, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0700);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);

        back = state_dir_load(fx->dir, "g", &error);
        g_assert_no_error(error);
        assert_records_equal(record, back);

        names = state_dir_list_names(fx->dir, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_strv_length(names), ==, 1);
        g_assert_cmpstr(names[0], ==, "g");

        g_assert_true(state_dir_remove(fx->dir, "g", &error));
        g_assert_true(state_dir_remove(fx->dir, "g", &error)); /* gone already: fine */
        g_clear_pointer(&back, guest_record_free);
        back = state_dir_load(fx->dir, "g", &error);
        g_assert_null(back);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "no guest named 'g'"));
}

static void
test_list_missing_dir(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) names = state_dir_list_names(fx->dir, &error);
        g_autoptr(GPtrArray) records = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(g_strv_length(names), ==, 0);
        records = state_dir_list_alive(fx->dir, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(records->len, ==, 0);
}

/* A pid that ran and was reaped: nobody has it (until reuse). */
static pid_t
dead_pid(void)
{
        pid_t pid = fork();

        g_assert_cmpint(pid, >=, 0);
        if (pid == 0)
                _exit(0);
        g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
        return pid;
}

static void
test_alive(void)
{
        g_autoptr(GuestRecord) record = make_record("g", getpid());
        pid_t zombie;
        int pipefd[2];
        char c;

        g_assert_true(guest_record_is_alive(record));

        /* Same pid, other start time: the pid was reused by another process. */
        record->pid_start_time++;
        g_assert_false(guest_record_is_alive(record));

        vmlock_domain_set_pid(record->dom, dead_pid());
        g_assert_false(guest_record_is_alive(record));

        /* A zombie has exited; its parent only has not reaped it. */
        g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
        zombie = fork();
        g_assert_cmpint(zombie, >=, 0);
        if (zombie == 0)
                _exit(0);
        close(pipefd[1]);
        g_assert_cmpint(read(pipefd[0], &c, 1), ==, 0); /* the child has exited */
        close(pipefd[0]);
        vmlock_domain_set_pid(record->dom, zombie);
        g_assert_true(proc_pid_stat(zombie, NULL, &record->pid_start_time, NULL));
        for (int i = 0; i < 100; i++) {
                char state = 0;
                guint64 t;

                if (proc_pid_stat(zombie, &state, &t, NULL) && state == 'Z')
                        break;
                g_usleep(10000);
        }
        g_assert_false(guest_record_is_alive(record));
        waitpid(zombie, NULL, 0);
}

/* A process name with blanks and parentheses does not fool the parser. */
static void
test_proc_stat_odd_name(void)
{
        g_autoptr(GError) error = NULL;
        guint64 parent_time;
        guint64 child_time;
        int pipefd[2];
        char state;
        pid_t pid;

        g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                char c;

                prctl(PR_SET_NAME, "a) b (c) d", 0, 0, 0);
                close(pipefd[1]);
                (void)!read(pipefd[0], &c, 1);
                _exit(0);
        }
        close(pipefd[0]);
        g_assert_true(proc_pid_stat(getpid(), NULL, &parent_time, &error));
        /* Named, and asleep in its read (a loaded machine may still run it
         * a moment after the rename). */
        for (int i = 0; i < 1000; i++) {
                g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
                g_autofree char *comm = NULL;

                if (g_file_get_contents(path, &comm, NULL, NULL) && g_str_has_prefix(comm, "a) b") &&
                    proc_pid_stat(pid, &state, &child_time, NULL) && state == 'S')
                        break;
                g_usleep(10000);
        }
        g_assert_true(proc_pid_stat(pid, &state, &child_time, &error));
        g_assert_no_error(error);
        g_assert_cmpint(state, ==, 'S');
        g_assert_cmpuint(child_time, >=, parent_time);
        close(pipefd[1]);
        waitpid(pid, NULL, 0);

        g_assert_false(proc_pid_stat(dead_pid(), NULL, &child_time, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
}

/* A stale record is not listed and is removed; a live one stays. */
static void
test_list_alive_stale(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) live = make_record("live", getpid());
        g_autoptr(GuestRecord) stale = make_record("stale", dead_pid());
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GuestRecord) found = NULL;
        g_auto(GStrv) names = NULL;

        g_assert_true(state_dir_save(fx->dir, live, &error));
        g_assert_true(state_dir_save(fx->dir, stale, &error));
        g_assert_no_error(error);

        g_assert_null(state_dir_load_alive(fx->dir, "stale", &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "is gone"));
        g_clear_error(&error);

        records = state_dir_list_alive(fx->dir, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(records->len, ==, 1);
        g_assert_cmpstr(vmlock_domain_get_name(((GuestRecord *)records->pdata[0])->dom), ==,
                        "live");
        names = state_dir_list_names(fx->dir, &error);
        g_assert_cmpuint(g_strv_length(names), ==, 1);
        g_assert_cmpstr(names[0], ==, "live");

        found = state_dir_find_uuid(fx->dir, UUID, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_domain_get_name(found->dom), ==, "live");
        g_assert_null(state_dir_find_uuid(fx->dir, "00000000-0000-0000-0000-000000000001",
                                          &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

/* remove_if_owned leaves a record that a newer start wrote. */
static void
test_remove_if_owned(Fixture *fx, gconstpointer data)
{
        g_autoptr(GuestRecord) record = make_record("g", getpid());
        g_autoptr(GuestRecord) back = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(state_dir_save(fx->dir, record, &error));
        g_assert_true(state_dir_remove_if_owned(fx->dir, "g", getpid(),
                                                record->pid_start_time + 1, &error));
        back = state_dir_load(fx->dir, "g", &error);
        g_assert_no_error(error);
        g_assert_true(state_dir_remove_if_owned(fx->dir, "g", getpid(), record->pid_start_time,
                                                &error));
        g_assert_no_error(error);
        g_clear_pointer(&back, guest_record_free);
        back = state_dir_load(fx->dir, "g", &error);
        g_assert_null(back);
}

/* The name lock excludes a second holder, even in another process. */
static void
test_name_lock(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *lock_path = NULL;
        int status;
        int fd = state_dir_lock_name(fx->dir, "g", &error);
        pid_t pid;

        g_assert_no_error(error);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
        lock_path = g_build_filename(fx->dir, "g.lock", NULL);

        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                int other = open(lock_path, O_RDWR | O_CLOEXEC);

                _exit(other >= 0 && flock(other, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK
                              ? 0
                              : 1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(fd);

        /* Another name is another lock. */
        fd = state_dir_lock_name(fx->dir, "h", &error);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
        g_assert_cmpint(state_dir_lock_name(fx->dir, "../x", &error), ==, -1);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

/* Writer @k saves the record of @name N_ROUNDS times; each version is
 * self-consistent: its lock_state names the same writer and round as its
 * first disk. */
static void G_GNUC_NORETURN
writer(const char *dir, const char *name, int k)
{
        for (int round = 0; round < N_ROUNDS; round++) {
                g_autoptr(GuestRecord) record = make_record(name, 1000 + k);
                g_autofree char *tag = g_strdup_printf("writer-%d-round-%d", k, round);
                g_autoptr(GError) error = NULL;

                g_free(record->lock_state);
                record->lock_state = g_strdup(tag);
                /* Make the file big enough to be written in several pieces. */
                for (int i = 0; i < 50; i++) {
                        g_autofree char *path = g_strdup_printf("/disks/%s/%d.img", tag, i);

                        vmlock_domain_add_disk(record->dom,
                                               vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                               VMLOCK_DISK_DEVICE_DISK, path,
                                                               FALSE, FALSE, NULL));
                }
                if (!state_dir_save(dir, record, &error))
                        _exit(1);
        }
        _exit(0);
}

static void
assert_record_consistent(const GuestRecord *record)
{
        g_autofree char *prefix = NULL;
        guint n = vmlock_domain_get_n_disks(record->dom);

        g_assert_cmpuint(n, ==, 3 + 50);
        prefix = g_strdup_printf("/disks/%s/", record->lock_state);
        for (guint i = 3; i < n; i++)
                g_assert_true(g_str_has_prefix(
                        vmlock_disk_get_source(vmlock_domain_get_disk(record->dom, i)), prefix));
        g_assert_cmpint(vmlock_domain_get_pid(record->dom), ==,
                        1000 + atoi(record->lock_state + strlen("writer-")));
}

static void
wait_writers(const pid_t *pids)
{
        for (int k = 0; k < N_WRITERS; k++) {
                int status;

                g_assert_cmpint(waitpid(pids[k], &status, 0), ==, pids[k]);
                g_assert_true(WIFEXITED(status));
                g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        }
}

/* 8 processes replace one record at once while we read it: every read sees
 * one whole version, and no temporary file is left behind. */
static void
test_concurrent_same_name(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) names = NULL;
        g_autoptr(GDir) dir = NULL;
        pid_t pids[N_WRITERS];
        int statuses[N_WRITERS];
        gboolean reaped[N_WRITERS] = { FALSE };
        guint n_reads = 0;
        int n_done = 0;

        g_assert_true(state_dir_ensure(fx->dir, &error));
        for (int k = 0; k < N_WRITERS; k++) {
                pids[k] = fork();
                g_assert_cmpint(pids[k], >=, 0);
                if (pids[k] == 0)
                        writer(fx->dir, "shared", k);
        }
        while (n_done < N_WRITERS) {
                g_autoptr(GuestRecord) record = NULL;
                g_autoptr(GError) load_error = NULL;

                for (int k = 0; k < N_WRITERS; k++) {
                        if (!reaped[k] && waitpid(pids[k], &statuses[k], WNOHANG) == pids[k]) {
                                reaped[k] = TRUE;
                                n_done++;
                        }
                }
                record = state_dir_load(fx->dir, "shared", &load_error);
                if (!record) {
                        /* Only "not there yet" is acceptable. */
                        g_assert_error(load_error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                        continue;
                }
                assert_record_consistent(record);
                n_reads++;
        }
        for (int k = 0; k < N_WRITERS; k++)
                g_assert_true(WIFEXITED(statuses[k]) && WEXITSTATUS(statuses[k]) == 0);
        g_test_message("%u consistent reads during the writes", n_reads);

        names = state_dir_list_names(fx->dir, &error);
        g_assert_cmpuint(g_strv_length(names), ==, 1);
        dir = g_dir_open(fx->dir, 0, &error);
        g_assert_no_error(error);
        for (const char *entry; (entry = g_dir_read_name(dir));)
                g_assert_true(g_str_equal(entry, "shared.state"));
        {
                g_autoptr(GuestRecord) last = state_dir_load(fx->dir, "shared", &error);

                g_assert_no_error(error);
                assert_record_consistent(last);
                g_assert_true(g_str_has_suffix(last->lock_state, "-round-39"));
        }
}

/* 8 processes record 8 guests at once: all 8 records are there, intact. */
static void
test_concurrent_names(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) names = NULL;
        pid_t pids[N_WRITERS];

        for (int k = 0; k < N_WRITERS; k++) {
                pids[k] = fork();
                g_assert_cmpint(pids[k], >=, 0);
                if (pids[k] == 0) {
                        g_autofree char *name = g_strdup_printf("guest-%d", k);

                        /* Each creates the directory too: racing mkdirs are fine. */
                        writer(fx->dir, name, k);
                }
        }
        wait_writers(pids);

        names = state_dir_list_names(fx->dir, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_strv_length(names), ==, N_WRITERS);
        for (int k = 0; k < N_WRITERS; k++) {
                g_autofree char *name = g_strdup_printf("guest-%d", k);
                g_autoptr(GuestRecord) record = state_dir_load(fx->dir, name, &error);

                g_assert_no_error(error);
                g_assert_cmpstr(names[k], ==, name);
                assert_record_consistent(record);
                g_assert_cmpint(vmlock_domain_get_pid(record->dom), ==, 1000 + k);
        }
}

static void
test_path_resolve(void)
{
        g_assert_cmpstr(state_dir_path_resolve("/opt"), ==, "/opt");
        g_setenv("VMLOCK_STATE_DIR", "/from/env", TRUE);
        g_assert_cmpstr(state_dir_path_resolve(NULL), ==, "/from/env");
        g_assert_cmpstr(state_dir_path_resolve("/opt"), ==, "/opt");
        g_unsetenv("VMLOCK_STATE_DIR");
        g_assert_cmpstr(state_dir_path_resolve(NULL), ==, VMLOCK_DEFAULT_STATE_DIR);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/tools/state-dir/record/roundtrip", test_roundtrip);
        g_test_add_func("/tools/state-dir/record/roundtrip-many", test_roundtrip_many);
        g_test_add_func("/tools/state-dir/record/damaged", test_damaged);
        g_test_add_func("/tools/state-dir/bad-names", test_bad_names);
        g_test_add_func("/tools/state-dir/path-resolve", test_path_resolve);
        g_test_add_func("/tools/state-dir/alive", test_alive);
        g_test_add_func("/tools/state-dir/proc-stat-odd-name", test_proc_stat_odd_name);
        g_test_add("/tools/state-dir/save-load", Fixture, NULL, fixture_setup, test_save_load,
                   fixture_teardown);
        g_test_add("/tools/state-dir/list-missing-dir", Fixture, NULL, fixture_setup,
                   test_list_missing_dir, fixture_teardown);
        g_test_add("/tools/state-dir/list-alive-stale", Fixture, NULL, fixture_setup,
                   test_list_alive_stale, fixture_teardown);
        g_test_add("/tools/state-dir/remove-if-owned", Fixture, NULL, fixture_setup,
                   test_remove_if_owned, fixture_teardown);
        g_test_add("/tools/state-dir/name-lock", Fixture, NULL, fixture_setup, test_name_lock,
                   fixture_teardown);
        g_test_add("/tools/state-dir/concurrent/same-name", Fixture, NULL, fixture_setup,
                   test_concurrent_same_name, fixture_teardown);
        g_test_add("/tools/state-dir/concurrent/names", Fixture, NULL, fixture_setup,
                   test_concurrent_names, fixture_teardown);

        return g_test_run();
}
