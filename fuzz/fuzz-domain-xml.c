/* vmlock: libFuzzer target for the domain XML parser and the model's accessors. */
#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmlock/domain.h>
#include <vmlock/error.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parser promises about what it returns; a broken promise is a crash. */
static void
check(gboolean ok)
{
        if (!ok)
                abort();
}

static void
check_name(const char *s, gsize max)
{
        if (s)
                check(*s != '\0' && strlen(s) <= max);
}

static void
walk_disk(const VmlockDisk *disk)
{
        g_autoptr(VmlockDisk) copy = vmlock_disk_copy(disk);

        check(vmlock_disk_type_to_string(vmlock_disk_get_type(disk)) != NULL);
        check(vmlock_disk_device_to_string(vmlock_disk_get_device(disk)) != NULL);
        check_name(vmlock_disk_get_source(disk), VMLOCK_PATH_MAX);
        (void)vmlock_disk_get_target(disk);
        (void)vmlock_disk_get_readonly(disk);
        (void)vmlock_disk_get_shareable(disk);
        check(g_strcmp0(vmlock_disk_get_source(copy), vmlock_disk_get_source(disk)) == 0);
        check(g_strcmp0(vmlock_disk_get_target(copy), vmlock_disk_get_target(disk)) == 0);
        check(g_strcmp0(vmlock_disk_get_format(copy), vmlock_disk_get_format(disk)) == 0);
}

static void
walk_lease(const VmlockLease *lease)
{
        g_autoptr(VmlockLease) copy = vmlock_lease_copy(lease);

        check_name(vmlock_lease_get_lockspace(lease), VMLOCK_NAME_MAX);
        check(vmlock_lease_get_key(lease) != NULL);
        check_name(vmlock_lease_get_key(lease), VMLOCK_NAME_MAX);
        check(vmlock_lease_get_path(lease) != NULL);
        check_name(vmlock_lease_get_path(lease), VMLOCK_PATH_MAX);
        (void)vmlock_lease_get_offset(lease);
        check(g_str_equal(vmlock_lease_get_key(copy), vmlock_lease_get_key(lease)));
}

static void
walk_domain(VmlockDomain *dom)
{
        const char *uuid = vmlock_domain_get_uuid_string(dom);
        guint n_disks = vmlock_domain_get_n_disks(dom);
        guint n_leases = vmlock_domain_get_n_leases(dom);

        check_name(vmlock_domain_get_name(dom), G_MAXSIZE);
        check(vmlock_domain_get_name(dom) != NULL);
        check(g_uuid_string_is_valid(uuid));
        check(vmlock_domain_get_uuid(dom) != NULL);
        check(vmlock_domain_get_id(dom) >= -1);
        check(vmlock_domain_get_pid(dom) == 0);
        check(vmlock_lock_failure_action_to_string(vmlock_domain_get_on_lockfailure(dom)) !=
              NULL);
        check_name(vmlock_domain_get_seclabel_model(dom), G_MAXSIZE);
        check_name(vmlock_domain_get_seclabel_label(dom), G_MAXSIZE);

        for (guint i = 0; i < n_disks; i++)
                walk_disk(vmlock_domain_get_disk(dom, i));
        for (guint i = 0; i < n_leases; i++)
                walk_lease(vmlock_domain_get_lease(dom, i));

        /* Hotplug bookkeeping on what the parser produced. */
        if (n_disks > 0) {
                const char *source = vmlock_disk_get_source(vmlock_domain_get_disk(dom, 0));

                if (source) {
                        g_autofree char *path = g_strdup(source);

                        check(vmlock_domain_remove_disk(dom, path));
                        check(vmlock_domain_get_n_disks(dom) == n_disks - 1);
                }
        }
        if (n_leases > 0) {
                const VmlockLease *lease = vmlock_domain_get_lease(dom, n_leases - 1);
                g_autofree char *lockspace = g_strdup(vmlock_lease_get_lockspace(lease));
                g_autofree char *key = g_strdup(vmlock_lease_get_key(lease));

                check(vmlock_domain_remove_lease(dom, lockspace, key));
                check(vmlock_domain_get_n_leases(dom) == n_leases - 1);
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_parse_string((const char *)data, size, "fuzz.xml", &error);
        if (!dom) {
                check(error != NULL && error->domain == VMLOCK_ERROR && error->message);
                return 0;
        }
        check(error == NULL);
        walk_domain(dom);
        return 0;
}
