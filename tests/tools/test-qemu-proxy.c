/* vmlock: tests of the QMP proxy's policy (src/qemu/qemu_proxy.c): what is
 * passed on to QEMU, refused, or the supervisor's own. */
#include "config-build.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "qemu/qemu_proxy.h"

static JsonObject *
parse(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
decide(const char *command, const char *arguments, QemuProxyDecision *ret_decision)
{
        g_autoptr(JsonObject) args = arguments ? parse(arguments) : NULL;

        qemu_proxy_decide("g1", command, args, ret_decision);
}

/* Each command that could run the guest without its leases or hand it
 * storage behind vmlock's back is refused, whatever its arguments, with a
 * reason naming the guest. */
static void
test_refused(void)
{
        guint n = 0;

        for (guint i = 0; qemu_proxy_refused_command(i); i++) {
                const char *command = qemu_proxy_refused_command(i);
                g_autofree char *prefix = g_strdup_printf("vmlock: '%s' is refused for guest "
                                                          "'g1': ",
                                                          command);
                g_auto(QemuProxyDecision) bare = { 0 };
                g_auto(QemuProxyDecision) with_args = { 0 };

                decide(command, NULL, &bare);
                g_assert_cmpint(bare.action, ==, QEMU_PROXY_REFUSE);
                g_assert_true(g_str_has_prefix(bare.refusal, prefix));
                g_assert_cmpuint(strlen(bare.refusal), >, strlen(prefix));
                decide(command, "{\"device\": \"x\", \"uri\": \"tcp:h:1\"}", &with_args);
                g_assert_cmpint(with_args.action, ==, QEMU_PROXY_REFUSE);
                n++;
        }
        /* The whole list: one dropped from it is dropped on purpose. */
        g_assert_cmpuint(n, ==, 17);
        for (const char *const *c = (const char *const[]){ "human-monitor-command", "device_add",
                                                           "migrate", "getfd", "transaction",
                                                           NULL };
             *c; c++) {
                g_auto(QemuProxyDecision) d = { 0 };

                decide(*c, NULL, &d);
                g_assert_cmpint(d.action, ==, QEMU_PROXY_REFUSE);
        }
}

static void
test_forwarded(void)
{
        static const char *const commands[] = { "query-status", "query-block", "system_reset",
                                                "quit", "nbd-server-start",
                                                "migrate-set-parameters", NULL };

        for (guint i = 0; commands[i]; i++) {
                g_auto(QemuProxyDecision) d = { 0 };

                decide(commands[i], NULL, &d);
                g_assert_cmpint(d.action, ==, QEMU_PROXY_FORWARD);
                g_assert_null(d.refusal);
        }
}

static void
test_cpus(void)
{
        g_auto(QemuProxyDecision) stop = { 0 };
        g_auto(QemuProxyDecision) cont = { 0 };

        decide("stop", NULL, &stop);
        g_assert_cmpint(stop.action, ==, QEMU_PROXY_STOP);
        decide("cont", NULL, &cont);
        g_assert_cmpint(cont.action, ==, QEMU_PROXY_CONT);
}

static void
test_blockdev_add(void)
{
        static const struct {
                const char *arguments;
                QemuProxyAction action;
                const char *refusal; /* a part of it */
        } cases[] = {
                { "{\"driver\": \"raw\", \"node-name\": \"d1\", \"file\": \"f1\"}",
                  QEMU_PROXY_FORWARD, NULL },
                { "{\"driver\": \"qcow2\", \"node-name\": \"d1\", \"file\": \"f1\", "
                  "\"backing\": \"b1\"}",
                  QEMU_PROXY_FORWARD, NULL },
                { "{\"driver\": \"raw\", \"node-name\": \"d1\", \"file\": {\"driver\": "
                  "\"file\", \"filename\": \"/x\"}}",
                  QEMU_PROXY_REFUSE, "a 'raw' node for guest 'g1' must name its file" },
                { "{\"driver\": \"qcow2\", \"node-name\": \"d1\", \"file\": \"f1\", "
                  "\"backing\": {\"driver\": \"file\", \"filename\": \"/b\"}}",
                  QEMU_PROXY_REFUSE, "must name its file (and backing) node" },
                { "{\"driver\": \"nbd\", \"node-name\": \"n1\"}", QEMU_PROXY_REFUSE,
                  "'blockdev-add' of a 'nbd' node is refused for guest 'g1'" },
                { "{\"node-name\": \"n1\"}", QEMU_PROXY_REFUSE, "a '(no driver)' node" },
                { "{\"driver\": \"file\", \"filename\": \"/x\"}", QEMU_PROXY_REFUSE,
                  "needs node-name and filename" },
                { "{\"driver\": \"file\", \"node-name\": \"f1\"}", QEMU_PROXY_REFUSE,
                  "needs node-name and filename" },
        };
        g_auto(QemuProxyDecision) file = { 0 };
        g_auto(QemuProxyDecision) device = { 0 };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_auto(QemuProxyDecision) d = { 0 };

                g_test_message("%s", cases[i].arguments);
                decide("blockdev-add", cases[i].arguments, &d);
                g_assert_cmpint(d.action, ==, cases[i].action);
                if (cases[i].refusal)
                        g_assert_nonnull(strstr(d.refusal, cases[i].refusal));
        }

        /* An image node: the supervisor takes its lease first. */
        decide("blockdev-add",
               "{\"driver\": \"file\", \"node-name\": \"f1\", \"filename\": \"/img\", "
               "\"read-only\": true}",
               &file);
        g_assert_cmpint(file.action, ==, QEMU_PROXY_ADD_IMAGE);
        g_assert_cmpstr(file.node, ==, "f1");
        g_assert_cmpstr(file.path, ==, "/img");
        g_assert_false(file.block);
        g_assert_true(file.readonly);
        decide("blockdev-add",
               "{\"driver\": \"host_device\", \"node-name\": \"h1\", \"filename\": \"/dev/x\"}",
               &device);
        g_assert_cmpint(device.action, ==, QEMU_PROXY_ADD_IMAGE);
        g_assert_true(device.block);
        g_assert_false(device.readonly);
}

static void
test_blockdev_del(void)
{
        g_auto(QemuProxyDecision) named = { 0 };
        g_auto(QemuProxyDecision) unnamed = { 0 };

        decide("blockdev-del", "{\"node-name\": \"f1\"}", &named);
        g_assert_cmpint(named.action, ==, QEMU_PROXY_DELETE_NODE);
        g_assert_cmpstr(named.node, ==, "f1");
        decide("blockdev-del", NULL, &unnamed);
        g_assert_cmpint(unnamed.action, ==, QEMU_PROXY_DELETE_NODE);
        g_assert_null(unnamed.node);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qemu/proxy/refused", test_refused);
        g_test_add_func("/qemu/proxy/forwarded", test_forwarded);
        g_test_add_func("/qemu/proxy/cpus", test_cpus);
        g_test_add_func("/qemu/proxy/blockdev-add", test_blockdev_add);
        g_test_add_func("/qemu/proxy/blockdev-del", test_blockdev_del);
        return g_test_run();
}
