/* vmlock: telling whether a file or directory that root is about to use
 * could have been planted or changed by another user.
 *
 * Shared by the sanlock driver (its lease dir) and the tools (the state
 * dir), each of which has its own idea of who is trusted. Linked into each
 * of them as a small static library: it is not part of libvmlock's API. */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* "a regular file", "a symbolic link", "a directory", ... for messages. */
const char *file_trust_kind(mode_t mode);

/* "uid 1001 (mallory)", or "uid 1001" when it has no name. */
char *file_trust_describe_uid(uid_t uid);
/* "gid 1001 (mallory)", or "gid 1001". */
char *file_trust_describe_gid(gid_t gid);

typedef gboolean (*FileTrustIdFunc)(guint32 id, gpointer user_data);

typedef enum {
        FILE_TRUST_ACL_NONE = 0,  /* no entry lets an untrusted user or group write */
        FILE_TRUST_ACL_USER,      /* a named user entry does: *ret_id is the uid */
        FILE_TRUST_ACL_GROUP,     /* a named group entry does: *ret_id is the gid */
        FILE_TRUST_ACL_TOO_LONG,  /* the ACL is too long to check: refuse it */
} FileTrustAcl;

/* Looks through the POSIX access ACL of @fd for a named user or group
 * entry granting write whose id @trusted_user / @trusted_group rejects
 * (an ACL can let others write what the mode bits say only the owner may).
 * No ACL, a file system without them, or one that cannot be read (logged
 * at debug level) is FILE_TRUST_ACL_NONE. */
FileTrustAcl file_trust_acl_writer(int fd, FileTrustIdFunc trusted_user,
                                   FileTrustIdFunc trusted_group, gpointer user_data,
                                   guint32 *ret_id);

G_END_DECLS
