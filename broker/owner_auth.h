/* SPDX-License-Identifier: ISC */
/*
 * Who may use the owner API: decided by the broker from the SO_PEERCRED
 * credentials the kernel gave it at accept().
 */
#ifndef SEALMD_OWNER_AUTH_H
#define SEALMD_OWNER_AUTH_H

#include <sys/types.h>

#include "config.h"

int	owner_auth_init(const struct config *);
void	owner_auth_reload(const struct config *, char *, size_t);
int	owner_auth_allowed(uid_t, gid_t);

#endif
