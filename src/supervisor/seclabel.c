/* vmlock: SELinux labelling of the guest's lock fd and program. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif

#include "config-build.h"

#include <dlfcn.h>
#include <errno.h>

#include <selinux/selinux.h>
#include <vmlock/error.h>

#include "supervisor/seclabel.h"

/* libselinux is opened only for a guest that has a label: every other start
 * goes to its exec without loading it (README, Performance). */
typedef struct {
        __typeof__(is_selinux_enabled) *is_enabled;
        __typeof__(fsetfilecon) *fsetfilecon;
        __typeof__(setexeccon) *setexeccon;
} SelinuxCalls;

#define LIBSELINUX_SONAME "libselinux.so.1"

static gboolean
load_libselinux(SelinuxCalls *calls, const char *label, GError **error)
{
        /* Global, and each call looked up as a linked call is: a definition
         * LD_PRELOADed before libselinux's comes first. */
        void *handle = dlopen(LIBSELINUX_SONAME, RTLD_NOW | RTLD_GLOBAL);

        if (handle) {
                calls->is_enabled = (__typeof__(calls->is_enabled))dlsym(RTLD_DEFAULT,
                                                                        "is_selinux_enabled");
                calls->fsetfilecon = (__typeof__(calls->fsetfilecon))dlsym(RTLD_DEFAULT,
                                                                          "fsetfilecon");
                calls->setexeccon = (__typeof__(calls->setexeccon))dlsym(RTLD_DEFAULT,
                                                                        "setexeccon");
                if (calls->is_enabled && calls->fsetfilecon && calls->setexeccon)
                        return TRUE;
        }
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_UNSUPPORTED,
                    "the guest's SELinux label '%s' cannot be applied: %s", label,
                    handle ? "libselinux lacks is_selinux_enabled, fsetfilecon or setexeccon"
                           : dlerror());
        /* Left loaded: this process is the guest's child, about to exec. */
        return FALSE;
}

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
        SelinuxCalls selinux;

        if (g_strcmp0(model, "selinux") != 0 || !label)
                return TRUE;
        if (!load_libselinux(&selinux, label, error))
                return FALSE;
        if (selinux.is_enabled() <= 0) {
                g_debug("SELinux is disabled: label '%s' not applied", label);
                return TRUE;
        }

        /* The guest, confined by its label, must still be allowed to use the
         * lock fd it inherits. */
        if (fd >= 0 && selinux.fsetfilecon(fd, label) < 0) {
                seclabel_set_error(error, errno, "label the lock fd", label);
                return FALSE;
        }
        if (selinux.setexeccon(label) < 0) {
                seclabel_set_error(error, errno, "run the guest", label);
                return FALSE;
        }
        return TRUE;
}
