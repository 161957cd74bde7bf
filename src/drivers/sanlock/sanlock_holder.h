/* vmlock sanlock driver: naming the hosts that hold a lease. */
#pragma once

#include <stdint.h>

#include <glib.h>
#include <sanlock.h>

/* "host 2 (node-b)" for each host holding @res, "host 1 (node-a, this
 * host)" for this one, joined with ", "; NULL when no holder can be read.
 * Host names are the sanlock daemons' -e names, read from the hosts'
 * records in the lockspace file. Costs a few hundred microseconds: for
 * error messages only. */
char *vmlock_sanlock_holder_describe(const struct sanlk_resource *res);
