/* vmlock tests: a stand-in for QEMU that holds the inherited sanlock fd and answers commands. */
#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanlock.h>
#include <sanlock_resource.h>

/*
 * Usage: sanlock-test-guest --fd N   (N = -1: no fd)
 *
 * Prints "ready N", then answers one line per command read from stdin and
 * exits 0 at end of input, so it dies with the test that started it:
 *   ping     -> pong
 *   inquire  -> inquire RV COUNT STATE    sanlock_inquire() on the inherited fd
 *   fd       -> fd N open|closed|none
 */

static void
answer_inquire(int fd)
{
        char *state = NULL;
        int count = 0;
        int rv;

        if (fd < 0) {
                printf("inquire %d 0 \n", -EBADF);
                return;
        }
        rv = sanlock_inquire(fd, -1, 0, &count, &state);
        printf("inquire %d %d %s\n", rv, rv < 0 ? 0 : count, rv < 0 || !state ? "" : state);
        free(state);
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
