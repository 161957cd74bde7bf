/* vmlock: giving QEMU a disk, and taking it back, over its monitor. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "qemu/qemu_hotplug.h"

/* The virtio-scsi controller vmlock adds for --bus scsi. */
#define SCSI_CONTROLLER_ID "vmlock-scsi0"

gboolean
qemu_hotplug_bus_from_string(const char *text, QemuHotplugBus *ret_bus, GError **error)
{
        if (!text || g_str_equal(text, "virtio")) {
                *ret_bus = QEMU_HOTPLUG_BUS_VIRTIO;
                return TRUE;
        }
        if (g_str_equal(text, "scsi")) {
                *ret_bus = QEMU_HOTPLUG_BUS_SCSI;
                return TRUE;
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "unknown bus '%s' (virtio or scsi)", text);
        return FALSE;
}

static const struct {
        const char *name;
        gboolean direct;   /* O_DIRECT: no host page cache */
        gboolean no_flush; /* the guest's flushes are ignored */
        gboolean write_cache; /* the guest sees a volatile write cache (flushes it) */
} cache_modes[] = {
        [QEMU_HOTPLUG_CACHE_NONE] = { "none", TRUE, FALSE, TRUE },
        [QEMU_HOTPLUG_CACHE_WRITEBACK] = { "writeback", FALSE, FALSE, TRUE },
        [QEMU_HOTPLUG_CACHE_WRITETHROUGH] = { "writethrough", FALSE, FALSE, FALSE },
        [QEMU_HOTPLUG_CACHE_DIRECTSYNC] = { "directsync", TRUE, FALSE, FALSE },
        [QEMU_HOTPLUG_CACHE_UNSAFE] = { "unsafe", FALSE, TRUE, TRUE },
};

gboolean
qemu_hotplug_cache_from_string(const char *text, QemuHotplugCache *ret_cache, GError **error)
{
        for (guint i = 0; i < G_N_ELEMENTS(cache_modes); i++) {
                if (g_str_equal(text ? text : "none", cache_modes[i].name)) {
                        *ret_cache = (QemuHotplugCache)i;
                        return TRUE;
                }
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "unknown cache mode '%s' (none, writeback, writethrough, directsync or "
                    "unsafe)",
                    text);
        return FALSE;
}

char *
qemu_hotplug_file_node(const char *id)
{
        return g_strconcat(id, "-file", NULL);
}

char *
qemu_hotplug_format_node(const char *id)
{
        return g_strconcat(id, "-format", NULL);
}

/* blockdev-del of @node; @done may be NULL: nobody waits. */
static void
blockdev_del(QemuMonitor *monitor, const char *node, QemuDoneFunc done, gpointer user_data)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        json_object_set_string_member(arguments, "node-name", node);
        qemu_monitor_call_done(monitor, "blockdev-del", arguments, done, user_data);
}

/* The members of a qom-list answer, or NULL. */
static JsonArray *
qom_members(JsonNode *ret)
{
        return ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
}

static void
qom_list(QemuMonitor *monitor, const char *path, QemuMonitorCallback callback,
         gpointer user_data)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        json_object_set_string_member(arguments, "path", path);
        qemu_monitor_call(monitor, "qom-list", arguments, callback, user_data);
}

/* The ids of the devices of one of @types in qom-list /machine/peripheral's
 * answer (-device ...,id=ID and device_add), in QEMU's order. */
static GPtrArray *
peripherals_of_type(JsonArray *members, const char *const *types)
{
        g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; members && i < json_array_get_length(members); i++) {
                JsonObject *member = json_array_get_object_element(members, i);
                const char *name = member ? json_object_get_string_member_with_default(
                                                    member, "name", NULL)
                                          : NULL;
                const char *type = member ? json_object_get_string_member_with_default(
                                                    member, "type", "")
                                          : "";

                for (guint j = 0; name && types[j]; j++) {
                        g_autofree char *child = g_strdup_printf("child<%s>", types[j]);

                        if (g_str_equal(type, child))
                                g_ptr_array_add(ids, g_strdup(name));
                }
        }
        return g_steal_pointer(&ids);
}

/* A root port's bus (named as the port) lists what is plugged into it. */
static gboolean
root_port_is_free(JsonArray *members)
{
        for (guint i = 0; members && i < json_array_get_length(members); i++) {
                JsonObject *member = json_array_get_object_element(members, i);

                if (member && g_str_has_prefix(json_object_get_string_member_with_default(
                                                       member, "name", ""),
                                               "child["))
                        return FALSE;
        }
        return TRUE;
}

static JsonObject *
cache_options(QemuHotplugCache cache)
{
        JsonObject *options = json_object_new();

        json_object_set_boolean_member(options, "direct", cache_modes[cache].direct);
        json_object_set_boolean_member(options, "no-flush", cache_modes[cache].no_flush);
        return options;
}

/* An attach under way: the nodes, then (for scsi) the controller, then
 * where a PCI device goes, then the device; each step in the answer to the
 * one before. */
typedef enum {
        ATTACH_FILE_NODE,
        ATTACH_FORMAT_NODE,
        ATTACH_SCSI_CONTROLLERS, /* qom-list of the peripherals */
        ATTACH_MACHINE_TYPE,     /* qom-get: PCI Express or not */
        ATTACH_ROOT_PORTS,       /* qom-list of the peripherals */
        ATTACH_ROOT_PORT,        /* qom-list of root port ->ports[->port] */
        ATTACH_CONTROLLER,       /* device_add of the virtio-scsi controller */
        ATTACH_DEVICE,           /* device_add of the disk */
        ATTACH_UNDO,             /* blockdev-del of what was added */
} AttachStep;

typedef struct {
        QemuMonitor *monitor;
        AttachStep step;
        char *file_node;
        char *format_node;
        char *path;
        JsonObject *format;     /* the format node, added once the file node is */
        JsonObject *device;
        JsonObject *controller; /* the virtio-scsi controller to add, or NULL */
        JsonObject *placing;    /* device or controller: the PCI device being placed */
        char *placing_what;     /* it, for the error */
        GPtrArray *ports;
        guint port;
        guint undo_left;        /* blockdev-del answers awaited */
        GError *error;          /* the attach failed: undoing */
        QemuDoneFunc done;
        gpointer user_data;
} Attach;

static void
attach_free(Attach *attach)
{
        g_free(attach->file_node);
        g_free(attach->format_node);
        g_free(attach->path);
        json_object_unref(attach->format);
        json_object_unref(attach->device);
        if (attach->controller)
                json_object_unref(attach->controller);
        g_free(attach->placing_what);
        if (attach->ports)
                g_ptr_array_unref(attach->ports);
        g_clear_error(&attach->error);
        g_free(attach);
}

static void attach_step(JsonNode *ret, const GError *error, gpointer data);

static void
attach_call(Attach *attach, AttachStep step, const char *command, JsonObject *arguments)
{
        attach->step = step;
        qemu_monitor_call(attach->monitor, command, arguments, attach_step, attach);
}

static void
attach_done(Attach *attach, const GError *error)
{
        attach->done(error, attach->user_data);
        attach_free(attach);
}

static void
undo_answered(const GError *error, gpointer data)
{
        Attach *attach = data;

        if (--attach->undo_left == 0)
                attach_done(attach, attach->error);
}

/* QEMU refused a step: whatever was added goes; the caller hears of it
 * once QEMU has let go of the image. */
static void
attach_fail(Attach *attach, const GError *error)
{
        gboolean format = attach->step > ATTACH_FORMAT_NODE;

        attach->error = g_error_copy(error);
        if (attach->step == ATTACH_FILE_NODE) {
                attach_done(attach, attach->error);
                return;
        }
        attach->step = ATTACH_UNDO;
        attach->undo_left = format ? 2 : 1;
        if (format)
                blockdev_del(attach->monitor, attach->format_node, undo_answered, attach);
        blockdev_del(attach->monitor, attach->file_node, undo_answered, attach);
}

static void
attach_add_device(Attach *attach)
{
        attach_call(attach, ATTACH_DEVICE, "device_add", attach->device);
}

/* Where the PCI device @placing goes: on a PCI Express machine, into the
 * first free root port; elsewhere QEMU picks a slot. */
static void
attach_place(Attach *attach, JsonObject *placing, const char *what)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        attach->placing = placing;
        g_free(attach->placing_what);
        attach->placing_what = g_strdup(what);
        json_object_set_string_member(arguments, "path", "/machine");
        json_object_set_string_member(arguments, "property", "type");
        attach_call(attach, ATTACH_MACHINE_TYPE, "qom-get", arguments);
}

static void
attach_placed(Attach *attach)
{
        if (attach->placing == attach->controller)
                attach_call(attach, ATTACH_CONTROLLER, "device_add", attach->controller);
        else
                attach_add_device(attach);
}

static void
attach_next_port(Attach *attach)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;

        if (attach->port >= attach->ports->len) {
                g_set_error(&error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                            "QEMU's q35 machine has no free pcie-root-port for %s: on PCI "
                            "Express a device is hotplugged into an empty root port the "
                            "machine was started with (%u there, none free); start QEMU with "
                            "one per device to hotplug, e.g. -device "
                            "pcie-root-port,id=hotplug1,chassis=1 -device "
                            "pcie-root-port,id=hotplug2,chassis=2",
                            attach->placing_what, attach->ports->len);
                attach_fail(attach, error);
                return;
        }
        path = g_strdup_printf("/machine/peripheral/%s/%s",
                               (char *)g_ptr_array_index(attach->ports, attach->port),
                               (char *)g_ptr_array_index(attach->ports, attach->port));
        attach->step = ATTACH_ROOT_PORT;
        qom_list(attach->monitor, path, attach_step, attach);
}

static void
attach_step(JsonNode *ret, const GError *error, gpointer data)
{
        static const char *const port_types[] = { "pcie-root-port", "ioh3420", NULL };
        static const char *const scsi_types[] = { "virtio-scsi-pci",
                                                  "virtio-scsi-pci-transitional",
                                                  "virtio-scsi-pci-non-transitional", NULL };
        Attach *attach = data;
        g_autoptr(GPtrArray) controllers = NULL;
        g_autoptr(GError) not_a_list = NULL;
        const char *port;

        /* Without an answer on the type, QEMU puts the device: as before q35. */
        if (error && attach->step != ATTACH_MACHINE_TYPE && attach->step != ATTACH_ROOT_PORT) {
                attach_fail(attach, error);
                return;
        }
        switch (attach->step) {
        case ATTACH_FILE_NODE:
                attach_call(attach, ATTACH_FORMAT_NODE, "blockdev-add", attach->format);
                return;
        case ATTACH_FORMAT_NODE:
                if (attach->controller) {
                        attach->step = ATTACH_SCSI_CONTROLLERS;
                        qom_list(attach->monitor, "/machine/peripheral", attach_step, attach);
                } else {
                        attach_place(attach, attach->device, attach->path);
                }
                return;
        case ATTACH_SCSI_CONTROLLERS:
        case ATTACH_ROOT_PORTS:
                if (!qom_members(ret)) {
                        g_set_error_literal(&not_a_list, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                                            "QEMU's qom-list of /machine/peripheral is not a "
                                            "list");
                        attach_fail(attach, not_a_list);
                        return;
                }
                if (attach->step == ATTACH_ROOT_PORTS) {
                        attach->ports = peripherals_of_type(qom_members(ret), port_types);
                        attach->port = 0;
                        attach_next_port(attach);
                        return;
                }
                controllers = peripherals_of_type(qom_members(ret), scsi_types);
                if (controllers->len > 0) {
                        g_autofree char *bus = g_strconcat(g_ptr_array_index(controllers, 0),
                                                           ".0", NULL);

                        json_object_set_string_member(attach->device, "bus", bus);
                        attach_add_device(attach);
                        return;
                }
                attach_place(attach, attach->controller,
                             "the virtio-scsi controller of --bus scsi");
                return;
        case ATTACH_MACHINE_TYPE:
                /* PCI Express (q35): PCI devices hotplug into root ports only. */
                if (error || !JSON_NODE_HOLDS_VALUE(ret) ||
                    json_node_get_value_type(ret) != G_TYPE_STRING ||
                    !strstr(json_node_get_string(ret), "q35")) {
                        attach_placed(attach);
                        return;
                }
                attach->step = ATTACH_ROOT_PORTS;
                qom_list(attach->monitor, "/machine/peripheral", attach_step, attach);
                return;
        case ATTACH_ROOT_PORT:
                port = g_ptr_array_index(attach->ports, attach->port);
                if (error || !qom_members(ret) || !root_port_is_free(qom_members(ret))) {
                        attach->port++;
                        attach_next_port(attach);
                        return;
                }
                g_debug("hotplug: %s into root port %s", attach->placing_what, port);
                json_object_set_string_member(attach->placing, "bus", port);
                attach_placed(attach);
                return;
        case ATTACH_CONTROLLER:
                json_object_set_string_member(attach->device, "bus", SCSI_CONTROLLER_ID ".0");
                attach_add_device(attach);
                return;
        case ATTACH_DEVICE:
                attach_done(attach, NULL);
                return;
        case ATTACH_UNDO:
                break;
        }
        g_assert_not_reached();
}

void
qemu_hotplug_attach_async(QemuMonitor *monitor, const QemuHotplugDisk *disk, QemuDoneFunc done,
                          gpointer user_data)
{
        Attach *attach = g_new0(Attach, 1);
        g_autoptr(JsonObject) file = json_object_new();
        JsonObject *format = json_object_new();
        JsonObject *device = json_object_new();

        g_debug("hotplug: %s as %s (%s, %s, cache=%s%s)", disk->path, disk->id, disk->format,
                disk->bus == QEMU_HOTPLUG_BUS_SCSI ? "scsi" : "virtio",
                cache_modes[disk->cache].name, disk->readonly ? ", readonly" : "");
        attach->monitor = monitor;
        attach->file_node = qemu_hotplug_file_node(disk->id);
        attach->format_node = qemu_hotplug_format_node(disk->id);
        attach->path = g_strdup(disk->path);
        attach->format = format;
        attach->device = device;
        attach->done = done;
        attach->user_data = user_data;
        json_object_set_string_member(file, "driver", disk->block ? "host_device" : "file");
        json_object_set_string_member(file, "node-name", attach->file_node);
        json_object_set_string_member(file, "filename", disk->path);
        json_object_set_boolean_member(file, "read-only", disk->readonly);
        json_object_set_object_member(file, "cache", cache_options(disk->cache));
        json_object_set_string_member(format, "driver", disk->format);
        json_object_set_string_member(format, "node-name", attach->format_node);
        json_object_set_string_member(format, "file", attach->file_node);
        json_object_set_boolean_member(format, "read-only", disk->readonly);
        json_object_set_object_member(format, "cache", cache_options(disk->cache));
        json_object_set_string_member(device, "id", disk->id);
        json_object_set_string_member(device, "write-cache",
                                      cache_modes[disk->cache].write_cache ? "on" : "off");
        json_object_set_string_member(device, "drive", attach->format_node);
        if (disk->shareable)
                json_object_set_boolean_member(device, "share-rw", TRUE);
        json_object_set_string_member(device, "driver", disk->bus == QEMU_HOTPLUG_BUS_SCSI
                                                                ? "scsi-hd"
                                                                : "virtio-blk-pci");
        if (disk->bus == QEMU_HOTPLUG_BUS_SCSI) {
                /* Added only if the guest has none (ATTACH_SCSI_CONTROLLERS),
                 * then it stays (other disks may be on it). */
                attach->controller = json_object_new();
                json_object_set_string_member(attach->controller, "driver", "virtio-scsi-pci");
                json_object_set_string_member(attach->controller, "id", SCSI_CONTROLLER_ID);
        }
        attach_call(attach, ATTACH_FILE_NODE, "blockdev-add", file);
}

void
qemu_hotplug_unplug_async(QemuMonitor *monitor, const char *id, QemuDoneFunc done,
                          gpointer user_data)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        g_debug("unplug: %s", id);
        json_object_set_string_member(arguments, "id", id);
        qemu_monitor_call_done(monitor, "device_del", arguments, done, user_data);
}

typedef struct {
        QemuMonitor *monitor;
        char *file_node;
        QemuDoneFunc done;
        gpointer user_data;
} RemoveNodes;

static void
file_node_removed(const GError *error, gpointer data)
{
        RemoveNodes *remove = data;

        remove->done(error, remove->user_data);
        g_free(remove->file_node);
        g_free(remove);
}

static void
format_node_removed(const GError *error, gpointer data)
{
        RemoveNodes *remove = data;

        if (error) {
                file_node_removed(error, remove);
                return;
        }
        blockdev_del(remove->monitor, remove->file_node, file_node_removed, remove);
}

void
qemu_hotplug_remove_nodes_async(QemuMonitor *monitor, const char *id, QemuDoneFunc done,
                                gpointer user_data)
{
        g_autofree char *format_node = qemu_hotplug_format_node(id);
        RemoveNodes *remove = g_new0(RemoveNodes, 1);

        remove->monitor = monitor;
        remove->file_node = qemu_hotplug_file_node(id);
        remove->done = done;
        remove->user_data = user_data;
        blockdev_del(monitor, format_node, format_node_removed, remove);
}
