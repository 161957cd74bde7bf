/* vmlock: a QMP server on a unix socket, run in a GLib main loop. */
#define G_LOG_DOMAIN "vmlock-control"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif

#include "config-build.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <vmlock/error.h>

#include "control/control_server.h"
#include "util/fd_util.h"
#include "util/qmp.h"

/* A client's unsent output is bounded: past this, it has stopped reading and
 * is dropped; the server never waits for it. Far above any one answer (QEMU's
 * query-qmp-schema is about 200 KiB), which always gets queued. */
#define MAX_QUEUED_OUTPUT (1024 * 1024)
/* Commands wait while one is handled (answers keep their order); a client
 * that sends more than this meanwhile is dropped: room for the largest
 * message QMP allows, and then some. */
#define MAX_QUEUED_INPUT (2 * QMP_MAX_MESSAGE)
/* Sent bytes are cut from the queue's front once this many have gathered. */
#define COMPACT_AT (64 * 1024)

struct QmpServer {
        char *path;
        int listen_fd;
        guint listen_watch;
        JsonObject *greeting;
        QmpServerCommandFunc func;
        gpointer user_data;
        GPtrArray *clients; /* QmpServerClient *, one reference each */
        guint next_client_number;
        QmpServerTraceFunc trace;
        gpointer trace_data;
};

struct QmpServerClient {
        gint refs;
        QmpServer *server; /* NULL once disconnected */
        guint number;      /* the server's count of clients, for its trace */
        QmpStream *stream;     /* non-blocking */
        guint watch;
        GString *output;       /* messages not yet taken by the socket, from output_sent on */
        gsize output_sent;
        guint output_watch;    /* waiting for the socket to take more */
        gboolean negotiated;
        /* A command is being handled: the next ones wait, so that answers
         * keep the order of the commands, as QMP promises. */
        gboolean busy;
        JsonNode *id; /* of the command being handled */
        guint resume_idle;
};

static void client_disconnect(QmpServerClient *client);
static void client_process(QmpServerClient *client);

QmpServerClient *
qmp_server_client_ref(QmpServerClient *client)
{
        g_atomic_int_inc(&client->refs);
        return client;
}

void
qmp_server_client_unref(QmpServerClient *client)
{
        if (!client || !g_atomic_int_dec_and_test(&client->refs))
                return;
        qmp_stream_free(client->stream);
        g_string_free(client->output, TRUE);
        if (client->id)
                json_node_unref(client->id);
        g_free(client);
}

JsonNode *
qmp_server_client_get_id(QmpServerClient *client)
{
        return client->id;
}

static gboolean client_writable(int fd, GIOCondition condition, gpointer data);

/* Hands the socket what it takes now; the rest waits for it to be writable.
 * FALSE when the client is gone. */
static gboolean
client_flush(QmpServerClient *client)
{
        int fd = qmp_stream_get_fd(client->stream);

        while (client->output_sent < client->output->len) {
                ssize_t n = send(fd, client->output->str + client->output_sent,
                                 client->output->len - client->output_sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (n <= 0) {
                        g_debug("QMP client of %s: %s", client->server->path,
                                n < 0 ? g_strerror(errno) : "closed");
                        return FALSE;
                }
                client->output_sent += (gsize)n;
        }
        if (client->output_sent == client->output->len) {
                g_string_truncate(client->output, 0);
                client->output_sent = 0;
                if (client->output_watch)
                        g_source_remove(client->output_watch);
                client->output_watch = 0;
                return TRUE;
        }
        if (client->output_sent >= COMPACT_AT) {
                g_string_erase(client->output, 0, (gssize)client->output_sent);
                client->output_sent = 0;
        }
        if (!client->output_watch)
                client->output_watch = g_unix_fd_add(fd, G_IO_OUT, client_writable, client);
        return TRUE;
}

static gboolean
client_writable(int fd, GIOCondition condition, gpointer data)
{
        QmpServerClient *client = data;

        if (client_flush(client))
                return client->output_watch ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        /* The source goes with this return, not with the disconnect. */
        client->output_watch = 0;
        client_disconnect(client);
        return G_SOURCE_REMOVE;
}

/* Queues @message; a client whose queue is full is dropped. */
static void
client_send(QmpServerClient *client, JsonObject *message)
{
        g_autofree char *line = NULL;
        gsize queued;

        if (!client->server)
                return;
        queued = client->output->len - client->output_sent;
        if (queued > MAX_QUEUED_OUTPUT) {
                g_message("a client of %s does not read its answers (%" G_GSIZE_FORMAT
                          " bytes unsent): dropped",
                          client->server->path, queued);
                client_disconnect(client);
                return;
        }
        if (client->server->trace)
                client->server->trace(client->number, FALSE, message,
                                      client->server->trace_data);
        line = qmp_message_to_line(message);
        g_string_append(client->output, line);
        if (!client_flush(client))
                client_disconnect(client);
}

static gboolean
client_resume(gpointer data)
{
        QmpServerClient *client = data;

        client->resume_idle = 0;
        client_process(client);
        return G_SOURCE_REMOVE;
}

/* Sends the answer to the command being handled. Takes @reply. */
static void
client_answer(QmpServerClient *client, JsonObject *reply)
{
        if (client->id)
                json_object_set_member(reply, "id", json_node_ref(client->id));
        g_clear_pointer(&client->id, json_node_unref);
        client->busy = FALSE;
        client_send(client, reply);
        json_object_unref(reply);
}

void
qmp_server_client_reply(QmpServerClient *client, JsonObject *reply)
{
        client_answer(client, reply);
        /* Commands that arrived meanwhile: from the main loop, not from
         * inside whoever answered. */
        if (client->server && !client->resume_idle)
                client->resume_idle = g_idle_add_full(G_PRIORITY_DEFAULT, client_resume,
                                                      qmp_server_client_ref(client),
                                                      (GDestroyNotify)qmp_server_client_unref);
}

/* qmp_capabilities' "enable": the server offers no capability (its
 * answers keep the commands' order), so none may be asked for. FALSE with
 * the first one asked for in *ret_refused. */
static gboolean
capabilities_none_enabled(JsonNode *arguments, const char **ret_refused)
{
        JsonObject *object = arguments ? json_node_get_object(arguments) : NULL;
        JsonNode *enable = object ? json_object_get_member(object, "enable") : NULL;
        JsonArray *array = enable && JSON_NODE_HOLDS_ARRAY(enable) ? json_node_get_array(enable)
                                                                   : NULL;
        JsonNode *first;

        if (!array || json_array_get_length(array) == 0)
                return TRUE;
        first = json_array_get_element(array, 0);
        *ret_refused = json_node_get_value_type(first) == G_TYPE_STRING
                               ? json_node_get_string(first)
                               : "(not a string)";
        return FALSE;
}

/* @greeting with its capabilities list emptied: see above. */
static JsonObject *
greeting_without_capabilities(JsonObject *greeting)
{
        JsonNode *copy = json_node_copy(json_object_get_member(greeting, "QMP"));
        JsonObject *message = json_object_new();

        if (copy && JSON_NODE_HOLDS_OBJECT(copy))
                json_object_set_array_member(json_node_get_object(copy), "capabilities",
                                             json_array_new());
        if (copy)
                json_object_set_member(message, "QMP", copy);
        return message;
}

static JsonObject *
client_handle(QmpServerClient *client, JsonObject *message)
{
        JsonNode *arguments_node = json_object_get_member(message, "arguments");
        JsonNode *execute = json_object_get_member(message, "execute");
        const char *refused = NULL;
        const char *command;

        /* Out-of-band execution is a capability the server does not offer. */
        if (json_object_has_member(message, "exec-oob"))
                return qmp_error_new("GenericError", NULL,
                                     "QMP input member 'exec-oob' is unexpected");
        if (!execute || json_node_get_value_type(execute) != G_TYPE_STRING)
                return qmp_error_new("GenericError", NULL,
                                     "QMP input must be a command object with an 'execute' "
                                     "string");
        if (arguments_node && !JSON_NODE_HOLDS_OBJECT(arguments_node))
                return qmp_error_new("GenericError", NULL, "QMP 'arguments' must be an object");
        command = json_node_get_string(execute);
        if (g_str_equal(command, "qmp_capabilities")) {
                if (client->negotiated)
                        return qmp_error_new("CommandNotFound", NULL,
                                             "Capabilities negotiation is already complete, "
                                             "command ignored");
                if (!capabilities_none_enabled(arguments_node, &refused))
                        return qmp_error_new("GenericError", NULL,
                                             "Capability '%s' not available", refused);
                client->negotiated = TRUE;
                return qmp_return_new(NULL, NULL);
        }
        if (!client->negotiated)
                return qmp_error_new("CommandNotFound", NULL,
                                     "Expecting capabilities negotiation with "
                                     "'qmp_capabilities'");
        return client->server->func(client, command,
                                    arguments_node ? json_node_get_object(arguments_node) : NULL,
                                    client->server->user_data);
}

/* Handles the buffered commands, until one is answered later. */
static void
client_process(QmpServerClient *client)
{
        /* A command may end the connection, and with it the last reference. */
        qmp_server_client_ref(client);
        while (client->server && !client->busy) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) message = qmp_stream_next(client->stream, &error);
                JsonObject *reply;

                if (!message && !error)
                        break;
                client->busy = TRUE;
                if (error) {
                        reply = qmp_error_new("GenericError", NULL, "%s", error->message);
                } else {
                        if (client->server->trace)
                                client->server->trace(client->number, TRUE, message,
                                                      client->server->trace_data);
                        if (json_object_has_member(message, "id"))
                                client->id = json_node_copy(
                                        json_object_get_member(message, "id"));
                        reply = client_handle(client, message);
                }
                if (reply)
                        client_answer(client, reply);
        }
        qmp_server_client_unref(client);
}

static gboolean
client_readable(int fd, GIOCondition condition, gpointer data)
{
        QmpServerClient *client = data;
        /* Handling a command may drop the client, and with it the last
         * reference: keep it until we are done here. */
        g_autoptr(QmpServerClient) hold = qmp_server_client_ref(client);
        g_autoptr(GError) error = NULL;

        if (!qmp_stream_fill(client->stream, &error)) {
                client->watch = 0;
                client_disconnect(client);
                return G_SOURCE_REMOVE;
        }
        client_process(client);
        if (client->server && qmp_stream_get_buffered(client->stream) > MAX_QUEUED_INPUT) {
                g_message("a client of %s sent %" G_GSIZE_FORMAT " bytes of commands not yet "
                          "handled: dropped",
                          client->server->path, qmp_stream_get_buffered(client->stream));
                client->watch = 0;
                client_disconnect(client);
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

static void
client_disconnect(QmpServerClient *client)
{
        QmpServer *server = client->server;

        if (!server)
                return;
        client->server = NULL;
        if (client->watch)
                g_source_remove(client->watch);
        client->watch = 0;
        if (client->output_watch)
                g_source_remove(client->output_watch);
        client->output_watch = 0;
        if (client->resume_idle)
                g_source_remove(client->resume_idle);
        client->resume_idle = 0;
        shutdown(qmp_stream_get_fd(client->stream), SHUT_RDWR);
        /* Drops the server's reference: last, @client may go with it. */
        g_ptr_array_remove(server->clients, client);
}

static gboolean
server_accept(int fd, GIOCondition condition, gpointer data)
{
        QmpServer *server = data;
        QmpServerClient *client;
        int client_fd;

        /* Non-blocking: a client that stops reading must not stop the server. */
        client_fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client_fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        g_warning("cannot accept on %s: %s", server->path, g_strerror(errno));
                return G_SOURCE_CONTINUE;
        }
        client = g_new0(QmpServerClient, 1);
        client->refs = 1;
        client->server = server;
        client->number = ++server->next_client_number;
        client->stream = qmp_stream_new(client_fd);
        client->output = g_string_new(NULL);
        g_ptr_array_add(server->clients, client);
        client->watch = g_unix_fd_add(client_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, client_readable,
                                      client);
        client_send(client, server->greeting);
        return G_SOURCE_CONTINUE;
}

QmpServer *
qmp_server_new(const char *path, JsonObject *greeting, QmpServerCommandFunc func,
               gpointer user_data, GError **error)
{
        QmpServer *server;
        int fd = unix_socket_listen(path, error);

        if (fd < 0)
                return NULL;
        server = g_new0(QmpServer, 1);
        server->path = g_strdup(path);
        server->listen_fd = fd;
        server->greeting = greeting_without_capabilities(greeting);
        server->func = func;
        server->user_data = user_data;
        server->clients = g_ptr_array_new_with_free_func(
                (GDestroyNotify)qmp_server_client_unref);
        server->listen_watch = g_unix_fd_add(fd, G_IO_IN, server_accept, server);
        return server;
}

void
qmp_server_free(QmpServer *server)
{
        if (!server)
                return;
        while (server->clients->len > 0)
                client_disconnect(g_ptr_array_index(server->clients, 0));
        g_ptr_array_unref(server->clients);
        g_source_remove(server->listen_watch);
        close(server->listen_fd);
        unlink(server->path);
        json_object_unref(server->greeting);
        g_free(server->path);
        g_free(server);
}

void
qmp_server_set_trace(QmpServer *server, QmpServerTraceFunc func, gpointer user_data)
{
        server->trace = func;
        server->trace_data = user_data;
}

void
qmp_server_broadcast(QmpServer *server, JsonObject *event)
{
        /* A client that fails is removed: iterate over a copy. */
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func(
                (GDestroyNotify)qmp_server_client_unref);

        for (guint i = 0; i < server->clients->len; i++)
                g_ptr_array_add(clients,
                                qmp_server_client_ref(g_ptr_array_index(server->clients, i)));
        for (guint i = 0; i < clients->len; i++) {
                QmpServerClient *client = g_ptr_array_index(clients, i);

                if (client->negotiated)
                        client_send(client, event);
        }
}
