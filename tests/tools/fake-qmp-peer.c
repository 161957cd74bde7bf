/* vmlock tests: a fake QMP peer in a thread, following a script. */
#define _GNU_SOURCE /* accept4 */

#include "config-build.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-qmp-peer.h"
#include "util/fd_util.h"
#include "util/qmp.h"

static char *
substitute_ids(const char *text, GPtrArray *received)
{
        GString *out = g_string_new(text);

        /* From the last: "$1" must not eat the start of "$12". */
        for (guint i = received->len; i-- > 0;) {
                g_autofree char *mark = g_strdup_printf("$%u", i);
                JsonNode *id = json_object_get_member(g_ptr_array_index(received, i), "id");
                g_autofree char *text_id = id ? json_to_string(id, FALSE) : g_strdup("null");

                g_string_replace(out, mark, text_id, 0);
        }
        return g_string_free(out, FALSE);
}

/* A "=" step: QEMU takes its time, until the test says. */
static void
hold(FakePeer *fake)
{
        gint64 deadline = g_get_monotonic_time() + FAKE_QMP_PEER_WAIT_MS * G_TIME_SPAN_MILLISECOND;

        g_mutex_lock(&fake->lock);
        fake->held = TRUE;
        g_cond_broadcast(&fake->cond);
        while (fake->releases == 0)
                g_assert_true(g_cond_wait_until(&fake->cond, &fake->lock, deadline));
        fake->releases--;
        fake->held = FALSE;
        g_mutex_unlock(&fake->lock);
}

void
fake_peer_wait_held(FakePeer *fake)
{
        gint64 deadline = g_get_monotonic_time() + FAKE_QMP_PEER_WAIT_MS * G_TIME_SPAN_MILLISECOND;

        g_mutex_lock(&fake->lock);
        while (!fake->held)
                g_assert_true(g_cond_wait_until(&fake->cond, &fake->lock, deadline));
        g_mutex_unlock(&fake->lock);
}

void
fake_peer_release(FakePeer *fake)
{
        g_mutex_lock(&fake->lock);
        fake->releases++;
        g_cond_broadcast(&fake->cond);
        g_mutex_unlock(&fake->lock);
}

static gpointer
fake_peer_run(gpointer data)
{
        FakePeer *fake = data;
        g_autoptr(QmpStream) stream = NULL;
        int fd = fake->fd;

        if (fake->listen_fd >= 0) {
                struct pollfd pfd = { .fd = fake->listen_fd, .events = POLLIN };

                g_assert_cmpint(poll(&pfd, 1, FAKE_QMP_PEER_WAIT_MS), ==, 1);
                fd = accept4(fake->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                g_assert_cmpint(fd, >=, 0);
        }
        stream = qmp_stream_new(fd);
        for (const char *const *step = fake->script; *step; step++) {
                if (g_str_has_prefix(*step, "> ")) {
                        g_autoptr(GError) error = NULL;
                        JsonObject *command = qmp_stream_receive(stream, FAKE_QMP_PEER_WAIT_MS,
                                                                 &error);

                        g_assert_no_error(error);
                        g_assert_cmpint(qmp_message_kind(command), ==, QMP_MESSAGE_COMMAND);
                        g_assert_cmpstr(json_object_get_string_member(command, "execute"), ==,
                                        *step + 2);
                        g_ptr_array_add(fake->received, command);
                } else if (g_str_equal(*step, "=")) {
                        hold(fake);
                } else {
                        g_autofree char *text = NULL;

                        g_assert_true(g_str_has_prefix(*step, "< "));
                        text = substitute_ids(*step + 2, fake->received);
                        g_assert_true(fd_write_all(fd, text, strlen(text)));
                }
        }
        return NULL;
}

int
fake_peer_start_pair(FakePeer *fake, const char *const *script)
{
        int fds[2];

        memset(fake, 0, sizeof(*fake));
        g_mutex_init(&fake->lock);
        g_cond_init(&fake->cond);
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        fake->fd = fds[1];
        fake->listen_fd = -1;
        fake->script = script;
        fake->received = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
        fake->thread = g_thread_new("fake-peer", fake_peer_run, fake);
        return fds[0];
}

void
fake_peer_start_listening(FakePeer *fake, const char *const *script)
{
        g_autoptr(GError) error = NULL;

        memset(fake, 0, sizeof(*fake));
        g_mutex_init(&fake->lock);
        g_cond_init(&fake->cond);
        fake->dir = g_dir_make_tmp("vmlock-test-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        fake->path = g_build_filename(fake->dir, "qmp.sock", NULL);
        fake->listen_fd = unix_socket_listen(fake->path, &error);
        g_assert_no_error(error);
        fake->fd = -1;
        fake->script = script;
        fake->received = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
        fake->thread = g_thread_new("fake-peer", fake_peer_run, fake);
}

void
fake_peer_join(FakePeer *fake)
{
        g_thread_join(g_steal_pointer(&fake->thread));
}

void
fake_peer_clear(FakePeer *fake)
{
        if (fake->thread)
                fake_peer_join(fake);
        if (fake->listen_fd >= 0)
                close(fake->listen_fd);
        if (fake->path) {
                g_unlink(fake->path);
                g_rmdir(fake->dir);
        }
        g_free(fake->path);
        g_free(fake->dir);
        g_ptr_array_unref(fake->received);
        g_mutex_clear(&fake->lock);
        g_cond_clear(&fake->cond);
}
