/* vmlock: QMP messages over a unix socket.
 *
 * QEMU's monitor, the supervisor's QMP proxy and its control socket all speak
 * it. A message is a JSON object, framed as QEMU frames it (util/qmp_splitter.h:
 * by its braces, not by lines); messages sent go out one a line. Parsing and
 * printing are json-glib's; this file frames, classifies messages and offers
 * a small blocking client.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How long to wait for a peer at each step. */
#define QMP_TIMEOUT_MS 10000
/* A longer message is refused: no legitimate one comes near it. */
#define QMP_MAX_MESSAGE (16 * 1024 * 1024)

/* The QMP message kinds, told apart by their keys. */
typedef enum {
        QMP_MESSAGE_UNKNOWN,
        QMP_MESSAGE_GREETING, /* {"QMP": ...} */
        QMP_MESSAGE_RETURN,   /* {"return": ...} */
        QMP_MESSAGE_ERROR,    /* {"error": {"class": ..., "desc": ...}} */
        QMP_MESSAGE_EVENT,    /* {"event": ..., "timestamp": ...} */
        QMP_MESSAGE_COMMAND,  /* {"execute": ...} */
} QmpMessageKind;

/* Parses one message: a JSON object, else VMLOCK_ERROR_INVALID_ARG. */
JsonObject *qmp_message_parse(const char *text, gsize len, GError **error);
QmpMessageKind qmp_message_kind(JsonObject *message);
/* An error message's "desc" (or a stand-in when it has none). */
const char *qmp_message_error_desc(JsonObject *message);
/* The message as one line, '\n' included. */
char *qmp_message_to_line(JsonObject *message);

/* {"error": {"class": CLASS, "desc": DESC}}, with @id (may be NULL) copied. */
JsonObject *qmp_error_new(const char *klass, JsonNode *id, const char *format, ...)
        G_GNUC_PRINTF(3, 4);
/* A GError as a QMP error; its domain and code travel along, so that
 * qmp_client_execute() gives the client the same GError. */
JsonObject *qmp_error_from_gerror(const GError *error);
/* {"return": VALUE} (an empty object when @value is NULL; takes @value). */
JsonObject *qmp_return_new(JsonNode *value, JsonNode *id);
/* {"execute": COMMAND, "arguments": ARGS} (@arguments may be NULL; not taken). */
JsonObject *qmp_command_new(const char *command, JsonObject *arguments);

/* A socket carrying messages. Reading is buffered: qmp_stream_fill() reads
 * what the socket has, qmp_stream_next() hands out complete messages. */
typedef struct QmpStream QmpStream;

/* Takes @fd. */
QmpStream *qmp_stream_new(int fd);
/* Connects to the unix socket @path (no handshake). */
QmpStream *qmp_stream_connect(const char *path, GError **error);
void qmp_stream_free(QmpStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpStream, qmp_stream_free)
int qmp_stream_get_fd(QmpStream *stream);

gboolean qmp_stream_send(QmpStream *stream, JsonObject *message, GError **error);
/* The bytes read and not yet handed out as messages. */
gsize qmp_stream_get_buffered(QmpStream *stream);
/* One read(2) into the buffer. FALSE with an error at end of stream. */
gboolean qmp_stream_fill(QmpStream *stream, GError **error);
/* The next buffered message, or NULL: none complete yet (no error), or
 * bytes that are not a message (error; the stream goes on after them). */
JsonObject *qmp_stream_next(QmpStream *stream, GError **error);
/* Waits up to @timeout_ms for the next message. */
JsonObject *qmp_stream_receive(QmpStream *stream, int timeout_ms, GError **error);

/* A blocking QMP client: connects to @path, reads the greeting and leaves
 * capability negotiation. */
QmpStream *qmp_client_connect(const char *path, GError **error);
/* Sends @command and returns its answer (a return or an error message);
 * events are skipped. An error here is the peer's silence or end
 * (VMLOCK_ERROR_IO), never its refusal. */
JsonObject *qmp_client_request(QmpStream *stream, const char *command, JsonObject *arguments,
                               GError **error);
/* An answer's "return" value, or its refusal as a GError (see below). */
JsonNode *qmp_reply_take_return(JsonObject *reply, const char *command, GError **error);
/* Runs @command and returns its "return" value; events are skipped. A
 * refusal is VMLOCK_ERROR_INTERNAL with its "desc" (or the error it carries,
 * from qmp_error_from_gerror()); a closed socket VMLOCK_ERROR_IO. */
JsonNode *qmp_client_execute(QmpStream *stream, const char *command, JsonObject *arguments,
                             GError **error);

G_END_DECLS
