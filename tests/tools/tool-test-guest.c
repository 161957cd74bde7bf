/* vmlock tests: a guest program for `vmlock start`: reports itself, then waits or exits. */
#include "config-build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#ifdef HAVE_SANLOCK
#include <sanlock.h>
#include <sanlock_resource.h>
#endif

/*
 * Usage: tool-test-guest [--ready FILE] [--fds FILE] [--sanlock-probe FILE]
 *                        [--hold] [--exit N]
 *
 *   --ready FILE          write "PID\n" to FILE (atomically) once running
 *   --fds FILE            write one line "FD TARGET" per open fd >= 3
 *   --sanlock-probe FILE  call sanlock on every inherited socket fd; write
 *                         "FD inquire RV" and "FD release RV" lines (RV < 0:
 *                         refused, as a restricted fd must be)
 *   --hold                wait for SIGTERM, SIGINT or SIGHUP before exiting
 *   --exit N              exit status (default 0)
 */

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
        got_signal = sig;
}

static void
write_file_atomically(const char *path, const char *text)
{
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
        f = fopen(tmp, "we");
        if (!f) {
                fprintf(stderr, "tool-test-guest: cannot write %s: %s\n", tmp, strerror(errno));
                exit(99);
        }
        fputs(text, f);
        if (fclose(f) != 0 || rename(tmp, path) != 0) {
                fprintf(stderr, "tool-test-guest: cannot write %s: %s\n", path, strerror(errno));
                exit(99);
        }
}

/* The open fds >= 3 (the directory stream's own excluded). */
static int
list_fds(int *fds, int max)
{
        DIR *dir = opendir("/proc/self/fd");
        struct dirent *entry;
        int n = 0;

        if (!dir)
                return 0;
        while ((entry = readdir(dir)) && n < max) {
                int fd = atoi(entry->d_name);

                if (entry->d_name[0] == '.' || fd < 3 || fd == dirfd(dir))
                        continue;
                fds[n++] = fd;
        }
        closedir(dir);
        return n;
}

static void
report_fds(const char *path)
{
        char text[8192] = "";
        int fds[64];
        int n = list_fds(fds, 64);

        for (int i = 0; i < n; i++) {
                char link[64];
                char target[1024];
                ssize_t len;
                size_t used = strlen(text);

                snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
                len = readlink(link, target, sizeof(target) - 1);
                target[len < 0 ? 0 : len] = '\0';
                snprintf(text + used, sizeof(text) - used, "%d %s\n", fds[i], target);
        }
        write_file_atomically(path, text);
}

static void
sanlock_probe(const char *path)
{
        char text[4096] = "";
        int fds[64];
        int n = list_fds(fds, 64);

        for (int i = 0; i < n; i++) {
                size_t used = strlen(text);
                struct stat st;

                if (fstat(fds[i], &st) < 0 || !S_ISSOCK(st.st_mode))
                        continue;
#ifdef HAVE_SANLOCK
                {
                        /* A restricted fd gets no answer at all from the
                         * 3.8 daemon: give up after 2 s. */
                        struct timeval tv = { .tv_sec = 2 };
                        char *state = NULL;
                        int count = 0;
                        int inquire_rv;
                        int release_rv;

                        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                        inquire_rv = sanlock_inquire(fds[i], -1, 0, &count, &state);
                        release_rv = sanlock_release(fds[i], -1, SANLK_REL_ALL, 0, NULL);

                        free(state);
                        snprintf(text + used, sizeof(text) - used, "%d inquire %d\n%d release %d\n",
                                 fds[i], inquire_rv, fds[i], release_rv);
                }
#else
                snprintf(text + used, sizeof(text) - used, "%d nosanlock\n", fds[i]);
#endif
        }
        write_file_atomically(path, text);
}

int
main(int argc, char **argv)
{
        const char *ready = NULL;
        const char *fds_file = NULL;
        const char *probe = NULL;
        int hold = 0;
        int status = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--hold") == 0) {
                        hold = 1;
                } else if (i + 1 < argc && strcmp(argv[i], "--ready") == 0) {
                        ready = argv[++i];
                } else if (i + 1 < argc && strcmp(argv[i], "--fds") == 0) {
                        fds_file = argv[++i];
                } else if (i + 1 < argc && strcmp(argv[i], "--sanlock-probe") == 0) {
                        probe = argv[++i];
                } else if (i + 1 < argc && strcmp(argv[i], "--exit") == 0) {
                        status = atoi(argv[++i]);
                } else {
                        fprintf(stderr, "tool-test-guest: bad argument '%s'\n", argv[i]);
                        return 98;
                }
        }

        sigset_t block;
        sigset_t old;

        /* Blocked until sigsuspend(): a signal can't slip in before the wait. */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        if (hold) {
                struct sigaction sa = { .sa_handler = on_signal };

                sigemptyset(&sa.sa_mask);
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGHUP, &sa, NULL);
        }
        if (fds_file)
                report_fds(fds_file);
        if (probe)
                sanlock_probe(probe);
        if (ready) {
                char text[32];

                snprintf(text, sizeof(text), "%d\n", (int)getpid());
                write_file_atomically(ready, text);
        }
        while (hold && !got_signal)
                sigsuspend(&old);
        return status;
}
