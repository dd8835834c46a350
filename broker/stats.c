/* SPDX-License-Identifier: ISC */
/*
 * The broker's counters: operations by status, answers by listener, the
 * worker's ping round trip and its restarts by cause.  GET /metrics
 * sends them raw to the worker, which renders the text (worker/prom.c).
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "stats.h"
#include "waiters.h"
#include "writer.h"

static struct {
	uint64_t	s_ops[MET_OPS][MET_STATUSES];
	uint64_t	s_listener[MET_LISTENERS][MET_STATUSES];
	struct msg_hist	s_rtt;
	uint64_t	s_restarts[MET_CAUSES];
	uint64_t	s_ratelimited;
} stats;

/* Every operation passes here once, with its final status. */
void
stats_count(const char *op, unsigned int status)
{
	stats.s_ops[met_op_index(op)][met_status_index(status)]++;
	if (status == 429)
		stats.s_ratelimited++;
}

/*
 * The worker says it sent an HTTP answer (MSG_HTTP_SENT) on a connection
 * of this listener, which the broker knows; alone: no operation asked the
 * broker for it (a scan's 404, a malformed request's 400).  Only as true
 * as the worker: SECURITY.md.
 */
void
stats_http(int listener, unsigned int status, int alone)
{
	size_t	si = met_status_index(status);

	if (listener >= 0 && listener < MET_LISTENERS)
		stats.s_listener[listener][si]++;
	if (alone)
		stats.s_ops[met_op_index("worker.alone")][si]++;
}

void
stats_hist(struct msg_hist *h, enum met_hist which, double v)
{
	h->mh_bucket[met_bucket(which, v)]++;
	h->mh_count++;
	h->mh_sum += v;
}

void
stats_rtt(double seconds)
{
	stats_hist(&stats.s_rtt, MET_H_RTT, seconds);
}

void
stats_restart(enum met_cause cause)
{
	stats.s_restarts[cause]++;
}

void
stats_fill(const struct broker *b, struct msg_metrics_ans *mm)
{
	size_t	i;

	memcpy(mm->mm_ops, stats.s_ops, sizeof(mm->mm_ops));
	memcpy(mm->mm_listener, stats.s_listener, sizeof(mm->mm_listener));
	memcpy(mm->mm_restarts, stats.s_restarts, sizeof(mm->mm_restarts));
	mm->mm_hist[MET_H_RTT] = stats.s_rtt;
	writer_stats(&mm->mm_hist[MET_H_COMMIT], &mm->mm_hist[MET_H_GROUP]);
	mm->mm_ratelimited = stats.s_ratelimited;
	mm->mm_nlisten = (uint32_t)(b->b_nlisten < MET_LISTENERS ?
	    b->b_nlisten : MET_LISTENERS);
	for (i = 0; i < mm->mm_nlisten; i++)
		(void)snprintf(mm->mm_lname[i], sizeof(mm->mm_lname[i]), "%s",
		    b->b_listen[i].l_name);
	mm->mm_conns_guest = b->b_nconns[ROLE_GUEST];
	mm->mm_conns_owner = b->b_nconns[ROLE_OWNER];
	mm->mm_waiters = (uint32_t)waiters_count();
	(void)store_counts(b->b_store, &mm->mm_instances, &mm->mm_passwords);
}
