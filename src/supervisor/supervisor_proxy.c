/* vmlock: the supervisor: the QMP proxy: other tools' QMP, passed on to QEMU or refused. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include "qemu/qemu_proxy.h"
#include "qemu/qemu_trace.h"
#include "supervisor/supervisor_priv.h"

/* The QMP proxy. */


static void proxy_forward_done(JsonObject *reply, gpointer data);

typedef struct {
        Supervisor *sv;
        QmpServerClient *client;
        char *node;
        char *path; /* the image whose lease was taken (blockdev-add) or goes (blockdev-del) */
} ProxyBlockdev;

static void
proxy_blockdev_free(ProxyBlockdev *op)
{
        qmp_server_client_unref(op->client);
        g_free(op->node);
        g_free(op->path);
        g_free(op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProxyBlockdev, proxy_blockdev_free)

static gboolean
reply_is_ok(JsonObject *reply)
{
        return reply && qmp_message_kind(reply) == QMP_MESSAGE_RETURN;
}

static void
proxy_reply(QmpServerClient *client, JsonObject *reply)
{
        if (!reply) {
                qmp_server_client_reply(client, qmp_error_new("GenericError", NULL,
                                                              "QEMU closed its monitor"));
                return;
        }
        json_object_remove_member(reply, "id");
        qmp_server_client_reply(client, json_object_ref(reply));
}

/* QEMU answered a blockdev-add whose lease was taken: a refusal gives the
 * lease back. */
static void
proxy_blockdev_added(JsonObject *reply, gpointer data)
{
        g_autoptr(ProxyBlockdev) op = data;
        g_autoptr(GError) error = NULL;

        if (reply_is_ok(reply))
                g_hash_table_replace(op->sv->proxy_nodes, g_strdup(op->node),
                                     g_strdup(op->path));
        else if (!supervisor_detach_disk(op->sv, op->path, &error))
                g_printerr("vmlock: guest '%s': %s\n", guest_name(op->sv), error->message);
        proxy_reply(op->client, reply);
}

/* QEMU closed the node: now its lease may go. */
static void
proxy_blockdev_deleted(JsonObject *reply, gpointer data)
{
        g_autoptr(ProxyBlockdev) op = data;
        g_autoptr(GError) error = NULL;

        if (reply_is_ok(reply)) {
                g_hash_table_remove(op->sv->proxy_nodes, op->node);
                if (!supervisor_detach_disk(op->sv, op->path, &error))
                        g_printerr("vmlock: guest '%s': %s\n", guest_name(op->sv),
                                   error->message);
        }
        proxy_reply(op->client, reply);
}

/* Another tool's blockdev-add of an image node: its disk's lease first, as
 * attach-disk does (qemu_proxy.h says which nodes are image nodes). */
static JsonObject *
proxy_blockdev_add(Supervisor *sv, QmpServerClient *client, const char *command,
                   JsonObject *arguments, const QemuProxyDecision *decision)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) request = NULL;
        VmlockDisk *disk;
        ProxyBlockdev *op;

        if (supervisor_is_released(sv))
                return qmp_error_new("GenericError", NULL,
                                     "vmlock: guest '%s' has its leases released: no image "
                                     "can be added until `vmlock resume %s`",
                                     guest_name(sv), guest_name(sv));
        disk = vmlock_disk_new(decision->block ? VMLOCK_DISK_TYPE_BLOCK : VMLOCK_DISK_TYPE_FILE,
                               VMLOCK_DISK_DEVICE_DISK, decision->path, decision->readonly,
                               FALSE, &error);
        if (!disk || !supervisor_attach_disk(sv, disk, &error))
                return qmp_error_new("GenericError", NULL, "vmlock: %s", error->message);
        op = g_new0(ProxyBlockdev, 1);
        op->sv = sv;
        op->client = qmp_server_client_ref(client);
        op->node = g_strdup(decision->node);
        op->path = g_strdup(decision->path);
        request = qmp_command_new(command, arguments);
        qemu_monitor_forward(sv->monitor, request, proxy_blockdev_added, op);
        return NULL;
}

/* Another tool's blockdev-del: a node added through the proxy gives its
 * image's lease back once QEMU closed it. */
static JsonObject *
proxy_blockdev_del(Supervisor *sv, QmpServerClient *client, const char *command,
                   JsonObject *arguments, const char *node)
{
        const char *path = node ? g_hash_table_lookup(sv->proxy_nodes, node) : NULL;
        g_autoptr(JsonObject) request = qmp_command_new(command, arguments);
        ProxyBlockdev *op;

        if (!path) {
                qemu_monitor_forward(sv->monitor, request, proxy_forward_done,
                                     qmp_server_client_ref(client));
                return NULL;
        }
        op = g_new0(ProxyBlockdev, 1);
        op->sv = sv;
        op->client = qmp_server_client_ref(client);
        op->node = g_strdup(node);
        op->path = g_strdup(path);
        qemu_monitor_forward(sv->monitor, request, proxy_blockdev_deleted, op);
        return NULL;
}

static void
proxy_forward_done(JsonObject *reply, gpointer data)
{
        g_autoptr(QmpServerClient) client = data;

        if (!reply) {
                qmp_server_client_reply(client, qmp_error_new("GenericError", NULL,
                                                              "QEMU closed its monitor"));
                return;
        }
        /* The id is the client's again: the server puts it back. */
        json_object_remove_member(reply, "id");
        qmp_server_client_reply(client, json_object_ref(reply));
}

/* The proxy's stop or cont, as vmlock's pause or resume, answered once
 * QEMU did. */
static void
proxy_cpus_done(const GError *error, gpointer data)
{
        g_autoptr(QmpServerClient) client = data;

        if (error)
                qmp_server_client_reply(client, qmp_error_new("GenericError", NULL, "%s",
                                                              error->message));
        else
                qmp_server_client_reply(client, qmp_return_new(NULL, NULL));
}

void
supervisor_proxy_trace(guint client, gboolean received, JsonObject *message, gpointer user_data)
{
        g_autofree char *peer = g_strdup_printf("QMP proxy client %u", client);

        qemu_trace_message(peer, received ? QEMU_TRACE_RECEIVED : QEMU_TRACE_SENT, message);
}

JsonObject *
supervisor_proxy_command(QmpServerClient *client, const char *command,
                         JsonObject *arguments, gpointer user_data)
{
        Supervisor *sv = user_data;
        g_auto(QemuProxyDecision) decision = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) request = NULL;
        gboolean ok;

        g_debug("QMP proxy: %s", command);
        qemu_proxy_decide(guest_name(sv), command, arguments, &decision);
        switch (decision.action) {
        case QEMU_PROXY_REFUSE:
                return qmp_error_new("GenericError", NULL, "%s", decision.refusal);
        case QEMU_PROXY_ADD_IMAGE:
                return proxy_blockdev_add(sv, client, command, arguments, &decision);
        case QEMU_PROXY_DELETE_NODE:
                return proxy_blockdev_del(sv, client, command, arguments, decision.node);
        /* The CPUs and the process go through vmlock's own paths. */
        case QEMU_PROXY_CONT:
                if (supervisor_is_released(sv))
                        return qmp_error_new("GenericError", NULL,
                                             "vmlock: guest '%s' must not run: its leases are "
                                             "released (pause --release); `vmlock resume %s` "
                                             "takes them back and continues it",
                                             guest_name(sv), guest_name(sv));
                ok = supervisor_resume(sv, NULL, proxy_cpus_done, qmp_server_client_ref(client),
                                       &error);
                break;
        case QEMU_PROXY_STOP:
                ok = supervisor_pause(sv, FALSE, proxy_cpus_done, qmp_server_client_ref(client),
                                      &error);
                break;
        case QEMU_PROXY_FORWARD:
        default:
                request = qmp_command_new(command, arguments);
                qemu_monitor_forward(sv->monitor, request, proxy_forward_done,
                                     qmp_server_client_ref(client));
                return NULL;
        }
        if (!ok) {
                qmp_server_client_unref(client); /* refused at once: no answer later */
                return qmp_error_new("GenericError", NULL, "%s", error->message);
        }
        return NULL;
}
