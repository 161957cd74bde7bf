/* vmlock tests: running the vmlock command and its helpers from a test. */
#pragma once

#include <stdarg.h>
#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* @relative inside the build tree ($VMLOCK_BUILD_ROOT, set by meson); the
 * string lives as long as the process. */
const char *tool_test_build_path(const char *relative);

/* @program, then the arguments of @ap up to a NULL, then NULL: an argv for
 * g_spawn (the strings are borrowed). */
GPtrArray *tool_test_argv_new_va(const char *program, va_list ap);

/* TRUE when @haystack (may be NULL) contains @needle. */
gboolean contains(const char *haystack, const char *needle);

typedef struct {
        int status; /* exit status, or 128+N when killed by signal N */
        char *out;
        char *err;
} RunResult;

void run_result_clear(RunResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RunResult, run_result_clear)

/* Starts @argv (argv[0] a path, or searched in PATH) with @envp; stdin is
 * /dev/null, stdout and stderr go to new files in @dir, named in
 * *@ret_out_path and *@ret_err_path, so that a detached guest keeps no
 * pipe of ours open. The child is not reaped: tool_test_collect() does. */
pid_t tool_test_spawn(const char *dir, const char *const *argv, char *const *envp,
                      char **ret_out_path, char **ret_err_path);

/* Waits for @pid and fills @r with its status and output (the files are
 * removed). */
void tool_test_collect(RunResult *r, pid_t pid, const char *out_path, const char *err_path);

G_END_DECLS
