/* vmlock: giving QEMU a disk, and taking it back, over its monitor.
 *
 * A disk is two block nodes (the image: file or host_device; its format:
 * raw or qcow2) and one device (virtio-blk-pci, or scsi-hd on a
 * virtio-scsi controller: the first one the guest was started with that has
 * an id, else one added on first use). Their names derive from one id
 * vmlock picks, so a detach finds them again.
 *
 * On a PCI Express machine (q35) a PCI device can only be hotplugged into
 * a root port the machine was started with: the first free
 * pcie-root-port (one with nothing plugged in) takes it, and when there is
 * none the error names the option that adds one.
 */
#pragma once

#include "qemu/qemu_monitor.h"

G_BEGIN_DECLS

typedef enum {
        QEMU_HOTPLUG_BUS_VIRTIO,
        QEMU_HOTPLUG_BUS_SCSI,
} QemuHotplugBus;

/* QEMU's -drive cache= modes, as node and device options. */
typedef enum {
        QEMU_HOTPLUG_CACHE_NONE, /* direct I/O: what shared storage needs */
        QEMU_HOTPLUG_CACHE_WRITEBACK,
        QEMU_HOTPLUG_CACHE_WRITETHROUGH,
        QEMU_HOTPLUG_CACHE_DIRECTSYNC,
        QEMU_HOTPLUG_CACHE_UNSAFE,
} QemuHotplugCache;

typedef struct {
        const char *id;     /* the device's id; the nodes are ID-file and ID-format */
        const char *path;
        gboolean block;     /* a block device: host_device, else file */
        gboolean readonly;
        gboolean shareable; /* several writers: share-rw on the device */
        const char *format; /* raw or qcow2 */
        QemuHotplugBus bus;
        QemuHotplugCache cache;
} QemuHotplugDisk;

gboolean qemu_hotplug_bus_from_string(const char *text, QemuHotplugBus *ret_bus,
                                      GError **error);
/* none (also for NULL), writeback, writethrough, directsync or unsafe. */
gboolean qemu_hotplug_cache_from_string(const char *text, QemuHotplugCache *ret_cache,
                                        GError **error);

/* The node names of the device @id. */
char *qemu_hotplug_file_node(const char *id);
char *qemu_hotplug_format_node(const char *id);

/* blockdev-add both nodes, then device_add; @done once QEMU answered. On a
 * refusal whatever was added is taken away again (@done comes once QEMU
 * answered that too) and the error carries what QEMU said. */
void qemu_hotplug_attach_async(QemuMonitor *monitor, const QemuHotplugDisk *disk,
                               QemuDoneFunc done, gpointer user_data);
/* device_del: asks the guest to let go; DEVICE_DELETED says it did. */
void qemu_hotplug_unplug_async(QemuMonitor *monitor, const char *id, QemuDoneFunc done,
                               gpointer user_data);
/* blockdev-del of both nodes, once the device is gone. */
void qemu_hotplug_remove_nodes_async(QemuMonitor *monitor, const char *id, QemuDoneFunc done,
                                     gpointer user_data);

G_END_DECLS
