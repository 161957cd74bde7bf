/* vmlock: commands acting on running guests: list, status, hotplug, pause, resume, inquire. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "control/control_client.h"
#include "json_output.h"
#include "supervisor/guest_orphan.h"
#include "supervisor/guest_status.h"
#include "supervisor/state_dir.h"
#include "tool_config.h"
#include "vmlock_tool.h"

static char *opt_state_dir;
static gboolean opt_readonly;
static gboolean opt_shareable;
static char *opt_type;
static char *opt_format;
static char *opt_bus;
static char *opt_cache;
static gboolean opt_lease_only;
static char *opt_lockspace;
static char *opt_key;
static char *opt_path;
static gint64 opt_offset;
static gboolean opt_release;
static char *opt_state;
static char *opt_disk;
static char *opt_config;
static gboolean opt_json;

static const GOptionEntry state_dir_entries[] = {
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where running guests are recorded (default $VMLOCK_STATE_DIR or "
          VMLOCK_DEFAULT_STATE_DIR ")",
          "DIR" },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry attach_disk_entries[] = {
        { "readonly", 0, 0, G_OPTION_ARG_NONE, &opt_readonly,
          "The guest only reads the disk: a shared lease", NULL },
        { "shareable", 0, 0, G_OPTION_ARG_NONE, &opt_shareable,
          "Several guests may write the disk: a shared lease", NULL },
        { "type", 0, 0, G_OPTION_ARG_STRING, &opt_type,
          "file, block or dir (default: block for a block device, else file)", "TYPE" },
        { "format", 0, 0, G_OPTION_ARG_STRING, &opt_format,
          "The image format QEMU opens: raw (default) or qcow2", "FORMAT" },
        { "bus", 0, 0, G_OPTION_ARG_STRING, &opt_bus,
          "virtio (virtio-blk-pci, the default; on q35 into a free pcie-root-port) or scsi "
          "(scsi-hd on the guest's virtio-scsi controller, or one vmlock adds)", "BUS" },
        { "cache", 0, 0, G_OPTION_ARG_STRING, &opt_cache,
          "QEMU's cache mode: none (direct I/O, the default: what shared storage needs), "
          "writeback, writethrough, directsync or unsafe", "MODE" },
        { "lease-only", 0, 0, G_OPTION_ARG_NONE, &opt_lease_only,
          "Only take the lease and record the disk: give it to the guest yourself (what a "
          "guest that is not QEMU always gets)", NULL },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry lease_entries[] = {
        { "lockspace", 0, 0, G_OPTION_ARG_STRING, &opt_lockspace, "The lease's lockspace",
          "LS" },
        { "key", 0, 0, G_OPTION_ARG_STRING, &opt_key, "The lease's key (resource name)",
          "KEY" },
        { "path", 0, 0, G_OPTION_ARG_FILENAME, &opt_path, "The file holding the lease",
          "PATH" },
        { "offset", 0, 0, G_OPTION_ARG_INT64, &opt_offset,
          "The lease's offset in PATH (default 0)", "N" },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry pause_entries[] = {
        { "release", 0, 0, G_OPTION_ARG_NONE, &opt_release,
          "Also release the leases and print their state (migration handoff)", NULL },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry resume_entries[] = {
        { "state", 0, 0, G_OPTION_ARG_STRING, &opt_state,
          "The state printed by `pause --release` (default: the one recorded here)",
          "STATE" },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry list_entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "Print {\"guests\": [...]}, one object per guest (see vmlock(1))", NULL },
        G_OPTION_ENTRY_NULL
};

static const GOptionEntry status_entries[] = {
        { "disk", 0, 0, G_OPTION_ARG_FILENAME, &opt_disk,
          "Who holds this disk? Read from its lease, whether a guest of this host uses it "
          "or not", "PATH" },
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "With --disk: the configuration directory naming the lock driver (default "
          "$VMLOCK_CONFIG_DIR or " VMLOCK_CONFIG_DIR ")", "DIR" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "Print the guest's (or with --disk, the disk's) status as one JSON object "
          "(see vmlock(1) for its members)",
          NULL },
        G_OPTION_ENTRY_NULL
};

/* Parses a command's options and checks the number of arguments left. */
static gboolean
parse_command(int *argc, char ***argv, const char *params, const char *summary,
              const char *description, const GOptionEntry *entries, int min_args,
              int max_args, int *ret_status)
{
        g_autoptr(GOptionContext) context = g_option_context_new(params);
        g_autofree char *text = g_strconcat(description ? description : "",
                                            description ? "\n" : "", tool_exit_status_help,
                                            NULL);

        g_option_context_set_summary(context, summary);
        g_option_context_set_description(context, text);
        g_option_context_add_main_entries(context, state_dir_entries, NULL);
        if (entries)
                g_option_context_add_main_entries(context, entries, NULL);
        if (!tool_parse_options(context, argc, argv, VMLOCK_EXIT_USAGE, ret_status))
                return FALSE;
        if (*argc - 1 < min_args) {
                *ret_status = tool_usage_error(VMLOCK_EXIT_USAGE, "missing argument");
                return FALSE;
        }
        if (*argc - 1 > max_args) {
                *ret_status = tool_usage_error(VMLOCK_EXIT_USAGE, "unexpected argument '%s'",
                                               (*argv)[max_args + 1]);
                return FALSE;
        }
        return TRUE;
}

static JsonNode *
control_execute(const char *name, ControlCommandId id, JsonObject *arguments, GError **error)
{
        return tool_control_execute(opt_state_dir, name, id, arguments, error);
}

/* A guest whose supervisor is gone: what the lock daemon says it holds
 * (its record may lag: guest_orphan.h), or why it cannot say. */
static GStrv
orphan_truth(const GuestRecord *record)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(GError) error = NULL;
        GStrv lines = NULL;

        manager = tool_lock_manager_new_read_only(record->lock_manager ? record->lock_manager
                                                                       : "nop",
                                                  NULL, vmlock_resolve_config_dir(NULL),
                                                  &error);
        if (manager)
                lines = guest_orphan_reconcile(record, manager, &error);
        if (!lines) {
                lines = g_new0(char *, 3);
                lines[0] = g_strdup_printf("what it holds: unknown (%s)", error->message);
                if (record->in_flight)
                        lines[1] = g_strdup_printf("its supervisor died during `%s`",
                                                   record->in_flight);
        }
        return lines;
}

/* The supervisor of guest @name, from its record; the strings are @ret_path's
 * and @ret_record's. */
static gboolean
load_peer(const char *state_dir_option, const char *name, ControlPeer *peer, char **ret_path,
          GuestRecord **ret_record, GError **error)
{
        const char *state_dir = state_dir_path_resolve(state_dir_option);
        g_autofree char *path = state_dir_control_path_checked(state_dir, name, error);
        GuestRecord *record;

        if (!path)
                return FALSE;
        record = state_dir_load_alive(state_dir, name, error);
        if (!record)
                return FALSE;
        peer->name = name;
        peer->socket_path = path;
        peer->guest_pid = vmlock_domain_get_pid(record->dom);
        peer->supervisor_pid = record->supervisor_pid;
        *ret_path = g_steal_pointer(&path);
        *ret_record = record;
        return TRUE;
}

JsonNode *
tool_control_execute(const char *state_dir_option, const char *name, ControlCommandId id,
                     JsonObject *arguments, GError **error)
{
        g_autofree char *path = NULL;
        g_autoptr(GuestRecord) record = NULL;
        ControlPeer peer = { 0 };
        JsonNode *ret;

        if (!load_peer(state_dir_option, name, &peer, &path, &record, error))
                return NULL;
        ret = control_client_execute(&peer, id, arguments, error);
        /* Nothing can act on it: say at least what it holds, truly. */
        if (!ret && !control_peer_supervisor_alive(&peer)) {
                g_auto(GStrv) truth = orphan_truth(record);
                g_autofree char *joined = g_strjoinv("; ", truth);

                if (joined[0] && error && *error) {
                        char *message = g_strconcat((*error)->message,
                                                    "; the lock daemon says: ", joined, NULL);

                        g_free((*error)->message);
                        (*error)->message = message;
                }
        }
        return ret;
}

JsonNode *
tool_control_execute_until_exit(const char *state_dir_option, const char *name,
                                ControlCommandId id, JsonObject *arguments, guint wait_ms,
                                GError **error)
{
        g_autofree char *path = NULL;
        g_autoptr(GuestRecord) record = NULL;
        ControlPeer peer = { 0 };

        if (!load_peer(state_dir_option, name, &peer, &path, &record, error))
                return NULL;
        return control_client_execute_until_exit(&peer, id, arguments, wait_ms, error);
}

/* Runs a command that answers nothing worth printing. */
static int
control_run(const char *name, ControlCommandId id, JsonObject *arguments)
{
        g_autoptr(JsonNode) ret = NULL;
        GError *error = NULL;

        ret = control_execute(name, id, arguments, &error);
        if (!ret)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        return VMLOCK_EXIT_OK;
}

/* Runs a command whose answer is {"state": STRING or null}; prints it. */
static int
control_run_print_state(const char *name, ControlCommandId id, JsonObject *arguments)
{
        g_autoptr(JsonNode) ret = NULL;
        GError *error = NULL;
        const char *state;

        ret = control_execute(name, id, arguments, &error);
        if (!ret)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        state = JSON_NODE_HOLDS_OBJECT(ret)
                        ? json_object_get_string_member_with_default(json_node_get_object(ret),
                                                                     "state", NULL)
                        : NULL;
        if (state)
                printf("%s\n", state);
        return VMLOCK_EXIT_OK;
}

/* A guest whose supervisor is gone: its record may lag (guest_orphan.h);
 * list shows what the lock daemon says instead, and warns. */
#define ORPHAN_STATE "no supervisor"

static GStrv
list_orphan_truth(const GuestRecord *record)
{
        pid_t pid = vmlock_domain_get_pid(record->dom);

        if (!guest_orphan_check(record))
                return NULL;
        g_printerr("%s: warning: guest '%s' (pid %d) runs without its supervisor (vmlock "
                   "start, pid %d, is gone): vmlock cannot act on it and its record may be "
                   "behind; stop it with kill %d\n",
                   g_get_prgname(), vmlock_domain_get_name(record->dom), (int)pid,
                   (int)record->supervisor_pid, (int)pid);
        return orphan_truth(record);
}

/* {"guests": [{name, pid, supervisor_pid, state, paused, released, lease_lost, unprotected,
 * lock_manager, supervisor, and without it daemon_says}]}: what the records
 * say, without asking the supervisors; for a guest whose supervisor is gone,
 * what its lock daemon says. */
static void
list_print_json(GPtrArray *records)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonNode) root = NULL;

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "guests");
        json_builder_begin_array(builder);
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);
                g_auto(GStrv) truth = list_orphan_truth(record);

                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "name");
                json_builder_add_string_value(builder, vmlock_domain_get_name(record->dom));
                json_builder_set_member_name(builder, "pid");
                json_builder_add_int_value(builder, vmlock_domain_get_pid(record->dom));
                json_builder_set_member_name(builder, "supervisor_pid");
                json_builder_add_int_value(builder, record->supervisor_pid);
                json_builder_set_member_name(builder, "state");
                json_builder_add_string_value(builder, truth ? ORPHAN_STATE
                                                             : guest_record_state_string(record));
                json_builder_set_member_name(builder, "paused");
                json_builder_add_boolean_value(builder, record->paused);
                json_builder_set_member_name(builder, "released");
                json_builder_add_boolean_value(builder, record->released);
                json_builder_set_member_name(builder, "lease_lost");
                json_builder_add_boolean_value(builder, record->lease_lost);
                json_builder_set_member_name(builder, "unprotected");
                json_builder_begin_array(builder);
                for (guint j = 0; record->unprotected && record->unprotected[j]; j++)
                        json_builder_add_string_value(builder, record->unprotected[j]);
                json_builder_end_array(builder);
                json_builder_set_member_name(builder, "lock_manager");
                json_builder_add_string_value(builder, record->lock_manager ? record->lock_manager
                                                                            : "nop");
                json_builder_set_member_name(builder, "supervisor");
                json_builder_add_boolean_value(builder, truth == NULL);
                if (truth) {
                        json_builder_set_member_name(builder, "daemon_says");
                        json_builder_begin_array(builder);
                        for (guint j = 0; truth[j]; j++)
                                json_builder_add_string_value(builder, truth[j]);
                        json_builder_end_array(builder);
                }
                json_builder_end_object(builder);
        }
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        root = json_builder_get_root(builder);
        json_output_print(root);
}

int
cmd_list(int argc, char **argv)
{
        g_autoptr(GPtrArray) records = NULL;
        GError *error = NULL;
        int status;

        if (!parse_command(&argc, &argv, "", "List the guests running here.",
                           "Only guests started by `vmlock start` with the same state\n"
                           "directory are listed; records of guests gone are removed.\n",
                           list_entries, 0, 0, &status))
                return status;
        records = state_dir_list_alive(state_dir_path_resolve(opt_state_dir), &error);
        if (!records)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (opt_json) {
                list_print_json(records);
                return VMLOCK_EXIT_OK;
        }
        printf("%-24s %8s  %-24s %s\n", "NAME", "PID", "STATE", "LOCK MANAGER");
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);
                g_auto(GStrv) truth = list_orphan_truth(record);

                printf("%-24s %8d  %-24s %s\n", vmlock_domain_get_name(record->dom),
                       (int)vmlock_domain_get_pid(record->dom),
                       truth ? ORPHAN_STATE : guest_record_state_string(record),
                       record->lock_manager ? record->lock_manager : "nop");
                for (guint j = 0; truth && truth[j]; j++)
                        printf("  DAEMON SAYS  %s\n", truth[j]);
                for (guint j = 0; record->unprotected && record->unprotected[j]; j++)
                        printf("  UNPROTECTED  %s  opened writable by QEMU, no lease\n",
                               record->unprotected[j]);
        }
        return VMLOCK_EXIT_OK;
}

/* The guests recorded here that have disk @path (a lease held by this host
 * is theirs). */
static JsonArray *
local_guests_of_disk(const char *path)
{
        g_autoptr(GPtrArray) records = state_dir_list_alive(state_dir_path_resolve(opt_state_dir),
                                                            NULL);
        JsonArray *guests = json_array_new();

        for (guint i = 0; records && i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);

                for (guint j = 0; j < vmlock_domain_get_n_disks(record->dom); j++) {
                        const VmlockDisk *disk = vmlock_domain_get_disk(record->dom, j);

                        if (g_strcmp0(vmlock_disk_get_source(disk), path) == 0 &&
                            !record->released) {
                                json_array_add_string_element(
                                        guests, vmlock_domain_get_name(record->dom));
                                break;
                        }
                }
        }
        return guests;
}

/* {path, description, mode, holders: [{host_id, host_name, self, guests}]}:
 * guests are known for this host's holders only (from its records). */
static JsonNode *
disk_status_json(VmlockLockManager *manager, const char *path, const char *description,
                 GError **error)
{
        g_autoptr(JsonObject) object = json_object_new();
        g_autoptr(GPtrArray) holders = NULL;
        VmlockDiskLeaseMode mode;
        JsonArray *array;

        if (!vmlock_lock_manager_disk_holders(manager, path, &mode, &holders, error))
                return NULL;
        json_object_set_string_member(object, "path", path);
        json_object_set_string_member(object, "description", description);
        json_object_set_string_member(object, "mode", vmlock_disk_lease_mode_to_string(mode));
        array = json_array_new();
        for (guint i = 0; i < holders->len; i++) {
                const VmlockDiskHolder *holder = g_ptr_array_index(holders, i);
                JsonObject *member = json_object_new();

                json_object_set_int_member(member, "host_id", (gint64)holder->host_id);
                if (holder->host_name)
                        json_object_set_string_member(member, "host_name", holder->host_name);
                else
                        json_object_set_null_member(member, "host_name");
                json_object_set_boolean_member(member, "self", holder->self);
                json_object_set_array_member(member, "guests",
                                             holder->self ? local_guests_of_disk(path)
                                                          : json_array_new());
                json_array_add_object_element(array, member);
        }
        json_object_set_array_member(object, "holders", array);
        return json_node_init_object(json_node_alloc(), object);
}

/* status --disk: the lock driver of this host's vmlock.conf reads the
 * disk's lease, so it answers for guests of any host. */
static int
status_disk(const char *path)
{
        const char *config_dir = vmlock_resolve_config_dir(opt_config);
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *manager_name = NULL;
        g_autofree char *description = NULL;
        GError *error = NULL;

        if (!tool_config_read_lock_manager(config_dir, &manager_name, NULL, &error))
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        /* A question: never joins the lockspace nor creates files. */
        manager = tool_lock_manager_new_read_only(manager_name, NULL, config_dir, &error);
        if (!manager ||
            !vmlock_lock_manager_describe_disk(manager, path, &description, &error))
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (opt_json) {
                g_autoptr(JsonNode) root = disk_status_json(manager, path, description, &error);

                if (!root)
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
                json_output_print(root);
        } else {
                printf("disk %s: %s\n", path, description);
        }
        return VMLOCK_EXIT_OK;
}

int
cmd_status(int argc, char **argv)
{
        g_autoptr(JsonNode) status_node = NULL;
        GError *error = NULL;
        int status;

        if (!parse_command(&argc, &argv, "NAME | --disk PATH",
                           "Show a guest's resources and whether each is held.",
                           "Each disk and lease of guest NAME is listed with its mode\n"
                           "(exclusive or shared) and whether the guest holds it now, as\n"
                           "the lock driver reports it (\"not tracked\" with the nop driver),\n"
                           "and the QMP proxy socket other QMP clients use (qmp: PATH).\n"
                           "With --disk PATH instead of NAME: which host holds the disk's\n"
                           "lease now (sanlock with auto_disk_leases = 1), whatever guest\n"
                           "or host uses it.\n",
                           status_entries, 0, 1, &status))
                return status;
        if (opt_disk) {
                if (argc != 1)
                        return tool_usage_error(VMLOCK_EXIT_USAGE,
                                                "--disk PATH takes no guest NAME");
                return status_disk(opt_disk);
        }
        if (argc != 2)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "missing NAME");

        status_node = control_execute(argv[1], CONTROL_QUERY_GUEST, NULL, &error);
        if (!status_node)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (!JSON_NODE_HOLDS_OBJECT(status_node)) {
                g_printerr("%s: guest '%s' answered garbage\n", g_get_prgname(), argv[1]);
                return VMLOCK_EXIT_ERROR;
        }
        if (opt_json) {
                json_output_print(status_node);
        } else {
                guest_status_print(json_node_get_object(status_node));
        }
        return VMLOCK_EXIT_OK;
}

static int
attach_disk(const char *name, const char *path)
{
        g_autoptr(JsonObject) arguments = json_object_new();
        struct stat st;
        const char *type = "file";

        if (opt_type) {
                if (vmlock_disk_type_from_string(opt_type) < 0)
                        return tool_usage_error(VMLOCK_EXIT_USAGE, "unknown disk type '%s'",
                                                opt_type);
                type = opt_type;
        } else if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
                type = "block";
        }
        control_args_set_string(arguments, CONTROL_ATTACH_DISK, "path", path);
        control_args_set_string(arguments, CONTROL_ATTACH_DISK, "type", type);
        control_args_set_bool(arguments, CONTROL_ATTACH_DISK, "readonly", opt_readonly);
        control_args_set_bool(arguments, CONTROL_ATTACH_DISK, "shareable", opt_shareable);
        control_args_set_bool(arguments, CONTROL_ATTACH_DISK, "lease-only", opt_lease_only);
        control_args_set_string(arguments, CONTROL_ATTACH_DISK, "format", opt_format);
        control_args_set_string(arguments, CONTROL_ATTACH_DISK, "bus", opt_bus);
        control_args_set_string(arguments, CONTROL_ATTACH_DISK, "cache", opt_cache);
        return control_run(name, CONTROL_ATTACH_DISK, arguments);
}

int
cmd_attach_disk(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME PATH",
                           "Give a running guest a disk, its lease taken first (hotplug).",
                           "The disk's lease is taken, then a QEMU guest gets the disk over\n"
                           "QMP (blockdev-add, device_add); if QEMU refuses, the lease is\n"
                           "released again and QEMU's words are shown. With --lease-only, or\n"
                           "for a guest that is not QEMU, only the lease is taken: give the\n"
                           "disk to the guest afterwards. The disk joins the guest's record.\n",
                           attach_disk_entries, 2, 2, &status))
                return status;
        return attach_disk(argv[1], argv[2]);
}

int
cmd_detach_disk(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME PATH",
                           "Take a disk from a running guest, then release its lease.",
                           "A disk attach-disk gave QEMU is unplugged (device_del); once QEMU\n"
                           "reports the device gone (DEVICE_DELETED, waited for up to 6 s:\n"
                           "a PCI device needs the guest OS's consent, a scsi disk does not)\n"
                           "its block nodes are deleted and only then the lease released.\n"
                           "If QEMU does not let go in time, the disk stays attached and its\n"
                           "lease held. Otherwise (--lease-only disks), run it after the guest\n"
                           "let go of the disk. The disk leaves the guest's record.\n",
                           NULL, 2, 2, &status))
                return status;
        {
                g_autoptr(JsonObject) arguments = json_object_new();

                control_args_set_string(arguments, CONTROL_DETACH_DISK, "path", argv[2]);
                return control_run(argv[1], CONTROL_DETACH_DISK, arguments);
        }
}

static int
lease_command(int argc, char **argv, gboolean attach)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME --lockspace LS --key KEY --path PATH [--offset N]",
                           attach ? "Take a lease for a running guest (hotplug)."
                                  : "Release a lease of a running guest.",
                           attach ? "The lease is added to the guest's record.\n"
                                  : "The lease is matched by lockspace and key; it leaves the\n"
                                    "guest's record.\n",
                           lease_entries, 1, 1, &status))
                return status;
        if (!opt_key)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "missing --key");
        if (attach && !opt_path)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "missing --path");
        if (opt_offset < 0)
                return tool_usage_error(VMLOCK_EXIT_USAGE, "--offset must not be negative");
        {
                g_autoptr(JsonObject) arguments = json_object_new();
                ControlCommandId id = attach ? CONTROL_ATTACH_LEASE : CONTROL_DETACH_LEASE;

                control_args_set_string(arguments, id, "lockspace", opt_lockspace);
                control_args_set_string(arguments, id, "key", opt_key);
                if (attach) {
                        control_args_set_string(arguments, id, "path", opt_path);
                        control_args_set_uint(arguments, id, "offset", (guint64)opt_offset);
                }
                return control_run(argv[1], id, arguments);
        }
}

int
cmd_attach_lease(int argc, char **argv)
{
        return lease_command(argc, argv, TRUE);
}

int
cmd_detach_lease(int argc, char **argv)
{
        return lease_command(argc, argv, FALSE);
}

int
cmd_pause(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Stop a guest's CPUs.",
                           "Sends QMP \"stop\" to a QEMU guest (which returns once its\n"
                           "block layer is flushed), else SIGSTOP. The guest keeps its\n"
                           "leases, so no other host can take its disks meanwhile. With\n"
                           "--release (QEMU guests only: SIGSTOP leaves writes in flight),\n"
                           "the leases are handed over and their state is printed:\n"
                           "`vmlock resume --state STATE` takes them back, here or, after\n"
                           "`vmlock start --paused`, on another host.\n",
                           pause_entries, 1, 1, &status))
                return status;
        {
                g_autoptr(JsonObject) arguments = json_object_new();

                control_args_set_bool(arguments, CONTROL_PAUSE, "release", opt_release);
                return control_run_print_state(argv[1], CONTROL_PAUSE, arguments);
        }
}

int
cmd_resume(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Continue a guest.",
                           "If the guest's leases were released (pause --release) or not yet\n"
                           "taken (start --paused), takes them first, with STATE when given:\n"
                           "a lease that changed hands since STATE is refused and the guest\n"
                           "stays paused. Then sends QMP \"cont\", or SIGCONT (a program\n"
                           "started with --paused is executed now).\n",
                           resume_entries, 1, 1, &status))
                return status;
        {
                g_autoptr(JsonObject) arguments = json_object_new();

                control_args_set_string(arguments, CONTROL_RESUME, "state", opt_state);
                return control_run(argv[1], CONTROL_RESUME, arguments);
        }
}

int
cmd_inquire(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Print the state string of a guest's leases.",
                           "For a guest whose leases were released, the state they were\n"
                           "released with; nothing when the driver keeps no state.\n",
                           NULL, 1, 1, &status))
                return status;
        return control_run_print_state(argv[1], CONTROL_INQUIRE, NULL);
}
