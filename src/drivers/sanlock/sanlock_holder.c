/* vmlock sanlock driver: finding who holds a lease, by host id and name. */
#define G_LOG_DOMAIN "vmlock-sanlock"
#define _GNU_SOURCE /* O_DIRECT */

#include "config-build.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>

#include "drivers/sanlock/sanlock_holder.h"
#include "drivers/sanlock/sanlock_hosts.h"
#include "util/log.h"

/* The on-disk delta lease record of one host in a lockspace (sanlock's
 * leader record, little-endian): the daemon writes its -e host name in the
 * resource name field when it joins. */
#define DELTA_MAGIC 0x12212010u
#define RECORD_MAGIC_OFFSET 0
#define RECORD_SECTOR_SIZE_OFFSET 12
#define RECORD_OWNER_ID_OFFSET 32
#define RECORD_SPACE_NAME_OFFSET 56
#define RECORD_HOST_NAME_OFFSET 104
#define RECORD_NAME_LEN SANLK_NAME_LEN
#define READ_ALIGN 4096

static guint32
get_le32(const guint8 *buf, gsize offset)
{
        guint32 value;

        memcpy(&value, buf + offset, sizeof(value));
        return GUINT32_FROM_LE(value);
}

static guint64
get_le64(const guint8 *buf, gsize offset)
{
        guint64 value;

        memcpy(&value, buf + offset, sizeof(value));
        return GUINT64_FROM_LE(value);
}

/* Reads the aligned block holding byte @offset; O_DIRECT so that a record
 * written by another host through shared storage is not served from a
 * stale page cache. */
static gboolean
read_block(int fd, guint64 offset, guint8 *buf, gsize *ret_inner)
{
        guint64 start = offset & ~(guint64)(READ_ALIGN - 1);
        ssize_t got;

        do {
                got = pread(fd, buf, READ_ALIGN, (off_t)start);
        } while (got < 0 && errno == EINTR);
        if (got < (ssize_t)(offset - start) + 512)
                return FALSE;
        *ret_inner = offset - start;
        return TRUE;
}

static char *
read_host_name(const struct sanlk_lockspace *ls, guint64 host_id)
{
        g_autofree guint8 *buf = NULL;
        const guint8 *record;
        guint32 sector_size;
        gsize inner;
        int fd;
        char name[RECORD_NAME_LEN + 1];
        gboolean ok;

        fd = open(ls->host_id_disk.path, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0 && errno == EINVAL)
                fd = open(ls->host_id_disk.path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (posix_memalign((void **)&buf, READ_ALIGN, READ_ALIGN) != 0) {
                close(fd);
                return NULL;
        }

        /* Records are one sector each; try 512-byte sectors, then 4 KiB ones
         * if the first record says so. */
        ok = read_block(fd, ls->host_id_disk.offset + (host_id - 1) * 512, buf, &inner);
        if (ok) {
                sector_size = get_le32(buf + inner, RECORD_SECTOR_SIZE_OFFSET);
                if (sector_size == 4096)
                        ok = read_block(fd, ls->host_id_disk.offset + (host_id - 1) * 4096,
                                        buf, &inner);
        }
        close(fd);
        if (!ok)
                return NULL;

        record = buf + inner;
        if (get_le32(record, RECORD_MAGIC_OFFSET) != DELTA_MAGIC ||
            get_le64(record, RECORD_OWNER_ID_OFFSET) != host_id ||
            strncmp((const char *)record + RECORD_SPACE_NAME_OFFSET, ls->name,
                    SANLK_NAME_LEN) != 0)
                return NULL;

        memcpy(name, record + RECORD_HOST_NAME_OFFSET, RECORD_NAME_LEN);
        name[RECORD_NAME_LEN] = '\0';
        for (char *p = name; *p; p++) {
                if (!g_ascii_isgraph(*p))
                        *p = '?';
        }
        return name[0] ? g_strdup(name) : NULL;
}

char *
vmlock_sanlock_holder_host_name(const struct sanlk_lockspace *ls, guint64 host_id)
{
        if (host_id < 1 || !*ls->host_id_disk.path)
                return NULL;
        return read_host_name(ls, host_id);
}

int
vmlock_sanlock_holder_owners(const struct sanlk_resource *res, struct sanlk_resource **ret_now,
                             struct sanlk_host **ret_owners, int *ret_n_owners)
{
        gsize size = sizeof(*res) + res->num_disks * sizeof(struct sanlk_disk);
        g_autofree struct sanlk_resource *now = g_malloc0(size);
        struct sanlk_host *owners = NULL;
        int n_owners = 0;
        int rv;

        memcpy(now, res, size);
        now->flags = 0;
        now->lver = 0;
        /* the daemon sets SANLK_RES_SHARED in now when mode blocks say so */
        rv = sanlock_read_resource_owners(now, 0, &owners, &n_owners);
        if (rv < 0) {
                free(owners);
                return rv;
        }
        *ret_now = g_steal_pointer(&now);
        *ret_owners = owners;
        *ret_n_owners = n_owners;
        return 0;
}

int
vmlock_sanlock_holder_read(const struct sanlk_resource *res, const char *lockspace_path,
                           char **ret_holders, gboolean *ret_shared)
{
        struct sanlk_lockspace unjoined = { 0 };
        g_autofree struct sanlk_resource *copy = NULL;
        struct sanlk_host *owners = NULL;
        struct sanlk_lockspace *spaces = NULL;
        const struct sanlk_lockspace *space = NULL;
        int n_owners = 0, n_spaces = 0;
        GString *out;
        int rv;

        rv = vmlock_sanlock_holder_owners(res, &copy, &owners, &n_owners);
        if (rv < 0 || n_owners <= 0) {
                g_debug("no owner of %.48s:%.48s readable (%d)", res->lockspace_name,
                        res->name, rv);
                free(owners);
                if (rv < 0)
                        return rv;
                *ret_holders = NULL;
                *ret_shared = FALSE;
                return 0;
        }

        /* The lockspace's file (for the host names) and our own host id. */
        if (sanlock_get_lockspaces(&spaces, &n_spaces, 0) >= 0) {
                for (int i = 0; i < n_spaces; i++) {
                        if (strncmp(spaces[i].name, res->lockspace_name, SANLK_NAME_LEN) == 0) {
                                space = &spaces[i];
                                break;
                        }
                }
        }
        /* Not joined: the names are still in the lockspace file. */
        if (!space && lockspace_path) {
                memcpy(unjoined.name, res->lockspace_name, SANLK_NAME_LEN);
                g_strlcpy(unjoined.host_id_disk.path, lockspace_path,
                          sizeof(unjoined.host_id_disk.path));
        }

        out = g_string_new(NULL);
        for (int i = 0; i < n_owners; i++) {
                guint64 id = owners[i].host_id;
                g_autofree char *name = NULL;
                gboolean self = space && space->host_id == id;
                g_autoptr(VmlockHostInfo) health = NULL;

                if (space && id >= 1)
                        name = read_host_name(space, id);
                else if (*unjoined.host_id_disk.path && id >= 1)
                        name = read_host_name(&unjoined, id);
                /* Only a member of the lockspace sees whether the holder
                 * still renews; a holder that stopped is worth a countdown. */
                if (space && !self)
                        health = vmlock_sanlock_host_get(space->name, space->host_id_disk.path,
                                                         id);
                if (health && health->generation != owners[i].generation &&
                    owners[i].generation != 0)
                        g_clear_pointer(&health, vmlock_host_info_free);
                if (out->len)
                        g_string_append(out, ", ");
                g_string_append_printf(out, "host %" G_GUINT64_FORMAT, id);
                if (name && self)
                        g_string_append_printf(out, " (%s, this host)", name);
                else if (name)
                        g_string_append_printf(out, " (%s)", name);
                else if (self)
                        g_string_append(out, " (this host)");
                if (health) {
                        g_autofree char *words = vmlock_sanlock_host_health_words(health);

                        g_string_append(out, words);
                }
        }
        free(owners);
        free(spaces);
        *ret_holders = g_string_free(out, FALSE);
        *ret_shared = (copy->flags & SANLK_RES_SHARED) != 0;
        return 0;
}

char *
vmlock_sanlock_holder_describe(const struct sanlk_resource *res)
{
        char *holders = NULL;
        gboolean shared = FALSE;

        if (vmlock_sanlock_holder_read(res, NULL, &holders, &shared) < 0)
                return NULL;
        return holders;
}

int
vmlock_sanlock_holder_list(const struct sanlk_resource *res, const char *lockspace_path,
                           GPtrArray **ret_holders, gboolean *ret_shared)
{
        struct sanlk_lockspace unjoined = { 0 };
        g_autofree struct sanlk_resource *copy = NULL;
        g_autoptr(GPtrArray) holders = g_ptr_array_new_with_free_func(
                (GDestroyNotify)vmlock_disk_holder_free);
        struct sanlk_host *owners = NULL;
        struct sanlk_lockspace *spaces = NULL;
        const struct sanlk_lockspace *space = NULL;
        int n_owners = 0, n_spaces = 0;
        int rv;

        rv = vmlock_sanlock_holder_owners(res, &copy, &owners, &n_owners);
        if (rv < 0) {
                free(owners);
                return rv;
        }
        if (n_owners > 0 && sanlock_get_lockspaces(&spaces, &n_spaces, 0) >= 0) {
                for (int i = 0; i < n_spaces; i++) {
                        if (strncmp(spaces[i].name, res->lockspace_name, SANLK_NAME_LEN) == 0) {
                                space = &spaces[i];
                                break;
                        }
                }
        }
        if (!space && lockspace_path) {
                memcpy(unjoined.name, res->lockspace_name, SANLK_NAME_LEN);
                g_strlcpy(unjoined.host_id_disk.path, lockspace_path,
                          sizeof(unjoined.host_id_disk.path));
        }
        for (int i = 0; i < n_owners; i++) {
                VmlockDiskHolder *holder = g_new0(VmlockDiskHolder, 1);

                holder->host_id = owners[i].host_id;
                holder->self = space && space->host_id == holder->host_id;
                if (space && holder->host_id >= 1)
                        holder->host_name = read_host_name(space, holder->host_id);
                else if (*unjoined.host_id_disk.path && holder->host_id >= 1)
                        holder->host_name = read_host_name(&unjoined, holder->host_id);
                g_ptr_array_add(holders, holder);
        }
        *ret_shared = n_owners > 0 && copy && (copy->flags & SANLK_RES_SHARED) != 0;
        free(owners);
        free(spaces);
        *ret_holders = g_steal_pointer(&holders);
        return 0;
}
