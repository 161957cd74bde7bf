/* vmlock: tests of a guest's disks from QEMU's command line and of the
 * backing files of its qcow2 disks (src/supervisor/guest_images.c). */
#include "config-build.h"

#include <string.h>

#include <glib/gstdio.h>

#include <vmlock/vmlock.h>

#include "qemu/qemu_cmdline.h"
#include "qemu/qemu_json_options.h"
#include "supervisor/guest_images.h"

#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"

static GPtrArray *
images_of(const char *first, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        GPtrArray *images;
        va_list args;

        g_ptr_array_add(argv, (gpointer) "qemu-system-x86_64");
        va_start(args, first);
        for (const char *arg = first; arg; arg = va_arg(args, const char *))
                g_ptr_array_add(argv, (gpointer)arg);
        va_end(args);
        g_ptr_array_add(argv, NULL);
        images = qemu_cmdline_images((char *const *)argv->pdata, &qemu_json_options,
                                     &error);
        g_assert_no_error(error);
        return images;
}

/* Each disk as "PATH DEVICE ro|rw[ shareable]", joined with " | ". */
static char *
disks_of(const VmlockDomain *dom)
{
        g_autoptr(GString) text = g_string_new(NULL);

        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);

                g_string_append_printf(text, "%s%s %s %s%s", i ? " | " : "",
                                       vmlock_disk_get_source(disk),
                                       vmlock_disk_device_to_string(vmlock_disk_get_device(disk)),
                                       vmlock_disk_get_readonly(disk) ? "ro" : "rw",
                                       vmlock_disk_get_shareable(disk) ? " shareable" : "");
        }
        return g_string_free(g_steal_pointer(&text), FALSE);
}

static VmlockDomain *
domain_new(void)
{
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_new("g", UUID, &error);

        g_assert_no_error(error);
        return dom;
}

static void
test_to_domain(void)
{
        g_autoptr(GPtrArray) images = images_of(
                "-drive", "file=/i/a.img,if=none,id=d0", "-device",
                "virtio-blk-pci,drive=d0,share-rw=on", "-cdrom", "/i/c.iso", "-drive",
                "file=/i/b.img,readonly=on", "-hdb", "/i/b.img", "-fda", "/dev/fd0", "-drive",
                "file=nbd:srv:1", NULL);
        g_autoptr(VmlockDomain) dom = domain_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *disks = NULL;

        /* /i/b.img twice: written by -hdb, so read-write. A floppy, as a
         * cdrom, is read-only to vmlock (a shared lease, issue 16); QEMU
         * opening it writable shows as an UNPROTECTED image. */
        g_assert_true(guest_images_add_to_domain(dom, images, &error));
        g_assert_no_error(error);
        disks = disks_of(dom);
        g_assert_cmpstr(disks, ==,
                        "/i/a.img disk rw shareable | /i/c.iso cdrom ro | /i/b.img disk rw | "
                        "/dev/fd0 floppy ro");
        g_assert_cmpint(vmlock_disk_get_type(vmlock_domain_get_disk(dom, 3)), ==,
                        VMLOCK_DISK_TYPE_BLOCK);
}

static void
test_to_domain_relative(void)
{
        g_autoptr(GPtrArray) images = images_of("-m", "64", "-drive", "file=a.img", NULL);
        g_autoptr(VmlockDomain) dom = domain_new();
        g_autoptr(GError) error = NULL;

        g_assert_false(guest_images_add_to_domain(dom, images, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==,
                        "-drive file=a.img (argument 4): disk path 'a.img' must be absolute");
}

static VmlockDomain *
xml_domain(const char *devices)
{
        g_autofree char *xml = g_strdup_printf("<domain><name>g</name><devices>%s</devices>"
                                               "</domain>", devices);
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_parse_string(xml, strlen(xml), "g.xml", &error);

        g_assert_no_error(error);
        return dom;
}

#define DISK_A "<disk type='file'><source file='/i/a.img'/></disk>"
#define DISK_B_RO "<disk type='file'><source file='/i/b.img'/><readonly/></disk>"
#define NET_DISK "<disk type='network'><source protocol='nbd' name='e'/></disk>"

static void
test_agree(void)
{
        static const struct {
                const char *devices;
                const char *args[6];
                const char *error; /* NULL: they agree */
        } cases[] = {
                { DISK_A DISK_B_RO NET_DISK,
                  { "-hda", "/i/a.img", "-drive", "file=/i/b.img,readonly=on,if=virtio" },
                  NULL },
                { DISK_A, { "-hda", "/i/a.img", "-drive", "file=nbd:srv:1" }, NULL },
                /* A cdrom is read-only, <readonly/> or not. */
                { "<disk type='file' device='cdrom'><source file='/i/c.iso'/></disk>",
                  { "-cdrom", "/i/c.iso" }, NULL },
                /* A QEMU that opens no image: the XML's disks come by hotplug. */
                { DISK_A DISK_B_RO, { "-machine", "none" }, NULL },
                { DISK_A, { "-hda", "/i/a.img", "-hdb", "/i/x.img" },
                  "QEMU's command line and g.xml disagree: -hdb /i/x.img (argument 4) opens "
                  "/i/x.img, which is not a disk of g.xml" },
                { DISK_A DISK_B_RO, { "-hda", "/i/a.img" },
                  "QEMU's command line and g.xml disagree: disk /i/b.img of g.xml is not on "
                  "QEMU's command line" },
                { DISK_A, { "-drive", "file=/i/a.img,readonly=on" },
                  "QEMU's command line and g.xml disagree: disk /i/a.img is read-write in "
                  "g.xml but QEMU opens it read-only (-drive file=/i/a.img,readonly=on "
                  "(argument 2))" },
                { DISK_B_RO, { "-drive", "file=/i/b.img" },
                  "disk /i/b.img is <readonly/> in g.xml but QEMU opens it read-write" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(VmlockDomain) dom = xml_domain(cases[i].devices);
                g_autoptr(GPtrArray) images = images_of(cases[i].args[0], cases[i].args[1],
                                                        cases[i].args[2], cases[i].args[3],
                                                        NULL);
                g_autoptr(GError) error = NULL;
                gboolean ok = guest_images_check_agree(dom, "g.xml", images, &error);

                g_test_message("case %" G_GSIZE_FORMAT, i);
                if (!cases[i].error) {
                        g_assert_no_error(error);
                        g_assert_true(ok);
                        continue;
                }
                g_assert_false(ok);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                if (!strstr(error->message, cases[i].error))
                        g_error("'%s' does not contain '%s'", error->message, cases[i].error);
        }
}

static void
test_remote(void)
{
        g_autoptr(GPtrArray) images = images_of("-drive", "file=nbd:srv:1,readonly=on",
                                                "-blockdev",
                                                "driver=iscsi,node-name=i0,portal=p", NULL);
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;

        g_assert_true(guest_images_check_remote(images, FALSE, "/etc/vmlock/qemu-sanlock.conf",
                                                warnings, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(warnings->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(warnings, 0), ==,
                        "-drive file=nbd:srv:1,readonly=on (argument 2): nbd:srv:1 is not a "
                        "local path: vmlock takes no lease for it");
        g_ptr_array_set_size(warnings, 0);

        /* require_lease_for_disks: refused, but for what QEMU only reads. */
        g_assert_false(guest_images_check_remote(images, TRUE, "/etc/vmlock/qemu-sanlock.conf",
                                                 warnings, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED);
        g_assert_cmpstr(error->message, ==,
                        "-blockdev driver=iscsi,node-name=i0,portal=p (argument 4): QEMU would "
                        "write driver iscsi, which vmlock cannot lease (not a local path), and "
                        "/etc/vmlock/qemu-sanlock.conf sets require_lease_for_disks: give QEMU "
                        "a local path, open it read-only, or add a <lease> in a domain XML");
        g_assert_cmpuint(warnings->len, ==, 1);
}

static void
write_qcow2(const char *path, const char *backing)
{
        guint8 data[1024] = { 0 };
        guint64 offset = GUINT64_TO_BE(512);
        guint32 size = GUINT32_TO_BE((guint32)strlen(backing));
        g_autoptr(GError) error = NULL;

        memcpy(data, "QFI\xfb", 4);
        memcpy(data + 8, &offset, 8);
        memcpy(data + 16, &size, 4);
        memcpy(data + 512, backing, strlen(backing));
        g_file_set_contents(path, (const char *)data, sizeof(data), &error);
        g_assert_no_error(error);
}

static void
test_backing_files(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("vmlock-images-XXXXXX", &error);
        g_autofree char *base = g_build_filename(dir, "base.qcow2", NULL);
        g_autofree char *top = g_build_filename(dir, "top.qcow2", NULL);
        g_autofree char *top2 = g_build_filename(dir, "top2.qcow2", NULL);
        g_autofree char *remote = g_build_filename(dir, "remote.qcow2", NULL);
        g_autofree char *drive_top = g_strdup_printf("file=%s", top);
        g_autofree char *drive_top2 = g_strdup_printf("file=%s,format=raw", top2);
        g_autofree char *drive_remote = g_strdup_printf("file=%s,readonly=on", remote);
        g_autoptr(GPtrArray) images = NULL;
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(VmlockDomain) dom = domain_new();
        g_autofree char *disks = NULL;
        g_autofree char *expect = NULL;
        g_autofree char *command = g_strdup_printf("rm -rf '%s'", dir);

        g_assert_no_error(error);
        g_file_set_contents(base, "raw", 3, &error);
        g_assert_no_error(error);
        write_qcow2(top, "base.qcow2");
        write_qcow2(top2, "base.qcow2");
        write_qcow2(remote, "nbd://srv/e");

        /* format=raw: QEMU reads no header, so no backing file; base once. */
        images = images_of("-drive", drive_top, "-drive", drive_top2, "-drive", drive_remote,
                           "-drive", drive_top, NULL);
        g_assert_true(guest_images_add_to_domain(dom, images, &error));
        g_assert_true(guest_images_add_backing_files(dom, images, warnings, &error));
        g_assert_no_error(error);
        disks = disks_of(dom);
        expect = g_strdup_printf("%s disk rw | %s disk rw | %s disk ro | %s disk ro", top, top2,
                                 remote, base);
        g_assert_cmpstr(disks, ==, expect);
        g_assert_cmpuint(warnings->len, ==, 1);
        g_assert_true(strstr(g_ptr_array_index(warnings, 0), "ends in nbd://srv/e"));

        /* Without QEMU's arguments (no QEMU, or a disk it does not open):
         * the XML's <driver type>, none meaning raw. */
        g_ptr_array_set_size(warnings, 0);
        {
                g_autofree char *devices = g_strdup_printf(
                        "<disk type='file'><driver type='qcow2'/><source file='%s'/></disk>"
                        "<disk type='file'><source file='%s'/></disk>", top2, remote);
                g_autoptr(VmlockDomain) from_xml = xml_domain(devices);

                g_assert_true(guest_images_add_backing_files(from_xml, NULL, warnings,
                                                             &error));
                g_assert_no_error(error);
                g_free(disks);
                disks = disks_of(from_xml);
                g_free(expect);
                expect = g_strdup_printf("%s disk rw | %s disk rw | %s disk ro", top2, remote,
                                         base);
                g_assert_cmpstr(disks, ==, expect);
                g_assert_cmpuint(warnings->len, ==, 0);
        }

        /* A loop is an error naming the image. */
        write_qcow2(base, "top.qcow2");
        g_ptr_array_set_size(warnings, 0);
        {
                g_autoptr(VmlockDomain) looped = domain_new();

                g_assert_true(guest_images_add_to_domain(looped, images, &error));
                g_assert_false(guest_images_add_backing_files(looped, images, warnings,
                                                              &error));
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
                g_assert_true(strstr(error->message, "loops"));
        }
        g_assert_cmpint(system(command), ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/guest-images/to-domain", test_to_domain);
        g_test_add_func("/guest-images/to-domain/relative", test_to_domain_relative);
        g_test_add_func("/guest-images/agree", test_agree);
        g_test_add_func("/guest-images/remote", test_remote);
        g_test_add_func("/guest-images/backing-files", test_backing_files);
        return g_test_run();
}
