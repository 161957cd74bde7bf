/* vmlock: the security labeller: the guest's lock fd and process get its SELinux label. */
#pragma once

#include <vmlock/domain.h>

G_BEGIN_DECLS

/* In the guest's process, before exec: when @dom has <seclabel model='selinux'>
 * with a <label> and SELinux is enabled, labels @fd (if >= 0) with it and makes
 * the next exec run under it; otherwise does nothing. */
gboolean seclabel_apply(const VmlockDomain *dom, int fd, GError **error);

G_END_DECLS
