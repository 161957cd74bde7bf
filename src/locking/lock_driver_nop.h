/* vmlock: the built-in "nop" lock driver, linked into the core. */
#pragma once

#include "locking/lock_driver.h"

G_BEGIN_DECLS

extern const VmlockLockDriver lock_driver_nop;

G_END_DECLS
