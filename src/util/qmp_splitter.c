/* vmlock: cutting a QMP byte stream into messages, as QEMU does. */
#define G_LOG_DOMAIN "vmlock-util"

#include "config-build.h"

#include "util/qmp_splitter.h"

static gboolean
is_control(char c)
{
        return (guchar)c < 0x20;
}

static gboolean
is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static QmpSplitKind
end(QmpSplitter *splitter, QmpSplitKind kind, guint64 end_offset, guint64 *ret_start,
    guint64 *ret_end)
{
        *ret_start = splitter->start;
        *ret_end = end_offset;
        *splitter = (QmpSplitter){ 0 };
        return kind;
}

static void
begin(QmpSplitter *splitter, char c, guint64 offset)
{
        splitter->start = offset;
        if (c == '{' || c == '[')
                splitter->depth = 1;
        else
                splitter->garbage = TRUE;
        if (c == '"' || c == '\'')
                splitter->quote = c; /* a string alone is garbage, but read as one */
}

QmpSplitKind
qmp_splitter_feed(QmpSplitter *splitter, char c, guint64 offset, guint64 *ret_start,
                  guint64 *ret_end)
{
        if (splitter->quote) {
                if (splitter->escape)
                        splitter->escape = FALSE;
                else if (c == '\\')
                        splitter->escape = TRUE;
                else if (c == splitter->quote)
                        splitter->quote = 0;
                else if (is_control(c))
                        return end(splitter, QMP_SPLIT_GARBAGE, offset, ret_start, ret_end);
                return QMP_SPLIT_NONE;
        }
        if (splitter->depth > 0) {
                switch (c) {
                case '"':
                case '\'':
                        splitter->quote = c;
                        break;
                case '{':
                case '[':
                        if (splitter->depth == QMP_SPLITTER_MAX_DEPTH)
                                return end(splitter, QMP_SPLIT_GARBAGE, offset + 1, ret_start,
                                           ret_end);
                        splitter->depth++;
                        break;
                case '}':
                case ']':
                        if (--splitter->depth == 0)
                                return end(splitter, QMP_SPLIT_VALUE, offset + 1, ret_start,
                                           ret_end);
                        break;
                default:
                        break;
                }
                return QMP_SPLIT_NONE;
        }
        if (splitter->garbage) {
                QmpSplitKind kind;

                if (c == '"' || c == '\'') {
                        splitter->quote = c;
                        return QMP_SPLIT_NONE;
                }
                if (!is_control(c) && c != '{' && c != '[')
                        return QMP_SPLIT_NONE;
                kind = end(splitter, QMP_SPLIT_GARBAGE, offset, ret_start, ret_end);
                /* A new value starts right where the garbage ended. */
                if (c == '{' || c == '[')
                        begin(splitter, c, offset);
                return kind;
        }
        if (!is_space(c))
                begin(splitter, c, offset);
        return QMP_SPLIT_NONE;
}

gboolean
qmp_splitter_is_inside(const QmpSplitter *splitter)
{
        return splitter->depth > 0 || splitter->garbage;
}
