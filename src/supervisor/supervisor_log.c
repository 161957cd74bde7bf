/* vmlock: the supervisor's log lines, stamped with the time. */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <stdio.h>
#include <string.h>

#include "supervisor/supervisor_log.h"

/* Whether the next character printed starts a line. */
static gboolean at_line_start = TRUE;

char *
supervisor_log_timestamp(GDateTime *time)
{
        g_autofree char *seconds = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
        g_autofree char *offset = g_date_time_format(time, "%:z");

        return g_strdup_printf("%s.%03d%s", seconds, g_date_time_get_microsecond(time) / 1000,
                               offset);
}

static void
print_stamped(const char *text)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = supervisor_log_timestamp(now);

        while (*text) {
                const char *newline = strchr(text, '\n');
                size_t len = newline ? (size_t)(newline - text) + 1 : strlen(text);

                if (at_line_start)
                        fprintf(stderr, "%s ", stamp);
                fwrite(text, 1, len, stderr);
                at_line_start = newline != NULL;
                text += len;
        }
        fflush(stderr);
}

static const char *
level_word(GLogLevelFlags level)
{
        if (level & G_LOG_LEVEL_ERROR)
                return "error";
        if (level & G_LOG_LEVEL_CRITICAL)
                return "critical";
        if (level & G_LOG_LEVEL_WARNING)
                return "warning";
        if (level & G_LOG_LEVEL_MESSAGE)
                return "message";
        if (level & G_LOG_LEVEL_INFO)
                return "info";
        return "debug";
}

/* GLib's messages as the supervisor's own lines: "TIME vmlock: DOMAIN
 * LEVEL: MESSAGE". */
static GLogWriterOutput
write_stamped(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
              gpointer user_data)
{
        const char *domain = NULL;
        const char *message = NULL;

        for (gsize i = 0; i < n_fields; i++) {
                if (fields[i].length >= 0)
                        continue; /* not a string */
                if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
                        domain = fields[i].value;
                else if (g_str_equal(fields[i].key, "MESSAGE"))
                        message = fields[i].value;
        }
        if (g_log_writer_default_would_drop(level, domain))
                return G_LOG_WRITER_HANDLED;
        g_printerr("%s: %s %s: %s\n", g_get_prgname(), domain ? domain : "vmlock",
                   level_word(level), message ? message : "");
        return G_LOG_WRITER_HANDLED;
}

void
supervisor_log_stamp_lines(void)
{
        g_set_printerr_handler(print_stamped);
        g_log_set_writer_func(write_stamped, NULL, NULL);
}
