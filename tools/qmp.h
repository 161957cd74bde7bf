/* vmlock: a minimal QMP client: one command over a guest's QMP unix socket. */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* How long to wait for QEMU at each step. */
#define QMP_TIMEOUT_MS 10000

/* Connects to @socket_path, leaves capability negotiation mode and runs
 * @command ("stop", "cont", "quit", ... without arguments). For "quit", QEMU
 * closing the connection before it answers counts as success. Errors are
 * VMLOCK_ERROR_IO (socket) or VMLOCK_ERROR_INTERNAL (QEMU refused: its
 * description is in the message). */
gboolean qmp_execute(const char *socket_path, const char *command, GError **error);
/* Same, and @ret_reply (may be NULL) gets QEMU's answer line ({"return": ...});
 * NULL for a "quit" that QEMU did not answer. */
gboolean qmp_execute_full(const char *socket_path, const char *command, char **ret_reply,
                          GError **error);

/* Waits until QEMU (process @pid), just started, accepts connections on
 * @socket_path: at most QMP_TIMEOUT_MS, and not after @pid is gone. */
gboolean qmp_wait_ready(const char *socket_path, pid_t pid, GError **error);

/* The QMP message kinds, told apart by the first key of the object. */
typedef enum {
        QMP_MESSAGE_UNKNOWN,
        QMP_MESSAGE_GREETING, /* {"QMP": ...} */
        QMP_MESSAGE_RETURN,   /* {"return": ...} */
        QMP_MESSAGE_ERROR,    /* {"error": {"class": ..., "desc": ...}} */
        QMP_MESSAGE_EVENT,    /* {"event": ...} or {"timestamp": ..., "event": ...} */
} QmpMessageKind;

/* Classifies one line QEMU sent; for an error, @ret_desc (may be NULL) gets
 * the "desc" string. Exposed for the tests. */
QmpMessageKind qmp_message_classify(const char *line, char **ret_desc);

G_END_DECLS
