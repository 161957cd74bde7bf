/* vmlock tests: a stand-in for QEMU that holds the inherited sanlock fd and answers commands. */
#define _GNU_SOURCE /* pipe2 */

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_resource.h>

/*
 * Usage: sanlock-test-guest --fd N   (N = -1: no fd)
 *
 * Prints "ready N", then answers one line per command read from stdin and
 * exits 0 at end of input, so it dies with the test that started it:
 *   ping     -> pong
 *   inquire  -> inquire RV COUNT STATE    sanlock_inquire() on the inherited fd,
 *               or "inquire timeout" when the daemon does not answer (restricted)
 *   fd       -> fd N open|closed|none
 */

/* The daemon drops, without an answer, any call on a restricted connection,
 * so the call runs in a child that is given up on after INQUIRE_TIMEOUT_MS. */
#define INQUIRE_TIMEOUT_MS 2000

static void
answer_inquire(int fd)
{
        char buf[8192];
        int fds[2];
        struct pollfd pfd;
        pid_t pid;
        ssize_t n;

        if (fd < 0) {
                printf("inquire %d 0 \n", -EBADF);
                return;
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                printf("error pipe: %s\n", strerror(errno));
                return;
        }
        pid = fork();
        if (pid < 0) {
                printf("error fork: %s\n", strerror(errno));
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                char *state = NULL;
                int count = 0;
                int rv = sanlock_inquire(fd, -1, 0, &count, &state);

                dprintf(fds[1], "inquire %d %d %s", rv, rv < 0 ? 0 : count,
                        rv < 0 || !state ? "" : state);
                _exit(0);
        }
        close(fds[1]);

        pfd.fd = fds[0];
        pfd.events = POLLIN;
        if (poll(&pfd, 1, INQUIRE_TIMEOUT_MS) <= 0) {
                kill(pid, SIGKILL);
                printf("inquire timeout\n");
        } else {
                size_t len = 0;

                while (len < sizeof(buf) - 1 &&
                       (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
                        len += n;
                buf[len] = '\0';
                printf("%s\n", buf);
        }
        close(fds[0]);
        waitpid(pid, NULL, 0);
}

static void
answer_fd(int fd)
{
        if (fd < 0)
                printf("fd %d none\n", fd);
        else
                printf("fd %d %s\n", fd, fcntl(fd, F_GETFD) < 0 ? "closed" : "open");
}

int
main(int argc, char **argv)
{
        char line[1024];
        int fd = -1;

        if (argc == 3 && strcmp(argv[1], "--fd") == 0) {
                fd = atoi(argv[2]);
        } else if (argc != 1) {
                fprintf(stderr, "usage: %s [--fd N]\n", argv[0]);
                return 2;
        }

        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("ready %d\n", fd);

        while (fgets(line, sizeof(line), stdin)) {
                line[strcspn(line, "\n")] = '\0';
                if (strcmp(line, "ping") == 0)
                        printf("pong\n");
                else if (strcmp(line, "inquire") == 0)
                        answer_inquire(fd);
                else if (strcmp(line, "fd") == 0)
                        answer_fd(fd);
                else
                        printf("error unknown command '%s'\n", line);
        }
        return 0;
}
