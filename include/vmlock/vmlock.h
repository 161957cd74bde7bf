/* vmlock: umbrella header. */
#pragma once

#include <vmlock/config.h>
#include <vmlock/domain-lock.h>
#include <vmlock/domain.h>
#include <vmlock/error.h>
#include <vmlock/lock-manager.h>

G_BEGIN_DECLS

/* "MAJOR.MINOR.MICRO" of the library. */
VMLOCK_EXPORT const char *vmlock_version_string(void);

G_END_DECLS
