/* vmlock tests: an unprivileged user, vmlock-attacker, who plants files for
 * root to trip over. Needs root (to create the user and drop to it). */
#pragma once

#include <sys/types.h>

#include <glib.h>

#define ATTACKER "vmlock-attacker"

/* Creates the attacker's account unless it exists (useradd once per
 * machine), and returns its uid and gid (either may be NULL). */
void attacker_ensure(uid_t *ret_uid, gid_t *ret_gid);

typedef enum {
        PLANT_SYMLINK,          /* @path -> @target */
        PLANT_FILE,             /* a regular file of the attacker's own at @path */
} PlantKind;

/* Has the attacker, in a child that dropped to its uid and gid, plant
 * @path. Asserts it managed to: the directory really is theirs to write. */
void attacker_plant(PlantKind kind, const char *path, const char *target);

/* What setfacl -m u:UID:rwx does to @dir, without needing setfacl (the
 * mask lets the named user write). */
void attacker_grant_write_by_acl(const char *dir, uid_t uid);
