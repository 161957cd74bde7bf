/* vmlock tests: an unprivileged user who plants files for root to trip over. */
#define _GNU_SOURCE /* setgroups */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "attacker.h"

static uid_t attacker_uid;
static gid_t attacker_gid;

void
attacker_ensure(uid_t *ret_uid, gid_t *ret_gid)
{
        struct passwd pw, *found = NULL;
        char buf[1024];

        if (getpwnam_r(ATTACKER, &pw, buf, sizeof(buf), &found) != 0 || !found) {
                const char *argv[] = { "useradd", "--system", "--user-group", "--no-create-home",
                                       "--shell", "/usr/sbin/nologin", ATTACKER, NULL };
                g_autofree char *err = NULL;
                g_autoptr(GError) error = NULL;
                int status = 0;

                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             &err, &status, &error);
                g_assert_no_error(error);
                /* 9: it exists, made meanwhile by another run */
                if (!g_spawn_check_wait_status(status, NULL) &&
                    !(WIFEXITED(status) && WEXITSTATUS(status) == 9))
                        g_error("useradd %s failed: %s", ATTACKER, err);
                g_assert_cmpint(getpwnam_r(ATTACKER, &pw, buf, sizeof(buf), &found), ==, 0);
                g_assert_nonnull(found);
        }
        attacker_uid = found->pw_uid;
        attacker_gid = found->pw_gid;
        g_assert_cmpuint(attacker_uid, !=, 0);
        if (ret_uid)
                *ret_uid = attacker_uid;
        if (ret_gid)
                *ret_gid = attacker_gid;
}

void
attacker_plant(PlantKind kind, const char *path, const char *target)
{
        pid_t pid;
        int status;

        g_assert_cmpuint(attacker_uid, !=, 0); /* attacker_ensure() first */
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                int fd;

                if (setgroups(0, NULL) < 0 || setgid(attacker_gid) < 0 ||
                    setuid(attacker_uid) < 0)
                        _exit(2);
                if (kind == PLANT_SYMLINK)
                        _exit(symlink(target, path) == 0 ? 0 : 1);
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                _exit(fd >= 0 ? 0 : 1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                g_error("the attacker could not plant %s (status 0x%x)", path, status);
}

void
attacker_grant_write_by_acl(const char *dir, uid_t uid)
{
        const guint32 none = G_MAXUINT32;
        const guint16 entries[][2] = {
                { 0x01, 07 },   /* owner */
                { 0x02, 07 },   /* the named user */
                { 0x04, 05 },   /* owning group */
                { 0x10, 07 },   /* mask */
                { 0x20, 05 },   /* others */
        };
        guint8 buf[4 + G_N_ELEMENTS(entries) * 8];
        guint32 version = GUINT32_TO_LE(2);

        memcpy(buf, &version, 4);
        for (gsize i = 0; i < G_N_ELEMENTS(entries); i++) {
                guint16 tag = GUINT16_TO_LE(entries[i][0]);
                guint16 perm = GUINT16_TO_LE(entries[i][1]);
                guint32 id = GUINT32_TO_LE(entries[i][0] == 0x02 ? (guint32)uid : none);

                memcpy(buf + 4 + i * 8, &tag, 2);
                memcpy(buf + 4 + i * 8 + 2, &perm, 2);
                memcpy(buf + 4 + i * 8 + 4, &id, 4);
        }
        if (setxattr(dir, "system.posix_acl_access", buf, sizeof(buf), 0) < 0)
                g_error("cannot set an ACL on %s: %s", dir, g_strerror(errno));
}
