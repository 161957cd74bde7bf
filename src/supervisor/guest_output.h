/* vmlock: what a detached guest without --log writes, drained and its end kept.
 *
 * With --detach and no --log, PROGRAM's output used to go to /dev/null, so a
 * QEMU refusing to start (a missing image) left only "the QMP peer closed the
 * connection". It goes to a pipe instead, whose last lines a failed start
 * reports; once the guest runs, the supervisor drains the pipe for the
 * guest's whole life (so a guest never blocks on it) and keeps only its end.
 * A supervisor gone leaves the pipe without a reader: the guest's next write
 * fails with EPIPE (QEMU ignores SIGPIPE; a program that does not dies of it,
 * as an unsupervised guest may).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct GuestOutput GuestOutput;

GuestOutput *guest_output_new(GError **error);
/* PROGRAM's stdout and stderr (the pipe's write end, close-on-exec). */
int guest_output_get_writer(const GuestOutput *output);
/* The child has it: ours goes, so the pipe ends when the guest does. */
void guest_output_close_writer(GuestOutput *output);
/* Reads what is there now; the last few lines, or NULL when PROGRAM wrote
 * nothing. */
char *guest_output_tail(GuestOutput *output);
/* From now on, drained on the thread-default main context. */
void guest_output_drain(GuestOutput *output);
void guest_output_free(GuestOutput *output);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestOutput, guest_output_free)

G_END_DECLS
