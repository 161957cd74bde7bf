/* vmlock: tests of the domain model and its libvirt domain XML parser. */
#include "config-build.h"

#include <string.h>

#include <glib/gstdio.h>

#include <vmlock/domain.h>
#include <vmlock/error.h>

#define assert_message_contains(err, needle)                                             \
        G_STMT_START {                                                                   \
                if (!strstr((err)->message, (needle)))                                   \
                        g_error("error message \"%s\" lacks \"%s\"", (err)->message,     \
                                (needle));                                               \
        } G_STMT_END

static char *
data_path(const char *name)
{
        const char *srcdir = g_getenv("VMLOCK_TEST_SRCDIR");

        g_assert_nonnull(srcdir);
        return g_build_filename(srcdir, "data", "domains", name, NULL);
}

static VmlockDomain *
parse_data(const char *name)
{
        g_autofree char *path = data_path(name);
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_parse_file(path, &error);

        g_assert_no_error(error);
        g_assert_nonnull(dom);
        return dom;
}

/* A domain with @devices inside <devices>, the name on line 2, devices from line 4. */
static char *
domain_with_devices(const char *devices)
{
        return g_strdup_printf("<domain type='kvm'>\n"
                               "  <name>t</name>\n"
                               "  <devices>\n"
                               "%s\n"
                               "  </devices>\n"
                               "</domain>\n",
                               devices);
}

/* Parses @xml as "bad.xml", expects a VMLOCK_ERROR_XML naming @needle. */
static void
assert_xml_error(const char *xml, const char *needle)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_parse_string(xml, strlen(xml), "bad.xml", &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        g_test_message("error: %s", error->message);
        g_assert_true(g_str_has_prefix(error->message, "bad.xml:"));
        assert_message_contains(error, needle);
}

static void
assert_devices_error(const char *devices, const char *needle)
{
        g_autofree char *xml = domain_with_devices(devices);

        assert_xml_error(xml, needle);
}

static VmlockDomain *
parse_devices_ok(const char *devices)
{
        g_autofree char *xml = domain_with_devices(devices);
        g_autoptr(GError) error = NULL;
        VmlockDomain *dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);

        g_assert_no_error(error);
        g_assert_nonnull(dom);
        return dom;
}

static void
assert_disk(const VmlockDisk *disk, VmlockDiskType type, VmlockDiskDevice device,
            const char *source, const char *target, gboolean readonly, gboolean shareable)
{
        g_assert_nonnull(disk);
        g_assert_cmpint(vmlock_disk_get_type(disk), ==, type);
        g_assert_cmpint(vmlock_disk_get_device(disk), ==, device);
        g_assert_cmpstr(vmlock_disk_get_source(disk), ==, source);
        g_assert_cmpstr(vmlock_disk_get_target(disk), ==, target);
        g_assert_cmpint(vmlock_disk_get_readonly(disk), ==, readonly);
        g_assert_cmpint(vmlock_disk_get_shareable(disk), ==, shareable);
}

static void
assert_lease(const VmlockLease *lease, const char *lockspace, const char *key,
             const char *path, guint64 offset)
{
        g_assert_nonnull(lease);
        g_assert_cmpstr(vmlock_lease_get_lockspace(lease), ==, lockspace);
        g_assert_cmpstr(vmlock_lease_get_key(lease), ==, key);
        g_assert_cmpstr(vmlock_lease_get_path(lease), ==, path);
        g_assert_cmpuint(vmlock_lease_get_offset(lease), ==, offset);
}

static void
assert_canonical_uuid(const char *uuid)
{
        g_assert_nonnull(uuid);
        g_assert_cmpuint(strlen(uuid), ==, 36);
        g_assert_true(g_uuid_string_is_valid(uuid));
        for (const char *p = uuid; *p; p++)
                g_assert_false(g_ascii_isupper(*p));
}

/* Good documents */

static void
test_xml_typical(void)
{
        g_autoptr(VmlockDomain) dom = parse_data("typical.xml");
        static const guint8 uuid[16] = { 0x4d, 0xea, 0x22, 0xb3, 0x1d, 0x52, 0xd8, 0xf3,
                                         0x25, 0x16, 0x78, 0x2e, 0x98, 0xab, 0x3f, 0xa0 };

        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "web01");
        g_assert_cmpstr(vmlock_domain_get_uuid_string(dom), ==,
                        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        g_assert_cmpmem(vmlock_domain_get_uuid(dom), 16, uuid, 16);
        g_assert_cmpint(vmlock_domain_get_id(dom), ==, 7);
        g_assert_cmpint(vmlock_domain_get_pid(dom), ==, 0);
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==, VMLOCK_LOCK_FAILURE_PAUSE);
        g_assert_cmpstr(vmlock_domain_get_seclabel_model(dom), ==, "selinux");
        /* A dynamic label is the old run's (dumped live XML): not reused. */
        g_assert_null(vmlock_domain_get_seclabel_label(dom));

        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 6);
        /* The top image only: the backing store's <source> is not the disk's. */
        assert_disk(vmlock_domain_get_disk(dom, 0), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/var/lib/libvirt/images/web01.qcow2", "vda",
                    FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 1), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_CDROM,
                    "/var/lib/libvirt/iso/debian-12.5.0-amd64-netinst.iso", "sda", TRUE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 2), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_CDROM, NULL, "sdb", TRUE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 3), VMLOCK_DISK_TYPE_BLOCK,
                    VMLOCK_DISK_DEVICE_DISK, "/dev/mapper/vg_shared-web01_data", "vdb", FALSE,
                    TRUE);
        assert_disk(vmlock_domain_get_disk(dom, 4), VMLOCK_DISK_TYPE_NETWORK,
                    VMLOCK_DISK_DEVICE_DISK, "rbd-pool/web01-logs", "vdc", FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 5), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/srv/shared/reference-data.img", "vdd", TRUE,
                    FALSE);

        /* <driver type>: which backing chain QEMU opens. */
        g_assert_cmpstr(vmlock_disk_get_format(vmlock_domain_get_disk(dom, 0)), ==, "qcow2");
        g_assert_cmpstr(vmlock_disk_get_format(vmlock_domain_get_disk(dom, 1)), ==, "raw");
        {
                g_autoptr(VmlockDisk) copy = vmlock_disk_copy(vmlock_domain_get_disk(dom, 0));

                g_assert_cmpstr(vmlock_disk_get_format(copy), ==, "qcow2");
        }

        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 2);
        assert_lease(vmlock_domain_get_lease(dom, 0), "web-cluster", "web01-config",
                     "/var/lib/libvirt/sanlock/web-cluster", 1048576);
        assert_lease(vmlock_domain_get_lease(dom, 1), NULL, "web01-state",
                     "/var/lib/libvirt/sanlock/web01-state", 0);
}

static void
test_xml_full(void)
{
        g_autoptr(VmlockDomain) dom = parse_data("full.xml");

        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "db-primary");
        /* Whitespace around the uuid is fine. */
        g_assert_cmpstr(vmlock_domain_get_uuid_string(dom), ==,
                        "7b1c9a40-55e2-4c1e-8a3f-0d6c2b9e41aa");
        g_assert_cmpint(vmlock_domain_get_id(dom), ==, -1);
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==,
                        VMLOCK_LOCK_FAILURE_POWEROFF);
        /* The first <seclabel> with a model; this one has no label. */
        g_assert_cmpstr(vmlock_domain_get_seclabel_model(dom), ==, "apparmor");
        g_assert_null(vmlock_domain_get_seclabel_label(dom));

        /* The foreign-namespace <app2:disk> in <metadata> is not a disk. */
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 6);
        assert_disk(vmlock_domain_get_disk(dom, 0), VMLOCK_DISK_TYPE_VOLUME,
                    VMLOCK_DISK_DEVICE_DISK, NULL, "vda", FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 1), VMLOCK_DISK_TYPE_BLOCK,
                    VMLOCK_DISK_DEVICE_LUN, "/dev/disk/by-id/wwn-0x600508b1001c4d5e", "sda",
                    FALSE, TRUE);
        assert_disk(vmlock_domain_get_disk(dom, 2), VMLOCK_DISK_TYPE_DIR,
                    VMLOCK_DISK_DEVICE_FLOPPY, "/srv/floppy/drivers", "fda", TRUE, FALSE);
        /* No type= means file. */
        assert_disk(vmlock_domain_get_disk(dom, 3), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/var/lib/libvirt/images/db-primary-data.raw",
                    "vdb", FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 4), VMLOCK_DISK_TYPE_NETWORK,
                    VMLOCK_DISK_DEVICE_CDROM, "/isos/rescue.iso", "sdb", TRUE, FALSE);
        /* <source file=''/> is an empty drive. */
        assert_disk(vmlock_domain_get_disk(dom, 5), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_CDROM, NULL, "sdc", TRUE, FALSE);

        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 1);
        /* CDATA is text like any other. */
        assert_lease(vmlock_domain_get_lease(dom, 0), "db-cluster", "db-primary",
                     "/dev/vg_leases/db-cluster", 0);
}

static void
test_xml_seclabel_types(void)
{
        static const struct {
                const char *seclabel;
                const char *label;
        } cases[] = {
                { "<seclabel type='static' model='selinux'><label>u:r:t:s0:c1,c2</label>"
                  "</seclabel>", "u:r:t:s0:c1,c2" },
                { "<seclabel type='dynamic' model='selinux'><label>u:r:t:s0:c1,c2</label>"
                  "</seclabel>", NULL },
                { "<seclabel model='selinux'><label>u:r:t:s0:c1,c2</label></seclabel>", NULL },
                { "<seclabel type='none' model='selinux'><label>u:r:t:s0</label></seclabel>",
                  NULL },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *xml = g_strdup_printf("<domain><name>g</name>%s</domain>",
                                                       cases[i].seclabel);
                g_autoptr(VmlockDomain) dom = vmlock_domain_parse_string(xml, strlen(xml),
                                                                         NULL, &error);

                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_domain_get_seclabel_model(dom), ==, "selinux");
                g_assert_cmpstr(vmlock_domain_get_seclabel_label(dom), ==, cases[i].label);
        }
}

static void
test_xml_minimal(void)
{
        g_autoptr(VmlockDomain) dom = parse_data("minimal.xml");
        g_autoptr(VmlockDomain) again = parse_data("minimal.xml");

        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "tiny");
        g_assert_cmpint(vmlock_domain_get_id(dom), ==, -1);
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==,
                        VMLOCK_LOCK_FAILURE_DEFAULT);
        g_assert_null(vmlock_domain_get_seclabel_model(dom));
        g_assert_null(vmlock_domain_get_seclabel_label(dom));
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 0);
        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 0);

        /* No <uuid>: a random one, different each time. */
        assert_canonical_uuid(vmlock_domain_get_uuid_string(dom));
        g_assert_cmpstr(vmlock_domain_get_uuid_string(dom), !=,
                        vmlock_domain_get_uuid_string(again));
}

static void
test_xml_uuid_forms(void)
{
        static const char *const forms[] = {
                "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
                "4dea22b31d52d8f32516782e98ab3fa0",
                "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0",
                "  4dea22b3-1d52-d8f3-2516-782e98ab3fa0\n",
                "4d-ea-22-b3-1d-52-d8-f3-25-16-78-2e-98-ab-3f-a0",
                "-4dea22b3--1d52d8f3-2516782e98ab3fa0",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(forms); i++) {
                g_autofree char *xml = g_strdup_printf(
                        "<domain><name>u</name><uuid>%s</uuid></domain>", forms[i]);
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockDomain) dom = NULL;

                dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_domain_get_uuid_string(dom), ==,
                                "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        }
}

static void
test_xml_lockfailure_values(void)
{
        static const struct {
                const char *xml;
                VmlockLockFailureAction action;
        } cases[] = {
                { "default", VMLOCK_LOCK_FAILURE_DEFAULT },
                { "poweroff", VMLOCK_LOCK_FAILURE_POWEROFF },
                { "restart", VMLOCK_LOCK_FAILURE_RESTART },
                { "pause", VMLOCK_LOCK_FAILURE_PAUSE },
                { "ignore", VMLOCK_LOCK_FAILURE_IGNORE },
                { "", VMLOCK_LOCK_FAILURE_DEFAULT },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *xml = g_strdup_printf(
                        "<domain><name>l</name><on_lockfailure>%s</on_lockfailure></domain>",
                        cases[i].xml);
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockDomain) dom = NULL;

                dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==, cases[i].action);
        }
}

static void
test_xml_limits_ok(void)
{
        g_autofree char *key = g_strnfill(VMLOCK_NAME_MAX, 'k');
        g_autofree char *space = g_strnfill(VMLOCK_NAME_MAX, 's');
        g_autofree char *path = g_strnfill(VMLOCK_PATH_MAX, '/');
        g_autofree char *devices = g_strdup_printf(
                "<disk type='block'><source dev='%s'/></disk>"
                "<lease><lockspace>%s</lockspace><key>%s</key>"
                "<target path='%s' offset='18446744073709551615'/></lease>",
                path, space, key, path);
        g_autoptr(VmlockDomain) dom = parse_devices_ok(devices);

        assert_disk(vmlock_domain_get_disk(dom, 0), VMLOCK_DISK_TYPE_BLOCK,
                    VMLOCK_DISK_DEVICE_DISK, path, NULL, FALSE, FALSE);
        assert_lease(vmlock_domain_get_lease(dom, 0), space, key, path, G_MAXUINT64);
}

static void
test_xml_ignores_foreign(void)
{
        /* Disks and leases only count as direct children of <devices>. */
        g_autoptr(VmlockDomain) dom = parse_devices_ok(
                "<hostdev><disk type='file'><source file='/no'/></disk></hostdev>"
                "<x:lease xmlns:x='urn:x'><x:key>no</x:key></x:lease>"
                "<disk type='file'><source file='/yes'/><source file='/second'/></disk>");

        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 1);
        g_assert_cmpstr(vmlock_disk_get_source(vmlock_domain_get_disk(dom, 0)), ==, "/yes");
        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 0);
}

/* A cdrom or floppy is read-only even without <readonly/> (libvirt forces
 * cdroms so): it gets a shared lease. */
static void
test_xml_removable_readonly(void)
{
        g_autoptr(VmlockDomain) dom = parse_devices_ok(
                "<disk type='file' device='cdrom'><source file='/iso'/></disk>"
                "<disk type='file' device='floppy'><source file='/fd'/></disk>"
                "<disk type='file' device='disk'><source file='/hd'/></disk>");
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDisk) made = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                     VMLOCK_DISK_DEVICE_CDROM, "/iso", FALSE,
                                                     FALSE, &error);

        g_assert_no_error(error);
        assert_disk(vmlock_domain_get_disk(dom, 0), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_CDROM, "/iso", NULL, TRUE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 1), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_FLOPPY, "/fd", NULL, TRUE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 2), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/hd", NULL, FALSE, FALSE);
        g_assert_true(vmlock_disk_get_readonly(made));
}

static void
test_xml_no_filename(void)
{
        const char *xml = "<domain>\n<name>n</name>\n<uuid>nope</uuid>\n</domain>";
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_parse_string(xml, strlen(xml), NULL,
                                                                 &error);

        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        g_assert_true(g_str_has_prefix(error->message, "line 3: "));
        assert_message_contains(error, "'nope'");
}

/* What XML allows that libvirt does not write, read as libvirt's libxml2 does. */
static void
test_xml_syntax_ok(void)
{
        const char *xml =
                "<?xml version='1.0' encoding='UTF-8'?>\n"
                "<!-- written by hand -->\n"
                "<?xml-stylesheet href='domain.xsl'?>\n"
                "<domain type=\"kvm\">\n"
                "  <name><![CDATA[a<b>&c]]></name>\n"
                "  <!-- a comment between elements -->\n"
                "  <uuid>4dea22b3-<!-- inside -->1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
                "  <on_lockfailure>pa<![CDATA[us]]>e</on_lockfailure>\n"
                "  <devices>\n"
                "    <?pi ignored?>\n"
                "    <disk type='file'><source file='/a&amp;b&lt;&#x63;&#100;&quot;&apos;.img'/>"
                "<target dev=\"vda\"/></disk>\n"
                "    <disk type='file'><source file=\"/it's.img\"/></disk>\n"
                "    <disk type='block'><source\n      dev='/dev/sdb'\n    />"
                "<readonly></readonly></disk>\n"
                "    <lease><lockspace>s&amp;p</lockspace><key>k&#233;</key>"
                "<target path='/l' offset='1&#48;'/></lease>\n"
                "  </devices>\n"
                "</domain>\n"
                "<!-- trailing comment -->\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "a<b>&c");
        g_assert_cmpstr(vmlock_domain_get_uuid_string(dom), ==,
                        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==, VMLOCK_LOCK_FAILURE_PAUSE);
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 3);
        assert_disk(vmlock_domain_get_disk(dom, 0), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/a&b<cd\"'.img", "vda", FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 1), VMLOCK_DISK_TYPE_FILE,
                    VMLOCK_DISK_DEVICE_DISK, "/it's.img", NULL, FALSE, FALSE);
        assert_disk(vmlock_domain_get_disk(dom, 2), VMLOCK_DISK_TYPE_BLOCK,
                    VMLOCK_DISK_DEVICE_DISK, "/dev/sdb", NULL, TRUE, FALSE);
        assert_lease(vmlock_domain_get_lease(dom, 0), "s&p", "k\303\251", "/l", 10);
}

/* Text is taken as written, but whitespace alone before markup is dropped
 * unless it is all the element holds or text came first, as libxml2 read it
 * with XML_PARSE_NOBLANKS; xml:space='preserve' keeps it. */
static void
test_xml_whitespace(void)
{
        static const struct {
                const char *name_content;
                const char *name;
        } cases[] = {
                { "  <!-- c -->x", "x" },
                { "\n  <?pi?>\n  x\n", "\n  x\n" },
                { "  <b/>x", "x" },
                { "  <![CDATA[x]]>", "x" },
                { "<![CDATA[x]]>  <b/>y", "x  y" },
                { "a<b/>  <c/>d", "a  d" },
                { "x<!-- c -->  ", "x  " },
                { "<b/>  <c/>  x", "  x" },
                { "   ", "   " },
                { "a\r\nb<![CDATA[\r\nc\rd]]>", "a\nb\nc\nd" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *xml = g_strdup_printf("<domain><name>%s</name></domain>",
                                                       cases[i].name_content);
                g_autofree char *preserved = g_strdup_printf(
                        "<domain><name xml:space='preserve'>%s</name></domain>",
                        cases[i].name_content);
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockDomain) dom = NULL;
                g_autoptr(VmlockDomain) dom_preserved = NULL;

                dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_domain_get_name(dom), ==, cases[i].name);
                dom_preserved = vmlock_domain_parse_string(preserved, strlen(preserved), NULL,
                                                           &error);
                g_assert_no_error(error);
                if (g_str_has_prefix(cases[i].name_content, "  <"))
                        g_assert_true(g_str_has_prefix(vmlock_domain_get_name(dom_preserved),
                                                       "  "));
        }
}

/* Attribute values have their line breaks and tabs made spaces, as XML says. */
static void
test_xml_attribute_whitespace(void)
{
        const char *xml = "<domain><name> two words\n</name>"
                          "<devices><lease><key>k</key>"
                          "<target path='/a\n\tb'/></lease></devices></domain>";
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_parse_string(xml, strlen(xml), NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, " two words\n");
        g_assert_cmpstr(vmlock_lease_get_path(vmlock_domain_get_lease(dom, 0)), ==, "/a  b");
}

/* A default namespace makes elements foreign, as a prefix does. */
static void
test_xml_default_namespace(void)
{
        g_autoptr(VmlockDomain) dom = parse_devices_ok(
                "<disk xmlns='urn:other' type='file'><source file='/no'/></disk>"
                "<x:wrap xmlns:x='urn:x' xmlns='urn:y'><disk type='file'/></x:wrap>"
                "<disk xmlns='' type='file'><source file='/yes'/></disk>");

        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 1);
        g_assert_cmpstr(vmlock_disk_get_source(vmlock_domain_get_disk(dom, 0)), ==, "/yes");
        assert_xml_error("<domain xmlns='urn:v'><name>x</name></domain>",
                         "bad.xml:1: the root element is <domain> in namespace 'urn:v', not "
                         "<domain>");
}

/* Bad documents: one case per error, each naming its culprit. */

static void
test_xml_not_xml(void)
{
        const char *xml = "<domain>\n<name>x</name>\n<devices>\n</domain>\n";

        /* GMarkup's own words and the line it stopped on. */
        assert_xml_error(xml, "bad.xml:4: not well-formed XML: ");
        assert_xml_error(xml, "was closed, but the currently open element is");
        assert_xml_error("this is not XML", "bad.xml:1: not well-formed XML: ");
        assert_xml_error("this is not XML", "must begin with an element");
}

static void
test_xml_malformed(void)
{
        static const struct {
                const char *xml;
                const char *needle;
        } cases[] = {
                /* Unclosed, mismatched, unterminated. */
                { "<domain>\n<name>x</name>\n", "bad.xml:3: not well-formed XML: " },
                { "<domain>\n<name>x</nam>\n</domain>", "bad.xml:2: not well-formed XML: " },
                { "<domain>\n<name>x</name>\n<devices\n", "bad.xml:4: not well-formed XML: " },
                { "<domain>\n<name>x<!-- open\n</name></domain>", "bad.xml:3: not well-formed" },
                { "<domain><name a='1>x</name></domain>", "bad.xml:1: not well-formed XML: " },
                { "<domain><name a=1>x</name></domain>", "bad.xml:1: not well-formed XML: " },
                /* Two roots, or junk after the root. */
                { "<domain><name>x</name></domain>\n<domain/>",
                  "bad.xml:2: not well-formed XML: element <domain> after the end of the "
                  "root element <domain>" },
                { "<domain><name>x</name></domain>\n\njunk",
                  "bad.xml:3: not well-formed XML: text after the end of the root element "
                  "<domain>" },
                /* Comments only: no root. */
                { "<!-- nothing -->\n", "bad.xml: not well-formed XML: no root element" },
                /* Entities: unknown, a bad character reference, a stray '&'. */
                { "<domain>\n<name>&nbsp;</name></domain>", "bad.xml:2: not well-formed XML: " },
                { "<domain>\n\n<name>&#0;</name></domain>", "bad.xml:3: not well-formed XML: " },
                { "<domain><name>a & b</name></domain>", "bad.xml:1: not well-formed XML: " },
                { "<domain><name>a\n&bad;\nb\n</name></domain>",
                  "bad.xml:2: not well-formed XML: " },
                /* Libvirt would refuse it too. */
                { "<domain>\n<devices><disk type='file' type='block'/></devices></domain>",
                  "bad.xml:2: not well-formed XML: attribute 'type' given twice in <disk>" },
                /* An XML declaration anywhere but at the very start. */
                { "\n<?xml version='1.0'?><domain><name>x</name></domain>",
                  "bad.xml:2: not well-formed XML: the XML declaration is allowed only at "
                  "the start" },
                { "<domain><?xml version='1.0'?><name>x</name></domain>",
                  "not well-formed XML: the XML declaration is allowed only at the start" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
                assert_xml_error(cases[i].xml, cases[i].needle);
}

static void
test_xml_too_deep(void)
{
        GString *xml = g_string_new("<domain><name>x</name>");

        for (int i = 0; i < 300; i++)
                g_string_append(xml, "<a>");
        assert_xml_error(xml->str, "bad.xml:1: not well-formed XML: elements nested more "
                                   "than 256 deep");
        g_string_free(xml, TRUE);
}

/* Only UTF-8: libvirt writes nothing else, and GMarkup reads nothing else. */
static void
test_xml_encoding(void)
{
        static const char *const good[] = {
                "<?xml version='1.0' encoding='UTF-8'?>\n<domain><name>x\303\251</name></domain>",
                "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?><domain><name>x\303\251</name></domain>",
                "<?xml version='1.0'?><domain><name>x\303\251</name></domain>",
                /* A byte order mark says UTF-8 too. */
                "\357\273\277<domain><name>x\303\251</name></domain>",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VmlockDomain) dom = vmlock_domain_parse_string(good[i],
                                                                         strlen(good[i]), NULL,
                                                                         &error);

                g_assert_no_error(error);
                g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "x\303\251");
        }

        assert_xml_error("<?xml version='1.0' encoding='ISO-8859-1'?>\n"
                         "<domain><name>x</name></domain>",
                         "bad.xml:1: the encoding 'ISO-8859-1' is not supported: a domain "
                         "XML is UTF-8");
        assert_xml_error("<?xml version='1.0' encoding='UTF-16'?><domain><name>x</name></domain>",
                         "bad.xml:1: the encoding 'UTF-16' is not supported");
        assert_xml_error("<?xml version='1.0' encoding=UTF-8?><domain><name>x</name></domain>",
                         "bad.xml:1: not well-formed XML: malformed encoding");
        /* Latin-1 bytes, undeclared: the line of the first bad byte. */
        assert_xml_error("<domain>\n<name>caf\351</name></domain>",
                         "bad.xml:2: not well-formed XML: not valid UTF-8");
        assert_xml_error("\377\376<\000d\000", "bad.xml:1: not well-formed XML: not valid UTF-8");
}

static void
test_xml_nul_byte(void)
{
        static const char xml[] = "<domain>\n<name>x\0y</name></domain>";
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        dom = vmlock_domain_parse_string(xml, sizeof(xml) - 1, "bad.xml", &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        g_assert_cmpstr(error->message, ==, "bad.xml:2: not well-formed XML: a NUL byte");
}

static void
test_xml_control_char(void)
{
        assert_xml_error("<domain>\n<name>x\001y</name></domain>",
                         "bad.xml:2: not well-formed XML: a control character (0x01) in "
                         "<name>");
        assert_xml_error("<domain><name>x</name><devices>\n<disk><source file='/a\033b'/>"
                         "</disk></devices></domain>",
                         "bad.xml:2: not well-formed XML: a control character (0x1b) in "
                         "attribute 'file' of <source>");
        assert_xml_error("<domain>\n<name>x\n&#1;y\n\n</name></domain>",
                         "bad.xml:3: not well-formed XML: a control character (0x01) in "
                         "<name>");
        assert_xml_error("<domain>\n<name>x&#1;y</name></domain>",
                         "bad.xml:2: not well-formed XML: a control character (0x01) in "
                         "<name>");
}

static void
test_xml_empty(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = vmlock_domain_parse_string("", 0, "empty.xml", &error);

        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        assert_message_contains(error, "empty.xml");
}

static void
test_xml_not_domain(void)
{
        assert_xml_error("<network><name>default</name></network>", "<network>");
        assert_xml_error("<v:domain xmlns:v='urn:v'><name>x</name></v:domain>", "<v:domain>");
}

static void
test_xml_no_name(void)
{
        assert_xml_error("<domain type='kvm'>\n<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
                         "</uuid>\n</domain>",
                         "bad.xml:1: <domain> has no <name>");
}

static void
test_xml_empty_name(void)
{
        assert_xml_error("<domain>\n  <name></name>\n</domain>", "bad.xml:2: <name> is empty");
        /* GMarkup alone would count lines from the second here. */
        assert_xml_error("\n<domain>\n  <name></name>\n</domain>", "bad.xml:3: <name> is empty");
        assert_xml_error("\n\n<domain>\n  <name></name>\n</domain>",
                         "bad.xml:4: <name> is empty");
}

static void
test_xml_bad_uuid(void)
{
        assert_xml_error("<domain>\n<name>x</name>\n<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa"
                         "</uuid>\n</domain>",
                         "bad.xml:3: invalid uuid '4dea22b3-1d52-d8f3-2516-782e98ab3fa'");
        assert_xml_error("<domain><name>x</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0a"
                         "</uuid></domain>",
                         "'4dea22b3-1d52-d8f3-2516-782e98ab3fa0a'");
        assert_xml_error("<domain><name>x</name><uuid>gdea22b3-1d52-d8f3-2516-782e98ab3fa0"
                         "</uuid></domain>",
                         "'gdea22b3-1d52-d8f3-2516-782e98ab3fa0'");
        /* A dash may not split a byte. */
        assert_xml_error("<domain><name>x</name><uuid>4-dea22b31d52d8f32516782e98ab3fa0"
                         "</uuid></domain>",
                         "'4-dea22b31d52d8f32516782e98ab3fa0'");
        assert_xml_error("<domain><name>x</name><uuid>4dea22b3 1d52d8f32516782e98ab3fa0"
                         "</uuid></domain>",
                         "'4dea22b3 1d52d8f32516782e98ab3fa0'");
}

static void
test_xml_bad_id(void)
{
        assert_xml_error("<domain id='seven'><name>x</name></domain>", "'seven'");
        assert_xml_error("<domain id='-2'><name>x</name></domain>", "'-2'");
        assert_xml_error("<domain id='99999999999'><name>x</name></domain>", "'99999999999'");
}

static void
test_xml_bad_lockfailure(void)
{
        assert_xml_error("<domain>\n<name>x</name>\n<on_lockfailure>explode</on_lockfailure>"
                         "\n</domain>",
                         "bad.xml:3: unknown <on_lockfailure> 'explode'");
}

static void
test_xml_bad_disk_type(void)
{
        assert_devices_error("<disk type='nvme' device='disk'/>", "bad.xml:4: unknown disk type 'nvme'");
}

static void
test_xml_bad_disk_device(void)
{
        assert_devices_error("<disk type='file' device='tape'/>",
                             "bad.xml:4: unknown disk device 'tape'");
}

static void
test_xml_lease_no_key(void)
{
        assert_devices_error("<lease><target path='/leases/a'/></lease>",
                             "bad.xml:4: lease has no key");
        assert_devices_error("<lease><key></key><target path='/leases/a'/></lease>",
                             "lease has no key");
}

static void
test_xml_lease_no_path(void)
{
        assert_devices_error("<lease><key>k1</key></lease>",
                             "bad.xml:4: lease 'k1' has no target path");
        assert_devices_error("<lease><key>k2</key><target offset='0'/></lease>",
                             "lease 'k2' has no target path");
        assert_devices_error("<lease><key>k3</key><target path=''/></lease>",
                             "lease 'k3' has no target path");
}

static void
test_xml_key_too_long(void)
{
        g_autofree char *key = g_strnfill(VMLOCK_NAME_MAX + 1, 'k');
        g_autofree char *devices = g_strdup_printf(
                "<lease><key>%s</key><target path='/l'/></lease>", key);
        g_autofree char *needle = g_strdup_printf("lease key '%s' is 48 bytes long", key);

        assert_devices_error(devices, needle);
}

static void
test_xml_lockspace_too_long(void)
{
        g_autofree char *space = g_strnfill(VMLOCK_NAME_MAX + 1, 's');
        g_autofree char *devices = g_strdup_printf(
                "<lease><lockspace>%s</lockspace><key>k</key><target path='/l'/></lease>",
                space);
        g_autofree char *needle = g_strdup_printf("lease lockspace '%s' is 48 bytes long",
                                                  space);

        assert_devices_error(devices, needle);
}

static void
test_xml_bad_offset(void)
{
        static const char *const offsets[] = {
                "12abc", "-1", "", " 1", "1 ", "+1", "0x10", "1e3", "18446744073709551616",
                "99999999999999999999999",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(offsets); i++) {
                g_autofree char *devices = g_strdup_printf(
                        "<lease><key>k</key>\n<target path='/l' offset='%s'/></lease>",
                        offsets[i]);
                g_autofree char *needle = g_strdup_printf(
                        "bad.xml:5: lease 'k' has invalid offset '%s'", offsets[i]);

                assert_devices_error(devices, needle);
        }
}

static void
test_xml_source_too_long(void)
{
        g_autofree char *path = g_strnfill(VMLOCK_PATH_MAX + 1, 'p');
        g_autofree char *devices = g_strdup_printf(
                "<disk type='file'>\n<source file='%s'/></disk>", path);

        /* Long values are shortened in the message, but the start is there. */
        assert_devices_error(devices, "bad.xml:5: disk source 'pppppppppp");
        assert_devices_error(devices, "1024 bytes long");
}

static void
test_xml_relative_disk_path(void)
{
        static const char *const relative[] = {
                "<disk type='file'>\n<source file='x.img'/></disk>",
                "<disk type='file'>\n<source file='./x.img'/></disk>",
                "<disk type='block'>\n<source dev='dev/sdb'/></disk>",
                "<disk type='dir'>\n<source dir='../share'/></disk>",
        };
        static const char *const needle[] = {
                "bad.xml:5: disk path 'x.img' must be absolute",
                "bad.xml:5: disk path './x.img' must be absolute",
                "bad.xml:5: disk path 'dev/sdb' must be absolute",
                "bad.xml:5: disk path '../share' must be absolute",
        };
        g_autoptr(VmlockDomain) dom = NULL;

        for (gsize i = 0; i < G_N_ELEMENTS(relative); i++)
                assert_devices_error(relative[i], needle[i]);

        /* A network disk's source is a name (pool/image), not a host path. */
        dom = parse_devices_ok("<disk type='network'><source protocol='rbd' "
                               "name='pool/image'/></disk>");
        g_assert_cmpstr(vmlock_disk_get_source(vmlock_domain_get_disk(dom, 0)), ==,
                        "pool/image");
}

static void
test_xml_lease_path_too_long(void)
{
        g_autofree char *path = g_strnfill(VMLOCK_PATH_MAX + 1, 'p');
        g_autofree char *devices = g_strdup_printf(
                "<lease><key>big</key><target path='%s'/></lease>", path);

        assert_devices_error(devices, "lease 'big' target path 'pppppppppp");
        assert_devices_error(devices, "1024 bytes long");
}

static void
test_xml_doctype(void)
{
        /* Entities are neither expanded nor accepted. */
        assert_xml_error("<?xml version='1.0'?>\n"
                         "<!DOCTYPE domain [ <!ENTITY n 'evil'> ]>\n"
                         "<domain><name>&n;</name></domain>",
                         "DOCTYPE");
        assert_xml_error("<!DOCTYPE domain [ <!ENTITY x SYSTEM 'file:///etc/passwd'> ]>\n"
                         "<domain><name>&x;</name></domain>",
                         "DOCTYPE");
        assert_xml_error("<!DOCTYPE domain SYSTEM 'http://example.com/domain.dtd'>\n"
                         "<domain><name>x</name></domain>",
                         "DOCTYPE");
        /* Without a DOCTYPE an entity is undefined. */
        assert_xml_error("<domain><name>&x;</name></domain>", "not well-formed XML");
}

static void
test_xml_too_large(void)
{
        gsize len = 16 * 1024 * 1024 + 1;
        g_autofree char *big = g_malloc(len);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;

        memset(big, ' ', len);
        dom = vmlock_domain_parse_string(big, len, "big.xml", &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        assert_message_contains(error, "big.xml");
        assert_message_contains(error, "too large");
}

static void
test_xml_file_errors(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autofree char *dir = data_path("");

        dom = vmlock_domain_parse_file("/nonexistent/guest.xml", &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_contains(error, "/nonexistent/guest.xml");
        g_clear_error(&error);

        dom = vmlock_domain_parse_file(dir, &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_IO);
        assert_message_contains(error, "directory");
}

static void
test_xml_file_prefix(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) dom = NULL;
        g_autofree char *tmpdir = g_dir_make_tmp("vmlock-test-XXXXXX", &error);
        g_autofree char *path = NULL;
        g_autofree char *expected = NULL;

        g_assert_no_error(error);
        path = g_build_filename(tmpdir, "guest.xml", NULL);
        g_file_set_contents(path, "<domain>\n<name>g</name>\n<devices>\n<lease>\n"
                            "<key>k</key>\n</lease></devices></domain>\n", -1, &error);
        g_assert_no_error(error);

        dom = vmlock_domain_parse_file(path, &error);
        g_assert_null(dom);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_XML);
        expected = g_strdup_printf("%s:4: lease 'k' has no target path", path);
        g_assert_cmpstr(error->message, ==, expected);

        g_unlink(path);
        g_rmdir(tmpdir);
}

static void
test_xml_quiet(void)
{
        if (g_test_subprocess()) {
                static const char *const bad[] = {
                        "<domain><name>x</name>",
                        "<domain><name>x</name></domain><extra/>",
                        "<domain><a:b/><name>x</name></domain>",
                        "<?xml version='1.0' encoding='nope'?><domain/>",
                        "\xff\xfe<\0d\0",
                };

                for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                        g_autoptr(GError) error = NULL;
                        g_autoptr(VmlockDomain) dom = NULL;

                        dom = vmlock_domain_parse_string(bad[i], strlen(bad[i]), NULL,
                                                         &error);
                        (void)dom;
                }
                return;
        }

        /* The parser prints nothing: the caller decides what to show. */
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stderr("");
        g_test_trap_assert_stdout("");
}

/* The model, built by hand */

static void
test_domain_new(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDomain) a = vmlock_domain_new("a", NULL, &error);
        g_autoptr(VmlockDomain) b = NULL;
        g_autoptr(VmlockDomain) c = NULL;

        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_domain_get_name(a), ==, "a");
        assert_canonical_uuid(vmlock_domain_get_uuid_string(a));
        g_assert_cmpint(vmlock_domain_get_id(a), ==, -1);
        g_assert_cmpint(vmlock_domain_get_pid(a), ==, 0);
        g_assert_cmpuint(vmlock_domain_get_n_disks(a), ==, 0);
        g_assert_cmpuint(vmlock_domain_get_n_leases(a), ==, 0);

        b = vmlock_domain_new("b", " 4DEA22B31D52D8F32516782E98AB3FA0 ", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_domain_get_uuid_string(b), ==,
                        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        g_assert_cmpuint(vmlock_domain_get_uuid(b)[15], ==, 0xa0);

        c = vmlock_domain_new("c", "not-a-uuid", &error);
        g_assert_null(c);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "'not-a-uuid'");
        g_clear_error(&error);

        c = vmlock_domain_new("", NULL, &error);
        g_assert_null(c);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);

        c = vmlock_domain_new(NULL, NULL, &error);
        g_assert_null(c);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
}

static void
test_domain_setters(void)
{
        g_autoptr(VmlockDomain) dom = vmlock_domain_new("s", NULL, NULL);
        VmlockDomain *ref;

        vmlock_domain_set_id(dom, 42);
        vmlock_domain_set_pid(dom, 1234);
        vmlock_domain_set_on_lockfailure(dom, VMLOCK_LOCK_FAILURE_IGNORE);
        g_assert_cmpint(vmlock_domain_get_id(dom), ==, 42);
        g_assert_cmpint(vmlock_domain_get_pid(dom), ==, 1234);
        g_assert_cmpint(vmlock_domain_get_on_lockfailure(dom), ==, VMLOCK_LOCK_FAILURE_IGNORE);

        ref = vmlock_domain_ref(dom);
        g_assert_true(ref == dom);
        vmlock_domain_unref(ref);
        g_assert_cmpstr(vmlock_domain_get_name(dom), ==, "s");
        vmlock_domain_unref(NULL);
}

static void
test_disk_new(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockDisk) disk = NULL;
        g_autoptr(VmlockDisk) copy = NULL;
        g_autoptr(VmlockDisk) empty = NULL;
        g_autofree char *max = g_strnfill(VMLOCK_PATH_MAX, 'a');
        g_autofree char *over = g_strnfill(VMLOCK_PATH_MAX + 1, 'a');

        max[0] = '/';
        over[0] = '/';

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_BLOCK, VMLOCK_DISK_DEVICE_LUN, "/dev/sdz",
                               TRUE, TRUE, &error);
        g_assert_no_error(error);
        assert_disk(disk, VMLOCK_DISK_TYPE_BLOCK, VMLOCK_DISK_DEVICE_LUN, "/dev/sdz", NULL,
                    TRUE, TRUE);
        copy = vmlock_disk_copy(disk);
        g_assert_true(copy != disk);
        assert_disk(copy, VMLOCK_DISK_TYPE_BLOCK, VMLOCK_DISK_DEVICE_LUN, "/dev/sdz", NULL,
                    TRUE, TRUE);
        g_clear_pointer(&disk, vmlock_disk_free);

        /* An empty drive, spelt either way. */
        empty = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_CDROM, NULL, TRUE,
                                FALSE, &error);
        g_assert_no_error(error);
        g_assert_null(vmlock_disk_get_source(empty));
        g_clear_pointer(&empty, vmlock_disk_free);
        empty = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_CDROM, "", TRUE,
                                FALSE, &error);
        g_assert_no_error(error);
        g_assert_null(vmlock_disk_get_source(empty));

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, max, FALSE,
                               FALSE, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vmlock_disk_get_source(disk), ==, max);
        g_clear_pointer(&disk, vmlock_disk_free);

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, over, FALSE,
                               FALSE, &error);
        g_assert_null(disk);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "1024 bytes long");
        g_clear_error(&error);

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, VMLOCK_DISK_DEVICE_DISK, "x.img", FALSE,
                               FALSE, &error);
        g_assert_null(disk);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, "disk path 'x.img' must be absolute");
        g_clear_error(&error);

        disk = vmlock_disk_new((VmlockDiskType)99, VMLOCK_DISK_DEVICE_DISK, "/x", FALSE,
                               FALSE, &error);
        g_assert_null(disk);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "99");
        g_clear_error(&error);

        disk = vmlock_disk_new(VMLOCK_DISK_TYPE_FILE, (VmlockDiskDevice)-1, "/x", FALSE,
                               FALSE, &error);
        g_assert_null(disk);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);

        vmlock_disk_free(NULL);
}

static void
test_lease_new(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockLease) lease = NULL;
        g_autoptr(VmlockLease) copy = NULL;
        g_autofree char *long_name = g_strnfill(VMLOCK_NAME_MAX + 1, 'n');
        g_autofree char *long_path = g_strnfill(VMLOCK_PATH_MAX + 1, 'p');

        lease = vmlock_lease_new("space", "key", "/leases/key", 1048576, &error);
        g_assert_no_error(error);
        assert_lease(lease, "space", "key", "/leases/key", 1048576);
        copy = vmlock_lease_copy(lease);
        g_assert_true(copy != lease);
        assert_lease(copy, "space", "key", "/leases/key", 1048576);
        g_clear_pointer(&lease, vmlock_lease_free);

        /* An empty lockspace is none. */
        lease = vmlock_lease_new("", "key", "/leases/key", 0, &error);
        g_assert_no_error(error);
        g_assert_null(vmlock_lease_get_lockspace(lease));
        g_clear_pointer(&lease, vmlock_lease_free);

        lease = vmlock_lease_new(NULL, NULL, "/l", 0, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "no key");
        g_clear_error(&error);

        lease = vmlock_lease_new(NULL, "", "/l", 0, &error);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        g_clear_error(&error);

        lease = vmlock_lease_new(NULL, "k", NULL, 0, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "'k' has no target path");
        g_clear_error(&error);

        lease = vmlock_lease_new(NULL, long_name, "/l", 0, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, long_name);
        g_clear_error(&error);

        lease = vmlock_lease_new(long_name, "k", "/l", 0, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "lockspace");
        g_clear_error(&error);

        lease = vmlock_lease_new(NULL, "k", long_path, 0, &error);
        g_assert_null(lease);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_INVALID_ARG);
        assert_message_contains(error, "1024 bytes long");

        vmlock_lease_free(NULL);
}

static void
test_domain_add_remove(void)
{
        g_autoptr(VmlockDomain) dom = parse_data("typical.xml");

        vmlock_domain_add_disk(dom, vmlock_disk_new(VMLOCK_DISK_TYPE_FILE,
                                                    VMLOCK_DISK_DEVICE_DISK, "/hot/plug.img",
                                                    FALSE, FALSE, NULL));
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 7);
        g_assert_cmpstr(vmlock_disk_get_source(vmlock_domain_get_disk(dom, 6)), ==,
                        "/hot/plug.img");

        g_assert_true(vmlock_domain_remove_disk(dom, "/dev/mapper/vg_shared-web01_data"));
        g_assert_false(vmlock_domain_remove_disk(dom, "/dev/mapper/vg_shared-web01_data"));
        g_assert_false(vmlock_domain_remove_disk(dom, "/not/there"));
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 6);
        /* The order of the rest is kept. */
        g_assert_cmpstr(vmlock_disk_get_target(vmlock_domain_get_disk(dom, 3)), ==, "vdc");
        g_assert_true(vmlock_domain_remove_disk(dom, "/hot/plug.img"));
        g_assert_cmpuint(vmlock_domain_get_n_disks(dom), ==, 5);

        vmlock_domain_add_lease(dom, vmlock_lease_new("hot", "plug", "/leases/hot", 0, NULL));
        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 3);
        /* Matching needs both lockspace and key. */
        g_assert_false(vmlock_domain_remove_lease(dom, NULL, "web01-config"));
        g_assert_false(vmlock_domain_remove_lease(dom, "web-cluster", "web01-state"));
        g_assert_true(vmlock_domain_remove_lease(dom, "web-cluster", "web01-config"));
        g_assert_true(vmlock_domain_remove_lease(dom, NULL, "web01-state"));
        g_assert_false(vmlock_domain_remove_lease(dom, NULL, "web01-state"));
        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 1);
        assert_lease(vmlock_domain_get_lease(dom, 0), "hot", "plug", "/leases/hot", 0);
        g_assert_true(vmlock_domain_remove_lease(dom, "hot", "plug"));
        g_assert_cmpuint(vmlock_domain_get_n_leases(dom), ==, 0);
}

static void
test_enum_strings(void)
{
        for (int i = VMLOCK_DISK_TYPE_FILE; i <= VMLOCK_DISK_TYPE_VOLUME; i++)
                g_assert_cmpint(vmlock_disk_type_from_string(vmlock_disk_type_to_string(i)), ==,
                                i);
        for (int i = VMLOCK_DISK_DEVICE_DISK; i <= VMLOCK_DISK_DEVICE_LUN; i++)
                g_assert_cmpint(
                        vmlock_disk_device_from_string(vmlock_disk_device_to_string(i)), ==, i);
        for (int i = VMLOCK_LOCK_FAILURE_DEFAULT; i <= VMLOCK_LOCK_FAILURE_IGNORE; i++)
                g_assert_cmpint(vmlock_lock_failure_action_from_string(
                                        vmlock_lock_failure_action_to_string(i)),
                                ==, i);

        g_assert_cmpstr(vmlock_disk_type_to_string(VMLOCK_DISK_TYPE_NETWORK), ==, "network");
        g_assert_cmpstr(vmlock_disk_device_to_string(VMLOCK_DISK_DEVICE_CDROM), ==, "cdrom");
        g_assert_cmpstr(vmlock_lock_failure_action_to_string(VMLOCK_LOCK_FAILURE_POWEROFF), ==,
                        "poweroff");
        g_assert_null(vmlock_disk_type_to_string((VmlockDiskType)42));
        g_assert_null(vmlock_disk_device_to_string((VmlockDiskDevice)-1));
        g_assert_null(vmlock_lock_failure_action_to_string((VmlockLockFailureAction)5));
        g_assert_cmpint(vmlock_disk_type_from_string("FILE"), ==, -1);
        g_assert_cmpint(vmlock_disk_device_from_string(NULL), ==, -1);
        g_assert_cmpint(vmlock_lock_failure_action_from_string("stop"), ==, -1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/conf/xml/typical", test_xml_typical);
        g_test_add_func("/conf/xml/full", test_xml_full);
        g_test_add_func("/conf/xml/removable-readonly", test_xml_removable_readonly);
        g_test_add_func("/conf/xml/minimal", test_xml_minimal);
        g_test_add_func("/conf/xml/seclabel-types", test_xml_seclabel_types);
        g_test_add_func("/conf/xml/uuid-forms", test_xml_uuid_forms);
        g_test_add_func("/conf/xml/lockfailure-values", test_xml_lockfailure_values);
        g_test_add_func("/conf/xml/limits-ok", test_xml_limits_ok);
        g_test_add_func("/conf/xml/ignores-foreign", test_xml_ignores_foreign);
        g_test_add_func("/conf/xml/no-filename", test_xml_no_filename);
        g_test_add_func("/conf/xml/syntax-ok", test_xml_syntax_ok);
        g_test_add_func("/conf/xml/whitespace", test_xml_whitespace);
        g_test_add_func("/conf/xml/attribute-whitespace", test_xml_attribute_whitespace);
        g_test_add_func("/conf/xml/default-namespace", test_xml_default_namespace);

        g_test_add_func("/conf/xml/not-xml", test_xml_not_xml);
        g_test_add_func("/conf/xml/malformed", test_xml_malformed);
        g_test_add_func("/conf/xml/too-deep", test_xml_too_deep);
        g_test_add_func("/conf/xml/encoding", test_xml_encoding);
        g_test_add_func("/conf/xml/nul-byte", test_xml_nul_byte);
        g_test_add_func("/conf/xml/control-char", test_xml_control_char);
        g_test_add_func("/conf/xml/empty", test_xml_empty);
        g_test_add_func("/conf/xml/not-domain", test_xml_not_domain);
        g_test_add_func("/conf/xml/no-name", test_xml_no_name);
        g_test_add_func("/conf/xml/empty-name", test_xml_empty_name);
        g_test_add_func("/conf/xml/bad-uuid", test_xml_bad_uuid);
        g_test_add_func("/conf/xml/bad-id", test_xml_bad_id);
        g_test_add_func("/conf/xml/bad-lockfailure", test_xml_bad_lockfailure);
        g_test_add_func("/conf/xml/bad-disk-type", test_xml_bad_disk_type);
        g_test_add_func("/conf/xml/bad-disk-device", test_xml_bad_disk_device);
        g_test_add_func("/conf/xml/lease-no-key", test_xml_lease_no_key);
        g_test_add_func("/conf/xml/lease-no-path", test_xml_lease_no_path);
        g_test_add_func("/conf/xml/key-too-long", test_xml_key_too_long);
        g_test_add_func("/conf/xml/lockspace-too-long", test_xml_lockspace_too_long);
        g_test_add_func("/conf/xml/bad-offset", test_xml_bad_offset);
        g_test_add_func("/conf/xml/source-too-long", test_xml_source_too_long);
        g_test_add_func("/conf/xml/relative-disk-path", test_xml_relative_disk_path);
        g_test_add_func("/conf/xml/lease-path-too-long", test_xml_lease_path_too_long);
        g_test_add_func("/conf/xml/doctype", test_xml_doctype);
        g_test_add_func("/conf/xml/too-large", test_xml_too_large);
        g_test_add_func("/conf/xml/file-errors", test_xml_file_errors);
        g_test_add_func("/conf/xml/file-prefix", test_xml_file_prefix);
        g_test_add_func("/conf/xml/quiet", test_xml_quiet);

        g_test_add_func("/conf/domain/new", test_domain_new);
        g_test_add_func("/conf/domain/setters", test_domain_setters);
        g_test_add_func("/conf/domain/add-remove", test_domain_add_remove);
        g_test_add_func("/conf/disk/new", test_disk_new);
        g_test_add_func("/conf/lease/new", test_lease_new);
        g_test_add_func("/conf/enum/strings", test_enum_strings);

        return g_test_run();
}
