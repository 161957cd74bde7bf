/* vmlock tests: the exact driver calls each domain-lock call makes. */
#include "config-build.h"

#include <fcntl.h>
#include <unistd.h>

#include <vmlock/domain-lock.h>
#include <vmlock/error.h>

#include "locking-test.h"
#include "test-driver.h"

#define URI "qemu:///system"
#define UUID "c7a5fdbd-edaf-9455-926a-d65c16db1809"

/* Disks of every kind the lock layer must tell apart, and two leases placed
 * after them: resources go leases first, then disks, each in XML order. */
static const char domain_xml[] =
        "<domain type='kvm' id='7'>\n"
        "  <name>guest1</name>\n"
        "  <uuid>" UUID "</uuid>\n"
        "  <on_lockfailure>poweroff</on_lockfailure>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='/var/lib/images/root.qcow2'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='block' device='disk'>\n"
        "      <source dev='/dev/vg0/data'/>\n"
        "      <target dev='vdb' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='/var/lib/images/base.img'/>\n"
        "      <target dev='vdc' bus='virtio'/>\n"
        "      <readonly/>\n"
        "    </disk>\n"
        "    <disk type='block' device='disk'>\n"
        "      <source dev='/dev/disk/by-path/shared-lun'/>\n"
        "      <target dev='vdd' bus='virtio'/>\n"
        "      <shareable/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <target dev='hdc' bus='ide'/>\n"
        "      <readonly/>\n"
        "    </disk>\n"
        "    <disk type='network' device='disk'>\n"
        "      <source protocol='rbd' name='pool/image'/>\n"
        "      <target dev='vde' bus='virtio'/>\n"
        "    </disk>\n"
        "    <lease>\n"
        "      <lockspace>space1</lockspace>\n"
        "      <key>key-a</key>\n"
        "      <target path='/var/lib/leases/a' offset='1048576'/>\n"
        "    </lease>\n"
        "    <lease>\n"
        "      <key>key-b</key>\n"
        "      <target path='/var/lib/leases/b'/>\n"
        "    </lease>\n"
        "  </devices>\n"
        "</domain>\n";

/* The resources of the whole domain, as the driver sees them. */
#define RESOURCES                                                                           \
        "add_resource type=lease name=key-a flags=0 path=string:/var/lib/leases/a "          \
        "offset=ulong:1048576 lockspace=string:space1",                                     \
        "add_resource type=lease name=key-b flags=0 path=string:/var/lib/leases/b "          \
        "offset=ulong:0",                                                                   \
        "add_resource type=disk name=/var/lib/images/root.qcow2 flags=0",                    \
        "add_resource type=disk name=/dev/vg0/data flags=0",                                 \
        "add_resource type=disk name=/var/lib/images/base.img flags=readonly|shared",        \
        "add_resource type=disk name=/dev/disk/by-path/shared-lun flags=shared"

typedef struct {
        VmlockLockManager *manager;
        VmlockDomain *dom;
        char *new_call;         /* "new ..." for a call with the uri */
        char *new_call_no_uri;  /* "new ..." for pause, inquire and detach */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        const char *params = "uuid=uuid:" UUID " name=string:guest1 id=int:7";

        f->manager = vmlock_lock_manager_new("test-driver", locking_test_plugin_dir(), "/cfg",
                                             NULL, NULL, &error);
        g_assert_no_error(error);
        f->dom = vmlock_domain_parse_string(domain_xml, strlen(domain_xml), "guest1.xml",
                                            &error);
        g_assert_no_error(error);
        vmlock_domain_set_pid(f->dom, getpid());

        f->new_call = g_strdup_printf("new type=domain flags=0 %s pid=uint:%u uri=string:" URI
                                      " leases=uint:2",
                                      params, (unsigned int) getpid());
        f->new_call_no_uri = g_strdup_printf("new type=domain flags=0 %s pid=uint:%u "
                                             "uri=string:(null) leases=uint:2", params,
                                             (unsigned int) getpid());
        g_strfreev(locking_test_take_calls());
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        vmlock_domain_unref(f->dom);
        vmlock_lock_manager_unref(f->manager);
        /* Every object let go of its manager reference. */
        locking_test_assert_calls("deinit");
        g_free(f->new_call);
        g_free(f->new_call_no_uri);
}

static void
assert_inheritable_fd(int fd)
{
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fcntl(fd, F_GETFD), >=, 0);
        g_assert_cmpint(close(fd), ==, 0);
}

static void
test_start_running(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *new_call = NULL;
        int fd = -2;

        g_assert_true(vmlock_domain_lock_process_start(f->manager, URI, f->dom, FALSE, &fd,
                                                       &error));
        g_assert_no_error(error);
        assert_inheritable_fd(fd);

        new_call = g_strdup_printf("new type=domain flags=started uuid=uuid:" UUID
                                   " name=string:guest1 id=int:7 pid=uint:%u uri=string:" URI
                                      " leases=uint:2",
                                   (unsigned int) getpid());
        locking_test_assert_calls(new_call,
                                  RESOURCES,
                                  "acquire state=(null) flags=restrict action=poweroff fd=yes",
                                  "free name=guest1");
}

static void
test_start_paused(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *new_call = NULL;
        int fd = -2;

        g_assert_true(vmlock_domain_lock_process_start(f->manager, URI, f->dom, TRUE, &fd,
                                                       &error));
        g_assert_no_error(error);
        assert_inheritable_fd(fd);

        new_call = g_strdup_printf("new type=domain flags=started uuid=uuid:" UUID
                                   " name=string:guest1 id=int:7 pid=uint:%u uri=string:" URI
                                      " leases=uint:2",
                                   (unsigned int) getpid());
        locking_test_assert_calls(new_call,
                                  RESOURCES,
                                  "acquire state=(null) flags=register-only|restrict "
                                  "action=poweroff fd=yes",
                                  "free name=guest1");
}

/* The state comes from the object that acquired: one object, one inquire
 * after the acquire, none when paused. */
static void
test_start_held(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *new_call = NULL;
        g_autofree char *state = NULL;
        int fd = -2;

        g_assert_true(vmlock_domain_lock_process_start_held(f->manager, URI, f->dom, FALSE, &fd,
                                                            &state, &error));
        g_assert_no_error(error);
        assert_inheritable_fd(fd);
        g_assert_true(g_str_has_prefix(state, "state-"));
        new_call = g_strdup_printf("new type=domain flags=started uuid=uuid:" UUID
                                   " name=string:guest1 id=int:7 pid=uint:%u uri=string:" URI
                                      " leases=uint:2",
                                   (unsigned int) getpid());
        locking_test_assert_calls(new_call,
                                  RESOURCES,
                                  "acquire state=(null) flags=restrict action=poweroff fd=yes",
                                  "inquire state=yes flags=0",
                                  "free name=guest1");

        g_clear_pointer(&state, g_free);
        g_assert_true(vmlock_domain_lock_process_start_held(f->manager, URI, f->dom, TRUE, &fd,
                                                            &state, &error));
        g_assert_no_error(error);
        assert_inheritable_fd(fd);
        g_assert_null(state);
        locking_test_assert_calls(new_call,
                                  RESOURCES,
                                  "acquire state=(null) flags=register-only|restrict "
                                  "action=poweroff fd=yes",
                                  "free name=guest1");
}

static void
test_start_no_fd(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) calls = NULL;

        /* A caller with no use for the fd (libxl starts from the daemon) passes NULL. */
        g_assert_true(vmlock_domain_lock_process_start(f->manager, NULL, f->dom, TRUE, NULL,
                                                       &error));
        g_assert_no_error(error);
        calls = locking_test_take_calls();
        g_assert_cmpuint(g_strv_length(calls), ==, 9);
        g_assert_true(g_str_has_suffix(calls[0], " uri=string:(null) leases=uint:2"));
        g_assert_cmpstr(calls[7], ==,
                        "acquire state=(null) flags=register-only|restrict action=poweroff fd=no");
}

static void
test_start_foreign_pid(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *message = NULL;
        int fd = -2;

        vmlock_domain_set_pid(f->dom, getppid());
        g_assert_false(vmlock_domain_lock_process_start(f->manager, URI, f->dom, FALSE, &fd,
                                                        &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        message = g_strdup_printf("domain guest1: process start must run in the guest's "
                                  "process (between fork and exec), but the domain's pid is "
                                  "%ld and this process is %ld", (long) getppid(),
                                  (long) getpid());
        g_assert_cmpstr(error->message, ==, message);
        g_assert_cmpint(fd, ==, -2);
        locking_test_assert_no_calls();
}

static void
test_pause_resume(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;
        g_autofree char *acquire_call = NULL;

        g_assert_true(vmlock_domain_lock_process_pause(f->manager, f->dom, &state, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(state, "state-"));
        locking_test_assert_calls(f->new_call_no_uri,
                                  RESOURCES,
                                  "release state=yes flags=0",
                                  "free name=guest1");

        /* The state from pause goes back to the driver as it was. */
        g_assert_true(vmlock_domain_lock_process_resume(f->manager, URI, f->dom, state,
                                                        &error));
        g_assert_no_error(error);
        acquire_call = g_strdup_printf("acquire state=%s flags=0 action=poweroff fd=no", state);
        locking_test_assert_calls(f->new_call,
                                  RESOURCES,
                                  acquire_call,
                                  "free name=guest1");

        g_assert_true(vmlock_domain_lock_process_resume(f->manager, URI, f->dom, NULL, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call,
                                  RESOURCES,
                                  "acquire state=(null) flags=0 action=poweroff fd=no",
                                  "free name=guest1");
}

/* A state handed over goes to the driver as a hand-over, even an empty one:
 * the driver checks it lists every lease. */
static void
test_take_over(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(vmlock_domain_lock_process_take_over(f->manager, URI, f->dom, "", &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call,
                                  RESOURCES,
                                  "acquire state= flags=handover action=poweroff fd=no",
                                  "free name=guest1");

        g_assert_false(vmlock_domain_lock_process_take_over(f->manager, URI, f->dom, NULL,
                                                            &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        locking_test_assert_no_calls();
}

/* A driver without state_extra has none to tell; no state, none either. */
static void
test_state_extra(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) extra = NULL;

        g_assert_true(vmlock_domain_lock_state_extra(f->manager, f->dom, "state-1", &extra,
                                                     &error));
        g_assert_no_error(error);
        g_assert_null(extra);
        locking_test_assert_calls(f->new_call_no_uri, RESOURCES, "free name=guest1");
        g_assert_true(vmlock_domain_lock_state_extra(f->manager, f->dom, NULL, &extra, &error));
        g_assert_no_error(error);
        g_assert_null(extra);
        g_assert_false(vmlock_domain_lock_state_extra(f->manager, f->dom, "s", NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        locking_test_assert_no_calls();
}

static void
test_inquire(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        g_assert_true(vmlock_domain_lock_process_inquire(f->manager, f->dom, &state, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(state, "state-"));
        locking_test_assert_calls(f->new_call_no_uri,
                                  RESOURCES,
                                  "inquire state=yes flags=0",
                                  "free name=guest1");
}

static void
test_disk_attach_detach(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDisk) disk = NULL;

        vmlock_domain_set_on_lockfailure(f->dom, VMLOCK_LOCK_FAILURE_PAUSE);
        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_BLOCK, VMLOCK_DISK_DEVICE_DISK, "/dev/sdh",
                               TRUE, FALSE, &error);
        g_assert_no_error(error);

        g_assert_true(vmlock_domain_lock_disk_attach(f->manager, URI, f->dom, disk, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call,
                                  "add_resource type=disk name=/dev/sdh flags=readonly|shared",
                                  "acquire state=(null) flags=0 action=pause fd=no",
                                  "free name=guest1");

        g_assert_true(vmlock_domain_lock_disk_detach(f->manager, f->dom, disk, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call_no_uri,
                                  "add_resource type=disk name=/dev/sdh flags=readonly|shared",
                                  "release state=no flags=0",
                                  "free name=guest1");
}

static void
test_disk_attach_unlockable(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDisk) network = NULL;
        g_autoptr(VmlockDisk) empty = NULL;

        network = vmlock_disk_new(VMLOCK_DISK_TYPE_NETWORK, VMLOCK_DISK_DEVICE_DISK,
                                  "pool/image", FALSE, FALSE, &error);
        g_assert_no_error(error);
        empty = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_CDROM, NULL, TRUE,
                                FALSE, &error);
        g_assert_no_error(error);

        /* Nothing to lock: the driver is not even asked. */
        g_assert_true(vmlock_domain_lock_disk_attach(f->manager, URI, f->dom, network, &error));
        g_assert_true(vmlock_domain_lock_disk_detach(f->manager, f->dom, network, &error));
        g_assert_true(vmlock_domain_lock_disk_attach(f->manager, URI, f->dom, empty, &error));
        g_assert_true(vmlock_domain_lock_disk_detach(f->manager, f->dom, empty, &error));
        g_assert_no_error(error);
        locking_test_assert_no_calls();
}

static void
test_lease_attach_detach(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLease) lease = NULL;
        g_autoptr(VmlockLease) bare = NULL;

        lease = vmlock_lease_new("space2", "hot-key", "/var/lib/leases/hot", 2097152, &error);
        g_assert_no_error(error);
        bare = vmlock_lease_new(NULL, "bare-key", "/var/lib/leases/bare", 0, &error);
        g_assert_no_error(error);

        g_assert_true(vmlock_domain_lock_lease_attach(f->manager, URI, f->dom, lease, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call,
                                  "add_resource type=lease name=hot-key flags=0 "
                                  "path=string:/var/lib/leases/hot offset=ulong:2097152 "
                                  "lockspace=string:space2",
                                  "acquire state=(null) flags=0 action=poweroff fd=no",
                                  "free name=guest1");

        g_assert_true(vmlock_domain_lock_lease_detach(f->manager, f->dom, lease, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call_no_uri,
                                  "add_resource type=lease name=hot-key flags=0 "
                                  "path=string:/var/lib/leases/hot offset=ulong:2097152 "
                                  "lockspace=string:space2",
                                  "release state=no flags=0",
                                  "free name=guest1");

        /* No lockspace: the parameter is left out, not passed empty. */
        g_assert_true(vmlock_domain_lock_lease_attach(f->manager, URI, f->dom, bare, &error));
        g_assert_no_error(error);
        locking_test_assert_calls(f->new_call,
                                  "add_resource type=lease name=bare-key flags=0 "
                                  "path=string:/var/lib/leases/bare offset=ulong:0",
                                  "acquire state=(null) flags=0 action=poweroff fd=no",
                                  "free name=guest1");
}

static void
test_inactive_domain(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_new("idle", UUID, &error);
        g_assert_no_error(error);

        /* No id and no pid: -1 and 0; no resources, default action. */
        g_assert_true(vmlock_domain_lock_process_resume(f->manager, NULL, dom, NULL, &error));
        g_assert_no_error(error);
        locking_test_assert_calls("new type=domain flags=0 uuid=uuid:" UUID " name=string:idle "
                                  "id=int:-1 pid=uint:0 uri=string:(null) leases=uint:0",
                                  "acquire state=(null) flags=0 action=default fd=no",
                                  "free name=idle");
}

static void
test_driver_failure(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        int fd = -2;

        g_setenv(TEST_DRIVER_FAIL_ENV, "acquire", TRUE);
        g_assert_false(vmlock_domain_lock_process_start(f->manager, URI, f->dom, FALSE, &fd,
                                                        &error));
        /* The driver's error as it was, and the object freed all the same. */
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "test driver: injected failure in acquire");
        g_assert_cmpint(fd, ==, -2);
        {
                g_auto(GStrv) calls = locking_test_take_calls();
                guint n = g_strv_length(calls);

                g_assert_cmpuint(n, ==, 9);
                g_assert_true(g_str_has_prefix(calls[n - 2], "acquire "));
                g_assert_cmpstr(calls[n - 1], ==, "free name=guest1");
        }
}

static void
test_driver_failure_add_resource(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL;

        /* The first resource fails: nothing more is added or released. */
        g_setenv(TEST_DRIVER_FAIL_ENV, "add_resource", TRUE);
        g_assert_false(vmlock_domain_lock_process_pause(f->manager, f->dom, &state, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "test driver: injected failure in add_resource");
        g_assert_null(state);
        locking_test_assert_calls(f->new_call_no_uri,
                                  "add_resource type=lease name=key-a flags=0 "
                                  "path=string:/var/lib/leases/a offset=ulong:1048576 "
                                  "lockspace=string:space1",
                                  "free name=guest1");
}

static void
test_driver_failure_release(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLease) lease = NULL;

        lease = vmlock_lease_new(NULL, "k", "/var/lib/leases/k", 0, &error);
        g_assert_no_error(error);
        g_setenv(TEST_DRIVER_FAIL_ENV, "release", TRUE);
        g_assert_false(vmlock_domain_lock_lease_detach(f->manager, f->dom, lease, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        locking_test_assert_calls(f->new_call_no_uri,
                                  "add_resource type=lease name=k flags=0 "
                                  "path=string:/var/lib/leases/k offset=ulong:0",
                                  "release state=no flags=0",
                                  "free name=guest1");
}

static void
test_null_args(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        char *state = NULL;

        g_assert_false(vmlock_domain_lock_process_start(NULL, URI, f->dom, FALSE, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==,
                        "vmlock_domain_lock_process_start: no lock manager given");
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_process_pause(f->manager, NULL, &state, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_process_resume(f->manager, URI, NULL, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_process_inquire(NULL, f->dom, &state, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_disk_attach(f->manager, URI, f->dom, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, "vmlock_domain_lock_disk_attach: no disk given");
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_disk_detach(f->manager, f->dom, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_lease_attach(f->manager, URI, f->dom, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_lease_detach(f->manager, f->dom, NULL, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_null(state);
        locking_test_assert_no_calls();
}

static void
test_nop(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(VmlockLease) lease = NULL;
        char *state = (char *) "not written";
        gboolean held;
        int fd = -2;

        manager = vmlock_lock_manager_new("nop", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);
        dom = vmlock_domain_parse_string(domain_xml, strlen(domain_xml), NULL, &error);
        g_assert_no_error(error);
        vmlock_domain_set_pid(dom, getpid());

        /* nop takes everything and gives back no fd and no state. */
        g_assert_true(vmlock_domain_lock_process_start(manager, URI, dom, FALSE, &fd, &error));
        g_assert_no_error(error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_true(vmlock_domain_lock_process_pause(manager, dom, &state, &error));
        g_assert_no_error(error);
        g_assert_null(state);
        g_assert_true(vmlock_domain_lock_process_resume(manager, URI, dom, NULL, &error));
        g_assert_no_error(error);
        lease = vmlock_lease_new(NULL, "k", "/l", 0, &error);
        g_assert_no_error(error);
        g_assert_true(vmlock_domain_lock_lease_attach(manager, URI, dom, lease, &error));
        g_assert_no_error(error);
        /* It holds nothing, whatever a state says. */
        held = TRUE;
        g_assert_true(vmlock_domain_lock_state_holds_disk(manager, "/var/lib/images/root.qcow2",
                                                          vmlock_domain_get_disk(dom, 0), &held,
                                                          &error));
        g_assert_no_error(error);
        g_assert_false(held);
}

/* ---- what a state holds ------------------------------------------------ */

static void
assert_disk_held(Fixture *f, const char *state, guint index, gboolean want)
{
        g_autoptr(GError) error = NULL;
        gboolean held = !want;

        g_assert_true(vmlock_domain_lock_state_holds_disk(
                f->manager, state, vmlock_domain_get_disk(f->dom, index), &held, &error));
        g_assert_no_error(error);
        g_assert_cmpint(held, ==, want);
}

static void
assert_lease_held(Fixture *f, const char *state, guint index, gboolean want)
{
        g_autoptr(GError) error = NULL;
        gboolean held = !want;

        g_assert_true(vmlock_domain_lock_state_holds_lease(
                f->manager, state, vmlock_domain_get_lease(f->dom, index), &held, &error));
        g_assert_no_error(error);
        g_assert_cmpint(held, ==, want);
}

/* The driver is asked with the resource as add_resource gets it, and its
 * answer passed on: the caller never parses a state. */
static void
test_state_holds(Fixture *f, gconstpointer data)
{
        const char *state = "key-a /var/lib/images/root.qcow2";

        assert_lease_held(f, state, 0, TRUE);
        assert_lease_held(f, state, 1, FALSE);
        assert_disk_held(f, state, 0, TRUE);
        assert_disk_held(f, state, 1, FALSE);
        locking_test_assert_calls(
                "state_holds_resource state=key-a /var/lib/images/root.qcow2 type=lease "
                "name=key-a flags=0 path=string:/var/lib/leases/a offset=ulong:1048576 "
                "lockspace=string:space1",
                "state_holds_resource state=key-a /var/lib/images/root.qcow2 type=lease "
                "name=key-b flags=0 path=string:/var/lib/leases/b offset=ulong:0",
                "state_holds_resource state=key-a /var/lib/images/root.qcow2 type=disk "
                "name=/var/lib/images/root.qcow2 flags=0",
                "state_holds_resource state=key-a /var/lib/images/root.qcow2 type=disk "
                "name=/dev/vg0/data flags=0");

        /* No local path (the empty cdrom, the rbd disk): never a resource,
         * never held, and the driver is not asked. */
        assert_disk_held(f, "hdc vde pool/image", 4, FALSE);
        assert_disk_held(f, "hdc vde pool/image", 5, FALSE);
        /* No state: nothing held, nothing to ask. */
        assert_disk_held(f, NULL, 0, FALSE);
        assert_lease_held(f, NULL, 0, FALSE);
        locking_test_assert_no_calls();
}

static void
test_state_holds_errors(Fixture *f, gconstpointer data)
{
        const VmlockDisk *disk = vmlock_domain_get_disk(f->dom, 0);
        const VmlockLease *lease = vmlock_domain_get_lease(f->dom, 0);
        g_autoptr(GError) error = NULL;
        gboolean held = 7;

        g_setenv(TEST_DRIVER_FAIL_ENV, "state_holds_resource", TRUE);
        g_assert_false(vmlock_domain_lock_state_holds_disk(f->manager, "s", disk, &held,
                                                           &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==,
                        "test driver: injected failure in state_holds_resource");
        g_clear_error(&error);
        g_setenv(TEST_DRIVER_FAIL_ENV, "state_holds_resource:silent", TRUE);
        g_assert_false(vmlock_domain_lock_state_holds_lease(f->manager, "s", lease, &held,
                                                            &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_clear_error(&error);
        g_unsetenv(TEST_DRIVER_FAIL_ENV);
        g_assert_cmpint(held, ==, 7); /* not written on failure */
        g_strfreev(locking_test_take_calls());

        g_assert_false(vmlock_domain_lock_state_holds_disk(NULL, "s", disk, &held, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_state_holds_disk(f->manager, "s", NULL, &held,
                                                           &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        g_assert_false(vmlock_domain_lock_state_holds_lease(f->manager, "s", lease, NULL,
                                                            &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);
        locking_test_assert_no_calls();
}

/* The callback is optional: a driver without it cannot tell, and says so
 * even for a NULL state. */
static void
test_state_holds_unsupported(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockDisk) disk = NULL;
        gboolean held = 7;

        manager = vmlock_lock_manager_new("minimal", NULL, "/cfg", NULL, NULL, &error);
        g_assert_no_error(error);
        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, "/d", FALSE,
                               FALSE, &error);
        g_assert_no_error(error);
        g_assert_false(vmlock_domain_lock_state_holds_disk(manager, NULL, disk, &held, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_cmpstr(error->message, ==,
                        "lock driver minimal cannot tell whether its state holds /d");
        g_assert_cmpint(held, ==, 7);
}

static void
test_disk_is_lockable(void)
{
        static const struct {
                VmlockDiskType type;
                const char *source;
                gboolean lockable;
        } cases[] = {
                { VMLOCK_DISK_TYPE_FILE, "/f", TRUE },
                { VMLOCK_DISK_TYPE_BLOCK, "/dev/b", TRUE },
                { VMLOCK_DISK_TYPE_DIR, "/d", TRUE },
                { VMLOCK_DISK_TYPE_FILE, NULL, FALSE },
                { VMLOCK_DISK_TYPE_NETWORK, "pool/image", FALSE },
                { VMLOCK_DISK_TYPE_VOLUME, "vol", FALSE },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockDisk) disk = vmlock_disk_new(cases[i].type,
                                                             VMLOCK_DISK_DEVICE_DISK,
                                                             cases[i].source, FALSE, FALSE,
                                                             &error);

                g_assert_no_error(error);
                g_assert_cmpint(vmlock_disk_is_lockable(disk), ==, cases[i].lockable);
        }
        g_assert_false(vmlock_disk_is_lockable(NULL));
}

#define add_test(path, func) \
        g_test_add("/locking/domain-lock/" path, Fixture, NULL, fixture_setup, func, \
                   fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        add_test("start/running", test_start_running);
        add_test("start/paused", test_start_paused);
        add_test("start/no-fd", test_start_no_fd);
        add_test("start/held", test_start_held);
        add_test("start/foreign-pid", test_start_foreign_pid);
        add_test("pause-resume", test_pause_resume);
        add_test("take-over", test_take_over);
        add_test("state-extra", test_state_extra);
        add_test("inquire", test_inquire);
        add_test("disk/attach-detach", test_disk_attach_detach);
        add_test("disk/unlockable", test_disk_attach_unlockable);
        add_test("lease/attach-detach", test_lease_attach_detach);
        add_test("inactive-domain", test_inactive_domain);
        add_test("driver-failure/acquire", test_driver_failure);
        add_test("driver-failure/add-resource", test_driver_failure_add_resource);
        add_test("driver-failure/release", test_driver_failure_release);
        add_test("null-args", test_null_args);
        add_test("state/holds", test_state_holds);
        add_test("state/errors", test_state_holds_errors);
        g_test_add_func("/locking/domain-lock/nop", test_nop);
        g_test_add_func("/locking/domain-lock/state/unsupported", test_state_holds_unsupported);
        g_test_add_func("/locking/domain-lock/disk-is-lockable", test_disk_is_lockable);

        return g_test_run();
}
