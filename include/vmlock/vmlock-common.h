/* vmlock: shared macros for the public headers. */
#pragma once

#include <glib.h>

#if defined(VMLOCK_COMPILATION)
#define VMLOCK_EXPORT __attribute__((visibility("default")))
#else
#define VMLOCK_EXPORT
#endif
