/* vmlock: `vmlock metrics`: Prometheus text exposition for node_exporter's textfile collector. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmlock/vmlock.h>

#include "supervisor/guest_orphan.h"
#include "supervisor/state_dir.h"
#include "tool_config.h"
#include "vmlock_tool.h"

static char *opt_config;
static char *opt_state_dir;
static char *opt_output;

static const GOptionEntry metrics_entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "The configuration directory naming the lock driver (default $VMLOCK_CONFIG_DIR or "
          VMLOCK_CONFIG_DIR ")", "DIR" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")", "DIR" },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
          "Write to FILE, replaced atomically (for the textfile collector), not stdout",
          "FILE" },
        G_OPTION_ENTRY_NULL
};

static const char metrics_help[] =
        "Metrics (gauges):\n"
        "  vmlock_guests                       guests vmlock runs here\n"
        "  vmlock_guest_leases{guest}          leases each guest holds (0 once handed over)\n"
        "  vmlock_leases_held                  their sum\n"
        "  vmlock_guest_lease_lost{guest}      1 when a guest lost its leases behind vmlock's\n"
        "                                      back (lock daemon ended): it was killed or paused\n"
        "  vmlock_guest_unprotected_images{guest}  images QEMU opened writable at start\n"
        "                                      without a lease\n"
        "  vmlock_guest_supervisor_up{guest}   0 when its supervisor (vmlock start) is gone:\n"
        "                                      nothing acts on it, its record may be behind\n"
        "  vmlock_lockspace_joined{lockspace,host_id}  1 when this host is a member\n"
        "  vmlock_lockspace_renewal_age_seconds{lockspace}      since this host's last renewal\n"
        "  vmlock_lockspace_renewal_latency_seconds{lockspace}  its I/O time\n"
        "  vmlock_lockspace_renewal_failures{lockspace}  failed renewals in recent history\n"
        "  vmlock_host_state{lockspace,host_id,host,state}  1 for each host's state\n"
        "  vmlock_host_renewal_age_seconds{lockspace,host_id,host}  since it was seen renewing\n"
        "  vmlock_host_dead_in_seconds{lockspace,host_id,host}  until a failing host's\n"
        "                                      leases can be taken\n"
        "  vmlock_metrics_error{source}        1 when a source could not be read\n"
        "Guests and leases come from this host's records; never joins the lockspace.\n";

/* A Prometheus label value: backslash, double quote and newline escaped. */
static char *
label(const char *value)
{
        GString *out = g_string_new(NULL);

        for (const char *p = value ? value : ""; *p; p++) {
                if (*p == '\\')
                        g_string_append(out, "\\\\");
                else if (*p == '"')
                        g_string_append(out, "\\\"");
                else if (*p == '\n')
                        g_string_append(out, "\\n");
                else
                        g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

static void
metric_header(GString *out, const char *name, const char *help)
{
        g_string_append_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The resources `vmlock start` takes for a guest: every <lease>, and each
 * disk with a local path (as domain_lock.c decides). */
static guint
record_leases(const GuestRecord *record)
{
        const VmlockDomain *dom = record->dom;
        guint n = vmlock_domain_get_n_leases(dom);

        if (record->released || record->lease_lost)
                return 0;
        for (guint i = 0; i < vmlock_domain_get_n_disks(dom); i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                VmlockDiskType type = vmlock_disk_get_type(disk);

                if (vmlock_disk_get_source(disk) &&
                    (type == VMLOCK_DISK_TYPE_FILE || type == VMLOCK_DISK_TYPE_BLOCK ||
                     type == VMLOCK_DISK_TYPE_DIR))
                        n++;
        }
        return n;
}

static guint
record_lease_lost(const GuestRecord *record)
{
        return record->lease_lost ? 1 : 0;
}

static guint
record_unprotected_images(const GuestRecord *record)
{
        return record->unprotected ? g_strv_length(record->unprotected) : 0;
}

static guint
record_supervisor_up(const GuestRecord *record)
{
        return guest_orphan_check(record) ? 0 : 1;
}

/* One gauge a guest: @value of its record. */
static void
guest_gauge(GString *out, GPtrArray *records, const char *metric, const char *help,
            guint (*value)(const GuestRecord *record))
{
        metric_header(out, metric, help);
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);
                g_autofree char *name = label(vmlock_domain_get_name(record->dom));

                g_string_append_printf(out, "%s{guest=\"%s\"} %u\n", metric, name,
                                       value(record));
        }
}

static void
add_guests(GString *out, GString *errors)
{
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GError) error = NULL;
        guint total = 0;

        records = state_dir_list_alive(state_dir_path_resolve(opt_state_dir), &error);
        if (!records) {
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                g_string_append(errors, "vmlock_metrics_error{source=\"guests\"} 1\n");
                return;
        }
        metric_header(out, "vmlock_guests", "Guests vmlock runs on this host.");
        g_string_append_printf(out, "vmlock_guests %u\n", records->len);
        metric_header(out, "vmlock_guest_leases", "Leases each guest holds (from this host's "
                                                  "records).");
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);
                g_autofree char *name = label(vmlock_domain_get_name(record->dom));
                g_autofree char *driver = label(record->lock_manager ? record->lock_manager
                                                                     : "nop");
                guint n = record_leases(record);

                g_string_append_printf(out, "vmlock_guest_leases{guest=\"%s\",lock_manager="
                                       "\"%s\"} %u\n", name, driver, n);
                total += n;
        }
        metric_header(out, "vmlock_leases_held", "Leases the guests of this host hold.");
        g_string_append_printf(out, "vmlock_leases_held %u\n", total);
        guest_gauge(out, records, "vmlock_guest_lease_lost",
                    "1 when a guest lost its leases behind vmlock's back (it was killed or "
                    "paused).", record_lease_lost);
        guest_gauge(out, records, "vmlock_guest_unprotected_images",
                    "Images QEMU opened writable at start that no lease covers.",
                    record_unprotected_images);
        guest_gauge(out, records, "vmlock_guest_supervisor_up",
                    "0 when the guest's supervisor (vmlock start) is gone: nothing acts on it "
                    "and its record may be behind (vmlock list says what it holds).",
                    record_supervisor_up);
}

/* One gauge a host: the gint64 at @member_offset in each VmlockHostInfo,
 * for the hosts where it is known. */
static void
host_seconds(GString *out, const char *ls, GPtrArray *hosts, const char *metric,
             const char *help, glong member_offset)
{
        metric_header(out, metric, help);
        for (guint i = 0; i < hosts->len; i++) {
                VmlockHostInfo *host = g_ptr_array_index(hosts, i);
                gint64 value = G_STRUCT_MEMBER(gint64, host, member_offset);
                g_autofree char *name = label(host->name);

                if (value != VMLOCK_UNKNOWN)
                        g_string_append_printf(out, "%s{lockspace=\"%s\",host_id=\"%"
                                               G_GUINT64_FORMAT "\",host=\"%s\"} %"
                                               G_GINT64_FORMAT "\n", metric, ls,
                                               host->host_id, name, value);
        }
}

static void
add_lockspace(GString *out, GString *errors, VmlockLockManager *manager)
{
        g_autoptr(VmlockLockspaceStatus) status = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *ls = NULL;
        static const VmlockHostState states[] = {
                VMLOCK_HOST_UNKNOWN, VMLOCK_HOST_FREE, VMLOCK_HOST_LIVE, VMLOCK_HOST_FAIL,
                VMLOCK_HOST_DEAD,
        };

        if (!vmlock_lock_manager_lockspace_status(manager, &status, &error)) {
                /* nop and friends have no lockspace: nothing to say, no error */
                if (!g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED)) {
                        g_printerr("%s: %s\n", g_get_prgname(), error->message);
                        g_string_append(errors,
                                        "vmlock_metrics_error{source=\"lockspace\"} 1\n");
                }
                return;
        }
        ls = label(status->lockspace);
        metric_header(out, "vmlock_lockspace_joined", "1 when this host is a member of the "
                                                      "lockspace.");
        g_string_append_printf(out, "vmlock_lockspace_joined{lockspace=\"%s\",host_id=\"%u\"} "
                               "%d\n", ls, status->host_id, status->joined ? 1 : 0);
        if (!status->joined)
                return;
        if (status->renewal_age != VMLOCK_UNKNOWN) {
                metric_header(out, "vmlock_lockspace_renewal_age_seconds",
                              "Seconds since this host last renewed its lease.");
                g_string_append_printf(out, "vmlock_lockspace_renewal_age_seconds{lockspace="
                                       "\"%s\"} %" G_GINT64_FORMAT "\n", ls,
                                       status->renewal_age);
        }
        if (status->renewal_latency_ms != VMLOCK_UNKNOWN) {
                metric_header(out, "vmlock_lockspace_renewal_latency_seconds",
                              "How long this host's last renewal I/O took.");
                g_string_append_printf(out, "vmlock_lockspace_renewal_latency_seconds{lockspace="
                                       "\"%s\"} %.3f\n", ls,
                                       status->renewal_latency_ms / 1000.0);
        }
        metric_header(out, "vmlock_lockspace_renewal_failures",
                      "Failed renewals in the lock daemon's recent history.");
        g_string_append_printf(out, "vmlock_lockspace_renewal_failures{lockspace=\"%s\"} %u\n",
                               ls, status->renewal_failures);

        if (!vmlock_lock_manager_list_hosts(manager, &hosts, &error)) {
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                g_string_append(errors, "vmlock_metrics_error{source=\"hosts\"} 1\n");
                return;
        }
        metric_header(out, "vmlock_host_state", "Each host's state in the lockspace (1 for "
                                                "its state).");
        for (guint i = 0; i < hosts->len; i++) {
                const VmlockHostInfo *host = g_ptr_array_index(hosts, i);
                g_autofree char *name = label(host->name);

                for (gsize s = 0; s < G_N_ELEMENTS(states); s++)
                        g_string_append_printf(out, "vmlock_host_state{lockspace=\"%s\","
                                               "host_id=\"%" G_GUINT64_FORMAT "\",host=\"%s\","
                                               "state=\"%s\"} %d\n", ls, host->host_id, name,
                                               vmlock_host_state_to_string(states[s]),
                                               host->state == states[s]);
        }
        host_seconds(out, ls, hosts, "vmlock_host_renewal_age_seconds",
                     "Seconds since each host was last seen renewing.",
                     G_STRUCT_OFFSET(VmlockHostInfo, renewal_age));
        host_seconds(out, ls, hosts, "vmlock_host_dead_in_seconds",
                     "Seconds until a failing host's leases can be taken (0: now).",
                     G_STRUCT_OFFSET(VmlockHostInfo, dead_in));
}

int
cmd_metrics(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("");
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GString) errors = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        int status;

        g_option_context_set_summary(context, "Print Prometheus metrics: guests, leases, and "
                                              "the lockspace's renewals per host.");
        g_option_context_set_description(context, metrics_help);
        g_option_context_add_main_entries(context, metrics_entries, NULL);
        if (!tool_parse_options(context, &argc, &argv, VMLOCK_EXIT_USAGE, &status))
                return status;
        if (argc > 1)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "unexpected argument '%s'", argv[1]);

        add_guests(out, errors);
        manager = tool_load_read_only_manager(opt_config, &error);
        if (manager) {
                add_lockspace(out, errors, manager);
        } else {
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                g_string_append(errors, "vmlock_metrics_error{source=\"lock_manager\"} 1\n");
        }
        metric_header(out, "vmlock_metrics_error", "1 when a source of these metrics could "
                                                    "not be read.");
        g_string_append(out, errors->len ? errors->str
                                         : "vmlock_metrics_error{source=\"any\"} 0\n");

        if (opt_output) {
                /* node_exporter must never read half a file */
                g_clear_error(&error);
                if (!g_file_set_contents_full(opt_output, out->str, (gssize)out->len,
                                              G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error)) {
                        g_printerr("%s: %s\n", g_get_prgname(), error->message);
                        return VMLOCK_EXIT_ERROR;
                }
        } else {
                fputs(out->str, stdout);
        }
        return errors->len ? VMLOCK_EXIT_ERROR : VMLOCK_EXIT_OK;
}
