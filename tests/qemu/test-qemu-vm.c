/* vmlock tests: the images QEMU has open read-write, from its own answer. */
#include "config-build.h"

#include "qemu/qemu_vm.h"

static GPtrArray *
writable_of(const char *answer)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, answer, -1, &error);
        g_assert_no_error(error);
        return qemu_vm_writable_images(json_node_get_array(json_parser_get_root(parser)));
}

static char *
joined(GPtrArray *paths)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; i < paths->len; i++)
                g_string_append_printf(out, "%s%s", i ? " " : "",
                                       (const char *)g_ptr_array_index(paths, i));
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* QEMU 7.2's answer for -drive file=/i/a.img,snapshot=on,format=raw and a
 * disk written as it is. */
static void
test_snapshot_overlay(void)
{
        const char *answer =
                "[{\"node-name\": \"#block616\", \"drv\": \"qcow2\", \"ro\": false,"
                "  \"backing_file\": \"/i/a.img\","
                "  \"file\": \"json:{\\\"backing\\\": {\\\"driver\\\": \\\"raw\\\", \\\"file\\\":"
                " {\\\"driver\\\": \\\"file\\\", \\\"filename\\\": \\\"/i/a.img\\\"}},"
                " \\\"driver\\\": \\\"qcow2\\\", \\\"file\\\": {\\\"driver\\\": \\\"file\\\","
                " \\\"filename\\\": \\\"/var/tmp/vl.55O1Z3\\\"}}\"},"
                " {\"node-name\": \"#block564\", \"drv\": \"file\", \"ro\": false,"
                "  \"file\": \"/var/tmp/vl.55O1Z3\"},"
                " {\"node-name\": \"#block163\", \"drv\": \"raw\", \"ro\": true,"
                "  \"file\": \"/i/a.img\"},"
                " {\"node-name\": \"#block095\", \"drv\": \"file\", \"ro\": true,"
                "  \"file\": \"/i/a.img\"},"
                " {\"node-name\": \"w0\", \"drv\": \"file\", \"ro\": false,"
                "  \"file\": \"/i/b.img\"}]";
        g_autoptr(GPtrArray) paths = writable_of(answer);
        g_autofree char *got = joined(paths);

        g_assert_cmpstr(got, ==, "/i/b.img");
}

/* An overlay of the user's own, written as a plain file, or a file merely
 * named like QEMU's, is an image like any other. */
static void
test_not_an_overlay(void)
{
        const char *answer =
                "[{\"node-name\": \"o\", \"drv\": \"qcow2\", \"ro\": false,"
                "  \"backing_file\": \"/i/base.img\", \"file\": \"/i/overlay.qcow2\"},"
                " {\"node-name\": \"of\", \"drv\": \"file\", \"ro\": false,"
                "  \"file\": \"/i/overlay.qcow2\"},"
                " {\"node-name\": \"v\", \"drv\": \"file\", \"ro\": false,"
                "  \"file\": \"/srv/vl.ABCDEF\"},"
                " {\"node-name\": \"d\", \"drv\": \"host_device\", \"ro\": false,"
                "  \"file\": \"/dev/sdb\"}]";
        g_autoptr(GPtrArray) paths = writable_of(answer);
        g_autofree char *got = joined(paths);

        g_assert_cmpstr(got, ==, "/i/overlay.qcow2 /srv/vl.ABCDEF /dev/sdb");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qemu/vm/writable/snapshot-overlay", test_snapshot_overlay);
        g_test_add_func("/qemu/vm/writable/not-an-overlay", test_not_an_overlay);
        return g_test_run();
}
