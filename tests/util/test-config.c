/* vmlock: tests of the config-file reader (src/util/config.c). */
#include "config-build.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmlock/config.h>
#include <vmlock/error.h>

#define FILENAME "test.conf"

static VmlockConfig *
parse_ok(const char *text)
{
        g_autoptr(GError) error = NULL;
        VmlockConfig *config = vmlock_config_parse(text, strlen(text), FILENAME, &error);

        g_assert_no_error(error);
        g_assert_nonnull(config);
        return config;
}

/* ---- values that parse --------------------------------------------------- */

typedef enum {
        VALUE_INT,
        VALUE_STRING,
        VALUE_LIST,
} ValueType;

typedef struct {
        const char *name;
        const char *text;
        const char *key;
        ValueType type;
        gint64 number;
        const char *string;
        const char *const *list;        /* NULL-terminated */
} ValueCase;

static const char *const list_ab[] = { "a", "b", NULL };
static const char *const list_abc[] = { "a", "b", "c", NULL };
static const char *const list_empty[] = { NULL };
static const char *const list_one[] = { "only", NULL };
static const char *const list_hash[] = { "x # not a comment", NULL };

static const ValueCase value_cases[] = {
        { "int", "k = 42\n", "k", VALUE_INT, 42 },
        { "zero", "k = 0\n", "k", VALUE_INT, 0 },
        { "negative", "k = -5\n", "k", VALUE_INT, -5 },
        { "plus", "k = +3\n", "k", VALUE_INT, 3 },
        { "minus-zero", "k = -0\n", "k", VALUE_INT, 0 },
        { "leading-zeros", "k = 007\n", "k", VALUE_INT, 7 },
        { "int64-max", "k = 9223372036854775807\n", "k", VALUE_INT, G_MAXINT64 },
        { "int64-max-plus", "k = +9223372036854775807\n", "k", VALUE_INT, G_MAXINT64 },
        { "int64-min", "k = -9223372036854775808\n", "k", VALUE_INT, G_MININT64 },
        { "uint-max", "k = 4294967295\n", "k", VALUE_INT, G_MAXUINT },
        { "no-newline-at-end", "k = 1", "k", VALUE_INT, 1 },
        { "no-blanks", "k=1\n", "k", VALUE_INT, 1 },
        { "tabs", "\tk\t=\t1\t\n", "k", VALUE_INT, 1 },
        { "comment-after-int", "k = 1# c\n", "k", VALUE_INT, 1 },
        { "key-digits-dots", "_a.b_9 = 1\n", "_a.b_9", VALUE_INT, 1 },
        { "crlf", "# c\r\nk = 2\r\n\r\n", "k", VALUE_INT, 2 },
        { "double-quotes", "k = \"hello world\"\n", "k", VALUE_STRING, 0, "hello world" },
        { "single-quotes", "k = 'it \"is\"'\n", "k", VALUE_STRING, 0, "it \"is\"" },
        { "empty-string", "k = \"\"\n", "k", VALUE_STRING, 0, "" },
        { "backslash-is-literal", "k = \"a\\b\"\n", "k", VALUE_STRING, 0, "a\\b" },
        { "hash-in-string", "k = \"a # b\" # c\n", "k", VALUE_STRING, 0, "a # b" },
        { "crlf-string", "k = \"v\"\r\n", "k", VALUE_STRING, 0, "v" },
        { "list", "k = [ \"a\", \"b\" ]\n", "k", VALUE_LIST, 0, NULL, list_ab },
        { "list-tight", "k=[\"a\",'b']", "k", VALUE_LIST, 0, NULL, list_ab },
        { "list-trailing-comma", "k = [ \"a\", \"b\", ]\n", "k", VALUE_LIST, 0, NULL, list_ab },
        { "list-empty", "k = []\n", "k", VALUE_LIST, 0, NULL, list_empty },
        { "list-empty-spaced", "k = [ \n\n ]\n", "k", VALUE_LIST, 0, NULL, list_empty },
        { "list-one", "k = [ \"only\" ]\n", "k", VALUE_LIST, 0, NULL, list_one },
        { "list-hash-in-string", "k = [ \"x # not a comment\" ]\n", "k", VALUE_LIST, 0, NULL,
          list_hash },
        { "list-multiline",
          "# head\n"
          "k = [\n"
          "  \"a\",   # first\n"
          "\n"
          "  # a comment line inside\n"
          "  'b'\n"
          "  , \"c\",\n"
          "]  # after\n"
          "other = 1\n",
          "k", VALUE_LIST, 0, NULL, list_abc },
        { "list-crlf", "k = [\r\n \"a\",\r\n \"b\"\r\n]\r\n", "k", VALUE_LIST, 0, NULL, list_ab },
        { "comments-everywhere",
          "# leading comment\n"
          "   # indented comment\n"
          "\n"
          "\t\n"
          "k = \"v\" # trailing\n"
          "#k2 = 3\n"
          "# the end",
          "k", VALUE_STRING, 0, "v" },
};

static void
test_parse_value(gconstpointer data)
{
        const ValueCase *tc = data;
        g_autoptr(VmlockConfig) config = parse_ok(tc->text);
        g_autoptr(GError) error = NULL;
        g_autofree char *string = NULL;
        g_auto(GStrv) list = NULL;
        gint64 number = -1;

        g_assert_true(vmlock_config_has_key(config, tc->key));

        switch (tc->type) {
        case VALUE_INT:
                g_assert_true(vmlock_config_get_int(config, tc->key, -1, &number, &error));
                g_assert_no_error(error);
                g_assert_cmpint(number, ==, tc->number);
                break;
        case VALUE_STRING:
                g_assert_true(vmlock_config_get_string(config, tc->key, NULL, &string, &error));
                g_assert_no_error(error);
                g_assert_cmpstr(string, ==, tc->string);
                break;
        case VALUE_LIST:
                g_assert_true(vmlock_config_get_string_list(config, tc->key, NULL, &list,
                                                            &error));
                g_assert_no_error(error);
                g_assert_cmpstrv(list, tc->list);
                break;
        }
}

/* ---- parse errors ------------------------------------------------------- */

typedef struct {
        const char *name;
        const char *text;
        gsize len;              /* 0: strlen(text) */
        guint line;
        const char *what;       /* a substring of the message */
} ErrorCase;

static const ErrorCase error_cases[] = {
        { "unterminated-string", "a = 1\nb = \"abc\nc = 2\n", 0, 2,
          "b: unterminated string" },
        { "unterminated-string-eof", "\n\nb = 'abc", 0, 3, "b: unterminated string" },
        { "unterminated-string-in-list", "a = [\n \"x\",\n \"y\n]\n", 0, 3,
          "a: unterminated string" },
        { "mismatched-quotes", "a = \"x'\n", 0, 1, "unterminated string" },
        { "unterminated-list", "a = 1\nb = [ \"x\",\n \"y\"\n\n", 0, 2,
          "b: unterminated list" },
        { "unterminated-list-eof", "a = [", 0, 1, "a: unterminated list" },
        { "unterminated-list-comment", "a = [ # ]\n", 0, 1, "a: unterminated list" },
        { "missing-equals", "\n\nabc 1\n", 0, 3, "abc: missing '='" },
        { "missing-equals-eof", "# c\nabc", 0, 2, "abc: missing '='" },
        { "missing-equals-newline", "abc\n= 1\n", 0, 1, "abc: missing '='" },
        { "missing-equals-colon", "abc: 1\n", 0, 1, "bad key" },
        { "missing-value", "a = 1\nb =\n", 0, 2, "b: missing value" },
        { "missing-value-eof", "b = ", 0, 1, "b: missing value" },
        { "missing-value-comment", "b = # nothing\n", 0, 1, "b: missing value" },
        { "bad-key-digit", "a = 1\n1a = 2\n", 0, 2, "bad key" },
        { "bad-key-dash", "a-b = 1\n", 0, 1, "bad key" },
        { "bad-key-equals", "  = 1\n", 0, 1, "bad key" },
        { "bad-key-quoted", "\"a\" = 1\n", 0, 1, "bad key" },
        { "bad-key-non-ascii", "\xc3\xa9t\xc3\xa9 = 1\n", 0, 1, "bad key" },
        { "overflow", "a = 1\nb = 9223372036854775808\n", 0, 2, "b: integer out of range" },
        { "overflow-negative", "b = -9223372036854775809\n", 0, 1, "integer out of range" },
        { "overflow-huge", "b = 123456789012345678901234567890123456789012345678901234567890\n",
          0, 1, "integer out of range" },
        { "overflow-in-list", "b = [\n1,\n99999999999999999999 ]\n", 0, 3,
          "b: integer out of range" },
        { "sign-alone", "b = -\n", 0, 1, "expected a digit" },
        { "sign-twice", "b = --1\n", 0, 1, "expected a digit" },
        { "duplicate", "a = 1\n\nb = 2\na = 3\n", 0, 4, "a: duplicate key (first set on line 1)" },
        { "duplicate-other-type", "a = 'x'\na = [ 1 ]\n", 0, 2, "first set on line 1" },
        { "trailing-int", "a = 1 2\n", 0, 1, "a: unexpected '2' after the value" },
        { "trailing-string", "\na = \"x\" y\n", 0, 2, "a: unexpected 'y' after the value" },
        { "trailing-string-string", "a = \"x\"\"y\"\n", 0, 1, "unexpected" },
        { "trailing-list", "a = [ 1 ] x\n", 0, 1, "unexpected 'x' after the value" },
        { "trailing-letters", "a = 12abc\n", 0, 1, "unexpected 'a' after the value" },
        { "trailing-statement", "a = 1 b = 2\n", 0, 1, "unexpected 'b'" },
        { "float", "a = 1.5\n", 0, 1, "unexpected '.'" },
        { "hex", "a = 0x10\n", 0, 1, "unexpected 'x'" },
        { "bare-word", "a = yes\n", 0, 1, "a: expected a quoted string, an integer or a list" },
        { "list-missing-comma", "a = [ 1 2 ]\n", 0, 1, "expected ',' or ']'" },
        { "list-missing-comma-multiline", "a = [\n\"x\"\n\"y\"\n]\n", 0, 3,
          "expected ',' or ']'" },
        { "list-nested", "a = [ [ 1 ] ]\n", 0, 1, "expected a string or an integer" },
        { "list-leading-comma", "a = [ , ]\n", 0, 1, "expected a string or an integer" },
        { "list-double-comma", "a = [ 1,, ]\n", 0, 1, "expected a string or an integer" },
        { "list-bare-word", "a = [\n 1,\n no ]\n", 0, 3, "expected a string or an integer" },
        { "nul-byte", "a = 1\nb = \"x\0y\"\n", 16, 2, "NUL byte" },
        { "nul-byte-first", "\0", 1, 1, "NUL byte" },
        { "control-byte", "a = \x01\n", 0, 1, "byte 0x01" },
};

static void
test_parse_error(gconstpointer data)
{
        const ErrorCase *tc = data;
        gsize len = tc->len ? tc->len : strlen(tc->text);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;
        g_autofree char *prefix = g_strdup_printf(FILENAME ":%u: ", tc->line);

        config = vmlock_config_parse(tc->text, len, FILENAME, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_test_message("message: %s", error->message);
        g_assert_true(g_str_has_prefix(error->message, prefix));
        g_assert_nonnull(strstr(error->message, tc->what));
}

/* ---- typed getters ------------------------------------------------------ */

typedef enum {
        GET_BOOL,
        GET_UINT,
        GET_INT,
        GET_STRING,
        GET_LIST,
} GetterKind;

typedef struct {
        const char *name;
        const char *text;       /* the key is always "k", on line 2 */
        GetterKind kind;
        gboolean ok;
        gint64 number;          /* bool, uint and int results */
        const char *string;     /* string result, or a substring of the error */
        const char *const *list;
} GetterCase;

static const char *const list_x[] = { "x", NULL };

static const GetterCase getter_cases[] = {
        { "bool/0", "#\nk = 0", GET_BOOL, TRUE, FALSE },
        { "bool/1", "#\nk = 1", GET_BOOL, TRUE, TRUE },
        { "bool/plus-1", "#\nk = +1", GET_BOOL, TRUE, TRUE },
        { "bool/2", "#\nk = 2", GET_BOOL, FALSE, 0, "k: expected 0 or 1, got 2" },
        { "bool/minus-1", "#\nk = -1", GET_BOOL, FALSE, 0, "k: expected 0 or 1, got -1" },
        { "bool/string", "#\nk = \"1\"", GET_BOOL, FALSE, 0, "k: expected 0 or 1, got a string" },
        { "bool/list", "#\nk = [ 1 ]", GET_BOOL, FALSE, 0, "k: expected 0 or 1, got a list" },
        { "uint/0", "#\nk = 0", GET_UINT, TRUE, 0 },
        { "uint/2000", "#\nk = 2000", GET_UINT, TRUE, 2000 },
        { "uint/max", "#\nk = 4294967295", GET_UINT, TRUE, G_MAXUINT },
        { "uint/over-max", "#\nk = 4294967296", GET_UINT, FALSE, 0,
          "k: expected an unsigned integer up to 4294967295, got 4294967296" },
        { "uint/negative", "#\nk = -1", GET_UINT, FALSE, 0,
          "k: expected an unsigned integer, got -1" },
        { "uint/string", "#\nk = \"5\"", GET_UINT, FALSE, 0,
          "k: expected an unsigned integer, got a string" },
        { "uint/list", "#\nk = []", GET_UINT, FALSE, 0,
          "k: expected an unsigned integer, got a list" },
        { "int/negative", "#\nk = -7", GET_INT, TRUE, -7 },
        { "int/min", "#\nk = -9223372036854775808", GET_INT, TRUE, G_MININT64 },
        { "int/string", "#\nk = 'x'", GET_INT, FALSE, 0, "k: expected an integer, got a string" },
        { "int/list", "#\nk = [ 1 ]", GET_INT, FALSE, 0, "k: expected an integer, got a list" },
        { "string/ok", "#\nk = \"/var/lib/x\"", GET_STRING, TRUE, 0, "/var/lib/x" },
        { "string/int", "#\nk = 3", GET_STRING, FALSE, 0, "k: expected a quoted string, got 3" },
        { "string/list", "#\nk = [ 'x' ]", GET_STRING, FALSE, 0,
          "k: expected a quoted string, got a list" },
        { "list/ok", "#\nk = [ 'a', \"b\" ]", GET_LIST, TRUE, 0, NULL, list_ab },
        { "list/single-string", "#\nk = 'x'", GET_LIST, TRUE, 0, NULL, list_x },
        { "list/empty", "#\nk = [ ]", GET_LIST, TRUE, 0, NULL, list_empty },
        { "list/int", "#\nk = 1", GET_LIST, FALSE, 0,
          "k: expected a list of strings, got 1" },
        { "list/int-element", "#\nk = [ 'a', 2 ]", GET_LIST, FALSE, 0,
          "k: expected a list of strings, but element 2 is an integer" },
};

static void
test_getter(gconstpointer data)
{
        const GetterCase *tc = data;
        g_autoptr(VmlockConfig) config = parse_ok(tc->text);
        g_autoptr(GError) error = NULL;
        g_autofree char *string = NULL;
        g_auto(GStrv) list = NULL;
        gboolean ok = FALSE;
        gboolean b = 42;
        guint u = 42;
        gint64 i = 42;
        gint64 number = 42;

        switch (tc->kind) {
        case GET_BOOL:
                ok = vmlock_config_get_bool(config, "k", 7, &b, &error);
                number = b;
                break;
        case GET_UINT:
                ok = vmlock_config_get_uint(config, "k", 7, &u, &error);
                number = u;
                break;
        case GET_INT:
                ok = vmlock_config_get_int(config, "k", 7, &i, &error);
                number = i;
                break;
        case GET_STRING:
                ok = vmlock_config_get_string(config, "k", "default", &string, &error);
                break;
        case GET_LIST:
                ok = vmlock_config_get_string_list(config, "k", NULL, &list, &error);
                break;
        }

        if (!tc->ok) {
                g_assert_false(ok);
                g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
                g_test_message("message: %s", error->message);
                g_assert_true(g_str_has_prefix(error->message, FILENAME ":2: "));
                g_assert_nonnull(strstr(error->message, tc->string));
                /* ret_* is written on success only. */
                g_assert_cmpint(number, ==, 42);
                g_assert_null(string);
                g_assert_null(list);
                return;
        }

        g_assert_no_error(error);
        g_assert_true(ok);
        switch (tc->kind) {
        case GET_BOOL:
        case GET_UINT:
        case GET_INT:
                g_assert_cmpint(number, ==, tc->number);
                break;
        case GET_STRING:
                g_assert_cmpstr(string, ==, tc->string);
                break;
        case GET_LIST:
                g_assert_cmpstrv(list, tc->list);
                break;
        }
}

static void
check_defaults(const VmlockConfig *config)
{
        static const char *const def_list[] = { "d1", "d2", NULL };
        g_autoptr(GError) error = NULL;
        g_autofree char *string = NULL;
        g_autofree char *null_string = NULL;
        g_auto(GStrv) list = NULL;
        g_auto(GStrv) empty = NULL;
        gboolean b = FALSE;
        guint u = 0;
        gint64 i = 0;

        g_assert_false(vmlock_config_has_key(config, "absent"));
        g_assert_true(vmlock_config_get_bool(config, "absent", TRUE, &b, &error));
        g_assert_true(b);
        g_assert_true(vmlock_config_get_uint(config, "absent", 2000, &u, &error));
        g_assert_cmpuint(u, ==, 2000);
        g_assert_true(vmlock_config_get_int(config, "absent", -3, &i, &error));
        g_assert_cmpint(i, ==, -3);
        g_assert_true(vmlock_config_get_string(config, "absent", "dflt", &string, &error));
        g_assert_cmpstr(string, ==, "dflt");
        g_assert_true(vmlock_config_get_string(config, "absent", NULL, &null_string, &error));
        g_assert_null(null_string);
        g_assert_true(vmlock_config_get_string_list(config, "absent", def_list, &list, &error));
        g_assert_cmpstrv(list, def_list);
        g_assert_true(vmlock_config_get_string_list(config, "absent", NULL, &empty, &error));
        g_assert_nonnull(empty);
        g_assert_null(empty[0]);
        g_assert_no_error(error);
}

static void
test_getter_defaults(void)
{
        g_autoptr(VmlockConfig) empty = parse_ok("");
        g_autoptr(VmlockConfig) comments = parse_ok("# nothing\n\n  # here\n");
        g_autoptr(VmlockConfig) other = parse_ok("present = 1\n");
        g_autoptr(VmlockConfig) null_text = vmlock_config_parse(NULL, 0, NULL, NULL);

        check_defaults(empty);
        check_defaults(comments);
        check_defaults(other);
        check_defaults(null_text);
        g_assert_cmpstr(vmlock_config_get_filename(null_text), ==, "(config)");
        g_assert_true(vmlock_config_has_key(other, "present"));
}

static void
test_get_keys(void)
{
        static const char *const expected[] = { "zeta", "alpha", "m.id", NULL };
        g_autoptr(VmlockConfig) config = parse_ok("zeta = 1\nalpha = 'a'\n#x = 1\nm.id = []\n");
        g_autoptr(VmlockConfig) empty = parse_ok("\n");
        g_auto(GStrv) keys = vmlock_config_get_keys(config);
        g_auto(GStrv) none = vmlock_config_get_keys(empty);

        g_assert_cmpstrv(keys, expected);
        g_assert_nonnull(none);
        g_assert_null(none[0]);
        g_assert_cmpstr(vmlock_config_get_filename(config), ==, FILENAME);
}

/* ---- loading files ------------------------------------------------------ */

static char *
make_tmpdir(void)
{
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("vmlock-test-config-XXXXXX", &error);

        g_assert_no_error(error);
        return dir;
}

static void
test_load_file(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autofree char *path = g_build_filename(dir, "x.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;
        g_autofree char *string = NULL;
        guint u = 0;

        g_assert_true(g_file_set_contents(path, "# x\nhost_id = 5\ndir = \"/d\"\n", -1, &error));
        config = vmlock_config_load(path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(config);
        g_assert_cmpstr(vmlock_config_get_filename(config), ==, path);
        g_assert_true(vmlock_config_get_uint(config, "host_id", 0, &u, &error));
        g_assert_cmpuint(u, ==, 5);
        g_assert_true(vmlock_config_get_string(config, "dir", NULL, &string, &error));
        g_assert_cmpstr(string, ==, "/d");

        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_missing(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autofree char *path = g_build_filename(dir, "absent.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = vmlock_config_load(path, &error);

        g_assert_no_error(error);
        g_assert_nonnull(config);
        g_assert_cmpstr(vmlock_config_get_filename(config), ==, path);
        check_defaults(config);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_directory(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = vmlock_config_load(dir, &error);

        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_test_message("message: %s", error->message);
        g_assert_nonnull(strstr(error->message, dir));
        g_assert_nonnull(strstr(error->message, g_strerror(EISDIR)));
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_not_a_directory(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autofree char *file = g_build_filename(dir, "f", NULL);
        g_autofree char *path = g_build_filename(file, "x.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;

        /* ENOTDIR is a broken path, not a missing file: an error. */
        g_assert_true(g_file_set_contents(file, "", -1, &error));
        config = vmlock_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_nonnull(strstr(error->message, path));
        g_assert_nonnull(strstr(error->message, g_strerror(ENOTDIR)));
        g_assert_cmpint(g_unlink(file), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_unreadable(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;

        if (geteuid() == 0) {
                g_test_skip("root reads files whatever their mode");
                return;
        }
        dir = make_tmpdir();
        path = g_build_filename(dir, "x.conf", NULL);
        g_assert_true(g_file_set_contents(path, "a = 1\n", -1, &error));
        g_assert_cmpint(g_chmod(path, 0), ==, 0);
        config = vmlock_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_nonnull(strstr(error->message, path));
        g_assert_nonnull(strstr(error->message, g_strerror(EACCES)));
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_nul(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autofree char *path = g_build_filename(dir, "x.conf", NULL);
        g_autofree char *prefix = g_strdup_printf("%s:2: ", path);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;

        g_assert_true(g_file_set_contents(path, "a = 1\n\0b = 2\n", 13, &error));
        config = vmlock_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_true(g_str_has_prefix(error->message, prefix));
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_load_parse_error(void)
{
        g_autofree char *dir = make_tmpdir();
        g_autofree char *path = g_build_filename(dir, "qemu-sanlock.conf", NULL);
        g_autofree char *expected = g_strdup_printf("%s:3: host_id: missing value", path);
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;

        g_assert_true(g_file_set_contents(path, "# x\n\nhost_id =\n", -1, &error));
        config = vmlock_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_true(g_str_has_prefix(error->message, expected));
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* ---- unknown keys ------------------------------------------------------- */

static void
test_check_keys(void)
{
        static const char *const known[] = { "host_id", "lock_manager", NULL };
        g_autoptr(VmlockConfig) typo =
                parse_ok("host_id = 1\n# c\nlock_manger = 'sanlock'\nbogus = 2\n");
        g_autoptr(VmlockConfig) unrelated = parse_ok("host_id = 1\n\nbogus = [ ]\n");
        g_autoptr(VmlockConfig) clean = parse_ok("host_id = 1\n");
        g_autoptr(GError) error = NULL;

        /* The first one, with the key it is a typo of. */
        g_assert_false(vmlock_config_check_keys(typo, known, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==,
                        FILENAME ":3: unknown key 'lock_manger' (did you mean 'lock_manager'?)");
        g_clear_error(&error);
        g_assert_false(vmlock_config_check_keys(unrelated, known, &error));
        g_assert_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, FILENAME ":3: unknown key 'bogus'");
        g_clear_error(&error);

        g_assert_true(vmlock_config_check_keys(clean, known, &error));
        g_assert_no_error(error);
}

/* ---- the sample files shipped in data/ ---------------------------------- */

/* Uncomments "#key = value" lines, as libvirt's augeas test does with its
 * samples, so that every documented setting gets parsed. Prose comments
 * ("# text") keep their '#'. */
static char *
uncomment_settings(const char *text)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (guint i = 0; lines[i]; i++) {
                if (lines[i][0] == '#' &&
                    (g_ascii_isalpha(lines[i][1]) || lines[i][1] == '_')) {
                        char *stripped = g_strdup(lines[i] + 1);
                        g_free(lines[i]);
                        lines[i] = stripped;
                }
        }
        return g_strjoinv("\n", lines);
}

/* Returns NULL, having marked the test skipped, if @name is not there. */
static VmlockConfig *
load_sample(const char *name, gboolean optional)
{
        const char *root = g_getenv("VMLOCK_SOURCE_ROOT");
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autofree char *uncommented = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) as_shipped = NULL;
        g_autoptr(VmlockConfig) config = NULL;
        gsize len = 0;

        g_assert_nonnull(root);
        path = g_build_filename(root, "data", name, NULL);
        if (optional && !g_file_test(path, G_FILE_TEST_EXISTS)) {
                g_test_skip("not shipped yet");
                return NULL;
        }

        /* As shipped, everything is commented out: no keys at all. */
        as_shipped = vmlock_config_load(path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(as_shipped);
        g_assert_true(vmlock_config_check_keys(as_shipped, NULL, NULL));

        g_assert_true(g_file_get_contents(path, &text, &len, &error));
        g_assert_no_error(error);
        uncommented = uncomment_settings(text);
        config = vmlock_config_parse(uncommented, strlen(uncommented), path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(config);
        return g_steal_pointer(&config);
}

static void
test_sample_vmlock_conf(void)
{
        static const char *const known[] = { "lock_manager", NULL };
        g_autoptr(VmlockConfig) config = load_sample("vmlock.conf", FALSE);
        g_autoptr(GError) error = NULL;
        g_autofree char *manager = NULL;

        g_assert_true(vmlock_config_check_keys(config, known, NULL));
        g_assert_true(vmlock_config_get_string(config, "lock_manager", "nop", &manager, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(manager, ==, "sanlock");
}

static void
test_sample_qemu_sanlock_conf(void)
{
        static const char *const known[] = {
                "auto_disk_leases", "disk_lease_dir", "host_id", "require_lease_for_disks",
                "io_timeout", "user", "group", NULL,
        };
        g_autoptr(VmlockConfig) config = load_sample("qemu-sanlock.conf", TRUE);
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *user = NULL;
        g_autofree char *group = NULL;
        gboolean auto_leases = FALSE;
        gboolean require = FALSE;
        guint host_id = 0;
        guint io_timeout = 0;

        if (!config)
                return;
        g_assert_true(vmlock_config_check_keys(config, known, NULL));
        /* Every setting is documented, with a value of the right type. */
        for (guint i = 0; known[i]; i++)
                g_assert_true(vmlock_config_has_key(config, known[i]));
        g_assert_true(vmlock_config_get_bool(config, "auto_disk_leases", FALSE, &auto_leases,
                                             &error));
        g_assert_true(vmlock_config_get_string(config, "disk_lease_dir", NULL, &dir, &error));
        g_assert_true(vmlock_config_get_uint(config, "host_id", 0, &host_id, &error));
        g_assert_true(vmlock_config_get_bool(config, "require_lease_for_disks", TRUE, &require,
                                             &error));
        g_assert_true(vmlock_config_get_uint(config, "io_timeout", 0, &io_timeout, &error));
        g_assert_true(vmlock_config_get_string(config, "user", NULL, &user, &error));
        g_assert_true(vmlock_config_get_string(config, "group", NULL, &group, &error));
        g_assert_no_error(error);
        g_assert_true(g_path_is_absolute(dir));
        g_assert_cmpuint(host_id, >=, 1);
        g_assert_cmpuint(host_id, <=, 2000);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(value_cases); i++) {
                g_autofree char *path = g_strdup_printf("/config/parse/value/%s",
                                                        value_cases[i].name);
                g_test_add_data_func(path, &value_cases[i], test_parse_value);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
                g_autofree char *path = g_strdup_printf("/config/parse/error/%s",
                                                        error_cases[i].name);
                g_test_add_data_func(path, &error_cases[i], test_parse_error);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(getter_cases); i++) {
                g_autofree char *path = g_strdup_printf("/config/get/%s", getter_cases[i].name);
                g_test_add_data_func(path, &getter_cases[i], test_getter);
        }
        g_test_add_func("/config/get/defaults", test_getter_defaults);
        g_test_add_func("/config/get/keys", test_get_keys);
        g_test_add_func("/config/load/file", test_load_file);
        g_test_add_func("/config/load/missing", test_load_missing);
        g_test_add_func("/config/load/directory", test_load_directory);
        g_test_add_func("/config/load/not-a-directory", test_load_not_a_directory);
        g_test_add_func("/config/load/unreadable", test_load_unreadable);
        g_test_add_func("/config/load/nul-byte", test_load_nul);
        g_test_add_func("/config/load/parse-error", test_load_parse_error);
        g_test_add_func("/config/check-keys", test_check_keys);
        g_test_add_func("/config/sample/vmlock-conf", test_sample_vmlock_conf);
        g_test_add_func("/config/sample/qemu-sanlock-conf", test_sample_qemu_sanlock_conf);

        return g_test_run();
}
