/* vmlock: giving QEMU a disk, and taking it back, over its monitor. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

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

/* A controller added once stays: other disks may be on it. */
static gboolean
ensure_scsi_controller(QemuMonitor *monitor, GError **error)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) found = NULL;

        json_object_set_string_member(arguments, "path", "/machine/peripheral/" SCSI_CONTROLLER_ID);
        found = qemu_monitor_execute(monitor, "qom-list", arguments, NULL);
        if (found)
                return TRUE;
        json_object_remove_member(arguments, "path");
        json_object_set_string_member(arguments, "driver", "virtio-scsi-pci");
        json_object_set_string_member(arguments, "id", SCSI_CONTROLLER_ID);
        return execute(monitor, "device_add", arguments, error);
}

gboolean
qemu_hotplug_attach(QemuMonitor *monitor, const QemuHotplugDisk *disk, GError **error)
{
        g_autofree char *file_node = qemu_hotplug_file_node(disk->id);
        g_autofree char *format_node = qemu_hotplug_format_node(disk->id);
        g_autoptr(JsonObject) file = json_object_new();
        g_autoptr(JsonObject) format = json_object_new();
        g_autoptr(JsonObject) device = json_object_new();

        g_debug("hotplug: %s as %s (%s, %s%s)", disk->path, disk->id, disk->format,
                disk->bus == QEMU_HOTPLUG_BUS_SCSI ? "scsi" : "virtio",
                disk->readonly ? ", readonly" : "");
        json_object_set_string_member(file, "driver", disk->block ? "host_device" : "file");
        json_object_set_string_member(file, "node-name", file_node);
        json_object_set_string_member(file, "filename", disk->path);
        json_object_set_boolean_member(file, "read-only", disk->readonly);
        json_object_set_string_member(format, "driver", disk->format);
        json_object_set_string_member(format, "node-name", format_node);
        json_object_set_string_member(format, "file", file_node);
        json_object_set_boolean_member(format, "read-only", disk->readonly);
        json_object_set_string_member(device, "id", disk->id);
        json_object_set_string_member(device, "drive", format_node);
        if (disk->shareable)
                json_object_set_boolean_member(device, "share-rw", TRUE);
        if (disk->bus == QEMU_HOTPLUG_BUS_SCSI) {
                json_object_set_string_member(device, "driver", "scsi-hd");
                json_object_set_string_member(device, "bus", SCSI_CONTROLLER_ID ".0");
        } else {
                json_object_set_string_member(device, "driver", "virtio-blk-pci");
        }

        if (!execute(monitor, "blockdev-add", file, error))
                return FALSE;
        if (!execute(monitor, "blockdev-add", format, error)) {
                blockdev_del(monitor, file_node, NULL);
                return FALSE;
        }
        if ((disk->bus == QEMU_HOTPLUG_BUS_SCSI && !ensure_scsi_controller(monitor, error)) ||
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
