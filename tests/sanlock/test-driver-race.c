/* vmlock tests: many processes on both hosts racing to create the same lease and lockspace files. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sanlock.h>
#include <sanlock_admin.h>

#include "sanlock-test-util.h"

#define N_RACERS 16
/* First words of an initialised file (little-endian, as on this host). */
#define PAXOS_LEADER_MAGIC 0x06152010u
#define DELTA_LEASE_MAGIC 0x12212010u

/* ---- watching a name appear ------------------------------------------------ */

/* Counts what happens to @name in @dir, and reads the file the moment it
 * appears: a file published half-initialised would show zeros there. */
typedef struct {
        char *dir;
        char *name;
        guint32 magic;
        int inotify_fd;
        int stop_pipe[2];
        GThread *thread;
        /* written by the thread, read after it is joined */
        guint created;
        guint removed;
        gboolean valid_at_first_sight;
        guint32 first_word;
} Watch;

static void
watch_check_file(Watch *watch)
{
        g_autofree char *path = g_build_filename(watch->dir, watch->name, NULL);
        guint32 word = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
                if (pread(fd, &word, sizeof(word), 0) != sizeof(word))
                        word = 0;
                close(fd);
        }
        watch->first_word = word;
        watch->valid_at_first_sight = word == watch->magic;
}

static void
watch_read_events(Watch *watch)
{
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t len = read(watch->inotify_fd, buf, sizeof(buf));

                if (len <= 0)
                        return;
                for (char *p = buf; p < buf + len;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;

                        p += sizeof(*ev) + ev->len;
                        if (ev->len == 0 || strcmp(ev->name, watch->name) != 0)
                                continue;
                        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
                                if (watch->created++ == 0)
                                        watch_check_file(watch);
                        }
                        if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
                                watch->removed++;
                }
        }
}

static gpointer
watch_thread(gpointer data)
{
        Watch *watch = data;
        struct pollfd fds[2] = {
                { .fd = watch->inotify_fd, .events = POLLIN },
                { .fd = watch->stop_pipe[0], .events = POLLIN },
        };

        for (;;) {
                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        break;
                if (fds[0].revents & POLLIN)
                        watch_read_events(watch);
                if (fds[1].revents & POLLIN) {
                        watch_read_events(watch);
                        break;
                }
        }
        return NULL;
}

/* Starts watching; call after the racers are forked (no fork while it runs). */
static Watch *
watch_new(const char *dir, const char *name, guint32 magic)
{
        Watch *watch = g_new0(Watch, 1);

        watch->dir = g_strdup(dir);
        watch->name = g_strdup(name);
        watch->magic = magic;
        watch->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        g_assert_cmpint(watch->inotify_fd, >=, 0);
        g_assert_cmpint(inotify_add_watch(watch->inotify_fd, dir,
                                          IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM),
                        >=, 0);
        g_assert_true(g_unix_open_pipe(watch->stop_pipe, FD_CLOEXEC, NULL));
        return watch;
}

static void
watch_start(Watch *watch)
{
        watch->thread = g_thread_new("watch", watch_thread, watch);
}

static void
watch_stop(Watch *watch)
{
        g_assert_cmpint(write(watch->stop_pipe[1], "x", 1), ==, 1);
        g_thread_join(watch->thread);
        watch->thread = NULL;
}

static void
watch_free(Watch *watch)
{
        if (!watch)
                return;
        if (watch->thread)
                watch_stop(watch);
        close(watch->inotify_fd);
        close(watch->stop_pipe[0]);
        close(watch->stop_pipe[1]);
        g_free(watch->dir);
        g_free(watch->name);
        g_free(watch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Watch, watch_free)

/* Exactly one file was published under the name, complete when it appeared,
 * and never replaced. */
static void
assert_published_once(const Watch *watch)
{
        g_test_message("%s: created %u, removed %u, first word 0x%08x", watch->name,
                       watch->created, watch->removed, watch->first_word);
        g_assert_cmpuint(watch->created, ==, 1);
        g_assert_cmpuint(watch->removed, ==, 0);
        g_assert_true(watch->valid_at_first_sight);
}

/* No temporary file of the creators is left behind. */
static void
assert_no_leftovers(const char *dir, const char *name)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autofree char *prefix = g_strdup_printf(".%s.", name);
        const char *entry;

        g_assert_nonnull(d);
        while ((entry = g_dir_read_name(d)))
                g_assert_false(g_str_has_prefix(entry, prefix));
}

/* ---- the lease file --------------------------------------------------------- */

static void
test_lease_file(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *disk = sanlock_test_disk_path("race");
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);
        g_autofree char *md5 = g_path_get_basename(lease);
        g_autoptr(SanlockTestGate) gate = sanlock_test_gate_new();
        g_autoptr(Watch) watch = watch_new(h->lease_dir, md5, PAXOS_LEADER_MAGIC);
        g_autoptr(VmlockDomain) late = NULL;
        g_autoptr(SanlockTestGuest) late_guest = NULL;
        g_autoptr(GError) late_error = NULL;
        VmlockDomain *doms[N_RACERS];
        SanlockTestGuest *guests[N_RACERS];
        SanlockTestStart starts[N_RACERS];
        guint winners = 0;
        guint winner = 0;

        g_assert_false(g_file_test(lease, G_FILE_TEST_EXISTS));
        for (guint i = 0; i < N_RACERS; i++) {
                g_autofree char *name = sanlock_test_unique_name("racer");

                doms[i] = sanlock_test_domain_new(name);
                sanlock_test_domain_add_disk(doms[i], disk, FALSE, FALSE);
                starts[i] = (SanlockTestStart) { doms[i], FALSE };
                guests[i] = sanlock_test_guest_begin(sanlock_test_host(1 + i % 2),
                                                     sanlock_test_process_start, &starts[i],
                                                     gate);
        }
        watch_start(watch);
        sanlock_test_gate_open(gate);

        /* Each racer gets the disk or is told, clearly, that someone has it. */
        for (guint i = 0; i < N_RACERS; i++) {
                g_autoptr(GError) error = NULL;

                if (sanlock_test_guest_finish(guests[i], &error)) {
                        winners++;
                        winner = i;
                        continue;
                }
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
                g_assert_nonnull(strstr(error->message, disk));
        }
        watch_stop(watch);
        g_test_message("%u of %d racers got the disk", winners, N_RACERS);

        assert_published_once(watch);
        assert_no_leftovers(h->lease_dir, md5);
        /* Colliding ballots may leave nobody holding it, never two. */
        g_assert_cmpuint(winners, <=, 1);
        if (winners == 1)
                g_assert_cmpint(sanlock_test_guest_stop(guests[winner]), ==, 0);

        for (guint i = 0; i < N_RACERS; i++) {
                sanlock_test_guest_free(guests[i]);
                vmlock_domain_unref(doms[i]);
        }

        /* The lease the race left is sound: the next guest gets it. */
        late = sanlock_test_domain_new("race-late");
        sanlock_test_domain_add_disk(late, disk, FALSE, FALSE);
        starts[0] = (SanlockTestStart) { late, FALSE };
        late_guest = sanlock_test_guest_start(sanlock_test_host(2), sanlock_test_process_start,
                                              &starts[0], &late_error);
        g_assert_no_error(late_error);
}

/* ---- the lockspace file ----------------------------------------------------- */

/* A config as host @id with its own, fresh disk_lease_dir @dir. */
static char *
write_config(guint id, const char *dir)
{
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\n"
                                                "disk_lease_dir = \"%s\"\n"
                                                "host_id = %u\n", dir, id);

        return sanlock_test_config_dir_new(text);
}

static gboolean
read_lockspace(gpointer data, GString *reply, GError **error)
{
        const char *path = data;
        struct sanlk_lockspace ls = { 0 };
        uint32_t io_timeout = 0;
        int rv;

        g_strlcpy(ls.host_id_disk.path, path, sizeof(ls.host_id_disk.path));
        rv = sanlock_read_lockspace(&ls, 0, &io_timeout);
        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_read_lockspace(%s)", path);
                return FALSE;
        }
        g_string_append(reply, ls.name);
        return TRUE;
}

/* Every racer runs the driver's setup against a directory without a
 * lockspace. The daemons are in the harness's __LIBVIRT__DISKS__ already, so
 * the join after the file's creation fails, the same way for every racer: the
 * file race is what is tested. */
static void
test_lockspace_file(void)
{
        g_autofree char *base = g_build_filename(sanlock_test_scratch_dir(), "ls-race", NULL);
        g_autofree char *dir = g_build_filename(base, "leases", NULL);
        g_autofree char *path = g_build_filename(dir, "__LIBVIRT__DISKS__", NULL);
        g_autofree char *etc1 = NULL;
        g_autofree char *etc2 = NULL;
        g_autofree char *name = NULL;
        g_autoptr(SanlockTestGate) gate = sanlock_test_gate_new();
        g_autoptr(Watch) watch = NULL;
        g_autoptr(GError) error = NULL;
        SanlockTestCall *calls[N_RACERS];
        struct stat st;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        etc1 = write_config(1, dir);
        etc2 = write_config(2, dir);
        watch = watch_new(dir, "__LIBVIRT__DISKS__", DELTA_LEASE_MAGIC);

        for (guint i = 0; i < N_RACERS; i++) {
                guint id = 1 + i % 2;

                calls[i] = sanlock_test_host_call_begin(sanlock_test_host(id),
                                                        sanlock_test_init_driver,
                                                        id == 1 ? etc1 : etc2, gate);
        }
        watch_start(watch);
        sanlock_test_gate_open(gate);

        for (guint i = 0; i < N_RACERS; i++) {
                g_autoptr(GError) racer_error = NULL;

                g_assert_false(sanlock_test_host_call_finish(calls[i], NULL, &racer_error));
                if (i == 0)
                        g_test_message("%s", racer_error->message);
                /* never "no initialised lease", never an I/O error */
                g_assert_error(racer_error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE);
                g_assert_nonnull(strstr(racer_error->message, path));
        }
        watch_stop(watch);

        assert_published_once(watch);
        assert_no_leftovers(dir, "__LIBVIRT__DISKS__");
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
        g_assert_cmpint(st.st_size, ==, 1024 * 1024);

        g_assert_true(sanlock_test_host_call(sanlock_test_host(2), read_lockspace, path, &name,
                                             &error));
        g_assert_no_error(error);
        g_assert_cmpstr(name, ==, "__LIBVIRT__DISKS__");
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/driver/race/lease-file", test_lease_file);
        g_test_add_func("/driver/race/lockspace-file", test_lockspace_file);
        return g_test_run();
}
