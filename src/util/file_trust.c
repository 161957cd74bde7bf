/* vmlock: telling whether a file or directory could have been planted or
 * changed by another user (see file_trust.h). */
#define G_LOG_DOMAIN "vmlock-util"

#include "config-build.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "util/file_trust.h"

const char *
file_trust_kind(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG:
                return "a regular file";
        case S_IFDIR:
                return "a directory";
        case S_IFLNK:
                return "a symbolic link";
        case S_IFBLK:
                return "a block device";
        case S_IFCHR:
                return "a character device";
        case S_IFIFO:
                return "a FIFO";
        case S_IFSOCK:
                return "a socket";
        default:
                return "of an unknown type";
        }
}

char *
file_trust_describe_uid(uid_t uid)
{
        struct passwd pw, *found = NULL;
        char buf[1024];

        /* the _r form: the sanlock driver may run in several threads */
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
                return g_strdup_printf("uid %u (%s)", (unsigned int)uid, found->pw_name);
        return g_strdup_printf("uid %u", (unsigned int)uid);
}

char *
file_trust_describe_gid(gid_t gid)
{
        struct group gr, *found = NULL;
        char buf[1024];

        if (getgrgid_r(gid, &gr, buf, sizeof(buf), &found) == 0 && found)
                return g_strdup_printf("gid %u (%s)", (unsigned int)gid, found->gr_name);
        return g_strdup_printf("gid %u", (unsigned int)gid);
}

/* The on-disk form of a POSIX access ACL (linux/posix_acl_xattr.h). */
#define ACL_XATTR "system.posix_acl_access"
#define ACL_XATTR_VERSION 2
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP 0x08
#define ACL_PERM_WRITE 0x02

typedef struct {
        guint16 tag;
        guint16 perm;
        guint32 id;
} AclEntry;

FileTrustAcl
file_trust_acl_writer(int fd, FileTrustIdFunc trusted_user, FileTrustIdFunc trusted_group,
                      gpointer user_data, guint32 *ret_id)
{
        guint8 buf[4 + 64 * sizeof(AclEntry)];
        ssize_t len = fgetxattr(fd, ACL_XATTR, buf, sizeof(buf));
        guint32 version;

        if (len < 0) {
                if (errno == ERANGE)
                        return FILE_TRUST_ACL_TOO_LONG;
                /* ENODATA: no ACL; ENOTSUP: a file system without them */
                if (errno != ENODATA && errno != ENOTSUP)
                        g_debug("cannot read an ACL: %s", g_strerror(errno));
                return FILE_TRUST_ACL_NONE;
        }
        if (len < 4)
                return FILE_TRUST_ACL_NONE;
        memcpy(&version, buf, sizeof(version));
        if (GUINT32_FROM_LE(version) != ACL_XATTR_VERSION)
                return FILE_TRUST_ACL_NONE;

        for (gsize off = 4; off + sizeof(AclEntry) <= (gsize)len; off += sizeof(AclEntry)) {
                AclEntry e;

                memcpy(&e, buf + off, sizeof(e));
                e.tag = GUINT16_FROM_LE(e.tag);
                e.perm = GUINT16_FROM_LE(e.perm);
                e.id = GUINT32_FROM_LE(e.id);
                if (!(e.perm & ACL_PERM_WRITE))
                        continue;
                if (e.tag == ACL_TAG_USER && !trusted_user(e.id, user_data)) {
                        *ret_id = e.id;
                        return FILE_TRUST_ACL_USER;
                }
                if (e.tag == ACL_TAG_GROUP && !trusted_group(e.id, user_data)) {
                        *ret_id = e.id;
                        return FILE_TRUST_ACL_GROUP;
                }
        }
        return FILE_TRUST_ACL_NONE;
}
