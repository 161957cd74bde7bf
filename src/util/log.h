/* vmlock: debug tracing of public entry points.
 *
 * Each component defines G_LOG_DOMAIN ("vmlock-conf", "vmlock-locking", ...);
 * G_MESSAGES_DEBUG=all (or a domain) shows the trace. Library code logs nothing
 * above debug, except the config reader's unknown-key warnings. */
#pragma once

#include <glib.h>

/* Formatted only when shown: otherwise every call would still pay a
 * vasprintf, GLib's log lock and an environment lookup, dozens of times on
 * the way to a guest's exec. (vmlock's own log writer drops what the
 * default one would.) */
#define VMLOCK_TRACE(fmt, ...)                                                          \
        G_STMT_START {                                                                  \
                if (!g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))  \
                        g_debug("%s: " fmt, G_STRFUNC, ##__VA_ARGS__);                  \
        } G_STMT_END

/* For %s arguments that may be NULL. */
#define VMLOCK_NULLSTR(s) ((s) ? (s) : "(null)")
