/* vmlock: libFuzzer target for the QMP reader (src/util/qmp_splitter.c, src/util/qmp.c,
 * src/qemu/qemu_monitor.c): the input as one message, through the splitter, as a stream
 * arriving in pieces, as a peer's answers to the blocking client, and as QEMU's monitor
 * talking. */
#include "config-build.h"

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "qemu/qemu_monitor.h"
#include "util/fd_util.h"
#include "util/qmp.h"
#include "util/qmp_splitter.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whole inputs up to this size also go through the client and the monitor: they are
 * written at once, and must fit in a socket's buffer. */
#define PEER_INPUT_MAX (64 * 1024)

/* What the reader promises about what it returns; a broken promise is a crash. */
static void
check(gboolean ok)
{
        if (!ok)
                __builtin_trap();
}

static void
check_message(JsonObject *message)
{
        QmpMessageKind kind = qmp_message_kind(message);
        g_autofree char *line = qmp_message_to_line(message);
        g_autoptr(JsonObject) again = NULL;
        const char *desc = qmp_message_error_desc(message);

        check(kind >= QMP_MESSAGE_UNKNOWN && kind <= QMP_MESSAGE_COMMAND);
        check(desc != NULL);
        /* Printed, it is one line that reads back as the same kind. (Not
         * always JSON: json-glib prints a number too large for a double,
         * 1e400, as "inf".) */
        check(g_str_has_suffix(line, "\n"));
        check(memchr(line, '\n', strlen(line) - 1) == NULL);
        again = qmp_message_parse(line, strlen(line), NULL);
        check(!again || qmp_message_kind(again) == kind);
}

static void
make_socketpair(int *ret_a, int *ret_b)
{
        int fds[2];

        check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        *ret_a = fds[0];
        *ret_b = fds[1];
}

/* Hands out what @stream has complete. */
static void
drain(QmpStream *stream)
{
        for (;;) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) message = qmp_stream_next(stream, &error);

                check(!(message && error));
                if (error) {
                        check(error->domain == VMLOCK_ERROR);
                        continue;
                }
                if (!message)
                        return;
                check_message(message);
        }
}

static gboolean
readable(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        return poll(&pfd, 1, 0) > 0;
}

/* The input through the splitter: what it hands out are ordered spans of the
 * input, values bracketed as values are. */
static void
fuzz_splitter(const uint8_t *data, size_t size)
{
        QmpSplitter splitter = { 0 };
        guint64 last_end = 0;

        for (gsize i = 0; i < size; i++) {
                guint64 start = 0;
                guint64 end = 0;
                QmpSplitKind kind = qmp_splitter_feed(&splitter, (char)data[i], i, &start,
                                                      &end);

                if (kind == QMP_SPLIT_NONE)
                        continue;
                check(last_end <= start && start < end && end <= i + 1);
                if (kind == QMP_SPLIT_VALUE) {
                        check(data[start] == '{' || data[start] == '[');
                        check(data[end - 1] == '}' || data[end - 1] == ']');
                }
                last_end = end;
        }
        check(!qmp_splitter_is_inside(&splitter) || splitter.start >= last_end);
}

/* The input through a socket, in pieces of varying sizes. */
static void
fuzz_stream(const uint8_t *data, size_t size)
{
        static const gsize pieces[] = { 1, 2, 7, 64, 4096 };
        g_autoptr(QmpStream) stream = NULL;
        gsize done = 0;
        int ours;
        int peer;

        make_socketpair(&ours, &peer);
        stream = qmp_stream_new(ours);
        for (guint n = 0; done < size; n++) {
                gsize len = MIN(pieces[n % G_N_ELEMENTS(pieces)], size - done);

                check(fd_write_all(peer, data + done, len));
                done += len;
                while (readable(ours)) {
                        check(qmp_stream_fill(stream, NULL));
                        drain(stream);
                }
        }
        close(peer);
        for (;;) {
                g_autoptr(GError) error = NULL;

                if (!qmp_stream_fill(stream, &error)) {
                        check(g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_IO));
                        break;
                }
                drain(stream);
        }
        drain(stream);
}

/* The input as a peer's answers to one command of the blocking client. */
static void
fuzz_client(const uint8_t *data, size_t size)
{
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        int ours;
        int peer;

        make_socketpair(&ours, &peer);
        client = qmp_stream_new(ours);
        check(fd_write_all(peer, data, size));
        /* The end of the answers is the end of the input: never a wait. */
        check(shutdown(peer, SHUT_WR) == 0);
        ret = qmp_client_execute(client, "query-status", NULL, &error);
        check((ret == NULL) != (error == NULL));
        if (error)
                check(error->message != NULL);
        close(peer);
}

static void
on_reply(JsonObject *reply, gpointer user_data)
{
        guint *replies = user_data;

        (*replies)++;
        /* Whatever QEMU said, it goes back with the client's id (7, or none). */
        if (reply && json_object_has_member(reply, "id")) {
                JsonNode *id = json_object_get_member(reply, "id");

                check(json_node_get_value_type(id) == G_TYPE_INT64);
                check(json_node_get_int(id) == 7);
        }
}

static void
on_event(JsonObject *event, gpointer user_data)
{
        check(qmp_message_kind(event) == QMP_MESSAGE_EVENT);
}

/* The input as QEMU's monitor, with two forwarded commands outstanding. */
static void
fuzz_monitor(const uint8_t *data, size_t size)
{
        g_autoptr(QemuMonitor) monitor = NULL;
        g_autoptr(JsonObject) command = json_object_new();
        guint replies = 0;
        int ours;
        int peer;

        make_socketpair(&ours, &peer);
        monitor = qemu_monitor_new(ours, on_event, NULL);
        json_object_set_string_member(command, "execute", "query-name");
        json_object_set_int_member(command, "id", 7);
        qemu_monitor_forward(monitor, command, on_reply, &replies);
        json_object_remove_member(command, "id");
        qemu_monitor_forward(monitor, command, on_reply, &replies);
        check(fd_write_all(peer, data, size));
        close(peer);
        while (qemu_monitor_dispatch(monitor))
                ;
        check(qemu_monitor_is_closed(monitor));
        /* Each forward is answered once: by QEMU or, at the end, NULL. */
        check(replies == 2);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        /* A json-glib or GLib critical on what a peer sent is a bug. */
        g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = qmp_message_parse((const char *)data, size, &error);

        check((message == NULL) != (error == NULL));
        if (message)
                check_message(message);
        else
                check(g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG));
        fuzz_splitter(data, size);
        fuzz_stream(data, size);
        if (size <= PEER_INPUT_MAX) {
                fuzz_client(data, size);
                fuzz_monitor(data, size);
        }
        return 0;
}
