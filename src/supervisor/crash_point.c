/* vmlock: named points in the supervisor where a test can have it stop. */
#define _GNU_SOURCE /* secure_getenv */
#define G_LOG_DOMAIN "vmlock-supervisor"

#include "config-build.h"

#include <signal.h>
#include <stdlib.h>

#include "supervisor/crash_point.h"

void
crash_point(const char *point)
{
        const char *wanted = secure_getenv("VMLOCK_TEST_SUPERVISOR_STOP_AT");

        if (wanted && g_str_equal(wanted, point)) {
                g_debug("stopping at crash point %s", point);
                raise(SIGSTOP);
        }
}
