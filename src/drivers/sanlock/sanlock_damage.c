/* vmlock sanlock driver: what is wrong with a lease file sanlock cannot use.
 *
 * sanlock reports a damaged lease file with an errno of its reads ("Message
 * too long" for a short file, "Invalid argument" or a bad magic for a zeroed
 * one); the file itself says what is wrong. */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_damage.h"

/* The paxos leader record at the start of a resource lease (little-endian). */
#define LEADER_MAGIC 0x06152010u
#define LEADER_SECTOR_SIZE_OFFSET 12
#define LEADER_HEAD_SIZE 16
#define SECTOR_MIN 512
/* One lease's area: sanlock reads all of it before each ballot. */
#define LEASE_SIZE_512 (1024 * 1024)
#define LEASE_SIZE_4K (8 * 1024 * 1024)

char *
vmlock_sanlock_lease_file_damage(const char *path, guint64 offset)
{
        guint8 head[LEADER_HEAD_SIZE];
        guint32 magic, sector_size;
        guint64 need;
        struct stat st;
        ssize_t got;
        int fd;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return NULL;
        }
        if (st.st_size == 0) {
                close(fd);
                return g_strdup("it is empty (0 bytes)");
        }
        if ((guint64)st.st_size < offset + SECTOR_MIN) {
                close(fd);
                return g_strdup_printf("it is %" G_GUINT64_FORMAT " bytes long, shorter than "
                                       "one lease (%d bytes)", (guint64)st.st_size,
                                       LEASE_SIZE_512);
        }
        do {
                got = pread(fd, head, sizeof(head), (off_t)offset);
        } while (got < 0 && errno == EINTR);
        close(fd);
        if (got < (ssize_t)sizeof(head))
                return NULL;

        memcpy(&magic, head, sizeof(magic));
        memcpy(&sector_size, head + LEADER_SECTOR_SIZE_OFFSET, sizeof(sector_size));
        if (GUINT32_FROM_LE(magic) != LEADER_MAGIC)
                return g_strdup_printf("it holds no sanlock lease%s (zeroed or overwritten)",
                                       offset ? " at that offset" : "");
        need = offset + (GUINT32_FROM_LE(sector_size) == 4096 ? LEASE_SIZE_4K : LEASE_SIZE_512);
        if ((guint64)st.st_size < need)
                return g_strdup_printf("it is %" G_GUINT64_FORMAT " bytes long, shorter than "
                                       "its lease (%" G_GUINT64_FORMAT " bytes): truncated",
                                       (guint64)st.st_size, need - offset);
        return NULL;
}

void
vmlock_sanlock_set_damage_error(GError **error, const char *subject, const char *path,
                                const char *damage)
{
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                    "the lease file %s of %s is damaged: %s; unless a host is creating it this "
                    "very moment, remove it (`vmlock-sanlock-cleanup --remove-damaged`, or rm "
                    "once no guest on any host uses the disk) and start again",
                    path, subject, damage);
}
