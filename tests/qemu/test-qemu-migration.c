/* vmlock tests: QEMU's migration status, from query-migrate and the
 * MIGRATION event, as one enum. */
#include "config-build.h"

#include "qemu/qemu_event.h"
#include "qemu/qemu_migration.h"

static JsonNode *
parse(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

/* Every word of QEMU's MigrationStatus, and back. */
static void
test_status_known(void)
{
        static const struct {
                const char *text;
                MigrationStatus status;
                gboolean final;
        } known[] = {
                { "none", MIGRATION_STATUS_NONE, FALSE },
                { "setup", MIGRATION_STATUS_SETUP, FALSE },
                { "cancelling", MIGRATION_STATUS_CANCELLING, FALSE },
                { "cancelled", MIGRATION_STATUS_CANCELLED, TRUE },
                { "active", MIGRATION_STATUS_ACTIVE, FALSE },
                { "postcopy-active", MIGRATION_STATUS_POSTCOPY_ACTIVE, FALSE },
                { "postcopy-paused", MIGRATION_STATUS_POSTCOPY_PAUSED, FALSE },
                { "postcopy-recover", MIGRATION_STATUS_POSTCOPY_RECOVER, FALSE },
                { "completed", MIGRATION_STATUS_COMPLETED, TRUE },
                { "failed", MIGRATION_STATUS_FAILED, TRUE },
                { "colo", MIGRATION_STATUS_COLO, FALSE },
                { "pre-switchover", MIGRATION_STATUS_PRE_SWITCHOVER, FALSE },
                { "device", MIGRATION_STATUS_DEVICE, FALSE },
                { "wait-unplug", MIGRATION_STATUS_WAIT_UNPLUG, FALSE },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(known); i++) {
                g_assert_cmpint(migration_status_from_string(known[i].text), ==,
                                known[i].status);
                g_assert_cmpstr(migration_status_to_string(known[i].status), ==, known[i].text);
                g_assert_cmpint(migration_status_is_final(known[i].status), ==, known[i].final);
        }
}

/* A word vmlock does not know is its own value: never final, never
 * completed (a newer QEMU's "completed-ish" must not hand leases over). */
static void
test_status_unknown(void)
{
        static const char *const strangers[] = { "Completed", "completed ", "unknown", "",
                                                 "postcopy", NULL };

        for (guint i = 0; strangers[i]; i++) {
                MigrationStatus status = migration_status_from_string(strangers[i]);

                g_assert_cmpint(status, ==, MIGRATION_STATUS_UNKNOWN);
                g_assert_false(migration_status_is_final(status));
        }
        g_assert_cmpint(migration_status_from_string(NULL), ==, MIGRATION_STATUS_UNKNOWN);
        g_assert_cmpstr(migration_status_to_string(MIGRATION_STATUS_UNKNOWN), ==, "unknown");
}

/* query-migrate's answer: the enum, QEMU's own word for the user, the
 * error and the RAM counts. */
static void
test_progress_parse(void)
{
        g_autoptr(JsonNode) failed = parse("{\"status\": \"failed\", \"error-desc\": \"boom\","
                                           " \"ram\": {\"transferred\": 5, \"total\": 9,"
                                           " \"remaining\": 4}}");
        g_autoptr(JsonNode) stranger = parse("{\"status\": \"teleporting\"}");
        g_autoptr(JsonNode) empty = parse("{}");
        g_auto(MigrationProgress) a = { 0 };
        g_auto(MigrationProgress) b = { 0 };
        g_auto(MigrationProgress) c = { 0 };

        migration_progress_parse(failed, &a);
        g_assert_cmpint(a.status, ==, MIGRATION_STATUS_FAILED);
        g_assert_cmpstr(a.status_text, ==, "failed");
        g_assert_cmpstr(a.error, ==, "boom");
        g_assert_cmpuint(a.transferred, ==, 5);
        g_assert_cmpuint(a.total, ==, 9);
        g_assert_cmpuint(a.remaining, ==, 4);
        migration_progress_parse(stranger, &b);
        g_assert_cmpint(b.status, ==, MIGRATION_STATUS_UNKNOWN);
        g_assert_cmpstr(b.status_text, ==, "teleporting");
        /* No status: no migration was ever started. */
        migration_progress_parse(empty, &c);
        g_assert_cmpint(c.status, ==, MIGRATION_STATUS_NONE);
}

/* The MIGRATION event's status goes through the same function. */
static void
test_event(void)
{
        g_autoptr(JsonNode) completed = parse("{\"event\": \"MIGRATION\", \"data\":"
                                              " {\"status\": \"completed\"}}");
        g_autoptr(JsonNode) stranger = parse("{\"event\": \"MIGRATION\", \"data\":"
                                             " {\"status\": \"teleporting\"}}");
        g_autoptr(JsonNode) no_status = parse("{\"event\": \"MIGRATION\", \"data\": {}}");
        QemuEvent event;

        qemu_event_parse(json_node_get_object(completed), &event);
        g_assert_cmpint(event.kind, ==, QEMU_EVENT_MIGRATION);
        g_assert_cmpint(event.migration, ==, MIGRATION_STATUS_COMPLETED);
        qemu_event_parse(json_node_get_object(stranger), &event);
        g_assert_cmpint(event.kind, ==, QEMU_EVENT_MIGRATION);
        g_assert_cmpint(event.migration, ==, MIGRATION_STATUS_UNKNOWN);
        qemu_event_parse(json_node_get_object(no_status), &event);
        g_assert_cmpint(event.kind, ==, QEMU_EVENT_OTHER);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qemu/migration/status/known", test_status_known);
        g_test_add_func("/qemu/migration/status/unknown", test_status_unknown);
        g_test_add_func("/qemu/migration/progress", test_progress_parse);
        g_test_add_func("/qemu/migration/event", test_event);
        return g_test_run();
}
