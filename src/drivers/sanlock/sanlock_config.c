/* vmlock sanlock driver: reading and checking qemu-sanlock.conf. */
#define G_LOG_DOMAIN "vmlock-sanlock"

#include "config-build.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vmlock/config.h>
#include <vmlock/error.h>

#include "drivers/sanlock/sanlock_config.h"
#include "util/log.h"

static const char *const known_keys[] = {
        "auto_disk_leases",
        "disk_lease_dir",
        "host_id",
        "require_lease_for_disks",
        "io_timeout",
        "user",
        "group",
        /* Obsolete libvirt key (readonly/shared disks now always get shared
         * leases); accepted silently so old files keep working. */
        "ignore_readonly_and_shared_disks",
        NULL
};

void
vmlock_sanlock_config_free(VmlockSanlockConfig *config)
{
        if (!config)
                return;
        g_free(config->filename);
        g_free(config->disk_lease_dir);
        g_free(config);
}

/* "+N" is a number; anything else is a name, or failing that a number
 * (as qemu.conf's user/group). */
static gboolean
parse_id(const char *value, gboolean is_group, guint *ret_id)
{
        guint64 number;
        char *end = NULL;

        if (value[0] != '+') {
                long bufsize = sysconf(is_group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
                g_autofree char *buf = NULL;
                int rc;

                if (bufsize <= 0)
                        bufsize = 16384;
                buf = g_malloc(bufsize);
                if (is_group) {
                        struct group grp, *found = NULL;

                        rc = getgrnam_r(value, &grp, buf, bufsize, &found);
                        if (rc == 0 && found) {
                                *ret_id = found->gr_gid;
                                return TRUE;
                        }
                } else {
                        struct passwd pwd, *found = NULL;

                        rc = getpwnam_r(value, &pwd, buf, bufsize, &found);
                        if (rc == 0 && found) {
                                *ret_id = found->pw_uid;
                                return TRUE;
                        }
                }
        } else {
                value++;
        }

        if (!g_ascii_isdigit(value[0]))
                return FALSE;
        errno = 0;
        number = g_ascii_strtoull(value, &end, 10);
        /* (uid_t)-1 means "unset" to chown, so it is not a valid id */
        if (errno || *end || number >= G_MAXUINT32)
                return FALSE;
        *ret_id = (guint)number;
        return TRUE;
}

static gboolean
load_id(const VmlockConfig *file, const char *key, gboolean is_group, guint *ret_id,
        GError **error)
{
        g_autofree char *value = NULL;
        guint id;

        if (!vmlock_config_get_string(file, key, NULL, &value, error))
                return FALSE;
        if (!value) {
                *ret_id = (guint)-1;
                return TRUE;
        }
        if (!parse_id(value, is_group, &id)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: %s = \"%s\": no such %s (give a name or +NUMBER)",
                            vmlock_config_get_filename(file), key, value,
                            is_group ? "group" : "user");
                return FALSE;
        }
        *ret_id = id;
        return TRUE;
}

VmlockSanlockConfig *
vmlock_sanlock_config_load(const char *path, GError **error)
{
        g_autoptr(VmlockConfig) file = NULL;
        g_autoptr(VmlockSanlockConfig) config = NULL;
        guint user, group;

        file = vmlock_config_load(path, error);
        if (!file)
                return NULL;
        if (!vmlock_config_check_keys(file, known_keys, error))
                return NULL;

        config = g_new0(VmlockSanlockConfig, 1);
        config->filename = g_strdup(path);

        if (!vmlock_config_get_bool(file, "auto_disk_leases", FALSE,
                                    &config->auto_disk_leases, error) ||
            !vmlock_config_get_string(file, "disk_lease_dir", VMLOCK_DEFAULT_LEASE_DIR,
                                      &config->disk_lease_dir, error) ||
            !vmlock_config_get_uint(file, "host_id", 0, &config->host_id, error) ||
            /* libvirt's default: leases are required unless they are automatic */
            !vmlock_config_get_bool(file, "require_lease_for_disks",
                                    !config->auto_disk_leases,
                                    &config->require_lease_for_disks, error) ||
            !vmlock_config_get_uint(file, "io_timeout", 0, &config->io_timeout, error) ||
            !load_id(file, "user", FALSE, &user, error) ||
            !load_id(file, "group", TRUE, &group, error))
                return NULL;
        config->user = (uid_t)user;
        config->group = (gid_t)group;

        if (config->host_id > VMLOCK_SANLOCK_MAX_HOST_ID) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: host_id = %u is out of range (1 to %u)", path,
                            config->host_id, VMLOCK_SANLOCK_MAX_HOST_ID);
                return NULL;
        }
        if (config->auto_disk_leases && config->host_id == 0) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: auto_disk_leases = 1 needs host_id set to this host's "
                            "number (1 to %u, unique among the hosts sharing %s)",
                            path, VMLOCK_SANLOCK_MAX_HOST_ID, config->disk_lease_dir);
                return NULL;
        }
        /* sanlock opens lease files by path from its own working directory */
        if (!g_path_is_absolute(config->disk_lease_dir)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "%s: disk_lease_dir = \"%s\" must be an absolute path", path,
                            config->disk_lease_dir);
                return NULL;
        }

        return g_steal_pointer(&config);
}
