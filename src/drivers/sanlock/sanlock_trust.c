/* vmlock sanlock driver: which files in disk_lease_dir root may act on.
 *
 * The driver runs as root and chowns, chmods and has sanlock write files in
 * a directory that may be shared. Whoever can write that directory could
 * plant a symlink (__LIBVIRT__DISKS__ -> /etc/shadow, <md5> -> /dev/sdX) for
 * root to follow. So the directory must be writable only by trusted users,
 * and every file the driver acts on is looked at without following links. */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* O_PATH */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_trust.h"
#include "util/file_trust.h"
#include "util/log.h"

static gboolean
owner_trusted(const VmlockSanlockConfig *config, uid_t uid)
{
        return uid == 0 || (config->user != (uid_t)-1 && uid == config->user);
}

/* "root" or "root or uid 107 (sanlock)" */
static char *
describe_trusted_owners(const VmlockSanlockConfig *config)
{
        g_autofree char *user = NULL;

        if (config->user == (uid_t)-1 || config->user == 0)
                return g_strdup("root");
        user = file_trust_describe_uid(config->user);
        return g_strdup_printf("root or the configured user, %s", user);
}

static gboolean
acl_user_trusted(guint32 id, gpointer user_data)
{
        return owner_trusted(user_data, (uid_t)id);
}

static gboolean
acl_group_trusted(guint32 id, gpointer user_data)
{
        const VmlockSanlockConfig *config = user_data;

        return id == 0 || (config->group != (gid_t)-1 && (gid_t)id == config->group);
}

/* An ACL can let named users and groups write a directory whose mode says
 * only root may (the group bits then show the ACL's mask, not the owning
 * group): each such entry must name a trusted user or group. */
static gboolean
check_dir_acl(const VmlockSanlockConfig *config, int fd, GError **error)
{
        const char *dir = config->disk_lease_dir;
        g_autofree char *who = NULL;
        const char *tag = "u";
        guint32 id = 0;

        switch (file_trust_acl_writer(fd, acl_user_trusted, acl_group_trusted,
                                      (gpointer)config, &id)) {
        case FILE_TRUST_ACL_NONE:
                return TRUE;
        case FILE_TRUST_ACL_TOO_LONG:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "disk_lease_dir %s (%s) has an ACL too long to check; "
                            "remove it (setfacl -b %s)", dir, config->filename, dir);
                return FALSE;
        case FILE_TRUST_ACL_USER:
                who = file_trust_describe_uid((uid_t)id);
                break;
        case FILE_TRUST_ACL_GROUP:
                who = file_trust_describe_gid((gid_t)id);
                tag = "g";
                break;
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                    "disk_lease_dir %s (%s) is writable by %s through an ACL: "
                    "it could plant links there for root to follow; run "
                    "setfacl -x %s:%u %s", dir, config->filename, who,
                    tag, (unsigned int)id, dir);
        return FALSE;
}

gboolean
vmlock_sanlock_trust_lease_dir(const VmlockSanlockConfig *config, GError **error)
{
        const char *dir = config->disk_lease_dir;
        g_autofree char *owners = NULL;
        struct stat st;
        int fd;

        /* The directory named in the root-owned config is the admin's; it is
         * what it holds that others may have touched. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                g_debug("cannot open disk_lease_dir %s: %s", dir, g_strerror(errno));
                return TRUE; /* missing or unusable: the caller says so */
        }
        if (fstat(fd, &st) < 0) {
                int saved = errno;

                close(fd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", dir,
                            g_strerror(saved));
                return FALSE;
        }
        if (!check_dir_acl(config, fd, error)) {
                close(fd);
                return FALSE;
        }
        close(fd);

        owners = describe_trusted_owners(config);
        if (!owner_trusted(config, st.st_uid)) {
                g_autofree char *owner = file_trust_describe_uid(st.st_uid);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "disk_lease_dir %s (%s) belongs to %s: its owner could plant "
                            "links there for root to follow; it must belong to %s "
                            "(chown root %s)", dir, config->filename, owner, owners, dir);
                return FALSE;
        }
        if (st.st_mode & S_IWOTH) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "disk_lease_dir %s (%s) is writable by every user (mode %04o): "
                            "anyone could plant links there for root to follow; "
                            "run chmod o-w %s", dir, config->filename,
                            (unsigned int)(st.st_mode & 07777), dir);
                return FALSE;
        }
        if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
            (config->group == (gid_t)-1 || st.st_gid != config->group)) {
                g_autofree char *group = file_trust_describe_gid(st.st_gid);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "disk_lease_dir %s (%s) is writable by group %s (mode %04o), "
                            "which is neither root's nor the configured group: its members "
                            "could plant links there for root to follow; run chmod g-w %s, "
                            "or set group in %s", dir, config->filename, group,
                            (unsigned int)(st.st_mode & 07777), dir, config->filename);
                return FALSE;
        }
        return TRUE;
}

gboolean
vmlock_sanlock_trust_stat(const VmlockSanlockConfig *config, const char *path,
                          const char *what, const struct stat *st, gboolean allow_block,
                          GError **error)
{
        if (S_ISLNK(st->st_mode)) {
                g_autofree char *target = g_file_read_link(path, NULL);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s, %s: it is a symbolic link (to %s), not a regular "
                            "file; remove it", what, path, target ? target : "?");
                return FALSE;
        }
        if (!S_ISREG(st->st_mode) && !(allow_block && S_ISBLK(st->st_mode))) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s, %s: it is %s, not a regular file%s; remove it", what,
                            path, file_trust_kind(st->st_mode), allow_block ? " or block device" : "");
                return FALSE;
        }
        if (!owner_trusted(config, st->st_uid)) {
                g_autofree char *owner = file_trust_describe_uid(st->st_uid);
                g_autofree char *owners = describe_trusted_owners(config);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s, %s: it belongs to %s, not to %s; remove it", what,
                            path, owner, owners);
                return FALSE;
        }
        return TRUE;
}

int
vmlock_sanlock_trust_file(const VmlockSanlockConfig *config, const char *path,
                          const char *what, struct stat *ret_st, GError **error)
{
        struct stat st;
        int fd;

        /* O_PATH opens nothing (no FIFO to block on, no device to wake), and
         * with O_NOFOLLOW a symlink is looked at, not followed. */
        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int saved = errno;

                if (saved == ENOENT)
                        return 0;
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot access %s, %s: %s",
                            what, path, g_strerror(saved));
                return -1;
        }
        if (fstat(fd, &st) < 0) {
                int saved = errno;

                close(fd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s, %s: %s",
                            what, path, g_strerror(saved));
                return -1;
        }
        close(fd);

        if (!vmlock_sanlock_trust_stat(config, path, what, &st, FALSE, error))
                return -1;
        if (ret_st)
                *ret_st = st;
        return 1;
}
