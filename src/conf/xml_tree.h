/* vmlock: a small XML element tree read with GLib's GMarkup, for the domain
 * XML parser (names, attributes, text and line of each element). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VmlockXmlNode VmlockXmlNode;

/* Reads a whole UTF-8 document of @len bytes. Comments and processing
 * instructions are skipped; a DOCTYPE, an encoding other than UTF-8, invalid
 * UTF-8, a control character, more than one root element, nesting deeper
 * than 256 or anything not well-formed is VMLOCK_ERROR_XML, its message
 * without a location: the line it names (0 if none) goes to @ret_line.
 * Returns the root element, freed with vmlock_xml_node_free(). */
VmlockXmlNode *vmlock_xml_tree_parse(const char *xml, gsize len, int *ret_line,
                                     GError **error);

/* Frees @node's whole tree; @node must be the root. Accepts NULL. */
void vmlock_xml_node_free(VmlockXmlNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockXmlNode, vmlock_xml_node_free)

/* The element's name as written, a prefix included ("qemu:commandline"). */
const char *vmlock_xml_node_get_name(const VmlockXmlNode *node);
/* The default namespace (xmlns='...') an unprefixed element is in; NULL when
 * none. */
const char *vmlock_xml_node_get_namespace(const VmlockXmlNode *node);
/* TRUE when @node is the element @name in no namespace: elements of another
 * (metadata, qemu:commandline) are not the domain's own. */
gboolean vmlock_xml_node_is(const VmlockXmlNode *node, const char *name);
/* The line of the end of the start tag, from 1. */
int vmlock_xml_node_get_line(const VmlockXmlNode *node);
/* The element's own text and CDATA, entities replaced, not trimmed, but
 * without the whitespace-only text before markup that libxml2 dropped
 * (flush_blank() in xml_tree.c); "" when none. */
const char *vmlock_xml_node_get_text(const VmlockXmlNode *node);
/* The value of the unprefixed attribute @name, entities replaced; NULL when
 * absent. */
const char *vmlock_xml_node_get_attr(const VmlockXmlNode *node, const char *name);

/* The child elements in document order: the first one, then each next one. */
const VmlockXmlNode *vmlock_xml_node_get_children(const VmlockXmlNode *node);
const VmlockXmlNode *vmlock_xml_node_get_next(const VmlockXmlNode *node);
/* The first child element vmlock_xml_node_is() @name; NULL when none. */
const VmlockXmlNode *vmlock_xml_node_get_child(const VmlockXmlNode *node, const char *name);

G_END_DECLS
