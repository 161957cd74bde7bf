/* vmlock for libvirt: getting vmlock's error messages to libvirt's user. */
#pragma once

#include <glib.h>

/* Reports @error, from vmlock's driver, through libvirt's own error
 * machinery when the process has it (libvirtd, and the child it forks to
 * start QEMU, which hands the error back to libvirtd): `virsh` then prints
 * vmlock's words. Elsewhere it goes to stderr. @error may be NULL (a
 * failure without a message: reported as an internal error). */
void vmlock_libvirt_report(const GError *error);

/* Looks libvirt's reporting up now, in libvirtd (init): not for the first
 * time in the child libvirt forks, where taking the loader's lock is not
 * safe. */
void vmlock_libvirt_report_init(void);

/* A warning that fails nothing, to stderr: in the child that starts QEMU,
 * libvirt writes it to the domain's log. */
void vmlock_libvirt_warn(const char *format, ...) G_GNUC_PRINTF(1, 2);
