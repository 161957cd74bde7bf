/* vmlock: tests of the control protocol's table (src/control/control_protocol.c). */
#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "control/control_protocol.h"

static JsonObject *
parse(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* Every command is found by its id and by its name. */
static void
test_table(void)
{
        for (ControlCommandId id = CONTROL_QUERY_GUEST; id <= CONTROL_STOP; id++) {
                const ControlCommand *command = control_command_get(id);

                g_assert_nonnull(command);
                g_assert_cmpint(command->id, ==, id);
                g_assert_true(control_command_lookup(command->name) == command);
        }
        g_assert_null(control_command_lookup("qmp_capabilities"));
        g_assert_null(control_command_lookup("no-such-command"));
}

static void
test_check(void)
{
        static const struct {
                ControlCommandId id;
                const char *arguments; /* NULL: none */
                const char *error;     /* NULL: accepted */
        } cases[] = {
                { CONTROL_PAUSE, NULL, NULL },
                { CONTROL_PAUSE, "{\"release\": true}", NULL },
                { CONTROL_PAUSE, "{\"release\": \"yes\"}", "argument 'release' must be a boolean" },
                { CONTROL_PAUSE, "{\"relase\": true}", "'pause' has no argument 'relase'" },
                { CONTROL_DETACH_DISK, "{}", "'detach-disk' needs argument 'path'" },
                { CONTROL_DETACH_DISK, "{\"path\": 5}", "argument 'path' must be a string" },
                { CONTROL_ATTACH_LEASE, "{\"key\": \"k\", \"offset\": -1}",
                  "argument 'offset' must be a number" },
                { CONTROL_ATTACH_LEASE,
                  "{\"lockspace\": \"L\", \"key\": \"k\", \"path\": \"/l\", \"offset\": 1048576}",
                  NULL },
                { CONTROL_LOCK_FAILURE, "{\"action\": \"pause\"}", "needs argument 'uuid'" },
                { CONTROL_QUERY_GUEST, "{\"x\": 1}", "'query-guest' has no argument 'x'" },
                { CONTROL_STOP, NULL, NULL },
                { CONTROL_STOP, "{\"timeout\": 0}", NULL },
                { CONTROL_STOP, "{\"timeout\": -5}", "argument 'timeout' must be a number" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(JsonObject) arguments = cases[i].arguments ? parse(cases[i].arguments)
                                                                     : NULL;
                g_autoptr(GError) error = NULL;
                gboolean ok;

                g_test_message("%s %s", control_command_get(cases[i].id)->name,
                               cases[i].arguments);
                ok = control_command_check(control_command_get(cases[i].id), arguments, &error);
                if (!cases[i].error) {
                        g_assert_no_error(error);
                        g_assert_true(ok);
                        continue;
                }
                g_assert_false(ok);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
                g_assert_nonnull(strstr(error->message, cases[i].error));
        }
}

/* What the client builds, the server reads back. */
static void
test_args(void)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(GError) error = NULL;

        control_args_set_string(arguments, CONTROL_ATTACH_LEASE, "key", "k1");
        control_args_set_string(arguments, CONTROL_ATTACH_LEASE, "lockspace", NULL);
        control_args_set_uint(arguments, CONTROL_ATTACH_LEASE, "offset", 2097152);
        g_assert_true(control_command_check(control_command_get(CONTROL_ATTACH_LEASE), arguments,
                                            &error));
        g_assert_false(json_object_has_member(arguments, "lockspace"));
        g_assert_cmpstr(control_arg_string(CONTROL_ATTACH_LEASE, arguments, "key"), ==, "k1");
        g_assert_null(control_arg_string(CONTROL_ATTACH_LEASE, arguments, "path"));
        g_assert_cmpuint(control_arg_uint(CONTROL_ATTACH_LEASE, arguments, "offset"), ==,
                         2097152);
}

/* A name the table does not declare is a bug, on either side. */
static void
test_undeclared(void)
{
        if (g_test_subprocess()) {
                g_autoptr(JsonObject) arguments = json_object_new();

                control_args_set_bool(arguments, CONTROL_PAUSE, "relase", TRUE);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_failed();
        g_test_trap_assert_stderr("*'pause' declares no argument 'relase' (a boolean)*");
}

static void
test_greeting(void)
{
        g_autoptr(JsonObject) greeting = control_greeting_new("1.2.3", "g1");
        JsonObject *body = json_object_get_object_member(greeting, "QMP");

        g_assert_cmpint(json_object_get_int_member(body, "control-protocol"), ==,
                        CONTROL_PROTOCOL_VERSION);
        g_assert_cmpstr(json_object_get_string_member(body, "vmlock"), ==, "1.2.3");
        g_assert_cmpstr(json_object_get_string_member(body, "guest"), ==, "g1");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(body, "capabilities")),
                         ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/control/protocol/table", test_table);
        g_test_add_func("/control/protocol/check", test_check);
        g_test_add_func("/control/protocol/args", test_args);
        g_test_add_func("/control/protocol/undeclared", test_undeclared);
        g_test_add_func("/control/protocol/greeting", test_greeting);
        return g_test_run();
}
