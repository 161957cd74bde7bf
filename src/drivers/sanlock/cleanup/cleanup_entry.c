/* vmlock-sanlock-cleanup: lease directory entries. */
#define G_LOG_DOMAIN "vmlock-sanlock-cleanup"

#include "config-build.h"

#include "cleanup_entry.h"

CleanupEntry *
cleanup_entry_new(const char *name, CleanupKind kind)
{
        CleanupEntry *entry = g_new0(CleanupEntry, 1);

        entry->name = g_strdup(name);
        entry->kind = kind;
        entry->outcome = CLEANUP_OUTCOME_PENDING;
        return entry;
}

void
cleanup_entry_free(CleanupEntry *entry)
{
        if (!entry)
                return;
        g_free(entry->name);
        g_free(entry->reason);
        g_free(entry);
}

void
cleanup_entry_set(CleanupEntry *entry, CleanupOutcome outcome, char *reason)
{
        entry->outcome = outcome;
        g_free(entry->reason);
        entry->reason = reason;
}
