/* vmlock sanlock driver: which files in disk_lease_dir root may act on. */
#pragma once

#include <sys/stat.h>

#include <glib.h>

#include "drivers/sanlock/sanlock_config.h"

/* disk_lease_dir must be a directory that only trusted users can write:
 * owned by root or the configured user, not writable by others (sticky or
 * not), group-writable only when its group is root's or the configured
 * group, and with no ACL entry letting another user or group write it.
 * Anything else is VMLOCK_ERROR_CONFIG naming the directory and what
 * to change. A missing directory passes: the caller reports it. */
gboolean vmlock_sanlock_trust_lease_dir(const VmlockSanlockConfig *config, GError **error);

/* Looks at @path, a file the driver creates in disk_lease_dir (@what says
 * which, for messages: "the lockspace file", "the lease file of disk /x"),
 * without following a symbolic link: it must be a regular file owned by root
 * or the configured user. Returns 1 and fills @ret_st (may be NULL) when it
 * is, 0 when there is no such file, -1 with VMLOCK_ERROR_IO naming the file
 * and what is wrong with it. */
int vmlock_sanlock_trust_file(const VmlockSanlockConfig *config, const char *path,
                              const char *what, struct stat *ret_st, GError **error);

/* The same checks on what @st describes (from fstat of an open file). With
 * @allow_block, a block device also passes (an explicit <lease> the admin
 * put on a device). */
gboolean vmlock_sanlock_trust_stat(const VmlockSanlockConfig *config, const char *path,
                                   const char *what, const struct stat *st,
                                   gboolean allow_block, GError **error);
