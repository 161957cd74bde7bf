/* vmlock: library version. */
#include "config-build.h"

#include <vmlock/vmlock.h>

const char *
vmlock_version_string(void)
{
        return VMLOCK_VERSION;
}
