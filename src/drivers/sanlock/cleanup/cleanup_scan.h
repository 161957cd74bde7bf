/* vmlock-sanlock-cleanup: listing the lease directory and sorting out what may be removed. */
#pragma once

#include <glib.h>

#include "cleanup_entry.h"

G_BEGIN_DECLS

/* Our own name for a lease file being removed: .<hex>.vmlock-cleanup */
#define CLEANUP_LEFTOVER_SUFFIX ".vmlock-cleanup"
/* A lease file is created under a temporary name and published within
 * milliseconds; one this old belongs to a start that died. */
#define CLEANUP_ABANDONED_AGE_SECONDS (60 * 60)

typedef enum {
        CLEANUP_NAME_LEASE,     /* 32 lowercase hex digits: libvirt's md5 of the disk path */
        CLEANUP_NAME_LOCKSPACE, /* __LIBVIRT__DISKS__ */
        CLEANUP_NAME_LEFTOVER,  /* .<lease>.vmlock-cleanup */
        CLEANUP_NAME_TEMP,      /* .<lease or lockspace>.XXXXXX (mkstemp) */
        CLEANUP_NAME_OTHER,
} CleanupName;

/* What @name is, from the name alone. */
CleanupName cleanup_name_classify(const char *name);

/* Every entry of @dir but . and .., sorted by name. Entries never to be
 * touched are already SKIPPED, with the reason; temporary files last
 * modified before @now (wall-clock seconds) minus
 * CLEANUP_ABANDONED_AGE_SECONDS are ABANDONED. VMLOCK_ERROR_IO when the
 * directory cannot be read. */
GPtrArray *cleanup_scan(const char *dir, gint64 now, GError **error);

G_END_DECLS
