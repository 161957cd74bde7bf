/* vmlock-sanlock-cleanup: listing the lease directory and sorting out what may be removed. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"

#include "cleanup_scan.h"

#define LEASE_NAME_LEN 32
#define MKSTEMP_SUFFIX_LEN 6

static gboolean
is_lease_name(const char *name, gsize len)
{
        if (len != LEASE_NAME_LEN)
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if (!g_ascii_isdigit(name[i]) && !(name[i] >= 'a' && name[i] <= 'f'))
                        return FALSE;
        }
        return TRUE;
}

/* The six characters mkstemp() puts in place of XXXXXX. */
static gboolean
is_mkstemp_suffix(const char *suffix)
{
        if (strlen(suffix) != MKSTEMP_SUFFIX_LEN)
                return FALSE;
        for (const char *p = suffix; *p; p++) {
                if (!g_ascii_isalnum(*p))
                        return FALSE;
        }
        return TRUE;
}

CleanupName
cleanup_name_classify(const char *name)
{
        gsize len = strlen(name);
        const char *dot;
        gsize base_len;

        if (is_lease_name(name, len))
                return CLEANUP_NAME_LEASE;
        if (g_str_equal(name, VMLOCK_SANLOCK_DISK_LOCKSPACE))
                return CLEANUP_NAME_LOCKSPACE;
        if (name[0] != '.')
                return CLEANUP_NAME_OTHER;

        /* .<base>.<suffix> */
        dot = strchr(name + 1, '.');
        if (!dot)
                return CLEANUP_NAME_OTHER;
        base_len = dot - (name + 1);
        if (is_lease_name(name + 1, base_len)) {
                if (g_str_equal(dot, CLEANUP_LEFTOVER_SUFFIX))
                        return CLEANUP_NAME_LEFTOVER;
                if (is_mkstemp_suffix(dot + 1))
                        return CLEANUP_NAME_TEMP;
        } else if (base_len == strlen(VMLOCK_SANLOCK_DISK_LOCKSPACE) &&
                   strncmp(name + 1, VMLOCK_SANLOCK_DISK_LOCKSPACE, base_len) == 0 &&
                   is_mkstemp_suffix(dot + 1)) {
                return CLEANUP_NAME_TEMP;
        }
        return CLEANUP_NAME_OTHER;
}

static CleanupEntry *
skipped(const char *name, const char *reason)
{
        CleanupEntry *entry = cleanup_entry_new(name, CLEANUP_KIND_OTHER);

        cleanup_entry_set(entry, CLEANUP_OUTCOME_SKIPPED, g_strdup(reason));
        return entry;
}

static CleanupEntry *
classify_entry(const char *name, const struct stat *st, gint64 now)
{
        switch (cleanup_name_classify(name)) {
        case CLEANUP_NAME_LEASE:
                if (!S_ISREG(st->st_mode))
                        return skipped(name, "named like a disk lease, but not a regular file");
                return cleanup_entry_new(name, CLEANUP_KIND_LEASE);
        case CLEANUP_NAME_LOCKSPACE:
                return skipped(name, "the lockspace of the disk leases (never removed)");
        case CLEANUP_NAME_LEFTOVER:
                if (!S_ISREG(st->st_mode))
                        return skipped(name, "not a regular file");
                return cleanup_entry_new(name, CLEANUP_KIND_LEFTOVER);
        case CLEANUP_NAME_TEMP:
                if (!S_ISREG(st->st_mode))
                        return skipped(name, "not a regular file");
                /* a start creating a lease file right now; one that died long ago */
                if ((gint64)st->st_mtime > now - CLEANUP_ABANDONED_AGE_SECONDS)
                        return skipped(name, "a lease file being created (temporary name)");
                return cleanup_entry_new(name, CLEANUP_KIND_ABANDONED);
        case CLEANUP_NAME_OTHER:
                break;
        }
        return skipped(name, "not named like a disk lease (32 lowercase hex digits)");
}

static gint
compare_entries(gconstpointer a, gconstpointer b)
{
        const CleanupEntry *x = *(CleanupEntry *const *)a;
        const CleanupEntry *y = *(CleanupEntry *const *)b;

        return strcmp(x->name, y->name);
}

GPtrArray *
cleanup_scan(const char *dir, gint64 now, GError **error)
{
        g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(
                (GDestroyNotify)cleanup_entry_free);
        struct dirent *dent;
        DIR *d;
        int dfd;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || !(d = fdopendir(dfd))) {
                int saved = errno;

                if (dfd >= 0)
                        close(dfd);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot read the lease directory %s: %s", dir, g_strerror(saved));
                return NULL;
        }

        for (;;) {
                struct stat st;

                errno = 0;
                dent = readdir(d);
                if (!dent)
                        break;
                if (g_str_equal(dent->d_name, ".") || g_str_equal(dent->d_name, ".."))
                        continue;
                if (fstatat(dfd, dent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        /* removed since readdir() saw it */
                        if (errno == ENOENT)
                                continue;
                        int saved = errno;
                        CleanupEntry *entry = cleanup_entry_new(dent->d_name,
                                                                CLEANUP_KIND_OTHER);

                        cleanup_entry_set(entry, CLEANUP_OUTCOME_SKIPPED,
                                          g_strdup_printf("cannot look at it: %s",
                                                          g_strerror(saved)));
                        g_ptr_array_add(entries, entry);
                        continue;
                }
                g_ptr_array_add(entries, classify_entry(dent->d_name, &st, now));
        }
        if (errno != 0) {
                int saved = errno;

                closedir(d);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot read the lease directory %s: %s", dir, g_strerror(saved));
                return NULL;
        }
        closedir(d);

        g_ptr_array_sort(entries, compare_entries);
        return g_steal_pointer(&entries);
}
