/* vmlock tests: an unprivileged user who can write disk_lease_dir cannot make root follow a link.
 *
 * The attacker is a real user, vmlock-attacker (created once, idempotently),
 * and plants its links itself, from a child that dropped to its uid. The
 * driver runs as root, as on a real host, and must refuse; the victim file
 * (root's, in the scratch dir) must keep its owner, mode and content. The
 * lease dir the attacker writes is one the driver trusts, group-writable by
 * the configured group (the attacker's), as with `group = "sanlock"`: it is
 * the files in it that are hostile. */
#define G_LOG_DOMAIN "vmlock-sanlock-test"
#define _GNU_SOURCE /* unshare */

#include "config-build.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "attacker.h"
#include "sanlock-test-util.h"

#define VICTIM_TEXT "root's precious data\n"

static uid_t attacker_uid;
static gid_t attacker_gid;

typedef struct {
        char *path;
        struct stat st;
} Victim;

/* A file of root's that the attacker would like chowned or overwritten. */
static void
victim_new(Victim *victim, const char *name)
{
        g_autoptr(GError) error = NULL;

        victim->path = g_build_filename(sanlock_test_scratch_dir(), name, NULL);
        g_file_set_contents(victim->path, VICTIM_TEXT, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(chmod(victim->path, 0600), ==, 0);
        g_assert_cmpint(stat(victim->path, &victim->st), ==, 0);
}

static void
victim_assert_untouched(Victim *victim)
{
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        struct stat st;

        g_assert_cmpint(stat(victim->path, &st), ==, 0);
        g_assert_cmpuint(st.st_uid, ==, 0);
        g_assert_cmpuint(st.st_gid, ==, victim->st.st_gid);
        g_assert_cmpuint(st.st_mode, ==, victim->st.st_mode);
        g_assert_cmpint(st.st_size, ==, victim->st.st_size);
        g_file_get_contents(victim->path, &text, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(text, ==, VICTIM_TEXT);
        g_clear_pointer(&victim->path, g_free);
}

/* A lease dir of root's that the attacker's group may write, where the
 * attacker can reach it (the build dir may be in a home it cannot enter). */
static char *
lease_dir_new(mode_t mode, gid_t group)
{
        g_autofree char *name = sanlock_test_unique_name("leases");
        char *dir = g_build_filename(sanlock_test_short_dir(), name, NULL);

        g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
        g_assert_cmpint(chown(dir, 0, group), ==, 0);
        g_assert_cmpint(chmod(dir, mode), ==, 0);
        return dir;
}

/* A config dir whose qemu-sanlock.conf trusts the attacker's group. */
static char *
config_dir_new(const char *lease_dir, const char *extra)
{
        g_autofree char *text = g_strdup_printf("auto_disk_leases = 1\n"
                                                "disk_lease_dir = \"%s\"\n"
                                                "host_id = 1\n%s",
                                                lease_dir, extra ? extra : "");

        return sanlock_test_config_dir_new(text);
}

static void
assert_message_names(const GError *error, const char *part)
{
        if (!strstr(error->message, part))
                g_error("expected a message naming '%s', got: %s", part, error->message);
}

/* __LIBVIRT__DISKS__ -> a file of root's: the driver used to chown it to
 * user:group and make it group-writable. */
static void
test_lockspace_symlink(void)
{
        g_autofree char *dir = lease_dir_new(0770, attacker_gid);
        g_autofree char *config = config_dir_new(dir, "group = \"" ATTACKER "\"\n");
        g_autofree char *lockspace = g_build_filename(dir, "__LIBVIRT__DISKS__", NULL);
        g_autoptr(GError) error = NULL;
        Victim victim;

        victim_new(&victim, "shadow");
        attacker_plant(PLANT_SYMLINK, lockspace, victim.path);

        g_assert_false(sanlock_test_host_call(sanlock_test_host(1), sanlock_test_init_driver,
                                              config, NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_names(error, lockspace);
        assert_message_names(error, "symbolic link");
        victim_assert_untouched(&victim);
}

typedef struct {
        const char *config_dir;
        const char *fake_dir;   /* seen at the harness's lease dir path */
        const char *disk;
} LeaseAttack;

/* The host's lockspace is joined with the harness's lease dir, and sanlock
 * knows it by that path: the attacker's directory is mounted there, in a
 * mount namespace of this child only (the daemons still see the real one),
 * so that the driver finds the attacker's files under the joined path. */
static gboolean
start_in_fake_dir(gpointer data, GString *reply, GError **error)
{
        LeaseAttack *attack = data;
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autofree char *name = sanlock_test_unique_name("attacked");
        int fd = -1;

        if (unshare(CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(attack->fake_dir, h->lease_dir, NULL, MS_BIND, NULL) < 0) {
                int saved = errno;

                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                            "cannot mount %s on %s in a mount namespace: %s",
                            attack->fake_dir, h->lease_dir, g_strerror(saved));
                return FALSE;
        }
        manager = vmlock_lock_manager_new("sanlock", NULL, attack->config_dir, NULL, NULL,
                                          error);
        if (!manager)
                return FALSE;
        dom = sanlock_test_domain_new(name);
        sanlock_test_domain_add_disk(dom, attack->disk, FALSE, FALSE);
        vmlock_domain_set_pid(dom, getpid());
        if (!vmlock_domain_lock_process_start(manager, NULL, dom, FALSE, &fd, error))
                return FALSE;
        close(fd);
        g_string_append(reply, "started");
        return TRUE;
}

/* Runs start_in_fake_dir for a disk whose lease file the attacker planted;
 * returns the error. */
static GError *
lease_attack(PlantKind kind, const char *target)
{
        const SanlockTestHarness *h = sanlock_test_harness();
        g_autofree char *dir = lease_dir_new(0770, attacker_gid);
        g_autofree char *config = config_dir_new(h->lease_dir, "group = \"" ATTACKER "\"\n");
        g_autofree char *lockspace = g_build_filename(dir, "__LIBVIRT__DISKS__", NULL);
        g_autofree char *disk = sanlock_test_disk_path("attacked");
        g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, disk, -1);
        g_autofree char *planted = g_build_filename(dir, md5, NULL);
        g_autofree char *seen = g_build_filename(h->lease_dir, md5, NULL);
        LeaseAttack attack = { config, dir, disk };
        GError *error = NULL;
        int fd;

        /* the (unused) lockspace file, as the driver would have made it */
        fd = open(lockspace, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fchown(fd, 0, attacker_gid), ==, 0);
        close(fd);

        attacker_plant(kind, planted, target);
        g_assert_false(sanlock_test_host_call(sanlock_test_host(1), start_in_fake_dir, &attack,
                                              NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        if (error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_PERM) {
                g_test_skip(error->message);
                g_clear_error(&error);
                return NULL;
        }
        /* the path as the driver sees it, under the joined lease dir */
        assert_message_names(error, seen);
        assert_message_names(error, disk);
        return error;
}

/* <md5 of the disk path> -> a file of root's: sanlock would have written a
 * lease over its first MiB. */
static void
test_lease_symlink(void)
{
        g_autoptr(GError) error = NULL;
        Victim victim;

        victim_new(&victim, "device");
        error = lease_attack(PLANT_SYMLINK, victim.path);
        if (error) {
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
                assert_message_names(error, "symbolic link");
        }
        victim_assert_untouched(&victim);
}

/* A lease file of the attacker's own: it could swap its content at will. */
static void
test_lease_foreign_owner(void)
{
        g_autoptr(GError) error = lease_attack(PLANT_FILE, NULL);

        if (error) {
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
                assert_message_names(error, ATTACKER);
        }
}

/* A lease dir that others may write is refused before any file in it is
 * looked at, naming it and what to change. */
static void
assert_lease_dir_refused(mode_t mode, gid_t group, const char *extra, const char *fix)
{
        g_autofree char *dir = lease_dir_new(mode, group);
        g_autofree char *config = config_dir_new(dir, extra);
        g_autoptr(GError) error = NULL;

        g_assert_false(sanlock_test_host_call(sanlock_test_host(1), sanlock_test_init_driver,
                                              config, NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        assert_message_names(error, dir);
        assert_message_names(error, fix);
}

static void
test_lease_dir_world_writable(void)
{
        assert_lease_dir_refused(0777, 0, NULL, "chmod o-w");
        /* sticky or not: anyone could still plant a file another host trusts */
        assert_lease_dir_refused(01777, 0, NULL, "chmod o-w");
}

static void
test_lease_dir_group_writable(void)
{
        /* the attacker's group, but the config does not name it */
        assert_lease_dir_refused(0770, attacker_gid, NULL, "chmod g-w");
}

static void
test_lease_dir_foreign_owner(void)
{
        g_autofree char *dir = lease_dir_new(0755, 0);
        g_autofree char *config = config_dir_new(dir, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(chown(dir, attacker_uid, attacker_gid), ==, 0);
        g_assert_false(sanlock_test_host_call(sanlock_test_host(1), sanlock_test_init_driver,
                                              config, NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        assert_message_names(error, dir);
        assert_message_names(error, ATTACKER);
}

/* The mode says only root writes it, an ACL says the attacker does too. */
static void
test_lease_dir_acl(void)
{
        g_autofree char *dir = lease_dir_new(0755, 0);
        g_autofree char *config = config_dir_new(dir, NULL);
        g_autofree char *planted = g_build_filename(dir, "planted", NULL);
        g_autoptr(GError) error = NULL;

        attacker_grant_write_by_acl(dir, attacker_uid);
        attacker_plant(PLANT_FILE, planted, NULL);

        g_assert_false(sanlock_test_host_call(sanlock_test_host(1), sanlock_test_init_driver,
                                              config, NULL, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        assert_message_names(error, dir);
        assert_message_names(error, ATTACKER);
        assert_message_names(error, "setfacl -x u:");
}

int
main(int argc, char **argv)
{
        if (!sanlock_test_init(&argc, &argv)) {
                sanlock_test_add_skip();
                return g_test_run();
        }
        attacker_ensure(&attacker_uid, &attacker_gid);
        /* the attacker must reach its lease dirs */
        g_assert_cmpint(chmod(sanlock_test_short_dir(), 0711), ==, 0);

        g_test_add_func("/driver/attack/lockspace-symlink", test_lockspace_symlink);
        g_test_add_func("/driver/attack/lease-symlink", test_lease_symlink);
        g_test_add_func("/driver/attack/lease-foreign-owner", test_lease_foreign_owner);
        g_test_add_func("/driver/attack/lease-dir-world-writable", test_lease_dir_world_writable);
        g_test_add_func("/driver/attack/lease-dir-group-writable", test_lease_dir_group_writable);
        g_test_add_func("/driver/attack/lease-dir-foreign-owner", test_lease_dir_foreign_owner);
        g_test_add_func("/driver/attack/lease-dir-acl", test_lease_dir_acl);
        return g_test_run();
}
