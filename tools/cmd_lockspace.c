/* vmlock: `vmlock lockspace join|leave|status`: this host in the disk lockspace. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>
#include <string.h>

#include <vmlock/vmlock.h>

#include "json_output.h"
#include "supervisor/state_dir.h"
#include "tool_config.h"
#include "vmlock_tool.h"

static char *opt_config;
static char *opt_state_dir;
static gboolean opt_force;
static gboolean opt_json;

static const GOptionEntry config_entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "The configuration directory naming the lock driver (default $VMLOCK_CONFIG_DIR or "
          VMLOCK_CONFIG_DIR ")", "DIR" },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry leave_entries[] = {
        { "force", 0, 0, G_OPTION_ARG_NONE, &opt_force,
          "Leave even while guests here hold leases: the lock daemon kills them", NULL },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")", "DIR" },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry status_entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON (fields in vmlock(1))",
          NULL },
        G_OPTION_ENTRY_NULL
};

static const char lockspace_help[] =
        "Subcommands:\n"
        "  join    join the lockspace of this host's disk leases, with progress\n"
        "          (about 20 s; already joined costs nothing)\n"
        "  leave   leave it (refused while guests here hold leases, unless --force)\n"
        "  status  this host's id, whether it joined, its last renewal and how long\n"
        "          it took\n"
        "\n"
        "The lockspace is the lock driver's (sanlock with auto_disk_leases = 1:\n"
        "__LIBVIRT__DISKS__ in disk_lease_dir). status never joins it and creates\n"
        "no file.\n";

/* Errors of these commands are not lock failures of a guest start: exit 1
 * (2 for usage), whatever the code. */
static int
report_error(GError *error)
{
        g_printerr("%s: %s\n", g_get_prgname(), error->message);
        g_error_free(error);
        return VMLOCK_EXIT_ERROR;
}

static int
lockspace_join(void)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        GError *error = NULL;

        manager = tool_load_read_only_manager(opt_config, &error);
        if (!manager ||
            !vmlock_lock_manager_lockspace_join(manager, tool_print_progress, NULL, &error))
                return report_error(error);
        return VMLOCK_EXIT_OK;
}

/* "web (pid 123), db (pid 456)": the guests here that hold leases of
 * @manager's driver, from this host's records. */
static char *
guests_holding(const char *driver, guint *ret_count, GError **error)
{
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        guint count = 0;

        records = state_dir_list_alive(state_dir_path_resolve(opt_state_dir), error);
        if (!records)
                return NULL;
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);

                if (g_strcmp0(record->lock_manager, driver) != 0 || record->released)
                        continue;
                if (out->len)
                        g_string_append(out, ", ");
                g_string_append_printf(out, "%s (pid %d)", vmlock_domain_get_name(record->dom),
                                       (int)vmlock_domain_get_pid(record->dom));
                count++;
        }
        *ret_count = count;
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static int
lockspace_leave(void)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *guests = NULL;
        GError *error = NULL;
        guint count = 0;

        manager = tool_load_read_only_manager(opt_config, &error);
        if (!manager)
                return report_error(error);
        guests = guests_holding(vmlock_lock_manager_get_name(manager), &count, &error);
        if (!guests)
                return report_error(error);
        if (count > 0 && !opt_force) {
                g_printerr("%s: %u guest%s here hold%s leases in the lockspace: %s; stop %s "
                           "first, or leave with --force, which kills %s\n", g_get_prgname(),
                           count, count == 1 ? "" : "s", count == 1 ? "s" : "", guests,
                           count == 1 ? "it" : "them", count == 1 ? "it" : "them");
                return VMLOCK_EXIT_ERROR;
        }
        if (opt_force) {
                if (count > 0)
                        g_printerr("%s: leaving by force: the lock daemon kills %s, and any "
                                   "other process of this host holding leases in the "
                                   "lockspace\n", g_get_prgname(), guests);
                else
                        g_printerr("%s: leaving by force: the lock daemon kills any process "
                                   "of this host holding leases in the lockspace\n",
                                   g_get_prgname());
        }
        if (!vmlock_lock_manager_lockspace_leave(manager,
                                                 opt_force ? VMLOCK_LOCKSPACE_LEAVE_FORCE : 0,
                                                 &error))
                return report_error(error);
        g_printerr("%s: left the lockspace\n", g_get_prgname());
        return VMLOCK_EXIT_OK;
}

static void
print_status_json(const VmlockLockspaceStatus *status)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "lockspace");
        json_builder_add_string_value(builder, status->lockspace);
        json_output_add_string_or_null(builder, "path", status->path);
        json_output_add_int_or_null(builder, "host_id",
                                    status->host_id ? (gint64)status->host_id : VMLOCK_UNKNOWN);
        json_output_add_string_or_null(builder, "host_name", status->host_name);
        json_builder_set_member_name(builder, "joined");
        json_builder_add_boolean_value(builder, status->joined);
        json_builder_set_member_name(builder, "joining");
        json_builder_add_boolean_value(builder, status->joining);
        json_output_add_int_or_null(builder, "io_timeout",
                                    status->io_timeout ? (gint64)status->io_timeout
                                                       : VMLOCK_UNKNOWN);
        json_output_add_int_or_null(builder, "renewal_age", status->renewal_age);
        json_output_add_int_or_null(builder, "renewal_latency_ms", status->renewal_latency_ms);
        json_builder_set_member_name(builder, "renewal_failures");
        json_builder_add_int_value(builder, status->renewal_failures);
        json_builder_end_object(builder);
        json_output_print(json_builder_get_root(builder));
}

static void
print_status_text(const VmlockLockspaceStatus *status)
{
        printf("lockspace %s (%s)\n", status->lockspace, status->path ? status->path : "-");
        printf("  host_id      %u%s%s%s\n", status->host_id, status->host_name ? " (" : "",
               status->host_name ? status->host_name : "", status->host_name ? ")" : "");
        if (status->joined)
                printf("  joined       yes\n");
        else if (status->joining)
                printf("  joined       no: a join or leave is in progress\n");
        else
                printf("  joined       no: this host has not joined (vmlock lockspace join)\n");
        printf("  io_timeout   %u s\n", status->io_timeout);
        if (!status->joined)
                return;
        if (status->renewal_age != VMLOCK_UNKNOWN)
                printf("  last renewal %" G_GINT64_FORMAT " s ago\n", status->renewal_age);
        else
                printf("  last renewal unknown\n");
        if (status->renewal_latency_ms != VMLOCK_UNKNOWN)
                printf("  took         %" G_GINT64_FORMAT " ms\n", status->renewal_latency_ms);
        printf("  failed renewals (recent history) %u\n", status->renewal_failures);
}

static int
lockspace_status(void)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockLockspaceStatus) status = NULL;
        GError *error = NULL;

        manager = tool_load_read_only_manager(opt_config, &error);
        if (!manager || !vmlock_lock_manager_lockspace_status(manager, &status, &error))
                return report_error(error);
        if (opt_json)
                print_status_json(status);
        else
                print_status_text(status);
        return VMLOCK_EXIT_OK;
}

int
cmd_lockspace(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("join|leave|status");
        const char *sub;
        int status;

        g_option_context_set_summary(context,
                                     "Join or leave the lockspace of this host's disk leases, "
                                     "or show this host's status in it.");
        g_option_context_set_description(context, lockspace_help);
        g_option_context_add_main_entries(context, config_entries, NULL);
        g_option_context_add_main_entries(context, leave_entries, NULL);
        g_option_context_add_main_entries(context, status_entries, NULL);
        if (!tool_parse_options(context, &argc, &argv, VMLOCK_EXIT_USAGE, &status))
                return status;
        if (argc < 2)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "missing join, leave or status");
        if (argc > 2)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "unexpected argument '%s'", argv[2]);
        sub = argv[1];
        if ((opt_force || opt_state_dir) && !g_str_equal(sub, "leave"))
                return tool_usage_error(VMLOCK_EXIT_USAGE,
                                        "--force and --state-dir go with leave only");
        if (opt_json && !g_str_equal(sub, "status"))
                return tool_usage_error(VMLOCK_EXIT_USAGE, "--json goes with status only");

        if (g_str_equal(sub, "join"))
                return lockspace_join();
        if (g_str_equal(sub, "leave"))
                return lockspace_leave();
        if (g_str_equal(sub, "status"))
                return lockspace_status();
        return tool_usage_error(VMLOCK_EXIT_USAGE,
                                "unknown subcommand '%s' (join, leave or status)", sub);
}
