/* vmlock migrate: live migration of a QEMU guest, the source's side. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <vmlock/vmlock.h>

#include "vmlock_tool.h"

/* How often the progress is asked for. */
#define MIGRATE_POLL_US (200 * 1000)
/* How long QEMU may take to stop sending the guest once asked to. */
#define CANCEL_WAIT_US (30 * G_USEC_PER_SEC)

/* SIGINT or SIGTERM: the user wants the migration stopped. */
static volatile sig_atomic_t stop_signal;

static char *opt_state_dir;
static char *opt_dest_state_file;

static const GOptionEntry migrate_entries[] = {
        { "dest-state-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_dest_state_file,
          "Also write the state string to FILE (atomically, mode 0600) for the destination",
          "FILE" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")",
          "DIR" },
        G_OPTION_ENTRY_NULL
};

static const char migrate_description[] =
        "The destination is started first, on the other host:\n"
        "  vmlock start --detach --incoming URI guest.xml -- qemu-system-x86_64 ...\n"
        "(registered only: it holds nothing). This command has QEMU send the\n"
        "running guest to URI, shows progress on stderr, and once QEMU reports\n"
        "the migration completed (the guest stopped here, its images flushed and\n"
        "let go) releases the guest's leases and prints their state. On the\n"
        "destination, `vmlock resume NAME --state STATE` takes the leases with it\n"
        "(refused if anyone held them in between) and only then runs the guest.\n"
        "If that fails, `vmlock resume NAME` here takes them back and continues.\n"
        "SIGINT (Ctrl-C) or SIGTERM cancels the migration: the guest runs on\n"
        "here with its leases, unless QEMU had completed it already (the leases\n"
        "then went to the destination: the command says what to run).\n";

/* What the supervisor says the migration's status means (QEMU's own word
 * is only shown). */
static gboolean
member_bool(JsonObject *object, const char *name)
{
        return json_object_get_boolean_member_with_default(object, name, FALSE);
}

static guint64
member_uint(JsonObject *object, const char *name)
{
        gint64 value = json_object_get_int_member_with_default(object, name, 0);

        return value > 0 ? (guint64)value : 0;
}

static void
note_stop_signal(int sig)
{
        stop_signal = sig;
}

static void
set_stop_handler(void (*handler)(int))
{
        struct sigaction sa = { .sa_handler = handler };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
}

/* The state for the destination's resume, as asked. */
static int
print_state(const char *state)
{
        GError *error = NULL;

        if (opt_dest_state_file) {
                g_autofree char *text = g_strconcat(state ? state : "", "\n", NULL);

                if (!g_file_set_contents_full(opt_dest_state_file, text, -1,
                                              G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        if (state)
                printf("%s\n", state);
        return VMLOCK_EXIT_OK;
}

/* Asks the supervisor to cancel, waits (bounded) for QEMU's last word,
 * and says where the guest and its leases are. */
static int
cancel_migration(const char *name, int sig)
{
        int interrupted = 128 + sig;
        gint64 deadline = g_get_monotonic_time() + CANCEL_WAIT_US;
        GError *error = NULL;
        g_autoptr(JsonNode) reply = NULL;
        const char *status = "?";

        set_stop_handler(SIG_DFL); /* a second Ctrl-C ends this command at once */
        g_printerr("%s: %s: cancelling the migration of guest '%s'\n", g_get_prgname(),
                   strsignal(sig), name);
        reply = tool_control_execute(opt_state_dir, name, CONTROL_MIGRATE_CANCEL, NULL,
                                     &error);
        if (!reply) {
                g_prefix_error(&error, "cannot cancel the migration (it may go on; `vmlock "
                                       "status %s` says where the guest is): ",
                               name);
                tool_report_error(error, VMLOCK_EXIT_ERROR);
                return interrupted;
        }
        for (;;) {
                g_autoptr(JsonNode) progress_node = NULL;
                JsonObject *progress;

                progress_node = tool_control_execute(opt_state_dir, name,
                                                     CONTROL_QUERY_MIGRATION, NULL, &error);
                if (!progress_node) {
                        tool_report_error(error, VMLOCK_EXIT_ERROR);
                        return interrupted;
                }
                progress = json_node_get_object(progress_node);
                status = json_object_get_string_member_with_default(progress, "status", "?");
                if (member_bool(progress, "completed") && member_bool(progress, "handed-over")) {
                        g_printerr("%s: guest '%s' had migrated already: its leases are "
                                   "released here for its destination (state below); run it "
                                   "there with `vmlock resume %s --state STATE`, or here "
                                   "again with `vmlock resume %s`\n",
                                   g_get_prgname(), name, name, name);
                        print_state(json_object_get_string_member_with_default(progress,
                                                                               "state", NULL));
                        return interrupted;
                }
                if (member_bool(progress, "ended") && !member_bool(progress, "cancelling")) {
                        if (member_bool(progress, "running"))
                                g_printerr("%s: migration of guest '%s' %s: it runs on "
                                           "here, holding its leases; its destination got "
                                           "none\n",
                                           g_get_prgname(), name, status);
                        else
                                g_printerr("%s: migration of guest '%s' %s: it is paused "
                                           "here, holding its leases (its destination got "
                                           "none); `vmlock resume %s` runs it\n",
                                           g_get_prgname(), name, status, name);
                        return interrupted;
                }
                if (g_get_monotonic_time() > deadline)
                        break;
                g_usleep(MIGRATE_POLL_US);
        }
        g_printerr("%s: the migration of guest '%s' is still '%s' %d s after it was "
                   "cancelled: `vmlock status %s` says where the guest and its leases are\n",
                   g_get_prgname(), name, status, (int)(CANCEL_WAIT_US / G_USEC_PER_SEC), name);
        return interrupted;
}

static int
migrate(const char *name, const char *uri)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        g_autoptr(JsonNode) ret = NULL;
        GError *error = NULL;
        g_autofree char *last_status = NULL;

        control_args_set_string(arguments, CONTROL_MIGRATE, "uri", uri);
        set_stop_handler(note_stop_signal);
        ret = tool_control_execute(opt_state_dir, name, CONTROL_MIGRATE, arguments, &error);
        if (!ret)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        /* No deadline: a big guest takes long; QEMU says when it is over. */
        for (;;) {
                g_autoptr(JsonNode) progress_node = NULL;
                JsonObject *progress;
                const char *status;
                const char *state;

                /* Asked to stop: cancel_migration() also tells a migration
                 * that completed meanwhile. */
                if (stop_signal)
                        return cancel_migration(name, stop_signal);
                progress_node = tool_control_execute(opt_state_dir, name, CONTROL_QUERY_MIGRATION,
                                                     NULL, &error);
                if (!progress_node)
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
                progress = json_node_get_object(progress_node);
                status = json_object_get_string_member_with_default(progress, "status", "?");
                if (g_strcmp0(status, last_status) != 0 || member_bool(progress, "active")) {
                        g_printerr("migrate: %s, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                                   " KiB sent, %" G_GUINT64_FORMAT " KiB remaining\n",
                                   status, member_uint(progress, "transferred") / 1024,
                                   member_uint(progress, "total") / 1024,
                                   member_uint(progress, "remaining") / 1024);
                        g_free(last_status);
                        last_status = g_strdup(status);
                }
                if (member_bool(progress, "ended")) {
                        g_printerr("%s: migration of guest '%s' %s%s%s; it keeps its leases "
                                   "and runs on here\n",
                                   g_get_prgname(), name, status,
                                   json_object_has_member(progress, "error") ? ": " : "",
                                   json_object_get_string_member_with_default(progress,
                                                                              "error", ""));
                        return VMLOCK_EXIT_ERROR;
                }
                state = json_object_get_string_member_with_default(progress, "state", NULL);
                /* The supervisor hands the leases over on QEMU's word, not
                 * ours: this command only watches. */
                if (member_bool(progress, "completed") && member_bool(progress, "handed-over"))
                        return print_state(state);
                g_usleep(MIGRATE_POLL_US);
        }
}

int
cmd_migrate(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("NAME URI");
        g_autofree char *description = g_strconcat(migrate_description, "\n",
                                                   tool_exit_status_help, NULL);
        int status;

        g_option_context_set_summary(context,
                                     "Live-migrate a QEMU guest to URI; hand its leases over "
                                     "at the end.");
        g_option_context_set_description(context, description);
        g_option_context_add_main_entries(context, migrate_entries, NULL);
        if (!tool_parse_options(context, &argc, &argv, VMLOCK_EXIT_USAGE, &status))
                return status;
        if (argc != 3)
                return tool_usage_error(VMLOCK_EXIT_USAGE, argc < 3 ? "missing NAME or URI"
                                                                    : "unexpected argument '%s'",
                                        argv[argc > 3 ? 3 : 0]);
        return migrate(argv[1], argv[2]);
}
