/* vmlock tests: helpers shared by the locking tests (the recording driver). */
#pragma once

#include <glib.h>

/* $VMLOCK_PLUGIN_DIR, where meson built the test plugins. */
const char *locking_test_plugin_dir(void);
/* <plugin dir>/<name>.so */
char *locking_test_plugin_path(const char *name);
/* The calls test-driver.so recorded since the last take, as a NULL-terminated array.
 * The first call dlopen()s test-driver.so and keeps it loaded, so what it records
 * outlives the managers that load it. */
GStrv locking_test_take_calls(void);
/* TRUE when @name.so is loaded in this process (checked with RTLD_NOLOAD). */
gboolean locking_test_plugin_is_loaded(const char *name);

/* Takes the recorded calls and compares them with @expected. */
#define locking_test_assert_calls(...)                                          \
        G_STMT_START {                                                          \
                const char *const expected_[] = { __VA_ARGS__, NULL };          \
                g_auto(GStrv) got_ = locking_test_take_calls();                 \
                g_assert_cmpstrv(got_, expected_);                              \
        } G_STMT_END
#define locking_test_assert_no_calls()                                          \
        G_STMT_START {                                                          \
                const char *const none_[] = { NULL };                           \
                g_auto(GStrv) got_ = locking_test_take_calls();                 \
                g_assert_cmpstrv(got_, none_);                                  \
        } G_STMT_END
