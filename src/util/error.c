/* vmlock: the error domain. */
#include "config-build.h"

#include <vmlock/error.h>

G_DEFINE_QUARK(vmlock-error-quark, vmlock_error)
