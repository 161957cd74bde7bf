/* vmlock bench: the PROGRAM of bench-start, which writes when it was executed.
 *
 *   bench-exec-stamp FILE
 *
 * Writes CLOCK_MONOTONIC in microseconds (the clock of g_get_monotonic_time)
 * to FILE and exits 0. Only libc: its own start costs both sides the same. */
#include <stdio.h>
#include <time.h>

int
main(int argc, char **argv)
{
        struct timespec now;
        FILE *f;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (argc != 2)
                return 2;
        f = fopen(argv[1], "we");
        if (!f)
                return 1;
        fprintf(f, "%lld\n", (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
        return fclose(f) == 0 ? 0 : 1;
}
