/* vmlock: a minimal QMP client for pausing, continuing and stopping QEMU. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "qmp.h"

typedef struct {
        int fd;
        const char *path;
        GString *buf; /* bytes read but not yet returned as lines */
} QmpConn;

static void
qmp_conn_clear(QmpConn *conn)
{
        if (conn->fd >= 0)
                close(conn->fd);
        if (conn->buf)
                g_string_free(conn->buf, TRUE);
}

/* Reads a JSON string starting at the opening quote; returns its decoded
 * value (\uXXXX escapes outside ASCII become '?': only for messages). */
static char *
json_string_parse(const char *p, const char **ret_end)
{
        g_autoptr(GString) out = g_string_new(NULL);

        if (*p != '"')
                return NULL;
        for (p++; *p && *p != '"'; p++) {
                if (*p != '\\') {
                        g_string_append_c(out, *p);
                        continue;
                }
                p++;
                switch (*p) {
                case 'n':
                        g_string_append_c(out, '\n');
                        break;
                case 't':
                        g_string_append_c(out, '\t');
                        break;
                case 'r':
                case 'b':
                case 'f':
                        break;
                case 'u': {
                        char hex[5] = { 0 };
                        guint code;

                        if (strlen(p + 1) < 4)
                                return NULL;
                        memcpy(hex, p + 1, 4);
                        code = (guint)g_ascii_strtoull(hex, NULL, 16);
                        g_string_append_c(out, code < 0x80 ? (char)code : '?');
                        p += 4;
                        break;
                }
                case '\0':
                        return NULL;
                default: /* \" \\ \/ */
                        g_string_append_c(out, *p);
                        break;
                }
        }
        if (*p != '"')
                return NULL;
        if (ret_end)
                *ret_end = p + 1;
        return g_string_free(g_steal_pointer(&out), FALSE);
}

QmpMessageKind
qmp_message_classify(const char *line, char **ret_desc)
{
        g_autofree char *key = NULL;
        const char *p = line;

        while (g_ascii_isspace(*p))
                p++;
        if (*p != '{')
                return QMP_MESSAGE_UNKNOWN;
        p++;
        while (g_ascii_isspace(*p))
                p++;
        key = json_string_parse(p, NULL);
        if (!key)
                return QMP_MESSAGE_UNKNOWN;

        if (g_str_equal(key, "QMP"))
                return QMP_MESSAGE_GREETING;
        if (g_str_equal(key, "return"))
                return QMP_MESSAGE_RETURN;
        if (g_str_equal(key, "event") || g_str_equal(key, "timestamp"))
                return QMP_MESSAGE_EVENT;
        if (g_str_equal(key, "error")) {
                const char *desc = strstr(p, "\"desc\"");
                char *value = NULL;

                if (desc) {
                        desc += strlen("\"desc\"");
                        while (g_ascii_isspace(*desc) || *desc == ':')
                                desc++;
                        value = json_string_parse(desc, NULL);
                }
                if (ret_desc)
                        *ret_desc = value ? value : g_strdup("unknown error");
                else
                        g_free(value);
                return QMP_MESSAGE_ERROR;
        }
        return QMP_MESSAGE_UNKNOWN;
}

static gboolean
qmp_connect(QmpConn *conn, GError **error)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (strlen(conn->path) >= sizeof(addr.sun_path)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "QMP socket path %s is too long", conn->path);
                return FALSE;
        }
        strcpy(addr.sun_path, conn->path);
        conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (conn->fd < 0 || connect(conn->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "cannot connect to QMP socket %s: %s", conn->path,
                            g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* One line from QEMU, without its line end; NULL with @ret_eof set when QEMU
 * closed the connection. */
static char *
qmp_read_line(QmpConn *conn, gboolean *ret_eof, GError **error)
{
        *ret_eof = FALSE;
        for (;;) {
                struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
                const char *nl = memchr(conn->buf->str, '\n', conn->buf->len);
                char chunk[4096];
                ssize_t n;
                int r;

                if (nl) {
                        gsize len = (gsize)(nl - conn->buf->str);
                        char *line = g_strndup(conn->buf->str, len);

                        g_string_erase(conn->buf, 0, (gssize)len + 1);
                        g_strchomp(line);
                        return line;
                }
                r = poll(&pfd, 1, QMP_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QMP socket %s: no answer from QEMU within %d s",
                                    conn->path, QMP_TIMEOUT_MS / 1000);
                        return NULL;
                }
                n = r < 0 ? -1 : read(conn->fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || (n == 0 && conn->buf->len > 0)) {
                        int saved = n < 0 ? errno : EPIPE;

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QMP socket %s: cannot read: %s", conn->path,
                                    g_strerror(saved));
                        return NULL;
                }
                if (n == 0) {
                        *ret_eof = TRUE;
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QMP socket %s: QEMU closed the connection", conn->path);
                        return NULL;
                }
                g_string_append_len(conn->buf, chunk, n);
        }
}

static gboolean
qmp_send(QmpConn *conn, const char *command, GError **error)
{
        g_autofree char *msg = g_strdup_printf("{\"execute\": \"%s\"}\n", command);
        gsize done = 0;
        gsize len = strlen(msg);

        while (done < len) {
                ssize_t n = send(conn->fd, msg + done, len - done, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int saved = errno;

                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QMP socket %s: cannot send '%s': %s", conn->path, command,
                                    g_strerror(saved));
                        return FALSE;
                }
                done += (gsize)n;
        }
        return TRUE;
}

/* Waits for the answer to the last command, skipping events. */
static gboolean
qmp_wait_reply(QmpConn *conn, const char *command, char **ret_reply, gboolean *ret_eof,
               GError **error)
{
        for (;;) {
                g_autofree char *line = qmp_read_line(conn, ret_eof, error);
                g_autofree char *desc = NULL;

                if (!line)
                        return FALSE;
                switch (qmp_message_classify(line, &desc)) {
                case QMP_MESSAGE_RETURN:
                        if (ret_reply)
                                *ret_reply = g_steal_pointer(&line);
                        return TRUE;
                case QMP_MESSAGE_ERROR:
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                    "QEMU refused '%s' (QMP socket %s): %s", command,
                                    conn->path, desc);
                        return FALSE;
                default:
                        break;
                }
        }
}

gboolean
qmp_execute(const char *socket_path, const char *command, GError **error)
{
        return qmp_execute_full(socket_path, command, NULL, error);
}

gboolean
qmp_execute_full(const char *socket_path, const char *command, char **ret_reply,
                 GError **error)
{
        QmpConn conn = { .fd = -1, .path = socket_path, .buf = g_string_new(NULL) };
        g_autofree char *greeting = NULL;
        gboolean eof = FALSE;
        GError *local = NULL;
        gboolean ok = FALSE;

        if (!qmp_connect(&conn, error))
                goto cleanup;
        greeting = qmp_read_line(&conn, &eof, error);
        if (!greeting)
                goto cleanup;
        if (qmp_message_classify(greeting, NULL) != QMP_MESSAGE_GREETING) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "%s does not speak QMP (it said: %.80s)", socket_path, greeting);
                goto cleanup;
        }
        if (!qmp_send(&conn, "qmp_capabilities", error) ||
            !qmp_wait_reply(&conn, "qmp_capabilities", NULL, &eof, error))
                goto cleanup;
        if (!qmp_send(&conn, command, error))
                goto cleanup;
        if (!qmp_wait_reply(&conn, command, ret_reply, &eof, &local)) {
                /* QEMU may exit on "quit" before its answer reaches us. */
                if (eof && g_str_equal(command, "quit")) {
                        g_clear_error(&local);
                        if (ret_reply)
                                *ret_reply = NULL;
                        ok = TRUE;
                } else {
                        g_propagate_error(error, local);
                }
                goto cleanup;
        }
        ok = TRUE;

cleanup:
        qmp_conn_clear(&conn);
        return ok;
}

gboolean
qmp_wait_ready(const char *socket_path, pid_t pid, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + QMP_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

        for (;;) {
                QmpConn conn = { .fd = -1, .path = socket_path };
                GError *local = NULL;
                gboolean connected = qmp_connect(&conn, &local);

                qmp_conn_clear(&conn);
                if (connected)
                        return TRUE;
                if (kill(pid, 0) < 0 || g_get_monotonic_time() >= deadline) {
                        g_propagate_error(error, local);
                        return FALSE;
                }
                g_error_free(local);
                g_usleep(50 * G_TIME_SPAN_MILLISECOND);
        }
}
