/* vmlock: tests of the QMP layer: messages (src/util/qmp.c), framing (qmp_splitter.c),
 * the blocking client, QEMU's monitor (src/qemu/qemu_monitor.c) and the QMP server
 * (src/control/control_server.c), each against a fake peer. */
#define _GNU_SOURCE /* accept4 */

#include "config-build.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <vmlock/error.h>

#include "control/control_server.h"
#include "fake-qmp-peer.h"
#include "qemu/qemu_monitor.h"
#include "util/fd_util.h"
#include "util/qmp.h"
#include "util/qmp_splitter.h"

/* The bound on every wait: far longer than any step takes. */
#define WAIT_MS 5000

#define GREETING                                                                     \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
        "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* ---- helpers ---- */

static void
make_socketpair(int *ret_a, int *ret_b)
{
        int fds[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        *ret_a = fds[0];
        *ret_b = fds[1];
}

static void
send_text(int fd, const char *text)
{
        g_assert_true(fd_write_all(fd, text, strlen(text)));
}

static gboolean
deadline_reached(gpointer data)
{
        gboolean *expired = data;

        *expired = TRUE;
        return G_SOURCE_REMOVE;
}

/* Runs the default main context until @cond holds, for at most WAIT_MS. */
#define ITERATE_UNTIL(cond)                                                            \
        G_STMT_START                                                                   \
        {                                                                              \
                gboolean expired_ = FALSE;                                             \
                guint deadline_ = g_timeout_add(WAIT_MS, deadline_reached, &expired_); \
                                                                                       \
                while (!(cond) && !expired_)                                           \
                        g_main_context_iteration(NULL, TRUE);                          \
                if (!expired_)                                                         \
                        g_source_remove(deadline_);                                    \
                g_assert_true(cond);                                                   \
        }                                                                              \
        G_STMT_END

/* Runs what the default main context has ready, without blocking. */
static void
iterate_pending(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

static gboolean
note_readable(int fd, GIOCondition condition, gpointer data)
{
        gboolean *readable = data;

        *readable = TRUE;
        return G_SOURCE_REMOVE;
}

/* Waits, the main loop running, until @stream's fd is readable. */
static void
wait_readable(QmpStream *stream)
{
        gboolean readable = FALSE;

        g_unix_fd_add(qmp_stream_get_fd(stream), G_IO_IN | G_IO_HUP | G_IO_ERR, note_readable,
                      &readable);
        ITERATE_UNTIL(readable);
}

/* The next message on @stream, the main loop running meanwhile. */
static JsonObject *
receive_iterating(QmpStream *stream)
{
        for (;;) {
                g_autoptr(GError) error = NULL;
                JsonObject *message = qmp_stream_next(stream, &error);

                g_assert_no_error(error);
                if (message)
                        return message;
                wait_readable(stream);
                g_assert_true(qmp_stream_fill(stream, &error));
                g_assert_no_error(error);
        }
}

/* The peer hung up: @stream reaches its end, the main loop running meanwhile. */
static void
expect_eof_iterating(QmpStream *stream)
{
        for (;;) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) message = qmp_stream_next(stream, &error);

                g_assert_no_error(error);
                g_assert_null(message);
                wait_readable(stream);
                if (!qmp_stream_fill(stream, &error)) {
                        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
                        return;
                }
        }
}

static JsonObject *
parse(const char *text)
{
        g_autoptr(GError) error = NULL;
        JsonObject *message = qmp_message_parse(text, strlen(text), &error);

        g_assert_no_error(error);
        g_assert_nonnull(message);
        return message;
}

/* @node as JSON text, for comparisons. */
static char *
node_text(JsonNode *node)
{
        return node ? json_to_string(node, FALSE) : g_strdup("(none)");
}

static char *
member_text(JsonObject *object, const char *member)
{
        return node_text(json_object_get_member(object, member));
}

#define assert_member(object, member, expected)                          \
        G_STMT_START                                                     \
        {                                                                \
                g_autofree char *text_ = member_text(object, member);    \
                g_assert_cmpstr(text_, ==, expected);                    \
        }                                                                \
        G_STMT_END

/* ---- messages ---- */

static void
test_parse_kinds(void)
{
        static const struct {
                const char *text;
                QmpMessageKind kind;
        } cases[] = {
                { GREETING, QMP_MESSAGE_GREETING },
                { "{\"return\": {}}", QMP_MESSAGE_RETURN },
                { "{\"return\": {\"status\": \"running\"}, \"id\": 7}", QMP_MESSAGE_RETURN },
                { "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}",
                  QMP_MESSAGE_ERROR },
                { "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}",
                  QMP_MESSAGE_EVENT },
                { "{\"execute\": \"cont\", \"id\": \"a\"}", QMP_MESSAGE_COMMAND },
                { "{\"execute\": \"stop\", \"arguments\": {}}", QMP_MESSAGE_COMMAND },
                { "{}", QMP_MESSAGE_UNKNOWN },
                { "{\"foo\": 1}", QMP_MESSAGE_UNKNOWN },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(JsonObject) message = parse(cases[i].text);

                g_test_message("%s", cases[i].text);
                g_assert_cmpint(qmp_message_kind(message), ==, cases[i].kind);
        }
}

static void
test_parse_not_object(void)
{
        static const char *const cases[] = {
                "[1, 2]", "\"return\"", "42", "null", "", "{\"return\": ", "}{",
                "{\"a\": 1} junk", "not json",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) message = NULL;

                g_test_message("'%s'", cases[i]);
                message = qmp_message_parse(cases[i], strlen(cases[i]), &error);
                g_assert_null(message);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                g_assert_true(g_str_has_prefix(error->message, "not a QMP message"));
        }
}

static void
test_parse_length(void)
{
        /* Only @len bytes count: what follows is not read. */
        static const char text[] = "{\"return\": {}}garbage";
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = qmp_message_parse(text, strlen("{\"return\": {}}"),
                                                          &error);

        g_assert_no_error(error);
        g_assert_cmpint(qmp_message_kind(message), ==, QMP_MESSAGE_RETURN);
}

static void
test_error_desc(void)
{
        static const struct {
                const char *text;
                const char *desc;
        } cases[] = {
                { "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Not allowed\"}}",
                  "Not allowed" },
                { "{\"error\": {\"class\": \"GenericError\"}}", "(no description)" },
                { "{\"error\": {\"desc\": 5}}", "(no description)" },
                { "{\"error\": {\"desc\": null}}", "(no description)" },
                { "{\"error\": \"plain\"}", "(no description)" },
                { "{\"error\": null}", "(no description)" },
                { "{\"return\": {}}", "(no description)" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(JsonObject) message = parse(cases[i].text);

                g_test_message("%s", cases[i].text);
                g_assert_cmpstr(qmp_message_error_desc(message), ==, cases[i].desc);
        }
}

static void
test_build(void)
{
        g_autoptr(JsonNode) id = json_from_string("{\"n\": 1}", NULL);
        g_autoptr(JsonObject) error = qmp_error_new("CommandNotFound", id, "no %s", "such");
        g_autoptr(JsonObject) ret = qmp_return_new(NULL, id);
        g_autoptr(JsonObject) ret_value = qmp_return_new(json_from_string("[1]", NULL), NULL);
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonObject) command = NULL;
        g_autoptr(JsonObject) bare = qmp_command_new("stop", NULL);
        g_autofree char *line = NULL;
        g_autoptr(JsonObject) back = NULL;

        g_assert_cmpint(qmp_message_kind(error), ==, QMP_MESSAGE_ERROR);
        g_assert_cmpstr(qmp_message_error_desc(error), ==, "no such");
        assert_member(error, "error", "{\"class\":\"CommandNotFound\",\"desc\":\"no such\"}");
        assert_member(error, "id", "{\"n\":1}");

        g_assert_cmpint(qmp_message_kind(ret), ==, QMP_MESSAGE_RETURN);
        assert_member(ret, "return", "{}");
        assert_member(ret, "id", "{\"n\":1}");
        assert_member(ret_value, "return", "[1]");
        g_assert_false(json_object_has_member(ret_value, "id"));

        json_object_set_string_member(arguments, "device", "disk0");
        command = qmp_command_new("eject", arguments);
        /* The arguments were not taken. */
        json_object_set_int_member(arguments, "later", 1);
        g_assert_cmpint(qmp_message_kind(command), ==, QMP_MESSAGE_COMMAND);
        assert_member(command, "execute", "\"eject\"");
        g_assert_true(json_object_has_member(command, "arguments"));
        g_assert_false(json_object_has_member(bare, "arguments"));

        /* One line, '\n' last, that reads back the same. */
        line = qmp_message_to_line(error);
        g_assert_true(g_str_has_suffix(line, "\n"));
        g_assert_null(memchr(line, '\n', strlen(line) - 1));
        back = qmp_message_parse(line, strlen(line), NULL);
        g_assert_nonnull(back);
        g_assert_true(json_object_equal(back, error));
}

static void
test_error_from_gerror(void)
{
        g_autoptr(GError) lease = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                                              "disk /x is in use by host 2 (node-b)");
        g_autoptr(JsonObject) message = qmp_error_from_gerror(lease);

        g_assert_cmpint(qmp_message_kind(message), ==, QMP_MESSAGE_ERROR);
        g_assert_cmpstr(qmp_message_error_desc(message), ==,
                        "disk /x is in use by host 2 (node-b)");
        g_assert_false(json_object_has_member(message, "id"));
}

/* ---- QmpStream framing ---- */

typedef struct {
        QmpStream *stream;
        int peer; /* the other end */
} StreamFixture;

static void
stream_setup(StreamFixture *fx, gconstpointer data)
{
        int ours;

        make_socketpair(&ours, &fx->peer);
        fx->stream = qmp_stream_new(ours);
}

static void
stream_teardown(StreamFixture *fx, gconstpointer data)
{
        g_clear_pointer(&fx->stream, qmp_stream_free);
        if (fx->peer >= 0)
                close(fx->peer);
}

/* The next buffered message, which must be one of @kind. */
static void
expect_next(QmpStream *stream, QmpMessageKind kind)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = qmp_stream_next(stream, &error);

        g_assert_no_error(error);
        g_assert_nonnull(message);
        g_assert_cmpint(qmp_message_kind(message), ==, kind);
}

static void
expect_none(QmpStream *stream)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = qmp_stream_next(stream, &error);

        g_assert_no_error(error);
        g_assert_null(message);
}

static void
fill(QmpStream *stream)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(qmp_stream_fill(stream, &error));
        g_assert_no_error(error);
}

static void
test_stream_several(StreamFixture *fx, gconstpointer data)
{
        send_text(fx->peer, GREETING "{\"return\": {}}\n{\"event\": \"STOP\"}\n");
        fill(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_GREETING);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
}

static void
test_stream_split(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = NULL;

        send_text(fx->peer, "{\"return\": {\"sta");
        fill(fx->stream);
        expect_none(fx->stream);
        /* Complete at its last brace: no newline needed. */
        send_text(fx->peer, "tus\": \"running\"}}");
        fill(fx->stream);
        message = qmp_stream_next(fx->stream, &error);
        g_assert_no_error(error);
        assert_member(message, "return", "{\"status\":\"running\"}");
        expect_none(fx->stream);
        send_text(fx->peer, "\r\n{\"event\"");
        fill(fx->stream);
        expect_none(fx->stream);
        send_text(fx->peer, ": \"RESUME\"}\n");
        fill(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
}

/* QEMU's framing: objects, not lines. */
static void
test_stream_objects_not_lines(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = NULL;

        /* Spread over lines, and two on one line, with and without space. */
        send_text(fx->peer, "{\n  \"return\":\n  {\"a\": [1,\n 2]}\n}\n"
                            "{\"event\": \"STOP\"}{\"return\": {}} {\"event\": \"RESUME\"}");
        fill(fx->stream);
        message = qmp_stream_next(fx->stream, &error);
        g_assert_no_error(error);
        assert_member(message, "return", "{\"a\":[1,2]}");
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
}

/* Braces and quotes inside strings do not count. */
static void
test_stream_strings(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = NULL;

        send_text(fx->peer, "{\"return\": \"}{ [\\\" \\\\\"}{\"event\": \"STOP\"}");
        fill(fx->stream);
        message = qmp_stream_next(fx->stream, &error);
        g_assert_no_error(error);
        assert_member(message, "return", "\"}{ [\\\" \\\\\"");
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
}

static void
expect_error(QmpStream *stream)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = qmp_stream_next(stream, &error);

        g_assert_null(message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

/* After bytes that are not JSON, the stream finds the next message where
 * QEMU would: at a newline or a brace. */
static void
test_stream_resync(StreamFixture *fx, gconstpointer data)
{
        /* Garbage, then a message on the same line. */
        send_text(fx->peer, "junk{\"return\": {}}");
        fill(fx->stream);
        expect_error(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_none(fx->stream);
        /* A string broken by a newline: the rest is not swallowed. */
        send_text(fx->peer, "{\"execute\": \"a\nb\"}\n{\"event\": \"STOP\"}\n");
        fill(fx->stream);
        expect_error(fx->stream);
        expect_error(fx->stream); /* b"} */
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
        /* A stray closing brace, a lone string, a lone number. */
        send_text(fx->peer, "}\n\"{\"\n42\n{\"return\": {}}\n");
        fill(fx->stream);
        expect_error(fx->stream);
        expect_error(fx->stream);
        expect_error(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_none(fx->stream);
}

/* Nesting as deep as QEMU allows passes; deeper is refused, and the
 * stream goes on. */
static void
test_stream_depth(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GString) deep = g_string_new("{\"return\": ");
        g_autoptr(GString) too_deep = g_string_new(NULL);

        for (guint i = 1; i < QMP_SPLITTER_MAX_DEPTH; i++)
                g_string_append_c(deep, '[');
        for (guint i = 1; i < QMP_SPLITTER_MAX_DEPTH; i++)
                g_string_append_c(deep, ']');
        g_string_append(deep, "}\n");
        send_text(fx->peer, deep->str);
        fill(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_none(fx->stream);

        g_string_append(too_deep, "{\"return\": ");
        for (guint i = 0; i < QMP_SPLITTER_MAX_DEPTH; i++)
                g_string_append_c(too_deep, '[');
        g_string_append(too_deep, "\n{\"event\": \"STOP\"}\n");
        send_text(fx->peer, too_deep->str);
        fill(fx->stream);
        expect_error(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
}

static void
test_stream_crlf_blank(StreamFixture *fx, gconstpointer data)
{
        send_text(fx->peer, "\n\r\n  \t\r\n{\"return\": {}}\r\n\r\n\n{\"event\": \"STOP\"}\r\n\n");
        fill(fx->stream);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_next(fx->stream, QMP_MESSAGE_EVENT);
        expect_none(fx->stream);
        /* Blank lines alone make no message. */
        send_text(fx->peer, "\r\n\n");
        fill(fx->stream);
        expect_none(fx->stream);
}

static void
test_stream_bad_line(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        g_autoptr(JsonObject) message = NULL;
        g_autoptr(JsonObject) message2 = NULL;

        send_text(fx->peer, "this is not JSON\r\n[1, 2]\n{\"return\": {}}\n");
        fill(fx->stream);
        message = qmp_stream_next(fx->stream, &error);
        g_assert_null(message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        message2 = qmp_stream_next(fx->stream, &error2);
        g_assert_null(message2);
        g_assert_error(error2, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        expect_next(fx->stream, QMP_MESSAGE_RETURN);
        expect_none(fx->stream);
}

static void
test_stream_eof(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) receive_error = NULL;
        g_autoptr(JsonObject) message = NULL;

        /* A complete message, then a partial one, then the end. */
        send_text(fx->peer, "{\"return\": {}}\n{\"retu");
        close(g_steal_fd(&fx->peer));
        fill(fx->stream);
        g_assert_false(qmp_stream_fill(fx->stream, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        /* What was complete is still handed out; the end is then an error. */
        message = qmp_stream_receive(fx->stream, WAIT_MS, &receive_error);
        g_assert_no_error(receive_error);
        g_assert_cmpint(qmp_message_kind(message), ==, QMP_MESSAGE_RETURN);
        g_clear_pointer(&message, json_object_unref);
        message = qmp_stream_receive(fx->stream, WAIT_MS, &receive_error);
        g_assert_null(message);
        g_assert_error(receive_error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
}

static void
test_stream_receive(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = NULL;

        send_text(fx->peer, "\r\n{\"event\": \"STOP\"}\r\n");
        message = qmp_stream_receive(fx->stream, WAIT_MS, &error);
        g_assert_no_error(error);
        g_assert_cmpint(qmp_message_kind(message), ==, QMP_MESSAGE_EVENT);
}

static void
test_stream_receive_timeout(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) message = NULL;
        gint64 start = g_get_monotonic_time();
        gint64 elapsed;

        /* Half a message is no message. */
        send_text(fx->peer, "{\"return\":");
        message = qmp_stream_receive(fx->stream, 100, &error);
        elapsed = g_get_monotonic_time() - start;
        g_assert_null(message);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        /* poll(2) counts whole milliseconds: allow for rounding. */
        g_assert_cmpint(elapsed, >=, 90 * 1000);
        g_assert_cmpint(elapsed, <, WAIT_MS * 1000);
}

static void
test_stream_send(StreamFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) command = qmp_command_new("query-status", NULL);
        g_autoptr(QmpStream) peer = qmp_stream_new(g_steal_fd(&fx->peer));
        g_autoptr(JsonObject) received = NULL;

        json_object_set_string_member(command, "id", "x\ny");
        g_assert_true(qmp_stream_send(fx->stream, command, &error));
        g_assert_no_error(error);
        received = qmp_stream_receive(peer, WAIT_MS, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_equal(received, command));
        /* The peer gone, sending fails (no SIGPIPE). */
        g_clear_pointer(&peer, qmp_stream_free);
        g_assert_false(qmp_stream_send(fx->stream, command, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
}

/* ---- the blocking client ---- */

#define CAPABILITIES_OK "> qmp_capabilities", "< {\"return\": {}}\r\n"

static void
test_client_execute(void)
{
        static const char *const script[] = {
                "< " GREETING,
                CAPABILITIES_OK,
                "> query-status",
                "< {\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n",
                "< {\"event\": \"RESUME\"}\r\n{\"return\": {\"status\": \"running\", "
                "\"running\": true}}\r\n",
                "> cont",
                "< {\"return\": {}}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(JsonNode) status = NULL;
        g_autoptr(JsonNode) cont = NULL;
        g_autofree char *status_text = NULL;
        FakePeer fake;

        fake_peer_start_listening(&fake, script);
        client = qmp_client_connect(fake.path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(client);
        /* The events before the answer are skipped. */
        status = qmp_client_execute(client, "query-status", NULL, &error);
        g_assert_no_error(error);
        status_text = node_text(status);
        g_assert_cmpstr(status_text, ==, "{\"status\":\"running\",\"running\":true}");
        json_object_set_boolean_member(arguments, "force", TRUE);
        cont = qmp_client_execute(client, "cont", arguments, &error);
        g_assert_no_error(error);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(cont));
        fake_peer_join(&fake);
        /* What the client sent: no id, the arguments along. */
        g_assert_cmpuint(fake.received->len, ==, 3);
        g_assert_false(json_object_has_member(g_ptr_array_index(fake.received, 0), "arguments"));
        assert_member(g_ptr_array_index(fake.received, 2), "arguments", "{\"force\":true}");
        fake_peer_clear(&fake);
}

static void
test_client_error_desc(void)
{
        static const char *const script[] = {
                "> stop",
                "< {\"event\": \"X\"}\n{\"error\": {\"class\": \"GenericError\", "
                "\"desc\": \"Not allowed now\"}}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(JsonNode) ret = NULL;
        FakePeer fake;

        client = qmp_stream_new(fake_peer_start_pair(&fake, script));
        ret = qmp_client_execute(client, "stop", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_nonnull(strstr(error->message, "Not allowed now"));
        g_assert_nonnull(strstr(error->message, "stop"));
        fake_peer_clear(&fake);
}

static void
test_client_error_carried(void)
{
        g_autoptr(GError) lease = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                                              "disk /x is in use by host 2 (node-b)");
        g_autoptr(JsonObject) reply = qmp_error_from_gerror(lease);
        g_autofree char *line = qmp_message_to_line(reply);
        g_autofree char *step = g_strconcat("< ", line, NULL);
        const char *const script[] = { "> vmlock-go", step, NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(JsonNode) ret = NULL;
        FakePeer fake;

        client = qmp_stream_new(fake_peer_start_pair(&fake, script));
        ret = qmp_client_execute(client, "vmlock-go", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, lease->message);
        fake_peer_clear(&fake);
}

/* Errors that are not what they should be are still refusals. */
static void
test_client_error_malformed(void)
{
        static const char *const script[] = {
                "> a", "< {\"error\": \"plain\"}\n",
                "> b", "< {\"error\": null}\n",
                "> c", "< {\"error\": {\"desc\": \"d\", \"vmlock-domain\": {}, "
                       "\"vmlock-code\": 6}}\n",
                "> d", "< {\"error\": {\"desc\": \"d\", \"vmlock-domain\": \"vmlock-error-quark\", "
                       "\"vmlock-code\": {}}}\n",
                "> e", "< {\"error\": {\"desc\": \"d\", \"vmlock-domain\": 3, "
                       "\"vmlock-code\": 6}}\n",
                "> f", "< {\"error\": {\"desc\": \"d\", \"vmlock-domain\": \"vmlock-error-quark\", "
                       "\"vmlock-code\": \"6\"}}\n",
                NULL,
        };
        static const char *const commands[] = { "a", "b", "c", "d", "e", "f" };
        g_autoptr(QmpStream) client = NULL;
        FakePeer fake;

        client = qmp_stream_new(fake_peer_start_pair(&fake, script));
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonNode) ret = qmp_client_execute(client, commands[i], NULL, &error);

                g_test_message("%s: %s", commands[i], error ? error->message : "(none)");
                g_assert_null(ret);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        }
        fake_peer_clear(&fake);
}

static void
test_client_no_greeting(void)
{
        static const char *const script[] = { "< {\"return\": {}}\r\n", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        FakePeer fake;

        fake_peer_start_listening(&fake, script);
        client = qmp_client_connect(fake.path, &error);
        g_assert_null(client);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, fake.path));
        fake_peer_clear(&fake);
}

static void
test_client_silent_close(void)
{
        static const char *const script[] = { NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        FakePeer fake;

        fake_peer_start_listening(&fake, script);
        client = qmp_client_connect(fake.path, &error);
        g_assert_null(client);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        fake_peer_clear(&fake);
}

static void
test_client_capabilities_refused(void)
{
        static const char *const script[] = {
                "< " GREETING,
                "> qmp_capabilities",
                "< {\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        FakePeer fake;

        fake_peer_start_listening(&fake, script);
        client = qmp_client_connect(fake.path, &error);
        g_assert_null(client);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        fake_peer_clear(&fake);
}

static void
test_client_peer_closes(void)
{
        /* It reads the command, says something unrelated and hangs up. */
        static const char *const script[] = { "> quit", "< {\"event\": \"SHUTDOWN\"}\r\n", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(JsonNode) ret = NULL;
        FakePeer fake;

        client = qmp_stream_new(fake_peer_start_pair(&fake, script));
        ret = qmp_client_execute(client, "quit", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        fake_peer_clear(&fake);
}

static void
test_client_no_socket(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("vmlock-test-qmp-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "absent.sock", NULL);
        g_autoptr(QmpStream) client = qmp_client_connect(path, &error);

        g_assert_null(client);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, path));
        g_rmdir(dir);
}

/* ---- QEMU's monitor ---- */

typedef struct {
        QemuMonitor *monitor;
        guint watch;
        GPtrArray *log; /* char *: callbacks, in the order they ran */
        FakePeer fake;
} MonitorTest;

static void
monitor_on_event(JsonObject *event, gpointer user_data)
{
        MonitorTest *t = user_data;

        g_ptr_array_add(t->log, g_strdup_printf("event %s",
                                                json_object_get_string_member(event, "event")));
}

static void
monitor_on_reply(JsonObject *reply, gpointer user_data)
{
        MonitorTest *t = user_data;
        g_autofree char *ret = NULL;
        g_autofree char *id = NULL;

        if (!reply) {
                g_ptr_array_add(t->log, g_strdup("reply NULL"));
                return;
        }
        ret = member_text(reply, "return");
        id = member_text(reply, "id");
        g_ptr_array_add(t->log, g_strdup_printf("reply %s id %s", ret, id));
}

static gboolean
monitor_readable(int fd, GIOCondition condition, gpointer data)
{
        MonitorTest *t = data;

        if (qemu_monitor_dispatch(t->monitor))
                return G_SOURCE_CONTINUE;
        t->watch = 0;
        return G_SOURCE_REMOVE;
}

static void
monitor_start(MonitorTest *t, const char *const *script)
{
        int fd;

        memset(t, 0, sizeof(*t));
        fd = fake_peer_start_pair(&t->fake, script);
        t->log = g_ptr_array_new_with_free_func(g_free);
        t->monitor = qemu_monitor_new(fd, monitor_on_event, t);
}

/* Dispatches from the main loop, as the supervisor does. */
static void
monitor_watch(MonitorTest *t)
{
        t->watch = g_unix_fd_add(qemu_monitor_get_fd(t->monitor), G_IO_IN | G_IO_HUP,
                                 monitor_readable, t);
}

static void
monitor_handshake(MonitorTest *t)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(qemu_monitor_handshake(t->monitor, WAIT_MS, &error));
        g_assert_no_error(error);
}

static void
monitor_finish(MonitorTest *t)
{
        if (t->watch)
                g_source_remove(t->watch);
        g_clear_pointer(&t->monitor, qemu_monitor_free);
        fake_peer_clear(&t->fake);
        g_ptr_array_unref(t->log);
        /* Nothing left behind in the main context. */
        g_assert_false(g_main_context_pending(NULL));
}

static void
assert_log(GPtrArray *log, const char *const *expected)
{
        guint n = g_strv_length((char **)expected);

        for (guint i = 0; i < log->len; i++)
                g_test_message("log[%u]: %s", i, (char *)g_ptr_array_index(log, i));
        g_assert_cmpuint(log->len, ==, n);
        for (guint i = 0; i < n; i++)
                g_assert_cmpstr(g_ptr_array_index(log, i), ==, expected[i]);
}

/* QEMU's empty answer to the N-th command. */
#define OK_TO(n) "< {\"return\": {}, \"id\": $" #n "}\r\n"
#define MONITOR_HANDSHAKE "< " GREETING, "> qmp_capabilities", "< {\"return\": {}, \"id\": $0}\r\n"

static void
test_monitor_handshake(void)
{
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-status",
                "< {\"return\": {\"status\": \"paused\"}, \"id\": $1}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) status = NULL;
        g_autofree char *status_text = NULL;
        JsonObject *greeting;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        greeting = qemu_monitor_get_greeting(t.monitor);
        g_assert_nonnull(greeting);
        g_assert_cmpint(qmp_message_kind(greeting), ==, QMP_MESSAGE_GREETING);
        status = qemu_monitor_execute(t.monitor, "query-status", NULL, &error);
        g_assert_no_error(error);
        status_text = node_text(status);
        g_assert_cmpstr(status_text, ==, "{\"status\":\"paused\"}");
        fake_peer_join(&t.fake);
        /* Our commands carry ids of our own, each its own. */
        g_assert_cmpuint(t.fake.received->len, ==, 2);
        {
                g_autofree char *id0 = member_text(g_ptr_array_index(t.fake.received, 0), "id");
                g_autofree char *id1 = member_text(g_ptr_array_index(t.fake.received, 1), "id");

                g_assert_cmpstr(id0, !=, "(none)");
                g_assert_cmpstr(id0, !=, id1);
        }
        g_assert_false(qemu_monitor_is_closed(t.monitor));
        monitor_finish(&t);
}

/* Every message to and from QEMU is in the debug trace, with its direction
 * and peer (G_MESSAGES_DEBUG=vmlock-qemu). */
static void
test_monitor_trace(void)
{
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-status",
                "< {\"return\": {\"status\": \"paused\"}, \"id\": $1}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) status = NULL;
        MonitorTest t;

        g_log_set_debug_enabled(TRUE);
        g_test_expect_message("vmlock-qemu", G_LOG_LEVEL_DEBUG,
                              "QMP received from QEMU: {\"QMP\":*");
        g_test_expect_message("vmlock-qemu", G_LOG_LEVEL_DEBUG,
                              "QMP sent to QEMU: {\"execute\":\"qmp_capabilities\"*");
        g_test_expect_message("vmlock-qemu", G_LOG_LEVEL_DEBUG,
                              "QMP received from QEMU: {\"return\":{},*");
        g_test_expect_message("vmlock-qemu", G_LOG_LEVEL_DEBUG,
                              "QMP sent to QEMU: {\"execute\":\"query-status\"*");
        g_test_expect_message("vmlock-qemu", G_LOG_LEVEL_DEBUG,
                              "QMP received from QEMU: {\"return\":{\"status\":\"paused\"}*");
        monitor_start(&t, script);
        monitor_handshake(&t);
        status = qemu_monitor_execute(t.monitor, "query-status", NULL, &error);
        g_assert_no_error(error);
        g_test_assert_expected_messages();
        g_log_set_debug_enabled(FALSE);
        fake_peer_join(&t.fake);
        monitor_finish(&t);
}

static void
test_monitor_no_greeting(void)
{
        static const char *const script[] = { "< {\"event\": \"STOP\"}\r\n", NULL };
        g_autoptr(GError) error = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        g_assert_false(qemu_monitor_handshake(t.monitor, WAIT_MS, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        monitor_finish(&t);
}

static void
test_monitor_handshake_timeout(void)
{
        /* The peer is there but says nothing. */
        g_autoptr(GError) error = NULL;
        g_autoptr(QemuMonitor) monitor = NULL;
        gint64 start = g_get_monotonic_time();
        int ours;
        int peer;

        make_socketpair(&ours, &peer);
        monitor = qemu_monitor_new(ours, NULL, NULL);
        g_assert_false(qemu_monitor_handshake(monitor, 100, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_cmpint(g_get_monotonic_time() - start, <, WAIT_MS * 1000);
        close(peer);
}

static void
test_monitor_execute_error(void)
{
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> cont",
                "< {\"id\": $1, \"error\": {\"class\": \"GenericError\", "
                "\"desc\": \"Resetting the Virtual Machine is required\"}}\r\n",
                NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        ret = qemu_monitor_execute(t.monitor, "cont", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_nonnull(strstr(error->message, "Resetting the Virtual Machine is required"));
        g_assert_nonnull(strstr(error->message, "cont"));
        monitor_finish(&t);
}

static void
test_monitor_forward_ids(void)
{
        /* QEMU answers in its own order: the ids tell the answers apart. */
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-name",
                "> query-status",
                "> query-kvm",
                "< {\"return\": {\"n\": 3}, \"id\": $3}\r\n",
                "< {\"return\": {\"n\": 1}, \"id\": $1}\r\n"
                "{\"return\": {\"n\": 2}, \"id\": $2}\r\n",
                NULL,
        };
        static const char *const expected[] = {
                "reply {\"n\":3} id (none)",
                "reply {\"n\":1} id 42",
                "reply {\"n\":2} id \"abc\"",
                NULL,
        };
        g_autoptr(JsonObject) by_number = parse("{\"execute\": \"query-name\", \"id\": 42}");
        g_autoptr(JsonObject) by_string = parse("{\"execute\": \"query-status\", \"id\": \"abc\", "
                                                "\"arguments\": {\"x\": [1]}}");
        g_autoptr(JsonObject) anonymous = parse("{\"execute\": \"query-kvm\"}");
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_forward(t.monitor, by_number, monitor_on_reply, &t);
        qemu_monitor_forward(t.monitor, by_string, monitor_on_reply, &t);
        qemu_monitor_forward(t.monitor, anonymous, monitor_on_reply, &t);
        g_assert_cmpuint(t.log->len, ==, 0);
        ITERATE_UNTIL(t.log->len == 3);
        assert_log(t.log, expected);
        fake_peer_join(&t.fake);
        /* QEMU saw ids of ours, all different, and the rest unchanged. */
        {
                g_autofree char *id1 = member_text(g_ptr_array_index(t.fake.received, 1), "id");
                g_autofree char *id2 = member_text(g_ptr_array_index(t.fake.received, 2), "id");
                g_autofree char *id3 = member_text(g_ptr_array_index(t.fake.received, 3), "id");

                g_assert_cmpstr(id1, !=, "42");
                g_assert_cmpstr(id2, !=, "\"abc\"");
                g_assert_cmpstr(id3, !=, "(none)");
                g_assert_cmpstr(id1, !=, id2);
                g_assert_cmpstr(id2, !=, id3);
                assert_member(g_ptr_array_index(t.fake.received, 2), "arguments", "{\"x\":[1]}");
        }
        /* The client's own message is left as it was. */
        assert_member(by_number, "id", "42");
        monitor_finish(&t);
}

static void
test_monitor_execute_while_forwarding(void)
{
        /* QEMU answers the forward, says an event, then answers ours: all in
         * one write. */
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-name",
                "> stop",
                "< {\"return\": {\"name\": \"g\"}, \"id\": $1}\r\n"
                "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
                "{\"return\": {}, \"id\": $2}\r\n",
                "< {\"event\": \"RESUME\"}\r\n",
                NULL,
        };
        static const char *const expected[] = {
                "reply {\"name\":\"g\"} id \"client\"",
                "event STOP",
                "event RESUME",
                NULL,
        };
        g_autoptr(JsonObject) forwarded =
                parse("{\"execute\": \"query-name\", \"id\": \"client\"}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_forward(t.monitor, forwarded, monitor_on_reply, &t);
        ret = qemu_monitor_execute(t.monitor, "stop", NULL, &error);
        g_assert_no_error(error);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));
        /* Nothing ran from inside the synchronous call. */
        g_assert_cmpuint(t.log->len, ==, 0);
        ITERATE_UNTIL(t.log->len == 3);
        assert_log(t.log, expected);
        monitor_finish(&t);
}

static void
test_monitor_execute_leaves_buffered(void)
{
        /* An event comes in the same write as our answer, after it: it is
         * dispatched from the main loop, though the fd has nothing more. */
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> stop",
                "< {\"return\": {}, \"id\": $1}\r\n{\"event\": \"STOP\"}\r\n",
                NULL,
        };
        static const char *const expected[] = { "event STOP", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        ret = qemu_monitor_execute(t.monitor, "stop", NULL, &error);
        g_assert_no_error(error);
        /* Not watching the fd: only what the monitor already read counts. */
        fake_peer_join(&t.fake);
        ITERATE_UNTIL(t.log->len == 1);
        assert_log(t.log, expected);
        monitor_finish(&t);
}

/* QEMU's answers and events framed any way JSON allows: no newline after
 * an answer, spread over lines, several on one line. */
static void
test_monitor_framing(void)
{
        static const char *const script[] = {
                "< {\"QMP\":\n {\"version\": {}, \"capabilities\": []}}",
                "> qmp_capabilities",
                "< {\"return\": {}, \"id\": $0}",
                "> query-status",
                "< {\"event\": \"STOP\"}{\n  \"return\": {\"running\": false},\n"
                "  \"id\": $1\n}{\"event\": \"RESUME\"}",
                NULL,
        };
        static const char *const expected[] = { "event STOP", "event RESUME", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        g_autofree char *text = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        ret = qemu_monitor_execute(t.monitor, "query-status", NULL, &error);
        g_assert_no_error(error);
        text = node_text(ret);
        g_assert_cmpstr(text, ==, "{\"running\":false}");
        fake_peer_join(&t.fake);
        ITERATE_UNTIL(t.log->len == 2);
        assert_log(t.log, expected);
        monitor_finish(&t);
}

static void
test_monitor_closed(void)
{
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-name",
                "> query-status",
                "< {\"event\": \"SHUTDOWN\"}\r\n",
                NULL,
        };
        static const char *const expected[] = {
                "event SHUTDOWN", "reply NULL", "reply NULL", "reply NULL", NULL,
        };
        g_autoptr(JsonObject) first = parse("{\"execute\": \"query-name\", \"id\": 1}");
        g_autoptr(JsonObject) second = parse("{\"execute\": \"query-status\", \"id\": 2}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_forward(t.monitor, first, monitor_on_reply, &t);
        qemu_monitor_forward(t.monitor, second, monitor_on_reply, &t);
        ITERATE_UNTIL(qemu_monitor_is_closed(t.monitor));
        g_assert_cmpuint(t.watch, ==, 0);
        g_assert_cmpuint(t.log->len, ==, 3);
        /* Once closed, a forward is answered NULL at once, and our own
         * commands fail. */
        qemu_monitor_forward(t.monitor, first, monitor_on_reply, &t);
        assert_log(t.log, expected);
        ret = qemu_monitor_execute(t.monitor, "stop", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        monitor_finish(&t);
}

static void
test_monitor_free_pending(void)
{
        static const char *const script[] = { MONITOR_HANDSHAKE, "> query-name", NULL };
        static const char *const expected[] = { "reply NULL", NULL };
        g_autoptr(JsonObject) command = parse("{\"execute\": \"query-name\"}");
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        qemu_monitor_forward(t.monitor, command, monitor_on_reply, &t);
        fake_peer_join(&t.fake);
        g_clear_pointer(&t.monitor, qemu_monitor_free);
        assert_log(t.log, expected);
        monitor_finish(&t);
}

static void
monitor_on_answer(JsonNode *ret, const GError *error, gpointer user_data)
{
        MonitorTest *t = user_data;
        g_autofree char *text = ret ? node_text(ret) : NULL;

        if (error)
                g_ptr_array_add(t->log, g_strdup_printf("error %s %d: %s",
                                                        g_quark_to_string(error->domain),
                                                        error->code, error->message));
        else
                g_ptr_array_add(t->log, g_strdup_printf("return %s", text));
}

/* Our own calls: sent at once, answered from the main loop in order, a
 * refusal as QEMU's desc. */
static void
test_monitor_call(void)
{
        static const char *const script[] = {
                MONITOR_HANDSHAKE,
                "> query-status",
                "> stop",
                "< {\"return\": {\"running\": true}, \"id\": $1}\r\n",
                "< {\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, "
                "\"id\": $2}\r\n",
                NULL,
        };
        static const char *const expected[] = {
                "return {\"running\":true}",
                "error vmlock-error-quark 0: QEMU refused 'stop': no",
                NULL,
        };
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_call(t.monitor, "query-status", NULL, monitor_on_answer, &t);
        qemu_monitor_call(t.monitor, "stop", NULL, monitor_on_answer, &t);
        g_assert_cmpuint(t.log->len, ==, 0);
        ITERATE_UNTIL(t.log->len == 2);
        assert_log(t.log, expected);
        fake_peer_join(&t.fake);
        monitor_finish(&t);
}

/* QEMU that never answers: the call fails at its timeout; the late answer
 * is dropped. */
static void
test_monitor_call_timeout(void)
{
        static const char *const script[] = { MONITOR_HANDSHAKE, "> stop", "=", OK_TO(1), NULL };
        static const char *const expected[] = {
                "error vmlock-error-quark 10: QEMU did not answer 'stop' in 100 ms",
                NULL,
        };
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_set_call_timeout(t.monitor, 100);
        qemu_monitor_call(t.monitor, "stop", NULL, monitor_on_answer, &t);
        ITERATE_UNTIL(t.log->len == 1);
        fake_peer_release(&t.fake);
        ITERATE_UNTIL(qemu_monitor_is_closed(t.monitor));
        assert_log(t.log, expected);
        monitor_finish(&t);
}

/* QEMU gone: every pending call fails, in the order sent; once closed, a
 * call fails from the main loop, never from inside the call. */
static void
test_monitor_call_eof(void)
{
        static const char *const script[] = { MONITOR_HANDSHAKE, "> stop", "> cont", NULL };
        static const char *const expected[] = {
                "error vmlock-error-quark 10: QEMU's monitor closed before QEMU answered "
                "'stop'",
                "error vmlock-error-quark 10: QEMU's monitor closed before QEMU answered "
                "'cont'",
                "error vmlock-error-quark 10: QEMU's monitor is closed: cannot run "
                "'query-status'",
                NULL,
        };
        MonitorTest t;

        monitor_start(&t, script);
        monitor_handshake(&t);
        monitor_watch(&t);
        qemu_monitor_call(t.monitor, "stop", NULL, monitor_on_answer, &t);
        qemu_monitor_call(t.monitor, "cont", NULL, monitor_on_answer, &t);
        ITERATE_UNTIL(qemu_monitor_is_closed(t.monitor));
        g_assert_cmpuint(t.log->len, ==, 2);
        qemu_monitor_call(t.monitor, "query-status", NULL, monitor_on_answer, &t);
        g_assert_cmpuint(t.log->len, ==, 2);
        ITERATE_UNTIL(t.log->len == 3);
        assert_log(t.log, expected);
        monitor_finish(&t);
}

/* ---- the QMP server ---- */

typedef struct {
        char *dir;
        char *path;
        QmpServer *server;
        GPtrArray *calls; /* char *: "COMMAND ID ARGUMENTS", as handled */
        guint answered_later;
} ServerFixture;

typedef struct {
        ServerFixture *fx;
        QmpServerClient *client;
} Later;

static void
later_free(Later *later)
{
        qmp_server_client_unref(later->client);
        g_free(later);
}

static gboolean
answer_later(gpointer data)
{
        Later *later = data;

        /* The commands after it waited. */
        g_assert_cmpstr(g_ptr_array_index(later->fx->calls, later->fx->calls->len - 1), ==,
                        "later 1 (none)");
        qmp_server_client_reply(later->client,
                                qmp_return_new(json_node_init_string(json_node_alloc(), "later"),
                                               NULL));
        later->fx->answered_later++;
        return G_SOURCE_REMOVE;
}

static JsonObject *
server_command(QmpServerClient *client, const char *command, JsonObject *arguments,
               gpointer user_data)
{
        ServerFixture *fx = user_data;
        g_autofree char *id = node_text(qmp_server_client_get_id(client));
        g_autofree char *args = NULL;

        if (arguments) {
                g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), arguments);

                args = node_text(node);
        }
        g_ptr_array_add(fx->calls, g_strdup_printf("%s %s %s", command, id,
                                                   args ? args : "(none)"));
        if (g_str_equal(command, "later")) {
                Later *later = g_new0(Later, 1);

                later->fx = fx;
                later->client = qmp_server_client_ref(client);
                g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, answer_later, later,
                                (GDestroyNotify)later_free);
                return NULL;
        }
        if (g_str_equal(command, "never"))
                return NULL; /* answered never: the client keeps no reference */
        if (g_str_equal(command, "fail")) {
                g_autoptr(GError) error = g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                                                      "busy");

                return qmp_error_from_gerror(error);
        }
        return qmp_return_new(json_node_init_string(json_node_alloc(), command), NULL);
}

static void
server_setup(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) greeting = parse(GREETING);

        fx->dir = g_dir_make_tmp("vmlock-test-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        fx->path = g_build_filename(fx->dir, "qmp.sock", NULL);
        fx->calls = g_ptr_array_new_with_free_func(g_free);
        fx->server = qmp_server_new(fx->path, greeting, server_command, fx, &error);
        g_assert_no_error(error);
        g_assert_nonnull(fx->server);
}

static void
server_teardown(ServerFixture *fx, gconstpointer data)
{
        g_clear_pointer(&fx->server, qmp_server_free);
        iterate_pending();
        g_assert_false(g_file_test(fx->path, G_FILE_TEST_EXISTS));
        g_assert_cmpint(g_rmdir(fx->dir), ==, 0);
        g_ptr_array_unref(fx->calls);
        g_free(fx->path);
        g_free(fx->dir);
}

/* A connected client that got its greeting. */
static QmpStream *
server_connect(ServerFixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpStream) client = qmp_stream_connect(fx->path, &error);
        g_autoptr(JsonObject) greeting = NULL;

        g_assert_no_error(error);
        greeting = receive_iterating(client);
        g_assert_cmpint(qmp_message_kind(greeting), ==, QMP_MESSAGE_GREETING);
        return g_steal_pointer(&client);
}

/* Sends @text, and returns the next message the server sends. */
static JsonObject *
server_ask(QmpStream *client, const char *text)
{
        send_text(qmp_stream_get_fd(client), text);
        return receive_iterating(client);
}

static QmpStream *
server_connect_negotiated(ServerFixture *fx)
{
        g_autoptr(QmpStream) client = server_connect(fx);
        g_autoptr(JsonObject) reply = server_ask(client, "{\"execute\": \"qmp_capabilities\"}\n");

        g_assert_cmpint(qmp_message_kind(reply), ==, QMP_MESSAGE_RETURN);
        return g_steal_pointer(&client);
}

static void
test_server_greeting(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) greeting = NULL;
        g_autoptr(JsonObject) expected = parse(GREETING);

        client = qmp_stream_connect(fx->path, &error);
        g_assert_no_error(error);
        greeting = receive_iterating(client);
        /* QEMU's, but offering no capability: the server has no oob. */
        json_object_set_array_member(json_object_get_object_member(expected, "QMP"),
                                     "capabilities", json_array_new());
        g_assert_true(json_object_equal(greeting, expected));
}

static void
record_trace(guint client, gboolean received, JsonObject *message, gpointer user_data)
{
        g_autofree char *line = qmp_message_to_line(message);

        g_ptr_array_add(user_data, g_strdup_printf("%u %s %s", client,
                                                   received ? "from" : "to", line));
}

/* The server's trace sees every message, its direction and its client:
 * the proxy's traffic in the QMP trace. */
static void
test_server_trace(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(GPtrArray) trace = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(QmpStream) first = NULL;
        g_autoptr(QmpStream) second = NULL;
        g_autoptr(JsonObject) reply = NULL;

        qmp_server_set_trace(fx->server, record_trace, trace);
        first = server_connect_negotiated(fx);
        second = server_connect(fx);
        reply = server_ask(first, "{\"execute\": \"hello\"}\n");
        g_assert_cmpuint(trace->len, ==, 6);
        g_assert_true(g_str_has_prefix(g_ptr_array_index(trace, 0), "1 to {\"QMP\":"));
        g_assert_cmpstr(g_ptr_array_index(trace, 1), ==,
                        "1 from {\"execute\":\"qmp_capabilities\"}\n");
        g_assert_cmpstr(g_ptr_array_index(trace, 2), ==, "1 to {\"return\":{}}\n");
        g_assert_true(g_str_has_prefix(g_ptr_array_index(trace, 3), "2 to {\"QMP\":"));
        g_assert_cmpstr(g_ptr_array_index(trace, 4), ==, "1 from {\"execute\":\"hello\"}\n");
        g_assert_cmpstr(g_ptr_array_index(trace, 5), ==, "1 to {\"return\":\"hello\"}\n");
}

/* Out-of-band execution is not offered: asking for it is refused as QEMU
 * refuses what it did not offer. */
static void
test_server_no_oob(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect(fx);
        g_autoptr(JsonObject) enable = NULL;
        g_autoptr(JsonObject) still = NULL;
        g_autoptr(JsonObject) negotiated = NULL;
        g_autoptr(JsonObject) oob = NULL;

        enable = server_ask(client, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                                    "{\"enable\": [\"oob\"]}, \"id\": 1}\n");
        g_assert_cmpint(qmp_message_kind(enable), ==, QMP_MESSAGE_ERROR);
        g_assert_cmpstr(qmp_message_error_desc(enable), ==, "Capability 'oob' not available");
        assert_member(enable, "id", "1");
        /* Not negotiated. */
        still = server_ask(client, "{\"execute\": \"now\"}\n");
        assert_member(json_object_get_object_member(still, "error"), "class",
                      "\"CommandNotFound\"");
        negotiated = server_ask(client, "{\"execute\": \"qmp_capabilities\"}\n");
        g_assert_cmpint(qmp_message_kind(negotiated), ==, QMP_MESSAGE_RETURN);
        oob = server_ask(client, "{\"exec-oob\": \"now\", \"id\": 2}\n");
        g_assert_cmpint(qmp_message_kind(oob), ==, QMP_MESSAGE_ERROR);
        g_assert_cmpstr(qmp_message_error_desc(oob), ==,
                        "QMP input member 'exec-oob' is unexpected");
        assert_member(oob, "id", "2");
        g_assert_cmpuint(fx->calls->len, ==, 0);
}

/* Commands framed as QEMU frames them: no newline, spread over lines, two
 * on one line. */
static void
test_server_framing(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        g_autoptr(JsonObject) bare = NULL;
        g_autoptr(JsonObject) spread = NULL;
        g_autoptr(JsonObject) first = NULL;
        g_autoptr(JsonObject) second = NULL;

        bare = server_ask(client, "{\"execute\": \"a\", \"id\": 1}");
        assert_member(bare, "return", "\"a\"");
        assert_member(bare, "id", "1");
        spread = server_ask(client, "{\n  \"execute\": \"b\",\n  \"arguments\": {\n"
                                    "    \"k\": 1\n  },\n  \"id\": 2\n}\n");
        assert_member(spread, "return", "\"b\"");
        assert_member(spread, "id", "2");
        send_text(qmp_stream_get_fd(client),
                  "{\"execute\": \"c\", \"id\": 3}{\"execute\": \"d\", \"id\": 4}\n");
        first = receive_iterating(client);
        second = receive_iterating(client);
        assert_member(first, "id", "3");
        assert_member(second, "id", "4");
        g_assert_cmpuint(fx->calls->len, ==, 4);
        g_assert_cmpstr(g_ptr_array_index(fx->calls, 1), ==, "b 2 {\"k\":1}");
}

static void
test_server_negotiation(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect(fx);
        g_autoptr(JsonObject) refused = NULL;
        g_autoptr(JsonObject) negotiated = NULL;
        g_autoptr(JsonObject) again = NULL;
        g_autoptr(JsonObject) answered = NULL;

        refused = server_ask(client, "{\"execute\": \"query-status\", \"id\": 1}\n");
        g_assert_cmpint(qmp_message_kind(refused), ==, QMP_MESSAGE_ERROR);
        assert_member(json_object_get_object_member(refused, "error"), "class",
                      "\"CommandNotFound\"");
        assert_member(refused, "id", "1");
        /* The command function never saw it. */
        g_assert_cmpuint(fx->calls->len, ==, 0);

        negotiated = server_ask(client, "{\"execute\": \"qmp_capabilities\", \"id\": \"n\", "
                                        "\"arguments\": {\"enable\": []}}\r\n");
        g_assert_cmpint(qmp_message_kind(negotiated), ==, QMP_MESSAGE_RETURN);
        assert_member(negotiated, "id", "\"n\"");
        again = server_ask(client, "{\"execute\": \"qmp_capabilities\"}\n");
        assert_member(json_object_get_object_member(again, "error"), "class",
                      "\"CommandNotFound\"");
        g_assert_false(json_object_has_member(again, "id"));

        answered = server_ask(client, "{\"execute\": \"query-status\", \"id\": 2}\n");
        assert_member(answered, "return", "\"query-status\"");
        assert_member(answered, "id", "2");
        g_assert_cmpuint(fx->calls->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(fx->calls, 0), ==, "query-status 2 (none)");
}

static void
test_server_ids_arguments(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        static const struct {
                const char *request;
                const char *call;
                const char *id;
        } cases[] = {
                { "{\"execute\": \"a\", \"id\": 7}\n", "a 7 (none)", "7" },
                { "{\"execute\": \"b\", \"id\": \"x\", \"arguments\": {\"k\": 1}}\n",
                  "b \"x\" {\"k\":1}", "\"x\"" },
                { "{\"execute\": \"c\", \"id\": {\"deep\": [1, 2]}}\n", "c {\"deep\":[1,2]} (none)",
                  "{\"deep\":[1,2]}" },
                { "{\"execute\": \"d\"}\n", "d (none) (none)", "(none)" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(JsonObject) reply = server_ask(client, cases[i].request);

                g_assert_cmpint(qmp_message_kind(reply), ==, QMP_MESSAGE_RETURN);
                assert_member(reply, "id", cases[i].id);
                g_assert_cmpstr(g_ptr_array_index(fx->calls, i), ==, cases[i].call);
        }
}

static void
test_server_bad_input(ServerFixture *fx, gconstpointer data)
{
        static const char *const requests[] = {
                "not json\n",
                "[1]\n",
                "{\"execute\": 5, \"id\": 1}\n",
                "{\"return\": {}}\n",
                "{\"execute\": \"a\", \"arguments\": [1]}\n",
        };
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        g_autoptr(JsonObject) reply = NULL;

        for (gsize i = 0; i < G_N_ELEMENTS(requests); i++) {
                g_autoptr(JsonObject) error = server_ask(client, requests[i]);

                g_test_message("%s", requests[i]);
                g_assert_cmpint(qmp_message_kind(error), ==, QMP_MESSAGE_ERROR);
                assert_member(json_object_get_object_member(error, "error"), "class",
                              "\"GenericError\"");
        }
        g_assert_cmpuint(fx->calls->len, ==, 0);
        /* The connection still works. */
        reply = server_ask(client, "{\"execute\": \"a\"}\n");
        assert_member(reply, "return", "\"a\"");
}

static void
test_server_error_carried(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        g_autoptr(JsonObject) reply = server_ask(client, "{\"execute\": \"fail\", \"id\": 3}\n");
        g_autofree char *line = qmp_message_to_line(reply);
        g_autofree char *step = g_strconcat("< ", line, NULL);
        const char *const replay[] = { "> fail", step, NULL };
        g_autoptr(QmpStream) replayed = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        FakePeer fake;

        assert_member(reply, "id", "3");
        /* The blocking client cannot talk to a server in this thread: the
         * answer is replayed to it by a fake peer. It is the same GError. */
        replayed = qmp_stream_new(fake_peer_start_pair(&fake, replay));
        ret = qmp_client_execute(replayed, "fail", NULL, &error);
        g_assert_null(ret);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY);
        g_assert_cmpstr(error->message, ==, "busy");
        fake_peer_clear(&fake);
}

static void
test_server_later_keeps_order(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        g_autoptr(JsonObject) first = NULL;
        g_autoptr(JsonObject) second = NULL;
        g_autoptr(JsonObject) third = NULL;

        /* Both in one write: the second waits for the first's answer. */
        send_text(qmp_stream_get_fd(client),
                  "{\"execute\": \"later\", \"id\": 1}\n{\"execute\": \"now\", \"id\": 2}\n");
        first = receive_iterating(client);
        second = receive_iterating(client);
        g_assert_cmpuint(fx->answered_later, ==, 1);
        assert_member(first, "return", "\"later\"");
        assert_member(first, "id", "1");
        assert_member(second, "return", "\"now\"");
        assert_member(second, "id", "2");
        g_assert_cmpuint(fx->calls->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(fx->calls, 1), ==, "now 2 (none)");
        /* And a command sent while one is pending waits too. */
        send_text(qmp_stream_get_fd(client), "{\"execute\": \"later\", \"id\": 1}\n");
        ITERATE_UNTIL(fx->calls->len == 3);
        send_text(qmp_stream_get_fd(client), "{\"execute\": \"now\", \"id\": 3}\n");
        third = receive_iterating(client);
        assert_member(third, "return", "\"later\"");
        g_clear_pointer(&third, json_object_unref);
        third = receive_iterating(client);
        assert_member(third, "id", "3");
        g_assert_cmpuint(fx->answered_later, ==, 2);
}

static void
test_server_later_client_gone(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        g_autoptr(QmpStream) other = NULL;
        g_autoptr(JsonObject) reply = NULL;

        send_text(qmp_stream_get_fd(client), "{\"execute\": \"later\", \"id\": 1}\n");
        ITERATE_UNTIL(fx->calls->len == 1);
        /* The client hangs up before its answer: answering is still fine. */
        g_clear_pointer(&client, qmp_stream_free);
        ITERATE_UNTIL(fx->answered_later == 1);
        other = server_connect_negotiated(fx);
        reply = server_ask(other, "{\"execute\": \"now\"}\n");
        assert_member(reply, "return", "\"now\"");
}

static void
test_server_broadcast(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) negotiated = server_connect_negotiated(fx);
        g_autoptr(QmpStream) fresh = server_connect(fx);
        g_autoptr(JsonObject) event = parse("{\"event\": \"STOP\", \"timestamp\": "
                                            "{\"seconds\": 1, \"microseconds\": 2}}");
        g_autoptr(JsonObject) received = NULL;
        g_autoptr(JsonObject) refused = NULL;

        qmp_server_broadcast(fx->server, event);
        received = receive_iterating(negotiated);
        g_assert_true(json_object_equal(received, event));
        /* The client still negotiating got nothing before its answer. */
        refused = server_ask(fresh, "{\"execute\": \"now\", \"id\": 1}\n");
        g_assert_cmpint(qmp_message_kind(refused), ==, QMP_MESSAGE_ERROR);
        assert_member(refused, "id", "1");
}

/* The most a test writes to a client that is never dropped: far past the
 * server's bound on a client's queue and the sockets' buffers. */
#define FLOOD_MAX (32 * 1024 * 1024)

/* TRUE once the server has dropped @client: a write fails. */
static gboolean
client_dropped(QmpStream *client)
{
        ssize_t n = send(qmp_stream_get_fd(client), "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);

        return n < 0 && (errno == EPIPE || errno == ECONNRESET);
}

/* A client that sends and never reads its answers: the server answers the
 * others meanwhile, and drops it once its queue is full. */
static void
test_server_non_reading_client(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) silent = server_connect_negotiated(fx);
        g_autoptr(QmpStream) other = server_connect_negotiated(fx);
        g_autofree char *name = g_strnfill(4096, 'x');
        g_autofree char *request = g_strdup_printf("{\"execute\": \"%s\"}\n", name);
        gsize len = strlen(request);
        gsize written = 0;
        gsize offset = 0;
        g_autoptr(JsonObject) reply = NULL;

        /* Each answer echoes the long name back. */
        while (written < FLOOD_MAX) {
                ssize_t n = send(qmp_stream_get_fd(silent), request + offset, len - offset,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
                        break;
                if (n < 0) {
                        g_assert_cmpint(errno, ==, EAGAIN);
                        /* The server reads when it runs. */
                        g_main_context_iteration(NULL, TRUE);
                        continue;
                }
                written += (gsize)n;
                offset = (offset + (gsize)n) % len;
                iterate_pending();
        }
        g_assert_cmpuint(written, <, FLOOD_MAX);
        g_assert_true(client_dropped(silent));
        reply = server_ask(other, "{\"execute\": \"now\", \"id\": 1}\n");
        assert_member(reply, "return", "\"now\"");
        assert_member(reply, "id", "1");
}

/* A client that piles up commands while one is handled (here: never
 * answered) is dropped past a bound, not buffered without end. */
static void
test_server_flooding_client(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) flooder = server_connect_negotiated(fx);
        g_autoptr(QmpStream) other = server_connect_negotiated(fx);
        g_autofree char *chunk = g_strnfill(65536, ' ');
        g_autoptr(JsonObject) reply = NULL;
        gsize written = 0;
        gboolean dropped = FALSE;

        send_text(qmp_stream_get_fd(flooder), "{\"execute\": \"never\"}\n");
        ITERATE_UNTIL(fx->calls->len == 1);
        /* Whitespace between commands: it is buffered all the same. */
        memcpy(chunk, "{\"execute\": \"now\"}", 19);
        while (!dropped) {
                ssize_t n = send(qmp_stream_get_fd(flooder), chunk, 65536,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                g_assert_cmpuint(written, <, FLOOD_MAX * 2);
                if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                        dropped = TRUE;
                } else if (n < 0) {
                        g_assert_cmpint(errno, ==, EAGAIN);
                        g_main_context_iteration(NULL, TRUE);
                } else {
                        written += (gsize)n;
                        iterate_pending();
                }
        }
        g_assert_cmpuint(written, >, 2 * QMP_MAX_MESSAGE);
        g_assert_cmpuint(fx->calls->len, ==, 1); /* none of the piled up ones ran */
        reply = server_ask(other, "{\"execute\": \"now\", \"id\": 1}\n");
        assert_member(reply, "return", "\"now\"");
}

/* Events to a client that never reads: dropped too, the others get them. */
static void
test_server_non_reading_events(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) silent = server_connect_negotiated(fx);
        g_autoptr(QmpStream) other = server_connect_negotiated(fx);
        g_autofree char *padding = g_strnfill(4096, 'e');
        g_autofree char *text = g_strdup_printf("{\"event\": \"BIG\", \"data\": {\"p\": \"%s\"}}",
                                                padding);
        g_autoptr(JsonObject) event = parse(text);
        gsize sent = 0;

        while (!client_dropped(silent)) {
                g_assert_cmpuint(sent, <, FLOOD_MAX);
                qmp_server_broadcast(fx->server, event);
                sent += strlen(text);
                /* The other one reads as they come. */
                g_clear_pointer(&event, json_object_unref);
                event = receive_iterating(other);
        }
        g_assert_cmpstr(json_object_get_string_member(event, "event"), ==, "BIG");
}

static void
test_server_free(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(QmpStream) client = server_connect_negotiated(fx);
        struct stat st;

        g_assert_cmpint(g_stat(fx->path, &st), ==, 0);
        g_assert_true(S_ISSOCK(st.st_mode));
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
        g_clear_pointer(&fx->server, qmp_server_free);
        g_assert_false(g_file_test(fx->path, G_FILE_TEST_EXISTS));
        /* Its clients see the end. */
        expect_eof_iterating(client);
}

static void
test_server_stale_socket(ServerFixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) greeting = parse(GREETING);
        g_autoptr(QmpServer) second = NULL;
        g_autoptr(QmpStream) client = NULL;
        g_autoptr(JsonObject) reply = NULL;

        /* A second server on the same path replaces the socket file. */
        second = qmp_server_new(fx->path, greeting, server_command, fx, &error);
        g_assert_no_error(error);
        client = server_connect_negotiated(fx);
        reply = server_ask(client, "{\"execute\": \"now\"}\n");
        assert_member(reply, "return", "\"now\"");
        g_clear_pointer(&client, qmp_stream_free);
        g_clear_pointer(&second, qmp_server_free);
}

static void
test_server_bad_path(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) greeting = parse(GREETING);
        g_autoptr(QmpServer) server = qmp_server_new("/nonexistent/dir/qmp.sock", greeting,
                                                     server_command, NULL, &error);

        g_assert_null(server);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "/nonexistent/dir/qmp.sock"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/tools/qmp/message/kinds", test_parse_kinds);
        g_test_add_func("/tools/qmp/message/not-object", test_parse_not_object);
        g_test_add_func("/tools/qmp/message/length", test_parse_length);
        g_test_add_func("/tools/qmp/message/error-desc", test_error_desc);
        g_test_add_func("/tools/qmp/message/build", test_build);
        g_test_add_func("/tools/qmp/message/error-from-gerror", test_error_from_gerror);

#define ADD_STREAM(path, func) \
        g_test_add(path, StreamFixture, NULL, stream_setup, func, stream_teardown)
        ADD_STREAM("/tools/qmp/stream/several", test_stream_several);
        ADD_STREAM("/tools/qmp/stream/split", test_stream_split);
        ADD_STREAM("/tools/qmp/stream/objects-not-lines", test_stream_objects_not_lines);
        ADD_STREAM("/tools/qmp/stream/strings", test_stream_strings);
        ADD_STREAM("/tools/qmp/stream/resync", test_stream_resync);
        ADD_STREAM("/tools/qmp/stream/depth", test_stream_depth);
        ADD_STREAM("/tools/qmp/stream/crlf-blank", test_stream_crlf_blank);
        ADD_STREAM("/tools/qmp/stream/bad-line", test_stream_bad_line);
        ADD_STREAM("/tools/qmp/stream/eof", test_stream_eof);
        ADD_STREAM("/tools/qmp/stream/receive", test_stream_receive);
        ADD_STREAM("/tools/qmp/stream/receive-timeout", test_stream_receive_timeout);
        ADD_STREAM("/tools/qmp/stream/send", test_stream_send);

        g_test_add_func("/tools/qmp/client/execute", test_client_execute);
        g_test_add_func("/tools/qmp/client/error-desc", test_client_error_desc);
        g_test_add_func("/tools/qmp/client/error-carried", test_client_error_carried);
        g_test_add_func("/tools/qmp/client/error-malformed", test_client_error_malformed);
        g_test_add_func("/tools/qmp/client/no-greeting", test_client_no_greeting);
        g_test_add_func("/tools/qmp/client/silent-close", test_client_silent_close);
        g_test_add_func("/tools/qmp/client/capabilities-refused",
                        test_client_capabilities_refused);
        g_test_add_func("/tools/qmp/client/peer-closes", test_client_peer_closes);
        g_test_add_func("/tools/qmp/client/no-socket", test_client_no_socket);

        g_test_add_func("/tools/qmp/monitor/handshake", test_monitor_handshake);
        g_test_add_func("/tools/qmp/monitor/trace", test_monitor_trace);
        g_test_add_func("/tools/qmp/monitor/no-greeting", test_monitor_no_greeting);
        g_test_add_func("/tools/qmp/monitor/handshake-timeout", test_monitor_handshake_timeout);
        g_test_add_func("/tools/qmp/monitor/execute-error", test_monitor_execute_error);
        g_test_add_func("/tools/qmp/monitor/forward-ids", test_monitor_forward_ids);
        g_test_add_func("/tools/qmp/monitor/execute-while-forwarding",
                        test_monitor_execute_while_forwarding);
        g_test_add_func("/tools/qmp/monitor/execute-leaves-buffered",
                        test_monitor_execute_leaves_buffered);
        g_test_add_func("/tools/qmp/monitor/framing", test_monitor_framing);
        g_test_add_func("/tools/qmp/monitor/closed", test_monitor_closed);
        g_test_add_func("/tools/qmp/monitor/free-pending", test_monitor_free_pending);
        g_test_add_func("/tools/qmp/monitor/call", test_monitor_call);
        g_test_add_func("/tools/qmp/monitor/call-timeout", test_monitor_call_timeout);
        g_test_add_func("/tools/qmp/monitor/call-eof", test_monitor_call_eof);

#define ADD_SERVER(path, func) \
        g_test_add(path, ServerFixture, NULL, server_setup, func, server_teardown)
        ADD_SERVER("/tools/qmp/server/greeting", test_server_greeting);
        ADD_SERVER("/tools/qmp/server/trace", test_server_trace);
        ADD_SERVER("/tools/qmp/server/negotiation", test_server_negotiation);
        ADD_SERVER("/tools/qmp/server/no-oob", test_server_no_oob);
        ADD_SERVER("/tools/qmp/server/framing", test_server_framing);
        ADD_SERVER("/tools/qmp/server/ids-arguments", test_server_ids_arguments);
        ADD_SERVER("/tools/qmp/server/bad-input", test_server_bad_input);
        ADD_SERVER("/tools/qmp/server/error-carried", test_server_error_carried);
        ADD_SERVER("/tools/qmp/server/later-keeps-order", test_server_later_keeps_order);
        ADD_SERVER("/tools/qmp/server/later-client-gone", test_server_later_client_gone);
        ADD_SERVER("/tools/qmp/server/broadcast", test_server_broadcast);
        ADD_SERVER("/tools/qmp/server/non-reading-client", test_server_non_reading_client);
        ADD_SERVER("/tools/qmp/server/non-reading-events", test_server_non_reading_events);
        ADD_SERVER("/tools/qmp/server/flooding-client", test_server_flooding_client);
        ADD_SERVER("/tools/qmp/server/free", test_server_free);
        ADD_SERVER("/tools/qmp/server/stale-socket", test_server_stale_socket);
        g_test_add_func("/tools/qmp/server/bad-path", test_server_bad_path);

        return g_test_run();
}
