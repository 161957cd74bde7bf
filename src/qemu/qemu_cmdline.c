/* vmlock: the images a QEMU command line opens, from its arguments. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "qemu/qemu_cmdline.h"

/* One option with its value, parsed into QEMU's key=value pairs. JSON
 * (-blockdev '{...}') is flattened the way QEMU does: nested members become
 * dotted keys ("file.filename"), booleans on/off, null an empty string. */
typedef struct {
        const char *option; /* "-drive", as written */
        const char *value;  /* NULL for an image named bare (qemu disk.img) */
        guint argi;         /* the value's index in argv */
        GHashTable *kv;     /* key -> value, both owned */
        QemuImageRole role; /* the role the option gives (-cdrom...) */
} OptionUse;

/* How a -device or a parent node uses a drive or node. */
typedef struct {
        QemuImageRole role;
        gboolean shareable;
        gboolean follow; /* the file child of a qcow2 node: its header counts */
} NodeUse;

typedef struct {
        GPtrArray *drives;    /* OptionUse: -drive, -hda..., bare images */
        GPtrArray *blockdevs; /* OptionUse */
        GPtrArray *devices;   /* OptionUse */
        GHashTable *uses;     /* drive id or node-name -> NodeUse */
        gboolean snapshot;    /* -snapshot */
        GPtrArray *images;    /* QemuImage, the result */
        gboolean changed;     /* a -blockdev walk learnt something new */
        const QemuJsonOptions *json; /* for JSON values */
} Parser;

static void
option_use_free(OptionUse *use)
{
        if (!use)
                return;
        g_hash_table_unref(use->kv);
        g_free(use);
}

void
qemu_image_free(QemuImage *image)
{
        if (!image)
                return;
        g_free(image->path);
        g_free(image->remote);
        g_free(image->origin);
        g_free(image);
}

const char *
qemu_image_role_to_string(QemuImageRole role)
{
        switch (role) {
        case QEMU_IMAGE_ROLE_CDROM:
                return "cdrom";
        case QEMU_IMAGE_ROLE_FLOPPY:
                return "floppy";
        case QEMU_IMAGE_ROLE_DISK:
                break;
        }
        return "disk";
}

static char *
use_origin(const OptionUse *use)
{
        if (!use->value)
                return g_strdup_printf("image %s (argument %u)", use->option, use->argi);
        return g_strdup_printf("%s %s (argument %u)", use->option, use->value, use->argi);
}

static void G_GNUC_PRINTF(3, 4)
use_error(const OptionUse *use, GError **error, const char *fmt, ...)
{
        g_autofree char *origin = use_origin(use);
        g_autofree char *message = NULL;
        va_list args;

        va_start(args, fmt);
        message = g_strdup_vprintf(fmt, args);
        va_end(args);
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG, "%s: %s", origin, message);
}

/* QEMU's key=value,key=value syntax (QemuOpts for -drive and -device,
 * keyval for -blockdev): ",," is a comma inside a value; a first element
 * without '=' is @implied_key's value; with @bare_flags (QemuOpts), a later
 * "key" alone means key=on and "nokey" key=off. */
static gboolean
parse_key_values(const char *text, const char *implied_key, gboolean bare_flags,
                 GHashTable *kv, char **ret_problem)
{
        const char *p = text;
        gboolean first = TRUE;

        while (*p) {
                const char *start = p;
                g_autoptr(GString) value = g_string_new(NULL);
                g_autofree char *key = NULL;

                while (*p && *p != '=' && *p != ',')
                        p++;
                if (*p == '=') {
                        key = g_strndup(start, p - start);
                        p++;
                } else if (first && implied_key) {
                        key = g_strdup(implied_key);
                        p = start;
                } else if (bare_flags && p > start) {
                        key = g_strndup(start, p - start);
                        if (g_str_has_prefix(key, "no") && key[2]) {
                                char *flag = g_strdup(key + 2);

                                g_free(key);
                                key = flag;
                                g_string_assign(value, "off");
                        } else {
                                g_string_assign(value, "on");
                        }
                        if (*p == ',')
                                p++;
                        g_hash_table_insert(kv, g_steal_pointer(&key),
                                            g_string_free(g_steal_pointer(&value), FALSE));
                        first = FALSE;
                        continue;
                } else {
                        *ret_problem = p > start
                                ? g_strdup_printf("'%.*s' has no value (expected KEY=VALUE)",
                                                  (int)(p - start), start)
                                : g_strdup("an empty parameter (expected KEY=VALUE)");
                        return FALSE;
                }
                if (!*key) {
                        *ret_problem = g_strdup("a parameter without a name (expected "
                                                "KEY=VALUE)");
                        return FALSE;
                }
                while (*p) {
                        if (*p == ',') {
                                if (p[1] != ',')
                                        break;
                                p++;
                        }
                        g_string_append_c(value, *p);
                        p++;
                }
                if (*p == ',')
                        p++;
                /* QEMU keeps the last of a repeated key. */
                g_hash_table_insert(kv, g_steal_pointer(&key),
                                    g_string_free(g_steal_pointer(&value), FALSE));
                first = FALSE;
        }
        return TRUE;
}

static OptionUse *
option_use_new(const char *option, const char *value, guint argi, QemuImageRole role)
{
        OptionUse *use = g_new0(OptionUse, 1);

        use->option = option;
        use->value = value;
        use->argi = argi;
        use->role = role;
        use->kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        return use;
}

/* -drive, -device and -blockdev (key=value or JSON). */
static OptionUse *
option_use_parse(Parser *ps, const char *option, const char *value, guint argi, GError **error)
{
        OptionUse *use = option_use_new(option, value, argi, QEMU_IMAGE_ROLE_DISK);
        g_autofree char *problem = NULL;
        gboolean ok;

        /* -blockdev and (QEMU 6.2 on) -device take JSON too. */
        if (value[0] == '{' && !g_str_has_suffix(option, "drive"))
                ok = ps->json->parse(value, use->kv, ps->json->user_data, &problem);
        else if (g_str_has_suffix(option, "blockdev"))
                ok = parse_key_values(value, "driver", FALSE, use->kv, &problem);
        else if (g_str_has_suffix(option, "device"))
                ok = parse_key_values(value, "driver", TRUE, use->kv, &problem);
        else
                ok = parse_key_values(value, NULL, TRUE, use->kv, &problem);
        if (!ok) {
                use_error(use, error, "%s", problem);
                option_use_free(use);
                return NULL;
        }
        return use;
}

/* A literal file name (-hda FILE..., or bare: @value NULL), as the -drive
 * QEMU makes of it. */
static OptionUse *
option_use_file(const char *option, const char *value, const char *file, guint argi,
                QemuImageRole role, const char *interface)
{
        OptionUse *use = option_use_new(option, value, argi, role);

        g_hash_table_insert(use->kv, g_strdup("file"), g_strdup(file));
        if (role == QEMU_IMAGE_ROLE_CDROM)
                g_hash_table_insert(use->kv, g_strdup("media"), g_strdup("cdrom"));
        if (interface)
                g_hash_table_insert(use->kv, g_strdup("if"), g_strdup(interface));
        return use;
}

static const char *
kv_get(const OptionUse *use, const char *prefix, const char *key)
{
        g_autofree char *full = g_strconcat(prefix, key, NULL);

        return g_hash_table_lookup(use->kv, full);
}

/* Any key under "@prefix@key." (an inline child node). */
static gboolean
kv_has_child(const OptionUse *use, const char *prefix, const char *key)
{
        g_autofree char *full = g_strconcat(prefix, key, ".", NULL);
        GHashTableIter iter;
        const char *name;

        g_hash_table_iter_init(&iter, use->kv);
        while (g_hash_table_iter_next(&iter, (gpointer *)&name, NULL)) {
                if (g_str_has_prefix(name, full))
                        return TRUE;
        }
        return FALSE;
}

/* on/off as QEMU reads them; @fallback when absent. */
static gboolean
kv_get_bool(const OptionUse *use, const char *prefix, const char *key, gboolean fallback,
            gboolean *ret_value, GError **error)
{
        static const char *const yes[] = { "on", "yes", "true", "y", NULL };
        static const char *const no[] = { "off", "no", "false", "n", NULL };
        const char *value = kv_get(use, prefix, key);

        if (!value)
                *ret_value = fallback;
        else if (g_strv_contains(yes, value))
                *ret_value = TRUE;
        else if (g_strv_contains(no, value))
                *ret_value = FALSE;
        else {
                use_error(use, error, "%s%s: '%s' is not on or off", prefix, key, value);
                return FALSE;
        }
        return TRUE;
}

/* Drivers that open a local file or device. */
static gboolean
is_local_protocol(const char *driver)
{
        static const char *const names[] = { "file", "host_device", "host_cdrom", NULL };

        return g_strv_contains(names, driver);
}

/* Format and filter drivers whose image is their "file" child. */
static gboolean
is_format(const char *driver)
{
        static const char *const names[] = {
                "raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vpc", "vhdx", "luks",
                "parallels", "bochs", "cloop", "dmg", "throttle", "copy-on-read",
                "preallocate", "compress", NULL,
        };

        return g_strv_contains(names, driver);
}

/* The formats whose backing file vmlock reads from the header. */
static gboolean
has_qcow2_header(const char *driver)
{
        return g_str_equal(driver, "qcow2") || g_str_equal(driver, "qcow");
}

static void
add_image(Parser *ps, const OptionUse *use, char *path, char *remote, QemuImageRole role,
          gboolean readonly, gboolean shareable, gboolean backing_from_header)
{
        QemuImage *image = g_new0(QemuImage, 1);

        image->path = path;
        image->remote = remote;
        image->role = role;
        image->readonly = readonly;
        image->shareable = shareable;
        image->backing_from_header = backing_from_header && path;
        image->origin = use_origin(use);
        g_ptr_array_add(ps->images, image);
}

gboolean
qemu_filename_local_path(const char *file, char **ret_path)
{
        const char *colon = strchr(file, ':');
        const char *slash = strchr(file, '/');
        g_autofree char *protocol = NULL;

        if (!colon || (slash && slash < colon)) {
                *ret_path = g_strdup(file);
                return TRUE;
        }
        protocol = g_strndup(file, colon - file);
        if (!is_local_protocol(protocol))
                return FALSE;
        *ret_path = g_strdup(colon + 1);
        return TRUE;
}

static NodeUse *
node_use(Parser *ps, const char *name)
{
        NodeUse *use = g_hash_table_lookup(ps->uses, name);

        if (!use) {
                use = g_new0(NodeUse, 1);
                g_hash_table_insert(ps->uses, g_strdup(name), use);
        }
        return use;
}

/* -device DRIVER,drive=ID: the role and share-rw of what ID names. */
static gboolean
apply_device(Parser *ps, const OptionUse *device, GError **error)
{
        const char *driver = kv_get(device, "", "driver");
        const char *drive = kv_get(device, "", "drive");
        gboolean share_rw;
        NodeUse *use;

        if (!drive || !*drive)
                return TRUE;
        if (!kv_get_bool(device, "", "share-rw", FALSE, &share_rw, error))
                return FALSE;
        use = node_use(ps, drive);
        if (driver && g_str_has_suffix(driver, "-cd"))
                use->role = QEMU_IMAGE_ROLE_CDROM;
        else if (driver && g_str_has_suffix(driver, "floppy"))
                use->role = QEMU_IMAGE_ROLE_FLOPPY;
        use->shareable |= share_rw;
        return TRUE;
}

static gboolean walk_node(Parser *ps, const OptionUse *blockdev, const char *prefix,
                          gboolean readonly, const NodeUse *how, GError **error);

/* -drive ...,backing.driver=...,backing.file.filename=...: the backing file
 * given inline, opened read-only; without backing.driver, QEMU probes its
 * format (backing.file.filename, or backing.file naming a file). */
static gboolean
resolve_drive_backing(Parser *ps, const OptionUse *drive, QemuImageRole role, GError **error)
{
        const NodeUse how = { .role = role };
        const char *file = kv_get(drive, "backing.", "file.filename");
        g_autofree char *path = NULL;
        gboolean read_only;

        if (!kv_has_child(drive, "", "backing"))
                return TRUE;
        if (!kv_get_bool(drive, "backing.", "read-only", TRUE, &read_only, error))
                return FALSE;
        if (kv_get(drive, "backing.", "driver"))
                return walk_node(ps, drive, "backing.", read_only, &how, error);
        if (!file)
                file = kv_get(drive, "backing.", "file");
        if (!file || !*file)
                return TRUE;
        if (!qemu_filename_local_path(file, &path))
                add_image(ps, drive, NULL, g_strdup(file), role, read_only, FALSE, FALSE);
        else
                add_image(ps, drive, g_steal_pointer(&path), NULL, role, read_only, FALSE, TRUE);
        return TRUE;
}

static gboolean
resolve_drive(Parser *ps, const OptionUse *drive, GError **error)
{
        const char *file = kv_get(drive, "", "file");
        const char *file_driver = kv_get(drive, "", "file.driver");
        const char *format = kv_get(drive, "", "format");
        const char *media = kv_get(drive, "", "media");
        const char *interface = kv_get(drive, "", "if");
        const char *id = kv_get(drive, "", "id");
        const NodeUse *use = id ? g_hash_table_lookup(ps->uses, id) : NULL;
        QemuImageRole role = drive->role;
        gboolean readonly, read_only, snapshot, shareable = use && use->shareable;
        g_autofree char *path = NULL;

        if (!format)
                format = kv_get(drive, "", "driver");
        if (!file || !*file)
                file = kv_get(drive, "", "file.filename");
        if (!kv_get_bool(drive, "", "readonly", FALSE, &readonly, error) ||
            !kv_get_bool(drive, "", "read-only", FALSE, &read_only, error) ||
            !kv_get_bool(drive, "", "snapshot", ps->snapshot, &snapshot, error))
                return FALSE;
        if (g_strcmp0(media, "cdrom") == 0)
                role = QEMU_IMAGE_ROLE_CDROM;
        else if (media && !g_str_equal(media, "disk")) {
                use_error(drive, error, "media: '%s' is not disk or cdrom", media);
                return FALSE;
        }
        if (g_strcmp0(interface, "floppy") == 0)
                role = QEMU_IMAGE_ROLE_FLOPPY;
        if (use && use->role != QEMU_IMAGE_ROLE_DISK)
                role = use->role;
        /* snapshot=on: QEMU writes a temporary overlay and only reads this. */
        readonly = readonly || read_only || snapshot || g_strcmp0(media, "cdrom") == 0;

        if (format && !is_format(format)) {
                add_image(ps, drive, NULL, g_strdup_printf("driver %s", format), role,
                          readonly, shareable, FALSE);
                return TRUE;
        }
        if (file_driver && !is_local_protocol(file_driver)) {
                add_image(ps, drive, NULL, g_strdup_printf("driver %s", file_driver), role,
                          readonly, shareable, FALSE);
                return TRUE;
        }
        /* No medium (an empty cdrom drive): nothing to open. */
        if (!file || !*file)
                return TRUE;
        if (!qemu_filename_local_path(file, &path)) {
                add_image(ps, drive, NULL, g_strdup(file), role, readonly, shareable, FALSE);
                return TRUE;
        }
        if (!*path) {
                use_error(drive, error, "an empty file name after the protocol");
                return FALSE;
        }
        add_image(ps, drive, g_steal_pointer(&path), NULL, role, readonly, shareable,
                  (!format || has_qcow2_header(format)) &&
                          !kv_get(drive, "", "backing") && !kv_has_child(drive, "", "backing"));
        return resolve_drive_backing(ps, drive, role, error);
}

/* A node of a -blockdev (its top, or an inline child under @prefix). */
static gboolean
walk_node(Parser *ps, const OptionUse *blockdev, const char *prefix, gboolean readonly,
          const NodeUse *how, GError **error)
{
        static const char *const children[] = { "file", "data-file", "backing" };
        const char *driver = kv_get(blockdev, prefix, "driver");
        gboolean read_only;
        gboolean explicit_backing;

        if (!driver || !*driver) {
                use_error(blockdev, error, "%sdriver is missing", prefix);
                return FALSE;
        }
        if (!kv_get_bool(blockdev, prefix, "read-only", FALSE, &read_only, error))
                return FALSE;
        readonly = readonly || read_only;

        if (is_local_protocol(driver)) {
                const char *filename = kv_get(blockdev, prefix, "filename");

                if (!filename || !*filename) {
                        use_error(blockdev, error, "%sfilename is missing for driver %s",
                                  prefix, driver);
                        return FALSE;
                }
                add_image(ps, blockdev, g_strdup(filename), NULL, how->role, readonly,
                          how->shareable, how->follow);
                return TRUE;
        }
        if (!is_format(driver)) {
                add_image(ps, blockdev, NULL, g_strdup_printf("driver %s", driver), how->role,
                          readonly, how->shareable, FALSE);
                return TRUE;
        }

        explicit_backing = kv_get(blockdev, prefix, "backing") ||
                           kv_has_child(blockdev, prefix, "backing");
        for (gsize i = 0; i < G_N_ELEMENTS(children); i++) {
                gboolean is_backing = g_str_equal(children[i], "backing");
                const char *reference = kv_get(blockdev, prefix, children[i]);
                NodeUse child = {
                        .role = how->role,
                        .shareable = how->shareable,
                        .follow = g_str_equal(children[i], "file") &&
                                  has_qcow2_header(driver) && !explicit_backing,
                };

                if (reference) {
                        NodeUse *target;

                        /* backing: null (or "") means none. */
                        if (!*reference)
                                continue;
                        /* Only ever adds (the first role sticks): the
                         * passes below come to an end. */
                        target = node_use(ps, reference);
                        if ((child.role != QEMU_IMAGE_ROLE_DISK &&
                             target->role == QEMU_IMAGE_ROLE_DISK) ||
                            (child.shareable && !target->shareable) ||
                            (child.follow && !target->follow)) {
                                if (target->role == QEMU_IMAGE_ROLE_DISK)
                                        target->role = child.role;
                                target->shareable |= child.shareable;
                                target->follow |= child.follow;
                                ps->changed = TRUE;
                        }
                } else if (kv_has_child(blockdev, prefix, children[i])) {
                        g_autofree char *child_prefix = g_strconcat(prefix, children[i], ".",
                                                                    NULL);
                        gboolean child_readonly = readonly;

                        /* QEMU opens a backing child read-only unless told. */
                        if (is_backing &&
                            !kv_get_bool(blockdev, child_prefix, "read-only", TRUE,
                                         &child_readonly, error))
                                return FALSE;
                        if (!walk_node(ps, blockdev, child_prefix, readonly || child_readonly,
                                       &child, error))
                                return FALSE;
                }
        }
        return TRUE;
}

/* The -blockdev nodes: each node's use depends on the nodes naming it, in
 * any order, so walk until nothing new is learnt (each pass only adds). */
static gboolean
resolve_blockdevs(Parser *ps, GError **error)
{
        guint first = ps->images->len;

        for (guint pass = 0; pass <= ps->blockdevs->len + 1; pass++) {
                ps->changed = FALSE;
                g_ptr_array_remove_range(ps->images, first, ps->images->len - first);
                for (guint i = 0; i < ps->blockdevs->len; i++) {
                        const OptionUse *blockdev = g_ptr_array_index(ps->blockdevs, i);
                        const char *name = kv_get(blockdev, "", "node-name");
                        NodeUse none = { .role = QEMU_IMAGE_ROLE_DISK };
                        const NodeUse *how = g_hash_table_lookup(ps->uses, name);

                        if (!walk_node(ps, blockdev, "", FALSE, how ? how : &none, error))
                                return FALSE;
                }
                if (!ps->changed)
                        return TRUE;
        }
        /* Unreachable: a pass that changes something sets a flag for good,
         * and there are only so many. */
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                    "the -blockdev node references do not settle");
        return FALSE;
}

/* QEMU options that take no value (the others take one). */
static gboolean
is_flag(const char *name)
{
        static const char *const flags[] = {
                "h", "help", "version", "S", "s", "snapshot", "nographic", "nodefaults",
                "no-user-config", "nodefconfig", "daemonize", "enable-kvm", "no-kvm",
                "no-reboot", "no-shutdown", "no-acpi", "no-hpet", "full-screen",
                "portrait", "curses", "alt-grab", "ctrl-grab", "no-quit", "no-frame", "sdl",
                "win2k-hack", "rtc-td-hack", "no-fd-bootchk", "no-kvm-irqchip",
                "no-kvm-pit", "no-kvm-pit-reinjection", "enable-nesting", "semihosting",
                "old-param", "singlestep", "only-migratable", "preconfig", "enable-fips",
                "enable-sync-profile", "xen-attach", "xen-domid-restrict", "usb",
                "mem-prealloc", "perfmap", "jitdump", "audio-help", NULL,
        };

        return g_strv_contains(flags, name);
}

/* Options known to take a value that may start with '-'. */
static gboolean
takes_any_value(const char *name)
{
        static const char *const names[] = { "append", "name", "k", "D", "d", "trace", NULL };

        return g_strv_contains(names, name);
}

/* The options whose value vmlock reads. */
static gboolean
is_image_option(const char *name)
{
        static const char *const names[] = {
                "drive", "blockdev", "device", "hda", "hdb", "hdc", "hdd", "cdrom", "fda",
                "fdb", "pflash", "sd", "mtdblock", "set", NULL,
        };

        return g_strv_contains(names, name);
}

static gboolean
collect_option(Parser *ps, const char *arg, const char *name, const char *value, guint argi,
               GError **error)
{
        static const struct {
                const char *name;
                QemuImageRole role;
                const char *interface;
        } file_options[] = {
                { "hda", QEMU_IMAGE_ROLE_DISK, NULL },
                { "hdb", QEMU_IMAGE_ROLE_DISK, NULL },
                { "hdc", QEMU_IMAGE_ROLE_DISK, NULL },
                { "hdd", QEMU_IMAGE_ROLE_DISK, NULL },
                { "cdrom", QEMU_IMAGE_ROLE_CDROM, NULL },
                { "fda", QEMU_IMAGE_ROLE_FLOPPY, "floppy" },
                { "fdb", QEMU_IMAGE_ROLE_FLOPPY, "floppy" },
                { "pflash", QEMU_IMAGE_ROLE_DISK, "pflash" },
                { "sd", QEMU_IMAGE_ROLE_DISK, "sd" },
                { "mtdblock", QEMU_IMAGE_ROLE_DISK, "mtd" },
        };
        OptionUse *use;

        for (gsize i = 0; i < G_N_ELEMENTS(file_options); i++) {
                if (g_str_equal(name, file_options[i].name)) {
                        g_ptr_array_add(ps->drives,
                                        option_use_file(arg, value, value, argi,
                                                        file_options[i].role,
                                                        file_options[i].interface));
                        return TRUE;
                }
        }
        if (g_str_equal(name, "set") &&
            (g_str_has_prefix(value, "drive.") || g_str_has_prefix(value, "device."))) {
                /* Changes a drive behind the options read here. */
                use = option_use_new(arg, value, argi, QEMU_IMAGE_ROLE_DISK);
                add_image(ps, use, NULL, g_strdup(value), QEMU_IMAGE_ROLE_DISK, FALSE, FALSE,
                          FALSE);
                option_use_free(use);
                return TRUE;
        }
        if (!g_str_equal(name, "drive") && !g_str_equal(name, "blockdev") &&
            !g_str_equal(name, "device"))
                return TRUE;

        use = option_use_parse(ps, arg, value, argi, error);
        if (!use)
                return FALSE;
        if (g_str_equal(name, "drive")) {
                g_ptr_array_add(ps->drives, use);
        } else if (g_str_equal(name, "device")) {
                g_ptr_array_add(ps->devices, use);
        } else {
                const char *node_name = kv_get(use, "", "node-name");

                if (!node_name || !*node_name) {
                        use_error(use, error, "node-name is missing (QEMU needs one for "
                                              "-blockdev)");
                        option_use_free(use);
                        return FALSE;
                }
                g_ptr_array_add(ps->blockdevs, use);
        }
        return TRUE;
}

static gboolean
collect(Parser *ps, char *const *argv, GError **error)
{
        for (guint i = 1; argv[i]; i++) {
                const char *arg = argv[i];
                const char *name;

                if (arg[0] != '-' || !arg[1]) {
                        /* A bare argument is the first hard disk, as -hda. */
                        g_ptr_array_add(ps->drives,
                                        option_use_file(arg, NULL, arg, i,
                                                        QEMU_IMAGE_ROLE_DISK, NULL));
                        continue;
                }
                name = arg[1] == '-' ? arg + 2 : arg + 1;
                if (g_str_equal(name, "snapshot"))
                        ps->snapshot = TRUE;
                if (is_flag(name))
                        continue;
                /* Left to QEMU to refuse, unless vmlock needs its value. */
                if (!argv[i + 1]) {
                        if (!is_image_option(name))
                                continue;
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG,
                                    "%s (argument %u) needs a value", arg, i);
                        return FALSE;
                }
                /* An option vmlock does not know followed by an option is
                 * taken for a flag, so no -drive after it is missed. */
                if (argv[i + 1][0] == '-' && argv[i + 1][1] && !takes_any_value(name) &&
                    !is_image_option(name))
                        continue;
                if (!collect_option(ps, arg, name, argv[i + 1], i + 1, error))
                        return FALSE;
                i++;
        }
        return TRUE;
}

GPtrArray *
qemu_cmdline_images(char *const *argv, const QemuJsonOptions *json, GError **error)
{
        g_autoptr(GPtrArray) drives = g_ptr_array_new_with_free_func(
                (GDestroyNotify)option_use_free);
        g_autoptr(GPtrArray) blockdevs = g_ptr_array_new_with_free_func(
                (GDestroyNotify)option_use_free);
        g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func(
                (GDestroyNotify)option_use_free);
        g_autoptr(GHashTable) uses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                           g_free);
        g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func(
                (GDestroyNotify)qemu_image_free);
        Parser ps = {
                .drives = drives,
                .blockdevs = blockdevs,
                .devices = devices,
                .uses = uses,
                .images = images,
                .json = json,
        };

        g_return_val_if_fail(argv != NULL && argv[0] != NULL, NULL);
        g_debug("%s: %s", G_STRFUNC, argv[0]);

        if (!collect(&ps, argv, error))
                return NULL;
        for (guint i = 0; i < devices->len; i++) {
                if (!apply_device(&ps, g_ptr_array_index(devices, i), error))
                        return NULL;
        }
        for (guint i = 0; i < drives->len; i++) {
                if (!resolve_drive(&ps, g_ptr_array_index(drives, i), error))
                        return NULL;
        }
        if (!resolve_blockdevs(&ps, error))
                return NULL;
        return g_steal_pointer(&images);
}
