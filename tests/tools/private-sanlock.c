/* vmlock tests: sanlock daemons of a test's own, beside the harness's two. */
#include "config-build.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "private-sanlock.h"

#define POLL_US (200 * 1000)

/* The daemon's children (its helper process), so that none outlives it. */
static void
kill_daemon(GPid pid)
{
        g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
        const char *name;

        if (pid <= 0)
                return;
        while (proc && (name = g_dir_read_name(proc))) {
                g_autofree char *stat_path = g_build_filename("/proc", name, "stat", NULL);
                g_autofree char *stat = NULL;
                const char *close_paren;
                int ppid = 0;
                char state;

                if (!g_ascii_isdigit(name[0]) ||
                    !g_file_get_contents(stat_path, &stat, NULL, NULL))
                        continue;
                close_paren = strrchr(stat, ')');
                if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 &&
                    ppid == pid)
                        kill(atoi(name), SIGKILL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

/* A private daemon must not outlive a test that aborts. */
static void
die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

void
private_host_daemon_start(PrivateHost *ph)
{
        g_autoptr(GError) error = NULL;
        const char *shim = g_getenv("VMLOCK_SANLOCK_SHIM");
        g_auto(GStrv) env = g_get_environ();
        int log_fd;

        g_assert_nonnull(shim);
        g_assert_cmpint(ph->pid, ==, 0);
        env = g_environ_setenv(env, "SANLOCK_RUN_DIR", ph->host.run_dir, TRUE);
        env = g_environ_setenv(env, "LD_PRELOAD", shim, TRUE);
        log_fd = open(ph->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        g_assert_cmpint(log_fd, >=, 0);
        {
                const char *argv[] = { sanlock_test_harness()->sanlock_bin, "daemon", "-D",
                                       "-w", "0", "-l", "0", "-U", "root", "-G", "root",
                                       "-e", ph->host.name, "-L", "-1", "-S", "-1", NULL };

                g_assert_true(g_spawn_async_with_fds(NULL, (char **)argv, env,
                                                     G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
                                                     NULL, &ph->pid, -1, log_fd, log_fd,
                                                     &error));
                g_assert_no_error(error);
        }
        close(log_fd);

        /* up when its client answers, within 20 s */
        for (int i = 0; i < 100; i++) {
                g_autofree char *out = sanlock_test_host_client(&ph->host, NULL, "status", NULL);

                if (out)
                        return;
                g_assert_cmpint(waitpid(ph->pid, NULL, WNOHANG), ==, 0);
                g_usleep(POLL_US);
        }
        g_error("private sanlock daemon %s does not answer (log: %s)", ph->host.name, ph->log);
}

void
private_host_start(PrivateHost *ph, const char *dir, const char *lease_dir, guint host_id,
                   guint io_timeout)
{
        g_autofree char *base = g_strdup_printf("host%u", host_id);
        g_autofree char *etc = NULL;
        g_autofree char *conf = NULL;

        ph->dir = g_build_filename(dir, base, NULL);
        ph->log = g_build_filename(ph->dir, "daemon.log", NULL);
        ph->host.id = host_id;
        ph->host.name = sanlock_test_unique_name("private");
        /* Short: the daemon's socket path must fit in a sockaddr_un. */
        ph->host.run_dir = g_build_filename(sanlock_test_short_dir(), "run-XXXXXX", NULL);
        g_assert_nonnull(g_mkdtemp(ph->host.run_dir));
        ph->host.config_dir = g_build_filename(ph->dir, "etc", NULL);
        g_assert_cmpint(g_mkdir_with_parents(ph->host.config_dir, 0700), ==, 0);

        etc = g_build_filename(ph->host.config_dir, "vmlock.conf", NULL);
        g_assert_true(g_file_set_contents(etc, "lock_manager = \"sanlock\"\n", -1, NULL));
        conf = g_strdup_printf("auto_disk_leases = 1\ndisk_lease_dir = \"%s\"\nhost_id = %u\n"
                               "io_timeout = %u\n", lease_dir, host_id, io_timeout);
        g_clear_pointer(&etc, g_free);
        etc = g_build_filename(ph->host.config_dir, "qemu-sanlock.conf", NULL);
        g_assert_true(g_file_set_contents(etc, conf, -1, NULL));
        private_host_daemon_start(ph);
}

void
private_host_kill(PrivateHost *ph)
{
        kill_daemon(ph->pid);
        ph->pid = 0;
}

void
private_host_clear(PrivateHost *ph)
{
        g_autoptr(GDir) run = NULL;
        const char *name;

        private_host_kill(ph);
        run = ph->host.run_dir ? g_dir_open(ph->host.run_dir, 0, NULL) : NULL;
        while (run && (name = g_dir_read_name(run))) {
                g_autofree char *path = g_build_filename(ph->host.run_dir, name, NULL);

                g_unlink(path);
        }
        if (ph->host.run_dir)
                g_rmdir(ph->host.run_dir);
        g_free(ph->dir);
        g_free(ph->log);
        g_free(ph->host.name);
        g_free(ph->host.run_dir);
        g_free(ph->host.config_dir);
        memset(ph, 0, sizeof(*ph));
}
