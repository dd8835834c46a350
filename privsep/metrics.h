/* SPDX-License-Identifier: ISC */
/*
 * What both processes agree on about metrics: the operations and statuses
 * counted and the histogram buckets.  The broker counts, and sends raw
 * numbers (struct msg_metrics_ans); the worker renders Prometheus text.
 * No label carries an instance id or any secret.
 */
#ifndef SEALMD_METRICS_H
#define SEALMD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define MET_OPS			24
#define MET_STATUSES		22	/* the last is "other" */
#define MET_LISTENERS		20
#define MET_BUCKETS		12	/* the last is +Inf */
#define MET_CAUSES		5

enum met_hist {
	MET_H_RTT,		/* channel ping round trip, seconds */
	MET_H_COMMIT,		/* store batch commit, seconds */
	MET_H_GROUP,		/* writes per commit */
	MET_NHIST
};

enum met_cause {
	MET_C_VIOLATION,	/* protocol violation: killed by the broker */
	MET_C_HANG,		/* no answer to ping, or never ready */
	MET_C_SECCOMP,		/* SIGSYS */
	MET_C_SIGNAL,		/* any other signal */
	MET_C_EXIT,		/* exited by itself */
};

extern const char *const met_ops[MET_OPS];
extern const unsigned int met_statuses[MET_STATUSES];
extern const char *const met_causes[MET_CAUSES];

int	 met_op_index(const char *);
size_t	 met_status_index(unsigned int);
const double *met_bounds(enum met_hist);
size_t	 met_bucket(enum met_hist, double);

#endif
