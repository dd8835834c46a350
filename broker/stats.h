/* SPDX-License-Identifier: ISC */
/* The broker's counters behind GET /metrics. */
#ifndef SEALMD_STATS_H
#define SEALMD_STATS_H

#include "privsep/msg.h"

struct broker;

void	stats_count(const char *, unsigned int);
void	stats_http(int, unsigned int, int);
void	stats_hist(struct msg_hist *, enum met_hist, double);
void	stats_rtt(double);
void	stats_restart(enum met_cause);
void	stats_fill(const struct broker *, struct msg_metrics_ans *);

#endif
