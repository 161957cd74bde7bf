/* vmlock tests: LD_PRELOAD shim that lets the sanlock daemon start without CAP_SYS_RESOURCE. */
#include "config-build.h"

/* With _FILE_OFFSET_BITS=64 (meson's default) glibc renames setrlimit to
 * setrlimit64 in its header; this file defines both names itself. */
#undef _FILE_OFFSET_BITS
#define _LARGEFILE64_SOURCE 1

#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>

/*
 * The daemon raises RLIMIT_MEMLOCK to infinity at start and exits when that
 * fails, which it does in containers and for unprivileged test runs. The tests
 * start it with "-l 0" (no mlockall), so the limit does not matter: when the
 * real call is refused, retry with both limits clamped to the current hard
 * limit, which is always allowed.
 */

typedef int (*SetrlimitFunc)(__rlimit_resource_t resource, const void *rlim);

/* struct rlimit and struct rlimit64 are the same on 64-bit targets; on 32-bit
 * ones the clamping goes through the 64-bit calls, which cover both. */
static int
clamped_setrlimit(const char *name, __rlimit_resource_t resource, const struct rlimit64 *rlim)
{
        SetrlimitFunc real = (SetrlimitFunc) dlsym(RTLD_NEXT, name);
        struct rlimit64 current;
        struct rlimit64 clamped;
        int saved_errno;

        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        if (real(resource, rlim) == 0)
                return 0;
        saved_errno = errno;

        if (getrlimit64(resource, &current) < 0) {
                errno = saved_errno;
                return -1;
        }
        clamped = *rlim;
        if (clamped.rlim_max > current.rlim_max)
                clamped.rlim_max = current.rlim_max;
        if (clamped.rlim_cur > clamped.rlim_max)
                clamped.rlim_cur = clamped.rlim_max;
        if (real(resource, &clamped) == 0)
                return 0;
        errno = saved_errno;
        return -1;
}

int
setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
        struct rlimit64 rlim64 = {
                .rlim_cur = rlim->rlim_cur == RLIM_INFINITY ? RLIM64_INFINITY : rlim->rlim_cur,
                .rlim_max = rlim->rlim_max == RLIM_INFINITY ? RLIM64_INFINITY : rlim->rlim_max,
        };

        if (sizeof(struct rlimit) == sizeof(struct rlimit64))
                return clamped_setrlimit("setrlimit", resource, (const struct rlimit64 *) rlim);
        return clamped_setrlimit("setrlimit64", resource, &rlim64);
}

int
setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rlim)
{
        return clamped_setrlimit("setrlimit64", resource, rlim);
}
