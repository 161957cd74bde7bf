/* vmlock: reading a process's /proc/PID/stat. */
#define G_LOG_DOMAIN "vmlock-util"

#include "config-build.h"

#include <errno.h>
#include <string.h>

#include <vmlock/error.h>

#include "util/proc_stat.h"

gboolean
proc_pid_stat(pid_t pid, char *ret_state, guint64 *ret_start_time, GError **error)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
        g_autofree char *contents = NULL;
        GError *local = NULL;
        const char *p;
        char *end;
        char state;
        guint64 value;

        if (!g_file_get_contents(path, &contents, NULL, &local)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "%s", local->message);
                g_error_free(local);
                return FALSE;
        }
        /* The command name (field 2) may contain spaces and parentheses: count
         * fields from the last ')'. The state is field 3, the start time 22. */
        p = strrchr(contents, ')');
        if (!p || p[1] != ' ' || !p[2])
                goto bad;
        state = p[2];
        p++;
        for (int field = 3; field < 22; field++) {
                while (*p == ' ')
                        p++;
                while (*p && *p != ' ')
                        p++;
                if (!*p)
                        goto bad;
        }
        errno = 0;
        value = g_ascii_strtoull(p, &end, 10);
        if (errno != 0 || end == p)
                goto bad;
        if (ret_state)
                *ret_state = state;
        *ret_start_time = value;
        return TRUE;

bad:
        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot parse %s", path);
        return FALSE;
}

pid_t
proc_pid_parent(pid_t pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
        g_autofree char *contents = NULL;
        const char *p;
        char *end;
        gint64 ppid;

        if (!g_file_get_contents(path, &contents, NULL, NULL))
                return 0;
        /* After the command name's last ')': " STATE PPID ". */
        p = strrchr(contents, ')');
        if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                return 0;
        ppid = g_ascii_strtoll(p + 4, &end, 10);
        return end != p + 4 && ppid > 0 && ppid <= G_MAXINT ? (pid_t)ppid : 0;
}
