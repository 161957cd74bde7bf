/* vmlock: the supervisor's end of QEMU's monitor. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <vmlock/error.h>

#include "qemu/qemu_monitor.h"
#include "qemu/qemu_trace.h"
#include "util/qmp.h"

/* The peer, in the trace. */
#define PEER "QEMU"

/* A command sent and not answered yet: a proxy client's (func), or one of
 * our own (callback or done, with a timeout). */
typedef struct {
        QemuMonitor *monitor;
        guint64 number; /* the order it was sent in */
        char *id;
        QemuMonitorReplyFunc func;
        JsonNode *client_id; /* put back in the answer; may be NULL */
        char *command;       /* ours: named in its error */
        QemuMonitorCallback callback;
        QemuDoneFunc done;
        gpointer user_data;
        guint timeout;
        GError *error;       /* ours, failed before it was sent: for answer_failed() */
} Forward;

struct QemuMonitor {
        QmpStream *stream;
        JsonObject *greeting;
        QemuMonitorEventFunc on_event;
        gpointer user_data;
        guint64 next_id;
        GHashTable *forwards; /* our id string -> Forward (the key is its id) */
        GQueue backlog;       /* messages read while waiting for our own answer */
        guint backlog_idle;
        GQueue failed;        /* our calls that could not be sent, answered from the loop */
        guint failed_idle;
        guint call_timeout_ms;
        gboolean closed;
};

static void
forward_free(Forward *forward)
{
        if (forward->client_id)
                json_node_unref(forward->client_id);
        if (forward->timeout)
                g_source_remove(forward->timeout);
        g_clear_error(&forward->error);
        g_free(forward->command);
        g_free(forward->id);
        g_free(forward);
}

/* Hands @forward its answer: @message (NULL: none) or @error. */
static void
forward_answer(Forward *forward, JsonObject *message, const GError *error)
{
        g_autoptr(GError) refused = NULL;
        JsonNode *ret = NULL;

        if (forward->func) {
                forward->func(error ? NULL : message, forward->user_data);
                return;
        }
        if (!error && qmp_message_kind(message) == QMP_MESSAGE_RETURN) {
                ret = json_object_get_member(message, "return");
        } else if (!error) {
                g_set_error(&refused, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "QEMU refused '%s': %s", forward->command,
                            qmp_message_error_desc(message));
                error = refused;
        }
        if (forward->done)
                forward->done(error, forward->user_data);
        else
                forward->callback(ret, error, forward->user_data);
}

QemuMonitor *
qemu_monitor_new(int fd, QemuMonitorEventFunc on_event, gpointer user_data)
{
        QemuMonitor *monitor = g_new0(QemuMonitor, 1);

        monitor->stream = qmp_stream_new(fd);
        monitor->on_event = on_event;
        monitor->user_data = user_data;
        monitor->forwards = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                  (GDestroyNotify)forward_free);
        g_queue_init(&monitor->backlog);
        g_queue_init(&monitor->failed);
        monitor->call_timeout_ms = QMP_TIMEOUT_MS;
        return monitor;
}

void
qemu_monitor_set_call_timeout(QemuMonitor *monitor, guint timeout_ms)
{
        monitor->call_timeout_ms = timeout_ms;
}

/* Our calls that failed before they were sent, answered now. */
static gboolean
answer_failed(gpointer data)
{
        QemuMonitor *monitor = data;
        Forward *forward;

        monitor->failed_idle = 0;
        while ((forward = g_queue_pop_head(&monitor->failed))) {
                forward_answer(forward, NULL, forward->error);
                forward_free(forward);
        }
        return G_SOURCE_REMOVE;
}

static gint
forward_compare(gconstpointer a, gconstpointer b)
{
        guint64 x = ((const Forward *)a)->number;
        guint64 y = ((const Forward *)b)->number;

        return x < y ? -1 : x > y;
}

/* Answers every command sent and not answered, in the order they were
 * sent: QEMU is gone. */
static void
fail_forwards(QemuMonitor *monitor)
{
        g_autoptr(GList) forwards = NULL;
        GHashTableIter iter;
        gpointer value;

        monitor->closed = TRUE;
        /* Steal them first: a callback may send again. */
        g_hash_table_iter_init(&iter, monitor->forwards);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                forwards = g_list_prepend(forwards, value);
                g_hash_table_iter_steal(&iter);
        }
        forwards = g_list_sort(forwards, forward_compare);
        for (GList *l = forwards; l; l = l->next) {
                Forward *forward = l->data;
                g_autoptr(GError) error = NULL;

                if (!forward->func)
                        g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QEMU's monitor closed before QEMU answered '%s'",
                                    forward->command);
                forward_answer(forward, NULL, error);
                forward_free(forward);
        }
}

void
qemu_monitor_free(QemuMonitor *monitor)
{
        if (!monitor)
                return;
        if (!monitor->closed)
                fail_forwards(monitor);
        /* Their callbacks may call again, and fail again. */
        while (monitor->failed_idle) {
                g_source_remove(monitor->failed_idle);
                answer_failed(monitor);
        }
        if (monitor->backlog_idle)
                g_source_remove(monitor->backlog_idle);
        g_hash_table_destroy(monitor->forwards);
        g_queue_clear_full(&monitor->backlog, (GDestroyNotify)json_object_unref);
        if (monitor->greeting)
                json_object_unref(monitor->greeting);
        qmp_stream_free(monitor->stream);
        g_free(monitor);
}

int
qemu_monitor_get_fd(QemuMonitor *monitor)
{
        return qmp_stream_get_fd(monitor->stream);
}

JsonObject *
qemu_monitor_get_greeting(QemuMonitor *monitor)
{
        return monitor->greeting;
}

gboolean
qemu_monitor_is_closed(QemuMonitor *monitor)
{
        return monitor->closed;
}

gboolean
qemu_monitor_handshake(QemuMonitor *monitor, int timeout_ms, GError **error)
{
        g_autoptr(JsonObject) greeting = qmp_stream_receive(monitor->stream, timeout_ms, error);
        g_autoptr(JsonNode) ret = NULL;

        if (!greeting) {
                g_prefix_error(error, "QEMU's monitor: ");
                return FALSE;
        }
        qemu_trace_message(PEER, QEMU_TRACE_RECEIVED, greeting);
        if (qmp_message_kind(greeting) != QMP_MESSAGE_GREETING) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                                    "QEMU's monitor did not greet with QMP");
                return FALSE;
        }
        monitor->greeting = g_steal_pointer(&greeting);
        ret = qemu_monitor_execute(monitor, "qmp_capabilities", NULL, error);
        return ret != NULL;
}

static char *
take_id(QemuMonitor *monitor)
{
        return g_strdup_printf("vmlock-%" G_GUINT64_FORMAT, ++monitor->next_id);
}

static Forward *
forward_new(QemuMonitor *monitor)
{
        Forward *forward = g_new0(Forward, 1);

        forward->monitor = monitor;
        forward->id = take_id(monitor);
        forward->number = monitor->next_id;
        return forward;
}

static const char *
message_id(JsonObject *message)
{
        JsonNode *id = json_object_get_member(message, "id");

        return id && json_node_get_value_type(id) == G_TYPE_STRING ? json_node_get_string(id)
                                                                    : NULL;
}

static void dispatch_message(QemuMonitor *monitor, JsonObject *message);

/* The messages read from the fd and not handed out yet. */
static void
dispatch_buffered(QemuMonitor *monitor)
{
        while (!monitor->closed) {
                g_autoptr(GError) parse_error = NULL;
                g_autoptr(JsonObject) message = qmp_stream_next(monitor->stream, &parse_error);

                if (parse_error) {
                        g_debug("QEMU's monitor: %s", parse_error->message);
                        continue;
                }
                if (!message)
                        break;
                qemu_trace_message(PEER, QEMU_TRACE_RECEIVED, message);
                dispatch_message(monitor, message);
        }
}

static gboolean
dispatch_backlog(gpointer data)
{
        QemuMonitor *monitor = data;
        JsonObject *message;

        monitor->backlog_idle = 0;
        while ((message = g_queue_pop_head(&monitor->backlog))) {
                dispatch_message(monitor, message);
                json_object_unref(message);
        }
        /* Read along with a synchronous command's answer, after it: the fd
         * may never be readable again for them. */
        dispatch_buffered(monitor);
        return G_SOURCE_REMOVE;
}

/* Answers and events read by a synchronous command go out from the main
 * loop, once that command's caller is done. */
static void
schedule_backlog(QemuMonitor *monitor)
{
        if (!monitor->backlog_idle)
                monitor->backlog_idle = g_idle_add(dispatch_backlog, monitor);
}

JsonNode *
qemu_monitor_execute(QemuMonitor *monitor, const char *command, JsonObject *arguments,
                     GError **error)
{
        g_autoptr(JsonObject) request = qmp_command_new(command, arguments);
        g_autofree char *id = take_id(monitor);

        if (monitor->closed) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "QEMU's monitor is closed: cannot run '%s'", command);
                return NULL;
        }
        json_object_set_string_member(request, "id", id);
        qemu_trace_message(PEER, QEMU_TRACE_SENT, request);
        if (!qmp_stream_send(monitor->stream, request, error))
                return NULL;
        for (;;) {
                g_autoptr(JsonObject) reply = qmp_stream_receive(monitor->stream,
                                                                 QMP_TIMEOUT_MS, error);

                if (!reply) {
                        g_prefix_error(error, "QMP '%s': ", command);
                        return NULL;
                }
                qemu_trace_message(PEER, QEMU_TRACE_RECEIVED, reply);
                if (g_strcmp0(message_id(reply), id) != 0) {
                        g_queue_push_tail(&monitor->backlog, g_steal_pointer(&reply));
                        schedule_backlog(monitor);
                        continue;
                }
                /* Messages after ours may already be buffered. */
                schedule_backlog(monitor);
                if (qmp_message_kind(reply) == QMP_MESSAGE_RETURN)
                        return json_node_copy(json_object_get_member(reply, "return"));
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL, "QEMU refused '%s': %s",
                            command, qmp_message_error_desc(reply));
                return NULL;
        }
}

void
qemu_monitor_forward(QemuMonitor *monitor, JsonObject *command, QemuMonitorReplyFunc func,
                     gpointer user_data)
{
        g_autoptr(JsonObject) request = json_object_new();
        g_autoptr(GError) error = NULL;
        Forward *forward = forward_new(monitor);
        JsonObjectIter iter;
        const char *member;
        JsonNode *value;

        json_object_iter_init(&iter, command);
        while (json_object_iter_next(&iter, &member, &value)) {
                if (!g_str_equal(member, "id"))
                        json_object_set_member(request, member, json_node_copy(value));
        }
        json_object_set_string_member(request, "id", forward->id);
        forward->func = func;
        forward->user_data = user_data;
        if (json_object_has_member(command, "id"))
                forward->client_id = json_node_copy(json_object_get_member(command, "id"));
        if (!monitor->closed)
                qemu_trace_message(PEER, QEMU_TRACE_SENT, request);
        if (monitor->closed || !qmp_stream_send(monitor->stream, request, &error)) {
                func(NULL, user_data);
                forward_free(forward);
                return;
        }
        g_hash_table_insert(monitor->forwards, forward->id, forward);
}

static gboolean
call_timed_out(gpointer data)
{
        Forward *forward = data;
        QemuMonitor *monitor = forward->monitor;
        g_autoptr(GError) error = NULL;

        forward->timeout = 0;
        g_hash_table_steal(monitor->forwards, forward->id);
        /* A late answer finds no one waiting, and is dropped. */
        if (monitor->call_timeout_ms % 1000 == 0)
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "QEMU did not answer '%s' in %u s", forward->command,
                            monitor->call_timeout_ms / 1000);
        else
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "QEMU did not answer '%s' in %u ms", forward->command,
                            monitor->call_timeout_ms);
        forward_answer(forward, NULL, error);
        forward_free(forward);
        return G_SOURCE_REMOVE;
}

static void
call(QemuMonitor *monitor, const char *command, JsonObject *arguments, Forward *forward)
{
        g_autoptr(JsonObject) request = qmp_command_new(command, arguments);
        g_autoptr(GError) error = NULL;

        forward->command = g_strdup(command);
        json_object_set_string_member(request, "id", forward->id);
        if (monitor->closed) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "QEMU's monitor is closed: cannot run '%s'", command);
        } else {
                qemu_trace_message(PEER, QEMU_TRACE_SENT, request);
                qmp_stream_send(monitor->stream, request, &error);
        }
        if (error) {
                /* Never from inside this call: the caller is not done yet. */
                forward->error = g_steal_pointer(&error);
                g_queue_push_tail(&monitor->failed, forward);
                if (!monitor->failed_idle)
                        monitor->failed_idle = g_idle_add(answer_failed, monitor);
                return;
        }
        forward->timeout = g_timeout_add(monitor->call_timeout_ms, call_timed_out, forward);
        g_hash_table_insert(monitor->forwards, forward->id, forward);
}

void
qemu_monitor_call(QemuMonitor *monitor, const char *command, JsonObject *arguments,
                  QemuMonitorCallback callback, gpointer user_data)
{
        Forward *forward = forward_new(monitor);

        forward->callback = callback;
        forward->user_data = user_data;
        call(monitor, command, arguments, forward);
}

void
qemu_monitor_call_done(QemuMonitor *monitor, const char *command, JsonObject *arguments,
                       QemuDoneFunc done, gpointer user_data)
{
        Forward *forward = forward_new(monitor);

        forward->done = done;
        forward->user_data = user_data;
        call(monitor, command, arguments, forward);
}

static void
dispatch_message(QemuMonitor *monitor, JsonObject *message)
{
        const char *id = message_id(message);
        Forward *forward;

        if (qmp_message_kind(message) == QMP_MESSAGE_EVENT) {
                if (monitor->on_event)
                        monitor->on_event(message, monitor->user_data);
                return;
        }
        forward = id ? g_hash_table_lookup(monitor->forwards, id) : NULL;
        if (!forward) {
                g_debug("QEMU's monitor: unexpected message dropped");
                return;
        }
        g_hash_table_steal(monitor->forwards, id);
        json_object_remove_member(message, "id");
        if (forward->client_id)
                json_object_set_member(message, "id", json_node_ref(forward->client_id));
        forward_answer(forward, message, NULL);
        forward_free(forward);
}

gboolean
qemu_monitor_dispatch(QemuMonitor *monitor)
{
        g_autoptr(GError) error = NULL;
        gboolean open = !monitor->closed && qmp_stream_fill(monitor->stream, &error);

        if (monitor->backlog_idle) {
                g_source_remove(monitor->backlog_idle);
                dispatch_backlog(monitor);
        }
        dispatch_buffered(monitor);
        if (!open && !monitor->closed) {
                g_debug("QEMU's monitor: %s", error ? error->message : "closed");
                fail_forwards(monitor);
        }
        return open;
}
