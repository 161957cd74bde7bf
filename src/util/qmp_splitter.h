/* vmlock: cutting a QMP byte stream into messages, as QEMU does.
 *
 * QMP messages are JSON objects, not lines: QEMU's own reader (its
 * json-streamer) takes a message as soon as its braces balance, whatever
 * whitespace or newlines come around or inside it, and several may share a
 * line. This splitter does the same, byte by byte, without parsing: it
 * follows the nesting of {} and [] and skips strings, and hands out the
 * spans of whole values and of garbage (bytes that start no value, or a
 * value cut short), which the caller then parses or refuses.
 *
 * Garbage ends where QEMU's lexer resynchronises: at a control character
 * (a newline) or where a new value starts ('{' or '['). A raw control
 * character inside a string is not JSON: the value ends there as garbage, so
 * one broken string does not swallow what follows.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* As QEMU's parser: deeper values are refused. */
#define QMP_SPLITTER_MAX_DEPTH 1024

typedef enum {
        QMP_SPLIT_NONE,    /* nothing ended at this byte */
        QMP_SPLIT_VALUE,   /* a whole {} or [] value */
        QMP_SPLIT_GARBAGE, /* not a value: to be refused */
} QmpSplitKind;

/* The splitter's state between bytes. Offsets count bytes from the stream's
 * start; zero-initialised, it is between values. */
typedef struct {
        guint64 start;   /* where the value or garbage being read began */
        guint depth;     /* open {s and [s of the value being read */
        char quote;      /* inside a string: its quote (QEMU takes ' too), else 0 */
        gboolean escape; /* the string's last byte was a backslash */
        gboolean garbage;
} QmpSplitter;

/* Takes byte @c, at offset @offset. When something ended, returns its kind
 * and its span [*ret_start, *ret_end). */
QmpSplitKind qmp_splitter_feed(QmpSplitter *splitter, char c, guint64 offset,
                               guint64 *ret_start, guint64 *ret_end);

/* TRUE while a value or garbage is being read: from splitter->start on,
 * bytes are part of it. */
gboolean qmp_splitter_is_inside(const QmpSplitter *splitter);

G_END_DECLS
