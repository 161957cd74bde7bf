/* vmlock: lease events as structured journal entries. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/lease_events.h"

typedef struct {
        const char *name;     /* VMLOCK_EVENT= */
        const char *message_id;
        int priority;         /* syslog's: 6 info, 4 warning, 3 error, 2 critical */
        const char *verb;     /* for MESSAGE */
} LeaseEventInfo;

/* Fixed ids (generated once, as `journalctl --new-id128` does): a catalog or
 * a query can match them whatever the message's words. */
static const LeaseEventInfo event_info[] = {
        [LEASE_EVENT_TAKEN] = { "taken", "b868bdaaf9a242fd9f4ca1782db5c6f7", 6, "taken" },
        [LEASE_EVENT_RELEASED] = { "released", "6ec541ae3a0f4d03aec9ab4d3b11996c", 6,
                                   "released" },
        [LEASE_EVENT_REFUSED] = { "refused", "5c14706519b84ba2848b6ef98c9b10e8", 3,
                                  "refused" },
        [LEASE_EVENT_LOST] = { "lost", "21b792cd18c146208b1ecc1322e81df3", 2, "lost" },
};

GPtrArray *
lease_event_fields(const LeaseEvent *event)
{
        const LeaseEventInfo *info = &event_info[event->kind];
        GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *what = NULL;

        if (event->disk)
                what = g_strdup_printf(" of disk %s", event->disk);
        else if (event->lease)
                what = g_strdup_printf(" %s", event->lease);
        g_ptr_array_add(fields, g_strdup_printf("MESSAGE=vmlock: guest '%s': lease%s %s%s%s",
                                                event->guest, what ? what : "s", info->verb,
                                                event->reason ? ": " : "",
                                                event->reason ? event->reason : ""));
        g_ptr_array_add(fields, g_strdup_printf("MESSAGE_ID=%s", info->message_id));
        g_ptr_array_add(fields, g_strdup_printf("PRIORITY=%d", info->priority));
        g_ptr_array_add(fields, g_strdup_printf("VMLOCK_EVENT=%s", info->name));
        g_ptr_array_add(fields, g_strdup_printf("VMLOCK_GUEST=%s", event->guest));
        if (event->uuid)
                g_ptr_array_add(fields, g_strdup_printf("VMLOCK_UUID=%s", event->uuid));
        if (event->disk)
                g_ptr_array_add(fields, g_strdup_printf("VMLOCK_DISK=%s", event->disk));
        if (event->lease)
                g_ptr_array_add(fields, g_strdup_printf("VMLOCK_LEASE=%s", event->lease));
        if (event->reason)
                g_ptr_array_add(fields, g_strdup_printf("VMLOCK_REASON=%s", event->reason));
        return fields;
}

/* systemd sets $JOURNAL_STREAM to the device and inode of the stream it
 * connected stdout/stderr to; an fd redirected since (a --log file) no
 * longer matches, and its lines go where it points. */
gboolean
lease_events_to_journal(void)
{
        const char *stream = g_getenv("JOURNAL_STREAM");
        unsigned long long dev;
        unsigned long long ino;
        struct stat st;

        if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
            fstat(STDERR_FILENO, &st) < 0)
                return FALSE;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

gboolean
lease_events_wanted(const VmlockLockManager *manager)
{
        return lease_events_to_journal() &&
               !g_str_equal(vmlock_lock_manager_get_name(manager), "nop");
}

gboolean
lease_event_log(const LeaseEvent *event)
{
        g_autoptr(GPtrArray) fields = NULL;
        g_autofree GLogField *log_fields = NULL;

        if (!lease_events_to_journal())
                return FALSE;
        fields = lease_event_fields(event);
        log_fields = g_new0(GLogField, fields->len);
        for (guint i = 0; i < fields->len; i++) {
                char *field = g_ptr_array_index(fields, i);
                char *equals = strchr(field, '=');

                /* "KEY=value" split in place: fields is ours. */
                *equals = '\0';
                log_fields[i].key = field;
                log_fields[i].value = equals + 1;
                log_fields[i].length = -1;
        }
        /* GLib's own journal writer (the native protocol, as sd_journal_send):
         * no libsystemd before the guest's exec. The journal gone is no
         * reason to fail a guest. */
        if (g_log_writer_journald(G_LOG_LEVEL_INFO, log_fields, fields->len, NULL) !=
            G_LOG_WRITER_HANDLED) {
                g_debug("the journal did not take the lease event of guest '%s'", event->guest);
                return FALSE;
        }
        return TRUE;
}

void
lease_events_log_domain(const VmlockLockManager *manager, LeaseEventKind kind,
                        const VmlockDomain *dom, const char *reason)
{
        LeaseEvent event = {
                .kind = kind,
                .guest = vmlock_domain_get_name(dom),
                .uuid = vmlock_domain_get_uuid_string(dom),
                .reason = reason,
        };

        if (!lease_events_wanted(manager))
                return;
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);

                if (!vmlock_disk_is_lockable(disk))
                        continue;
                event.disk = vmlock_disk_get_source(disk);
                lease_event_log(&event);
        }
        event.disk = NULL;
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                const char *lockspace = vmlock_lease_get_lockspace(lease);
                g_autofree char *name = g_strdup_printf("%s:%s", lockspace ? lockspace : "",
                                                        vmlock_lease_get_key(lease));

                event.lease = name;
                lease_event_log(&event);
        }
}

void
lease_events_log_refusal(const VmlockLockManager *manager, const VmlockDomain *dom,
                         const char *disk, const GError *error)
{
        LeaseEvent event = {
                .kind = LEASE_EVENT_REFUSED,
                .guest = vmlock_domain_get_name(dom),
                .uuid = vmlock_domain_get_uuid_string(dom),
                .disk = disk,
                .reason = error ? error->message : NULL,
        };

        if (!error || error->domain != VMLOCK_ERROR ||
            (error->code != VMLOCK_ERROR_LEASE_BUSY && error->code != VMLOCK_ERROR_LEASE_STATE &&
             error->code != VMLOCK_ERROR_LOCKSPACE) ||
            !lease_events_wanted(manager))
                return;
        if (disk)
                lease_event_log(&event);
        else
                lease_events_log_domain(manager, LEASE_EVENT_REFUSED, dom, event.reason);
}
