/* vmlock: the journal fields of lease events, and when they go to the journal. */
#define G_LOG_DOMAIN "vmlock-tools-test"

#include "config-build.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "supervisor/lease_events.h"

static gboolean
has_field(GPtrArray *fields, const char *field)
{
        return g_ptr_array_find_with_equal_func(fields, field, g_str_equal, NULL);
}

static void
test_fields_disk(void)
{
        LeaseEvent event = {
                .kind = LEASE_EVENT_TAKEN,
                .guest = "web",
                .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809",
                .disk = "/srv/web.img",
        };
        g_autoptr(GPtrArray) fields = lease_event_fields(&event);

        g_assert_cmpstr(g_ptr_array_index(fields, 0), ==,
                        "MESSAGE=vmlock: guest 'web': lease of disk /srv/web.img taken");
        g_assert_true(has_field(fields, "MESSAGE_ID=b868bdaaf9a242fd9f4ca1782db5c6f7"));
        g_assert_true(has_field(fields, "PRIORITY=6"));
        g_assert_true(has_field(fields, "VMLOCK_EVENT=taken"));
        g_assert_true(has_field(fields, "VMLOCK_GUEST=web"));
        g_assert_true(has_field(fields, "VMLOCK_UUID=c7a5fdbd-edaf-9455-926a-d65c16db1809"));
        g_assert_true(has_field(fields, "VMLOCK_DISK=/srv/web.img"));
        g_assert_cmpuint(fields->len, ==, 7);
}

static void
test_fields_refused(void)
{
        LeaseEvent event = {
                .kind = LEASE_EVENT_REFUSED,
                .guest = "web",
                .disk = "/srv/web.img",
                .reason = "disk /srv/web.img is in use by host 2 (node-b)",
        };
        g_autoptr(GPtrArray) fields = lease_event_fields(&event);

        g_assert_cmpstr(g_ptr_array_index(fields, 0), ==,
                        "MESSAGE=vmlock: guest 'web': lease of disk /srv/web.img refused: disk "
                        "/srv/web.img is in use by host 2 (node-b)");
        g_assert_true(has_field(fields, "PRIORITY=3"));
        g_assert_true(has_field(fields, "VMLOCK_EVENT=refused"));
        g_assert_true(has_field(fields,
                                "VMLOCK_REASON=disk /srv/web.img is in use by host 2 (node-b)"));
        g_assert_false(has_field(fields, "VMLOCK_UUID="));
}

static void
test_fields_lease_lost(void)
{
        LeaseEvent lease = { .kind = LEASE_EVENT_RELEASED, .guest = "db", .lease = "LS:key1" };
        LeaseEvent lost = { .kind = LEASE_EVENT_LOST, .guest = "db", .reason = "daemon gone" };
        g_autoptr(GPtrArray) lease_fields = lease_event_fields(&lease);
        g_autoptr(GPtrArray) lost_fields = lease_event_fields(&lost);

        g_assert_cmpstr(g_ptr_array_index(lease_fields, 0), ==,
                        "MESSAGE=vmlock: guest 'db': lease LS:key1 released");
        g_assert_true(has_field(lease_fields, "VMLOCK_LEASE=LS:key1"));
        g_assert_true(has_field(lease_fields, "MESSAGE_ID=6ec541ae3a0f4d03aec9ab4d3b11996c"));
        g_assert_cmpstr(g_ptr_array_index(lost_fields, 0), ==,
                        "MESSAGE=vmlock: guest 'db': leases lost: daemon gone");
        g_assert_true(has_field(lost_fields, "PRIORITY=2"));
        g_assert_true(has_field(lost_fields, "MESSAGE_ID=21b792cd18c146208b1ecc1322e81df3"));
}

/* Only a stderr that is the stream $JOURNAL_STREAM names is the journal's:
 * one redirected since (to a --log file) is not. */
static void
test_to_journal(void)
{
        g_autofree char *path = NULL;
        g_autofree char *stream = NULL;
        struct stat st;
        int saved = dup(STDERR_FILENO);
        int fd = g_file_open_tmp("lease-events-XXXXXX", &path, NULL);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(saved, >=, 0);
        g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
        g_assert_cmpint(fstat(fd, &st), ==, 0);

        g_unsetenv("JOURNAL_STREAM");
        g_assert_false(lease_events_to_journal());
        stream = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
                                 (unsigned long long)st.st_ino);
        g_setenv("JOURNAL_STREAM", stream, TRUE);
        g_assert_true(lease_events_to_journal());
        g_setenv("JOURNAL_STREAM", "1:2", TRUE);
        g_assert_false(lease_events_to_journal());
        g_setenv("JOURNAL_STREAM", "garbage", TRUE);
        g_assert_false(lease_events_to_journal());
        g_unsetenv("JOURNAL_STREAM");

        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
        g_unlink(path);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/lease-events/fields/disk", test_fields_disk);
        g_test_add_func("/lease-events/fields/refused", test_fields_refused);
        g_test_add_func("/lease-events/fields/lease-and-lost", test_fields_lease_lost);
        g_test_add_func("/lease-events/to-journal", test_to_journal);
        return g_test_run();
}
