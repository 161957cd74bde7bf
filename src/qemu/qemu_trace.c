/* vmlock: QMP traffic at debug level. */
#define G_LOG_DOMAIN "vmlock-qemu"

#include "config-build.h"

#include <string.h>

#include "qemu/qemu_trace.h"
#include "util/qmp.h"

void
qemu_trace_message(const char *peer, QemuTraceDirection direction, JsonObject *message)
{
        g_autofree char *line = NULL;
        gsize len;

        /* A message may be large (query-qmp-schema): not printed for nobody. */
        if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
                return;
        line = qmp_message_to_line(message);
        len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
                line[len - 1] = '\0';
        g_debug("QMP %s %s: %s", direction == QEMU_TRACE_SENT ? "sent to" : "received from",
                peer, line);
}
