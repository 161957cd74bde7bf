/* vmlock-sanlock-cleanup: one entry of the lease directory and what became of it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
        CLEANUP_KIND_LEASE,     /* <32 lowercase hex>: a disk lease, removed when unused */
        CLEANUP_KIND_LEFTOVER,  /* .<hex>.vmlock-cleanup: of an interrupted cleanup, removed */
        CLEANUP_KIND_ABANDONED, /* .<hex>.XXXXXX, old: a lease creation that died, removed */
        CLEANUP_KIND_OTHER,     /* anything else: never touched */
} CleanupKind;

typedef enum {
        CLEANUP_OUTCOME_PENDING,
        CLEANUP_OUTCOME_DELETED,        /* or, with --dry-run, would be */
        CLEANUP_OUTCOME_KEPT,           /* a guest holds its lease */
        CLEANUP_OUTCOME_GONE,           /* removed or replaced by someone else meanwhile */
        CLEANUP_OUTCOME_SKIPPED,        /* not ours to touch */
        CLEANUP_OUTCOME_FAILED,
} CleanupOutcome;

typedef struct {
        char *name;             /* the file name in the lease directory */
        CleanupKind kind;
        CleanupOutcome outcome;
        char *reason;           /* why it was kept, skipped, failed or gone (may be NULL) */
} CleanupEntry;

CleanupEntry *cleanup_entry_new(const char *name, CleanupKind kind);
void cleanup_entry_free(CleanupEntry *entry);
/* Records the outcome; @reason (may be NULL) is taken. */
void cleanup_entry_set(CleanupEntry *entry, CleanupOutcome outcome, char *reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CleanupEntry, cleanup_entry_free)

G_END_DECLS
