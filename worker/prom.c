/* SPDX-License-Identifier: ISC */
/*
 * GET /metrics: the broker's counts in Prometheus text format 0.0.4.
 * Labels are operation names, status codes, listener names and restart
 * causes; never an instance id or anything secret.
 */
#include <stdio.h>
#include <string.h>

#include "privsep/log.h"
#include "worker.h"

/* A label value: backslash, quote and newline escaped, as the format says. */
static int
prom_label(struct bbuf *o, const char *v)
{
	int	r = 0;

	for (; *v != '\0' && r == 0; v++) {
		if (*v == '\\')
			r = bbuf_add_str(o, "\\\\");
		else if (*v == '"')
			r = bbuf_add_str(o, "\\\"");
		else if (*v == '\n')
			r = bbuf_add_str(o, "\\n");
		else
			r = bbuf_add(o, v, 1);
	}
	return r;
}

static int
prom_head(struct bbuf *o, const char *name, const char *type,
    const char *help)
{
	return bbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static int
prom_status(unsigned int s, char *buf, size_t bufsz)
{
	int	n;

	n = s == 0 ? snprintf(buf, bufsz, "other") :
	    snprintf(buf, bufsz, "%u", s);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

static int
prom_hist(struct bbuf *o, const char *name, const char *help,
    const struct msg_hist *h, enum met_hist which)
{
	const double	*bounds = met_bounds(which);
	uint64_t	 cum = 0;
	size_t		 i;
	int		 r;

	r = prom_head(o, name, "histogram", help);
	for (i = 0; i < MET_BUCKETS && r == 0; i++) {
		cum += h->mh_bucket[i];
		if (i < MET_BUCKETS - 1)
			r = bbuf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name,
			    bounds[i], (unsigned long long)cum);
		else
			r = bbuf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n",
			    name, (unsigned long long)cum);
	}
	if (r == 0)
		r = bbuf_printf(o, "%s_sum %.9g\n%s_count %llu\n", name,
		    h->mh_sum, name, (unsigned long long)h->mh_count);
	return r;
}

void
prom_render(struct bbuf *o, const struct msg_metrics_ans *mm)
{
	char		st[16];
	size_t		i, j;
	int		r;

	r = prom_head(o, "sealmd_requests_total", "counter",
	    "Operations answered, by operation and status; "
	    "op=worker.alone: answers the worker gave without one.");
	for (i = 0; i < MET_OPS && r == 0; i++)
		for (j = 0; j < MET_STATUSES && r == 0; j++) {
			if (mm->mm_ops[i][j] == 0)
				continue;
			r = prom_status(met_statuses[j], st, sizeof(st)) ||
			    bbuf_printf(o, "sealmd_requests_total{op=\"%s\","
			    "status=\"%s\"} %llu\n", met_ops[i], st,
			    (unsigned long long)mm->mm_ops[i][j]);
		}
	if (r == 0)
		r = prom_head(o, "sealmd_listener_requests_total", "counter",
		    "HTTP answers sent, by listener and status, as the "
		    "worker reports them.");
	for (i = 0; i < mm->mm_nlisten && i < MET_LISTENERS && r == 0; i++)
		for (j = 0; j < MET_STATUSES && r == 0; j++) {
			if (mm->mm_listener[i][j] == 0)
				continue;
			r = prom_status(met_statuses[j], st, sizeof(st)) ||
			    bbuf_add_str(o, "sealmd_listener_requests_total"
			    "{listener=\"") || prom_label(o, mm->mm_lname[i]) ||
			    bbuf_printf(o, "\",status=\"%s\"} %llu\n", st,
			    (unsigned long long)mm->mm_listener[i][j]);
		}
	if (r == 0)
		r = prom_hist(o, "sealmd_channel_rtt_seconds", "Round trip of "
		    "a ping from broker to worker.", &mm->mm_hist[MET_H_RTT],
		    MET_H_RTT) ||
		    prom_hist(o, "sealmd_store_commit_seconds", "Time to "
		    "commit one group of writes.", &mm->mm_hist[MET_H_COMMIT],
		    MET_H_COMMIT) ||
		    prom_hist(o, "sealmd_store_commit_group_size", "Writes "
		    "sharing one commit.", &mm->mm_hist[MET_H_GROUP],
		    MET_H_GROUP) ||
		    prom_head(o, "sealmd_worker_restarts_total", "counter",
		    "Worker restarts, by cause.");
	for (i = 0; i < MET_CAUSES && r == 0; i++)
		r = bbuf_printf(o, "sealmd_worker_restarts_total{cause=\"%s\"} "
		    "%llu\n", met_causes[i],
		    (unsigned long long)mm->mm_restarts[i]);
	if (r == 0)
		r = prom_head(o, "sealmd_connections_open", "gauge",
		    "Connections open now, by role.") ||
		    bbuf_printf(o,
		    "sealmd_connections_open{role=\"guest\"} %u\n"
		    "sealmd_connections_open{role=\"owner\"} %u\n",
		    mm->mm_conns_guest, mm->mm_conns_owner) ||
		    prom_head(o, "sealmd_ratelimit_refusals_total", "counter",
		    "Guest operations refused by the rate limit (429).") ||
		    bbuf_printf(o, "sealmd_ratelimit_refusals_total %llu\n",
		    (unsigned long long)mm->mm_ratelimited) ||
		    prom_head(o, "sealmd_instances_registered", "gauge",
		    "Registered instances.") ||
		    bbuf_printf(o, "sealmd_instances_registered %u\n",
		    mm->mm_instances) ||
		    prom_head(o, "sealmd_passwords_stored", "gauge",
		    "Instances with a stored value.") ||
		    bbuf_printf(o, "sealmd_passwords_stored %u\n",
		    mm->mm_passwords) ||
		    prom_head(o, "sealmd_owner_waiters", "gauge",
		    "Owner GETs waiting for a guest's POST (?wait=).") ||
		    bbuf_printf(o, "sealmd_owner_waiters %u\n", mm->mm_waiters);
	if (r != 0)
		fatalx("metrics do not fit the answer buffer");
}
