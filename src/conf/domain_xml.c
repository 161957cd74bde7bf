/* vmlock: libvirt domain XML parser (the parts locking needs, nothing else). */
#define G_LOG_DOMAIN "vmlock-conf"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain_priv.h"
#include "conf/xml_tree.h"
#include "util/log.h"

/* A domain XML is a few KiB; anything this big is not one. */
#define DOMAIN_XML_MAX_SIZE (16 * 1024 * 1024)

typedef struct {
        const char *filename; /* may be NULL */
} ParseState;

/* "file:line: ", "file: ", "line N: " or "", whichever is known. */
static char *
error_prefix(const ParseState *ps, int line)
{
        if (ps->filename && line > 0)
                return g_strdup_printf("%s:%d: ", ps->filename, line);
        if (ps->filename)
                return g_strdup_printf("%s: ", ps->filename);
        if (line > 0)
                return g_strdup_printf("line %d: ", line);
        return g_strdup("");
}

static void
prefix_error_line(const ParseState *ps, int line, GError **error)
{
        g_autofree char *prefix = error_prefix(ps, line);

        g_prefix_error(error, "%s", prefix);
}

static void
prefix_error(const ParseState *ps, const VmlockXmlNode *node, GError **error)
{
        prefix_error_line(ps, node ? vmlock_xml_node_get_line(node) : 0, error);
}

static void G_GNUC_PRINTF(4, 5)
xml_error(const ParseState *ps, const VmlockXmlNode *node, GError **error, const char *fmt,
          ...)
{
        g_autofree char *message = NULL;
        va_list args;

        va_start(args, fmt);
        message = g_strdup_vprintf(fmt, args);
        va_end(args);

        g_set_error_literal(error, VMLOCK_ERROR, VMLOCK_ERROR_XML, message);
        prefix_error(ps, node, error);
}

/* Text of the first child element @name; NULL if it is absent or empty (as
 * libvirt treats an empty element). */
static char *
child_text(const VmlockXmlNode *parent, const char *name, const VmlockXmlNode **ret_node)
{
        const VmlockXmlNode *child = vmlock_xml_node_get_child(parent, name);
        const char *text;

        if (ret_node)
                *ret_node = child;
        if (!child)
                return NULL;
        text = vmlock_xml_node_get_text(child);
        if (!*text)
                return NULL;
        return g_strdup(text);
}

static char *
node_attr(const VmlockXmlNode *node, const char *name)
{
        return g_strdup(vmlock_xml_node_get_attr(node, name));
}

/* Decimal digits only: no sign, no space, no empty string. */
static gboolean
parse_uint64(const char *str, guint64 *ret_value)
{
        guint64 value;
        char *end = NULL;

        if (!*str)
                return FALSE;
        for (const char *p = str; *p; p++) {
                if (!g_ascii_isdigit(*p))
                        return FALSE;
        }

        errno = 0;
        value = g_ascii_strtoull(str, &end, 10);
        if (errno != 0 || *end != '\0')
                return FALSE;

        *ret_value = value;
        return TRUE;
}

static gboolean
parse_domain_id(const ParseState *ps, const VmlockXmlNode *root, VmlockDomain *dom, GError **error)
{
        g_autofree char *id = node_attr(root, "id");
        gint64 value;

        if (!id)
                return TRUE;
        if (!g_ascii_string_to_signed(id, 10, -1, G_MAXINT, &value, NULL)) {
                g_autofree char *shown = vmlock_conf_abbrev(id);

                xml_error(ps, root, error, "invalid <domain id='%s'>: expected an integer",
                          shown);
                return FALSE;
        }
        dom->id = (int)value;
        return TRUE;
}

static gboolean
parse_on_lockfailure(const ParseState *ps, const VmlockXmlNode *root, VmlockDomain *dom,
                     GError **error)
{
        const VmlockXmlNode *node = NULL;
        g_autofree char *text = child_text(root, "on_lockfailure", &node);
        int action;

        if (!text)
                return TRUE;
        action = vmlock_lock_failure_action_from_string(text);
        if (action < 0) {
                g_autofree char *shown = vmlock_conf_abbrev(text);

                xml_error(ps, node, error,
                          "unknown <on_lockfailure> '%s': expected default, poweroff, "
                          "restart, pause or ignore", shown);
                return FALSE;
        }
        dom->on_lockfailure = action;
        return TRUE;
}

/* The first <seclabel> with a model; libvirt may write a dac one too. Its
 * <label> counts only with type='static', as libvirt reads a definition for a
 * new start: a dynamic label (type absent or 'dynamic') in a `virsh dumpxml`
 * of a running guest belongs to that run, and reusing its MCS categories
 * would let two guests share them. */
static void
parse_seclabel(const VmlockXmlNode *root, VmlockDomain *dom)
{
        for (const VmlockXmlNode *node = vmlock_xml_node_get_children(root); node;
             node = vmlock_xml_node_get_next(node)) {
                g_autofree char *model = NULL;
                g_autofree char *type = NULL;

                if (!vmlock_xml_node_is(node, "seclabel"))
                        continue;
                model = node_attr(node, "model");
                if (!model || !*model)
                        continue;
                type = node_attr(node, "type");
                dom->seclabel_model = g_steal_pointer(&model);
                if (g_strcmp0(type, "static") == 0)
                        dom->seclabel_label = child_text(node, "label", NULL);
                return;
        }
}

/* Which <source> attribute holds the path for each disk type. */
static const char *
source_attr_name(VmlockDiskType type)
{
        switch (type) {
        case VMLOCK_DISK_TYPE_FILE:
                return "file";
        case VMLOCK_DISK_TYPE_BLOCK:
                return "dev";
        case VMLOCK_DISK_TYPE_DIR:
                return "dir";
        case VMLOCK_DISK_TYPE_NETWORK:
                return "name";
        case VMLOCK_DISK_TYPE_VOLUME:
                break;
        }
        /* A volume names a pool and a volume: no path until it is resolved. */
        return NULL;
}

static VmlockDisk *
parse_disk(const ParseState *ps, const VmlockXmlNode *node, GError **error)
{
        g_autofree char *type_str = node_attr(node, "type");
        g_autofree char *device_str = node_attr(node, "device");
        g_autofree char *source = NULL;
        g_autofree char *target = NULL;
        int type = VMLOCK_DISK_TYPE_FILE;
        int device = VMLOCK_DISK_DEVICE_DISK;
        const VmlockXmlNode *child;
        const char *attr;
        VmlockDisk *disk;

        if (type_str) {
                type = vmlock_disk_type_from_string(type_str);
                if (type < 0) {
                        g_autofree char *shown = vmlock_conf_abbrev(type_str);

                        xml_error(ps, node, error,
                                  "unknown disk type '%s': expected file, block, dir, "
                                  "network or volume", shown);
                        return NULL;
                }
        }
        if (device_str) {
                device = vmlock_disk_device_from_string(device_str);
                if (device < 0) {
                        g_autofree char *shown = vmlock_conf_abbrev(device_str);

                        xml_error(ps, node, error,
                                  "unknown disk device '%s': expected disk, cdrom, floppy "
                                  "or lun", shown);
                        return NULL;
                }
        }

        child = vmlock_xml_node_get_child(node, "source");
        attr = source_attr_name(type);
        if (child && attr) {
                source = node_attr(child, attr);
                /* <source file=''/> means no medium, as in libvirt. */
                if (source && !*source)
                        g_clear_pointer(&source, g_free);
                if (!vmlock_disk_validate(type, source, VMLOCK_ERROR_XML, error)) {
                        prefix_error(ps, child, error);
                        return NULL;
                }
        }

        child = vmlock_xml_node_get_child(node, "target");
        if (child)
                target = node_attr(child, "dev");

        disk = vmlock_disk_new_take(type, device, g_steal_pointer(&source),
                                    g_steal_pointer(&target),
                                    vmlock_xml_node_get_child(node, "readonly") != NULL,
                                    vmlock_xml_node_get_child(node, "shareable") != NULL);
        /* Which backing chain QEMU opens depends on it. */
        child = vmlock_xml_node_get_child(node, "driver");
        if (child)
                disk->format = node_attr(child, "type");
        return disk;
}

static VmlockLease *
parse_lease(const ParseState *ps, const VmlockXmlNode *node, GError **error)
{
        g_autofree char *lockspace = child_text(node, "lockspace", NULL);
        g_autofree char *key = child_text(node, "key", NULL);
        g_autofree char *path = NULL;
        g_autofree char *offset_str = NULL;
        const VmlockXmlNode *target = vmlock_xml_node_get_child(node, "target");
        guint64 offset = 0;

        if (target) {
                path = node_attr(target, "path");
                offset_str = node_attr(target, "offset");
        }

        if (!vmlock_lease_validate(lockspace, key, path, VMLOCK_ERROR_XML, error)) {
                prefix_error(ps, node, error);
                return NULL;
        }

        if (offset_str && !parse_uint64(offset_str, &offset)) {
                g_autofree char *shown = vmlock_conf_abbrev(offset_str);

                xml_error(ps, target, error,
                          "lease '%s' has invalid offset '%s': expected a non-negative "
                          "integer", key, shown);
                return NULL;
        }

        return vmlock_lease_new_take(g_steal_pointer(&lockspace), g_steal_pointer(&key),
                                     g_steal_pointer(&path), offset);
}

static gboolean
parse_devices(const ParseState *ps, const VmlockXmlNode *devices, VmlockDomain *dom,
              GError **error)
{
        for (const VmlockXmlNode *node = vmlock_xml_node_get_children(devices); node;
             node = vmlock_xml_node_get_next(node)) {
                if (vmlock_xml_node_is(node, "disk")) {
                        VmlockDisk *disk = parse_disk(ps, node, error);

                        if (!disk)
                                return FALSE;
                        g_ptr_array_add(dom->disks, disk);
                } else if (vmlock_xml_node_is(node, "lease")) {
                        VmlockLease *lease = parse_lease(ps, node, error);

                        if (!lease)
                                return FALSE;
                        g_ptr_array_add(dom->leases, lease);
                }
        }
        return TRUE;
}

static VmlockDomain *
parse_domain(const ParseState *ps, const VmlockXmlNode *root, GError **error)
{
        g_autoptr(VmlockDomain) dom = vmlock_domain_alloc();
        const VmlockXmlNode *node = NULL;
        g_autofree char *uuid = NULL;

        if (!vmlock_xml_node_is(root, "domain")) {
                g_autofree char *shown = vmlock_conf_abbrev(vmlock_xml_node_get_name(root));
                const char *ns = vmlock_xml_node_get_namespace(root);

                if (ns)
                        xml_error(ps, root, error,
                                  "the root element is <%s> in namespace '%s', not <domain>",
                                  shown, ns);
                else
                        xml_error(ps, root, error, "the root element is <%s>, not <domain>",
                                  shown);
                return NULL;
        }

        if (!parse_domain_id(ps, root, dom, error))
                return NULL;

        dom->name = child_text(root, "name", &node);
        if (!dom->name) {
                if (node)
                        xml_error(ps, node, error, "<name> is empty");
                else
                        xml_error(ps, root, error, "<domain> has no <name>");
                return NULL;
        }

        /* An absent or empty <uuid> gets a random one, as libvirt does. */
        uuid = child_text(root, "uuid", &node);
        if (!vmlock_domain_set_uuid_internal(dom, uuid, VMLOCK_ERROR_XML, error)) {
                prefix_error(ps, node, error);
                return NULL;
        }

        if (!parse_on_lockfailure(ps, root, dom, error))
                return NULL;
        parse_seclabel(root, dom);

        for (node = vmlock_xml_node_get_children(root); node;
             node = vmlock_xml_node_get_next(node)) {
                if (vmlock_xml_node_is(node, "devices") && !parse_devices(ps, node, dom, error))
                        return NULL;
        }

        return g_steal_pointer(&dom);
}

VmlockDomain *
vmlock_domain_parse_string(const char *xml, gsize len, const char *filename, GError **error)
{
        ParseState ps = { .filename = filename };
        g_autoptr(VmlockXmlNode) root = NULL;
        int line = 0;

        VMLOCK_TRACE("xml=%p len=%" G_GSIZE_FORMAT " filename=%s", (const void *)xml, len,
                     VMLOCK_NULLSTR(filename));
        g_return_val_if_fail(xml != NULL || len == 0, NULL);

        if (len > DOMAIN_XML_MAX_SIZE) {
                xml_error(&ps, NULL, error,
                          "%" G_GSIZE_FORMAT " bytes is too large for a domain XML "
                          "(at most %d)", len, DOMAIN_XML_MAX_SIZE);
                return NULL;
        }

        /* GMarkup reads no external entity and loads no DTD: nothing but
         * these bytes is read. */
        root = vmlock_xml_tree_parse(xml ? xml : "", len, &line, error);
        if (!root) {
                prefix_error_line(&ps, line, error);
                return NULL;
        }

        return parse_domain(&ps, root, error);
}

/* Reads at most DOMAIN_XML_MAX_SIZE bytes without trusting st_size (pipes,
 * /proc files). */
static char *
read_file(const char *path, gsize *ret_len, GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();
        struct stat st;
        char *ret = NULL;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int errsv = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot open %s: %s", path,
                            g_strerror(errsv));
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                int errsv = errno;

                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot stat %s: %s", path,
                            g_strerror(errsv));
                goto cleanup;
        }
        if (S_ISDIR(st.st_mode)) {
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO,
                            "%s is a directory, not a domain XML file", path);
                goto cleanup;
        }

        for (;;) {
                guint8 chunk[65536];
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0) {
                        int errsv = errno;

                        if (errsv == EINTR)
                                continue;
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO, "cannot read %s: %s",
                                    path, g_strerror(errsv));
                        goto cleanup;
                }
                if (n == 0)
                        break;
                if (buf->len + (gsize)n > DOMAIN_XML_MAX_SIZE) {
                        g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML,
                                    "%s: too large for a domain XML (more than %d bytes)",
                                    path, DOMAIN_XML_MAX_SIZE);
                        goto cleanup;
                }
                g_byte_array_append(buf, chunk, (guint)n);
        }

        *ret_len = buf->len;
        g_byte_array_append(buf, (const guint8 *)"", 1);
        ret = (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);

cleanup:
        close(fd);
        return ret;
}

VmlockDomain *
vmlock_domain_parse_file(const char *path, GError **error)
{
        g_autofree char *xml = NULL;
        gsize len = 0;

        VMLOCK_TRACE("path=%s", VMLOCK_NULLSTR(path));
        g_return_val_if_fail(path != NULL, NULL);

        xml = read_file(path, &len, error);
        if (!xml)
                return NULL;
        return vmlock_domain_parse_string(xml, len, path, error);
}
