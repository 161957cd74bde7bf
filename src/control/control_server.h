/* vmlock: a QMP server on a unix socket, run in a GLib main loop.
 *
 * The supervisor serves two: its control socket (the vmlock commands) and
 * its QMP proxy (other tools' QMP, passed on to QEMU). The server sends the
 * greeting and answers "qmp_capabilities"; every other command goes to the
 * command function, with capability negotiation enforced as QEMU does.
 *
 * It never waits for a client: sockets are non-blocking, each client's
 * output is queued, and a client whose queue passes a bound (it stopped
 * reading) is dropped.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct QmpServer QmpServer;
typedef struct QmpServerClient QmpServerClient;

/* Handles one command. Returns the reply (without id: the server adds the
 * client's), or NULL when the reply comes later through
 * qmp_server_client_reply() (keep a reference to @client until then). */
typedef JsonObject *(*QmpServerCommandFunc)(QmpServerClient *client, const char *command,
                                            JsonObject *arguments, gpointer user_data);

/* Listens on @path (mode 0600; a stale socket there is replaced). @greeting
 * is sent to each client as it connects, with an empty capabilities list:
 * the server offers none (no "oob": it answers in order), and refuses
 * qmp_capabilities asking for one, and "exec-oob", as QEMU does. */
QmpServer *qmp_server_new(const char *path, JsonObject *greeting, QmpServerCommandFunc func,
                          gpointer user_data, GError **error);
/* Closes every connection and removes the socket file. */
void qmp_server_free(QmpServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpServer, qmp_server_free)

/* Sees every message the server receives from (@received) or sends to
 * client number @client (counted from 1 as they connect), for a trace. */
typedef void (*QmpServerTraceFunc)(guint client, gboolean received, JsonObject *message,
                                   gpointer user_data);
void qmp_server_set_trace(QmpServer *server, QmpServerTraceFunc func, gpointer user_data);

/* Sends @event to every client past capability negotiation. */
void qmp_server_broadcast(QmpServer *server, JsonObject *event);

QmpServerClient *qmp_server_client_ref(QmpServerClient *client);
void qmp_server_client_unref(QmpServerClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpServerClient, qmp_server_client_unref)
/* The id the command being handled came with (NULL: none). */
JsonNode *qmp_server_client_get_id(QmpServerClient *client);
/* Answers the client's oldest unanswered command (QMP answers in order);
 * a client gone meanwhile is fine. Takes @reply. */
void qmp_server_client_reply(QmpServerClient *client, JsonObject *reply);

G_END_DECLS
