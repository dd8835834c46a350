/* SPDX-License-Identifier: ISC */
/*
 * The metric names both processes agree on (metrics.h): the broker
 * counts by these indexes, the worker renders them for GET /metrics.
 */
#include <string.h>

#include "metrics.h"

const char *const met_ops[MET_OPS] = {
	"guest.ident", "guest.meta", "guest.pw.get", "guest.pw.put",
	"guest.token", "owner.instance.put", "owner.instance.get",
	"owner.instance.delete", "owner.instance.list", "owner.pw.get",
	"owner.pw.clear", "owner.status", "owner.metrics", "owner.keys",
	    "key.rotate", "key.rewrap", "key.reseal", "key.retire",
	    "pw.expire", "pw.one_time_clear", "owner.pw.verify",
	    "owner.instance.batch", "worker.alone", "other",
};

/* The last entry stands for every status not listed. */
const unsigned int met_statuses[MET_STATUSES] = {
	200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 411, 413, 414,
	417, 424, 429, 431, 500, 501, 503, 505, 0,
};

const char *const met_causes[MET_CAUSES] = {
	"violation", "hang", "seccomp", "signal", "exit",
};

/* Upper bounds; the last bucket is +Inf. */
static const double met_bounds_tab[MET_NHIST][MET_BUCKETS - 1] = {
	[MET_H_RTT] = { 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	    0.005, 0.01, 0.05, 0.1, 1 },
	[MET_H_COMMIT] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	    0.01, 0.025, 0.05, 0.1, 1 },
	[MET_H_GROUP] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 },
};

int
met_op_index(const char *op)
{
	int	i;

	for (i = 0; i < MET_OPS - 1; i++)
		if (strcmp(met_ops[i], op) == 0)
			return i;
	return MET_OPS - 1;
}

size_t
met_status_index(unsigned int status)
{
	size_t	i;

	for (i = 0; i < MET_STATUSES - 1; i++)
		if (met_statuses[i] == status)
			return i;
	return MET_STATUSES - 1;
}

const double *
met_bounds(enum met_hist h)
{
	return met_bounds_tab[h];
}

size_t
met_bucket(enum met_hist h, double v)
{
	size_t	i;

	for (i = 0; i < MET_BUCKETS - 1; i++)
		if (v <= met_bounds_tab[h][i])
			return i;
	return MET_BUCKETS - 1;
}
