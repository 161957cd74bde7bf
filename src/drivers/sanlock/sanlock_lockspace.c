/* vmlock sanlock driver: creating and joining the __LIBVIRT__DISKS__ lockspace. */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_errors.h"
#include "drivers/sanlock/sanlock_file.h"
#include "drivers/sanlock/sanlock_lockspace.h"
#include "drivers/sanlock/sanlock_trust.h"
#include "util/log.h"

/* How often a waiting join says it is still waiting. */
#define PROGRESS_INTERVAL_US (5 * G_USEC_PER_SEC)
/* sanlock's io_timeout when the daemon's default applies. */
#define SANLOCK_DEFAULT_IO_TIMEOUT 10
/* "/.<32 hex digits>.XXXXXX": a lease file's temporary name, with its slash. */
#define LONGEST_NAME_IN_DIR (2 + 32 + 7)
/* Joins to retry while another process is adding the same lockspace. */
#define JOIN_ATTEMPTS 10

typedef struct {
        struct sanlk_lockspace ls;
        guint io_timeout;
        GMutex lock;
        GCond cond;
        gboolean done;
        int rv;
} JoinTask;

gboolean
vmlock_sanlock_daemon_check(GError **error)
{
        guint32 version = 0, proto = 0;
        int rv;

        rv = sanlock_version(0, &version, &proto);
        if (rv < 0) {
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_CONNECT,
                        .subject = "the sanlock daemon",
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        return TRUE;
}

static gboolean
lockspace_init(const char *tmp_path, int fd, gpointer data, GError **error)
{
        const VmlockSanlockConfig *config = data;
        struct sanlk_lockspace ls = { 0 };
        int rv;

        g_strlcpy(ls.name, VMLOCK_SANLOCK_DISK_LOCKSPACE, sizeof(ls.name));
        g_strlcpy(ls.host_id_disk.path, tmp_path, sizeof(ls.host_id_disk.path));

        /* The daemon picks the size: 1 MiB for files and 512-byte devices. */
        rv = sanlock_align(&ls.host_id_disk);
        if (rv <= 0) {
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_LOCKSPACE,
                        .subject = "lockspace " VMLOCK_SANLOCK_DISK_LOCKSPACE,
                        .path = tmp_path,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        if (!vmlock_sanlock_file_allocate(fd, tmp_path, (gsize)rv, error))
                return FALSE;

        rv = sanlock_write_lockspace(&ls, 0, 0, config->io_timeout);
        if (rv < 0) {
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_LOCKSPACE,
                        .subject = "lockspace " VMLOCK_SANLOCK_DISK_LOCKSPACE,
                        .path = tmp_path,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        return TRUE;
}

/* The lockspace file must be usable by the daemon's user and group. It is
 * changed through an fd opened without following links, once checked to be
 * the regular file looked at before (@st), with one name only (a hard link
 * to /etc/shadow would pass every other check). */
static gboolean
lockspace_fix_owner(const VmlockSanlockConfig *config, const char *path,
                    const struct stat *checked, GError **error)
{
        gboolean chown_needed = (config->user != (uid_t)-1 && checked->st_uid != config->user) ||
                                (config->group != (gid_t)-1 && checked->st_gid != config->group);
        gboolean chmod_needed = config->group != (gid_t)-1 && (checked->st_mode & 0060) != 0060;
        struct stat st;
        gboolean ok = FALSE;
        int fd;

        if (!chown_needed && !chmod_needed)
                return TRUE;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot open the lockspace file %s: %s", path, g_strerror(saved));
                return FALSE;
        }
        if (fstat(fd, &st) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot stat the lockspace file %s: %s", path, g_strerror(saved));
                goto cleanup;
        }
        if (st.st_dev != checked->st_dev || st.st_ino != checked->st_ino) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing the lockspace file %s: it was replaced while being "
                            "checked", path);
                goto cleanup;
        }
        if (!vmlock_sanlock_trust_stat(config, path, "the lockspace file", &st, FALSE, error))
                goto cleanup;
        if (st.st_nlink != 1) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing to change the owner or mode of the lockspace file %s: "
                            "it has %u names (hard links); remove the others or give it "
                            "user %d, group %d and mode g+rw yourself", path,
                            (unsigned int)st.st_nlink, (int)config->user, (int)config->group);
                goto cleanup;
        }
        if (chown_needed && fchown(fd, config->user, config->group) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot give %s to user %d, group %d: %s", path,
                            (int)config->user, (int)config->group, g_strerror(saved));
                goto cleanup;
        }
        if (chmod_needed && fchmod(fd, (st.st_mode & 07777) | 0060) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot make %s group read-writable: %s", path, g_strerror(saved));
                goto cleanup;
        }
        ok = TRUE;

cleanup:
        close(fd);
        return ok;
}

static gboolean
lockspace_ensure_file(const VmlockSanlockConfig *config, const char *path, GError **error)
{
        struct stat st;
        mode_t mode = config->group != (gid_t)-1 ? 0660 : 0600;
        gboolean created = FALSE;
        int dir_rv;
        int found;

        if (!vmlock_sanlock_trust_lease_dir(config, error))
                return FALSE;

        found = vmlock_sanlock_trust_file(config, path, "the lockspace file", &st, error);
        if (found < 0)
                return FALSE;
        if (found > 0)
                return lockspace_fix_owner(config, path, &st, error);

        dir_rv = stat(config->disk_lease_dir, &st);
        if (dir_rv < 0 || !S_ISDIR(st.st_mode)) {
                gboolean missing = dir_rv < 0 && errno == ENOENT;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                            "cannot create lockspace %s: disk_lease_dir %s (%s) %s",
                            VMLOCK_SANLOCK_DISK_LOCKSPACE, config->disk_lease_dir,
                            config->filename,
                            missing ? "does not exist: create it on the shared storage "
                                      "(the same directory on every host), or mount that "
                                      "storage there"
                                    : "is not a directory");
                return FALSE;
        }
        if (!vmlock_sanlock_file_create(path, mode, config->user, config->group, lockspace_init,
                                        (gpointer)config, &created, error))
                return FALSE;
        g_debug("lockspace file %s %s", path, created ? "created" : "created by another host");
        /* Another host's, when it won the race: looked at like any found file. */
        if (!created) {
                found = vmlock_sanlock_trust_file(config, path, "the lockspace file", &st,
                                                  error);
                if (found <= 0) {
                        if (found == 0)
                                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                            "the lockspace file %s vanished as it was "
                                            "created", path);
                        return FALSE;
                }
                return lockspace_fix_owner(config, path, &st, error);
        }
        return TRUE;
}

static gpointer
join_thread(gpointer data)
{
        JoinTask *task = data;
        int rv = -EINPROGRESS;

        for (int attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
                rv = sanlock_add_lockspace_timeout(&task->ls, 0, task->io_timeout);
                if (rv == -EEXIST)
                        rv = 0; /* joined by someone else meanwhile */
                if (rv != -EINPROGRESS && rv != -EAGAIN)
                        break;
                /* Someone is adding (or removing) it: wait until they are done. */
                if (sanlock_inq_lockspace(&task->ls, SANLK_INQ_WAIT) < 0 && rv == -EAGAIN)
                        g_usleep(G_USEC_PER_SEC);
        }

        g_mutex_lock(&task->lock);
        task->rv = rv;
        task->done = TRUE;
        g_cond_signal(&task->cond);
        g_mutex_unlock(&task->lock);
        return NULL;
}

/* The daemon answers -EINVAL when the lockspace is joined with another
 * host_id or file: say which. */
static char *
describe_other_join(const struct sanlk_lockspace *want)
{
        struct sanlk_lockspace *spaces = NULL;
        int n = 0;
        char *out = NULL;

        if (sanlock_get_lockspaces(&spaces, &n, 0) < 0)
                return NULL;
        for (int i = 0; i < n; i++) {
                if (strncmp(spaces[i].name, want->name, SANLK_NAME_LEN) == 0) {
                        out = g_strdup_printf("this host already joined it as host_id %"
                                              G_GUINT64_FORMAT " with %s",
                                              (guint64)spaces[i].host_id,
                                              spaces[i].host_id_disk.path);
                        break;
                }
        }
        free(spaces);
        return out;
}

static gboolean
lockspace_join(const VmlockSanlockConfig *config, const char *path,
               VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        JoinTask task = { 0 };
        GThread *thread;
        gint64 start, deadline;
        guint expected = 2 * (config->io_timeout ? config->io_timeout : SANLOCK_DEFAULT_IO_TIMEOUT);
        int rv;

        g_strlcpy(task.ls.name, VMLOCK_SANLOCK_DISK_LOCKSPACE, sizeof(task.ls.name));
        task.ls.host_id = config->host_id;
        g_strlcpy(task.ls.host_id_disk.path, path, sizeof(task.ls.host_id_disk.path));
        task.io_timeout = config->io_timeout;

        /* The common case: joined long ago, by this or another process. */
        rv = sanlock_inq_lockspace(&task.ls, 0);
        if (rv == 0)
                return TRUE;
        g_debug("lockspace %s not joined as host_id %u yet (%d)", task.ls.name,
                config->host_id, rv);

        if (progress) {
                g_autofree char *msg = g_strdup_printf(
                        "%s lockspace %s as host_id %u (takes ~%u s)...",
                        rv == -EINPROGRESS ? "another process is joining" : "joining",
                        VMLOCK_SANLOCK_DISK_LOCKSPACE, config->host_id, expected);
                progress(msg, progress_data);
        }

        /* sanlock's join blocks; a thread lets this one keep reporting. */
        g_mutex_init(&task.lock);
        g_cond_init(&task.cond);
        thread = g_thread_new("vmlock-sanlock-join", join_thread, &task);
        start = g_get_monotonic_time();
        g_mutex_lock(&task.lock);
        deadline = start + PROGRESS_INTERVAL_US;
        while (!task.done) {
                if (!g_cond_wait_until(&task.cond, &task.lock, deadline) && !task.done) {
                        if (progress) {
                                g_autofree char *msg = g_strdup_printf(
                                        "still joining lockspace %s as host_id %u (%u s)...",
                                        VMLOCK_SANLOCK_DISK_LOCKSPACE, config->host_id,
                                        (guint)((g_get_monotonic_time() - start) /
                                                G_USEC_PER_SEC));

                                /* not under the lock: the callback may take its time */
                                g_mutex_unlock(&task.lock);
                                progress(msg, progress_data);
                                g_mutex_lock(&task.lock);
                        }
                        deadline += PROGRESS_INTERVAL_US;
                }
        }
        rv = task.rv;
        g_mutex_unlock(&task.lock);
        g_thread_join(thread);
        g_mutex_clear(&task.lock);
        g_cond_clear(&task.cond);

        if (rv < 0) {
                g_autofree char *subject = g_strdup_printf("lockspace %s (%s) as host_id %u",
                                                           VMLOCK_SANLOCK_DISK_LOCKSPACE, path,
                                                           config->host_id);
                g_autofree char *other = rv == -EINVAL ? describe_other_join(&task.ls) : NULL;
                g_autofree char *detail = NULL;

                if (other) {
                        /* a daemon is in a lockspace once, with one host_id and file */
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE,
                                    "cannot join %s: %s; every user of this host's sanlock "
                                    "daemon must use the same disk_lease_dir and host_id "
                                    "(settings from %s)", subject, other, config->filename);
                        return FALSE;
                }
                detail = g_strdup_printf(
                        "check that the sanlock daemon is running, that %s is shared by all "
                        "hosts and writable, and that no other host uses host_id %u; "
                        "settings from %s", config->disk_lease_dir, config->host_id,
                        config->filename);
                VmlockSanlockErrorContext ctx = {
                        .op = VMLOCK_SANLOCK_OP_LOCKSPACE,
                        .subject = subject,
                        .lockspace = VMLOCK_SANLOCK_DISK_LOCKSPACE,
                        .path = path,
                        .host_id = config->host_id,
                        .detail = detail,
                };

                vmlock_sanlock_set_error(error, rv, &ctx);
                return FALSE;
        }
        if (progress) {
                g_autofree char *msg = g_strdup_printf(
                        "joined lockspace %s as host_id %u", VMLOCK_SANLOCK_DISK_LOCKSPACE,
                        config->host_id);
                progress(msg, progress_data);
        }
        return TRUE;
}

gboolean
vmlock_sanlock_lockspace_setup(const VmlockSanlockConfig *config, VmlockProgressFunc progress,
                               gpointer progress_data, GError **error)
{
        g_autofree char *path = g_build_filename(config->disk_lease_dir,
                                                 VMLOCK_SANLOCK_DISK_LOCKSPACE, NULL);

        /* The longest path the driver hands sanlock is a lease file's
         * temporary name, "/.<md5>.XXXXXX"; anything longer would be
         * truncated in struct sanlk_disk. */
        if (strlen(config->disk_lease_dir) + LONGEST_NAME_IN_DIR >= SANLK_PATH_LEN) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: disk_lease_dir %s is too long for sanlock (%d bytes at most)",
                            config->filename, config->disk_lease_dir,
                            SANLK_PATH_LEN - 1 - LONGEST_NAME_IN_DIR);
                return FALSE;
        }
        if (!vmlock_sanlock_daemon_check(error))
                return FALSE;
        if (!lockspace_ensure_file(config, path, error))
                return FALSE;
        return lockspace_join(config, path, progress, progress_data, error);
}
