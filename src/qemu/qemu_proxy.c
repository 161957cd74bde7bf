/* vmlock: what the QMP proxy does with another tool's command. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include "qemu/qemu_proxy.h"

/* Commands that could run the guest without its leases or hand it storage
 * behind vmlock's back: refused, with the vmlock command to use. */
static const struct {
        const char *command;
        const char *instead;
} refused[] = {
        { "human-monitor-command", "HMP can resume the guest or add disks behind vmlock" },
        { "blockdev-reopen", "vmlock attach-disk takes the disk's lease first" },
        { "blockdev-change-medium", "vmlock attach-disk takes the disk's lease first" },
        { "change", "vmlock attach-disk takes the disk's lease first" },
        { "blockdev-snapshot-sync", "a new image would have no lease" },
        { "drive-mirror", "the target image would have no lease" },
        { "blockdev-mirror", "the target image would have no lease" },
        { "drive-backup", "the target image would have no lease" },
        { "blockdev-backup", "the target image would have no lease" },
        { "transaction", "its actions could write images without a lease" },
        { "device_add", "vmlock attach-disk takes the disk's lease first" },
        { "getfd", "a passed fd could be an image without a lease" },
        { "add-fd", "a passed fd could be an image without a lease" },
        { "migrate", "vmlock migrate hands the leases over as the migration ends" },
        { "migrate-incoming", "vmlock start --incoming sets the destination up" },
        { "migrate-recover", "the guest's leases must be taken by vmlock resume" },
        { "x-exit-preconfig", "vmlock starts the guest" },
};

void
qemu_proxy_decision_clear(QemuProxyDecision *decision)
{
        g_clear_pointer(&decision->refusal, g_free);
        g_clear_pointer(&decision->node, g_free);
        g_clear_pointer(&decision->path, g_free);
}

const char *
qemu_proxy_refused_command(guint i)
{
        return i < G_N_ELEMENTS(refused) ? refused[i].command : NULL;
}

static const char *
arg_string(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_STRING ? json_node_get_string(node)
                                                                        : NULL;
}

static gboolean
arg_bool(JsonObject *arguments, const char *name)
{
        JsonNode *node = arguments ? json_object_get_member(arguments, name) : NULL;

        return node && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
               json_node_get_boolean(node);
}

static void
refuse(QemuProxyDecision *decision, char *message)
{
        decision->action = QEMU_PROXY_REFUSE;
        decision->refusal = message;
}

/* An image node (file, host_device) needs its disk's lease first, as
 * attach-disk does; a format node (raw, qcow2) may only stack on nodes QEMU
 * has already (its "file" a node name), so it opens no image vmlock did not
 * lease (a qcow2's backing file is opened read-only). Every other driver
 * could open storage vmlock cannot map to a path: refused. */
static void
decide_blockdev_add(const char *guest, JsonObject *arguments, QemuProxyDecision *decision)
{
        const char *driver = arg_string(arguments, "driver");
        const char *node = arg_string(arguments, "node-name");
        const char *path = arg_string(arguments, "filename");

        if (driver && (g_str_equal(driver, "raw") || g_str_equal(driver, "qcow2"))) {
                JsonNode *file = arguments ? json_object_get_member(arguments, "file") : NULL;
                JsonNode *backing = arguments ? json_object_get_member(arguments, "backing")
                                              : NULL;

                if (!file || json_node_get_value_type(file) != G_TYPE_STRING ||
                    (backing && JSON_NODE_HOLDS_OBJECT(backing)))
                        refuse(decision,
                               g_strdup_printf("vmlock: a '%s' node for guest '%s' must name "
                                               "its file (and backing) node: add the image "
                                               "node first, vmlock takes its lease",
                                               driver, guest));
                return; /* else forwarded */
        }
        if (!driver || !(g_str_equal(driver, "file") || g_str_equal(driver, "host_device"))) {
                refuse(decision,
                       g_strdup_printf("vmlock: 'blockdev-add' of a '%s' node is refused for "
                                       "guest '%s': vmlock cannot map it to a disk path and "
                                       "take its lease (file, host_device, raw and qcow2 "
                                       "nodes are allowed)",
                                       driver ? driver : "(no driver)", guest));
                return;
        }
        if (!node || !path) {
                refuse(decision, g_strdup("vmlock: blockdev-add needs node-name and filename"));
                return;
        }
        decision->action = QEMU_PROXY_ADD_IMAGE;
        decision->node = g_strdup(node);
        decision->path = g_strdup(path);
        decision->block = g_str_equal(driver, "host_device");
        decision->readonly = arg_bool(arguments, "read-only");
}

void
qemu_proxy_decide(const char *guest, const char *command, JsonObject *arguments,
                  QemuProxyDecision *ret_decision)
{
        *ret_decision = (QemuProxyDecision){ .action = QEMU_PROXY_FORWARD };
        for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
                if (g_str_equal(command, refused[i].command)) {
                        refuse(ret_decision,
                               g_strdup_printf("vmlock: '%s' is refused for guest '%s': %s",
                                               command, guest, refused[i].instead));
                        return;
                }
        }
        if (g_str_equal(command, "blockdev-add")) {
                decide_blockdev_add(guest, arguments, ret_decision);
        } else if (g_str_equal(command, "blockdev-del")) {
                ret_decision->action = QEMU_PROXY_DELETE_NODE;
                ret_decision->node = g_strdup(arg_string(arguments, "node-name"));
        } else if (g_str_equal(command, "stop")) {
                ret_decision->action = QEMU_PROXY_STOP;
        } else if (g_str_equal(command, "cont")) {
                ret_decision->action = QEMU_PROXY_CONT;
        }
}
