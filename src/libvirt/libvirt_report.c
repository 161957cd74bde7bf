/* vmlock for libvirt: getting vmlock's error messages to libvirt's user. */
#define G_LOG_DOMAIN "vmlock-libvirt"
#define _GNU_SOURCE /* RTLD_DEFAULT */

#include <dlfcn.h>
#include <stdio.h>

#include <vmlock/error.h>

#include "libvirt/libvirt_report.h"

/* libvirt's error domain and codes (public, libvirt/virterror.h): the
 * code chooses the prefix virsh prints ("resource busy: ..."). */
enum {
        LIBVIRT_FROM_LOCKING = 42,
};
enum {
        LIBVIRT_ERR_INTERNAL_ERROR = 1,
        LIBVIRT_ERR_INVALID_ARG = 8,
        LIBVIRT_ERR_OPERATION_FAILED = 9,
        LIBVIRT_ERR_CONF_SYNTAX = 33,
        LIBVIRT_ERR_CONFIG_UNSUPPORTED = 67,
        LIBVIRT_ERR_RESOURCE_BUSY = 87,
};

/* libvirt.so.0 exports it to its daemons (libvirt 9.0:
 * virReportErrorHelper@@LIBVIRT_PRIVATE_9.0.0); the signature has been the
 * same since libvirt 1.0. It sets the thread's last error, which libvirtd
 * sends to the client, and which the start child prints before it exits. */
typedef void (*ReportErrorHelperFunc)(int domain, int code, const char *filename,
                                      const char *funcname, size_t linenr,
                                      const char *format, ...);

static ReportErrorHelperFunc
libvirt_report_func(void)
{
        static gsize once;
        static ReportErrorHelperFunc func;

        if (g_once_init_enter(&once)) {
                func = (ReportErrorHelperFunc)dlsym(RTLD_DEFAULT, "virReportErrorHelper");
                g_once_init_leave(&once, 1);
        }
        return func;
}

void
vmlock_libvirt_report_init(void)
{
        g_debug("libvirt's error reporting: %s",
                libvirt_report_func() ? "virReportErrorHelper" : "none, stderr");
}

static int
libvirt_code(const GError *error)
{
        if (!error || error->domain != VMLOCK_ERROR)
                return LIBVIRT_ERR_INTERNAL_ERROR;
        switch ((VmlockError)error->code) {
        case VMLOCK_ERROR_LEASE_BUSY:
                return LIBVIRT_ERR_RESOURCE_BUSY;
        case VMLOCK_ERROR_UNSUPPORTED:
                return LIBVIRT_ERR_CONFIG_UNSUPPORTED;
        case VMLOCK_ERROR_CONFIG:
                return LIBVIRT_ERR_CONF_SYNTAX;
        case VMLOCK_ERROR_INVALID_ARG:
                return LIBVIRT_ERR_INVALID_ARG;
        case VMLOCK_ERROR_INTERNAL:
                return LIBVIRT_ERR_INTERNAL_ERROR;
        default:
                return LIBVIRT_ERR_OPERATION_FAILED;
        }
}

void
vmlock_libvirt_report(const GError *error)
{
        ReportErrorHelperFunc report = libvirt_report_func();
        const char *message = error ? error->message : "vmlock: failed without a message";

        g_debug("error: %s", message);
        if (report)
                report(LIBVIRT_FROM_LOCKING, libvirt_code(error), __FILE__, G_STRFUNC, __LINE__,
                       "%s", message);
        else
                fprintf(stderr, "vmlock: error: %s\n", message);
}

void
vmlock_libvirt_warn(const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list args;

        va_start(args, format);
        message = g_strdup_vprintf(format, args);
        va_end(args);
        g_debug("warning: %s", message);
        fprintf(stderr, "vmlock: warning: %s\n", message);
}
