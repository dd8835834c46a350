/* SPDX-License-Identifier: ISC */
/*
 * Moving every instance and sealed value from one store to another.
 */
#ifndef SEALMD_COPYSTORE_H
#define SEALMD_COPYSTORE_H

#include "broker/config.h"

int	copystore_run(const struct config *, const struct config *);

#endif
