/* vmlock: records of running guests in the state directory. */
#define G_LOG_DOMAIN "vmlock-supervisor"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif

#include "config-build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <vmlock/error.h>
#include <vmlock/lock-manager.h>

#include "supervisor/state_dir.h"
#include "util/fd_util.h"
#include "util/file_trust.h"
#include "util/proc_stat.h"

#define GROUP_GUEST "guest"
#define GROUP_DISK_PREFIX "disk."
#define GROUP_LEASE_PREFIX "lease."
#define RECORD_SUFFIX ".state"
#define LOCK_SUFFIX ".lock"
#define UUID_LOCK_PREFIX ".uuid-" /* names never start with '.' */
#define CONTROL_SUFFIX ".ctl"
#define QMP_SUFFIX ".qmp"

GuestRecord *
guest_record_new(VmlockDomain *dom)
{
        GuestRecord *record = g_new0(GuestRecord, 1);

        record->dom = vmlock_domain_ref(dom);
        return record;
}

void
guest_record_free(GuestRecord *record)
{
        if (!record)
                return;
        g_clear_pointer(&record->dom, vmlock_domain_unref);
        g_free(record->domain_xml);
        g_free(record->lock_manager);
        g_free(record->qmp);
        g_free(record->lock_state);
        g_strfreev(record->unprotected);
        g_free(record->in_flight);
        g_free(record);
}

static void
key_file_set_optional(GKeyFile *kf, const char *group, const char *key, const char *value)
{
        if (value)
                g_key_file_set_string(kf, group, key, value);
}

char *
guest_record_to_data(const GuestRecord *record, gsize *ret_len)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        const VmlockDomain *dom = record->dom;

        g_key_file_set_string(kf, GROUP_GUEST, "name", vmlock_domain_get_name(dom));
        g_key_file_set_string(kf, GROUP_GUEST, "uuid", vmlock_domain_get_uuid_string(dom));
        g_key_file_set_int64(kf, GROUP_GUEST, "pid", vmlock_domain_get_pid(dom));
        g_key_file_set_uint64(kf, GROUP_GUEST, "pid_start_time", record->pid_start_time);
        key_file_set_optional(kf, GROUP_GUEST, "domain_xml", record->domain_xml);
        key_file_set_optional(kf, GROUP_GUEST, "lock_manager", record->lock_manager);
        g_key_file_set_int64(kf, GROUP_GUEST, "supervisor_pid", record->supervisor_pid);
        g_key_file_set_string(kf, GROUP_GUEST, "on_lockfailure",
                            vmlock_lock_failure_action_to_string(
                                    vmlock_domain_get_on_lockfailure(dom)));
        key_file_set_optional(kf, GROUP_GUEST, "qmp", record->qmp);
        g_key_file_set_boolean(kf, GROUP_GUEST, "paused", record->paused);
        g_key_file_set_boolean(kf, GROUP_GUEST, "released", record->released);
        key_file_set_optional(kf, GROUP_GUEST, "lock_state", record->lock_state);
        g_key_file_set_boolean(kf, GROUP_GUEST, "lease_lost", record->lease_lost);
        if (record->unprotected && record->unprotected[0])
                g_key_file_set_string_list(kf, GROUP_GUEST, "unprotected",
                                           (const char *const *)record->unprotected,
                                           g_strv_length(record->unprotected));
        key_file_set_optional(kf, GROUP_GUEST, "in_flight", record->in_flight);

        /* Indexed groups: paths may hold characters a group name can't. */
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                g_autofree char *group = g_strdup_printf(GROUP_DISK_PREFIX "%u", i);

                key_file_set_optional(kf, group, "path", vmlock_disk_get_source(disk));
                g_key_file_set_string(kf, group, "type",
                                      vmlock_disk_type_to_string(vmlock_disk_get_type(disk)));
                g_key_file_set_string(kf, group, "device",
                                      vmlock_disk_device_to_string(
                                              vmlock_disk_get_device(disk)));
                g_key_file_set_boolean(kf, group, "readonly", vmlock_disk_get_readonly(disk));
                g_key_file_set_boolean(kf, group, "shareable",
                                       vmlock_disk_get_shareable(disk));
        }
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                g_autofree char *group = g_strdup_printf(GROUP_LEASE_PREFIX "%u", i);

                key_file_set_optional(kf, group, "lockspace", vmlock_lease_get_lockspace(lease));
                g_key_file_set_string(kf, group, "key", vmlock_lease_get_key(lease));
                g_key_file_set_string(kf, group, "path", vmlock_lease_get_path(lease));
                g_key_file_set_uint64(kf, group, "offset", vmlock_lease_get_offset(lease));
        }

        return g_key_file_to_data(kf, ret_len, NULL);
}

/* GKeyFile errors name the key but not the file: say which record is bad. */
static void
record_error(GError **error, const char *filename, GError *cause)
{
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "state record %s is damaged: %s",
                    filename, cause->message);
        g_error_free(cause);
}

static char *
key_file_get_optional(GKeyFile *kf, const char *group, const char *key)
{
        char *value = g_key_file_get_string(kf, group, key, NULL);

        if (value && !*value)
                g_clear_pointer(&value, g_free);
        return value;
}

static gboolean
record_read_disk(GKeyFile *kf, const char *group, const char *filename, VmlockDomain *dom,
                 GError **error)
{
        g_autofree char *path = key_file_get_optional(kf, group, "path");
        g_autofree char *type_str = g_key_file_get_string(kf, group, "type", NULL);
        g_autofree char *device_str = g_key_file_get_string(kf, group, "device", NULL);
        int type = vmlock_disk_type_from_string(type_str);
        int device = vmlock_disk_device_from_string(device_str);
        GError *local = NULL;
        gboolean readonly = g_key_file_get_boolean(kf, group, "readonly", NULL);
        gboolean shareable = g_key_file_get_boolean(kf, group, "shareable", NULL);
        VmlockDisk *disk;

        if (type < 0 || device < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: [%s] has a bad type or device",
                            filename, group);
                return FALSE;
        }
        disk = vmlock_disk_new(type, device, path, readonly, shareable, &local);
        if (!disk) {
                record_error(error, filename, local);
                return FALSE;
        }
        vmlock_domain_add_disk(dom, disk);
        return TRUE;
}

static gboolean
record_read_lease(GKeyFile *kf, const char *group, const char *filename, VmlockDomain *dom,
                  GError **error)
{
        g_autofree char *lockspace = key_file_get_optional(kf, group, "lockspace");
        g_autofree char *key = NULL;
        g_autofree char *path = NULL;
        guint64 offset;
        GError *local = NULL;
        VmlockLease *lease;

        key = g_key_file_get_string(kf, group, "key", &local);
        if (!key) {
                record_error(error, filename, local);
                return FALSE;
        }
        path = g_key_file_get_string(kf, group, "path", &local);
        if (!path) {
                record_error(error, filename, local);
                return FALSE;
        }
        offset = g_key_file_get_uint64(kf, group, "offset", &local);
        if (local) {
                record_error(error, filename, local);
                return FALSE;
        }
        lease = vmlock_lease_new(lockspace, key, path, offset, &local);
        if (!lease) {
                record_error(error, filename, local);
                return FALSE;
        }
        vmlock_domain_add_lease(dom, lease);
        return TRUE;
}

/* Sorts "disk.10" after "disk.9": the resources keep their order. */
static int
compare_group_index(gconstpointer a, gconstpointer b)
{
        const char *ga = *(const char *const *)a;
        const char *gb = *(const char *const *)b;
        guint64 ia = g_ascii_strtoull(strchr(ga, '.') + 1, NULL, 10);
        guint64 ib = g_ascii_strtoull(strchr(gb, '.') + 1, NULL, 10);

        return ia < ib ? -1 : ia > ib;
}

GuestRecord *
guest_record_from_data(const char *data, gsize len, const char *filename, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(VmlockDomain) dom = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GPtrArray) disk_groups = g_ptr_array_new();
        g_autoptr(GPtrArray) lease_groups = g_ptr_array_new();
        g_auto(GStrv) groups = NULL;
        g_autofree char *name = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *action_str = NULL;
        GError *local = NULL;
        gint64 pid;
        int action;

        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
                record_error(error, filename, local);
                return NULL;
        }

        name = g_key_file_get_string(kf, GROUP_GUEST, "name", &local);
        if (!name) {
                record_error(error, filename, local);
                return NULL;
        }
        uuid = g_key_file_get_string(kf, GROUP_GUEST, "uuid", &local);
        if (!uuid) {
                record_error(error, filename, local);
                return NULL;
        }
        dom = vmlock_domain_new(name, uuid, &local);
        if (!dom) {
                record_error(error, filename, local);
                return NULL;
        }

        pid = g_key_file_get_int64(kf, GROUP_GUEST, "pid", &local);
        if (local) {
                record_error(error, filename, local);
                return NULL;
        }
        if (pid <= 0 || pid > G_MAXINT) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: bad pid %" G_GINT64_FORMAT, filename,
                            pid);
                return NULL;
        }
        vmlock_domain_set_pid(dom, (pid_t)pid);

        action_str = g_key_file_get_string(kf, GROUP_GUEST, "on_lockfailure", NULL);
        action = vmlock_lock_failure_action_from_string(action_str ? action_str : "default");
        if (action < 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "state record %s is damaged: unknown on_lockfailure '%s'",
                            filename, action_str);
                return NULL;
        }
        vmlock_domain_set_on_lockfailure(dom, action);

        groups = g_key_file_get_groups(kf, NULL);
        for (guint i = 0; groups[i]; i++) {
                if (g_str_has_prefix(groups[i], GROUP_DISK_PREFIX))
                        g_ptr_array_add(disk_groups, groups[i]);
                else if (g_str_has_prefix(groups[i], GROUP_LEASE_PREFIX))
                        g_ptr_array_add(lease_groups, groups[i]);
        }
        g_ptr_array_sort(disk_groups, compare_group_index);
        g_ptr_array_sort(lease_groups, compare_group_index);
        for (guint i = 0; i < disk_groups->len; i++) {
                if (!record_read_disk(kf, g_ptr_array_index(disk_groups, i), filename, dom,
                                      error))
                        return NULL;
        }
        for (guint i = 0; i < lease_groups->len; i++) {
                if (!record_read_lease(kf, g_ptr_array_index(lease_groups, i), filename, dom,
                                       error))
                        return NULL;
        }

        record = guest_record_new(dom);
        record->pid_start_time = g_key_file_get_uint64(kf, GROUP_GUEST, "pid_start_time",
                                                       &local);
        if (local) {
                record_error(error, filename, local);
                return NULL;
        }
        record->domain_xml = key_file_get_optional(kf, GROUP_GUEST, "domain_xml");
        record->lock_manager = key_file_get_optional(kf, GROUP_GUEST, "lock_manager");
        pid = g_key_file_get_int64(kf, GROUP_GUEST, "supervisor_pid", NULL);
        record->supervisor_pid = pid > 0 && pid <= G_MAXINT ? (pid_t)pid : 0;
        record->qmp = key_file_get_optional(kf, GROUP_GUEST, "qmp");
        record->paused = g_key_file_get_boolean(kf, GROUP_GUEST, "paused", NULL);
        record->released = g_key_file_get_boolean(kf, GROUP_GUEST, "released", NULL);
        record->lock_state = key_file_get_optional(kf, GROUP_GUEST, "lock_state");
        record->lease_lost = g_key_file_get_boolean(kf, GROUP_GUEST, "lease_lost", NULL);
        record->unprotected = g_key_file_get_string_list(kf, GROUP_GUEST, "unprotected", NULL,
                                                         NULL);
        record->in_flight = key_file_get_optional(kf, GROUP_GUEST, "in_flight");
        return g_steal_pointer(&record);
}

gboolean
guest_record_is_alive(const GuestRecord *record)
{
        pid_t pid = vmlock_domain_get_pid(record->dom);
        guint64 start_time;
        char state;

        if (pid <= 0)
                return FALSE;
        if (!proc_pid_stat(pid, &state, &start_time, NULL))
                return FALSE;
        /* A zombie has exited: its leases are gone, only its parent has not
         * reaped it yet. */
        if (state == 'Z' || state == 'X' || state == 'x')
                return FALSE;
        return start_time == record->pid_start_time;
}

const char *
state_dir_path_resolve(const char *option)
{
        return vmlock_resolve_dir(option, "VMLOCK_STATE_DIR", VMLOCK_DEFAULT_STATE_DIR);
}

gboolean
state_dir_check_name(const char *name, GError **error)
{
        if (!name || !*name || name[0] == '.' || strchr(name, '/')) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "'%s' is not a usable guest name (it must not be empty, start "
                            "with '.' or contain '/')",
                            name ? name : "");
                return FALSE;
        }
        return TRUE;
}

/* ---- trusting the directory and what is in it ----------------------------
 *
 * The lock-failure helper runs as root and asks whichever supervisor the
 * records name; the supervisor binds sockets and writes records there. So
 * whoever could write the state dir could plant a record, a lock file or a
 * link for root to follow: the dir must be ours alone, and every file in it
 * is opened relative to it, without following links, and looked at (fstat)
 * before use. */

/* Root, or the user running vmlock (tests, a user's own guests). */
static gboolean
uid_trusted(uid_t uid)
{
        return uid == 0 || uid == geteuid();
}

static gboolean
acl_user_trusted(guint32 id, gpointer user_data)
{
        return uid_trusted((uid_t)id);
}

/* Like the mode's group bits: no group may write it. */
static gboolean
acl_group_trusted(guint32 id, gpointer user_data)
{
        return FALSE;
}

/* "root", or "root or uid 1000 (alice)" when not run as root. */
static char *
trusted_owners(void)
{
        g_autofree char *me = NULL;

        if (geteuid() == 0)
                return g_strdup("root");
        me = file_trust_describe_uid(geteuid());
        return g_strdup_printf("root or %s", me);
}

/* An ACL can let others write what the mode says only the owner may. */
static gboolean
dir_check_acl(const char *dir, int fd, GError **error)
{
        g_autofree char *who = NULL;
        guint32 id = 0;

        switch (file_trust_acl_writer(fd, acl_user_trusted, acl_group_trusted, NULL, &id)) {
        case FILE_TRUST_ACL_NONE:
                return TRUE;
        case FILE_TRUST_ACL_TOO_LONG:
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the state directory %s has an ACL too long to check; remove it "
                            "(setfacl -b %s)", dir, dir);
                return FALSE;
        case FILE_TRUST_ACL_USER:
                who = file_trust_describe_uid((uid_t)id);
                break;
        case FILE_TRUST_ACL_GROUP: {
                g_autofree char *group = file_trust_describe_gid((gid_t)id);

                who = g_strdup_printf("group %s", group);
                break;
        }
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                    "the state directory %s is writable by %s through an ACL: they could "
                    "plant records and links there for vmlock to follow; run setfacl -b %s",
                    dir, who, dir);
        return FALSE;
}

static gboolean
dir_check_trust(const char *dir, int fd, GError **error)
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", dir,
                            g_strerror(saved));
                return FALSE;
        }
        if (!uid_trusted(st.st_uid)) {
                g_autofree char *owner = file_trust_describe_uid(st.st_uid);
                g_autofree char *owners = trusted_owners();

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the state directory %s belongs to %s: its owner could plant "
                            "records and links there for vmlock to follow; it must belong to "
                            "%s (chown %s %s)", dir, owner, owners,
                            geteuid() == 0 ? "root" : g_get_user_name(), dir);
                return FALSE;
        }
        if (st.st_mode & S_IWOTH) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the state directory %s is writable by every user (mode %04o): "
                            "anyone could plant records and links there for vmlock to "
                            "follow; run chmod 0700 %s", dir,
                            (unsigned int)(st.st_mode & 07777), dir);
                return FALSE;
        }
        /* Before the group bits: with an ACL they show its mask, and the
         * entry that grants write is the one to name. */
        if (!dir_check_acl(dir, fd, error))
                return FALSE;
        if (st.st_mode & S_IWGRP) {
                g_autofree char *group = file_trust_describe_gid(st.st_gid);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "the state directory %s is writable by group %s (mode %04o): its "
                            "members could plant records and links there for vmlock to "
                            "follow; run chmod 0700 %s", dir, group,
                            (unsigned int)(st.st_mode & 07777), dir);
                return FALSE;
        }
        return TRUE;
}

/* The state dir, opened and checked (see above). With @create, a missing
 * one is made, mode 0700; without, a missing one sets *@ret_missing (when
 * not NULL: otherwise it is an error) and returns -1 with no error. */
static int
dir_open(const char *dir, gboolean create, gboolean *ret_missing, GError **error)
{
        int fd;

        if (ret_missing)
                *ret_missing = FALSE;
        if (create && g_mkdir_with_parents(dir, 0700) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot create the state directory %s: %s", dir,
                            g_strerror(saved));
                return -1;
        }
        /* O_NOFOLLOW: the dir itself must not be a link someone else made. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int saved = errno;
                struct stat st;

                if (saved == ENOENT && ret_missing) {
                        *ret_missing = TRUE;
                        return -1;
                }
                /* With O_DIRECTORY, a link is ENOTDIR, not ELOOP. */
                if (saved == ELOOP || (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "the state directory %s is a symbolic link: name the real "
                                    "directory instead (--state-dir, VMLOCK_STATE_DIR)", dir);
                else if (saved == ENOTDIR)
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "the state directory %s is not a directory", dir);
                else
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "cannot open the state directory %s: %s", dir,
                                    g_strerror(saved));
                return -1;
        }
        if (!dir_check_trust(dir, fd, error)) {
                close(fd);
                return -1;
        }
        return fd;
}

gboolean
state_dir_ensure(const char *dir, GError **error)
{
        int fd = dir_open(dir, TRUE, NULL, error);

        if (fd < 0)
                return FALSE;
        close(fd);
        return TRUE;
}

/* @base in the dir @dfd must be of type @type (S_IFREG, S_IFSOCK) and
 * owned by root or us; @st from fstat or fstatat without following links. */
static gboolean
file_check_trust_type(int dfd, const char *dir, const char *base, const char *what,
                      mode_t type, const struct stat *st, GError **error)
{
        const char *want = type == S_IFSOCK ? "a socket" : "a regular file";

        g_autofree char *path = g_build_filename(dir, base, NULL);

        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);

                target[n < 0 ? 0 : n] = '\0';
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s %s: it is a symbolic link (to %s), not %s; remove "
                            "it", what, path, n < 0 ? "?" : target, want);
                return FALSE;
        }
        if ((st->st_mode & S_IFMT) != type) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s %s: it is %s, not %s; remove it", what, path,
                            file_trust_kind(st->st_mode), want);
                return FALSE;
        }
        if (!uid_trusted(st->st_uid)) {
                g_autofree char *owner = file_trust_describe_uid(st->st_uid);
                g_autofree char *owners = trusted_owners();

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "refusing %s %s: it belongs to %s, not to %s; remove it", what,
                            path, owner, owners);
                return FALSE;
        }
        return TRUE;
}

static gboolean
file_check_trust(int dfd, const char *dir, const char *base, const char *what,
                 const struct stat *st, GError **error)
{
        return file_check_trust_type(dfd, dir, base, what, S_IFREG, st, error);
}

/* openat() without following a link, then the checks above. With O_CREAT
 * the file is made 0600. A missing file (without O_CREAT) is -1 with errno
 * ENOENT and no error. */
static int
file_open(int dfd, const char *dir, const char *base, const char *what, int flags,
          GError **error)
{
        struct stat st;
        int fd;

        /* O_NONBLOCK: a FIFO planted here must not hang us before fstat. */
        fd = openat(dfd, base, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0) {
                int saved = errno;

                if (saved == ELOOP && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        file_check_trust(dfd, dir, base, what, &st, error);
                } else if (saved != ENOENT) {
                        g_autofree char *path = g_build_filename(dir, base, NULL);

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s",
                                    path, g_strerror(saved));
                }
                errno = saved;
                return -1;
        }
        if (fstat(fd, &st) < 0) {
                int saved = errno;
                g_autofree char *path = g_build_filename(dir, base, NULL);

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", path,
                            g_strerror(saved));
                close(fd);
                return -1;
        }
        if (!file_check_trust(dfd, dir, base, what, &st, error)) {
                close(fd);
                errno = EPERM;
                return -1;
        }
        return fd;
}

static char *
record_base(const char *name)
{
        return g_strconcat(name, RECORD_SUFFIX, NULL);
}

static int
lock_file(const char *dir, const char *base, GError **error)
{
        g_autofree char *path = NULL;
        int dfd;
        int fd;

        dfd = dir_open(dir, TRUE, NULL, error);
        if (dfd < 0)
                return -1;
        fd = file_open(dfd, dir, base, "the lock file", O_RDWR | O_CREAT, error);
        close(dfd);
        if (fd < 0)
                return -1;
        path = g_build_filename(dir, base, NULL);
        while (flock(fd, LOCK_EX) < 0) {
                int saved = errno;

                if (saved == EINTR)
                        continue;
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot lock %s: %s", path,
                            g_strerror(saved));
                close(fd);
                return -1;
        }
        return fd;
}

int
state_dir_lock_name(const char *dir, const char *name, GError **error)
{
        g_autofree char *base = NULL;

        if (!state_dir_check_name(name, error))
                return -1;
        base = g_strconcat(name, LOCK_SUFFIX, NULL);
        return lock_file(dir, base, error);
}

int
state_dir_lock_uuid(const char *dir, const char *uuid, GError **error)
{
        g_autofree char *base = g_strconcat(UUID_LOCK_PREFIX, uuid, LOCK_SUFFIX, NULL);

        return lock_file(dir, base, error);
}

char *
state_dir_control_path(const char *dir, const char *name)
{
        g_autofree char *base = g_strconcat(name, CONTROL_SUFFIX, NULL);

        return g_build_filename(dir, base, NULL);
}

char *
state_dir_qmp_path(const char *dir, const char *name)
{
        g_autofree char *base = g_strconcat(name, QMP_SUFFIX, NULL);

        return g_build_filename(dir, base, NULL);
}

char *
state_dir_control_path_checked(const char *dir, const char *name, GError **error)
{
        g_autofree char *base = NULL;
        gboolean missing = FALSE;
        struct stat st;
        int dfd;

        if (!state_dir_check_name(name, error))
                return NULL;
        dfd = dir_open(dir, FALSE, &missing, error);
        if (dfd < 0 && !missing)
                return NULL;
        base = g_strconcat(name, CONTROL_SUFFIX, NULL);
        /* connect() follows links: look first. A missing socket is left to
         * connect() to report. */
        if (dfd >= 0) {
                gboolean ok = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                              file_check_trust_type(dfd, dir, base, "the control socket",
                                                    S_IFSOCK, &st, error);

                close(dfd);
                if (!ok)
                        return NULL;
        }
        return g_build_filename(dir, base, NULL);
}

/* Reads the whole of @fd (a record: small). */
static char *
fd_read_all(int fd, gsize *ret_len)
{
        g_autoptr(GString) data = g_string_new(NULL);
        char buf[4096];
        gssize n;

        do {
                n = fd_read_full(fd, buf, sizeof(buf));
                if (n < 0)
                        return NULL;
                g_string_append_len(data, buf, n);
        } while ((gsize)n == sizeof(buf));
        *ret_len = data->len;
        return g_string_free(g_steal_pointer(&data), FALSE);
}

GuestRecord *
state_dir_load(const char *dir, const char *name, GError **error)
{
        g_autofree char *base = NULL;
        g_autofree char *path = NULL;
        g_autofree char *data = NULL;
        gboolean missing = FALSE;
        gsize len = 0;
        int dfd;
        int fd;

        if (!state_dir_check_name(name, error))
                return NULL;
        base = record_base(name);
        path = g_build_filename(dir, base, NULL);
        dfd = dir_open(dir, FALSE, &missing, error);
        if (dfd < 0 && !missing)
                return NULL;
        if (dfd >= 0) {
                GError *local = NULL;

                fd = file_open(dfd, dir, base, "the state record", O_RDONLY, &local);
                close(dfd);
                if (fd < 0 && local) {
                        g_propagate_error(error, local);
                        return NULL;
                }
                missing = fd < 0;
        }
        if (missing) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no guest named '%s' runs here (no record in %s)", name, dir);
                return NULL;
        }
        data = fd_read_all(fd, &len);
        if (!data) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot read %s: %s", path,
                            g_strerror(saved));
                close(fd);
                return NULL;
        }
        close(fd);
        return guest_record_from_data(data, len, path, error);
}

GuestRecord *
state_dir_load_alive(const char *dir, const char *name, GError **error)
{
        g_autoptr(GuestRecord) record = state_dir_load(dir, name, error);

        if (!record)
                return NULL;
        if (!guest_record_is_alive(record)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "no guest named '%s' runs here (its process %d is gone)", name,
                            (int)vmlock_domain_get_pid(record->dom));
                return NULL;
        }
        return g_steal_pointer(&record);
}

/* Writes @data to a new file beside @base, then renames it over @base:
 * readers see the old record or the new one. O_EXCL|O_NOFOLLOW on the
 * temporary name and rename(2), which replaces a link rather than follows
 * it, leave nothing planted to be written through. No fsync: the records
 * live in /run and describe processes that a reboot ends anyway. */
static gboolean
file_replace(int dfd, const char *dir, const char *base, const char *data, gsize len,
             GError **error)
{
        g_autofree char *tmp = NULL;
        int fd = -1;

        for (int tries = 0; fd < 0 && tries < 100; tries++) {
                g_free(tmp);
                tmp = g_strdup_printf("%s.%08x", base, g_random_int());
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
                if (fd < 0 && errno != EEXIST)
                        break;
        }
        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot create a file in %s: %s", dir, g_strerror(saved));
                return FALSE;
        }
        if (!fd_write_all(fd, data, len) || close(fd) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot write %s/%s: %s",
                            dir, tmp, g_strerror(saved));
                unlinkat(dfd, tmp, 0);
                return FALSE;
        }
        if (renameat(dfd, tmp, dfd, base) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot rename %s/%s to %s: %s", dir, tmp, base,
                            g_strerror(saved));
                unlinkat(dfd, tmp, 0);
                return FALSE;
        }
        return TRUE;
}

gboolean
state_dir_save(const char *dir, const GuestRecord *record, GError **error)
{
        const char *name = vmlock_domain_get_name(record->dom);
        g_autofree char *base = NULL;
        g_autofree char *data = NULL;
        gboolean ok;
        gsize len;
        int dfd;

        if (!state_dir_check_name(name, error))
                return FALSE;
        dfd = dir_open(dir, TRUE, NULL, error);
        if (dfd < 0)
                return FALSE;
        base = record_base(name);
        data = guest_record_to_data(record, &len);
        ok = file_replace(dfd, dir, base, data, len, error);
        close(dfd);
        return ok;
}

gboolean
state_dir_remove(const char *dir, const char *name, GError **error)
{
        g_autofree char *base = NULL;
        gboolean missing = FALSE;
        struct stat st;
        int dfd;

        if (!state_dir_check_name(name, error))
                return FALSE;
        dfd = dir_open(dir, FALSE, &missing, error);
        if (dfd < 0)
                return missing;
        base = record_base(name);
        /* Only a record of ours is removed: what else is there was planted,
         * and is for a person to look at. */
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int saved = errno;
                g_autofree char *path = g_build_filename(dir, base, NULL);

                close(dfd);
                if (saved == ENOENT)
                        return TRUE;
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", path,
                            g_strerror(saved));
                return FALSE;
        }
        if (!file_check_trust(dfd, dir, base, "the state record", &st, error)) {
                close(dfd);
                return FALSE;
        }
        if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT) {
                int saved = errno;
                g_autofree char *path = g_build_filename(dir, base, NULL);

                close(dfd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot remove %s: %s", path,
                            g_strerror(saved));
                return FALSE;
        }
        close(dfd);
        return TRUE;
}

gboolean
state_dir_remove_if_owned(const char *dir, const char *name, pid_t pid, guint64 start_time,
                          GError **error)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GError) local = NULL;
        int lock_fd;
        gboolean ok = TRUE;

        lock_fd = state_dir_lock_name(dir, name, error);
        if (lock_fd < 0)
                return FALSE;
        record = state_dir_load(dir, name, &local);
        if (record && vmlock_domain_get_pid(record->dom) == pid &&
            record->pid_start_time == start_time)
                ok = state_dir_remove(dir, name, error);
        close(lock_fd);
        return ok;
}

static int
compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

GStrv
state_dir_list_names(const char *dir, GError **error)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) names = NULL;
        gboolean missing = FALSE;
        struct dirent *entry;
        DIR *d;
        int dfd;

        dfd = dir_open(dir, FALSE, &missing, error);
        if (dfd < 0)
                return missing ? g_new0(char *, 1) : NULL;
        d = fdopendir(dfd);
        if (!d) {
                int saved = errno;

                close(dfd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot read %s: %s", dir,
                            g_strerror(saved));
                return NULL;
        }
        while ((entry = readdir(d))) {
                const char *base = entry->d_name;
                g_autofree char *name = NULL;

                /* Temporary files of an atomic write look like NAME.state.XXXXXXXX. */
                if (base[0] == '.' || !g_str_has_suffix(base, RECORD_SUFFIX))
                        continue;
                name = g_strndup(base, strlen(base) - strlen(RECORD_SUFFIX));
                g_strv_builder_add(builder, name);
        }
        closedir(d);
        names = g_strv_builder_end(builder);
        qsort(names, g_strv_length(names), sizeof(char *), compare_names);
        return g_steal_pointer(&names);
}

/* Removes a stale record, checking again under the lock: it may have been
 * replaced by a new start since we read it. */
static void
state_dir_remove_stale(const char *dir, const char *name)
{
        g_autoptr(GuestRecord) record = NULL;
        int lock_fd = state_dir_lock_name(dir, name, NULL);

        if (lock_fd < 0)
                return;
        record = state_dir_load(dir, name, NULL);
        if (record && !guest_record_is_alive(record))
                state_dir_remove(dir, name, NULL);
        close(lock_fd);
}

GPtrArray *
state_dir_list_alive(const char *dir, GError **error)
{
        g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func(
                (GDestroyNotify)guest_record_free);
        g_auto(GStrv) names = state_dir_list_names(dir, error);

        if (!names)
                return NULL;
        for (guint i = 0; names[i]; i++) {
                g_autoptr(GError) local = NULL;
                g_autoptr(GuestRecord) record = state_dir_load(dir, names[i], &local);

                if (!record) {
                        /* Removed between listing and reading: not an error. */
                        if (!g_error_matches(local, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG))
                                g_printerr("vmlock: %s\n", local->message);
                        continue;
                }
                if (!guest_record_is_alive(record)) {
                        state_dir_remove_stale(dir, names[i]);
                        continue;
                }
                g_ptr_array_add(records, g_steal_pointer(&record));
        }
        return g_steal_pointer(&records);
}

GuestRecord *
state_dir_find_uuid(const char *dir, const char *uuid, GError **error)
{
        g_auto(GStrv) names = state_dir_list_names(dir, error);

        if (!names)
                return NULL;
        /* Read only: takes no lock (a start calls it holding one). */
        for (guint i = 0; names[i]; i++) {
                g_autoptr(GuestRecord) record = state_dir_load(dir, names[i], NULL);

                if (record && guest_record_is_alive(record) &&
                    g_ascii_strcasecmp(vmlock_domain_get_uuid_string(record->dom), uuid) == 0)
                        return g_steal_pointer(&record);
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "no guest with uuid %s runs here (no record in %s)", uuid, dir);
        return NULL;
}
