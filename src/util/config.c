/* vmlock: reader for config files in libvirt's `key = value` syntax. */
#define G_LOG_DOMAIN "vmlock-config"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmlock/config.h>
#include <vmlock/error.h>

#include "util/log.h"

/* Config files are a few KiB; the cap stops a misdirected path such as a
 * device node from being read forever. */
#define CONFIG_MAX_SIZE (16 * 1024 * 1024)

typedef enum {
        CONFIG_VALUE_INT,
        CONFIG_VALUE_STRING,
        CONFIG_VALUE_LIST,
} ConfigValueType;

typedef struct _ConfigValue ConfigValue;
struct _ConfigValue {
        ConfigValueType type;
        gint64 number;          /* CONFIG_VALUE_INT */
        char *string;           /* CONFIG_VALUE_STRING */
        GPtrArray *items;       /* CONFIG_VALUE_LIST: ConfigValue *, never lists */
};

typedef struct {
        char *key;
        guint line;
        ConfigValue *value;
} ConfigEntry;

struct _VmlockConfig {
        char *filename;
        GPtrArray *entries;     /* ConfigEntry *, in file order */
        GHashTable *by_key;     /* key -> ConfigEntry * (borrowed from entries) */
};

typedef struct {
        const char *pos;
        const char *end;
        guint line;
        const char *filename;
} ConfigParser;

static void
config_value_free(ConfigValue *value)
{
        if (!value)
                return;
        g_free(value->string);
        if (value->items)
                g_ptr_array_unref(value->items);
        g_free(value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConfigValue, config_value_free)

static void
config_entry_free(ConfigEntry *entry)
{
        if (!entry)
                return;
        g_free(entry->key);
        config_value_free(entry->value);
        g_free(entry);
}

static VmlockConfig *
config_new(const char *filename)
{
        VmlockConfig *config = g_new0(VmlockConfig, 1);

        config->filename = g_strdup(filename);
        config->entries = g_ptr_array_new_with_free_func((GDestroyNotify) config_entry_free);
        config->by_key = g_hash_table_new(g_str_hash, g_str_equal);
        return config;
}

void
vmlock_config_free(VmlockConfig *config)
{
        VMLOCK_TRACE("config=%p", (void *) config);

        if (!config)
                return;
        g_hash_table_unref(config->by_key);
        g_ptr_array_unref(config->entries);
        g_free(config->filename);
        g_free(config);
}

/* ---- tokenizer ---------------------------------------------------------- */

static gboolean
at_end(const ConfigParser *p)
{
        return p->pos >= p->end;
}

static gboolean
is_blank(char c)
{
        /* '\r' counts as a blank so that CRLF files read like LF ones. */
        return c == ' ' || c == '\t' || c == '\r';
}

static gboolean
is_key_start(char c)
{
        return g_ascii_isalpha(c) || c == '_';
}

static gboolean
is_key_char(char c)
{
        return g_ascii_isalnum(c) || c == '_' || c == '.';
}

/* What the parser found where it expected something else, for messages. */
static char *
describe_next(const ConfigParser *p)
{
        unsigned char c;

        if (at_end(p))
                return g_strdup("end of file");
        c = (unsigned char) *p->pos;
        if (c == '\n')
                return g_strdup("end of line");
        if (c == '#')
                return g_strdup("a comment");
        if (g_ascii_isprint(c))
                return g_strdup_printf("'%c'", c);
        return g_strdup_printf("byte 0x%02x", c);
}

static void
skip_blanks(ConfigParser *p)
{
        while (!at_end(p) && is_blank(*p->pos))
                p->pos++;
}

static void
skip_comment(ConfigParser *p)
{
        if (at_end(p) || *p->pos != '#')
                return;
        while (!at_end(p) && *p->pos != '\n')
                p->pos++;
}

/* Blanks, comments and newlines: what may separate list elements. */
static void
skip_space(ConfigParser *p)
{
        for (;;) {
                skip_blanks(p);
                skip_comment(p);
                if (at_end(p) || *p->pos != '\n')
                        return;
                p->pos++;
                p->line++;
        }
}

/* Errors say "FILE:LINE: KEY: what", or "FILE:LINE: what" with no key. */
G_GNUC_PRINTF(5, 6)
static void
set_error(GError **error, const char *filename, guint line, const char *key,
          const char *fmt, ...)
{
        g_autofree char *what = NULL;
        va_list args;

        va_start(args, fmt);
        what = g_strdup_vprintf(fmt, args);
        va_end(args);

        if (key)
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG, "%s:%u: %s: %s",
                            filename, line, key, what);
        else
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG, "%s:%u: %s",
                            filename, line, what);
}

static ConfigValue *
parse_string(ConfigParser *p, const char *key, GError **error)
{
        char quote = *p->pos;
        const char *start = ++p->pos;
        ConfigValue *value;

        /* No escapes, and a string ends on the line it starts on. */
        while (!at_end(p) && *p->pos != quote && *p->pos != '\n')
                p->pos++;
        if (at_end(p) || *p->pos != quote) {
                set_error(error, p->filename, p->line, key,
                          "unterminated string (missing closing %c)", quote);
                return NULL;
        }

        value = g_new0(ConfigValue, 1);
        value->type = CONFIG_VALUE_STRING;
        value->string = g_strndup(start, p->pos - start);
        p->pos++;
        return value;
}

static ConfigValue *
parse_int(ConfigParser *p, const char *key, GError **error)
{
        const char *start = p->pos;
        gboolean negative = FALSE;
        /* The magnitude a literal may reach: G_MAXINT64, or one more if negative. */
        guint64 limit = G_MAXINT64;
        guint64 magnitude = 0;
        gboolean overflow = FALSE;
        ConfigValue *value;

        if (*p->pos == '+' || *p->pos == '-') {
                negative = *p->pos == '-';
                p->pos++;
        }
        if (negative)
                limit = (guint64) G_MAXINT64 + 1;

        if (at_end(p) || !g_ascii_isdigit(*p->pos)) {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, key,
                          "expected a digit after the sign, got %s", got);
                return NULL;
        }

        while (!at_end(p) && g_ascii_isdigit(*p->pos)) {
                guint digit = *p->pos - '0';

                if (magnitude > (limit - digit) / 10)
                        overflow = TRUE;
                else
                        magnitude = magnitude * 10 + digit;
                p->pos++;
        }

        if (overflow) {
                int len = (int) MIN(p->pos - start, 40);

                set_error(error, p->filename, p->line, key,
                          "integer out of range: %.*s%s", len, start,
                          p->pos - start > len ? "..." : "");
                return NULL;
        }

        value = g_new0(ConfigValue, 1);
        value->type = CONFIG_VALUE_INT;
        if (negative)
                /* -(magnitude - 1) - 1 stays in range for G_MININT64. */
                value->number = magnitude ? -(gint64) (magnitude - 1) - 1 : 0;
        else
                value->number = (gint64) magnitude;
        return value;
}

static gboolean
at_scalar(const ConfigParser *p)
{
        char c;

        if (at_end(p))
                return FALSE;
        c = *p->pos;
        return c == '"' || c == '\'' || c == '+' || c == '-' || g_ascii_isdigit(c);
}

static ConfigValue *
parse_scalar(ConfigParser *p, const char *key, GError **error)
{
        if (*p->pos == '"' || *p->pos == '\'')
                return parse_string(p, key, error);
        return parse_int(p, key, error);
}

static ConfigValue *
parse_list(ConfigParser *p, const char *key, GError **error)
{
        guint open_line = p->line;
        g_autoptr(ConfigValue) list = g_new0(ConfigValue, 1);

        list->type = CONFIG_VALUE_LIST;
        list->items = g_ptr_array_new_with_free_func((GDestroyNotify) config_value_free);
        p->pos++; /* '[' */

        for (;;) {
                ConfigValue *item;

                skip_space(p);
                if (at_end(p))
                        break;
                if (*p->pos == ']') {
                        p->pos++;
                        return g_steal_pointer(&list);
                }
                if (!at_scalar(p)) {
                        g_autofree char *got = describe_next(p);
                        set_error(error, p->filename, p->line, key,
                                  "expected a string or an integer in the list, got %s", got);
                        return NULL;
                }
                item = parse_scalar(p, key, error);
                if (!item)
                        return NULL;
                g_ptr_array_add(list->items, item);

                skip_space(p);
                if (at_end(p))
                        break;
                if (*p->pos == ',') {
                        p->pos++;
                } else if (*p->pos != ']') {
                        g_autofree char *got = describe_next(p);
                        set_error(error, p->filename, p->line, key,
                                  "expected ',' or ']' in the list, got %s", got);
                        return NULL;
                }
        }

        set_error(error, p->filename, open_line, key,
                  "unterminated list (missing ']' before the end of the file)");
        return NULL;
}

/* Parses one `key = value` statement; p->pos is on the key's first character. */
static gboolean
parse_statement(ConfigParser *p, VmlockConfig *config, GError **error)
{
        const char *key_start = p->pos;
        g_autofree char *key = NULL;
        g_autoptr(ConfigValue) value = NULL;
        guint key_line = p->line;
        ConfigEntry *first;
        ConfigEntry *entry;

        if (!is_key_start(*p->pos)) {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, NULL,
                          "bad key: expected a name starting with a letter or '_', got %s",
                          got);
                return FALSE;
        }
        while (!at_end(p) && is_key_char(*p->pos))
                p->pos++;
        key = g_strndup(key_start, p->pos - key_start);

        if (!at_end(p) && !is_blank(*p->pos) && *p->pos != '=' &&
            *p->pos != '\n' && *p->pos != '#') {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, key,
                          "bad key: %s is not allowed in a key name", got);
                return FALSE;
        }

        skip_blanks(p);
        if (at_end(p) || *p->pos != '=') {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, key,
                          "missing '=' after the key, got %s", got);
                return FALSE;
        }
        p->pos++;

        skip_blanks(p);
        if (at_end(p) || *p->pos == '\n' || *p->pos == '#') {
                set_error(error, p->filename, p->line, key, "missing value after '='");
                return FALSE;
        }
        if (*p->pos == '[') {
                value = parse_list(p, key, error);
        } else if (at_scalar(p)) {
                value = parse_scalar(p, key, error);
        } else {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, key,
                          "expected a quoted string, an integer or a list, got %s", got);
                return FALSE;
        }
        if (!value)
                return FALSE;

        /* One statement per line: only blanks or a comment may follow. */
        skip_blanks(p);
        skip_comment(p);
        if (!at_end(p) && *p->pos != '\n') {
                g_autofree char *got = describe_next(p);
                set_error(error, p->filename, p->line, key,
                          "unexpected %s after the value", got);
                return FALSE;
        }

        first = g_hash_table_lookup(config->by_key, key);
        if (first) {
                set_error(error, p->filename, key_line, key,
                          "duplicate key (first set on line %u)", first->line);
                return FALSE;
        }

        entry = g_new0(ConfigEntry, 1);
        entry->key = g_steal_pointer(&key);
        entry->line = key_line;
        entry->value = g_steal_pointer(&value);
        g_ptr_array_add(config->entries, entry);
        g_hash_table_insert(config->by_key, entry->key, entry);
        return TRUE;
}

VmlockConfig *
vmlock_config_parse(const char *text, gsize len, const char *filename, GError **error)
{
        g_autoptr(VmlockConfig) config = NULL;
        const char *nul;
        ConfigParser p;

        VMLOCK_TRACE("text=%p len=%" G_GSIZE_FORMAT " filename=%s",
                     (const void *) text, len, VMLOCK_NULLSTR(filename));
        g_return_val_if_fail(text != NULL || len == 0, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (!filename)
                filename = "(config)";
        /* Pointer arithmetic on NULL is undefined, even adding 0. */
        if (!text)
                text = "";
        config = config_new(filename);

        p.pos = text;
        p.end = text + len;
        p.line = 1;
        p.filename = config->filename;

        /* A NUL means a binary file, and would cut strings short. */
        nul = len ? memchr(text, '\0', len) : NULL;
        if (nul) {
                guint line = 1;

                for (const char *c = text; c < nul; c++)
                        line += *c == '\n';
                set_error(error, filename, line, NULL,
                          "NUL byte in the file (not a text file?)");
                return NULL;
        }

        for (;;) {
                skip_blanks(&p);
                skip_comment(&p);
                if (at_end(&p))
                        break;
                if (*p.pos == '\n') {
                        p.pos++;
                        p.line++;
                        continue;
                }
                if (!parse_statement(&p, config, error))
                        return NULL;
        }

        return g_steal_pointer(&config);
}

/* Reads the whole file; the fd is O_CLOEXEC like every fd of the project.
 * On failure, *failed_errno says why (ENOENT: no error is set, the caller
 * treats a missing file as defaults). */
static gboolean
read_file(const char *path, char **ret_text, gsize *ret_len, int *failed_errno,
          GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();
        struct stat st;
        int fd;
        int saved_errno = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                saved_errno = errno;
                goto cleanup;
        }
        if (fstat(fd, &st) < 0) {
                saved_errno = errno;
                goto cleanup;
        }
        /* read() on a directory fails with EISDIR anyway; say so before trying. */
        if (S_ISDIR(st.st_mode)) {
                saved_errno = EISDIR;
                goto cleanup;
        }

        for (;;) {
                guint8 chunk[8192];
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        saved_errno = errno;
                        goto cleanup;
                }
                if (n == 0)
                        break;
                if (buf->len + (gsize) n > CONFIG_MAX_SIZE) {
                        saved_errno = EFBIG;
                        goto cleanup;
                }
                g_byte_array_append(buf, chunk, n);
        }
        close(fd);

        *ret_len = buf->len;
        g_byte_array_append(buf, (const guint8 *) "", 1);
        *ret_text = (char *) g_byte_array_free(g_steal_pointer(&buf), FALSE);
        return TRUE;

cleanup:
        if (fd >= 0)
                close(fd);
        *failed_errno = saved_errno;
        if (saved_errno != ENOENT)
                g_set_error(error, VMLOCK_ERROR, VMLOCK_ERROR_CONFIG,
                            "cannot read config file %s: %s", path,
                            saved_errno == EFBIG ? "file too large" : g_strerror(saved_errno));
        return FALSE;
}

VmlockConfig *
vmlock_config_load(const char *path, GError **error)
{
        g_autofree char *text = NULL;
        gsize len = 0;
        int err = 0;

        VMLOCK_TRACE("path=%s", VMLOCK_NULLSTR(path));
        g_return_val_if_fail(path != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (!read_file(path, &text, &len, &err, error)) {
                /* No file means every setting takes its default. */
                if (err == ENOENT)
                        return config_new(path);
                return NULL;
        }
        return vmlock_config_parse(text, len, path, error);
}

const char *
vmlock_config_get_filename(const VmlockConfig *config)
{
        VMLOCK_TRACE("config=%p", (const void *) config);
        g_return_val_if_fail(config != NULL, NULL);

        return config->filename;
}

gboolean
vmlock_config_has_key(const VmlockConfig *config, const char *key)
{
        VMLOCK_TRACE("config=%p key=%s", (const void *) config, VMLOCK_NULLSTR(key));
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);

        return g_hash_table_contains(config->by_key, key);
}

GStrv
vmlock_config_get_keys(const VmlockConfig *config)
{
        GStrv keys;

        VMLOCK_TRACE("config=%p", (const void *) config);
        g_return_val_if_fail(config != NULL, NULL);

        keys = g_new0(char *, config->entries->len + 1);
        for (guint i = 0; i < config->entries->len; i++) {
                const ConfigEntry *entry = g_ptr_array_index(config->entries, i);
                keys[i] = g_strdup(entry->key);
        }
        return keys;
}

/* ---- typed getters ------------------------------------------------------ */

static const char *
value_type_name(const ConfigValue *value)
{
        switch (value->type) {
        case CONFIG_VALUE_INT:
                return "an integer";
        case CONFIG_VALUE_STRING:
                return "a string";
        case CONFIG_VALUE_LIST:
                return "a list";
        }
        return "an unknown value";
}

static void
set_type_error(GError **error, const VmlockConfig *config, const ConfigEntry *entry,
               const char *expected)
{
        if (entry->value->type == CONFIG_VALUE_INT)
                set_error(error, config->filename, entry->line, entry->key,
                          "expected %s, got %" G_GINT64_FORMAT, expected,
                          entry->value->number);
        else
                set_error(error, config->filename, entry->line, entry->key,
                          "expected %s, got %s", expected, value_type_name(entry->value));
}

gboolean
vmlock_config_get_bool(const VmlockConfig *config, const char *key, gboolean default_value,
                       gboolean *ret_value, GError **error)
{
        const ConfigEntry *entry;

        VMLOCK_TRACE("config=%p key=%s default=%d", (const void *) config,
                     VMLOCK_NULLSTR(key), default_value);
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        entry = g_hash_table_lookup(config->by_key, key);
        if (!entry) {
                *ret_value = default_value;
                return TRUE;
        }
        /* As libvirt: a boolean is the integer 0 or 1, nothing else. */
        if (entry->value->type != CONFIG_VALUE_INT ||
            (entry->value->number != 0 && entry->value->number != 1)) {
                set_type_error(error, config, entry, "0 or 1");
                return FALSE;
        }
        *ret_value = entry->value->number == 1;
        return TRUE;
}

gboolean
vmlock_config_get_uint(const VmlockConfig *config, const char *key, guint default_value,
                       guint *ret_value, GError **error)
{
        const ConfigEntry *entry;

        VMLOCK_TRACE("config=%p key=%s default=%u", (const void *) config,
                     VMLOCK_NULLSTR(key), default_value);
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        entry = g_hash_table_lookup(config->by_key, key);
        if (!entry) {
                *ret_value = default_value;
                return TRUE;
        }
        if (entry->value->type != CONFIG_VALUE_INT || entry->value->number < 0) {
                set_type_error(error, config, entry, "an unsigned integer");
                return FALSE;
        }
        if (entry->value->number > G_MAXUINT) {
                g_autofree char *expected = g_strdup_printf("an unsigned integer up to %u",
                                                            G_MAXUINT);
                set_type_error(error, config, entry, expected);
                return FALSE;
        }
        *ret_value = (guint) entry->value->number;
        return TRUE;
}

gboolean
vmlock_config_get_int(const VmlockConfig *config, const char *key, gint64 default_value,
                      gint64 *ret_value, GError **error)
{
        const ConfigEntry *entry;

        VMLOCK_TRACE("config=%p key=%s default=%" G_GINT64_FORMAT, (const void *) config,
                     VMLOCK_NULLSTR(key), default_value);
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        entry = g_hash_table_lookup(config->by_key, key);
        if (!entry) {
                *ret_value = default_value;
                return TRUE;
        }
        if (entry->value->type != CONFIG_VALUE_INT) {
                set_type_error(error, config, entry, "an integer");
                return FALSE;
        }
        *ret_value = entry->value->number;
        return TRUE;
}

gboolean
vmlock_config_get_string(const VmlockConfig *config, const char *key,
                         const char *default_value, char **ret_value, GError **error)
{
        const ConfigEntry *entry;

        VMLOCK_TRACE("config=%p key=%s default=%s", (const void *) config,
                     VMLOCK_NULLSTR(key), VMLOCK_NULLSTR(default_value));
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        entry = g_hash_table_lookup(config->by_key, key);
        if (!entry) {
                *ret_value = g_strdup(default_value);
                return TRUE;
        }
        if (entry->value->type != CONFIG_VALUE_STRING) {
                set_type_error(error, config, entry, "a quoted string");
                return FALSE;
        }
        *ret_value = g_strdup(entry->value->string);
        return TRUE;
}

gboolean
vmlock_config_get_string_list(const VmlockConfig *config, const char *key,
                              const char *const *default_value, GStrv *ret_value,
                              GError **error)
{
        const ConfigEntry *entry;
        const ConfigValue *value;
        GStrv strv;

        VMLOCK_TRACE("config=%p key=%s default=%p", (const void *) config,
                     VMLOCK_NULLSTR(key), (const void *) default_value);
        g_return_val_if_fail(config != NULL, FALSE);
        g_return_val_if_fail(key != NULL, FALSE);
        g_return_val_if_fail(ret_value != NULL, FALSE);

        entry = g_hash_table_lookup(config->by_key, key);
        if (!entry) {
                if (default_value)
                        *ret_value = g_strdupv((char **) default_value);
                else
                        *ret_value = g_new0(char *, 1);
                return TRUE;
        }

        value = entry->value;
        if (value->type == CONFIG_VALUE_STRING) {
                strv = g_new0(char *, 2);
                strv[0] = g_strdup(value->string);
                *ret_value = strv;
                return TRUE;
        }
        if (value->type != CONFIG_VALUE_LIST) {
                set_type_error(error, config, entry, "a list of strings");
                return FALSE;
        }

        for (guint i = 0; i < value->items->len; i++) {
                const ConfigValue *item = g_ptr_array_index(value->items, i);

                if (item->type != CONFIG_VALUE_STRING) {
                        set_error(error, config->filename, entry->line, entry->key,
                                  "expected a list of strings, but element %u is %s",
                                  i + 1, value_type_name(item));
                        return FALSE;
                }
        }

        strv = g_new0(char *, value->items->len + 1);
        for (guint i = 0; i < value->items->len; i++) {
                const ConfigValue *item = g_ptr_array_index(value->items, i);
                strv[i] = g_strdup(item->string);
        }
        *ret_value = strv;
        return TRUE;
}

/* How many single-character edits turn @a into @b (Levenshtein), for
 * suggesting the key a typo meant. */
static guint
edit_distance(const char *a, const char *b)
{
        gsize la = strlen(a), lb = strlen(b);
        g_autofree guint *row = g_new(guint, lb + 1);

        for (gsize j = 0; j <= lb; j++)
                row[j] = (guint)j;
        for (gsize i = 1; i <= la; i++) {
                guint diagonal = row[0];

                row[0] = (guint)i;
                for (gsize j = 1; j <= lb; j++) {
                        guint above = row[j];
                        guint best = MIN(row[j] + 1, row[j - 1] + 1);

                        row[j] = MIN(best, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                        diagonal = above;
                }
        }
        return row[lb];
}

gboolean
vmlock_config_check_keys(const VmlockConfig *config, const char *const *known_keys,
                         GError **error)
{
        VMLOCK_TRACE("config=%p known_keys=%p", (const void *) config,
                     (const void *) known_keys);
        g_return_val_if_fail(config != NULL, FALSE);

        for (guint i = 0; i < config->entries->len; i++) {
                const ConfigEntry *entry = g_ptr_array_index(config->entries, i);
                const char *nearest = NULL;
                guint nearest_distance = 3; /* further off is no typo */

                if (known_keys && g_strv_contains(known_keys, entry->key))
                        continue;
                for (guint k = 0; known_keys && known_keys[k]; k++) {
                        guint d = edit_distance(entry->key, known_keys[k]);

                        if (d < nearest_distance) {
                                nearest = known_keys[k];
                                nearest_distance = d;
                        }
                }
                if (nearest)
                        set_error(error, config->filename, entry->line, NULL,
                                  "unknown key '%s' (did you mean '%s'?)", entry->key,
                                  nearest);
                else
                        set_error(error, config->filename, entry->line, NULL,
                                  "unknown key '%s'", entry->key);
                return FALSE;
        }
        return TRUE;
}
