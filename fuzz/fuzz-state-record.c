/* vmlock: libFuzzer target for the state-record reader (src/supervisor/state_dir.c).
 *
 * A record is read by root (the lock-failure helper, run by sanlock), so it
 * is input like any other: whatever the bytes, the reader returns a record or
 * an error, and a record it returns writes out and reads back the same. */
#include "config-build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmlock/domain.h>
#include <vmlock/error.h>

#include "supervisor/state_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise is a crash. */
static void
check(gboolean ok)
{
        if (!ok)
                abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GuestRecord) record = NULL;
        g_autoptr(GuestRecord) again = NULL;
        g_autofree char *out = NULL;
        g_autofree char *out_again = NULL;
        gsize len = 0, len_again = 0;

        record = guest_record_from_data((const char *)data, size, "fuzz.state", &error);
        if (!record) {
                check(error != NULL && error->domain == VMLOCK_ERROR && error->message);
                return 0;
        }
        check(error == NULL);
        check(record->dom != NULL);
        check(vmlock_domain_get_name(record->dom) != NULL);

        /* What it read, it writes; what it wrote, it reads back as it was. */
        out = guest_record_to_data(record, &len);
        check(out != NULL);
        again = guest_record_from_data(out, len, "fuzz.state", &error);
        check(again != NULL && error == NULL);
        out_again = guest_record_to_data(again, &len_again);
        check(len == len_again && memcmp(out, out_again, len) == 0);
        return 0;
}
