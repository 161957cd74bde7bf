/* vmlock tests: automatic disk leases of the sanlock driver between two hosts. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include "sanlock-test-util.h"

#define N_MANY_DISKS 20

static VmlockDomain *
domain_with_disk(const char *name, const char *disk, gboolean readonly, gboolean shareable)
{
        g_autofree char *unique = sanlock_test_unique_name(name);
        VmlockDomain *dom = sanlock_test_domain_new(unique);

        sanlock_test_domain_add_disk(dom, disk, readonly, shareable);
        return dom;
}

/* @error says @what is busy and names host @holder as the holder (0: a guest
 * of the same host holds it too, and is not named). */
static void
assert_busy(const GError *error, const char *what, guint holder)
{
        g_autofree char *by = NULL;

        if (holder)
                by = g_strdup_printf("host %u (%s", holder, sanlock_test_host(holder)->name);
        else
                by = g_strdup("on this host");
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_test_message("%s", error->message);
        if (!strstr(error->message, what) || !strstr(error->message, by))
                g_error("expected a message naming '%s' and '%s', got: %s", what, by,
                        error->message);
}

/* Starting @dom on @host_id is refused, the message naming @what and @holder. */
static void
assert_start_busy(guint host_id, VmlockDomain *dom, const char *what, guint holder)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(SanlockTestGuest) guest = sanlock_test_domain_start(host_id, dom, FALSE, &error);

        g_assert_null(guest);
        assert_busy(error, what, holder);
}

/* The state of what @guest holds now, as its host sees it. */
static char *
guest_state(SanlockTestGuest *guest, VmlockDomain *dom)
{
        g_autoptr(GError) error = NULL;
        char *state = NULL;

        sanlock_test_domain_call(sanlock_test_guest_get_host(guest), SANLOCK_TEST_INQUIRE, dom,
                                 sanlock_test_guest_get_pid(guest), NULL, NULL, &state, &error);
        g_assert_no_error(error);
        return state;
}

static guint
count_leases(const char *state)
{
        g_auto(GStrv) parts = NULL;

        if (!state)
                return 0;
        parts = g_strsplit(state, " ", -1);
        return g_strv_length(parts);
}

/* ---- exclusive ------------------------------------------------------------- */

static void
test_busy_other_host(void)
{
        g_autofree char *disk = sanlock_test_disk_path("busy");
        g_autoptr(VmlockDomain) dom1 = domain_with_disk("busy-a", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) dom2 = domain_with_disk("busy-b", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest1 = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;

        guest1 = sanlock_test_domain_start_ok(1, dom1);
        assert_start_busy(2, dom2, disk, 1);

        /* The guest's end frees the disk for the other host... */
        g_assert_cmpint(sanlock_test_guest_stop(guest1), ==, 0);
        guest2 = sanlock_test_domain_start_ok(2, dom2);

        /* ...which now keeps it from the first. */
        assert_start_busy(1, dom1, disk, 2);
}

static void
test_busy_same_host(void)
{
        g_autofree char *disk = sanlock_test_disk_path("same");
        g_autoptr(VmlockDomain) dom1 = domain_with_disk("same-a", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) dom2 = domain_with_disk("same-b", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest1 = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(GError) error = NULL;

        guest1 = sanlock_test_domain_start_ok(1, dom1);
        guest2 = sanlock_test_domain_start(1, dom2, FALSE, &error);
        g_assert_null(guest2);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_nonnull(strstr(error->message, disk));
}

/* ---- an ended holder's release --------------------------------------------- */

typedef struct {
        const char *state;
        guint timeout_ms;
} WaitReleased;

static gboolean
wait_released(gpointer data, GString *reply, GError **error)
{
        const WaitReleased *wait = data;
        g_autoptr(VmlockLockManager) manager = sanlock_test_manager_new(error);
        gboolean released = FALSE;

        if (!manager || !vmlock_lock_manager_wait_released(manager, wait->state,
                                                           wait->timeout_ms, &released, error))
                return FALSE;
        g_string_append(reply, released ? "released" : "held");
        return TRUE;
}

/* "released" or "held": what wait_released says as @host_id. */
static char *
wait_released_as(guint host_id, const char *state, guint timeout_ms)
{
        WaitReleased wait = { state, timeout_ms };
        g_autoptr(GError) error = NULL;
        char *reply = NULL;

        g_assert_true(sanlock_test_host_call(sanlock_test_host(host_id), wait_released, &wait,
                                             &reply, &error));
        g_assert_no_error(error);
        return reply;
}

/* Once the wait for an ended guest's release returns, the other host takes
 * the disk at the first try (no retry while busy); a lease taken again
 * since, even by the same host, is not waited for; a holder still running
 * is. */
static void
test_wait_released(void)
{
        g_autofree char *disk = sanlock_test_disk_path("ended");
        g_autoptr(VmlockDomain) dom1 = domain_with_disk("ended-a", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) dom2 = domain_with_disk("ended-b", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) dom3 = domain_with_disk("ended-c", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest1 = sanlock_test_domain_start_ok(1, dom1);
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(SanlockTestGuest) guest3 = NULL;
        g_autofree char *state1 = guest_state(guest1, dom1);
        g_autofree char *state3 = NULL;
        g_autofree char *reply = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(state1);
        sanlock_test_guest_kill(guest1);
        reply = wait_released_as(1, state1, 10000);
        g_assert_cmpstr(reply, ==, "released");
        guest2 = sanlock_test_domain_start(2, dom2, FALSE, &error);
        g_assert_no_error(error);
        g_assert_nonnull(guest2);

        /* Taken again since (a newer version): released at the first look. */
        g_clear_pointer(&reply, g_free);
        reply = wait_released_as(1, state1, 0);
        g_assert_cmpstr(reply, ==, "released");

        /* The same host, another guest, after the first one ended. */
        g_assert_cmpint(sanlock_test_guest_stop(guest2), ==, 0);
        guest3 = sanlock_test_domain_start_ok(1, dom3);
        g_clear_pointer(&reply, g_free);
        reply = wait_released_as(1, state1, 0);
        g_assert_cmpstr(reply, ==, "released");

        /* A holder that runs: held. */
        state3 = guest_state(guest3, dom3);
        g_clear_pointer(&reply, g_free);
        reply = wait_released_as(1, state3, 0);
        g_assert_cmpstr(reply, ==, "held");
}

/* libvirt's layout: <disk_lease_dir>/<md5 of the path exactly as written>,
 * 1 MiB, mode 0600, no temporary file left behind. */
static void
test_lease_file(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *name = sanlock_test_unique_name("layout");
        /* Not canonicalised: the double slash is part of the name. */
        g_autofree char *disk = g_strdup_printf("%s//%s.img", sanlock_test_scratch_dir(), name);
        g_autofree char *lease = sanlock_test_disk_lease_path(disk);
        g_autoptr(VmlockDomain) dom = domain_with_disk("layout", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autofree char *state = NULL;
        g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk, -1);
        g_autofree char *expected = NULL;
        g_autoptr(GDir) dir = NULL;
        const char *entry;
        struct stat st;

        g_assert_cmpint(stat(lease, &st), <, 0);
        guest = sanlock_test_domain_start_ok(1, dom);
        g_assert_cmpint(stat(lease, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
        g_assert_cmpint(st.st_size, ==, 1024 * 1024);

        state = guest_state(guest, dom);
        expected = g_strdup_printf("__LIBVIRT__DISKS__:%s:%s:0:", md5, lease);
        g_assert_true(g_str_has_prefix(state, expected));

        dir = g_dir_open(h->lease_dir, 0, NULL);
        g_assert_nonnull(dir);
        while ((entry = g_dir_read_name(dir))) {
                g_autofree char *tmp_prefix = g_strdup_printf(".%s.", md5);

                g_assert_false(g_str_has_prefix(entry, tmp_prefix));
        }
}

/* ---- shared ---------------------------------------------------------------- */

static void
test_readonly_coexist(void)
{
        g_autofree char *disk = sanlock_test_disk_path("ro");
        g_autoptr(VmlockDomain) reader1 = domain_with_disk("ro-r1", disk, TRUE, FALSE);
        g_autoptr(VmlockDomain) reader2 = domain_with_disk("ro-r2", disk, TRUE, FALSE);
        g_autoptr(VmlockDomain) writer = domain_with_disk("ro-w", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) r1 = NULL;
        g_autoptr(SanlockTestGuest) r2 = NULL;
        g_autoptr(SanlockTestGuest) w = NULL;
        g_autofree char *state = NULL;

        r1 = sanlock_test_domain_start_ok(1, reader1);
        r2 = sanlock_test_domain_start_ok(2, reader2);
        state = guest_state(r1, reader1);
        g_assert_true(g_str_has_suffix(state, ":SH"));

        /* No writer anywhere while a reader holds it. */
        assert_start_busy(1, writer, disk, 0);
        assert_start_busy(2, writer, disk, 0);

        g_assert_cmpint(sanlock_test_guest_stop(r1), ==, 0);
        assert_start_busy(1, writer, disk, 2);
        g_assert_cmpint(sanlock_test_guest_stop(r2), ==, 0);

        /* No reader while the writer holds it. */
        w = sanlock_test_domain_start_ok(2, writer);
        assert_start_busy(1, reader1, disk, 2);
        assert_start_busy(2, reader2, disk, 0);
}

static void
test_shareable_coexist(void)
{
        g_autofree char *disk = sanlock_test_disk_path("share");
        g_autoptr(VmlockDomain) sharer1 = domain_with_disk("share-1", disk, FALSE, TRUE);
        g_autoptr(VmlockDomain) sharer2 = domain_with_disk("share-2", disk, FALSE, TRUE);
        g_autoptr(VmlockDomain) writer = domain_with_disk("share-w", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) s1 = NULL;
        g_autoptr(SanlockTestGuest) s2 = NULL;

        s1 = sanlock_test_domain_start_ok(1, sharer1);
        s2 = sanlock_test_domain_start_ok(2, sharer2);
        assert_start_busy(1, writer, disk, 0);
        assert_start_busy(2, writer, disk, 0);
        g_assert_cmpint(sanlock_test_guest_stop(s2), ==, 0);
        assert_start_busy(2, writer, disk, 1);
}

/* ---- the guest's side ------------------------------------------------------ */

/* The guest inherits the registered socket, but can't use it to call sanlock. */
static void
test_restrict(void)
{
        g_autofree char *disk = sanlock_test_disk_path("restrict");
        g_autoptr(VmlockDomain) dom = domain_with_disk("restrict", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) other = domain_with_disk("restrict-other", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autofree char *fd_answer = NULL;
        g_autofree char *expected = NULL;
        g_autofree char *inquire = NULL;
        g_autofree char *pong = NULL;
        g_auto(GStrv) words = NULL;

        guest = sanlock_test_domain_start_ok(1, dom);
        g_assert_cmpint(sanlock_test_guest_get_fd(guest), >=, 0);
        fd_answer = sanlock_test_guest_command(guest, "fd");
        expected = g_strdup_printf("fd %d open", sanlock_test_guest_get_fd(guest));
        g_assert_cmpstr(fd_answer, ==, expected);

        /* The daemon drops the call unanswered. */
        inquire = sanlock_test_guest_command(guest, "inquire");
        words = g_strsplit(inquire, " ", -1);
        g_assert_cmpstr(words[0], ==, "inquire");
        if (!g_str_equal(words[1], "timeout"))
                g_assert_cmpint(g_ascii_strtoll(words[1], NULL, 10), <, 0);

        /* The refused call did not cost the guest its lease. */
        assert_start_busy(2, other, disk, 1);
        pong = sanlock_test_guest_command(guest, "ping");
        g_assert_cmpstr(pong, ==, "pong");
}

/* A paused start only registers; resume takes the disks for the running guest. */
static void
test_paused_start(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_autofree char *disk = sanlock_test_disk_path("paused");
        g_autoptr(VmlockDomain) dom = domain_with_disk("paused", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) other = domain_with_disk("paused-other", disk, FALSE, FALSE);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *after = NULL;

        guest = sanlock_test_domain_start(1, dom, TRUE, &error);
        g_assert_no_error(error);
        state = guest_state(guest, dom);
        g_assert_null(state);

        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_RESUME, dom,
                                               sanlock_test_guest_get_pid(guest), NULL, NULL,
                                               NULL, &error));
        g_assert_no_error(error);
        after = guest_state(guest, dom);
        g_assert_cmpuint(count_leases(after), ==, 1);
        assert_start_busy(2, other, disk, 1);

        /* Its end still frees the disk. */
        g_assert_cmpint(sanlock_test_guest_stop(guest), ==, 0);
        g_clear_pointer(&guest, sanlock_test_guest_free);
        guest = sanlock_test_domain_start_ok(2, other);
}

static void
test_hotplug(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_autofree char *name = sanlock_test_unique_name("hotplug");
        g_autofree char *disk_path = sanlock_test_disk_path("hotplug");
        g_autoptr(VmlockDomain) dom = sanlock_test_domain_new(name);
        g_autoptr(VmlockDomain) other = domain_with_disk("hotplug-other", disk_path, FALSE, FALSE);
        g_autoptr(VmlockDisk) disk = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        pid_t pid;

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, disk_path, FALSE,
                               FALSE, &error);
        g_assert_no_error(error);

        guest = sanlock_test_domain_start_ok(1, dom);
        pid = sanlock_test_guest_get_pid(guest);
        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_DISK_ATTACH, dom, pid, NULL,
                                               disk, NULL, &error));
        g_assert_no_error(error);
        state = guest_state(guest, dom);
        g_assert_cmpuint(count_leases(state), ==, 1);
        assert_start_busy(2, other, disk_path, 1);

        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_DISK_DETACH, dom, pid, NULL,
                                               disk, NULL, &error));
        g_assert_no_error(error);
        g_clear_pointer(&state, g_free);
        state = guest_state(guest, dom);
        g_assert_null(state);
        guest2 = sanlock_test_domain_start_ok(2, other);
}

/* ---- more than one batch of 8 ------------------------------------------------ */

static VmlockDomain *
domain_with_disks(const char *name, char **disks, guint first, guint n)
{
        g_autofree char *unique = sanlock_test_unique_name(name);
        VmlockDomain *dom = sanlock_test_domain_new(unique);

        for (guint i = first; i < first + n; i++)
                sanlock_test_domain_add_disk(dom, disks[i], FALSE, FALSE);
        return dom;
}

static char **
make_disks(const char *prefix, guint n)
{
        char **disks = g_new0(char *, n + 1);

        for (guint i = 0; i < n; i++)
                disks[i] = sanlock_test_disk_path(prefix);
        return disks;
}

static gboolean
daemon_status(gpointer data, GString *reply, GError **error)
{
        uint32_t version = 0;
        uint32_t proto = 0;
        int rv = sanlock_version(0, &version, &proto);

        if (rv < 0) {
                sanlock_test_set_rv_error(error, rv, "sanlock_version");
                return FALSE;
        }
        return TRUE;
}

static void
assert_daemon_alive(guint host_id)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(sanlock_test_host_call(sanlock_test_host(host_id), daemon_status, NULL,
                                             NULL, &error));
        g_assert_no_error(error);
}

static void
test_many_disks(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_auto(GStrv) disks = make_disks("many", N_MANY_DISKS);
        g_autoptr(VmlockDomain) dom = domain_with_disks("many", disks, 0, N_MANY_DISKS);
        g_autoptr(VmlockDomain) dom2 = domain_with_disks("many-2", disks, 0, N_MANY_DISKS);
        g_autoptr(VmlockDomain) last = domain_with_disks("many-last", disks, N_MANY_DISKS - 1, 1);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *paused_state = NULL;
        g_autofree char *state2 = NULL;

        guest = sanlock_test_domain_start_ok(1, dom);
        state = guest_state(guest, dom);
        g_assert_cmpuint(count_leases(state), ==, N_MANY_DISKS);
        assert_start_busy(2, last, disks[N_MANY_DISKS - 1], 1);

        /* Pausing releases all 20 (in batches: the daemon survives it). */
        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_PAUSE, dom,
                                               sanlock_test_guest_get_pid(guest), NULL, NULL,
                                               &paused_state, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(count_leases(paused_state), ==, N_MANY_DISKS);
        assert_daemon_alive(1);

        guest2 = sanlock_test_domain_start_ok(2, dom2);
        state2 = guest_state(guest2, dom2);
        g_assert_cmpuint(count_leases(state2), ==, N_MANY_DISKS);

        /* The guest ends holding 20: the daemon releases them on its own. */
        g_assert_cmpint(sanlock_test_guest_stop(guest2), ==, 0);
        assert_daemon_alive(2);
}

/* A refusal in the second batch gives back the first: the running guest
 * (acting through resume, so the registration outlives the failure) holds
 * nothing afterwards, and another host can take the first disks. */
static void
test_second_batch_fails(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_auto(GStrv) disks = make_disks("batch", N_MANY_DISKS);
        g_autoptr(VmlockDomain) dom = domain_with_disks("batch", disks, 0, N_MANY_DISKS);
        /* disk 12 is in the second batch of 8 */
        g_autoptr(VmlockDomain) blocker = domain_with_disks("batch-blocker", disks, 11, 1);
        g_autoptr(VmlockDomain) first = domain_with_disks("batch-first", disks, 0, 8);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) blocking = NULL;
        g_autoptr(SanlockTestGuest) taker = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        blocking = sanlock_test_domain_start_ok(2, blocker);

        /* As a process start... */
        assert_start_busy(1, dom, disks[11], 2);

        /* ...and for a running guest. */
        guest = sanlock_test_domain_start(1, dom, TRUE, &error);
        g_assert_no_error(error);
        g_assert_false(sanlock_test_domain_call(host1, SANLOCK_TEST_RESUME, dom,
                                                sanlock_test_guest_get_pid(guest), NULL, NULL,
                                                NULL, &error));
        assert_busy(error, disks[11], 2);
        state = guest_state(guest, dom);
        g_assert_null(state);

        taker = sanlock_test_domain_start_ok(2, first);
}

/* ---- a guest the daemon does not know ------------------------------------------ */

/* This test process never registered with any daemon (a guest started
 * without the sanlock driver, or before the daemon restarted): taking its
 * leases must fail, not succeed doing nothing; letting go stays quiet. */
static void
test_unregistered_pid(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_autofree char *name = sanlock_test_unique_name("unreg");
        g_autofree char *disk_path = sanlock_test_disk_path("unreg");
        g_autoptr(VmlockDomain) dom = domain_with_disk("unreg", disk_path, FALSE, FALSE);
        g_autoptr(VmlockDomain) bare = sanlock_test_domain_new(name);
        g_autoptr(VmlockDomain) other = domain_with_disk("unreg-other", disk_path, FALSE, FALSE);
        g_autoptr(VmlockDisk) disk = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *expected = NULL;
        char *state = (char *)"not written";
        pid_t pid = getpid();

        expected = g_strdup_printf("guest %s (pid %d) is not registered with the sanlock "
                                   "daemon (started without the sanlock driver, or the daemon "
                                   "restarted): cannot take its leases",
                                   vmlock_domain_get_name(dom), (int)pid);
        g_assert_false(sanlock_test_domain_call(host1, SANLOCK_TEST_RESUME, dom, pid, NULL,
                                                NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, expected);
        g_clear_error(&error);

        /* Hotplug likewise. */
        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, disk_path, FALSE,
                               FALSE, &error);
        g_assert_no_error(error);
        g_assert_false(sanlock_test_domain_call(host1, SANLOCK_TEST_DISK_ATTACH, bare, pid,
                                                NULL, disk, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "is not registered with the sanlock daemon"));
        g_clear_error(&error);

        /* Nothing to take: nothing to refuse. */
        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_RESUME, bare, pid, NULL,
                                               NULL, NULL, &error));
        g_assert_no_error(error);

        /* Release and inquire have nothing to do, and say so by a NULL state. */
        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_PAUSE, dom, pid, NULL, NULL,
                                               &state, &error));
        g_assert_no_error(error);
        g_assert_null(state);
        state = (char *)"not written";
        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_INQUIRE, dom, pid, NULL,
                                               NULL, &state, &error));
        g_assert_no_error(error);
        g_assert_null(state);

        /* And the disk was never taken. */
        guest = sanlock_test_domain_start_ok(2, other);
}

/* ---- who holds a disk ------------------------------------------------------ */

static gboolean
describe_disk(gpointer data, GString *reply, GError **error)
{
        g_autoptr(VmlockLockManager) manager = sanlock_test_manager_new(error);
        g_autofree char *description = NULL;

        if (!manager ||
            !vmlock_lock_manager_describe_disk(manager, data, &description, error))
                return FALSE;
        g_string_append(reply, description);
        return TRUE;
}

/* What @host_id says about @disk. */
static char *
describe_as(guint host_id, const char *disk)
{
        g_autoptr(GError) error = NULL;
        char *reply = NULL;

        g_assert_true(sanlock_test_host_call(sanlock_test_host(host_id), describe_disk,
                                             (gpointer)disk, &reply, &error));
        g_assert_no_error(error);
        g_test_message("host %u: disk %s: %s", host_id, disk, reply);
        return reply;
}

static void
test_describe(void)
{
        const SanlockTestHost *host1 = sanlock_test_host(1);
        const SanlockTestHost *host2 = sanlock_test_host(2);
        g_autofree char *disk = sanlock_test_disk_path("describe");
        g_autofree char *lease_file = sanlock_test_disk_lease_path(disk);
        g_autoptr(VmlockDomain) dom = domain_with_disk("describe", disk, FALSE, FALSE);
        g_autoptr(VmlockDomain) reader1 = domain_with_disk("describe-r1", disk, TRUE, FALSE);
        g_autoptr(VmlockDomain) reader2 = domain_with_disk("describe-r2", disk, TRUE, FALSE);
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) guest_r1 = NULL;
        g_autoptr(SanlockTestGuest) guest_r2 = NULL;
        g_autofree char *never = NULL;
        g_autofree char *held = NULL;
        g_autofree char *held_here = NULL;
        g_autofree char *shared = NULL;
        g_autofree char *free_now = NULL;
        g_autofree char *expected = NULL;

        never = describe_as(2, disk);
        g_assert_true(g_str_has_prefix(never, "no lease file yet: never started under "
                                              "auto_disk_leases"));

        guest = sanlock_test_domain_start_ok(1, dom);
        held = describe_as(2, disk);
        expected = g_strdup_printf("held exclusively by host 1 (%s)", host1->name);
        g_assert_cmpstr(held, ==, expected);
        g_clear_pointer(&expected, g_free);
        held_here = describe_as(1, disk);
        expected = g_strdup_printf("held exclusively by host 1 (%s, this host)", host1->name);
        g_assert_cmpstr(held_here, ==, expected);
        g_clear_pointer(&expected, g_free);

        g_assert_cmpint(sanlock_test_guest_stop(guest), ==, 0);
        free_now = describe_as(2, disk);
        expected = g_strdup_printf("free (lease file %s)", lease_file);
        g_assert_cmpstr(free_now, ==, expected);

        guest_r1 = sanlock_test_domain_start_ok(1, reader1);
        guest_r2 = sanlock_test_domain_start_ok(2, reader2);
        shared = describe_as(2, disk);
        g_assert_true(g_str_has_prefix(shared, "shared by "));
        g_clear_pointer(&expected, g_free);
        expected = g_strdup_printf("host 1 (%s)", host1->name);
        g_assert_nonnull(strstr(shared, expected));
        g_clear_pointer(&expected, g_free);
        expected = g_strdup_printf("host 2 (%s, this host)", host2->name);
        g_assert_nonnull(strstr(shared, expected));
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/driver/disk/busy-other-host", test_busy_other_host);
        g_test_add_func("/driver/disk/busy-same-host", test_busy_same_host);
        g_test_add_func("/driver/disk/wait-released", test_wait_released);
        g_test_add_func("/driver/disk/lease-file", test_lease_file);
        g_test_add_func("/driver/disk/readonly-coexist", test_readonly_coexist);
        g_test_add_func("/driver/disk/shareable-coexist", test_shareable_coexist);
        g_test_add_func("/driver/disk/restrict", test_restrict);
        g_test_add_func("/driver/disk/paused-start", test_paused_start);
        g_test_add_func("/driver/disk/hotplug", test_hotplug);
        g_test_add_func("/driver/disk/many", test_many_disks);
        g_test_add_func("/driver/disk/second-batch-fails", test_second_batch_fails);
        g_test_add_func("/driver/disk/describe", test_describe);
        g_test_add_func("/driver/disk/unregistered-pid", test_unregistered_pid);
        return g_test_run();
}
