/* vmlock tests: what the recording test driver (test-driver.so) offers the tests. */
#pragma once

#include <glib.h>

#define TEST_DRIVER_EXPORT __attribute__((visibility("default")))

/* Names the callback that fails ("init", "new", "add_resource", "acquire",
 * "release", "inquire", "describe_resource",
 * "state_holds_resource") with VMLOCK_ERROR_LEASE_BUSY
 * "test driver: injected failure in CALLBACK". "CALLBACK:silent" fails it
 * without an error, as a buggy driver might. */
#define TEST_DRIVER_FAIL_ENV "VMLOCK_TEST_DRIVER_FAIL"

/* The calls recorded since the last take, one string each, oldest first
 * (transfer full). Look it up with dlsym() on a dlopen() of test-driver.so. */
#define TEST_DRIVER_TAKE_CALLS_SYMBOL "test_driver_take_calls"
typedef GPtrArray *(*TestDriverTakeCallsFunc)(void);
GPtrArray *test_driver_take_calls(void);
