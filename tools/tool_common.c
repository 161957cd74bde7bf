/* vmlock: what every vmlock command shares: exit statuses, error and usage
 * reporting, option parsing. */
#define G_LOG_DOMAIN "vmlock-tool"

#include "config-build.h"

#include <stdarg.h>

#include <vmlock/vmlock.h>

#include "tool_common.h"

const char tool_exit_status_help[] =
        "Exit status:\n"
        "  0    success\n"
        "  1    error\n"
        "  2    usage error\n"
        "  124  lock failure: the leases could not be had (held by another guest\n"
        "       or host, changed since the given state, lockspace not joined)\n";

const char tool_start_exit_status_help[] =
        "Exit status of start:\n"
        "  the guest's own exit status once PROGRAM ran (128+N if killed by signal N;\n"
        "  0 with --detach once it runs), else:\n"
        "  124  lock failure: the leases could not be had (held by another guest\n"
        "       or host, lockspace not joined); PROGRAM did not run\n"
        "  125  any other vmlock error before PROGRAM ran (usage, config, XML,\n"
        "       lock driver, guest name already running)\n"
        "  126  PROGRAM could not be executed\n"
        "  127  PROGRAM was not found\n";

gboolean
tool_error_is_lock_failure(const GError *error)
{
        return g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_BUSY) ||
               g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LEASE_STATE) ||
               g_error_matches(error, VMLOCK_ERROR, VMLOCK_ERROR_LOCKSPACE);
}

int
tool_report_error(GError *error, int other_status)
{
        int status = tool_error_is_lock_failure(error) ? VMLOCK_EXIT_LOCK_FAILURE : other_status;

        g_printerr("%s: %s\n", g_get_prgname(), error->message);
        g_error_free(error);
        return status;
}

int
tool_usage_error(int status, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_printerr("%s: %s\nTry '%s --help' for more information.\n", g_get_prgname(), message,
                   g_get_prgname());
        return status;
}

gboolean
tool_parse_options(GOptionContext *context, int *argc, char ***argv, int usage_status,
                   int *failure_status)
{
        g_autoptr(GError) error = NULL;

        if (!g_option_context_parse(context, argc, argv, &error)) {
                *failure_status = tool_usage_error(usage_status, "%s", error->message);
                return FALSE;
        }
        return TRUE;
}
