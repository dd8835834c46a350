/* SPDX-License-Identifier: ISC */
/*
 * sealmd-worker, the build without TLS.  The broker runs it when no
 * listener speaks TLS (sealmd-worker-tls otherwise), so none of its
 * connections ever has wc_tls, and the network-facing process maps no
 * TLS or OpenSSL library at all.  Whatever would start TLS here is a
 * protocol violation.
 */
#include <sys/types.h>

#include <stdint.h>

#include "privsep/log.h"
#include "worker.h"

void
wtls_init(uint32_t nctx)
{
	fatalx("%u TLS contexts for a worker built without TLS", nctx);
}

void
wtls_cert(const struct chan_msg *m)
{
	(void)m;
	fatalx("a certificate for a worker built without TLS");
}

int
wtls_conn_new(struct wconn *c, uint32_t ctx)
{
	(void)c;
	log_warnx("TLS context %u for a worker built without TLS", ctx);
	return -1;
}

void
wtls_conn_close(struct wconn *c)
{
	(void)c;
}

ssize_t
wtls_read(struct wconn *c, struct bbuf *bb, size_t max)
{
	(void)c;
	(void)bb;
	(void)max;
	fatalx("TLS read without TLS");
}

ssize_t
wtls_drain(struct wconn *c, struct bbuf *bb, size_t max)
{
	(void)c;
	(void)bb;
	(void)max;
	fatalx("TLS read without TLS");
}

ssize_t
wtls_write(struct wconn *c, struct bbuf *bb)
{
	(void)c;
	(void)bb;
	fatalx("TLS write without TLS");
}

void
wtls_send(struct wconn *c, const void *p, size_t len)
{
	(void)c;
	(void)p;
	(void)len;
	fatalx("TLS write without TLS");
}

uint32_t
wtls_events(const struct wconn *c, uint32_t ev)
{
	(void)c;
	return ev;
}

int
wtls_read_blocked(const struct wconn *c)
{
	(void)c;
	return 0;
}

/* Owner tokens and certificates exist on TLS listeners only. */
void
wtls_owner_token(struct wconn *c, const struct http_req *r)
{
	(void)c;
	(void)r;
}

int
wtls_owner_auth(struct worker *w, struct wconn *c)
{
	(void)w;
	(void)c;
	return 0;
}

void
wtls_owner_answer(struct worker *w, struct wconn *c, const struct chan_msg *m)
{
	(void)w;
	(void)c;
	(void)m;
	fatalx("an owner authentication answer nobody asked for");
}
