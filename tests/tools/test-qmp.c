/* vmlock: tests of the minimal QMP client (tools/qmp.c) against a fake QEMU. */
#define _GNU_SOURCE /* pipe2, accept4 */

#include "config-build.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/error.h>

#include "qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, " \
                 "\"capabilities\": [\"oob\"]}}\r\n"
#define RETURN_OK "{\"return\": {}}\r\n"

/* What the fake QEMU says to each command it gets. */
typedef struct {
        const char *greeting;        /* sent on connect */
        const char *on_capabilities; /* reply to qmp_capabilities */
        const char *on_command;      /* reply to the command; NULL: close at once */
} FakeScript;

typedef struct {
        int listen_fd;
        char *dir;
        char *path;
        const FakeScript *script;
        GThread *thread;
        GPtrArray *received; /* the lines the client sent */
} FakeQemu;

static void
fake_send(int fd, const char *text)
{
        gsize len = strlen(text);

        g_assert_cmpint(send(fd, text, len, MSG_NOSIGNAL), ==, (gssize)len);
}

static char *
fake_read_line(int fd)
{
        g_autoptr(GString) line = g_string_new(NULL);
        char c;

        while (read(fd, &c, 1) == 1) {
                if (c == '\n')
                        return g_string_free(g_steal_pointer(&line), FALSE);
                g_string_append_c(line, c);
        }
        return NULL;
}

static gpointer
fake_thread(gpointer data)
{
        FakeQemu *fake = data;
        int fd = accept4(fake->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        char *line;

        g_assert_cmpint(fd, >=, 0);
        fake_send(fd, fake->script->greeting);
        line = fake_read_line(fd);
        if (line) {
                g_ptr_array_add(fake->received, line);
                fake_send(fd, fake->script->on_capabilities);
                line = fake_read_line(fd);
                if (line) {
                        g_ptr_array_add(fake->received, line);
                        if (fake->script->on_command)
                                fake_send(fd, fake->script->on_command);
                }
        }
        close(fd);
        return NULL;
}

static FakeQemu *
fake_qemu_start(const FakeScript *script)
{
        FakeQemu *fake = g_new0(FakeQemu, 1);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        g_autoptr(GError) error = NULL;

        fake->dir = g_dir_make_tmp("vmlock-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        fake->path = g_build_filename(fake->dir, "qmp.sock", NULL);
        g_strlcpy(addr.sun_path, fake->path, sizeof(addr.sun_path));
        fake->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fake->listen_fd, >=, 0);
        g_assert_cmpint(bind(fake->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(fake->listen_fd, 1), ==, 0);
        fake->script = script;
        fake->received = g_ptr_array_new_with_free_func(g_free);
        fake->thread = g_thread_new("fake-qemu", fake_thread, fake);
        return fake;
}

/* Waits until the fake QEMU is done with its client. */
static void
fake_qemu_wait(FakeQemu *fake)
{
        if (fake->thread)
                g_thread_join(fake->thread);
        fake->thread = NULL;
}

static void
fake_qemu_free(FakeQemu *fake)
{
        fake_qemu_wait(fake);
        close(fake->listen_fd);
        g_unlink(fake->path);
        g_rmdir(fake->dir);
        g_free(fake->path);
        g_free(fake->dir);
        g_ptr_array_unref(fake->received);
        g_free(fake);
}

static void
test_stop(void)
{
        static const FakeScript script = {
                GREETING,
                RETURN_OK,
                /* QEMU sends events before the answer. */
                "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n"
                RETURN_OK,
        };
        FakeQemu *fake = fake_qemu_start(&script);
        g_autoptr(GError) error = NULL;

        g_assert_true(qmp_execute(fake->path, "stop", &error));
        g_assert_no_error(error);
        fake_qemu_wait(fake);
        g_assert_cmpuint(fake->received->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(fake->received, 0), ==,
                        "{\"execute\": \"qmp_capabilities\"}");
        g_assert_cmpstr(g_ptr_array_index(fake->received, 1), ==, "{\"execute\": \"stop\"}");
        fake_qemu_free(fake);
}

static void
test_refused(void)
{
        static const FakeScript script = {
                GREETING,
                RETURN_OK,
                "{\"error\": {\"class\": \"GenericError\", "
                "\"desc\": \"Guest is \\\"busy\\\"\\u0021\"}}\r\n",
        };
        FakeQemu *fake = fake_qemu_start(&script);
        g_autoptr(GError) error = NULL;

        g_assert_false(qmp_execute(fake->path, "cont", &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL);
        g_assert_nonnull(strstr(error->message, "'cont'"));
        g_assert_nonnull(strstr(error->message, "Guest is \"busy\"!"));
        g_assert_nonnull(strstr(error->message, fake->path));
        fake_qemu_free(fake);
}

/* QEMU may exit on "quit" before answering: that is success, for quit only. */
static void
test_quit_closes(void)
{
        static const FakeScript script = { GREETING, RETURN_OK, NULL };
        FakeQemu *fake = fake_qemu_start(&script);
        g_autoptr(GError) error = NULL;

        g_assert_true(qmp_execute(fake->path, "quit", &error));
        g_assert_no_error(error);
        fake_qemu_free(fake);

        fake = fake_qemu_start(&script);
        g_assert_false(qmp_execute(fake->path, "stop", &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "closed"));
        fake_qemu_free(fake);
}

static void
test_not_qmp(void)
{
        static const FakeScript script = { "SSH-2.0-OpenSSH\r\n", RETURN_OK, RETURN_OK };
        FakeQemu *fake = fake_qemu_start(&script);
        g_autoptr(GError) error = NULL;

        g_assert_false(qmp_execute(fake->path, "stop", &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "does not speak QMP"));
        fake_qemu_free(fake);
}

static void
test_no_socket(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(qmp_execute("/nonexistent/qmp.sock", "stop", &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "/nonexistent/qmp.sock"));
}

static void
test_classify(void)
{
        g_autofree char *desc = NULL;

        g_assert_cmpint(qmp_message_classify(GREETING, NULL), ==, QMP_MESSAGE_GREETING);
        g_assert_cmpint(qmp_message_classify("  { \"return\" : {}}", NULL), ==,
                        QMP_MESSAGE_RETURN);
        g_assert_cmpint(qmp_message_classify("{\"event\": \"RESUME\"}", NULL), ==,
                        QMP_MESSAGE_EVENT);
        g_assert_cmpint(qmp_message_classify("{\"timestamp\": {}, \"event\": \"X\"}", NULL), ==,
                        QMP_MESSAGE_EVENT);
        g_assert_cmpint(qmp_message_classify("", NULL), ==, QMP_MESSAGE_UNKNOWN);
        g_assert_cmpint(qmp_message_classify("[1]", NULL), ==, QMP_MESSAGE_UNKNOWN);
        g_assert_cmpint(qmp_message_classify("{\"unterminated", NULL), ==, QMP_MESSAGE_UNKNOWN);
        g_assert_cmpint(qmp_message_classify("{\"error\": {\"class\": \"X\"}}", &desc), ==,
                        QMP_MESSAGE_ERROR);
        g_assert_cmpstr(desc, ==, "unknown error");
        g_clear_pointer(&desc, g_free);
        g_assert_cmpint(qmp_message_classify("{\"error\": {\"desc\": \"a\\\\b\\nc\"}}", &desc),
                        ==, QMP_MESSAGE_ERROR);
        g_assert_cmpstr(desc, ==, "a\\b\nc");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/tools/qmp/classify", test_classify);
        g_test_add_func("/tools/qmp/stop", test_stop);
        g_test_add_func("/tools/qmp/refused", test_refused);
        g_test_add_func("/tools/qmp/quit-closes", test_quit_closes);
        g_test_add_func("/tools/qmp/not-qmp", test_not_qmp);
        g_test_add_func("/tools/qmp/no-socket", test_no_socket);

        return g_test_run();
}
