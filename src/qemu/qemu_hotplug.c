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

static gboolean
execute(QemuMonitor *monitor, const char *command, JsonObject *arguments, GError **error)
{
        g_autoptr(JsonNode) ret = qemu_monitor_execute(monitor, command, arguments, error);

        return ret != NULL;
}

static gboolean
blockdev_del(QemuMonitor *monitor, const char *node, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        json_object_set_string_member(arguments, "node-name", node);
        return execute(monitor, "blockdev-del", arguments, error);
}

/* The members of QOM object @path (name, type), or NULL. */
static JsonArray *
qom_list(QemuMonitor *monitor, const char *path, JsonNode **ret_owner, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        JsonNode *ret;

        json_object_set_string_member(arguments, "path", path);
        ret = qemu_monitor_execute(monitor, "qom-list", arguments, error);
        if (!ret)
                return NULL;
        if (!JSON_NODE_HOLDS_ARRAY(ret)) {
                json_node_unref(ret);
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "QEMU's qom-list of %s is not a list", path);
                return NULL;
        }
        *ret_owner = ret;
        return json_node_get_array(ret);
}

/* The ids of the devices of one of @types QEMU has (-device ...,id=ID and
 * device_add), in QEMU's order. */
static GPtrArray *
peripherals_of_type(QemuMonitor *monitor, const char *const *types, GError **error)
{
        g_autoptr(JsonNode) owner = NULL;
        g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
        JsonArray *members = qom_list(monitor, "/machine/peripheral", &owner, error);

        if (!members)
                return NULL;
        for (guint i = 0; i < json_array_get_length(members); i++) {
                JsonObject *member = json_array_get_object_element(members, i);
                const char *name = json_object_get_string_member_with_default(member, "name",
                                                                              NULL);
                const char *type = json_object_get_string_member_with_default(member, "type",
                                                                              "");

                for (guint j = 0; name && types[j]; j++) {
                        g_autofree char *child = g_strdup_printf("child<%s>", types[j]);

                        if (g_str_equal(type, child))
                                g_ptr_array_add(ids, g_strdup(name));
                }
        }
        return g_steal_pointer(&ids);
}

/* PCI Express (q35): PCI devices hotplug into root ports only. */
static gboolean
machine_is_pcie(QemuMonitor *monitor)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) type = NULL;

        json_object_set_string_member(arguments, "path", "/machine");
        json_object_set_string_member(arguments, "property", "type");
        type = qemu_monitor_execute(monitor, "qom-get", arguments, NULL);
        return type && JSON_NODE_HOLDS_VALUE(type) &&
               json_node_get_value_type(type) == G_TYPE_STRING &&
               strstr(json_node_get_string(type), "q35") != NULL;
}

/* A root port's bus (named as the port) lists what is plugged into it. */
static gboolean
root_port_is_free(QemuMonitor *monitor, const char *id, GError **error)
{
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s/%s", id, id);
        g_autoptr(JsonNode) owner = NULL;
        JsonArray *members = qom_list(monitor, path, &owner, error);

        if (!members)
                return FALSE;
        for (guint i = 0; i < json_array_get_length(members); i++) {
                JsonObject *member = json_array_get_object_element(members, i);

                if (g_str_has_prefix(json_object_get_string_member_with_default(member, "name",
                                                                                ""),
                                     "child["))
                        return FALSE;
        }
        return TRUE;
}

/* Where a PCI device (@what, for the error) goes: on a PCI Express machine,
 * into the first free root port; elsewhere QEMU picks a slot. */
static gboolean
place_pci_device(QemuMonitor *monitor, JsonObject *device, const char *what, GError **error)
{
        static const char *const port_types[] = { "pcie-root-port", "ioh3420", NULL };
        g_autoptr(GPtrArray) ports = NULL;

        if (!machine_is_pcie(monitor))
                return TRUE;
        ports = peripherals_of_type(monitor, port_types, error);
        if (!ports)
                return FALSE;
        for (guint i = 0; i < ports->len; i++) {
                const char *id = g_ptr_array_index(ports, i);

                if (root_port_is_free(monitor, id, NULL)) {
                        g_debug("hotplug: %s into root port %s", what, id);
                        json_object_set_string_member(device, "bus", id);
                        return TRUE;
                }
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                    "QEMU's q35 machine has no free pcie-root-port for %s: on PCI Express a "
                    "device is hotplugged into an empty root port the machine was started "
                    "with (%u there, none free); start QEMU with one per device to hotplug, "
                    "e.g. -device pcie-root-port,id=hotplug1,chassis=1 -device "
                    "pcie-root-port,id=hotplug2,chassis=2",
                    what, ports->len);
        return FALSE;
}

/* The bus of a virtio-scsi controller for scsi-hd: the guest's own (the
 * first with an id), else one vmlock adds, which then stays (other disks
 * may be on it). */
static char *
ensure_scsi_controller(QemuMonitor *monitor, GError **error)
{
        static const char *const types[] = { "virtio-scsi-pci", "virtio-scsi-pci-transitional",
                                             "virtio-scsi-pci-non-transitional", NULL };
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(GPtrArray) controllers = peripherals_of_type(monitor, types, error);

        if (!controllers)
                return NULL;
        if (controllers->len > 0)
                return g_strconcat(g_ptr_array_index(controllers, 0), ".0", NULL);
        json_object_set_string_member(arguments, "driver", "virtio-scsi-pci");
        json_object_set_string_member(arguments, "id", SCSI_CONTROLLER_ID);
        if (!place_pci_device(monitor, arguments, "the virtio-scsi controller of --bus scsi",
                              error) ||
            !execute(monitor, "device_add", arguments, error))
                return NULL;
        return g_strdup(SCSI_CONTROLLER_ID ".0");
}

static JsonObject *
cache_options(QemuHotplugCache cache)
{
        JsonObject *options = json_object_new();

        json_object_set_boolean_member(options, "direct", cache_modes[cache].direct);
        json_object_set_boolean_member(options, "no-flush", cache_modes[cache].no_flush);
        return options;
}

gboolean
qemu_hotplug_attach(QemuMonitor *monitor, const QemuHotplugDisk *disk, GError **error)
{
        g_autofree char *file_node = qemu_hotplug_file_node(disk->id);
        g_autofree char *format_node = qemu_hotplug_format_node(disk->id);
        g_autoptr(JsonObject) file = json_object_new();
        g_autoptr(JsonObject) format = json_object_new();
        g_autoptr(JsonObject) device = json_object_new();
        g_autofree char *scsi_bus = NULL;

        g_debug("hotplug: %s as %s (%s, %s, cache=%s%s)", disk->path, disk->id, disk->format,
                disk->bus == QEMU_HOTPLUG_BUS_SCSI ? "scsi" : "virtio",
                cache_modes[disk->cache].name, disk->readonly ? ", readonly" : "");
        json_object_set_string_member(file, "driver", disk->block ? "host_device" : "file");
        json_object_set_string_member(file, "node-name", file_node);
        json_object_set_string_member(file, "filename", disk->path);
        json_object_set_boolean_member(file, "read-only", disk->readonly);
        json_object_set_object_member(file, "cache", cache_options(disk->cache));
        json_object_set_string_member(format, "driver", disk->format);
        json_object_set_string_member(format, "node-name", format_node);
        json_object_set_string_member(format, "file", file_node);
        json_object_set_boolean_member(format, "read-only", disk->readonly);
        json_object_set_object_member(format, "cache", cache_options(disk->cache));
        json_object_set_string_member(device, "id", disk->id);
        json_object_set_string_member(device, "write-cache",
                                      cache_modes[disk->cache].write_cache ? "on" : "off");
        json_object_set_string_member(device, "drive", format_node);
        if (disk->shareable)
                json_object_set_boolean_member(device, "share-rw", TRUE);
        json_object_set_string_member(device, "driver", disk->bus == QEMU_HOTPLUG_BUS_SCSI
                                                                ? "scsi-hd"
                                                                : "virtio-blk-pci");

        if (!execute(monitor, "blockdev-add", file, error))
                return FALSE;
        if (!execute(monitor, "blockdev-add", format, error)) {
                blockdev_del(monitor, file_node, NULL);
                return FALSE;
        }
        if (disk->bus == QEMU_HOTPLUG_BUS_SCSI) {
                scsi_bus = ensure_scsi_controller(monitor, error);
                if (scsi_bus)
                        json_object_set_string_member(device, "bus", scsi_bus);
        }
        if ((disk->bus == QEMU_HOTPLUG_BUS_SCSI && !scsi_bus) ||
            (disk->bus == QEMU_HOTPLUG_BUS_VIRTIO &&
             !place_pci_device(monitor, device, disk->path, error)) ||
            !execute(monitor, "device_add", device, error)) {
                blockdev_del(monitor, format_node, NULL);
                blockdev_del(monitor, file_node, NULL);
                return FALSE;
        }
        return TRUE;
}

gboolean
qemu_hotplug_unplug(QemuMonitor *monitor, const char *id, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();

        g_debug("unplug: %s", id);
        json_object_set_string_member(arguments, "id", id);
        return execute(monitor, "device_del", arguments, error);
}

gboolean
qemu_hotplug_remove_nodes(QemuMonitor *monitor, const char *id, GError **error)
{
        g_autofree char *file_node = qemu_hotplug_file_node(id);
        g_autofree char *format_node = qemu_hotplug_format_node(id);

        return blockdev_del(monitor, format_node, error) &&
               blockdev_del(monitor, file_node, error);
}
