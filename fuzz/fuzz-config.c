/* vmlock: libFuzzer target for the config reader: parse, then read every key every way. */
#include "config-build.h"

#include <stdint.h>

#include <vmlock/config.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
discard_log(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

static void
read_key(const VmlockConfig *config, const char *key)
{
        static const char *const default_list[] = { "a", NULL };
        g_autoptr(GError) bool_error = NULL;
        g_autoptr(GError) uint_error = NULL;
        g_autoptr(GError) int_error = NULL;
        g_autoptr(GError) string_error = NULL;
        g_autoptr(GError) list_error = NULL;
        g_autofree char *string = NULL;
        g_auto(GStrv) list = NULL;
        gboolean b;
        guint u;
        gint64 i;

        g_assert_true(vmlock_config_has_key(config, key));
        /* Exactly one of int/string/list succeeds for a key that is present. */
        (void) vmlock_config_get_bool(config, key, FALSE, &b, &bool_error);
        (void) vmlock_config_get_uint(config, key, 0, &u, &uint_error);
        (void) vmlock_config_get_int(config, key, 0, &i, &int_error);
        (void) vmlock_config_get_string(config, key, "x", &string, &string_error);
        (void) vmlock_config_get_string_list(config, key, default_list, &list, &list_error);
        g_assert_true((int_error == NULL) + (string_error == NULL) <= 1);
        if (string_error == NULL)
                g_assert_true(list_error == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const known[] = { "host_id", "user", NULL };
        static gboolean initialised;
        g_autoptr(GError) error = NULL;
        g_autoptr(VmlockConfig) config = NULL;
        g_auto(GStrv) keys = NULL;

        if (!initialised) {
                /* Unknown-key warnings are expected here; don't flood stderr. */
                g_log_set_handler("vmlock-config", G_LOG_LEVEL_MASK, discard_log, NULL);
                initialised = TRUE;
        }

        config = vmlock_config_parse((const char *) data, size, "fuzz.conf", &error);
        if (!config) {
                g_assert_nonnull(error);
                g_assert_nonnull(error->message);
                return 0;
        }
        g_assert_null(error);

        keys = vmlock_config_get_keys(config);
        for (guint n = 0; keys[n]; n++)
                read_key(config, keys[n]);
        /* No key starts with a digit, so this one takes its default. */
        g_assert_false(vmlock_config_has_key(config, "0absent"));
        (void) vmlock_config_check_keys(config, known, NULL);
        return 0;
}
