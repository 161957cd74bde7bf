/* vmlock: commands acting on running guests: list, status, hotplug, pause, resume, inquire. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/vmlock.h>

#include "guest-control.h"
#include "state-dir.h"
#include "tool-config.h"
#include "vmlock-tool.h"

/* sanlock's lockspace of the automatic disk leases (named by libvirt). */
#define AUTO_DISK_LOCKSPACE "__LIBVIRT__DISKS__"

static char *opt_state_dir;
static gboolean opt_readonly;
static gboolean opt_shareable;
static char *opt_type;
static char *opt_lockspace;
static char *opt_key;
static char *opt_path;
static gint64 opt_offset;
static gboolean opt_release;
static char *opt_state;
static char *opt_disk;
static char *opt_config;

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

static const GOptionEntry status_entries[] = {
        { "disk", 0, 0, G_OPTION_ARG_FILENAME, &opt_disk,
          "Who holds this disk? Read from its lease, whether a guest of this host uses it "
          "or not", "PATH" },
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
          "With --disk: the configuration directory naming the lock driver (default "
          "$VMLOCK_CONFIG_DIR or " VMLOCK_CONFIG_DIR ")", "DIR" },
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

/* Runs @op on the live record of @name under its lock, and saves the record
 * when @op asks for it (even when it fails: a half-done pause is recorded). */
typedef int (*RecordOp)(GuestRecord *record, gboolean *ret_save);

static int
with_locked_record(const char *name, RecordOp op)
{
        const char *state_dir = state_dir_path_resolve(opt_state_dir);
        g_autoptr(GuestRecord) record = NULL;
        GError *error = NULL;
        gboolean save = FALSE;
        int status;
        int lock_fd;

        lock_fd = state_dir_lock_name(state_dir, name, &error);
        if (lock_fd < 0)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        record = state_dir_load_alive(state_dir, name, &error);
        if (!record) {
                close(lock_fd);
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        status = op(record, &save);
        if (save && !state_dir_save(state_dir, record, &error))
                status = tool_report_error(error, VMLOCK_EXIT_ERROR);
        close(lock_fd);
        return status;
}

static const char *
record_state_string(const GuestRecord *record)
{
        if (record->released)
                return record->paused ? "paused, leases released" : "leases released";
        return record->paused ? "paused" : "running";
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
                           NULL, 0, 0, &status))
                return status;
        records = state_dir_list_alive(state_dir_path_resolve(opt_state_dir), &error);
        if (!records)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        printf("%-24s %8s  %-24s %s\n", "NAME", "PID", "STATE", "LOCK MANAGER");
        for (guint i = 0; i < records->len; i++) {
                const GuestRecord *record = g_ptr_array_index(records, i);

                printf("%-24s %8d  %-24s %s\n", vmlock_domain_get_name(record->dom),
                       (int)vmlock_domain_get_pid(record->dom), record_state_string(record),
                       record->lock_manager ? record->lock_manager : "nop");
        }
        return VMLOCK_EXIT_OK;
}

/* One resource in a driver's state string: "LOCKSPACE:NAME:PATH:OFFSET..."
 * entries separated by spaces (sanlock's format). */
static gboolean
state_has_resource(const char *state, const char *lockspace, const char *name)
{
        g_auto(GStrv) entries = NULL;

        if (!state)
                return FALSE;
        entries = g_strsplit(state, " ", -1);
        for (guint i = 0; entries[i]; i++) {
                g_auto(GStrv) fields = g_strsplit(entries[i], ":", 3);

                if (g_strv_length(fields) < 2 || !g_str_equal(fields[1], name))
                        continue;
                if (!lockspace || g_str_equal(fields[0], lockspace))
                        return TRUE;
        }
        return FALSE;
}

static const char *
disk_mode(const VmlockDisk *disk)
{
        if (vmlock_disk_get_readonly(disk))
                return "shared (readonly)";
        if (vmlock_disk_get_shareable(disk))
                return "shared";
        return "exclusive";
}

static gboolean
disk_is_lockable(const VmlockDisk *disk)
{
        VmlockDiskType type = vmlock_disk_get_type(disk);

        return vmlock_disk_get_source(disk) &&
               (type == VMLOCK_DISK_TYPE_FILE || type == VMLOCK_DISK_TYPE_BLOCK ||
                type == VMLOCK_DISK_TYPE_DIR);
}

static void
print_resources(const GuestRecord *record, VmlockLockManager *manager, const char *state)
{
        const VmlockDomain *dom = record->dom;
        gboolean tracked = vmlock_lock_manager_uses_state(manager);
        guint n_disks = vmlock_domain_get_n_disks(dom);
        guint n_leases = vmlock_domain_get_n_leases(dom);

        printf("resources:%s\n", n_disks + n_leases == 0 ? " none" : "");
        for (guint i = 0; i < n_leases; i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);
                const char *held;

                if (!tracked)
                        held = "not tracked";
                else if (record->released)
                        held = "released";
                else
                        held = state_has_resource(state, vmlock_lease_get_lockspace(lease),
                                                  vmlock_lease_get_key(lease))
                                       ? "held"
                                       : "not held";
                printf("  lease %s:%s (%s offset %" G_GUINT64_FORMAT ")  exclusive  %s\n",
                       vmlock_lease_get_lockspace(lease) ? vmlock_lease_get_lockspace(lease)
                                                         : "",
                       vmlock_lease_get_key(lease), vmlock_lease_get_path(lease),
                       vmlock_lease_get_offset(lease), held);
        }
        for (guint i = 0; i < n_disks; i++) {
                const VmlockDisk *disk = vmlock_domain_get_disk(dom, i);
                const char *source = vmlock_disk_get_source(disk);
                g_autofree char *md5 = NULL;
                const char *held;

                if (!disk_is_lockable(disk)) {
                        printf("  disk  %s  -  not locked (no local path)\n",
                               source ? source : "(empty)");
                        continue;
                }
                /* An automatic disk lease is named by the md5 of the path. */
                md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, source, -1);
                if (!tracked)
                        held = "not tracked";
                else if (record->released)
                        held = "released";
                else if (state_has_resource(state, AUTO_DISK_LOCKSPACE, md5) ||
                         state_has_resource(state, NULL, source))
                        held = "held";
                else
                        held = "not held";
                printf("  disk  %s  %s  %s\n", source, disk_mode(disk), held);
        }
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

        if (!tool_config_read_lock_manager(config_dir, &manager_name, &error))
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        manager = tool_lock_manager_new(manager_name, NULL, config_dir, &error);
        if (!manager ||
            !vmlock_lock_manager_describe_disk(manager, path, &description, &error))
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        printf("disk %s: %s\n", path, description);
        return VMLOCK_EXIT_OK;
}

int
cmd_status(int argc, char **argv)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *state = NULL;
        const VmlockDomain *dom;
        GError *error = NULL;
        int status;

        if (!parse_command(&argc, &argv, "NAME | --disk PATH",
                           "Show a guest's resources and whether each is held.",
                           "Each disk and lease of guest NAME is listed with its mode\n"
                           "(exclusive or shared) and whether the guest holds it now, as\n"
                           "the lock driver reports it (\"not tracked\" with the nop driver).\n"
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

        record = state_dir_load_alive(state_dir_path_resolve(opt_state_dir), argv[1], &error);
        if (!record)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        dom = record->dom;
        manager = guest_control_load_manager(record, &error);
        if (!manager)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (!record->released &&
            !vmlock_domain_lock_process_inquire(manager, record->dom, &state, &error))
                return tool_report_error(error, VMLOCK_EXIT_ERROR);

        printf("name: %s\n", vmlock_domain_get_name(dom));
        printf("uuid: %s\n", vmlock_domain_get_uuid_string(dom));
        printf("pid: %d\n", (int)vmlock_domain_get_pid(dom));
        printf("state: %s\n", record_state_string(record));
        printf("lock manager: %s\n", record->lock_manager ? record->lock_manager : "nop");
        printf("on_lockfailure: %s\n",
               vmlock_lock_failure_action_to_string(vmlock_domain_get_on_lockfailure(dom)));
        if (record->domain_xml)
                printf("domain: %s\n", record->domain_xml);
        if (record->qmp)
                printf("qmp: %s\n", record->qmp);
        print_resources(record, manager, state);
        return VMLOCK_EXIT_OK;
}

static int
attach_disk_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockDisk) disk = NULL;
        GError *error = NULL;
        int type = VMLOCK_DISK_TYPE_FILE;
        struct stat st;

        for (guint i = 0; i < vmlock_domain_get_n_disks(record->dom); i++) {
                if (g_strcmp0(vmlock_disk_get_source(vmlock_domain_get_disk(record->dom, i)),
                              opt_path) == 0) {
                        g_printerr("%s: disk %s is already attached to guest '%s'\n",
                                   g_get_prgname(), opt_path,
                                   vmlock_domain_get_name(record->dom));
                        return VMLOCK_EXIT_ERROR;
                }
        }
        if (opt_type) {
                type = vmlock_disk_type_from_string(opt_type);
                if (type < 0)
                        return tool_usage_error(VMLOCK_EXIT_USAGE, "unknown disk type '%s'",
                                                opt_type);
        } else if (stat(opt_path, &st) == 0 && S_ISBLK(st.st_mode)) {
                type = VMLOCK_DISK_TYPE_BLOCK;
        }
        disk = vmlock_disk_new(type, VMLOCK_DISK_DEVICE_DISK, opt_path, opt_readonly,
                               opt_shareable, &error);
        if (!disk)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);

        /* Leases handed over: resume takes this one with the others. */
        if (!record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager ||
                    !vmlock_domain_lock_disk_attach(manager, NULL, record->dom, disk, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        vmlock_domain_add_disk(record->dom, g_steal_pointer(&disk));
        *ret_save = TRUE;
        return VMLOCK_EXIT_OK;
}

int
cmd_attach_disk(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME PATH",
                           "Take a disk's lease for a running guest (hotplug).",
                           "Run before giving the disk to the guest; on success the disk\n"
                           "is added to the guest's record.\n",
                           attach_disk_entries, 2, 2, &status))
                return status;
        opt_path = argv[2];
        return with_locked_record(argv[1], attach_disk_op);
}

static int
detach_disk_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        const VmlockDisk *disk = NULL;
        GError *error = NULL;

        for (guint i = 0; i < vmlock_domain_get_n_disks(record->dom); i++) {
                const VmlockDisk *candidate = vmlock_domain_get_disk(record->dom, i);

                if (g_strcmp0(vmlock_disk_get_source(candidate), opt_path) == 0)
                        disk = candidate;
        }
        if (!disk) {
                g_printerr("%s: guest '%s' has no disk %s\n", g_get_prgname(),
                           vmlock_domain_get_name(record->dom), opt_path);
                return VMLOCK_EXIT_ERROR;
        }
        if (!record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager ||
                    !vmlock_domain_lock_disk_detach(manager, record->dom, disk, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        vmlock_domain_remove_disk(record->dom, opt_path);
        *ret_save = TRUE;
        return VMLOCK_EXIT_OK;
}

int
cmd_detach_disk(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME PATH",
                           "Release a disk's lease of a running guest.",
                           "Run after the guest let go of the disk; the disk leaves the\n"
                           "guest's record.\n",
                           NULL, 2, 2, &status))
                return status;
        opt_path = argv[2];
        return with_locked_record(argv[1], detach_disk_op);
}

static const VmlockLease *
find_lease(const VmlockDomain *dom)
{
        for (guint i = 0; i < vmlock_domain_get_n_leases(dom); i++) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, i);

                if (g_strcmp0(vmlock_lease_get_lockspace(lease), opt_lockspace) == 0 &&
                    g_strcmp0(vmlock_lease_get_key(lease), opt_key) == 0)
                        return lease;
        }
        return NULL;
}

static int
attach_lease_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autoptr(VmlockLease) lease = NULL;
        GError *error = NULL;

        if (find_lease(record->dom)) {
                g_printerr("%s: guest '%s' already has lease %s:%s\n", g_get_prgname(),
                           vmlock_domain_get_name(record->dom),
                           opt_lockspace ? opt_lockspace : "", opt_key);
                return VMLOCK_EXIT_ERROR;
        }
        lease = vmlock_lease_new(opt_lockspace, opt_key, opt_path, (guint64)opt_offset, &error);
        if (!lease)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (!record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager ||
                    !vmlock_domain_lock_lease_attach(manager, NULL, record->dom, lease, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        vmlock_domain_add_lease(record->dom, g_steal_pointer(&lease));
        *ret_save = TRUE;
        return VMLOCK_EXIT_OK;
}

static int
detach_lease_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        const VmlockLease *lease = find_lease(record->dom);
        GError *error = NULL;

        if (!lease) {
                g_printerr("%s: guest '%s' has no lease %s:%s\n", g_get_prgname(),
                           vmlock_domain_get_name(record->dom),
                           opt_lockspace ? opt_lockspace : "", opt_key);
                return VMLOCK_EXIT_ERROR;
        }
        if (!record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager ||
                    !vmlock_domain_lock_lease_detach(manager, record->dom, lease, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        vmlock_domain_remove_lease(record->dom, opt_lockspace, opt_key);
        *ret_save = TRUE;
        return VMLOCK_EXIT_OK;
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
        return with_locked_record(argv[1], attach ? attach_lease_op : detach_lease_op);
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

static int
pause_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        GError *error = NULL;

        if (!record->paused) {
                if (!guest_control_stop_cpus(record, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
                record->paused = TRUE;
                *ret_save = TRUE;
        }
        if (opt_release && !record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager || !guest_control_release(record, manager, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
                *ret_save = TRUE;
        }
        if (opt_release && record->lock_state)
                printf("%s\n", record->lock_state);
        return VMLOCK_EXIT_OK;
}

int
cmd_pause(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Stop a guest's CPUs.",
                           "Sends QMP \"stop\" when the guest was started with --qmp, else\n"
                           "SIGSTOP. The guest keeps its leases, so no other host can take\n"
                           "its disks meanwhile. With --release, the leases are handed\n"
                           "over and their state is printed: `vmlock resume --state STATE`\n"
                           "takes them back, here or, after `vmlock start --paused`, on\n"
                           "another host.\n",
                           pause_entries, 1, 1, &status))
                return status;
        return with_locked_record(argv[1], pause_op);
}

static int
resume_op(GuestRecord *record, gboolean *ret_save)
{
        g_autoptr(VmlockLockManager) manager = NULL;
        GError *error = NULL;
        gboolean reacquired = FALSE;

        if (opt_state && !record->released) {
                g_printerr("%s: guest '%s' holds its leases: --state is for a guest whose "
                           "leases were released (pause --release) or not yet taken "
                           "(start --paused)\n",
                           g_get_prgname(), vmlock_domain_get_name(record->dom));
                return VMLOCK_EXIT_ERROR;
        }
        if (record->released) {
                manager = guest_control_load_manager(record, &error);
                if (!manager || !guest_control_reacquire(record, manager, opt_state, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
                reacquired = TRUE;
                *ret_save = TRUE;
        }
        if (!guest_control_cont_cpus(record, &error)) {
                /* Still stopped: hand the leases back as they were. */
                if (reacquired) {
                        g_autoptr(GError) release_error = NULL;

                        if (!guest_control_release(record, manager, &release_error))
                                g_printerr("%s: %s\n", g_get_prgname(), release_error->message);
                }
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        record->paused = FALSE;
        *ret_save = TRUE;
        return VMLOCK_EXIT_OK;
}

int
cmd_resume(int argc, char **argv)
{
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Continue a guest.",
                           "If the guest's leases were released (pause --release) or not yet\n"
                           "taken (start --paused), takes them first, with STATE when given:\n"
                           "a lease that changed hands since STATE is refused and the guest\n"
                           "stays paused. Then sends QMP \"cont\", or SIGCONT.\n",
                           resume_entries, 1, 1, &status))
                return status;
        return with_locked_record(argv[1], resume_op);
}

int
cmd_inquire(int argc, char **argv)
{
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(VmlockLockManager) manager = NULL;
        g_autofree char *state = NULL;
        GError *error = NULL;
        int status;

        if (!parse_command(&argc, &argv, "NAME", "Print the state string of a guest's leases.",
                           "For a guest whose leases were released, the state they were\n"
                           "released with; nothing when the driver keeps no state.\n",
                           NULL, 1, 1, &status))
                return status;
        record = state_dir_load_alive(state_dir_path_resolve(opt_state_dir), argv[1], &error);
        if (!record)
                return tool_report_error(error, VMLOCK_EXIT_ERROR);
        if (record->released) {
                state = g_strdup(record->lock_state);
        } else {
                manager = guest_control_load_manager(record, &error);
                if (!manager ||
                    !vmlock_domain_lock_process_inquire(manager, record->dom, &state, &error))
                        return tool_report_error(error, VMLOCK_EXIT_ERROR);
        }
        if (state)
                printf("%s\n", state);
        return VMLOCK_EXIT_OK;
}
