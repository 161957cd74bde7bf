/* vmlock: reader for config files in libvirt's syntax.
 *
 *   # comment
 *   key = 1                      integer (optionally signed)
 *   key = "string"               or 'string'
 *   key = [ "a", 'b', 3, ]       list, may span lines, trailing comma allowed
 */
#pragma once

#include <vmlock/vmlock-common.h>

G_BEGIN_DECLS

typedef struct _VmlockConfig VmlockConfig;

/* A missing file gives an empty config (every getter returns its default);
 * an unreadable or malformed one is a VMLOCK_ERROR_CONFIG naming file and line. */
VMLOCK_EXPORT VmlockConfig *vmlock_config_load(const char *path, GError **error);
/* Parses text in memory; @filename is only used in messages. */
VMLOCK_EXPORT VmlockConfig *vmlock_config_parse(const char *text, gsize len,
                                                const char *filename, GError **error);
VMLOCK_EXPORT void vmlock_config_free(VmlockConfig *config);

/* The file name the config was read from (as given to load/parse). */
VMLOCK_EXPORT const char *vmlock_config_get_filename(const VmlockConfig *config);
VMLOCK_EXPORT gboolean vmlock_config_has_key(const VmlockConfig *config, const char *key);
/* The keys set in the file, in file order, as a new NULL-terminated array. */
VMLOCK_EXPORT GStrv vmlock_config_get_keys(const VmlockConfig *config);

/* Typed getters. An absent key gives @default_value. A present key of the wrong
 * type, or out of range, is a VMLOCK_ERROR_CONFIG naming file, line and key.
 * ret_* is written on success only. */
VMLOCK_EXPORT gboolean vmlock_config_get_bool(const VmlockConfig *config, const char *key,
                                              gboolean default_value, gboolean *ret_value,
                                              GError **error);
VMLOCK_EXPORT gboolean vmlock_config_get_uint(const VmlockConfig *config, const char *key,
                                              guint default_value, guint *ret_value,
                                              GError **error);
VMLOCK_EXPORT gboolean vmlock_config_get_int(const VmlockConfig *config, const char *key,
                                             gint64 default_value, gint64 *ret_value,
                                             GError **error);
VMLOCK_EXPORT gboolean vmlock_config_get_string(const VmlockConfig *config, const char *key,
                                                const char *default_value, char **ret_value,
                                                GError **error);
/* A list of strings; a single string is accepted as a one-element list.
 * An absent key gives a copy of @default_value (NULL gives an empty list). */
VMLOCK_EXPORT gboolean vmlock_config_get_string_list(const VmlockConfig *config,
                                                     const char *key,
                                                     const char *const *default_value,
                                                     GStrv *ret_value, GError **error);

/* Refuses (VMLOCK_ERROR_CONFIG, "FILE:LINE: unknown key 'KEY'", with the
 * known key it is a typo of, if any) the first key of the file not in the
 * NULL-terminated @known_keys: a misspelt key must not leave its default
 * (no protection) in force silently. */
VMLOCK_EXPORT gboolean vmlock_config_check_keys(const VmlockConfig *config,
                                                const char *const *known_keys,
                                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmlockConfig, vmlock_config_free)

G_END_DECLS
