/* vmlock tests: running the vmlock command and its helpers from a test. */
#include "config-build.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tool-test-util.h"

const char *
tool_test_build_path(const char *relative)
{
        static GHashTable *paths;
        const char *root = g_getenv("VMLOCK_BUILD_ROOT");
        char *path;

        if (!root)
                g_error("VMLOCK_BUILD_ROOT is not set: run through meson test");
        if (!paths)
                paths = g_hash_table_new(g_str_hash, g_str_equal);
        path = g_hash_table_lookup(paths, relative);
        if (!path) {
                path = g_build_filename(root, relative, NULL);
                g_hash_table_insert(paths, (gpointer)relative, path);
        }
        return path;
}

GPtrArray *
tool_test_argv_new_va(const char *program, va_list ap)
{
        GPtrArray *argv = g_ptr_array_new();
        const char *arg;

        g_ptr_array_add(argv, (gpointer)program);
        while ((arg = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (gpointer)arg);
        g_ptr_array_add(argv, NULL);
        return argv;
}

gboolean
contains(const char *haystack, const char *needle)
{
        return haystack && strstr(haystack, needle);
}

void
run_result_clear(RunResult *r)
{
        g_clear_pointer(&r->out, g_free);
        g_clear_pointer(&r->err, g_free);
}

static int
open_tmp(const char *dir, const char *what, char **ret_path)
{
        g_autofree char *tmpl = g_strdup_printf("%s/%s-XXXXXX", dir, what);
        int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        *ret_path = g_steal_pointer(&tmpl);
        return fd;
}

pid_t
tool_test_spawn(const char *dir, const char *const *argv, char *const *envp,
                char **ret_out_path, char **ret_err_path)
{
        g_autoptr(GError) error = NULL;
        int out_fd = open_tmp(dir, "stdout", ret_out_path);
        int err_fd = open_tmp(dir, "stderr", ret_err_path);
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        GPid pid = 0;

        g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)envp,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL,
                                         NULL, null_fd, out_fd, err_fd, NULL, NULL, 0, &pid,
                                         NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        close(out_fd);
        close(err_fd);
        close(null_fd);
        return pid;
}

void
tool_test_collect(RunResult *r, pid_t pid, const char *out_path, const char *err_path)
{
        int status;

        /* A result is often reused for the next run: its old output goes. */
        run_result_clear(r);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        r->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        g_file_get_contents(out_path, &r->out, NULL, NULL);
        g_file_get_contents(err_path, &r->err, NULL, NULL);
        g_unlink(out_path);
        g_unlink(err_path);
        g_test_message("status %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}
