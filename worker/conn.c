/* SPDX-License-Identifier: ISC */
/*
 * The worker's event loop and connection state machine.  One request per
 * connection is in flight at a time; pipelined requests wait in the input
 * buffer.  Requests to the broker are asynchronous, matched by request id,
 * so one slow operation never stalls other connections.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/log.h"
#include "worker.h"

#define CONN_EVENTS_MAX		128
#define CONN_READ_MAX		16384
#define CONN_READ_FIRST		2048	/* most requests are far shorter */

static void	conn_new(struct worker *, const struct chan_msg *);
static void	conn_close(struct worker *, struct wconn *);
static void	conn_process(struct worker *, struct wconn *);
static int	conn_tls_drain(struct worker *, struct wconn *);
static void	conn_set_events(struct worker *, struct wconn *, uint32_t);
static void	conn_chan_read(struct worker *);
static void	conn_sweep(struct worker *);
static void	conn_linger(struct worker *, struct wconn *);
static size_t	conn_read_room(const struct bbuf *);
static void	conn_report(struct worker *, uint32_t, uint32_t);

uint64_t
conn_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
conn_set_events(struct worker *w, struct wconn *c, uint32_t ev)
{
	struct epoll_event	ee;

	ev = wtls_events(c, ev);
	if (c->wc_events == ev)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = ev;
	ee.data.u32 = (uint32_t)(c - w->w_conns) + 1;
	if (epoll_ctl(w->w_ep, EPOLL_CTL_MOD, c->wc_fd, &ee) == -1)
		fatal("epoll_ctl");
	c->wc_events = ev;
}

static void
conn_new(struct worker *w, const struct chan_msg *m)
{
	struct msg_conn_new	 mc;
	struct epoll_event	 ee;
	struct wconn		*c = NULL;
	uint32_t		 i;

	if (m->m_fd == -1 || chan_get(m, &mc, sizeof(mc)) == -1 ||
	    mc.mc_listener >= LISTENERS_MAX ||
	    !chan_str_ok(mc.mc_header, sizeof(mc.mc_header)) ||
	    !chan_str_ok(mc.mc_value, sizeof(mc.mc_value)))
		fatalx("broker sent a bad new connection");
	for (i = 0; i < w->w_max; i++)
		if (w->w_conns[i].wc_id == 0) {
			c = &w->w_conns[i];
			break;
		}
	if (c == NULL || w->w_stopping) {
		close(m->m_fd);
		conn_report(w, m->m_hdr.ch_connid, 0);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->wc_id = m->m_hdr.ch_connid;
	c->wc_fd = m->m_fd;
	c->wc_role = (int)mc.mc_role;
	c->wc_ident = (int)mc.mc_ident;
	c->wc_authorized = (int)mc.mc_authorized;
	c->wc_guard = &w->w_guard[mc.mc_listener];
	w->w_guard[mc.mc_listener].wg_tokens = mc.mc_tokens;
	memcpy(w->w_guard[mc.mc_listener].wg_header, mc.mc_header,
	    sizeof(mc.mc_header));
	memcpy(w->w_guard[mc.mc_listener].wg_value, mc.mc_value,
	    sizeof(mc.mc_value));
	c->wc_state = WC_HEAD;
	c->wc_deadline = conn_now_ms() + w->w_init.mi_header_timeout_ms;
	bbuf_init(&c->wc_in, HTTP_HEAD_MAX +
	    (c->wc_role == ROLE_OWNER ? OWNER_BATCH_BODY_MAX :
	    GUEST_BODY_MAX));
	bbuf_init(&c->wc_out, c->wc_role == ROLE_OWNER ? OWNER_OUT_MAX :
	    GUEST_OUT_MAX);
	http_parser_init(&c->wc_hp);
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.u32 = i + 1;
	if (epoll_ctl(w->w_ep, EPOLL_CTL_ADD, c->wc_fd, &ee) == -1)
		fatal("epoll_ctl add");
	c->wc_events = EPOLLIN;
	w->w_nconns++;
	if (mc.mc_tls != 0 && wtls_conn_new(c, mc.mc_tls) == -1)
		conn_close(w, c);
}

static void
conn_close(struct worker *w, struct wconn *c)
{
	(void)epoll_ctl(w->w_ep, EPOLL_CTL_DEL, c->wc_fd, NULL);
	wtls_conn_close(c);
	/*
	 * The broker's dup keeps the socket open past close(2): shut it
	 * down, so that the FIN leaves now, not when the broker reads
	 * MSG_CONN_DONE.  Else a client that has its answer closes first,
	 * and the broker's close pays for both ends' teardown.
	 */
	(void)shutdown(c->wc_fd, SHUT_RDWR);
	close(c->wc_fd);
	owner_batch_gone(w, c);
	owner_cleanup(c);
	bbuf_free(&c->wc_in);
	bbuf_free(&c->wc_out);
	conn_report(w, c->wc_id, 0);
	explicit_bzero(c, sizeof(*c));
	w->w_nconns--;
}

/*
 * Answers sent and connections closed wait in w_rep and go to the broker
 * in one MSG_REPORTS frame: at the end of the turn, when it is full, and
 * before any other frame, so that the broker sees them in the order they
 * happened.  One frame a turn, not one or two a request.
 */
void
conn_reports_flush(struct worker *w)
{
	if (w->w_rep.mrs_n == 0)
		return;
	if (chan_send(&w->w_chan, MSG_REPORTS, 0, 0, &w->w_rep,
	    sizeof(w->w_rep), -1) == -1)
		fatal("channel to broker");
	memset(&w->w_rep, 0, sizeof(w->w_rep));
}

/* status: of an answer sent on connid; 0: connid is closed. */
static void
conn_report(struct worker *w, uint32_t connid, uint32_t status)
{
	if (w->w_rep.mrs_n == REPORTS_MAX)
		conn_reports_flush(w);
	w->w_rep.mrs_r[w->w_rep.mrs_n].mr_connid = connid;
	w->w_rep.mrs_r[w->w_rep.mrs_n++].mr_status = status;
}

/* Send an operation for c; the answer comes back through conn_chan_read. */
int
conn_request(struct worker *w, struct wconn *c, uint32_t type,
    const void *p, size_t len)
{
	c->wc_gen++;
	c->wc_reqid = ((uint32_t)c->wc_gen << 16) | (uint32_t)(c - w->w_conns);
	c->wc_want = type + 1;
	/* Reading goes on (pipelining) while the broker works. */
	c->wc_state = WC_WAIT;
	conn_reports_flush(w);
	if (chan_send(&w->w_chan, type, c->wc_reqid, c->wc_id, p, len, -1) ==
	    -1)
		fatal("channel to broker");
	return 0;
}

/*
 * The answer is in wc_out.  conn_process writes it at once; only what the
 * socket does not take waits for EPOLLOUT.
 */
void
conn_reply_ready(struct worker *w, struct wconn *c)
{
	/* Counted by the broker: GET /metrics sees scans and errors too. */
	if (c->wc_req.wr_sent != 0) {
		conn_report(w, c->wc_id, (uint32_t)c->wc_req.wr_sent);
		c->wc_req.wr_sent = 0;
	}
	c->wc_state = WC_WRITE;
	c->wc_deadline = conn_now_ms() + w->w_init.mi_idle_timeout_ms;
}

/*
 * A complete head: note what the request needs (route, identity, body
 * size) before any further read can move the input buffer.
 */
static void
conn_head_done(struct worker *w, struct wconn *c, const struct http_req *r)
{
	struct wreq	*q = &c->wc_req;
	struct path	 p;
	uint64_t	 max;

	owner_cleanup(c);
	memset(q, 0, sizeof(*q));
	q->wr_method = r->hr_method;
	q->wr_minor = r->hr_minor;
	q->wr_keepalive = r->hr_keepalive && !w->w_stopping;
	q->wr_expect = r->hr_expect_continue;
	wtls_owner_token(c, r);
	if (path_normalize(&r->hr_path, &p) == -1) {
		q->wr_status = 400;
		q->wr_why = "The request path is not valid.";
	} else if (c->wc_role == ROLE_GUEST)
		guest_prepare(c, r, &p);
	else
		owner_prepare(c, r, &p);

	max = c->wc_role == ROLE_GUEST ? GUEST_BODY_MAX :
	    q->wr_endpoint == EP_O_BATCH ? OWNER_BATCH_BODY_MAX :
	    OWNER_BODY_MAX;
	if (r->hr_has_te) {
		/* Chunked bodies are never read: answer and close. */
		q->wr_close = 1;
		if (q->wr_status == 0 && q->wr_endpoint == EP_PASSWORD &&
		    q->wr_method == HTTP_M_POST && r->hr_te_chunked)
			q->wr_reject = 411;
		else if (q->wr_status == 0 && r->hr_te_chunked) {
			q->wr_status = 411;
			q->wr_why = "A Content-Length header is required.";
		} else if (q->wr_status == 0 && r->hr_te_other) {
			q->wr_status = 501;
			q->wr_why = "That transfer coding is not implemented.";
		} else if (q->wr_status == 0) {
			q->wr_status = 400;
			q->wr_why = "The body length is unknown.";
		}
	} else if (r->hr_has_cl && q->wr_endpoint == EP_PASSWORD &&
	    q->wr_method == HTTP_M_POST && r->hr_cl > PW_MAX) {
		/* Nova checks the header value: 5000 with 3 bytes is 400. */
		q->wr_reject = 400;
		q->wr_close = 1;
	} else if (r->hr_has_cl && r->hr_cl > max) {
		if (q->wr_status == 0) {
			q->wr_status = 413;
			q->wr_why = "Request is too large.";
		}
		q->wr_close = 1;
	} else if (r->hr_has_cl)
		q->wr_body_len = (size_t)r->hr_cl;
	if (q->wr_close)
		q->wr_keepalive = 0;
}

void
conn_dispatch(struct worker *w, struct wconn *c)
{
	struct wreq	*q = &c->wc_req;
	struct buf	 in, body;

	bbuf_view(&c->wc_in, &in);
	if (buf_skip(&in, q->wr_head_len) == -1 ||
	    buf_take(&in, q->wr_body_len, &body) == -1)
		fatalx("request body vanished");
	if (c->wc_role == ROLE_GUEST)
		guest_dispatch(w, c, &body);
	else
		owner_dispatch(w, c, &body);
}

/* A request that waited for its turn (a batch) goes on. */
void
conn_resume(struct worker *w, struct wconn *c)
{
	conn_dispatch(w, c);
	conn_process(w, c);
}

/*
 * Before waiting for more input: what TLS read from the socket but did not
 * return (the input buffer was full, or an end of stream or error came
 * behind the data) is invisible to epoll, and the client may send nothing
 * more.  1 if some came, 0 if none, -1 if the connection is closed.
 */
static int
conn_tls_drain(struct worker *w, struct wconn *c)
{
	ssize_t	n;

	if (c->wc_tls == NULL)
		return 0;
	if ((n = wtls_drain(c, &c->wc_in,
	    conn_read_room(&c->wc_in))) > 0) {
		if (c->wc_state == WC_HEAD && c->wc_in.bb_len == (size_t)n)
			c->wc_deadline = conn_now_ms() +
			    w->w_init.mi_header_timeout_ms;
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	conn_close(w, c);
	return -1;
}

/* Everything that can move without waiting: parse, dispatch, pipeline. */
static void
conn_process(struct worker *w, struct wconn *c)
{
	struct http_req	 r;
	struct buf	 in;
	int		 res, status, more;

	for (;;) {
		switch (c->wc_state) {
		case WC_HEAD:
			bbuf_view(&c->wc_in, &in);
			res = http_parse(&c->wc_hp, &in, &r, &status);
			if (res == HTTP_MORE) {
				if ((more = conn_tls_drain(w, c)) != 0) {
					if (more == -1)
						return;
					break;
				}
				conn_set_events(w, c, EPOLLIN);
				return;
			}
			if (res == HTTP_ERROR) {
				memset(&c->wc_req, 0, sizeof(c->wc_req));
				c->wc_req.wr_minor = 1;
				c->wc_req.wr_close = 1;	/* linger */
				if (c->wc_role == ROLE_OWNER)
					reply_json_error(c, status,
					    "malformed request");
				else
					reply_text_error(c, status,
					    "The request is malformed.");
				conn_reply_ready(w, c);
				break;
			}
			conn_head_done(w, c, &r);
			c->wc_req.wr_head_len = r.hr_head_len;
			c->wc_state = WC_BODY;
			c->wc_deadline = conn_now_ms() +
			    w->w_init.mi_body_timeout_ms;
			if (c->wc_req.wr_close) {
				/* Answer without reading what follows. */
				c->wc_req.wr_body_len = 0;
				conn_dispatch(w, c);
				break;
			}
			if (c->wc_req.wr_expect && !c->wc_continue_sent &&
			    c->wc_req.wr_body_len > 0 &&
			    c->wc_in.bb_len < r.hr_head_len +
			    c->wc_req.wr_body_len) {
				c->wc_continue_sent = 1;
				if (c->wc_tls != NULL)
					wtls_send(c, "HTTP/1.1 100 Continue"
					    "\r\n\r\n", 25);
				else
					(void)send(c->wc_fd, "HTTP/1.1 100 "
					    "Continue\r\n\r\n", 25,
					    MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			break;
		case WC_BODY:
			if (c->wc_in.bb_len < c->wc_req.wr_head_len +
			    c->wc_req.wr_body_len) {
				if ((more = conn_tls_drain(w, c)) != 0) {
					if (more == -1)
						return;
					break;
				}
				conn_set_events(w, c, EPOLLIN);
				return;
			}
			conn_dispatch(w, c);
			break;
		case WC_WAIT:
		case WC_LINGER:
			return;
		case WC_WRITE:
			if ((c->wc_tls != NULL ? wtls_write(c, &c->wc_out) :
			    bbuf_write_fd(&c->wc_out, c->wc_fd)) == -1 &&
			    errno != EAGAIN && errno != EWOULDBLOCK) {
				conn_close(w, c);
				return;
			}
			if (c->wc_out.bb_len > 0) {
				conn_set_events(w, c, EPOLLOUT);
				return;
			}
			if (c->wc_req.wr_close) {
				conn_linger(w, c);
				return;
			}
			if (!c->wc_req.wr_keepalive || c->wc_peer_eof) {
				conn_close(w, c);
				return;
			}
			bbuf_consume(&c->wc_in, c->wc_req.wr_head_len +
			    c->wc_req.wr_body_len);
			owner_cleanup(c);
			http_parser_init(&c->wc_hp);
			c->wc_continue_sent = 0;
			c->wc_state = WC_HEAD;
			c->wc_deadline = conn_now_ms() +
			    (c->wc_in.bb_len > 0 ?
			    w->w_init.mi_header_timeout_ms :
			    w->w_init.mi_idle_timeout_ms);
			break;
		}
	}
}

/*
 * The answer went out before the body was read (too large, chunked).
 * Closing now would make the kernel reset the connection, and the client,
 * still sending, might never see the answer.  So: no more writes, read and
 * drop what comes, within a time and a byte limit, then close.
 */
static void
conn_linger(struct worker *w, struct wconn *c)
{
	if (shutdown(c->wc_fd, SHUT_WR) == -1) {
		conn_close(w, c);
		return;
	}
	c->wc_state = WC_LINGER;
	c->wc_lingered = 0;
	c->wc_deadline = conn_now_ms() + LINGER_MS;
	bbuf_reset(&c->wc_in);
	conn_set_events(w, c, EPOLLIN);
}

/*
 * How much one read (read(2), or tls_read for TLS) may take: the room the
 * input buffer has, so that a short request never costs a buffer of
 * CONN_READ_MAX (and its wipe, and the pages it touches); only a full
 * buffer grows.
 */
static size_t
conn_read_room(const struct bbuf *bb)
{
	size_t	room = bb->bb_cap - bb->bb_len;

	if (bb->bb_cap == 0)
		return CONN_READ_FIRST;
	return room == 0 || room > CONN_READ_MAX ? CONN_READ_MAX : room;
}

static void
conn_readable(struct worker *w, struct wconn *c)
{
	ssize_t	n;

	if (c->wc_state == WC_LINGER) {
		n = bbuf_read_fd(&c->wc_in, c->wc_fd,
		    conn_read_room(&c->wc_in));
		bbuf_reset(&c->wc_in);
		if (n > 0)
			c->wc_lingered += (size_t)n;
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR) ||
		    c->wc_lingered > LINGER_MAX)
			conn_close(w, c);
		return;
	}

	n = c->wc_tls != NULL ?
	    wtls_read(c, &c->wc_in, conn_read_room(&c->wc_in)) :
	    bbuf_read_fd(&c->wc_in, c->wc_fd, conn_read_room(&c->wc_in));
	/*
	 * With an answer pending, a half-close or a full buffer only stops
	 * the reading: the answer still goes out.
	 */
	if ((c->wc_state == WC_WAIT || c->wc_state == WC_WRITE) &&
	    (n == 0 || (n == -1 && errno == ENOBUFS))) {
		c->wc_peer_eof |= n == 0;
		conn_set_events(w, c, c->wc_state == WC_WRITE ? EPOLLOUT : 0);
		return;
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		conn_close(w, c);
		return;
	}
	if (n > 0 && c->wc_state == WC_HEAD && c->wc_in.bb_len == (size_t)n)
		c->wc_deadline = conn_now_ms() +
		    w->w_init.mi_header_timeout_ms;
	conn_process(w, c);
}

/* A reload changed the timeouts; they apply from the next deadline on. */
static void
conn_limits(struct worker *w, const struct chan_msg *m)
{
	struct msg_init	mi;

	if (chan_get(m, &mi, sizeof(mi)) == -1 ||
	    mi.mi_header_timeout_ms == 0 || mi.mi_body_timeout_ms == 0 ||
	    mi.mi_idle_timeout_ms == 0)
		fatalx("bad limits from broker");
	w->w_init.mi_header_timeout_ms = mi.mi_header_timeout_ms;
	w->w_init.mi_body_timeout_ms = mi.mi_body_timeout_ms;
	w->w_init.mi_idle_timeout_ms = mi.mi_idle_timeout_ms;
}

static void
conn_chan_read(struct worker *w)
{
	static struct chan_msg	 m;
	struct wconn		*c;
	uint32_t		 slot;
	int			 i, r;

	/* What was read ahead must be taken now: epoll cannot see it. */
	for (i = 0; i < CONN_EVENTS_MAX || chan_buffered(&w->w_chan); i++) {
		if ((r = chan_recv(&w->w_chan, &m)) == 0)
			return;
		if (r == -1) {
			if (errno == EPIPE)
				exit(0);	/* the broker is gone */
			fatal("channel from broker");
		}
		switch (m.m_hdr.ch_type) {
		case MSG_CONN_NEW:
			conn_new(w, &m);
			continue;
		case MSG_PING:
			conn_reports_flush(w);
			if (chan_send(&w->w_chan, MSG_PONG, m.m_hdr.ch_reqid, 0,
			    NULL, 0, -1) == -1)
				fatal("channel to broker");
			continue;
		case MSG_SHUTDOWN:
			w->w_stopping = 1;
			continue;
		case MSG_LIMITS:
			conn_limits(w, &m);
			continue;
		case MSG_TLS_CERT:
			wtls_cert(&m);
			continue;
		default:
			break;
		}
		if (m.m_fd != -1)
			fatalx("unexpected fd from broker");
		slot = m.m_hdr.ch_reqid & 0xffff;
		if (slot >= w->w_max)
			fatalx("answer for slot %u", slot);
		c = &w->w_conns[slot];
		/* The connection may have closed while it waited. */
		if (c->wc_id != m.m_hdr.ch_connid ||
		    c->wc_reqid != m.m_hdr.ch_reqid ||
		    c->wc_state != WC_WAIT)
			continue;
		/* Another request's answer (a password for an auth check)
		 * is a broker bug: never rendered. */
		if (m.m_hdr.ch_type != c->wc_want) {
			log_warnx("answer of type %u to a request of type %u: "
			    "connection closed", m.m_hdr.ch_type,
			    c->wc_want - 1);
			conn_close(w, c);
			continue;
		}
		if (c->wc_role == ROLE_GUEST)
			guest_answer(w, c, &m);
		else
			owner_answer(w, c, &m);
		conn_process(w, c);
	}
}

/* Timeouts: idle keep-alive closes quietly, a stalled request gets 408. */
static void
conn_sweep(struct worker *w)
{
	struct wconn	*c;
	uint64_t	 now = conn_now_ms();
	uint32_t	 i;

	for (i = 0; i < w->w_max; i++) {
		c = &w->w_conns[i];
		if (c->wc_id == 0)
			continue;
		if (w->w_stopping && c->wc_state == WC_HEAD &&
		    c->wc_in.bb_len == 0) {
			conn_close(w, c);
			continue;
		}
		if (now < c->wc_deadline || c->wc_state == WC_WAIT)
			continue;
		if (c->wc_state == WC_WRITE || c->wc_state == WC_LINGER ||
		    (c->wc_state == WC_HEAD && c->wc_in.bb_len == 0)) {
			conn_close(w, c);
			continue;
		}
		memset(&c->wc_req, 0, sizeof(c->wc_req));
		c->wc_req.wr_minor = 1;
		bbuf_reset(&c->wc_out);
		if (c->wc_role == ROLE_OWNER)
			reply_json_error(c, 408, "request timeout");
		else
			reply_text_error(c, 408, "The request took too long.");
		conn_reply_ready(w, c);
		conn_process(w, c);
	}
}

void
conn_loop(struct worker *w)
{
	struct epoll_event	 ev[CONN_EVENTS_MAX];
	struct epoll_event	 ee;
	struct wconn		*c;
	uint64_t		 next_sweep = 0, now;
	uint32_t		 chan_ev = EPOLLIN, want;
	int			 i, n;

	memset(&ee, 0, sizeof(ee));
	ee.events = chan_ev;
	ee.data.u32 = 0;
	if (epoll_ctl(w->w_ep, EPOLL_CTL_ADD, w->w_chan.c_fd, &ee) == -1)
		fatal("epoll_ctl");
	for (;;) {
		/* The last turn's requests and reports, in one sendmmsg. */
		conn_reports_flush(w);
		if (chan_pending(&w->w_chan) && chan_flush(&w->w_chan) == -1)
			fatal("channel to broker");
		if (w->w_stopping && w->w_nconns == 0 &&
		    !chan_pending(&w->w_chan))
			exit(0);
		want = EPOLLIN | (chan_pending(&w->w_chan) ? EPOLLOUT : 0);
		if (want != chan_ev) {
			ee.events = chan_ev = want;
			if (epoll_ctl(w->w_ep, EPOLL_CTL_MOD, w->w_chan.c_fd,
			    &ee) == -1)
				fatal("epoll_ctl");
		}
		n = epoll_wait(w->w_ep, ev, CONN_EVENTS_MAX, WORKER_SWEEP_MS);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.u32 == 0) {
				if ((ev[i].events & EPOLLOUT) &&
				    chan_flush(&w->w_chan) == -1)
					fatal("channel to broker");
				if (ev[i].events & (EPOLLIN | EPOLLHUP))
					conn_chan_read(w);
				continue;
			}
			c = &w->w_conns[ev[i].data.u32 - 1];
			if (c->wc_id == 0)
				continue;
			if ((ev[i].events & EPOLLIN) ||
			    ((ev[i].events & EPOLLOUT) && wtls_read_blocked(c)))
				conn_readable(w, c);
			else if (ev[i].events & EPOLLOUT)
				conn_process(w, c);
			else if (ev[i].events & (EPOLLHUP | EPOLLERR))
				conn_close(w, c);
		}
		if (w->w_batch_waiting > 0 && owner_batch_room(w))
			owner_batch_next(w);
		now = conn_now_ms();
		if (now >= next_sweep) {
			conn_sweep(w);
			next_sweep = now + WORKER_SWEEP_MS;
		}
	}
}
