/* vmlock tests: a lock driver that records every call it gets, for the tests to compare. */
#define G_LOG_DOMAIN "vmlock-test-driver"

#include "config-build.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <vmlock/error.h>

#include "locking/lock_driver.h"
#include "test-driver.h"

/* Plugins link only GLib: this is the quark libvmlock's error domain uses. */
#define TEST_ERROR (g_quark_from_static_string("vmlock-error-quark"))

/* The tests dlopen() this same file and read what it recorded. */
static GPtrArray *calls;
static guint state_serial;

static void record(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
record(const char *fmt, ...)
{
        va_list args;

        if (!calls)
                calls = g_ptr_array_new_with_free_func(g_free);
        va_start(args, fmt);
        g_ptr_array_add(calls, g_strdup_vprintf(fmt, args));
        va_end(args);
}

TEST_DRIVER_EXPORT GPtrArray *
test_driver_take_calls(void)
{
        GPtrArray *taken = calls;

        calls = NULL;
        return taken ? taken : g_ptr_array_new_with_free_func(g_free);
}

/* TEST_DRIVER_FAIL_ENV names the callback that fails this time; with a
 * ":silent" suffix it fails without setting an error, as a buggy driver might. */
static gboolean
injected_failure(const char *callback, GError **error)
{
        const char *fail = g_getenv(TEST_DRIVER_FAIL_ENV);
        g_autofree char *silent = g_strconcat(callback, ":silent", NULL);

        if (!fail)
                return FALSE;
        if (g_str_equal(fail, silent))
                return TRUE;
        if (!g_str_equal(fail, callback))
                return FALSE;
        g_set_error(error, TEST_ERROR, VMLOCK_ERROR_LEASE_BUSY,
                    "test driver: injected failure in %s", callback);
        return TRUE;
}

/* A driver rejects flags it does not know; the tests rely on this to catch
 * a caller passing the wrong ones. */
static gboolean
check_flags(const char *callback, unsigned int flags, unsigned int known, GError **error)
{
        if (flags & ~known) {
                g_set_error(error, TEST_ERROR, VMLOCK_ERROR_INVALID_ARG,
                            "test driver: %s: unsupported flags 0x%x", callback, flags & ~known);
                return FALSE;
        }
        return TRUE;
}

/* Flag names, so the expected call lists read as what they mean. */
static char *
flags_string(unsigned int flags, const char *const *names)
{
        g_autoptr(GString) s = g_string_new(NULL);
        guint bit;

        if (!flags)
                return g_strdup("0");
        for (bit = 0; names[bit]; bit++) {
                if (!(flags & (1u << bit)))
                        continue;
                if (s->len)
                        g_string_append_c(s, '|');
                g_string_append(s, names[bit]);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static const char *const new_flag_names[] = { "started", NULL };
static const char *const resource_flag_names[] = { "readonly", "shared", NULL };
static const char *const acquire_flag_names[] = { "register-only", "restrict", "handover",
                                                        NULL };

static char *
params_string(gsize n_params, const VmlockLockParam *params)
{
        g_autoptr(GString) s = g_string_new(NULL);
        gsize i;

        for (i = 0; i < n_params; i++) {
                const VmlockLockParam *p = &params[i];
                const guint8 *u = p->value.uuid;

                g_string_append_printf(s, " %s=", p->key);
                switch (p->type) {
                case VMLOCK_LOCK_PARAM_STRING:
                        g_string_append_printf(s, "string:%s", p->value.str ? p->value.str
                                                                            : "(null)");
                        break;
                case VMLOCK_LOCK_PARAM_INT:
                        g_string_append_printf(s, "int:%d", p->value.i);
                        break;
                case VMLOCK_LOCK_PARAM_UINT:
                        g_string_append_printf(s, "uint:%u", p->value.ui);
                        break;
                case VMLOCK_LOCK_PARAM_ULONG:
                        g_string_append_printf(s, "ulong:%" G_GUINT64_FORMAT, p->value.ul);
                        break;
                case VMLOCK_LOCK_PARAM_UUID:
                        g_string_append_printf(s,
                                               "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
                                               "%02x%02x-%02x%02x%02x%02x%02x%02x",
                                               u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                                               u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                                               u[15]);
                        break;
                default:
                        g_string_append_printf(s, "type-%d", p->type);
                        break;
                }
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static const char *
param_string(gsize n_params, const VmlockLockParam *params, const char *key)
{
        gsize i;

        for (i = 0; i < n_params; i++) {
                if (g_str_equal(params[i].key, key) && params[i].type == VMLOCK_LOCK_PARAM_STRING)
                        return params[i].value.str;
        }
        return NULL;
}

static const char *
action_string(VmlockLockFailureAction action)
{
        static const char *const names[] = {
                "default", "poweroff", "restart", "pause", "ignore",
        };

        if ((guint) action < G_N_ELEMENTS(names))
                return names[action];
        return "unknown";
}

static gboolean
test_init(unsigned int version, const char *config_file, unsigned int flags,
          VmlockProgressFunc progress, gpointer progress_data, GError **error)
{
        record("init version=%u config=%s flags=%u", version, config_file, flags);
        if (progress)
                progress("test driver: initialising", progress_data);
        if (injected_failure("init", error))
                return FALSE;
        return check_flags("init", flags, VMLOCK_LOCK_INIT_READ_ONLY, error);
}

static void
test_deinit(void)
{
        record("deinit");
}

static gboolean
test_new_object(VmlockLockObject *object, unsigned int type, gsize n_params,
                const VmlockLockParam *params, unsigned int flags, GError **error)
{
        g_autofree char *f = flags_string(flags, new_flag_names);
        g_autofree char *p = params_string(n_params, params);

        if (type == VMLOCK_LOCK_OBJECT_DOMAIN)
                record("new type=domain flags=%s%s", f, p);
        else
                record("new type=%u flags=%s%s", type, f, p);
        if (injected_failure("new", error))
                return FALSE;
        if (!check_flags("new", flags, VMLOCK_LOCK_NEW_STARTED, error))
                return FALSE;
        /* Private data, so free is seen to get the object it made. */
        object->priv = g_strdup(param_string(n_params, params, "name"));
        return TRUE;
}

static void
test_free_object(VmlockLockObject *object)
{
        record("free name=%s", object->priv ? (char *) object->priv : "(null)");
        g_clear_pointer(&object->priv, g_free);
}

static gboolean
test_add_resource(VmlockLockObject *object, unsigned int type, const char *name,
                  gsize n_params, const VmlockLockParam *params, unsigned int flags,
                  GError **error)
{
        g_autofree char *f = flags_string(flags, resource_flag_names);
        g_autofree char *p = params_string(n_params, params);
        g_autofree char *t = NULL;

        if (type == VMLOCK_LOCK_RESOURCE_DISK)
                t = g_strdup("disk");
        else if (type == VMLOCK_LOCK_RESOURCE_LEASE)
                t = g_strdup("lease");
        else
                t = g_strdup_printf("%u", type);
        record("add_resource type=%s name=%s flags=%s%s", t, name, f, p);
        if (injected_failure("add_resource", error))
                return FALSE;
        return check_flags("add_resource", flags,
                           VMLOCK_LOCK_RESOURCE_READONLY | VMLOCK_LOCK_RESOURCE_SHARED, error);
}

static gboolean
test_acquire(VmlockLockObject *object, const char *state, unsigned int flags,
             VmlockLockFailureAction action, int *ret_fd, GError **error)
{
        g_autofree char *f = flags_string(flags, acquire_flag_names);
        int fd;

        record("acquire state=%s flags=%s action=%s fd=%s", state ? state : "(null)", f,
               action_string(action), ret_fd ? "yes" : "no");
        if (injected_failure("acquire", error))
                return FALSE;
        if (!check_flags("acquire", flags,
                         VMLOCK_LOCK_ACQUIRE_REGISTER_ONLY | VMLOCK_LOCK_ACQUIRE_RESTRICT |
                                 VMLOCK_LOCK_ACQUIRE_HANDOVER,
                         error))
                return FALSE;
        if (!ret_fd)
                return TRUE;

        /* A real fd, as a driver's socket would be, for the caller to pass on. */
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                g_set_error(error, TEST_ERROR, VMLOCK_ERROR_IO, "test driver: /dev/null: %s",
                            g_strerror(errno));
                return FALSE;
        }
        *ret_fd = fd;
        return TRUE;
}

static gboolean
test_release(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        record("release state=%s flags=%u", ret_state ? "yes" : "no", flags);
        if (injected_failure("release", error))
                return FALSE;
        if (!check_flags("release", flags, 0, error))
                return FALSE;
        if (ret_state)
                *ret_state = g_strdup_printf("state-%u", ++state_serial);
        return TRUE;
}

static gboolean
test_inquire(VmlockLockObject *object, char **ret_state, unsigned int flags, GError **error)
{
        record("inquire state=%s flags=%u", ret_state ? "yes" : "no", flags);
        if (injected_failure("inquire", error))
                return FALSE;
        if (!check_flags("inquire", flags, 0, error))
                return FALSE;
        if (ret_state)
                *ret_state = g_strdup_printf("state-%u", ++state_serial);
        return TRUE;
}

static gboolean
test_describe_resource(unsigned int type, const char *name, gsize n_params,
                       const VmlockLockParam *params, unsigned int flags,
                       char **ret_description, GError **error)
{
        g_autofree char *p = params_string(n_params, params);

        record("describe_resource type=%s name=%s flags=%u%s",
               type == VMLOCK_LOCK_RESOURCE_DISK ? "disk" : "other", name, flags, p);
        if (injected_failure("describe_resource", error))
                return FALSE;
        if (!check_flags("describe_resource", flags, 0, error))
                return FALSE;
        *ret_description = g_strdup_printf("test driver: %s is free", name);
        return TRUE;
}

/* Held when @name is one of the space-separated words of @state, so a test
 * writes the state it wants. */
static gboolean
test_state_holds_resource(const char *state, unsigned int type, const char *name,
                          gsize n_params, const VmlockLockParam *params, unsigned int flags,
                          gboolean *ret_held, GError **error)
{
        g_autofree char *p = params_string(n_params, params);
        g_auto(GStrv) words = NULL;

        record("state_holds_resource state=%s type=%s name=%s flags=%u%s", state,
               type == VMLOCK_LOCK_RESOURCE_DISK ? "disk" :
               type == VMLOCK_LOCK_RESOURCE_LEASE ? "lease" : "other", name, flags, p);
        if (injected_failure("state_holds_resource", error))
                return FALSE;
        if (!check_flags("state_holds_resource", flags, 0, error))
                return FALSE;
        words = g_strsplit(state, " ", -1);
        *ret_held = g_strv_contains((const char *const *)words, name);
        return TRUE;
}

/* Released unless @state has the word "stuck". */
static gboolean
test_wait_released(const char *state, guint timeout_ms, unsigned int flags,
                   gboolean *ret_released, GError **error)
{
        g_auto(GStrv) words = NULL;

        record("wait_released state=%s timeout_ms=%u flags=%u", state, timeout_ms, flags);
        if (injected_failure("wait_released", error))
                return FALSE;
        if (!check_flags("wait_released", flags, 0, error))
                return FALSE;
        words = g_strsplit(state, " ", -1);
        *ret_released = !g_strv_contains((const char *const *)words, "stuck");
        return TRUE;
}

TEST_DRIVER_EXPORT const VmlockLockDriver vmlock_lock_driver = {
        .version = VMLOCK_LOCK_DRIVER_VERSION,
        .flags = VMLOCK_LOCK_DRIVER_USES_STATE,
        .init = test_init,
        .deinit = test_deinit,
        .new_object = test_new_object,
        .free_object = test_free_object,
        .add_resource = test_add_resource,
        .acquire = test_acquire,
        .release = test_release,
        .inquire = test_inquire,
        .describe_resource = test_describe_resource,
        .state_holds_resource = test_state_holds_resource,
        .wait_released = test_wait_released,
};
