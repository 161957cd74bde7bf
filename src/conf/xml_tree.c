/* vmlock: a small XML element tree read with GLib's GMarkup. */
#define G_LOG_DOMAIN "vmlock-conf"

#include "config-build.h"

#include <string.h>

#include <vmlock/error.h>

#include "conf/domain_priv.h"
#include "conf/xml_tree.h"

/* As libxml2's default: deeper is no domain XML, and it bounds the recursion
 * of vmlock_xml_node_free(). */
#define XML_TREE_MAX_DEPTH 256

/* GLib's translation domain: its GMarkup messages are said in the user's
 * language. */
#define GLIB_GETTEXT_DOMAIN "glib20"

struct _VmlockXmlNode {
        char *name;
        char *default_ns; /* the xmlns='...' in scope; NULL when none */
        char **attr_names;
        char **attr_values;
        GString *text; /* NULL until some arrives */
        int line;
        /* What libxml2 knew of its children when it kept or dropped a
         * blank text (flush_blank()). */
        gboolean has_child;
        gboolean first_child_is_text;
        gboolean last_child_is_text;
        gboolean preserve_space; /* xml:space='preserve' in scope */
        VmlockXmlNode *parent;
        VmlockXmlNode *children;
        VmlockXmlNode *last_child;
        VmlockXmlNode *next;
};

typedef struct {
        const char *xml; /* the whole document, for where its declaration is */
        gsize len;
        VmlockXmlNode *root;
        VmlockXmlNode *current; /* the open element; NULL outside the root */
        guint depth;
        gboolean root_closed;
        gboolean seen_markup; /* any markup yet: the XML declaration must come first */
        int first_line;       /* what GMarkup calls line 1 */
        int error_line;       /* of an error our callbacks raised */
        GString *blank;       /* whitespace-only text, kept or dropped at the next markup */
} TreeBuilder;

void
vmlock_xml_node_free(VmlockXmlNode *node)
{
        VmlockXmlNode *child;

        if (!node)
                return;
        child = node->children;
        while (child) {
                VmlockXmlNode *next = child->next;

                vmlock_xml_node_free(child);
                child = next;
        }
        g_free(node->name);
        g_free(node->default_ns);
        g_strfreev(node->attr_names);
        g_strfreev(node->attr_values);
        if (node->text)
                g_string_free(node->text, TRUE);
        g_free(node);
}

const char *
vmlock_xml_node_get_name(const VmlockXmlNode *node)
{
        return node->name;
}

const char *
vmlock_xml_node_get_namespace(const VmlockXmlNode *node)
{
        return strchr(node->name, ':') ? NULL : node->default_ns;
}

gboolean
vmlock_xml_node_is(const VmlockXmlNode *node, const char *name)
{
        /* A prefixed name never equals an unprefixed one. */
        return node->default_ns == NULL && g_str_equal(node->name, name);
}

int
vmlock_xml_node_get_line(const VmlockXmlNode *node)
{
        return node->line;
}

const char *
vmlock_xml_node_get_text(const VmlockXmlNode *node)
{
        return node->text ? node->text->str : "";
}

const char *
vmlock_xml_node_get_attr(const VmlockXmlNode *node, const char *name)
{
        for (gsize i = 0; node->attr_names[i]; i++) {
                if (g_str_equal(node->attr_names[i], name))
                        return node->attr_values[i];
        }
        return NULL;
}

const VmlockXmlNode *
vmlock_xml_node_get_children(const VmlockXmlNode *node)
{
        return node->children;
}

const VmlockXmlNode *
vmlock_xml_node_get_next(const VmlockXmlNode *node)
{
        return node->next;
}

const VmlockXmlNode *
vmlock_xml_node_get_child(const VmlockXmlNode *node, const char *name)
{
        for (const VmlockXmlNode *child = node->children; child; child = child->next) {
                if (vmlock_xml_node_is(child, name))
                        return child;
        }
        return NULL;
}

/* GMarkup counts a newline as the first character of the line it starts:
 * a position at character 1 is the end of the line before. And it does
 * not count a newline that starts the document. */
static int
to_line(const TreeBuilder *b, int line, int char_number)
{
        if (char_number == 1 && line > 1)
                line--;
        return line - 1 + b->first_line;
}

static int
current_line(const TreeBuilder *b, GMarkupParseContext *context)
{
        int line;
        int char_number;

        g_markup_parse_context_get_position(context, &line, &char_number);
        return to_line(b, line, char_number);
}

static void G_GNUC_PRINTF(4, 5)
builder_error(TreeBuilder *b, GMarkupParseContext *context, GError **error, const char *fmt,
              ...)
{
        va_list args;

        va_start(args, fmt);
        g_propagate_error(error, g_error_new_valist(VMLOCK_ERROR, VMLOCK_ERROR_XML, fmt, args));
        va_end(args);
        b->error_line = current_line(b, context);
}

/* XML allows no control character but tab and line breaks, written or as
 * a character reference; GMarkup takes them. The index of the first one, or
 * -1. */
static gssize
find_control_char(const char *text, gsize len)
{
        for (gsize i = 0; i < len; i++) {
                guchar c = (guchar)text[i];

                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        return (gssize)i;
        }
        return -1;
}

/* GMarkup takes an attribute given twice; XML (and libvirt) do not. */
static const char *
find_duplicate(const char **names)
{
        g_autoptr(GHashTable) seen = NULL;
        gsize n = g_strv_length((char **)names);

        if (n < 2)
                return NULL;
        if (n <= 16) {
                for (gsize i = 1; i < n; i++) {
                        for (gsize j = 0; j < i; j++) {
                                if (g_str_equal(names[i], names[j]))
                                        return names[i];
                        }
                }
                return NULL;
        }
        seen = g_hash_table_new(g_str_hash, g_str_equal);
        for (gsize i = 0; i < n; i++) {
                if (!g_hash_table_add(seen, (gpointer)names[i]))
                        return names[i];
        }
        return NULL;
}

/* A text child of the open element. */
static void
append_text(TreeBuilder *b, const char *text, gsize len)
{
        VmlockXmlNode *node = b->current;

        if (!node->text)
                node->text = g_string_sized_new(len);
        g_string_append_len(node->text, text, (gssize)len);
        if (!node->has_child)
                node->first_child_is_text = TRUE;
        node->has_child = TRUE;
        node->last_child_is_text = TRUE;
}

/* An element, a comment or a processing instruction in the open element. */
static void
append_markup(TreeBuilder *b)
{
        b->current->has_child = TRUE;
        b->current->last_child_is_text = FALSE;
}

static gboolean
is_blank(const char *text, gsize len)
{
        for (gsize i = 0; i < len; i++) {
                if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
                        return FALSE;
        }
        return TRUE;
}

/* Whitespace-only text before the next markup, kept or dropped as libxml2
 * did with XML_PARSE_NOBLANKS before GMarkup, so that a name or a lease key
 * reads as it did: dropped unless it is all the element holds, or text is
 * the element's first or last child so far ("<key>  <!-- k -->k</key>" is
 * "k"). Whitespace from a character reference (&#32;) is dropped too, where
 * libxml2 kept it. */
static void
flush_blank(TreeBuilder *b, gboolean at_end_tag)
{
        const VmlockXmlNode *node = b->current;
        gboolean keep;

        if (!b->blank)
                return;
        if (!node->has_child)
                keep = at_end_tag;
        else
                keep = node->last_child_is_text || node->first_child_is_text;
        if (keep)
                append_text(b, b->blank->str, b->blank->len);
        g_string_free(g_steal_pointer(&b->blank), TRUE);
}

static void
on_start_element(GMarkupParseContext *context, const char *name, const char **attr_names,
                 const char **attr_values, gpointer user_data, GError **error)
{
        TreeBuilder *b = user_data;
        VmlockXmlNode *node;
        const char *duplicate;
        const char *xmlns = NULL;

        b->seen_markup = TRUE;
        if (b->root_closed) {
                builder_error(b, context, error,
                              "not well-formed XML: element <%s> after the end of the root "
                              "element <%s>", name, b->root->name);
                return;
        }
        if (b->depth >= XML_TREE_MAX_DEPTH) {
                builder_error(b, context, error,
                              "not well-formed XML: elements nested more than %d deep",
                              XML_TREE_MAX_DEPTH);
                return;
        }
        duplicate = find_duplicate(attr_names);
        if (duplicate) {
                builder_error(b, context, error,
                              "not well-formed XML: attribute '%s' given twice in <%s>",
                              duplicate, name);
                return;
        }

        for (gsize i = 0; attr_values[i]; i++) {
                gssize at = find_control_char(attr_values[i], strlen(attr_values[i]));

                if (at >= 0) {
                        builder_error(b, context, error,
                                      "not well-formed XML: a control character (0x%02x) in "
                                      "attribute '%s' of <%s>", (guchar)attr_values[i][at],
                                      attr_names[i], name);
                        return;
                }
        }

        node = g_new0(VmlockXmlNode, 1);
        node->name = g_strdup(name);
        node->attr_names = g_strdupv((char **)attr_names);
        node->attr_values = g_strdupv((char **)attr_values);
        node->line = current_line(b, context);

        /* A default namespace (xmlns='...', or xmlns='' to leave one) and
         * xml:space are inherited; a prefix needs no lookup: it is never ours.
         * An xml:space other than these two values is ignored. */
        node->preserve_space = b->current && b->current->preserve_space;
        for (gsize i = 0; attr_names[i]; i++) {
                if (g_str_equal(attr_names[i], "xmlns"))
                        xmlns = attr_values[i];
                else if (g_str_equal(attr_names[i], "xml:space") &&
                         g_str_equal(attr_values[i], "preserve"))
                        node->preserve_space = TRUE;
                else if (g_str_equal(attr_names[i], "xml:space") &&
                         g_str_equal(attr_values[i], "default"))
                        node->preserve_space = FALSE;
        }
        if (xmlns)
                node->default_ns = *xmlns ? g_strdup(xmlns) : NULL;
        else if (b->current)
                node->default_ns = g_strdup(b->current->default_ns);

        if (b->current) {
                flush_blank(b, FALSE);
                append_markup(b);
        }
        node->parent = b->current;
        if (!b->current)
                b->root = node;
        else if (b->current->last_child)
                b->current->last_child->next = node;
        else
                b->current->children = node;
        if (b->current)
                b->current->last_child = node;
        b->current = node;
        b->depth++;
}

static void
on_end_element(GMarkupParseContext *context, const char *name, gpointer user_data,
               GError **error)
{
        TreeBuilder *b = user_data;

        /* GMarkup checks the name matches the open element. */
        flush_blank(b, TRUE);
        b->current = b->current->parent;
        b->depth--;
        if (!b->current)
                b->root_closed = TRUE;
}

static void
on_text(GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
        GError **error)
{
        TreeBuilder *b = user_data;
        gssize at;

        /* Outside the root GMarkup gives only whitespace (it refuses other text). */
        if (!b->current || len == 0)
                return;
        at = find_control_char(text, len);
        if (at >= 0) {
                builder_error(b, context, error,
                              "not well-formed XML: a control character (0x%02x) in <%s>",
                              (guchar)text[at], b->current->name);
                /* GMarkup is at the end of the text: back to the character's line. */
                for (gsize i = (gsize)at; i < len; i++) {
                        if (text[i] == '\n')
                                b->error_line--;
                }
                return;
        }
        flush_blank(b, FALSE);
        if (is_blank(text, len) && !b->current->preserve_space)
                b->blank = g_string_new_len(text, (gssize)len);
        else
                append_text(b, text, len);
}

/* The declaration's encoding='...', or NULL when it names none (UTF-8). */
static gboolean
declared_encoding(const char *decl, gsize len, char **ret_encoding)
{
        g_autofree char *copy = g_strndup(decl, len);
        const char *p = strstr(copy, "encoding");
        const char *end;
        char quote;

        *ret_encoding = NULL;
        if (!p)
                return TRUE;
        p += strlen("encoding");
        while (g_ascii_isspace(*p))
                p++;
        if (*p++ != '=')
                return FALSE;
        while (g_ascii_isspace(*p))
                p++;
        quote = *p++;
        if (quote != '\'' && quote != '"')
                return FALSE;
        end = strchr(p, quote);
        if (!end)
                return FALSE;
        *ret_encoding = g_strndup(p, (gsize)(end - p));
        return TRUE;
}

/* CDATA is text, but no blank to drop; its line breaks are made "\n" as
 * GMarkup does for other text. */
static void
append_cdata(TreeBuilder *b, GMarkupParseContext *context, const char *section, gsize len,
             GError **error)
{
        const gsize open_len = strlen("<![CDATA[");
        const char *text = section + open_len;
        gsize text_len = len - open_len - strlen("]]>");
        g_autoptr(GString) normalized = g_string_sized_new(text_len);
        gssize at;

        if (!b->current) {
                builder_error(b, context, error,
                              "not well-formed XML: CDATA outside the root element");
                return;
        }
        for (gsize i = 0; i < text_len; i++) {
                if (text[i] != '\r')
                        g_string_append_c(normalized, text[i]);
                else if (i + 1 == text_len || text[i + 1] != '\n')
                        g_string_append_c(normalized, '\n');
        }
        at = find_control_char(normalized->str, normalized->len);
        if (at >= 0) {
                builder_error(b, context, error,
                              "not well-formed XML: a control character (0x%02x) in <%s>",
                              (guchar)normalized->str[at], b->current->name);
                return;
        }
        flush_blank(b, FALSE);
        append_text(b, normalized->str, normalized->len);
}

static gboolean
is_xml_declaration(const char *text, gsize len)
{
        return len > 5 && strncmp(text, "<?xml", 5) == 0 &&
               (g_ascii_isspace(text[5]) || text[5] == '?');
}

/* CDATA sections, comments, processing instructions, the XML declaration
 * and a DOCTYPE. Comments and processing instructions are skipped. GMarkup
 * neither loads a DTD nor expands an entity it declares, but libvirt never
 * writes a DOCTYPE and readers that do honour one would read another
 * document: it is refused. */
static void
on_passthrough(GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
               GError **error)
{
        TreeBuilder *b = user_data;
        gboolean first = !b->seen_markup;

        b->seen_markup = TRUE;
        if (len >= 12 && strncmp(text, "<![CDATA[", 9) == 0) {
                append_cdata(b, context, text, len, error);
                return;
        }
        if (b->current) {
                flush_blank(b, FALSE);
                append_markup(b);
        }
        if (len >= 9 && strncmp(text, "<!DOCTYPE", 9) == 0) {
                builder_error(b, context, error, "a DOCTYPE is not allowed in a domain XML");
                return;
        }
        if (is_xml_declaration(text, len)) {
                g_autofree char *encoding = NULL;

                /* GMarkup skips leading whitespace: it must not be there. */
                if (!first || b->len < 5 || memcmp(b->xml, "<?xml", 5) != 0) {
                        builder_error(b, context, error,
                                      "not well-formed XML: the XML declaration "
                                      "is allowed only at the start of the document");
                        return;
                }
                if (!declared_encoding(text, len, &encoding)) {
                        builder_error(b, context, error,
                                      "not well-formed XML: malformed encoding in the XML "
                                      "declaration");
                        return;
                }
                if (encoding && g_ascii_strcasecmp(encoding, "UTF-8") != 0 &&
                    g_ascii_strcasecmp(encoding, "UTF8") != 0) {
                        g_autofree char *shown = vmlock_conf_abbrev(encoding);

                        builder_error(b, context, error,
                                      "the encoding '%s' is not supported: a domain XML is "
                                      "UTF-8", shown);
                        return;
                }
        }
}

static const GMarkupParser tree_parser = {
        .start_element = on_start_element,
        .end_element = on_end_element,
        .text = on_text,
        .passthrough = on_passthrough,
};

/* Matches @message against GMarkup's @format ("Error on line %d char %d: "
 * as translated): returns what follows it and the line, or NULL. */
static const char *
strip_position(const TreeBuilder *b, const char *message, const char *format, int *ret_line)
{
        const char *m = message;
        int numbers[2] = { 0, 0 };
        guint n_numbers = 0;

        for (const char *f = format; *f; f++) {
                if (f[0] == '%' && f[1] == 'd') {
                        guint64 value;
                        char *end = NULL;

                        if (!g_ascii_isdigit(*m))
                                return NULL;
                        value = g_ascii_strtoull(m, &end, 10);
                        if (n_numbers < G_N_ELEMENTS(numbers))
                                numbers[n_numbers++] = (int)MIN(value, (guint64)G_MAXINT);
                        m = end;
                        f++;
                } else if (f[0] == '%' && f[1] == 's' && f[2] == '\0') {
                        break;
                } else if (*m++ != *f) {
                        return NULL;
                }
        }
        /* With a character, the position is GMarkup's; without, the line of
         * the entity it could not read. */
        *ret_line = n_numbers == 2 ? to_line(b, numbers[0], numbers[1])
                                   : numbers[0] - 1 + b->first_line;
        return m;
}

/* GMarkup's message, less its "Error on line N char M: " (the line goes to
 * @ret_line), after "not well-formed XML: ". */
static GError *
syntax_error(const TreeBuilder *b, GMarkupParseContext *context, const GError *markup_error,
             int *ret_line)
{
        static const char *const formats[] = {
                "Error on line %d char %d: ",
                "Error on line %d: %s",
        };
        const char *detail = NULL;
        int line = 0;

        for (gsize i = 0; i < G_N_ELEMENTS(formats) && !detail; i++) {
                detail = strip_position(b, markup_error->message,
                                        g_dgettext(GLIB_GETTEXT_DOMAIN, formats[i]), &line);
        }
        if (!detail) {
                detail = markup_error->message;
                line = current_line(b, context);
        }
        *ret_line = line;

        /* GMarkup says "must begin with an element" of text after the root. */
        if (b->root_closed &&
            g_str_equal(detail, g_dgettext(GLIB_GETTEXT_DOMAIN,
                                           "Document must begin with an element (e.g. <book>)")))
                return g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_XML,
                                   "not well-formed XML: text after the end of the root "
                                   "element <%s>", b->root->name);
        return g_error_new(VMLOCK_ERROR, VMLOCK_ERROR_XML, "not well-formed XML: %s", detail);
}

static int
line_at(const char *xml, const char *at)
{
        int line = 1;

        for (const char *p = xml; p < at; p++) {
                if (*p == '\n')
                        line++;
        }
        return line;
}

/* Invalid UTF-8 or a NUL byte (libxml2 read "x\0y" as "x"): checked before
 * GMarkup, which would name a later point, or none. */
static gboolean
check_utf8(const char *xml, gsize len, int *ret_line, GError **error)
{
        const char *end = NULL;

        if (g_utf8_validate_len(xml, len, &end))
                return TRUE;

        *ret_line = line_at(xml, end);
        if (*end == '\0')
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_XML,
                                    "not well-formed XML: a NUL byte");
        else
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_XML,
                                    "not well-formed XML: not valid UTF-8 (a domain XML "
                                    "is UTF-8)");
        return FALSE;
}

VmlockXmlNode *
vmlock_xml_tree_parse(const char *xml, gsize len, int *ret_line, GError **error)
{
        static const char bom[] = "\xef\xbb\xbf";
        TreeBuilder b = { 0 };
        GMarkupParseContext *context;
        GError *markup_error = NULL;
        gboolean ok;

        *ret_line = 0;
        /* A UTF-8 byte order mark is allowed, and says nothing. */
        if (len >= 3 && memcmp(xml, bom, 3) == 0) {
                xml += 3;
                len -= 3;
        }
        if (!check_utf8(xml, len, ret_line, error))
                return NULL;

        b.xml = xml;
        b.len = len;
        b.first_line = len > 0 && xml[0] == '\n' ? 2 : 1;
        context = g_markup_parse_context_new(&tree_parser, 0, &b, NULL);
        ok = g_markup_parse_context_parse(context, xml, (gssize)len, &markup_error) &&
             g_markup_parse_context_end_parse(context, &markup_error);
        if (!ok) {
                if (markup_error->domain == VMLOCK_ERROR) {
                        *ret_line = b.error_line;
                        g_propagate_error(error, markup_error);
                } else {
                        g_propagate_error(error,
                                          syntax_error(&b, context, markup_error, ret_line));
                        g_error_free(markup_error);
                }
                g_markup_parse_context_free(context);
                if (b.blank)
                        g_string_free(b.blank, TRUE);
                vmlock_xml_node_free(b.root);
                return NULL;
        }
        g_markup_parse_context_free(context);

        /* Comments alone are well-formed to GMarkup. */
        if (!b.root) {
                g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_XML,
                                    "not well-formed XML: no root element");
                return NULL;
        }
        return b.root;
}
