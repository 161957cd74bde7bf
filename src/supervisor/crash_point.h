/* vmlock: named points in the supervisor where a test can have it stop.
 *
 * TEST ONLY. With VMLOCK_TEST_SUPERVISOR_STOP_AT=POINT in the environment of
 * `vmlock start`, its supervisor stops itself (SIGSTOP) on reaching POINT,
 * so a test can kill -9 it exactly there and check what the commands say
 * afterwards. It gives nobody anything they could not do already: whoever
 * sets the supervisor's environment can stop or kill it at any moment, and a
 * stopped supervisor is no more than a slow one (no lease is taken or kept
 * because of it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The leases were released for pause --release; the record not yet saved. */
#define CRASH_POINT_RELEASED "released"
/* attach-disk's lease was taken; the record and QEMU not yet told. */
#define CRASH_POINT_DISK_LEASED "disk-leased"

void crash_point(const char *point);

G_END_DECLS
