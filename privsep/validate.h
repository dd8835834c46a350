/* SPDX-License-Identifier: ISC */
/*
 * Field validators shared by the worker (to answer 400 early) and the
 * broker (which trusts nothing the worker says and checks again).
 */
#ifndef SEALMD_VALIDATE_H
#define SEALMD_VALIDATE_H

#include <stddef.h>

#include "msg.h"

int	valid_uuid(const char *);
int	valid_project(const char *);
int	valid_hostname(const char *);
int	valid_addr(const char *);
int	valid_ifname(const char *);
int	valid_net(const char *);
const char *addr_why(const char *);
const char *addr_net(const char *);
int	valid_key_name(const char *);
int	valid_key_data(const char *);
int	valid_instance(const struct msg_instance *);

#endif
