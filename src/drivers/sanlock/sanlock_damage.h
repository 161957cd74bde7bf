/* vmlock sanlock driver: what is wrong with a lease file sanlock cannot use. */
#pragma once

#include <glib.h>

/* Why the regular file @path cannot hold a sanlock lease at @offset, in
 * words ("it is empty (0 bytes)", "it is 100 bytes long, shorter than one
 * lease (1048576 bytes)", "it holds no sanlock lease (zeroed or
 * overwritten)"); NULL when it looks like a lease, is no regular file or
 * cannot be read (the daemon's own error then says more). */
char *vmlock_sanlock_lease_file_damage(const char *path, guint64 offset);

/* Sets @error (VMLOCK_ERROR_IO): "the lease file PATH of SUBJECT is damaged:
 * DAMAGE", and what to do about it. */
void vmlock_sanlock_set_damage_error(GError **error, const char *subject, const char *path,
                                     const char *damage);
