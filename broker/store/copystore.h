/* SPDX-License-Identifier: ISC */
/*
 * Moving every instance and sealed value from one store to another, each
 * named by its engine and target (a SQLite path, a PostgreSQL conninfo).
 */
#ifndef SEALMD_COPYSTORE_H
#define SEALMD_COPYSTORE_H

#include "store.h"

int	copystore_run(enum store_engine, const char *, enum store_engine,
	    const char *);

#endif
