/* vmlock: debug tracing of public entry points.
 *
 * Each component defines G_LOG_DOMAIN ("vmlock-conf", "vmlock-locking", ...);
 * G_MESSAGES_DEBUG=all (or a domain) shows the trace. Library code logs nothing
 * above debug, except the config reader's unknown-key warnings. */
#pragma once

#include <glib.h>

#define VMLOCK_TRACE(fmt, ...) g_debug("%s: " fmt, G_STRFUNC, ##__VA_ARGS__)

/* For %s arguments that may be NULL. */
#define VMLOCK_NULLSTR(s) ((s) ? (s) : "(null)")
