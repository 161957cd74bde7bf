/* vmlock tests: explicit <lease> resources of the sanlock driver in a lockspace the test set up. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sanlock-test-util.h"

/* A guest whose start must fail: returns the error. */
static GError *
start_guest_error(guint host_id, VmlockDomain *dom)
{
        GError *error = NULL;
        g_autoptr(SanlockTestGuest) guest = sanlock_test_domain_start(host_id, dom, FALSE, &error);

        g_assert_null(guest);
        g_assert_nonnull(error);
        return error;
}

static void
assert_message_has(const GError *error, const char *part)
{
        g_test_message("%s", error->message);
        if (!strstr(error->message, part))
                g_error("expected a message naming '%s', got: %s", part, error->message);
}

/* A new lease KEY in the test lockspace, initialised in its own file. */
static char *
make_lease(const char *prefix, char **ret_path)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *key = sanlock_test_unique_name(prefix);
        g_autofree char *path = g_build_filename(h->explicit_dir, key, NULL);

        sanlock_test_write_resource(sanlock_test_host(1), h->test_lockspace, key, path);
        *ret_path = g_steal_pointer(&path);
        return g_steal_pointer(&key);
}

static VmlockDomain *
domain_with_lease(const char *name, const char *lockspace, const char *key, const char *path)
{
        g_autofree char *unique = sanlock_test_unique_name(name);
        VmlockDomain *dom = sanlock_test_domain_new(unique);

        sanlock_test_domain_add_lease(dom, lockspace, key, path);
        return dom;
}

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

static void
test_busy_other_host(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *path = NULL;
        g_autofree char *key = make_lease("busy", &path);
        g_autofree char *what = g_strdup_printf("lease %s:%s", h->test_lockspace, key);
        g_autofree char *holder1 = g_strdup_printf("host 1 (%s", sanlock_test_host(1)->name);
        g_autofree char *holder2 = g_strdup_printf("host 2 (%s", sanlock_test_host(2)->name);
        g_autoptr(VmlockDomain) dom1 = domain_with_lease("busy-a", h->test_lockspace, key, path);
        g_autoptr(VmlockDomain) dom2 = domain_with_lease("busy-b", h->test_lockspace, key, path);
        g_autoptr(SanlockTestGuest) guest1 = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *expected = NULL;

        guest1 = sanlock_test_domain_start_ok(1, dom1);
        state = guest_state(guest1, dom1);
        expected = g_strdup_printf("%s:%s:%s:0:", h->test_lockspace, key, path);
        g_assert_true(g_str_has_prefix(state, expected));

        error = start_guest_error(2, dom2);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        assert_message_has(error, what);
        assert_message_has(error, holder1);
        g_clear_error(&error);

        g_assert_cmpint(sanlock_test_guest_stop(guest1), ==, 0);
        guest2 = sanlock_test_domain_start_ok(2, dom2);
        error = start_guest_error(1, dom1);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        assert_message_has(error, holder2);
}

/* In auto mode a guest holds its <lease> and its disks' leases together. */
static void
test_with_disks(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *path = NULL;
        g_autofree char *key = make_lease("mixed", &path);
        g_autofree char *disk = sanlock_test_disk_path("mixed");
        g_autoptr(VmlockDomain) dom = domain_with_lease("mixed", h->test_lockspace, key, path);
        g_autoptr(VmlockDomain) other = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *other_name = sanlock_test_unique_name("mixed-other");
        g_auto(GStrv) leases = NULL;

        sanlock_test_domain_add_disk(dom, disk, FALSE, FALSE);
        guest = sanlock_test_domain_start_ok(1, dom);
        state = guest_state(guest, dom);
        leases = g_strsplit(state, " ", -1);
        g_assert_cmpuint(g_strv_length(leases), ==, 2);

        /* Either one keeps another guest out: here the disk. */
        other = sanlock_test_domain_new(other_name);
        sanlock_test_domain_add_disk(other, disk, FALSE, FALSE);
        error = start_guest_error(2, other);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        assert_message_has(error, disk);
}

static void
test_not_joined(void)
{
        g_autofree char *key = sanlock_test_unique_name("nojoin");
        g_autofree char *path = g_build_filename(sanlock_test_scratch_dir(), key, NULL);
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GError) error = NULL;

        /* A real lease, of a lockspace neither host joined. */
        sanlock_test_write_resource(sanlock_test_host(1), "NOTJOINED", key, path);
        dom = domain_with_lease("nojoin", "NOTJOINED", key, path);
        error = start_guest_error(1, dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE);
        assert_message_has(error, "NOTJOINED");
}

static void
test_uninitialised(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *key = sanlock_test_unique_name("zeros");
        g_autofree char *path = g_build_filename(sanlock_test_scratch_dir(), key, NULL);
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GError) error = NULL;
        int fd;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, 1024 * 1024), ==, 0);
        close(fd);

        dom = domain_with_lease("zeros", h->test_lockspace, key, path);
        error = start_guest_error(1, dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_has(error, path);
}

static void
test_missing_file(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *key = sanlock_test_unique_name("missing");
        g_autofree char *path = g_build_filename(sanlock_test_scratch_dir(), key, NULL);
        g_autoptr(VmlockDomain) dom = domain_with_lease("missing", h->test_lockspace, key, path);
        g_autoptr(GError) error = NULL;

        error = start_guest_error(1, dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_has(error, path);
}

/* The file holds a lease, but not the one the XML names. */
static void
test_wrong_key(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *path = NULL;
        g_autofree char *key = make_lease("right", &path);
        g_autofree char *wrong = sanlock_test_unique_name("wrong");
        g_autoptr(VmlockDomain) dom = domain_with_lease("wrong", h->test_lockspace, wrong, path);
        g_autoptr(GError) error = NULL;

        error = start_guest_error(2, dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_has(error, path);
}

static void
test_no_lockspace(void)
{
        g_autofree char *path = NULL;
        g_autofree char *key = make_lease("nols", &path);
        g_autoptr(VmlockDomain) dom = domain_with_lease("nols", NULL, key, path);
        g_autoptr(GError) error = NULL;

        error = start_guest_error(1, dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_has(error, key);
}

static void
test_hotplug(void)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        const SanlockTestHost *host1 = sanlock_test_host(1);
        g_autofree char *path = NULL;
        g_autofree char *key = make_lease("hotplug", &path);
        g_autofree char *name = sanlock_test_unique_name("hotplug");
        g_autoptr(VmlockDomain) dom = sanlock_test_domain_new(name);
        g_autoptr(VmlockDomain) other = domain_with_lease("hotplug-other", h->test_lockspace, key,
                                                          path);
        g_autoptr(VmlockLease) lease = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) guest2 = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *after = NULL;
        pid_t pid;

        lease = vmlock_lease_new(h->test_lockspace, key, path, 0, &error);
        g_assert_no_error(error);
        guest = sanlock_test_domain_start_ok(1, dom);
        pid = sanlock_test_guest_get_pid(guest);

        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_LEASE_ATTACH, dom, pid, NULL,
                                               lease, NULL, &error));
        g_assert_no_error(error);
        state = guest_state(guest, dom);
        g_assert_nonnull(state);
        g_assert_nonnull(strstr(state, key));
        error = start_guest_error(2, other);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_clear_error(&error);

        g_assert_true(sanlock_test_domain_call(host1, SANLOCK_TEST_LEASE_DETACH, dom, pid, NULL,
                                               lease, NULL, &error));
        g_assert_no_error(error);
        after = guest_state(guest, dom);
        g_assert_null(after);
        guest2 = sanlock_test_domain_start_ok(2, other);
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/driver/lease/busy-other-host", test_busy_other_host);
        g_test_add_func("/driver/lease/with-disks", test_with_disks);
        g_test_add_func("/driver/lease/not-joined", test_not_joined);
        g_test_add_func("/driver/lease/uninitialised", test_uninitialised);
        g_test_add_func("/driver/lease/missing-file", test_missing_file);
        g_test_add_func("/driver/lease/wrong-key", test_wrong_key);
        g_test_add_func("/driver/lease/no-lockspace", test_no_lockspace);
        g_test_add_func("/driver/lease/hotplug", test_hotplug);
        return g_test_run();
}
