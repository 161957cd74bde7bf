/* vmlock: a guest's disks from QEMU's command line, and the backing files
 * of its qcow2 disks: what `vmlock start` leases besides the domain XML. */
#pragma once

#include <vmlock/domain.h>

G_BEGIN_DECLS

/* Adds to @dom a disk for each local image of @images (QemuImage, from
 * qemu_cmdline_images()): read-only ones (and cdroms, snapshot=on) get
 * shared leases, share-rw=on ones are shareable, the others exclusive. An
 * image named twice is one disk, read-write if either use writes it.
 * Errors (INVALID_ARG) name the argument: a relative path, one too long. */
gboolean guest_images_add_to_domain(VmlockDomain *dom, const GPtrArray *images,
                                    GError **error);

/* @dom from @domain_xml and QEMU's @images must name the same local images,
 * each read-only in both or in neither; else INVALID_ARG naming the first
 * difference. Disks that are no local path (network, volume, an empty
 * cdrom) are not compared. When QEMU opens no local image at all, the XML's
 * disks are leases for disks QEMU gets otherwise (hotplug): not refused. */
gboolean guest_images_check_agree(const VmlockDomain *dom, const char *domain_xml,
                                  const GPtrArray *images, GError **error);

/* The images that are no local path (nbd:, driver=iscsi, -set drive...):
 * vmlock cannot lease them. Each is a warning appended to @warnings, or,
 * when @refuse (the driver's require_lease_for_disks and no <lease>) and
 * QEMU writes it, an UNSUPPORTED error naming it and @config_file. */
gboolean guest_images_check_remote(const GPtrArray *images, gboolean refuse,
                                   const char *config_file, GPtrArray *warnings,
                                   GError **error);

/* Adds the backing chain of each local disk of @dom whose qcow2 header QEMU
 * reads as read-only disks: shared leases, so that no one starts a writer
 * on a backing file in use. Whether QEMU reads it comes from @images (may
 * be NULL) for the images QEMU opens, else from the disk's format in the
 * XML (<driver type='qcow2'>; none means raw, as in libvirt). A backing
 * file that is already a disk is not added twice. A backing name that is
 * no local path is a warning in @warnings. */
gboolean guest_images_add_backing_files(VmlockDomain *dom, const GPtrArray *images,
                                        GPtrArray *warnings, GError **error);

G_END_DECLS
