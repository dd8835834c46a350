/* SPDX-License-Identifier: ISC */
/*
 * The channel (chan.h), linked into the broker, the launcher and the
 * worker: frames of a header and one fixed payload on a SOCK_SEQPACKET
 * socket, at most one fd each, sent in batches with sendmmsg and read
 * with recvmmsg, queued without blocking up to CHAN_QUEUE_MAX.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"

#define CHAN_FLUSH_BATCH	64	/* datagrams per sendmmsg */
#define CHAN_FLUSH_IOV		256	/* frames per sendmmsg, packed */
#define CHAN_RX_BATCH		16	/* datagrams per recvmmsg */
/* A packed datagram fits where one frame of the largest payload does. */
#define CHAN_DGRAM_MAX		(sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD)

union chan_rxcmsg {
	struct cmsghdr	hdr;
	char		buf[CMSG_SPACE(sizeof(int) * 4)];
};

/* Frames one recvmmsg read, handed out by chan_recv one at a time. */
struct chan_rx {
	struct mmsghdr		rx_mm[CHAN_RX_BATCH];
	struct iovec		rx_iov[CHAN_RX_BATCH];
	union chan_rxcmsg	rx_cm[CHAN_RX_BATCH];
	uint8_t			rx_buf[CHAN_RX_BATCH][CHAN_DGRAM_MAX];
	unsigned int		rx_n, rx_next;
	size_t			rx_off;		/* unpacked of rx_next */
	int			rx_short;	/* the last read took fewer */
};

struct chan_frame {
	struct chan_frame	*f_next;
	int			 f_fd;
	size_t			 f_len;
	uint8_t			 f_data[];
};

void
chan_init(struct chan *c, int fd, int allow_fd)
{
	memset(c, 0, sizeof(*c));
	c->c_fd = fd;
	c->c_allow_fd = allow_fd;
}

/*
 * From now on frames wait for chan_flush.  The worker sends what one
 * event-loop turn produced together, in one sendmmsg, and the broker
 * wakes once for all of it; the broker sends its answers only after the
 * turn's audit lines are written (broker_turn_end).  CHAN_QUEUE_MAX
 * bounds what a flush left behind; the sender's loop bounds what one
 * turn adds.
 */
void
chan_cork(struct chan *c)
{
	c->c_corked = 1;
}

/*
 * From now on chan_recv reads up to CHAN_RX_BATCH frames per recvmmsg.
 * Frames read ahead are invisible to poll: a reader that stops early must
 * go on while chan_buffered() says so.
 */
void
chan_batch(struct chan *c)
{
	struct chan_rx	*rx;
	unsigned int	 k;

	if (c->c_rx != NULL)
		return;
	if ((c->c_rx = rx = calloc(1, sizeof(*c->c_rx))) == NULL)
		fatal("%s", __func__);
	/* Once: recvmmsg changes only the lengths chan_rx_fill resets. */
	for (k = 0; k < CHAN_RX_BATCH; k++) {
		rx->rx_iov[k].iov_base = rx->rx_buf[k];
		rx->rx_iov[k].iov_len = sizeof(rx->rx_buf[k]);
		rx->rx_mm[k].msg_hdr.msg_iov = &rx->rx_iov[k];
		rx->rx_mm[k].msg_hdr.msg_iovlen = 1;
		rx->rx_mm[k].msg_hdr.msg_control = rx->rx_cm[k].buf;
		rx->rx_mm[k].msg_hdr.msg_controllen = sizeof(rx->rx_cm[k].buf);
	}
}

/*
 * From now on chan_flush packs consecutive frames into one datagram, up
 * to the size of the largest frame, so that a turn's many small answers
 * cost the kernel one datagram, not one each.  A frame with a fd always
 * travels alone.  Only for a peer that called chan_unpack.
 */
void
chan_pack(struct chan *c)
{
	c->c_pack = 1;
}

/*
 * From now on chan_recv takes datagrams of several frames (chan_pack),
 * handing them out one frame at a time, each checked as a datagram of
 * its own is; a packed datagram must carry no fd.  Reads with recvmmsg
 * (chan_batch).
 */
void
chan_unpack(struct chan *c)
{
	chan_batch(c);
	c->c_unpack = 1;
}

int
chan_buffered(const struct chan *c)
{
	return c->c_rx != NULL && c->c_rx->rx_next < c->c_rx->rx_n;
}

/*
 * Nothing is read ahead, and the last recvmmsg took fewer frames than it
 * asked for: the socket was empty then.  A reader that polls (level
 * triggered) may stop here rather than read again only to learn EAGAIN:
 * whatever came since makes its poll return at once.
 */
int
chan_drained(const struct chan *c)
{
	return c->c_rx != NULL && c->c_rx->rx_next == c->c_rx->rx_n &&
	    c->c_rx->rx_short;
}

/* Close every fd a received control message carries. */
static void
chan_close_fds(struct msghdr *mh)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfd;
	int		 fd;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			close(fd);
		}
	}
}

/*
 * Drop every queued frame and every frame read ahead; the fds they carry
 * are closed.
 */
void
chan_clear(struct chan *c)
{
	struct chan_frame	*f;
	struct chan_rx		*rx = c->c_rx;

	while ((f = c->c_head) != NULL) {
		c->c_head = f->f_next;
		if (f->f_fd != -1)
			close(f->f_fd);
		explicit_bzero(f->f_data, f->f_len);
		free(f);
	}
	c->c_tail = NULL;
	c->c_queued = c->c_backlog = 0;
	if (rx != NULL) {
		for (; rx->rx_next < rx->rx_n; rx->rx_next++)
			chan_close_fds(&rx->rx_mm[rx->rx_next].msg_hdr);
		explicit_bzero(rx, sizeof(*rx));
		free(rx);
		c->c_rx = NULL;
	}
}

union chan_cmsg {
	struct cmsghdr	hdr;
	char		buf[CMSG_SPACE(sizeof(int))];
};

/* One frame's msghdr; a fd other than -1 rides along as SCM_RIGHTS. */
static void
chan_msghdr(struct msghdr *mh, union chan_cmsg *cm, struct iovec *iov,
    int niov, int fd)
{
	struct cmsghdr	*cmsg;

	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = iov;
	mh->msg_iovlen = (size_t)niov;
	if (fd != -1) {
		memset(cm, 0, sizeof(*cm));
		mh->msg_control = cm->buf;
		mh->msg_controllen = sizeof(cm->buf);
		cmsg = CMSG_FIRSTHDR(mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
}

static int
chan_write_frame(int sock, struct iovec *iov, int niov, int fd)
{
	struct msghdr		mh;
	union chan_cmsg		cm;

	chan_msghdr(&mh, &cm, iov, niov, fd);
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		return -1;
	return 0;
}

/*
 * Send one frame, or queue it behind frames the peer has not taken yet
 * (corked: always queue it).  Uncorked, nothing is allocated when the
 * socket takes it at once; a queued frame is wiped when freed.
 * A fd passed here is owned by the channel from now on and closed once
 * sent.  Returns -1 when the queue is full or the peer is gone.
 */
int
chan_send(struct chan *c, uint32_t type, uint32_t reqid, uint32_t connid,
    const void *payload, size_t len, int fd)
{
	struct chan_frame	*f;
	struct chan_hdr		 h;
	struct iovec		 iov[2];

	if (len > CHAN_MAX_PAYLOAD ||
	    (c->c_corked ? c->c_backlog : c->c_queued) >= CHAN_QUEUE_MAX) {
		if (fd != -1)
			close(fd);
		errno = ENOBUFS;
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.ch_type = type;
	h.ch_len = (uint32_t)len;
	h.ch_reqid = reqid;
	h.ch_connid = connid;
	if (c->c_head == NULL && !c->c_corked) {
		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = (void *)(uintptr_t)payload;
		iov[1].iov_len = len;
		if (chan_write_frame(c->c_fd, iov, len > 0 ? 2 : 1, fd) == 0) {
			if (fd != -1)
				close(fd);
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ENOBUFS) {
			if (fd != -1)
				close(fd);
			return -1;
		}
	}
	if ((f = malloc(sizeof(*f) + sizeof(h) + len)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	f->f_next = NULL;
	f->f_fd = fd;
	f->f_len = sizeof(h) + len;
	memcpy(f->f_data, &h, sizeof(h));
	if (len > 0)
		memcpy(f->f_data + sizeof(h), payload, len);
	if (c->c_tail != NULL)
		c->c_tail->f_next = f;
	else
		c->c_head = f;
	c->c_tail = f;
	c->c_queued++;
	return c->c_corked ? 0 : chan_flush(c);
}

/*
 * The datagram that starts at f: f alone, or packed, f and the frames
 * after it that fit, none with a fd.  Its iovecs go to iov from *k on.
 * Returns the frame after it, and its frame count in *nf.
 */
static struct chan_frame *
chan_dgram(const struct chan *c, struct chan_frame *f, struct iovec *iov,
    size_t *k, size_t *nf)
{
	int	pack = c->c_pack && f->f_fd == -1;
	size_t	len = 0;

	*nf = 0;
	do {
		iov[*k].iov_base = f->f_data;
		iov[*k].iov_len = f->f_len;
		(*k)++;
		(*nf)++;
		len += f->f_len;
		f = f->f_next;
	} while (pack && f != NULL && f->f_fd == -1 && *k < CHAN_FLUSH_IOV &&
	    len + f->f_len <= CHAN_DGRAM_MAX);
	return f;
}

/* Send queued frames, many per sendmmsg, until the socket would block. */
int
chan_flush(struct chan *c)
{
	struct mmsghdr		 mm[CHAN_FLUSH_BATCH];
	struct iovec		 iov[CHAN_FLUSH_IOV];
	union chan_cmsg		 cm[CHAN_FLUSH_BATCH];
	size_t			 nf[CHAN_FLUSH_BATCH], k, j;
	struct chan_frame	*f, *next;
	int			 i, n, sent;

	while (c->c_head != NULL) {
		n = 0;
		k = 0;
		for (f = c->c_head; f != NULL && n < CHAN_FLUSH_BATCH &&
		    k < CHAN_FLUSH_IOV; n++) {
			next = chan_dgram(c, f, iov, &k, &nf[n]);
			chan_msghdr(&mm[n].msg_hdr, &cm[n], &iov[k - nf[n]],
			    (int)nf[n], f->f_fd);
			mm[n].msg_len = 0;
			f = next;
		}
		sent = sendmmsg(c->c_fd, mm, (unsigned int)n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ENOBUFS)
				return -1;
			break;
		}
		for (i = 0; i < sent; i++) {
			for (j = 0; j < nf[i]; j++) {
				f = c->c_head;
				c->c_head = f->f_next;
				c->c_queued--;
				if (f->f_fd != -1)
					close(f->f_fd);
				explicit_bzero(f->f_data, f->f_len);
				free(f);
			}
		}
		if (c->c_head == NULL)
			c->c_tail = NULL;
		if (sent < n)
			break;	/* the socket is full */
	}
	c->c_backlog = c->c_queued;
	return 0;
}

int
chan_pending(const struct chan *c)
{
	return c->c_head != NULL;
}

/*
 * Check one received frame, already in m->m_raw (n bytes), with the
 * control data mh carries.
 */
static int
chan_parse(struct chan *c, struct chan_msg *m, struct msghdr *mh, ssize_t n)
{
	struct cmsghdr	*cmsg;
	struct buf	 b;
	int		 fd, bad = 0;
	size_t		 i, nfd;

	m->m_fd = -1;
	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (m->m_fd == -1 && c->c_allow_fd)
				m->m_fd = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	if ((mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		bad = 1;
	/* End of file, or an empty frame that may still carry an fd. */
	if (n == 0) {
		if (m->m_fd != -1)
			close(m->m_fd);
		m->m_fd = -1;
		errno = EPIPE;
		return -1;
	}
	buf_init(&b, m->m_raw, (size_t)n);
	if (bad || buf_get(&b, &m->m_hdr, sizeof(m->m_hdr)) == -1 ||
	    m->m_hdr.ch_len != buf_left(&b) ||
	    m->m_hdr.ch_len > CHAN_MAX_PAYLOAD) {
		if (m->m_fd != -1)
			close(m->m_fd);
		m->m_fd = -1;
		errno = EBADMSG;
		return -1;
	}
	buf_take(&b, buf_left(&b), &m->m_payload);
	return 1;
}

/* Refill the read-ahead: 0 when nothing is waiting. */
static int
chan_rx_fill(struct chan *c)
{
	struct chan_rx	*rx = c->c_rx;
	unsigned int	 k;
	int		 r;

	/* Only the frames the last read filled had their lengths changed. */
	for (k = 0; k < rx->rx_n; k++)
		rx->rx_mm[k].msg_hdr.msg_controllen =
		    sizeof(rx->rx_cm[k].buf);
	rx->rx_n = rx->rx_next = 0;
	rx->rx_off = 0;
	rx->rx_short = 1;
	r = recvmmsg(c->c_fd, rx->rx_mm, CHAN_RX_BATCH,
	    MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		rx->rx_short = 0;	/* nothing learnt */
		return errno == EINTR ? 0 : -1;
	}
	rx->rx_n = (unsigned int)r;
	rx->rx_short = r < CHAN_RX_BATCH;
	return r > 0;
}

/*
 * The next frame of the datagram at rx_next (chan_unpack), into m.  A
 * datagram of one frame is checked as chan_recv always does; in one of
 * several, each frame is, and none may bring a fd.  What cannot be a
 * frame (a header cut short, a length past the end) goes to chan_parse
 * as the datagram's rest, which refuses it, and the rest is dropped.
 */
static int
chan_recv_packed(struct chan *c, struct chan_msg *m)
{
	struct chan_rx	*rx = c->c_rx;
	struct msghdr	*mh = &rx->rx_mm[rx->rx_next].msg_hdr, none;
	struct chan_hdr	 h;
	struct buf	 b, peek;
	size_t		 len = rx->rx_mm[rx->rx_next].msg_len, flen;
	int		 first = rx->rx_off == 0, r;

	buf_init(&b, rx->rx_buf[rx->rx_next], len);
	if (buf_skip(&b, rx->rx_off) == -1)
		fatalx("%s: offset past the datagram", __func__);
	peek = b;
	flen = buf_left(&b);
	if (buf_get(&peek, &h, sizeof(h)) == 0 && h.ch_len <= buf_left(&peek))
		flen = sizeof(h) + (size_t)h.ch_len;
	if (buf_get(&b, m->m_raw, flen) == -1)
		fatalx("%s: frame vanished", __func__);
	rx->rx_off += flen;
	if (first && rx->rx_off == len)
		r = chan_parse(c, m, mh, (ssize_t)flen);
	else {
		/* The datagram's fds are looked at, and refused, once. */
		memset(&none, 0, sizeof(none));
		none.msg_flags = mh->msg_flags;
		r = chan_parse(c, m, first ? mh : &none, (ssize_t)flen);
		if (r == 1 && m->m_fd != -1) {
			close(m->m_fd);
			m->m_fd = -1;
			errno = EBADMSG;
			r = -1;
		}
	}
	if (r == -1)
		rx->rx_off = len;
	if (rx->rx_off == len) {
		explicit_bzero(rx->rx_buf[rx->rx_next], len);
		rx->rx_next++;
		rx->rx_off = 0;
	}
	return r;
}

/*
 * Read one frame.  Returns 1 with a message, 0 when nothing is waiting,
 * and -1 on EOF, error or a frame whose framing is wrong: a truncated
 * frame, a length that disagrees with what arrived, or a fd where none is
 * allowed.  Payload checks per type are chan_get's job.
 */
int
chan_recv(struct chan *c, struct chan_msg *m)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union chan_rxcmsg cm;
	struct chan_rx	*rx = c->c_rx;
	ssize_t		 n;
	int		 r;

	m->m_fd = -1;
	if (rx != NULL) {
		if (rx->rx_next == rx->rx_n && (r = chan_rx_fill(c)) != 1)
			return r;
		if (c->c_unpack)
			return chan_recv_packed(c, m);
		n = (ssize_t)rx->rx_mm[rx->rx_next].msg_len;
		memcpy(m->m_raw, rx->rx_buf[rx->rx_next], (size_t)n);
		explicit_bzero(rx->rx_buf[rx->rx_next], (size_t)n);
		return chan_parse(c, m, &rx->rx_mm[rx->rx_next++].msg_hdr, n);
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = m->m_raw;
	iov.iov_len = sizeof(m->m_raw);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(c->c_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return -1;
	}
	return chan_parse(c, m, &mh, n);
}

/* Copy the payload into its struct; the size must match exactly. */
int
chan_get(const struct chan_msg *m, void *dst, size_t size)
{
	struct buf	b = m->m_payload;

	if (buf_left(&b) != size)
		return -1;
	return buf_get(&b, dst, size);
}

/* A fixed char field is a C string: NUL within it, no control bytes. */
int
chan_str_ok(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size; i++) {
		if (s[i] == '\0')
			return 1;
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	}
	return 0;
}
