/* vmlock: what a detached guest without --log writes, drained and its end kept. */
#define G_LOG_DOMAIN "vmlock-supervisor"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#endif

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <vmlock/error.h>

#include "supervisor/guest_output.h"

/* What a failed start quotes: QEMU says why in a line or two. */
#define TAIL_LINES 5
#define KEEP_BYTES 4096
/* Room for what PROGRAM writes before the supervisor drains: its startup. */
#define PIPE_BYTES (1024 * 1024)

struct GuestOutput {
        int reader;
        int writer;
        guint watch;
        GString *kept; /* the end of what was read, at most KEEP_BYTES */
};

GuestOutput *
guest_output_new(GError **error)
{
        g_autoptr(GuestOutput) output = g_new0(GuestOutput, 1);
        int fds[2];

        output->reader = output->writer = -1;
        output->kept = g_string_new(NULL);
        if (pipe2(fds, O_CLOEXEC) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot create a pipe for the guest's output: %s",
                            g_strerror(saved));
                return NULL;
        }
        output->reader = fds[0];
        output->writer = fds[1];
        /* Best effort: a smaller pipe only fills sooner. */
        (void)fcntl(output->writer, F_SETPIPE_SZ, PIPE_BYTES);
        if (!g_unix_set_fd_nonblocking(output->reader, TRUE, error))
                return NULL;
        return g_steal_pointer(&output);
}

int
guest_output_get_writer(const GuestOutput *output)
{
        return output->writer;
}

void
guest_output_close_writer(GuestOutput *output)
{
        if (output->writer >= 0)
                close(output->writer);
        output->writer = -1;
}

/* FALSE once the pipe has ended (every writer gone) or failed. */
static gboolean
read_available(GuestOutput *output)
{
        char buf[4096];

        for (;;) {
                ssize_t n = read(output->reader, buf, sizeof(buf));

                if (n > 0) {
                        g_string_append_len(output->kept, buf, n);
                        if (output->kept->len > KEEP_BYTES)
                                g_string_erase(output->kept, 0,
                                               (gssize)(output->kept->len - KEEP_BYTES));
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                return n < 0 && errno == EAGAIN;
        }
}

char *
guest_output_tail(GuestOutput *output)
{
        g_autofree char *text = NULL;
        const char *start;
        int lines = 0;

        read_available(output);
        text = g_strstrip(g_strdup(output->kept->str));
        if (!*text)
                return NULL;
        for (start = text + strlen(text); start > text; start--) {
                if (start[-1] == '\n' && ++lines == TAIL_LINES)
                        break;
        }
        return g_strdup(start);
}

static gboolean
drain(int fd, GIOCondition condition, gpointer user_data)
{
        GuestOutput *output = user_data;

        if (read_available(output))
                return G_SOURCE_CONTINUE;
        output->watch = 0;
        return G_SOURCE_REMOVE;
}

void
guest_output_drain(GuestOutput *output)
{
        if (!output->watch)
                output->watch = g_unix_fd_add(output->reader, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                              drain, output);
}

void
guest_output_free(GuestOutput *output)
{
        if (!output)
                return;
        if (output->watch)
                g_source_remove(output->watch);
        guest_output_close_writer(output);
        if (output->reader >= 0)
                close(output->reader);
        g_string_free(output->kept, TRUE);
        g_free(output);
}
