/* vmlock: the supervisor: the `vmlock start` process that owns one guest;
 * here its life (set up, serve, end) and QEMU's events. */
#define G_LOG_DOMAIN "vmlock-supervisor"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif

#include "config-build.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <vmlock/vmlock.h>

#include "qemu/qemu_event.h"
#include "qemu/qemu_migration.h"
#include "qemu/qemu_vm.h"
#include "supervisor/guest_stop.h"
#include "supervisor/lease_events.h"
#include "supervisor/service_notify.h"
#include "supervisor/supervisor_priv.h"
#include "util/fd_util.h"

/* QEMU's own state changes, seen in its events. */
static void
monitor_event(JsonObject *event, gpointer user_data)
{
        Supervisor *sv = user_data;
        QemuEvent parsed;

        qemu_event_parse(event, &parsed);
        switch (parsed.kind) {
        case QEMU_EVENT_MIGRATION:
                supervisor_migration_event(sv, parsed.migration);
                break;
        case QEMU_EVENT_STOP:
                /* QEMU stopped by itself (an I/O error with werror=stop). */
                if (supervisor_note_stopped(sv))
                        supervisor_save_record_or_warn(sv);
                break;
        case QEMU_EVENT_DEVICE_DELETED:
                supervisor_device_deleted(sv, parsed.device);
                break;
        case QEMU_EVENT_RESUME:
                /* Nothing vmlock allows gets here; should anything ever, the
                 * guest must not run a moment longer without its leases. */
                if (supervisor_is_released(sv)) {
                        g_printerr("vmlock: guest '%s' resumed while its leases are released: "
                                   "killing it\n",
                                   guest_name(sv));
                        kill(sv->pid, SIGKILL);
                }
                break;
        case QEMU_EVENT_OTHER:
                break;
        }
        if (sv->proxy)
                qmp_server_broadcast(sv->proxy, event);
}

static gboolean
monitor_readable(int fd, GIOCondition condition, gpointer user_data)
{
        Supervisor *sv = user_data;

        if (qemu_monitor_dispatch(sv->monitor))
                return G_SOURCE_CONTINUE;
        sv->monitor_watch = 0;
        return G_SOURCE_REMOVE;
}

static gboolean
guest_exited(int fd, GIOCondition condition, gpointer user_data)
{
        Supervisor *sv = user_data;

        if (waitpid_noeintr(sv->pid, &sv->wait_status, WNOHANG) == 0)
                return G_SOURCE_CONTINUE;
        sv->pidfd_watch = 0;
        sv->reaped = TRUE;
        g_main_loop_quit(sv->loop);
        return G_SOURCE_REMOVE;
}

static int
pidfd_open(pid_t pid, GError **error)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0) {
                int saved = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INTERNAL,
                            "cannot watch guest process %d: %s", (int)pid, g_strerror(saved));
        }
        return fd;
}

Supervisor *
supervisor_new(const SupervisorSetup *setup, GError **error)
{
        g_autoptr(Supervisor) sv = g_new0(Supervisor, 1);
        g_autoptr(JsonObject) greeting = NULL;
        g_autofree char *control_path = NULL;

        sv->state_dir = g_strdup(setup->state_dir);
        sv->uri = g_strdup(setup->uri);
        sv->program = g_strdup(setup->program);
        sv->record = setup->record;
        sv->manager = setup->manager;
        sv->pid = vmlock_domain_get_pid(sv->record->dom);
        sv->go_fd = setup->go_fd;
        sv->state = supervisor_initial_state(sv->record);
        /* From the guest itself: it may end before it could be asked here. */
        sv->held_state = g_strdup(setup->held_state);
        sv->pidfd = -1;
        sv->loop = g_main_loop_new(NULL, FALSE);
        sv->plugged = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)supervisor_plugged_disk_free);
        sv->proxy_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        sv->unprotected = g_ptr_array_new_with_free_func(g_free);

        sv->pidfd = pidfd_open(sv->pid, error);
        if (sv->pidfd < 0)
                return NULL;
        if (setup->monitor_fd >= 0) {
                gboolean running = TRUE;

                /* These wait for QEMU: nobody is served yet. */
                sv->monitor = qemu_monitor_new(setup->monitor_fd, monitor_event, sv);
                if (!qemu_monitor_handshake(sv->monitor, MONITOR_GREETING_TIMEOUT_MS, error))
                        return NULL;
                /* Started with -S (--paused, or by the caller): stopped. */
                if (!qemu_vm_query_running(sv->monitor, &running, error))
                        return NULL;
                if (!running && sv->state == GUEST_RUNNING)
                        supervisor_set_state(sv, GUEST_PAUSED);
                if (!supervisor_check_images(sv, error))
                        return NULL;
                if (setup->incoming) {
                        gboolean late = FALSE;

                        sv->incoming = g_strdup(setup->incoming);
                        if (!migration_incoming(sv->monitor, sv->incoming, &late, error))
                                return NULL;
                        if (!late)
                                g_printerr("vmlock: guest '%s': this QEMU has no "
                                           "late-block-activate: it activates the guest's "
                                           "images as the migration ends, before `vmlock "
                                           "resume` holds their leases\n",
                                           guest_name(sv));
                }
                sv->record->qmp = state_dir_qmp_path(sv->state_dir, guest_name(sv));
                sv->proxy = qmp_server_new(sv->record->qmp,
                                           qemu_monitor_get_greeting(sv->monitor),
                                           supervisor_proxy_command, sv, error);
                if (!sv->proxy)
                        return NULL;
                qmp_server_set_trace(sv->proxy, supervisor_proxy_trace, sv);
        }
        control_path = state_dir_control_path(sv->state_dir, guest_name(sv));
        greeting = supervisor_control_greeting(sv);
        sv->control = qmp_server_new(control_path, greeting, supervisor_control_command, sv, error);
        if (!sv->control)
                return NULL;
        sv->record->supervisor_pid = getpid();
        if (!state_dir_save(sv->state_dir, sv->record, error))
                return NULL;
        return g_steal_pointer(&sv);
}

void
supervisor_free(Supervisor *sv)
{
        if (!sv)
                return;
        g_clear_pointer(&sv->lease_watch, lease_watch_free);
        g_clear_pointer(&sv->stop, guest_stop_free);
        g_clear_pointer(&sv->control, qmp_server_free);
        g_clear_pointer(&sv->proxy, qmp_server_free);
        if (sv->monitor_watch)
                g_source_remove(sv->monitor_watch);
        g_clear_pointer(&sv->monitor, qemu_monitor_free);
        if (sv->pidfd_watch)
                g_source_remove(sv->pidfd_watch);
        if (sv->pidfd >= 0)
                close(sv->pidfd);
        if (sv->go_fd >= 0)
                close(sv->go_fd); /* the waiting child exits */
        g_main_loop_unref(sv->loop);
        g_hash_table_destroy(sv->plugged);
        g_hash_table_destroy(sv->proxy_nodes);
        g_ptr_array_unref(sv->unprotected);
        if (sv->handover_idle)
                g_source_remove(sv->handover_idle);
        if (sv->cancelled_idle)
                g_source_remove(sv->cancelled_idle);
        g_free(sv->incoming);
        g_free(sv->handover_error);
        g_free(sv->held_state);
        g_free(sv->state_dir);
        g_free(sv->uri);
        g_free(sv->program);
        g_free(sv);
}

int
supervisor_run(Supervisor *sv)
{
        g_autoptr(GError) error = NULL;

        sv->pidfd_watch = g_unix_fd_add(sv->pidfd, G_IO_IN, guest_exited, sv);
        if (sv->monitor)
                sv->monitor_watch = g_unix_fd_add(qemu_monitor_get_fd(sv->monitor),
                                                  G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                  monitor_readable, sv);
        sv->lease_watch = lease_watch_new(sv->manager, sv->pid, supervisor_expected_leases,
                                          supervisor_lease_lost, sv);
        if (!supervisor_is_released(sv))
                lease_events_log_domain(sv->manager, LEASE_EVENT_TAKEN, sv->record->dom, NULL);
        service_notify_ready(guest_name(sv), sv->pid, supervisor_is_paused(sv));
        g_main_loop_run(sv->loop);
        /* What still waits for QEMU ends now, in an error its client is
         * told of, before the record goes. */
        if (sv->monitor_watch)
                g_source_remove(sv->monitor_watch);
        sv->monitor_watch = 0;
        qemu_monitor_free(sv->monitor);
        sv->monitor = NULL;
        g_clear_pointer(&sv->lease_watch, lease_watch_free);
        g_clear_pointer(&sv->stop, guest_stop_free); /* reaped: its pid is no longer ours */

        /* Stop serving; forget it once its leases are free for others. */
        g_clear_pointer(&sv->control, qmp_server_free);
        g_clear_pointer(&sv->proxy, qmp_server_free);
        supervisor_wait_leases_released(sv);
        if (!supervisor_is_released(sv))
                lease_events_log_domain(sv->manager, LEASE_EVENT_RELEASED, sv->record->dom,
                                        "the guest ended");
        if (!state_dir_remove_if_owned(sv->state_dir, guest_name(sv), sv->pid,
                                       sv->record->pid_start_time, &error))
                g_printerr("vmlock: %s\n", error->message);
        return sv->wait_status;
}
