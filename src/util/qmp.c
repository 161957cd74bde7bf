/* vmlock: QMP messages over a unix socket. */
#define G_LOG_DOMAIN "vmlock-util"

#include "config-build.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "util/fd_util.h"
#include "util/qmp.h"
#include "util/qmp_splitter.h"

JsonObject *
qmp_message_parse(const char *text, gsize len, GError **error)
{
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GError) local = NULL;
        JsonNode *root;

        if (!json_parser_load_from_data(parser, text, (gssize)len, &local)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "not a QMP message: %s", local->message);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "not a QMP message: not a JSON object");
                return NULL;
        }
        return json_object_ref(json_node_get_object(root));
}

QmpMessageKind
qmp_message_kind(JsonObject *message)
{
        if (json_object_has_member(message, "execute"))
                return QMP_MESSAGE_COMMAND;
        if (json_object_has_member(message, "return"))
                return QMP_MESSAGE_RETURN;
        if (json_object_has_member(message, "error"))
                return QMP_MESSAGE_ERROR;
        if (json_object_has_member(message, "event"))
                return QMP_MESSAGE_EVENT;
        if (json_object_has_member(message, "QMP"))
                return QMP_MESSAGE_GREETING;
        return QMP_MESSAGE_UNKNOWN;
}

const char *
qmp_message_error_desc(JsonObject *message)
{
        JsonNode *node = json_object_get_member(message, "error");
        JsonObject *body = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node)
                                                                : NULL;
        JsonNode *desc = body ? json_object_get_member(body, "desc") : NULL;

        if (desc && json_node_get_value_type(desc) == G_TYPE_STRING)
                return json_node_get_string(desc);
        return "(no description)";
}

char *
qmp_message_to_line(JsonObject *message)
{
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), message);
        g_autofree char *text = json_to_string(node, FALSE);

        return g_strconcat(text, "\n", NULL);
}

static void
copy_id(JsonObject *message, JsonNode *id)
{
        if (id)
                json_object_set_member(message, "id", json_node_copy(id));
}

JsonObject *
qmp_error_new(const char *klass, JsonNode *id, const char *format, ...)
{
        JsonObject *message = json_object_new();
        JsonObject *body = json_object_new();
        g_autofree char *desc = NULL;
        va_list ap;

        va_start(ap, format);
        desc = g_strdup_vprintf(format, ap);
        va_end(ap);
        json_object_set_string_member(body, "class", klass);
        json_object_set_string_member(body, "desc", desc);
        json_object_set_object_member(message, "error", body);
        copy_id(message, id);
        return message;
}

#define ERROR_DOMAIN_MEMBER "vmlock-domain"
#define ERROR_CODE_MEMBER "vmlock-code"

JsonObject *
qmp_error_from_gerror(const GError *error)
{
        JsonObject *message = qmp_error_new("GenericError", NULL, "%s", error->message);
        JsonObject *body = json_object_get_object_member(message, "error");

        json_object_set_string_member(body, ERROR_DOMAIN_MEMBER,
                                      g_quark_to_string(error->domain));
        json_object_set_int_member(body, ERROR_CODE_MEMBER, error->code);
        return message;
}

/* The error a QMP error message carries, or a plain refusal of @command. */
static void
set_error_from_reply(GError **error, JsonObject *reply, const char *command)
{
        /* The peer's message may be anything: look before taking. */
        JsonNode *node = json_object_get_member(reply, "error");
        JsonObject *body = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node)
                                                                : NULL;
        JsonNode *domain = body ? json_object_get_member(body, ERROR_DOMAIN_MEMBER) : NULL;
        JsonNode *code = body ? json_object_get_member(body, ERROR_CODE_MEMBER) : NULL;

        if (domain && json_node_get_value_type(domain) == G_TYPE_STRING && code &&
            json_node_get_value_type(code) == G_TYPE_INT64) {
                g_set_error_literal(error, g_quark_from_string(json_node_get_string(domain)),
                                    (int)json_node_get_int(code),
                                    qmp_message_error_desc(reply));
                return;
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "QMP '%s' failed: %s", command,
                    qmp_message_error_desc(reply));
}

JsonObject *
qmp_return_new(JsonNode *value, JsonNode *id)
{
        JsonObject *message = json_object_new();

        if (!value)
                value = json_node_init_object(json_node_alloc(), json_object_new());
        json_object_set_member(message, "return", value);
        copy_id(message, id);
        return message;
}

JsonObject *
qmp_command_new(const char *command, JsonObject *arguments)
{
        JsonObject *message = json_object_new();

        json_object_set_string_member(message, "execute", command);
        if (arguments)
                json_object_set_object_member(message, "arguments",
                                              json_object_ref(arguments));
        return message;
}

/* A value or garbage the splitter found, not yet handed out. */
typedef struct {
        QmpSplitKind kind;
        guint64 start;
        guint64 end;
} Frame;

struct QmpStream {
        int fd;
        GString *buf;       /* bytes read and not handed out yet */
        guint64 buf_offset; /* the stream offset of buf's first byte */
        QmpSplitter splitter;
        GQueue frames;      /* Frame *, in order */
};

QmpStream *
qmp_stream_new(int fd)
{
        QmpStream *stream = g_new0(QmpStream, 1);

        stream->fd = fd;
        stream->buf = g_string_new(NULL);
        g_queue_init(&stream->frames);
        return stream;
}

QmpStream *
qmp_stream_connect(const char *path, GError **error)
{
        int fd = unix_socket_connect(path, error);

        return fd < 0 ? NULL : qmp_stream_new(fd);
}

void
qmp_stream_free(QmpStream *stream)
{
        if (!stream)
                return;
        if (stream->fd >= 0)
                close(stream->fd);
        g_string_free(stream->buf, TRUE);
        g_queue_clear_full(&stream->frames, g_free);
        g_free(stream);
}

int
qmp_stream_get_fd(QmpStream *stream)
{
        return stream->fd;
}

gboolean
qmp_stream_send(QmpStream *stream, JsonObject *message, GError **error)
{
        g_autofree char *line = qmp_message_to_line(message);

        if (!fd_write_all(stream->fd, line, strlen(line))) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot send to QMP peer: %s",
                            g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

gsize
qmp_stream_get_buffered(QmpStream *stream)
{
        return stream->buf->len;
}

/* Runs the splitter over @len new bytes at the buffer's end. */
static void
split(QmpStream *stream, gsize len)
{
        gsize from = stream->buf->len - len;

        for (gsize i = from; i < stream->buf->len; i++) {
                Frame frame = { 0 };

                frame.kind = qmp_splitter_feed(&stream->splitter, stream->buf->str[i],
                                               stream->buf_offset + i, &frame.start,
                                               &frame.end);
                if (frame.kind != QMP_SPLIT_NONE)
                        g_queue_push_tail(&stream->frames, g_memdup2(&frame, sizeof(frame)));
        }
}

gboolean
qmp_stream_fill(QmpStream *stream, GError **error)
{
        char chunk[65536];
        ssize_t n;

        do {
                n = recv(stream->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return TRUE;
        if (n < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot read from QMP peer: %s",
                            g_strerror(saved));
                return FALSE;
        }
        if (n == 0) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "the QMP peer closed the connection");
                return FALSE;
        }
        g_string_append_len(stream->buf, chunk, n);
        split(stream, (gsize)n);
        if (qmp_splitter_is_inside(&stream->splitter) &&
            stream->buf_offset + stream->buf->len - stream->splitter.start > QMP_MAX_MESSAGE) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "QMP peer sent a message longer than %d bytes", QMP_MAX_MESSAGE);
                return FALSE;
        }
        return TRUE;
}

/* Drops the bytes before what is still to be handed out. */
static void
compact(QmpStream *stream)
{
        Frame *next = g_queue_peek_head(&stream->frames);
        guint64 keep = stream->buf_offset + stream->buf->len;

        if (next)
                keep = next->start;
        else if (qmp_splitter_is_inside(&stream->splitter))
                keep = stream->splitter.start;
        g_string_erase(stream->buf, 0, (gssize)(keep - stream->buf_offset));
        stream->buf_offset = keep;
}

JsonObject *
qmp_stream_next(QmpStream *stream, GError **error)
{
        g_autofree Frame *frame = g_queue_pop_head(&stream->frames);
        JsonObject *message = NULL;
        const char *text;
        gsize len;

        if (!frame) {
                compact(stream);
                return NULL;
        }
        text = stream->buf->str + (frame->start - stream->buf_offset);
        len = (gsize)(frame->end - frame->start);
        message = qmp_message_parse(text, len, error);
        /* Garbage never parses as an object; should json-glib think so... */
        if (message && frame->kind == QMP_SPLIT_GARBAGE) {
                g_clear_pointer(&message, json_object_unref);
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "not a QMP message: not a JSON object");
        }
        compact(stream);
        return message;
}

JsonObject *
qmp_stream_receive(QmpStream *stream, int timeout_ms, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        for (;;) {
                GError *local = NULL;
                JsonObject *message = qmp_stream_next(stream, &local);
                struct pollfd pfd = { .fd = stream->fd, .events = POLLIN };
                gint64 left;
                int r;

                if (message || local) {
                        if (local)
                                g_propagate_error(error, local);
                        return message;
                }
                left = (deadline - g_get_monotonic_time()) / 1000;
                if (left <= 0) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "no answer from the QMP peer in %d s", timeout_ms / 1000);
                        return NULL;
                }
                r = poll(&pfd, 1, (int)left);
                if (r < 0 && errno != EINTR) {
                        int saved = errno;

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "poll: %s",
                                    g_strerror(saved));
                        return NULL;
                }
                if (r > 0 && !qmp_stream_fill(stream, error))
                        return NULL;
        }
}

QmpStream *
qmp_client_connect(const char *path, GError **error)
{
        g_autoptr(QmpStream) stream = qmp_stream_connect(path, error);
        g_autoptr(JsonObject) greeting = NULL;
        g_autoptr(JsonNode) ret = NULL;

        if (!stream)
                return NULL;
        greeting = qmp_stream_receive(stream, QMP_TIMEOUT_MS, error);
        if (!greeting)
                return NULL;
        if (qmp_message_kind(greeting) != QMP_MESSAGE_GREETING) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "%s does not speak QMP (no greeting)", path);
                return NULL;
        }
        ret = qmp_client_execute(stream, "qmp_capabilities", NULL, error);
        if (!ret)
                return NULL;
        return g_steal_pointer(&stream);
}

JsonObject *
qmp_client_request(QmpStream *stream, const char *command, JsonObject *arguments,
                   GError **error)
{
        g_autoptr(JsonObject) request = qmp_command_new(command, arguments);

        if (!qmp_stream_send(stream, request, error))
                return NULL;
        for (;;) {
                g_autoptr(JsonObject) reply = qmp_stream_receive(stream, QMP_TIMEOUT_MS, error);

                if (!reply)
                        return NULL;
                switch (qmp_message_kind(reply)) {
                case QMP_MESSAGE_RETURN:
                case QMP_MESSAGE_ERROR:
                        return g_steal_pointer(&reply);
                default:
                        break; /* events */
                }
        }
}

JsonNode *
qmp_reply_take_return(JsonObject *reply, const char *command, GError **error)
{
        if (qmp_message_kind(reply) == QMP_MESSAGE_ERROR) {
                set_error_from_reply(error, reply, command);
                return NULL;
        }
        return json_node_copy(json_object_get_member(reply, "return"));
}

JsonNode *
qmp_client_execute(QmpStream *stream, const char *command, JsonObject *arguments,
                   GError **error)
{
        g_autoptr(JsonObject) reply = qmp_client_request(stream, command, arguments, error);

        return reply ? qmp_reply_take_return(reply, command, error) : NULL;
}
