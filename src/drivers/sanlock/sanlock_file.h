/* vmlock sanlock driver: publishing lockspace and lease files race-safely. */
#pragma once

#include <sys/types.h>

#include <glib.h>

/* Fills the new file @fd, reachable by the daemon at @tmp_path. */
typedef gboolean (*VmlockSanlockFileInitFunc)(const char *tmp_path, int fd, gpointer data,
                                              GError **error);

/* Creates @path, initialised by @init, such that no other process or host
 * ever sees it half-written: the file is made and initialised under a
 * temporary name in the same directory, then published with link(2). When
 * another creator wins the race, its file is kept and ours discarded.
 * @user/@group (-1: unchanged) own the file, @mode is exact (not umasked).
 * *ret_created (may be NULL) says whether ours was published. */
gboolean vmlock_sanlock_file_create(const char *path, mode_t mode, uid_t user, gid_t group,
                                    VmlockSanlockFileInitFunc init, gpointer data,
                                    gboolean *ret_created, GError **error);

/* Gives @fd @size bytes of real blocks (so a full disk shows now, not at
 * the first lease write); falls back to a sparse size where the file
 * system cannot allocate. */
gboolean vmlock_sanlock_file_allocate(int fd, const char *path, gsize size, GError **error);
