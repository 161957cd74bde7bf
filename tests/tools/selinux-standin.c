/* vmlock tests: LD_PRELOAD stand-ins for the libselinux calls of the labeller, recording their arguments. */
#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Environment:
 *   VMLOCK_TEST_SELINUX_LOG      file to append one line per call to:
 *                                  "is_selinux_enabled PID"
 *                                  "fsetfilecon PID FD DEV:INO LABEL"
 *                                  "setexeccon PID LABEL"
 *   VMLOCK_TEST_SELINUX_ENABLED  what is_selinux_enabled() returns (default 1)
 *   VMLOCK_TEST_SELINUX_FAIL     "fsetfilecon" or "setexeccon": that call fails
 *                                with EINVAL
 */

/* Declared here rather than from <selinux/selinux.h>: a stand-in must not
 * depend on the headers of what it replaces. */
int is_selinux_enabled(void);
int fsetfilecon(int fd, const char *con);
int setexeccon(const char *con);

static void
record(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void
record(const char *format, ...)
{
        const char *path = getenv("VMLOCK_TEST_SELINUX_LOG");
        char line[2048];
        va_list ap;
        int fd;
        int len;

        if (!path)
                return;
        va_start(ap, format);
        len = vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        if (len < 0 || (size_t)len >= sizeof(line))
                return;
        /* O_APPEND: one write per line, so processes don't interleave. */
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        if (write(fd, line, (size_t)len) < 0) {
                /* nothing to do: the test will miss the line */
        }
        close(fd);
}

static int
should_fail(const char *call)
{
        const char *fail = getenv("VMLOCK_TEST_SELINUX_FAIL");

        return fail && strcmp(fail, call) == 0;
}

int
is_selinux_enabled(void)
{
        const char *enabled = getenv("VMLOCK_TEST_SELINUX_ENABLED");

        record("is_selinux_enabled %d\n", (int)getpid());
        return enabled ? atoi(enabled) : 1;
}

int
fsetfilecon(int fd, const char *con)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -1;
        record("fsetfilecon %d %d %llu:%llu %s\n", (int)getpid(), fd,
               (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, con);
        if (should_fail("fsetfilecon")) {
                errno = EINVAL;
                return -1;
        }
        return 0;
}

int
setexeccon(const char *con)
{
        record("setexeccon %d %s\n", (int)getpid(), con ? con : "(null)");
        if (should_fail("setexeccon")) {
                errno = EINVAL;
                return -1;
        }
        return 0;
}
