/* vmlock: `vmlock hosts`: every host of the disk lockspace and whether it still renews. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>

#include <vmlock/vmlock.h>

#include "json_output.h"
#include "tool_config.h"
#include "vmlock_tool.h"

static char *opt_config;
static gboolean opt_json;

static const GOptionEntry hosts_entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "The configuration directory naming the lock driver (default $VMLOCK_CONFIG_DIR or "
          VMLOCK_CONFIG_DIR ")", "DIR" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON (fields in vmlock(1))",
          NULL },
        G_OPTION_ENTRY_NULL
};

static const char hosts_help[] =
        "Columns: the host's id, its name (the sanlock daemon's -e), its state as\n"
        "this host's lock daemon sees it:\n"
        "  live     renews in time\n"
        "  fail     stopped renewing; it may be killing its guests\n"
        "  dead     stopped renewing long enough: its leases can be taken\n"
        "  free     its host id is not held (it left cleanly)\n"
        "  unknown  this host has not watched it long enough to tell\n"
        "seconds since its last renewal was seen, and for a failing host when its\n"
        "leases can be taken (sanlock: 8 x io_timeout + 60 s after its last renewal).\n"
        "Needs this host to have joined the lockspace; never joins it.\n";

static void
print_json(GPtrArray *hosts)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "hosts");
        json_builder_begin_array(builder);
        for (guint i = 0; i < hosts->len; i++) {
                const VmlockHostInfo *host = g_ptr_array_index(hosts, i);

                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "host_id");
                json_builder_add_int_value(builder, (gint64)host->host_id);
                json_output_add_string_or_null(builder, "name", host->name);
                json_builder_set_member_name(builder, "generation");
                json_builder_add_int_value(builder, (gint64)host->generation);
                json_builder_set_member_name(builder, "state");
                json_builder_add_string_value(builder, vmlock_host_state_to_string(host->state));
                json_builder_set_member_name(builder, "self");
                json_builder_add_boolean_value(builder, host->self);
                json_builder_set_member_name(builder, "io_timeout");
                json_builder_add_int_value(builder, host->io_timeout);
                json_output_add_int_or_null(builder, "renewal_age", host->renewal_age);
                json_output_add_int_or_null(builder, "dead_in", host->dead_in);
                json_builder_end_object(builder);
        }
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        json_output_print(json_builder_get_root(builder));
}

#define HOSTS_COLUMNS 5

/* One row of text cells per host, the header first. */
static GPtrArray *
text_rows(GPtrArray *hosts)
{
        static const char *const header[HOSTS_COLUMNS] = { "HOST_ID", "NAME", "STATE",
                                                           "LAST RENEWAL", "LEASES TAKEABLE" };
        GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);

        g_ptr_array_add(rows, g_strdupv((char **)header));
        for (guint i = 0; i < hosts->len; i++) {
                const VmlockHostInfo *host = g_ptr_array_index(hosts, i);
                char **row = g_new0(char *, HOSTS_COLUMNS + 1);

                row[0] = g_strdup_printf("%" G_GUINT64_FORMAT, host->host_id);
                row[1] = g_strdup_printf("%s%s", host->name ? host->name : "-",
                                         host->self ? " (this host)" : "");
                row[2] = g_strdup(vmlock_host_state_to_string(host->state));
                row[3] = host->renewal_age != VMLOCK_UNKNOWN
                                 ? g_strdup_printf("%" G_GINT64_FORMAT " s ago",
                                                   host->renewal_age)
                                 : g_strdup("-");
                if (host->state == VMLOCK_HOST_DEAD)
                        row[4] = g_strdup("now");
                else if (host->state == VMLOCK_HOST_FREE)
                        row[4] = g_strdup("now (none held)");
                else if (host->dead_in != VMLOCK_UNKNOWN)
                        row[4] = g_strdup_printf("in about %" G_GINT64_FORMAT " s",
                                                 host->dead_in);
                else
                        row[4] = g_strdup("-");
                g_ptr_array_add(rows, row);
        }
        return rows;
}

/* Columns as wide as their widest cell (host names have any length). */
static void
print_text(GPtrArray *hosts)
{
        g_autoptr(GPtrArray) rows = text_rows(hosts);
        int widths[HOSTS_COLUMNS] = { 0 };

        for (guint i = 0; i < rows->len; i++) {
                char **row = g_ptr_array_index(rows, i);

                for (int c = 0; c < HOSTS_COLUMNS; c++)
                        widths[c] = MAX(widths[c], (int)g_utf8_strlen(row[c], -1));
        }
        for (guint i = 0; i < rows->len; i++) {
                char **row = g_ptr_array_index(rows, i);

                for (int c = 0; c < HOSTS_COLUMNS - 1; c++)
                        printf("%s%*s  ", row[c],
                               widths[c] - (int)g_utf8_strlen(row[c], -1), "");
                printf("%s\n", row[HOSTS_COLUMNS - 1]);
        }
}

int
cmd_hosts(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("");
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        GError *error = NULL;
        int status;

        g_option_context_set_summary(context, "List the hosts of the disk lockspace and "
                                              "whether each still renews its lease.");
        g_option_context_set_description(context, hosts_help);
        g_option_context_add_main_entries(context, hosts_entries, NULL);
        if (!tool_parse_options(context, &argc, &argv, VMLOCK_EXIT_USAGE, &status))
                return status;
        if (argc > 1)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "unexpected argument '%s'", argv[1]);

        manager = tool_load_read_only_manager(opt_config, &error);
        if (!manager || !vmlock_lock_manager_list_hosts(manager, &hosts, &error)) {
                g_printerr("%s: %s\n", g_get_prgname(), error->message);
                g_error_free(error);
                return VMLOCK_EXIT_ERROR;
        }
        if (opt_json)
                print_json(hosts);
        else
                print_text(hosts);
        return VMLOCK_EXIT_OK;
}
