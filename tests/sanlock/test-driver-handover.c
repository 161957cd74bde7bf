/* vmlock tests: handing a guest's leases to another host with the sanlock driver's state strings. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"

#include "config-build.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sanlock-test-util.h"

typedef struct {
        char *disk;
        char *key;
        char *lease_path;
} Resources;

static void
resources_clear(Resources *res)
{
        g_free(res->disk);
        g_free(res->key);
        g_free(res->lease_path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Resources, resources_clear)

/* One auto-leased disk and one explicit lease. */
static void
resources_init(Resources *res, const char *prefix)
{
        const SanlockTestHarness *h = sanlock_test_harness();

        res->disk = sanlock_test_disk_path(prefix);
        res->key = sanlock_test_unique_name(prefix);
        res->lease_path = g_build_filename(h->explicit_dir, res->key, NULL);
        sanlock_test_write_resource(sanlock_test_host(1), h->test_lockspace, res->key,
                                    res->lease_path);
}

static VmlockDomain *
domain_new(const char *name, const Resources *res)
{
        g_autofree char *unique = sanlock_test_unique_name(name);
        VmlockDomain *dom = sanlock_test_domain_new(unique);

        sanlock_test_domain_add_lease(dom, sanlock_test_harness()->test_lockspace, res->key,
                                      res->lease_path);
        sanlock_test_domain_add_disk(dom, res->disk, FALSE, FALSE);
        return dom;
}

static SanlockTestGuest *
start_guest_ok(guint host_id, VmlockDomain *dom, gboolean paused)
{
        g_autoptr(GError) error = NULL;
        SanlockTestGuest *guest;

        if (!paused)
                return sanlock_test_domain_start_ok(host_id, dom);
        guest = sanlock_test_domain_start(host_id, dom, TRUE, &error);
        g_assert_no_error(error);
        g_assert_nonnull(guest);
        return guest;
}

static gboolean
guest_call(SanlockTestGuest *guest, VmlockDomain *dom, SanlockTestDomainOp op,
           const char *state, char **ret_state, GError **error)
{
        return sanlock_test_domain_call(sanlock_test_guest_get_host(guest), op, dom,
                                        sanlock_test_guest_get_pid(guest), state, NULL,
                                        ret_state, error);
}

static char *
pause_ok(SanlockTestGuest *guest, VmlockDomain *dom)
{
        g_autoptr(GError) error = NULL;
        char *state = NULL;

        g_assert_true(guest_call(guest, dom, SANLOCK_TEST_PAUSE, NULL, &state, &error));
        g_assert_no_error(error);
        g_assert_nonnull(state);
        return state;
}

static void
resume_ok(SanlockTestGuest *guest, VmlockDomain *dom, const char *state)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(guest_call(guest, dom, SANLOCK_TEST_RESUME, state, NULL, &error));
        g_assert_no_error(error);
}

static char *
inquire(SanlockTestGuest *guest, VmlockDomain *dom)
{
        g_autoptr(GError) error = NULL;
        char *state = NULL;

        g_assert_true(guest_call(guest, dom, SANLOCK_TEST_INQUIRE, NULL, &state, &error));
        g_assert_no_error(error);
        return state;
}

/* Each resource of @state ends in a version (a number, not ":SH"). */
static void
assert_state_has_versions(const char *state, guint n)
{
        g_auto(GStrv) resources = g_strsplit(state, " ", -1);

        g_assert_cmpuint(g_strv_length(resources), ==, n);
        for (guint i = 0; resources[i]; i++) {
                const char *lver = strrchr(resources[i], ':');

                g_assert_nonnull(lver);
                g_assert_true(g_ascii_isdigit(lver[1]));
                g_assert_cmpint(g_ascii_strtoll(lver + 1, NULL, 10), >, 0);
        }
}

/* Migration: host 1 pauses and hands over, host 2's incoming guest resumes
 * with that state; host 1 can't take the disks back with the old state once
 * host 2 held them, only with the newer one. */
static void
test_pause_resume(void)
{
        g_auto(Resources) res = { 0 };
        g_autoptr(VmlockDomain) dom1 = NULL;
        g_autoptr(VmlockDomain) dom2 = NULL;
        g_autoptr(SanlockTestGuest) source = NULL;
        g_autoptr(SanlockTestGuest) target = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *held = NULL;
        g_autofree char *state1 = NULL;
        g_autofree char *after_pause = NULL;
        g_autofree char *state2 = NULL;

        resources_init(&res, "migrate");
        dom1 = domain_new("migrate-src", &res);
        dom2 = domain_new("migrate-dst", &res);

        source = start_guest_ok(1, dom1, FALSE);
        held = inquire(source, dom1);
        assert_state_has_versions(held, 2);

        /* Pause hands over: the state comes back, the leases go. */
        state1 = pause_ok(source, dom1);
        assert_state_has_versions(state1, 2);
        after_pause = inquire(source, dom1);
        g_assert_null(after_pause);

        /* The incoming guest starts paused (registered, holding nothing)... */
        target = start_guest_ok(2, dom2, TRUE);
        /* ...and resumes with the state it was sent. */
        resume_ok(target, dom2, state1);

        /* The source can't resume while the target runs: without a state
         * the leases are busy, with its old one they changed hands. */
        g_assert_false(guest_call(source, dom1, SANLOCK_TEST_RESUME, NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, sanlock_test_host(2)->name));
        g_clear_error(&error);
        g_assert_false(guest_call(source, dom1, SANLOCK_TEST_RESUME, state1, NULL, &error));
        g_assert_nonnull(error);
        g_assert_true(error->domain == VMLOCK_ERROR);
        g_assert_true(error->code == VMLOCK_ERROR_LEASE_STATE ||
                      error->code == VMLOCK_ERROR_LEASE_BUSY);
        g_clear_error(&error);

        /* Back again: once host 2 has held them, the old state is stale. */
        state2 = pause_ok(target, dom2);
        assert_state_has_versions(state2, 2);
        g_assert_false(guest_call(source, dom1, SANLOCK_TEST_RESUME, state1, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, "state"));
        g_clear_error(&error);

        /* The state host 2 handed back is current. */
        resume_ok(source, dom1, state2);
}

/* Inquire reports without releasing. */
static void
test_inquire_keeps(void)
{
        g_auto(Resources) res = { 0 };
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockDomain) other = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;
        g_autoptr(SanlockTestGuest) intruder = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *again = NULL;
        SanlockTestStart start;

        resources_init(&res, "inquire");
        dom = domain_new("inquire", &res);
        other = domain_new("inquire-other", &res);
        guest = start_guest_ok(1, dom, FALSE);
        state = inquire(guest, dom);
        again = inquire(guest, dom);
        g_assert_cmpstr(state, ==, again);

        start = (SanlockTestStart) { other, FALSE };
        intruder = sanlock_test_guest_start(sanlock_test_host(2), sanlock_test_process_start,
                                            &start, &error);
        g_assert_null(intruder);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
}

/* A resume with the state of its own pause, with nobody in between, works
 * again and again (the versions move on each time). */
static void
test_pause_resume_same_host(void)
{
        g_auto(Resources) res = { 0 };
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(SanlockTestGuest) guest = NULL;

        resources_init(&res, "again");
        dom = domain_new("again", &res);
        guest = start_guest_ok(1, dom, FALSE);
        for (guint i = 0; i < 3; i++) {
                g_autofree char *state = pause_ok(guest, dom);

                resume_ok(guest, dom, state);
        }
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }

        g_test_add_func("/driver/handover/pause-resume", test_pause_resume);
        g_test_add_func("/driver/handover/inquire-keeps", test_inquire_keeps);
        g_test_add_func("/driver/handover/same-host", test_pause_resume_same_host);
        return g_test_run();
}
