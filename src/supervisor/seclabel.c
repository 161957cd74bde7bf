/* vmlock: SELinux labelling of the guest's lock fd and program. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <errno.h>

#include <selinux/selinux.h>
#include <vmlock/error.h>

#include "supervisor/seclabel.h"

static void
seclabel_set_error(GError **error, int err, const char *what, const char *label)
{
        /* EINVAL: the policy does not know the label, a mistake in the XML. */
        g_set_error(error, VMLOCK_ERROR,
                    err == EINVAL ? VMLOCK_ERROR_INVALID_ARG : VMLOCK_ERROR_IO,
                    "cannot %s with SELinux label '%s': %s", what, label, g_strerror(err));
}

gboolean
seclabel_apply(const VmlockDomain *dom, int fd, GError **error)
{
        const char *model = vmlock_domain_get_seclabel_model(dom);
        const char *label = vmlock_domain_get_seclabel_label(dom);

        if (g_strcmp0(model, "selinux") != 0 || !label)
                return TRUE;
        if (is_selinux_enabled() <= 0) {
                g_debug("SELinux is disabled: label '%s' not applied", label);
                return TRUE;
        }

        /* The guest, confined by its label, must still be allowed to use the
         * lock fd it inherits. */
        if (fd >= 0 && fsetfilecon(fd, label) < 0) {
                seclabel_set_error(error, errno, "label the lock fd", label);
                return FALSE;
        }
        if (setexeccon(label) < 0) {
                seclabel_set_error(error, errno, "run the guest", label);
                return FALSE;
        }
        return TRUE;
}
