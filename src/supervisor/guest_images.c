/* vmlock: a guest's disks from QEMU's command line, and the backing files
 * of its qcow2 disks. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <vmlock/vmlock.h>

#include "qemu/qemu_cmdline.h"
#include "qemu/qemu_qcow2.h"
#include "supervisor/guest_images.h"

static const VmlockDisk *
find_disk(const VmlockDomain *dom, const char *path)
{
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);

                if (g_strcmp0(vmlock_disk_get_source(disk), path) == 0)
                        return disk;
        }
        return NULL;
}

/* Every use of @path in @images, merged: it is written if one use writes
 * it, and shared only if every writer shares it. */
static void
merged_use(const GPtrArray *images, const char *path, gboolean *ret_readonly,
           gboolean *ret_shareable, gboolean *ret_follow, const QemuImage **ret_first)
{
        gboolean readonly = TRUE, shareable = TRUE, follow = FALSE;

        *ret_first = NULL;
        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);

                if (g_strcmp0(image->path, path) != 0)
                        continue;
                if (!*ret_first)
                        *ret_first = image;
                if (!image->readonly) {
                        readonly = FALSE;
                        shareable = shareable && image->shareable;
                }
                follow = follow || image->backing_from_header;
        }
        *ret_readonly = readonly;
        *ret_shareable = !readonly && shareable;
        *ret_follow = follow;
}

static VmlockDiskDevice
role_device(QemuImageRole role)
{
        switch (role) {
        case QEMU_IMAGE_ROLE_CDROM:
                return VMLOCK_DISK_DEVICE_CDROM;
        case QEMU_IMAGE_ROLE_FLOPPY:
                return VMLOCK_DISK_DEVICE_FLOPPY;
        case QEMU_IMAGE_ROLE_DISK:
                break;
        }
        return VMLOCK_DISK_DEVICE_DISK;
}

/* Only the lease's name matters (the path): the type is for `status`. */
static VmlockDiskType
path_type(const char *path)
{
        return g_str_has_prefix(path, "/dev/") ? VMLOCK_DISK_TYPE_BLOCK : VMLOCK_DISK_TYPE_FILE;
}

gboolean
guest_images_add_to_domain(VmlockDomain *dom, const GPtrArray *images, GError **error)
{
        g_return_val_if_fail(dom != NULL && images != NULL, FALSE);

        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);
                const QemuImage *first;
                gboolean readonly, shareable, follow;
                VmlockDisk *disk;

                if (!image->path || find_disk(dom, image->path))
                        continue;
                merged_use(images, image->path, &readonly, &shareable, &follow, &first);
                disk = vmlock_disk_new(path_type(image->path), role_device(image->role),
                                       image->path, readonly, shareable, error);
                if (!disk) {
                        g_prefix_error(error, "%s: ", image->origin);
                        return FALSE;
                }
                vmlock_domain_add_disk(dom, disk);
        }
        return TRUE;
}

/* A cdrom is read-only to libvirt, <readonly/> written or not. */
static gboolean
disk_is_readonly(const VmlockDisk *disk)
{
        return vmlock_disk_get_readonly(disk) ||
               vmlock_disk_get_device(disk) == VMLOCK_DISK_DEVICE_CDROM;
}

gboolean
guest_images_check_agree(const VmlockDomain *dom, const char *domain_xml,
                         const GPtrArray *images, GError **error)
{
        g_return_val_if_fail(dom != NULL && images != NULL, FALSE);

        guint n_local = 0;

        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);
                const QemuImage *first;
                gboolean readonly, shareable, follow;
                const VmlockDisk *disk;

                if (!image->path)
                        continue;
                n_local++;
                disk = find_disk(dom, image->path);
                if (!disk || !vmlock_disk_is_lockable(disk)) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "QEMU's command line and %s disagree: %s opens %s, which "
                                    "is not a disk of %s",
                                    domain_xml, image->origin, image->path, domain_xml);
                        return FALSE;
                }
                merged_use(images, image->path, &readonly, &shareable, &follow, &first);
                if (readonly != disk_is_readonly(disk)) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "QEMU's command line and %s disagree: disk %s is %s in %s "
                                    "but QEMU opens it %s (%s)",
                                    domain_xml, image->path,
                                    readonly ? "read-write" : "<readonly/>", domain_xml,
                                    readonly ? "read-only" : "read-write", first->origin);
                        return FALSE;
                }
        }
        /* A QEMU that opens no image gets its disks otherwise (hotplug):
         * the XML's leases are then all there is to take. */
        for (guint i = 0; n_local > 0 && i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                const char *path = vmlock_disk_get_source(disk);
                gboolean found = FALSE;

                if (!vmlock_disk_is_lockable(disk))
                        continue;
                for (guint j = 0; j < images->len && !found; j++) {
                        const QemuImage *image = g_ptr_array_index(images, j);

                        found = g_strcmp0(image->path, path) == 0;
                }
                if (!found) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "QEMU's command line and %s disagree: disk %s of %s is not "
                                    "on QEMU's command line",
                                    domain_xml, path, domain_xml);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
guest_images_check_remote(const GPtrArray *images, gboolean refuse, const char *config_file,
                          GPtrArray *warnings, GError **error)
{
        g_return_val_if_fail(images != NULL && warnings != NULL, FALSE);

        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);

                if (image->path)
                        continue;
                if (refuse && !image->readonly) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                                    "%s: QEMU would write %s, which vmlock cannot lease (not a "
                                    "local path), and %s sets require_lease_for_disks: give "
                                    "QEMU a local path, open it read-only, or add a <lease> "
                                    "in a domain XML",
                                    image->origin, image->remote, config_file);
                        return FALSE;
                }
                g_ptr_array_add(warnings,
                                g_strdup_printf("%s: %s is not a local path: vmlock takes no "
                                                "lease for it",
                                                image->origin, image->remote));
        }
        return TRUE;
}

/* What QEMU opens says whether it reads the header's backing chain; for a
 * disk it does not open (no QEMU, or given later), the XML's <driver
 * type>, absent meaning raw as in libvirt: never a guessed format, since a
 * guest can write anything, a qcow2 header too, into its raw disk. */
static gboolean
reads_backing_chain(const VmlockDisk *disk, const GPtrArray *images)
{
        const char *format = vmlock_disk_get_format(disk);
        const QemuImage *first = NULL;
        gboolean readonly, shareable, follow = FALSE;

        if (images)
                merged_use(images, vmlock_disk_get_source(disk), &readonly, &shareable,
                           &follow, &first);
        if (first)
                return follow;
        return g_strcmp0(format, "qcow2") == 0 || g_strcmp0(format, "qcow") == 0;
}

gboolean
guest_images_add_backing_files(VmlockDomain *dom, const GPtrArray *images, GPtrArray *warnings,
                               GError **error)
{
        guint n_disks;

        g_return_val_if_fail(dom != NULL && warnings != NULL, FALSE);

        /* Only the disks given: the backing files added below have their
         * chains walked with the disk they belong to. */
        n_disks = vmlock_domain_get_n_disks(dom);
        for (guint i = 0; i < n_disks; i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                const char *path = vmlock_disk_get_source(disk);
                g_autoptr(GPtrArray) chain = NULL;
                g_autofree char *remote = NULL;

                if (!vmlock_disk_is_lockable(disk) ||
                    vmlock_disk_get_type(disk) == VMLOCK_DISK_TYPE_DIR)
                        continue;
                if (!reads_backing_chain(disk, images))
                        continue;
                chain = qemu_qcow2_backing_chain(path, &remote, error);
                if (!chain)
                        return FALSE;
                for (guint j = 0; j < chain->len; j++) {
                        const char *backing = g_ptr_array_index(chain, j);
                        VmlockDisk *added;

                        if (find_disk(dom, backing))
                                continue;
                        added = vmlock_disk_new(path_type(backing), VMLOCK_DISK_DEVICE_DISK,
                                                backing, TRUE, FALSE, error);
                        if (!added) {
                                g_prefix_error(error, "backing file of %s: ", path);
                                return FALSE;
                        }
                        g_debug("%s: backing file %s of %s", G_STRFUNC, backing, path);
                        vmlock_domain_add_disk(dom, added);
                }
                if (remote)
                        g_ptr_array_add(warnings,
                                        g_strdup_printf("the backing chain of %s ends in %s, "
                                                        "not a local path: vmlock takes no "
                                                        "lease for it",
                                                        path, remote));
        }
        return TRUE;
}
