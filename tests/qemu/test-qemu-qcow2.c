/* vmlock: tests of the qcow2 backing chain reader (src/qemu/qemu_qcow2.c),
 * on images whose headers the tests write byte by byte. */
#include "config-build.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/error.h>

#include "qemu/qemu_qcow2.h"

typedef struct {
        char *dir;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        fx->dir = g_dir_make_tmp("vmlock-qcow2-XXXXXX", &error);
        g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
        g_autofree char *command = g_strdup_printf("rm -rf '%s'", fx->dir);

        g_assert_cmpint(system(command), ==, 0);
        g_free(fx->dir);
}

static char *
path_in(Fixture *fx, const char *name)
{
        return g_build_filename(fx->dir, name, NULL);
}

/* A qcow2 header (version 3) naming @backing (NULL: none) at @offset, its
 * length @size (0: strlen), in a file of 4 KiB. */
static char *
write_qcow2_full(Fixture *fx, const char *name, const char *backing, guint64 offset,
                 guint32 size)
{
        g_autofree guint8 *data = g_malloc0(4096);
        char *path = path_in(fx, name);
        g_autoptr(GError) error = NULL;
        guint32 version = GUINT32_TO_BE(3);
        guint64 be_offset;
        guint32 be_size;

        memcpy(data, "QFI\xfb", 4);
        memcpy(data + 4, &version, 4);
        if (backing) {
                if (!size)
                        size = (guint32)strlen(backing);
                be_offset = GUINT64_TO_BE(offset);
                be_size = GUINT32_TO_BE(size);
                memcpy(data + 8, &be_offset, 8);
                memcpy(data + 16, &be_size, 4);
                if (offset + strlen(backing) <= 4096)
                        memcpy(data + offset, backing, strlen(backing));
        }
        g_file_set_contents(path, (const char *)data, 4096, &error);
        g_assert_no_error(error);
        return path;
}

static char *
write_qcow2(Fixture *fx, const char *name, const char *backing)
{
        return write_qcow2_full(fx, name, backing, 512, 0);
}

static char *
chain_string(const char *path, char **ret_remote, GError **error)
{
        g_autoptr(GPtrArray) chain = qemu_qcow2_backing_chain(path, ret_remote, error);

        if (!chain)
                return NULL;
        g_ptr_array_add(chain, NULL);
        return g_strjoinv(" ", (char **)chain->pdata);
}

static void
test_not_qcow2(Fixture *fx, gconstpointer data)
{
        g_autofree char *raw = path_in(fx, "raw.img");
        g_autofree char *missing = path_in(fx, "missing.img");
        g_autofree char *fifo = path_in(fx, "fifo");
        g_autofree char *plain = write_qcow2(fx, "plain.qcow2", NULL);
        g_autoptr(GError) error = NULL;
        g_autofree char *remote = NULL;
        g_autofree char *chain = NULL;

        g_file_set_contents(raw, "QFI", 3, &error);
        g_assert_no_error(error);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        /* A raw image, a missing one, a FIFO (never opened: it would block)
         * and a qcow2 image without backing file have no chain. */
        chain = chain_string(raw, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, "");
        g_free(chain);
        chain = chain_string(missing, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, "");
        g_free(chain);
        chain = chain_string(fifo, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, "");
        g_free(chain);
        chain = chain_string(plain, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, "");
        g_assert_null(remote);
}

static void
test_chain(Fixture *fx, gconstpointer data)
{
        g_autofree char *sub = path_in(fx, "sub");
        g_autofree char *base = write_qcow2(fx, "base.qcow2", NULL);
        g_autofree char *mid = NULL;
        g_autofree char *top = NULL;
        g_autofree char *link = path_in(fx, "link.qcow2");
        g_autofree char *chain = NULL;
        g_autofree char *expect = NULL;
        g_autofree char *remote = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        /* Absolute, then relative to the image naming it (".." resolved). */
        mid = write_qcow2(fx, "sub/mid.qcow2", base);
        top = write_qcow2(fx, "top.qcow2", "sub/./mid.qcow2");
        g_assert_cmpint(symlink(top, link), ==, 0);
        chain = chain_string(top, &remote, &error);
        g_assert_no_error(error);
        expect = g_strdup_printf("%s %s", mid, base);
        g_assert_cmpstr(chain, ==, expect);
        g_free(chain);
        /* Through a link: the link's directory, as QEMU resolves it. */
        chain = chain_string(link, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, expect);
        g_free(mid);
        mid = write_qcow2(fx, "sub/mid.qcow2", "../base.qcow2");
        g_free(chain);
        chain = chain_string(top, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, expect);
}

static void expect_error(const char *path, const char *part);

/* As qemu-img create -F FORMAT writes it: version 3, 64 KiB clusters, the
 * backing format extension right after the 104-byte header. */
static char *
write_qcow2_with_format(Fixture *fx, const char *name, const char *backing,
                        const char *format)
{
        g_autofree guint8 *data = g_malloc0(4096);
        char *path = path_in(fx, name);
        g_autoptr(GError) error = NULL;
        guint32 be32;
        guint64 be64;

        memcpy(data, "QFI\xfb", 4);
        be32 = GUINT32_TO_BE(3);
        memcpy(data + 4, &be32, 4);
        be64 = GUINT64_TO_BE(512);
        memcpy(data + 8, &be64, 8);
        be32 = GUINT32_TO_BE((guint32)strlen(backing));
        memcpy(data + 16, &be32, 4);
        be32 = GUINT32_TO_BE(16);
        memcpy(data + 20, &be32, 4);
        be32 = GUINT32_TO_BE(104);
        memcpy(data + 100, &be32, 4);
        be32 = GUINT32_TO_BE(0xe2792acaU);
        memcpy(data + 104, &be32, 4);
        be32 = GUINT32_TO_BE((guint32)strlen(format));
        memcpy(data + 108, &be32, 4);
        memcpy(data + 112, format, strlen(format));
        memcpy(data + 512, backing, strlen(backing));
        g_file_set_contents(path, (const char *)data, 4096, &error);
        g_assert_no_error(error);
        return path;
}

/* A backing file the header says is raw is not read: whatever its bytes
 * (a guest wrote them), QEMU reads no header of it. Without a format, or
 * with qcow2, its header counts. */
static void
test_backing_format(Fixture *fx, gconstpointer data)
{
        g_autofree char *base = write_qcow2(fx, "base.img", "elsewhere.qcow2");
        g_autofree char *raw_top = write_qcow2_with_format(fx, "raw-top.qcow2", "base.img",
                                                           "raw");
        g_autofree char *qcow2_top = write_qcow2_with_format(fx, "qcow2-top.qcow2",
                                                             "base.img", "qcow2");
        g_autofree char *remote = NULL;
        g_autofree char *chain = NULL;
        g_autoptr(GError) error = NULL;

        chain = chain_string(raw_top, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, base);
        expect_error(qcow2_top, "elsewhere.qcow2 of ");
}

/* Images as qemu-img makes them: top (qcow2) -> mid (qcow2) -> base (raw). */
static void
test_qemu_img(Fixture *fx, gconstpointer data)
{
        g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
        g_autofree char *base = path_in(fx, "base.raw");
        g_autofree char *mid = path_in(fx, "mid.qcow2");
        g_autofree char *top = path_in(fx, "top.qcow2");
        g_autofree char *remote = NULL;
        g_autofree char *chain = NULL;
        g_autofree char *expect = NULL;
        g_autoptr(GError) error = NULL;
        const char *steps[][12] = {
                { qemu_img, "create", "-q", "-f", "raw", base, "1M", NULL },
                { qemu_img, "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", mid },
                { qemu_img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", mid, top },
        };

        if (!qemu_img) {
                g_test_skip("qemu-img (qemu-utils) is not installed");
                return;
        }
        for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
                int status = -1;

                g_assert_true(g_spawn_sync(fx->dir, (char **)steps[i], NULL, G_SPAWN_DEFAULT,
                                           NULL, NULL, NULL, NULL, &status, NULL));
                g_assert_cmpint(status, ==, 0);
        }
        chain = chain_string(top, &remote, &error);
        g_assert_no_error(error);
        expect = g_strdup_printf("%s %s", mid, base);
        g_assert_cmpstr(chain, ==, expect);
}

static void
test_remote(Fixture *fx, gconstpointer data)
{
        g_autofree char *top = write_qcow2(fx, "top.qcow2", "nbd://srv:10809/export");
        g_autofree char *chain = NULL;
        g_autofree char *remote = NULL;
        g_autoptr(GError) error = NULL;

        chain = chain_string(top, &remote, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(chain, ==, "");
        g_assert_cmpstr(remote, ==, "nbd://srv:10809/export");
}

static void
expect_error(const char *path, const char *part)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *remote = NULL;
        g_autofree char *chain = chain_string(path, &remote, &error);

        g_assert_null(chain);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        if (!strstr(error->message, part))
                g_error("'%s' does not contain '%s'", error->message, part);
}

static void
test_loops(Fixture *fx, gconstpointer data)
{
        g_autofree char *self = write_qcow2(fx, "self.qcow2", "self.qcow2");
        g_autofree char *a = write_qcow2(fx, "a.qcow2", "b.qcow2");
        g_autofree char *b = write_qcow2(fx, "b.qcow2", "a.qcow2");
        g_autofree char *msg = g_strdup_printf("the backing chain of %s loops", a);

        expect_error(self, "loops");
        expect_error(a, msg);
}

static void
test_too_deep(Fixture *fx, gconstpointer data)
{
        g_autofree char *last = write_qcow2(fx, "l0.qcow2", NULL);
        g_autofree char *msg = NULL;

        for (guint i = 1; i <= QEMU_QCOW2_CHAIN_MAX + 1; i++) {
                g_autofree char *name = g_strdup_printf("l%u.qcow2", i);
                g_autofree char *below = g_strdup_printf("l%u.qcow2", i - 1);

                g_free(last);
                last = write_qcow2(fx, name, below);
        }
        msg = g_strdup_printf("more than %d files deep", QEMU_QCOW2_CHAIN_MAX);
        expect_error(last, msg);
}

static void
test_corrupt(Fixture *fx, gconstpointer data)
{
        g_autofree char *long_name = write_qcow2_full(fx, "long.qcow2", "x", 512, 1024);
        g_autofree char *past = write_qcow2_full(fx, "past.qcow2", "x", 4095, 2);
        g_autofree char *nul = write_qcow2_full(fx, "nul.qcow2", "ab", 512, 3);
        g_autofree char *missing = write_qcow2(fx, "m.qcow2", "gone.qcow2");
        g_autofree char *fifo = path_in(fx, "fifo");
        g_autofree char *to_fifo = write_qcow2(fx, "f.qcow2", "fifo");

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        expect_error(long_name, "corrupt: its backing file name (1024 bytes at offset 512) is "
                                "too long");
        expect_error(past, "is past the end");
        expect_error(nul, "is not text");
        expect_error(missing, "gone.qcow2 of ");
        expect_error(to_fifo, "is missing or is not a regular file nor a block device");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/qemu/qcow2/not-qcow2", test_not_qcow2);
        ADD("/qemu/qcow2/chain", test_chain);
        ADD("/qemu/qcow2/remote", test_remote);
        ADD("/qemu/qcow2/backing-format", test_backing_format);
        ADD("/qemu/qcow2/qemu-img", test_qemu_img);
        ADD("/qemu/qcow2/loops", test_loops);
        ADD("/qemu/qcow2/too-deep", test_too_deep);
        ADD("/qemu/qcow2/corrupt", test_corrupt);
#undef ADD
        return g_test_run();
}
