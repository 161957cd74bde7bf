/* vmlock: tests of the QEMU command line's images (src/qemu/qemu_cmdline.c),
 * one table of command lines and what vmlock must read from them. */
#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "qemu/qemu_cmdline.h"
#include "qemu/qemu_json_options.h"

/* Each image as "PATH MODE ROLE[ shared][ backing]" (MODE ro or rw;
 * "backing": QEMU reads the chain its qcow2 header names), or
 * "remote WHAT MODE ROLE"; images joined with " | ". */
typedef struct {
        const char *name;
        const char *args[16]; /* after the program, NULL-terminated */
        const char *expect;   /* the images, or NULL with @error */
        const char *error;    /* a part of the error message */
} Case;

static const Case cases[] = {
        /* -drive */
        { "drive/plain", { "-drive", "file=/i/a.img,if=virtio" }, "/i/a.img rw disk backing" },
        { "drive/readonly", { "-drive", "file=/i/a.img,readonly=on" },
          "/i/a.img ro disk backing" },
        { "drive/read-only", { "-drive", "file=/i/a.img,read-only=on" },
          "/i/a.img ro disk backing" },
        { "drive/readonly-bare", { "-drive", "file=/i/a.img,readonly" },
          "/i/a.img ro disk backing" },
        { "drive/readonly-off", { "-drive", "file=/i/a.img,readonly=off" },
          "/i/a.img rw disk backing" },
        { "drive/snapshot", { "-drive", "file=/i/a.img,snapshot=on" },
          "/i/a.img ro disk backing" },
        { "drive/global-snapshot", { "-drive", "file=/i/a.img", "-snapshot" },
          "/i/a.img ro disk backing" },
        { "drive/global-snapshot-off", { "-snapshot", "-drive", "file=/i/a.img,snapshot=off" },
          "/i/a.img rw disk backing" },
        { "drive/cdrom", { "-drive", "file=/i/a.iso,media=cdrom" }, "/i/a.iso ro cdrom backing" },
        { "drive/floppy", { "-drive", "file=/i/f.img,if=floppy" }, "/i/f.img rw floppy backing" },
        { "drive/raw", { "-drive", "file=/i/a.img,format=raw" }, "/i/a.img rw disk" },
        { "drive/qcow2", { "-drive", "format=qcow2,file=/i/a.qcow2" },
          "/i/a.qcow2 rw disk backing" },
        { "drive/backing-given", { "-drive", "file=/i/a.qcow2,backing.file.filename=/i/b" },
          "/i/a.qcow2 rw disk | /i/b ro disk backing" },
        { "drive/backing-given-driver",
          { "-drive", "file=/i/a.qcow2,backing.driver=raw,backing.file.driver=file,"
                      "backing.file.filename=/i/b.raw" },
          "/i/a.qcow2 rw disk | /i/b.raw ro disk" },
        { "drive/backing-given-nbd", { "-drive", "file=/i/a.qcow2,backing.file=nbd:srv:1" },
          "/i/a.qcow2 rw disk | remote nbd:srv:1 ro disk" },
        { "drive/comma-escape", { "-drive", "file=/i/a,,b.img,readonly=on" },
          "/i/a,b.img ro disk backing" },
        { "drive/last-wins", { "-drive", "file=/i/a.img,file=/i/b.img" },
          "/i/b.img rw disk backing" },
        { "drive/file-protocol", { "-drive", "file=file:/i/a.img" }, "/i/a.img rw disk backing" },
        { "drive/colon-in-path", { "-drive", "file=/i/a:b.img" }, "/i/a:b.img rw disk backing" },
        { "drive/file-filename", { "-drive", "file.driver=file,file.filename=/i/a.img" },
          "/i/a.img rw disk backing" },
        { "drive/host-device", { "-drive", "file=/dev/sdb,format=raw,cache=none" },
          "/dev/sdb rw disk" },
        { "drive/nbd", { "-drive", "file=nbd:srv:10809,format=raw" },
          "remote nbd:srv:10809 rw disk" },
        { "drive/iscsi", { "-drive", "file=iscsi://srv/iqn.x/0,readonly=on" },
          "remote iscsi://srv/iqn.x/0 ro disk" },
        { "drive/json", { "-drive", "file=json:{\"driver\":\"file\",,\"filename\":\"/i/a\"}" },
          "remote json:{\"driver\":\"file\",\"filename\":\"/i/a\"} rw disk" },
        { "drive/file-driver-nbd", { "-drive", "file.driver=nbd,file.host=srv" },
          "remote driver nbd rw disk" },
        { "drive/driver-rbd", { "-drive", "driver=rbd,pool=p,image=i" },
          "remote driver rbd rw disk" },
        { "drive/empty-cdrom", { "-drive", "if=none,id=cd0,media=cdrom" }, "" },
        { "drive/double-dash", { "--drive", "file=/i/a.img" }, "/i/a.img rw disk backing" },

        /* the short forms */
        { "short/hd-cdrom-fd",
          { "-hda", "/i/a.img", "-hdb", "/i/b.img", "-hdc", "/i/c.img", "-hdd", "/i/d.img",
            "-cdrom", "/i/e.iso", "-fda", "/i/f.img", "-fdb", "/i/g.img" },
          "/i/a.img rw disk backing | /i/b.img rw disk backing | /i/c.img rw disk backing | "
          "/i/d.img rw disk backing | /i/e.iso ro cdrom backing | "
          "/i/f.img rw floppy backing | /i/g.img rw floppy backing" },
        { "short/hda-comma", { "-hda", "/i/a,b.img" }, "/i/a,b.img rw disk backing" },
        { "short/pflash", { "-pflash", "/i/vars.fd" }, "/i/vars.fd rw disk backing" },
        { "short/bare", { "-m", "64", "/i/a.img" }, "/i/a.img rw disk backing" },
        { "short/hda-snapshot", { "-snapshot", "-hda", "/i/a.img" }, "/i/a.img ro disk backing" },

        /* -device ties */
        { "device/ide-cd", { "-drive", "file=/i/a.iso,if=none,id=cd0", "-device",
                             "ide-cd,drive=cd0" },
          "/i/a.iso rw cdrom backing" },
        { "device/before-drive", { "-device", "scsi-cd,drive=cd0", "-drive",
                                   "file=/i/a.iso,if=none,id=cd0,readonly=on" },
          "/i/a.iso ro cdrom backing" },
        { "device/share-rw", { "-drive", "file=/i/a.img,if=none,id=d0", "-device",
                               "virtio-blk-pci,drive=d0,share-rw=on" },
          "/i/a.img rw disk shared backing" },
        { "device/json", { "-drive", "file=/i/a.img,if=none,id=d0", "-device",
                           "{\"driver\":\"virtio-blk-pci\",\"drive\":\"d0\",\"share-rw\":true}" },
          "/i/a.img rw disk shared backing" },

        /* -blockdev */
        { "blockdev/file", { "-blockdev", "driver=file,node-name=f0,filename=/i/a.img" },
          "/i/a.img rw disk" },
        { "blockdev/implied-driver", { "-blockdev", "file,node-name=f0,filename=/i/a.img" },
          "/i/a.img rw disk" },
        { "blockdev/read-only", { "-blockdev",
                                  "driver=file,node-name=f0,filename=/i/a.img,read-only=on" },
          "/i/a.img ro disk" },
        { "blockdev/host-device", { "-blockdev",
                                    "driver=host_device,node-name=f0,filename=/dev/sdb" },
          "/dev/sdb rw disk" },
        { "blockdev/qcow2-reference",
          { "-blockdev", "driver=qcow2,node-name=d0,file=f0", "-blockdev",
            "driver=file,node-name=f0,filename=/i/a.qcow2" },
          "/i/a.qcow2 rw disk backing" },
        { "blockdev/raw-reference",
          { "-blockdev", "driver=file,node-name=f0,filename=/i/a.img", "-blockdev",
            "driver=raw,node-name=d0,file=f0", "-device", "virtio-blk-pci,drive=d0,share-rw=on" },
          "/i/a.img rw disk shared" },
        { "blockdev/cd-through-format",
          { "-blockdev", "driver=file,node-name=f0,filename=/i/a.iso,read-only=on", "-blockdev",
            "driver=raw,node-name=d0,file=f0,read-only=on", "-device", "ide-cd,drive=d0" },
          "/i/a.iso ro cdrom" },
        { "blockdev/two-roles",
          { "-blockdev", "driver=file,node-name=f0,filename=/i/a.img,read-only=on",
            "-blockdev", "driver=raw,node-name=c0,file=f0,read-only=on", "-blockdev",
            "driver=raw,node-name=d0,file=f0,read-only=on", "-device", "ide-cd,drive=c0",
            "-device", "floppy,drive=d0" },
          "/i/a.img ro cdrom" },
        { "blockdev/backing-null",
          { "-blockdev", "driver=file,node-name=f0,filename=/i/a.qcow2", "-blockdev",
            "driver=qcow2,node-name=d0,file=f0,backing=" },
          "/i/a.qcow2 rw disk" },
        { "blockdev/backing-reference",
          { "-blockdev", "driver=file,node-name=b0,filename=/i/base.qcow2,read-only=on",
            "-blockdev", "driver=qcow2,node-name=b1,file=b0,read-only=on", "-blockdev",
            "driver=file,node-name=f0,filename=/i/top.qcow2", "-blockdev",
            "driver=qcow2,node-name=d0,file=f0,backing=b1" },
          "/i/base.qcow2 ro disk backing | /i/top.qcow2 rw disk" },
        { "blockdev/dotted-inline",
          { "-blockdev", "driver=qcow2,node-name=d0,file.driver=file,file.filename=/i/a.qcow2" },
          "/i/a.qcow2 rw disk backing" },
        { "blockdev/json-inline",
          { "-blockdev", "{\"driver\":\"qcow2\",\"node-name\":\"d0\",\"file\":{\"driver\":"
                         "\"file\",\"filename\":\"/i/a.qcow2\"}}" },
          "/i/a.qcow2 rw disk backing" },
        { "blockdev/json-read-only",
          { "-blockdev", "{\"driver\":\"raw\",\"node-name\":\"d0\",\"read-only\":true,"
                         "\"file\":{\"driver\":\"file\",\"filename\":\"/i/a.img\"}}" },
          "/i/a.img ro disk" },
        { "blockdev/json-backing-inline",
          { "-blockdev",
            "{\"driver\":\"qcow2\",\"node-name\":\"d0\",\"file\":{\"driver\":\"file\","
            "\"filename\":\"/i/top.qcow2\"},\"backing\":{\"driver\":\"qcow2\",\"file\":"
            "{\"driver\":\"file\",\"filename\":\"/i/base.qcow2\"}}}" },
          "/i/top.qcow2 rw disk | /i/base.qcow2 ro disk backing" },
        { "blockdev/json-backing-null",
          { "-blockdev", "{\"driver\":\"qcow2\",\"node-name\":\"d0\",\"backing\":null,"
                         "\"file\":{\"driver\":\"file\",\"filename\":\"/i/a.qcow2\"}}" },
          "/i/a.qcow2 rw disk" },
        { "blockdev/nbd", { "-blockdev", "driver=nbd,node-name=n0,server.type=inet,"
                                         "server.host=srv,server.port=10809,export=e" },
          "remote driver nbd rw disk" },
        { "blockdev/raw-over-iscsi",
          { "-blockdev", "driver=raw,node-name=d0,read-only=on,file.driver=iscsi,"
                         "file.portal=srv,file.target=iqn.x,file.lun=0" },
          "remote driver iscsi ro disk" },

        /* what is not an image */
        { "other/none", { "-m", "64", "-nographic", "-machine", "none" }, "" },
        { "other/unknown-flag-then-drive", { "-some-new-flag", "-drive", "file=/i/a.img" },
          "/i/a.img rw disk backing" },
        { "other/append-dash", { "-append", "-hda /i/x", "-kernel", "/boot/k" }, "" },
        { "other/set-drive", { "-set", "drive.d0.file=/i/x" },
          "remote drive.d0.file=/i/x rw disk" },
        { "other/unknown-last", { "-drive", "file=/i/a.img", "-no-such-option" },
          "/i/a.img rw disk backing" },
        { "other/device-no-drive", { "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56" },
          "" },

        /* errors: each names the argument */
        { "error/bad-bool", { "-drive", "file=/i/a.img,readonly=maybe" }, NULL,
          "-drive file=/i/a.img,readonly=maybe (argument 2): readonly: 'maybe' is not on or off" },
        { "error/no-value", { "-m", "64", "-drive" }, NULL, "-drive (argument 3) needs a value" },
        { "error/no-key", { "-drive", "=x" }, NULL,
          "-drive =x (argument 2): a parameter without a name" },
        { "error/media", { "-drive", "file=/i/a.img,media=tape" }, NULL,
          "(argument 2): media: 'tape' is not disk or cdrom" },
        { "error/empty-after-protocol", { "-drive", "file=file:" }, NULL,
          "-drive file=file: (argument 2): an empty file name after the protocol" },
        { "error/share-rw", { "-device", "virtio-blk-pci,drive=d0,share-rw=sometimes" }, NULL,
          "(argument 2): share-rw: 'sometimes' is not on or off" },
        { "error/blockdev-no-node-name", { "-blockdev", "driver=file,filename=/i/a.img" }, NULL,
          "-blockdev driver=file,filename=/i/a.img (argument 2): node-name is missing" },
        { "error/blockdev-no-driver", { "-blockdev", "node-name=f0,filename=/i/a.img" }, NULL,
          "(argument 2): driver is missing" },
        { "error/blockdev-no-filename", { "-blockdev", "driver=file,node-name=f0" }, NULL,
          "(argument 2): filename is missing for driver file" },
        { "error/blockdev-inline-no-filename",
          { "-blockdev", "driver=qcow2,node-name=d0,file.driver=file" }, NULL,
          "(argument 2): file.filename is missing for driver file" },
        { "error/blockdev-bare-key", { "-blockdev", "driver=file,node-name=f0,filename=/a,ro" },
          NULL, "(argument 2): 'ro' has no value (expected KEY=VALUE)" },
        { "error/blockdev-bad-json", { "-blockdev", "{\"driver\": " }, NULL,
          "(argument 2): not valid JSON" },
        { "error/blockdev-json-no-node-name", { "-blockdev", "{\"driver\":\"file\"}" }, NULL,
          "-blockdev {\"driver\":\"file\"} (argument 2): node-name is missing" },
        { "error/blockdev-bad-read-only",
          { "-blockdev", "{\"driver\":\"file\",\"node-name\":\"f\",\"filename\":\"/a\","
                         "\"read-only\":2}" },
          NULL, "read-only: '2' is not on or off" },
};

static char *
describe(const GPtrArray *images)
{
        g_autoptr(GString) text = g_string_new(NULL);

        for (guint i = 0; i < images->len; i++) {
                const QemuImage *image = g_ptr_array_index(images, i);

                if (i > 0)
                        g_string_append(text, " | ");
                if (image->path)
                        g_string_append(text, image->path);
                else
                        g_string_append_printf(text, "remote %s", image->remote);
                g_string_append_printf(text, " %s %s", image->readonly ? "ro" : "rw",
                                       qemu_image_role_to_string(image->role));
                if (image->shareable)
                        g_string_append(text, " shared");
                if (image->backing_from_header)
                        g_string_append(text, " backing");
                g_assert_nonnull(image->origin);
        }
        return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
test_case(gconstpointer data)
{
        const Case *c = data;
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GPtrArray) images = NULL;
        g_autoptr(GError) error = NULL;

        g_ptr_array_add(argv, (gpointer) "qemu-system-x86_64");
        for (guint i = 0; c->args[i]; i++)
                g_ptr_array_add(argv, (gpointer)c->args[i]);
        g_ptr_array_add(argv, NULL);

        images = qemu_cmdline_images((char *const *)argv->pdata, &qemu_json_options,
                                     &error);
        if (c->expect) {
                g_autofree char *got = NULL;

                g_assert_no_error(error);
                got = describe(images);
                g_assert_cmpstr(got, ==, c->expect);
        } else {
                g_assert_null(images);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                if (!strstr(error->message, c->error))
                        g_error("'%s' does not contain '%s'", error->message, c->error);
        }
}

/* Where an image comes from, as messages show it. */
static void
test_origin(void)
{
        char *argv[] = { (char *)"qemu", (char *)"-m", (char *)"64", (char *)"-drive",
                         (char *)"file=/i/a.img,if=none,id=d0", (char *)"/i/b.img", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) images = qemu_cmdline_images(argv, &qemu_json_options,
                                                          &error);
        const QemuImage *image;

        g_assert_no_error(error);
        g_assert_cmpuint(images->len, ==, 2);
        image = g_ptr_array_index(images, 0);
        g_assert_cmpstr(image->origin, ==, "-drive file=/i/a.img,if=none,id=d0 (argument 4)");
        image = g_ptr_array_index(images, 1);
        g_assert_cmpstr(image->origin, ==, "image /i/b.img (argument 5)");
}

static void
test_local_path(void)
{
        static const struct {
                const char *name;
                const char *path; /* NULL: not local */
        } names[] = {
                { "/i/a.img", "/i/a.img" },
                { "a.img", "a.img" },
                { "dir/a:b", "dir/a:b" },
                { "file:/i/a.img", "/i/a.img" },
                { "host_device:/dev/sdb", "/dev/sdb" },
                { "nbd:srv:10809", NULL },
                { "nbd+unix:///e?socket=/s", NULL },
                { "json:{}", NULL },
                { "rbd:pool/image", NULL },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *path = NULL;
                gboolean local = qemu_filename_local_path(names[i].name, &path);

                g_assert_cmpint(local, ==, names[i].path != NULL);
                g_assert_cmpstr(path, ==, names[i].path);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path = g_strconcat("/qemu/cmdline/", cases[i].name, NULL);

                g_test_add_data_func(path, &cases[i], test_case);
        }
        g_test_add_func("/qemu/cmdline/origin", test_origin);
        g_test_add_func("/qemu/cmdline/local-path", test_local_path);
        return g_test_run();
}
