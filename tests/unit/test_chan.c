/* SPDX-License-Identifier: ISC */
/*
 * privsep/chan.c over a real SOCK_SEQPACKET socketpair: exact framing,
 * fd passing only where allowed, and the queue that keeps sends from
 * blocking.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "privsep/chan.h"

static int		sv[2];
static struct chan	ca, cb;		/* ca sends on sv[0], cb reads sv[1] */
static struct chan_msg	m;

static void
open_pair(int allow_fd)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	chan_init(&ca, sv[0], 0);
	chan_init(&cb, sv[1], allow_fd);
}

static void
send_raw(const void *p, size_t len)
{
	cr_assert_eq(send(sv[0], p, len, 0), (ssize_t)len, "send: %s",
	    strerror(errno));
}

/* One frame carrying nfd copies of fd, sent around the chan. */
static void
send_raw_fds(const void *p, size_t len, int fd, int nfd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	}		 cm;
	struct cmsghdr	*cmsg;
	int		 fds[2] = { fd, fd };

	cr_assert(nfd >= 1 && nfd <= 2);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfd);
	cr_assert_eq(sendmsg(sv[0], &mh, 0), (ssize_t)len, "sendmsg: %s",
	    strerror(errno));
}

static size_t
frame(uint8_t *buf, uint32_t type, uint32_t hdr_len, size_t payload)
{
	struct chan_hdr	h;

	memset(&h, 0, sizeof(h));
	h.ch_type = type;
	h.ch_len = hdr_len;
	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 'p', payload);
	return sizeof(h) + payload;
}

/* True once nothing holds the read end of the pipe open any more. */
static int
reader_gone(int wfd)
{
	struct pollfd	pfd = { .fd = wfd, .events = POLLOUT };

	cr_assert_eq(poll(&pfd, 1, 0), 1);
	return (pfd.revents & POLLERR) != 0;
}

static void
expect_refused(void)
{
	errno = 0;
	cr_expect_eq(chan_recv(&cb, &m), -1, "a bad frame was accepted");
	cr_expect_eq(errno, EBADMSG);
	cr_expect_eq(m.m_fd, -1);
}

/* The channel is still in step: the next good frame reads back. */
static void
expect_next_ok(void)
{
	struct msg_status	st = { .ms_status = 204 }, out;

	cr_assert_eq(chan_send(&ca, MSG_PONG, 1, 2, &st, sizeof(st), -1), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_assert_eq(chan_get(&m, &out, sizeof(out)), 0);
	cr_expect_eq(out.ms_status, 204);
}

Test(chan, round_trip)
{
	struct msg_status	st = { .ms_status = 200 }, out;
	struct msg_pw		big;
	uint8_t			small[2];

	open_pair(0);
	cr_expect_eq(chan_recv(&cb, &m), 0, "nothing was sent yet");
	cr_assert_eq(chan_send(&ca, MSG_OWNER_STATUS, 7, 9, &st, sizeof(st),
	    -1), 0);
	cr_expect(!chan_pending(&ca));
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_type, MSG_OWNER_STATUS);
	cr_expect_eq(m.m_hdr.ch_len, sizeof(st));
	cr_expect_eq(m.m_hdr.ch_reqid, 7);
	cr_expect_eq(m.m_hdr.ch_connid, 9);
	cr_expect_eq(m.m_fd, -1);
	cr_expect_eq(chan_get(&m, small, sizeof(small)), -1, "short struct");
	cr_expect_eq(chan_get(&m, &big, sizeof(big)), -1, "long struct");
	cr_expect_eq(chan_get(&m, &out, sizeof(out) - 1), -1);
	cr_expect_eq(chan_get(&m, &out, sizeof(out) + 1), -1);
	cr_assert_eq(chan_get(&m, &out, sizeof(out)), 0);
	cr_expect_eq(out.ms_status, 200);
	/* chan_get does not consume: the same message reads again. */
	cr_expect_eq(chan_get(&m, &out, sizeof(out)), 0);
	cr_expect_eq(chan_recv(&cb, &m), 0);

	/* A message with no payload. */
	cr_assert_eq(chan_send(&ca, MSG_PING, 1, 0, NULL, 0, -1), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_len, 0);
	cr_expect_eq(chan_get(&m, small, 0), 0);
	cr_expect_eq(chan_get(&m, small, 1), -1);
}

Test(chan, largest_frame)
{
	static uint8_t	payload[CHAN_MAX_PAYLOAD + 1];

	open_pair(0);
	memset(payload, 'x', sizeof(payload));
	cr_assert_eq(chan_send(&ca, MSG_PING, 1, 0, payload, CHAN_MAX_PAYLOAD,
	    -1), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_len, CHAN_MAX_PAYLOAD);
	errno = 0;
	cr_expect_eq(chan_send(&ca, MSG_PING, 1, 0, payload,
	    CHAN_MAX_PAYLOAD + 1, -1), -1);
	cr_expect_eq(errno, ENOBUFS);
	cr_expect(!chan_pending(&ca));
}

Test(chan, length_disagrees)
{
	uint8_t	buf[64];

	open_pair(0);
	send_raw(buf, frame(buf, MSG_PING, 8, 4));	/* claims more */
	expect_refused();
	send_raw(buf, frame(buf, MSG_PING, 2, 4));	/* claims less */
	expect_refused();
	send_raw(buf, frame(buf, MSG_PING, UINT32_MAX, 4));
	expect_refused();
	expect_next_ok();
}

Test(chan, shorter_than_header)
{
	uint8_t	buf[64];

	open_pair(0);
	(void)frame(buf, MSG_PING, 0, 0);
	send_raw(buf, sizeof(struct chan_hdr) - 1);
	expect_refused();
	send_raw(buf, 1);
	expect_refused();
	expect_next_ok();
}

Test(chan, oversized_frame)
{
	static uint8_t	buf[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD + 64];

	open_pair(0);
	/* Consistent header, but more than a frame may hold: MSG_TRUNC. */
	send_raw(buf, frame(buf, MSG_PING, CHAN_MAX_PAYLOAD + 1,
	    CHAN_MAX_PAYLOAD + 1));
	expect_refused();
	send_raw(buf, frame(buf, MSG_PING, CHAN_MAX_PAYLOAD, CHAN_MAX_PAYLOAD +
	    64));
	expect_refused();
	expect_next_ok();
}

Test(chan, fd_refused_and_closed)
{
	uint8_t	buf[64];
	int	p[2];

	open_pair(0);
	cr_assert_eq(pipe(p), 0);
	send_raw_fds(buf, frame(buf, MSG_CONN_NEW, 0, 0), p[0], 1);
	close(p[0]);
	cr_assert(!reader_gone(p[1]), "the test cannot see the passed fd");
	expect_refused();
	cr_expect(reader_gone(p[1]), "the refused fd was not closed");
	close(p[1]);
	expect_next_ok();
}

Test(chan, fd_passing)
{
	struct msg_conn_new	 mc = { .mc_role = ROLE_GUEST }, out;
	char			 c = 0;
	int			 p[2], flags;

	open_pair(1);
	cr_assert_eq(pipe(p), 0);
	/* The chan owns p[0] from here and closes it once sent. */
	cr_assert_eq(chan_send(&ca, MSG_CONN_NEW, 3, 4, &mc, sizeof(mc), p[0]),
	    0);
	cr_expect_eq(fcntl(p[0], F_GETFD), -1, "the sent fd stayed open");
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_assert_neq(m.m_fd, -1);
	cr_assert_eq(chan_get(&m, &out, sizeof(out)), 0);
	cr_expect_eq(out.mc_role, ROLE_GUEST);
	flags = fcntl(m.m_fd, F_GETFD);
	cr_assert_neq(flags, -1);
	cr_expect(flags & FD_CLOEXEC, "received fd lacks FD_CLOEXEC");
	cr_assert_eq(write(p[1], "z", 1), 1);
	cr_assert_eq(read(m.m_fd, &c, 1), 1);
	cr_expect_eq(c, 'z');
	close(m.m_fd);
	cr_expect(reader_gone(p[1]));
	close(p[1]);
}

Test(chan, fd_on_bad_frame_closed)
{
	uint8_t	buf[64];
	int	p[2];

	open_pair(1);
	cr_assert_eq(pipe(p), 0);
	/* Allowed fd, but the frame's length is wrong. */
	send_raw_fds(buf, frame(buf, MSG_CONN_NEW, 9, 4), p[0], 1);
	/* Two fds where one is allowed. */
	send_raw_fds(buf, frame(buf, MSG_CONN_NEW, 0, 0), p[0], 2);
	close(p[0]);
	expect_refused();
	cr_expect(!reader_gone(p[1]));
	expect_refused();
	cr_expect(reader_gone(p[1]), "a fd of a refused frame stayed open");
	close(p[1]);
	expect_next_ok();
}

/* An empty frame ends the channel and must not leak the fd it carries. */
Test(chan, fd_on_empty_frame_closed)
{
	uint8_t	buf[1];
	int	p[2];

	open_pair(1);
	cr_assert_eq(pipe(p), 0);
	send_raw_fds(buf, 0, p[0], 1);
	close(p[0]);
	errno = 0;
	cr_expect_eq(chan_recv(&cb, &m), -1, "an empty frame was accepted");
	cr_expect_eq(errno, EPIPE);
	cr_expect_eq(m.m_fd, -1);
	cr_expect(reader_gone(p[1]), "the fd of an empty frame stayed open");
	close(p[1]);
}

Test(chan, str_ok)
{
	cr_expect(chan_str_ok("abc\0", 4));
	cr_expect(chan_str_ok("\0bc\n", 4));
	cr_expect(!chan_str_ok("abcd", 4), "unterminated");
	cr_expect(!chan_str_ok("abc\0", 3), "NUL outside the field");
	cr_expect(!chan_str_ok("", 0));
	cr_expect(!chan_str_ok("a\nb\0", 4));
	cr_expect(!chan_str_ok("a\rb\0", 4));
	cr_expect(!chan_str_ok("\x1f\0", 2));
	cr_expect(!chan_str_ok("a\x7f\0", 3));
	cr_expect(!chan_str_ok("\t\0", 2));
}

/* Fill ca until frames wait in its queue; returns how many were sent. */
static uint32_t
fill(void)
{
	struct msg_status	st;
	int			bufsz = 1;
	uint32_t		i;

	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz,
	    sizeof(bufsz)), 0);
	for (i = 0; i < 100000 && !chan_pending(&ca); i++) {
		st.ms_status = i;
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    -1), 0);
	}
	cr_assert(chan_pending(&ca), "the socket never filled");
	return i;
}

Test(chan, queue_in_order)
{
	struct msg_status	st;
	uint32_t		i, n, got = 0;
	int			r;

	open_pair(0);
	n = fill();
	for (i = 0; i < 50; i++, n++) {
		st.ms_status = n;
		cr_assert_eq(chan_send(&ca, MSG_PONG, n, 0, &st, sizeof(st),
		    -1), 0);
	}
	cr_expect_geq(ca.c_queued, 50);
	while (got < n) {
		while ((r = chan_recv(&cb, &m)) == 1) {
			cr_assert_eq(chan_get(&m, &st, sizeof(st)), 0);
			cr_assert_eq(m.m_hdr.ch_reqid, got,
			    "frame %u arrived as %u", got, m.m_hdr.ch_reqid);
			cr_assert_eq(st.ms_status, got);
			got++;
		}
		cr_assert_eq(r, 0);
		if (got < n) {
			cr_assert(chan_pending(&ca), "frames were lost");
			cr_assert_eq(chan_flush(&ca), 0);
		}
	}
	cr_expect(!chan_pending(&ca));
	cr_expect_eq(ca.c_queued, 0);
	cr_expect_eq(chan_recv(&cb, &m), 0, "more frames than were sent");
}

Test(chan, corked_frames_wait_for_flush)
{
	struct msg_status	st;
	uint32_t		i, n = 150;	/* more than one sendmmsg */

	open_pair(0);
	chan_cork(&ca);
	for (i = 0; i < n; i++) {
		st.ms_status = i;
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    -1), 0);
	}
	cr_expect_eq(chan_recv(&cb, &m), 0, "a corked frame went out");
	cr_expect_eq(ca.c_queued, n);
	cr_assert_eq(chan_flush(&ca), 0);
	cr_expect(!chan_pending(&ca));
	for (i = 0; i < n; i++) {
		cr_assert_eq(chan_recv(&cb, &m), 1, "frame %u missing", i);
		cr_assert_eq(chan_get(&m, &st, sizeof(st)), 0);
		cr_assert_eq(m.m_hdr.ch_reqid, i);
		cr_assert_eq(st.ms_status, i);
	}
	cr_expect_eq(chan_recv(&cb, &m), 0, "more frames than were sent");
}

/* A flush sends many frames per sendmmsg; a passed fd keeps its frame. */
Test(chan, queued_fd_keeps_its_frame)
{
	struct msg_status	st;
	uint32_t		i, n, fdat, got = 0;
	char			c = 0;
	int			p[2], r;

	open_pair(1);
	n = fill();
	fdat = n + 70;
	cr_assert_eq(pipe(p), 0);
	for (i = 0; i < 150; i++, n++) {
		st.ms_status = n;
		cr_assert_eq(chan_send(&ca, MSG_PONG, n, 0, &st, sizeof(st),
		    n == fdat ? p[0] : -1), 0);
	}
	cr_expect(!reader_gone(p[1]), "the queued fd was closed early");
	while (got < n) {
		while ((r = chan_recv(&cb, &m)) == 1) {
			cr_assert_eq(chan_get(&m, &st, sizeof(st)), 0);
			cr_assert_eq(m.m_hdr.ch_reqid, got);
			cr_assert_eq(m.m_fd != -1, got == fdat, "fd on %u",
			    got);
			if (m.m_fd != -1) {
				cr_assert_eq(write(p[1], "y", 1), 1);
				cr_assert_eq(read(m.m_fd, &c, 1), 1);
				cr_expect_eq(c, 'y');
				close(m.m_fd);
			}
			got++;
		}
		cr_assert_eq(r, 0);
		if (got < n)
			cr_assert_eq(chan_flush(&ca), 0);
	}
	cr_expect_eq(ca.c_queued, 0);
	cr_expect(reader_gone(p[1]), "the sent fd stayed open");
	close(p[1]);
}

/* recvmmsg read-ahead: order, fds on their own frame, and what polls miss. */
Test(chan, batch_reads_ahead_in_order)
{
	struct msg_status	st;
	uint32_t		i, n = 40;	/* more than one recvmmsg */
	char			c = 0;
	int			p[2];

	open_pair(1);
	chan_batch(&cb);
	cr_assert_eq(pipe(p), 0);
	for (i = 0; i < n; i++) {
		st.ms_status = i;
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    i == 20 ? p[0] : -1), 0);
	}
	for (i = 0; i < n; i++) {
		cr_assert_eq(chan_recv(&cb, &m), 1, "frame %u missing", i);
		cr_assert_eq(chan_get(&m, &st, sizeof(st)), 0);
		cr_assert_eq(m.m_hdr.ch_reqid, i);
		cr_assert_eq(st.ms_status, i);
		cr_assert_eq(m.m_fd != -1, i == 20, "fd on frame %u", i);
		if (m.m_fd != -1) {
			cr_assert_eq(write(p[1], "x", 1), 1);
			cr_assert_eq(read(m.m_fd, &c, 1), 1);
			close(m.m_fd);
		}
		/* The rest of a batch is in memory, not in the socket. */
		if (i == 0)
			cr_expect(chan_buffered(&cb));
	}
	cr_expect(!chan_buffered(&cb));
	cr_expect_eq(chan_recv(&cb, &m), 0, "more frames than were sent");
	close(p[1]);
	chan_clear(&cb);
}

/*
 * chan_drained says what the last recvmmsg saw: fewer frames than it
 * asked for (the socket was empty then) and nothing left in memory.  A
 * full read says nothing of what is behind it.
 */
Test(chan, batch_drained_after_a_short_read)
{
	struct msg_status	st = { 0 };
	uint32_t		i;

	open_pair(0);
	chan_batch(&cb);
	cr_expect(!chan_drained(&cb), "drained before any read");
	for (i = 0; i < 3; i++)
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    -1), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect(!chan_drained(&cb), "drained with frames in memory");
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect(chan_drained(&cb), "a short read did not drain it");
	/* Later frames are still read: only the caller may stop early. */
	cr_assert_eq(chan_send(&ca, MSG_PONG, 9, 0, &st, sizeof(st), -1), 0);
	cr_expect(chan_drained(&cb));
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_reqid, 9);
	/* 20: one full read of 16, then a short one of 4. */
	for (i = 0; i < 20; i++)
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    -1), 0);
	for (i = 0; i < 16; i++)
		cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect(!chan_drained(&cb), "a full read drained it");
	for (i = 16; i < 20; i++) {
		cr_assert_eq(chan_recv(&cb, &m), 1);
		cr_expect_eq(m.m_hdr.ch_reqid, i);
	}
	cr_expect(chan_drained(&cb));
	cr_expect_eq(chan_recv(&cb, &m), 0);
	cr_expect(chan_drained(&cb), "EAGAIN did not drain it");
	chan_clear(&cb);
}

/*
 * Each read ahead takes the control data its frames carry, whatever the
 * frames read into the same slots before had: fds after frames without.
 */
Test(chan, batch_fds_after_frames_without)
{
	struct msg_status	st = { 0 };
	int			p[2], round, i;

	open_pair(1);
	chan_batch(&cb);
	cr_assert_eq(pipe(p), 0);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++)
			cr_assert_eq(chan_send(&ca, MSG_PONG, (uint32_t)i, 0,
			    &st, sizeof(st), round == 1 ? dup(p[0]) : -1),
			    0);
		for (i = 0; i < 3; i++) {
			cr_assert_eq(chan_recv(&cb, &m), 1, "round %d frame "
			    "%d: %s", round, i, strerror(errno));
			cr_expect_eq(m.m_fd != -1, round == 1);
			if (m.m_fd != -1)
				close(m.m_fd);
		}
	}
	close(p[0]);
	cr_expect(reader_gone(p[1]));
	close(p[1]);
	chan_clear(&cb);
}

Test(chan, batch_clear_closes_fds_read_ahead)
{
	struct msg_status	st = { 0 };
	int			p[2];

	open_pair(1);
	chan_batch(&cb);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(chan_send(&ca, MSG_PONG, 0, 0, &st, sizeof(st), -1), 0);
	cr_assert_eq(chan_send(&ca, MSG_CONN_NEW, 1, 0, &st, sizeof(st),
	    p[0]), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect(chan_buffered(&cb));
	cr_expect(!reader_gone(p[1]), "the fd read ahead was closed early");
	chan_clear(&cb);
	cr_expect(!chan_buffered(&cb));
	cr_expect(reader_gone(p[1]), "chan_clear kept a fd read ahead");
	close(p[1]);
}

Test(chan, batch_bad_frame_in_its_place)
{
	struct msg_status	st = { 0 };
	uint8_t			junk[3] = { 1, 2, 3 };

	open_pair(0);
	chan_batch(&cb);
	cr_assert_eq(chan_send(&ca, MSG_PONG, 7, 0, &st, sizeof(st), -1), 0);
	send_raw(junk, sizeof(junk));
	cr_assert_eq(chan_send(&ca, MSG_PONG, 8, 0, &st, sizeof(st), -1), 0);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_reqid, 7);
	errno = 0;
	cr_expect_eq(chan_recv(&cb, &m), -1);
	cr_expect_eq(errno, EBADMSG);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_expect_eq(m.m_hdr.ch_reqid, 8);
	chan_clear(&cb);
}

Test(chan, queue_bounded)
{
	struct msg_status	st = { 0 };
	int			p[2];

	open_pair(0);
	(void)fill();
	while (ca.c_queued < CHAN_QUEUE_MAX)
		cr_assert_eq(chan_send(&ca, MSG_PONG, 0, 0, &st, sizeof(st),
		    -1), 0);
	cr_assert_eq(pipe(p), 0);
	errno = 0;
	cr_expect_eq(chan_send(&ca, MSG_PONG, 0, 0, &st, sizeof(st), p[0]),
	    -1);
	cr_expect_eq(errno, ENOBUFS);
	cr_expect_eq(ca.c_queued, CHAN_QUEUE_MAX);
	cr_expect(reader_gone(p[1]), "a refused send kept its fd");
	close(p[1]);
}

/*
 * Corked, the bound is on what a flush left behind: one turn may queue
 * more than CHAN_QUEUE_MAX frames for a peer that reads, and a peer that
 * leaves CHAN_QUEUE_MAX unread is refused more.
 */
Test(chan, corked_queue_bounds_the_backlog)
{
	struct msg_status	st = { 0 };
	uint32_t		i, more = 64;
	int			bufsz = 1;

	open_pair(0);
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz,
	    sizeof(bufsz)), 0);
	chan_cork(&ca);
	for (i = 0; i < CHAN_QUEUE_MAX + more; i++)
		cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st, sizeof(st),
		    -1), 0, "frame %u of one turn refused", i);
	cr_assert_eq(chan_flush(&ca), 0);
	cr_assert_geq(ca.c_queued, CHAN_QUEUE_MAX, "the socket took %zu",
	    CHAN_QUEUE_MAX + more - ca.c_queued);
	errno = 0;
	cr_expect_eq(chan_send(&ca, MSG_PONG, 0, 0, &st, sizeof(st), -1), -1);
	cr_expect_eq(errno, ENOBUFS);
	/* The peer reads: a flush that leaves less makes room. */
	for (i = 0; i < 100000 && ca.c_queued >= CHAN_QUEUE_MAX; i++) {
		while (chan_recv(&cb, &m) == 1)
			;
		cr_assert_eq(chan_flush(&ca), 0);
	}
	cr_assert_lt(ca.c_queued, CHAN_QUEUE_MAX);
	cr_expect_eq(chan_send(&ca, MSG_PONG, 0, 0, &st, sizeof(st), -1), 0);
	chan_clear(&ca);
}

Test(chan, clear_closes_queued_fds)
{
	struct msg_status	st = { 0 };
	int			p[2];

	open_pair(0);
	(void)fill();
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(chan_send(&ca, MSG_CONN_NEW, 0, 0, &st, sizeof(st), p[0]),
	    0);
	cr_expect(!reader_gone(p[1]), "the queued fd was closed early");
	chan_clear(&ca);
	cr_expect(!chan_pending(&ca));
	cr_expect_eq(ca.c_queued, 0);
	cr_expect(reader_gone(p[1]), "chan_clear kept a queued fd");
	close(p[1]);
}

Test(chan, eof)
{
	struct msg_status	st = { 0 };

	open_pair(0);
	close(sv[0]);
	errno = 0;
	cr_expect_eq(chan_recv(&cb, &m), -1);
	cr_expect_eq(errno, EPIPE);
	/* And the other way: sending to a closed peer fails, no SIGPIPE. */
	cr_expect_eq(chan_send(&cb, MSG_PONG, 0, 0, &st, sizeof(st), -1), -1);
}

/*
 * chan_pack: a flush packs a turn's frames into few datagrams, no larger
 * than the largest frame; a fd still travels on its own frame; a
 * chan_unpack reader gets every frame back, in order.
 */
Test(chan, packed_frames_in_order)
{
	static uint8_t		big[CHAN_MAX_PAYLOAD];
	struct msg_status	st;
	uint8_t			peek[sizeof(struct chan_hdr) +
				    CHAN_MAX_PAYLOAD];
	uint32_t		i, n = 1500, fdat = 700;
	char			c = 0;
	ssize_t			first;
	int			p[2];

	open_pair(1);
	chan_cork(&ca);
	chan_pack(&ca);
	chan_unpack(&cb);
	cr_assert_eq(pipe(p), 0);
	for (i = 0; i < n; i++) {
		st.ms_status = i;
		if (i % 500 == 250) {
			memset(big, (int)(i & 0xff), sizeof(big));
			cr_assert_eq(chan_send(&ca, MSG_TLS_CERT, i, 0, big,
			    sizeof(big), -1), 0);
		} else
			cr_assert_eq(chan_send(&ca, MSG_PONG, i, 0, &st,
			    sizeof(st), i == fdat ? p[0] : -1), 0);
	}
	cr_assert_eq(chan_flush(&ca), 0);
	cr_expect(!chan_pending(&ca));
	first = recv(sv[1], peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	cr_expect_gt(first, (ssize_t)(sizeof(struct chan_hdr) + sizeof(st)),
	    "the first datagram holds one frame");
	for (i = 0; i < n; i++) {
		cr_assert_eq(chan_recv(&cb, &m), 1, "frame %u missing", i);
		cr_assert_eq(m.m_hdr.ch_reqid, i);
		cr_assert_eq(m.m_fd != -1, i == fdat, "fd on frame %u", i);
		if (i % 500 == 250) {
			cr_assert_eq(m.m_hdr.ch_type, MSG_TLS_CERT);
			cr_assert_eq(chan_get(&m, big, sizeof(big)), 0);
			cr_assert_eq(big[0], (uint8_t)(i & 0xff));
			cr_assert_eq(big[sizeof(big) - 1], (uint8_t)(i & 0xff));
			continue;
		}
		cr_assert_eq(chan_get(&m, &st, sizeof(st)), 0);
		cr_assert_eq(st.ms_status, i);
		if (m.m_fd != -1) {
			cr_assert_eq(write(p[1], "z", 1), 1);
			cr_assert_eq(read(m.m_fd, &c, 1), 1);
			cr_expect_eq(c, 'z');
			close(m.m_fd);
		}
	}
	cr_expect(!chan_buffered(&cb));
	cr_expect_eq(chan_recv(&cb, &m), 0, "more frames than were sent");
	close(p[1]);
	chan_clear(&cb);
}

/*
 * An unpacking reader checks each frame of a datagram: a datagram cut
 * short after good frames, or one of several frames with a fd, is
 * refused (its fds closed) and the rest of it dropped; the channel stays
 * in step.  The same whether the reader takes fds (the worker) or not
 * (the broker, reading the worker).
 */
static void
unpack_refusals(int allow_fd)
{
	uint8_t		buf[3 * (sizeof(struct chan_hdr) +
			    sizeof(struct msg_status))];
	size_t		len;
	int		p[2];

	open_pair(allow_fd);
	chan_unpack(&cb);
	len = frame(buf, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	len += frame(buf + len, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	/* Two good frames, then a header that promises more than is left. */
	len += frame(buf + len, MSG_PONG, 64, sizeof(struct msg_status));
	send_raw(buf, len);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	cr_assert_eq(chan_recv(&cb, &m), 1);
	expect_refused();
	cr_expect(!chan_buffered(&cb));
	expect_next_ok();
	/* Three good frames and a fd. */
	len = 0;
	len += frame(buf + len, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	len += frame(buf + len, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	len += frame(buf + len, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	cr_assert_eq(pipe(p), 0);
	send_raw_fds(buf, len, p[0], 1);
	close(p[0]);
	expect_refused();
	cr_expect(!chan_buffered(&cb), "the rest of the datagram was kept");
	cr_expect(reader_gone(p[1]), "the refused fd stayed open");
	close(p[1]);
	expect_next_ok();
	chan_clear(&cb);
	close(sv[0]);
	close(sv[1]);
}

Test(chan, unpack_refuses_bad_datagrams)
{
	unpack_refusals(1);
}

Test(chan, unpack_refuses_bad_datagrams_without_fds)
{
	unpack_refusals(0);
}

/* A reader that does not unpack refuses a packed datagram. */
Test(chan, packed_datagram_refused_unless_unpacking)
{
	uint8_t		buf[2 * (sizeof(struct chan_hdr) +
			    sizeof(struct msg_status))];
	size_t		len;

	open_pair(0);
	chan_batch(&cb);
	len = frame(buf, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	len += frame(buf + len, MSG_PONG, sizeof(struct msg_status),
	    sizeof(struct msg_status));
	send_raw(buf, len);
	expect_refused();
	expect_next_ok();
	chan_clear(&cb);
}
