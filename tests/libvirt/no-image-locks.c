/* vmlock tests: QEMU's image locks off, for guests libvirt starts.
 *
 * The simulated hosts share one kernel, so QEMU's own image locks (OFD
 * locks) would refuse a second guest on a disk before any lease is asked
 * for; real hosts on shared storage do not see each other's. With the
 * vmlock command the tests give QEMU file.locking=off; libvirt has no such
 * setting, so its guests get this shim through <qemu:env name='LD_PRELOAD'>:
 * taking an OFD lock always succeeds, and testing for one finds none. */
#define _GNU_SOURCE
/* both names defined below: no redirection of fcntl to fcntl64 */
#undef _FILE_OFFSET_BITS

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int (*FcntlFunc)(int fd, int cmd, ...);

static int
no_image_locks(FcntlFunc *real, const char *name, int fd, int cmd, void *arg)
{
        switch (cmd) {
        case F_OFD_SETLK:
        case F_OFD_SETLKW:
                return 0;
        case F_OFD_GETLK:
                ((struct flock *)arg)->l_type = F_UNLCK;
                return 0;
        default:
                if (!*real)
                        *real = (FcntlFunc)dlsym(RTLD_NEXT, name);
                return (*real)(fd, cmd, arg);
        }
}

int fcntl(int fd, int cmd, ...);
int fcntl64(int fd, int cmd, ...);

int
fcntl(int fd, int cmd, ...)
{
        static FcntlFunc real;
        va_list ap;
        void *arg;

        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        return no_image_locks(&real, "fcntl", fd, cmd, arg);
}

int
fcntl64(int fd, int cmd, ...)
{
        static FcntlFunc real;
        va_list ap;
        void *arg;

        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        return no_image_locks(&real, "fcntl64", fd, cmd, arg);
}
