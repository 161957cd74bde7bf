/* vmlock: small fd helpers the tools share: whole writes and reads, waiting
 * for a child, unix sockets. */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* Writes all of @data (retrying short writes and EINTR); a socket peer that
 * went away is EPIPE, never SIGPIPE. FALSE with errno set. */
gboolean fd_write_all(int fd, const void *data, gsize len);
/* Reads @len bytes; returns fewer only at end of file, -1 with errno set. */
gssize fd_read_full(int fd, void *data, gsize len);
/* waitpid(2), retried on EINTR. */
pid_t waitpid_noeintr(pid_t pid, int *status, int options);

/* A listening unix stream socket at @path, mode 0600 (only root, or the
 * owner, may connect); a stale socket file there is replaced. */
int unix_socket_listen(const char *path, GError **error);
/* A connected unix stream socket; a missing or dead socket is
 * VMLOCK_ERROR_IO naming @path. */
int unix_socket_connect(const char *path, GError **error);

G_END_DECLS
