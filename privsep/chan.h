/* SPDX-License-Identifier: ISC */
/*
 * The typed channel between broker and worker: SOCK_SEQPACKET frames of a
 * struct chan_hdr plus one fixed payload struct.  Sends never block: what
 * the peer cannot take yet waits in a bounded queue.
 */
#ifndef SEALMD_CHAN_H
#define SEALMD_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msg.h"

/*
 * Frames the peer was offered and has not taken: more, and chan_send
 * fails.  On a corked channel the frames added since the last chan_flush
 * do not count: the peer has not had them yet, and one turn of the
 * sender's loop, which bounds them, must not be taken for a slow peer.
 */
#define CHAN_QUEUE_MAX	8192

struct chan_frame;
struct chan_rx;

struct chan {
	int			 c_fd;
	int			 c_allow_fd;	/* accept SCM_RIGHTS */
	struct chan_frame	*c_head;
	struct chan_frame	*c_tail;
	size_t			 c_queued;
	size_t			 c_backlog;	/* left by the last flush */
	int			 c_corked;	/* send only in chan_flush */
	int			 c_pack;	/* frames share datagrams */
	int			 c_unpack;	/* take datagrams of frames */
	struct chan_rx		*c_rx;		/* frames read ahead, or NULL */
};

struct chan_msg {
	struct chan_hdr	 m_hdr;
	struct buf	 m_payload;
	int		 m_fd;		/* -1 unless a fd came with it */
	uint8_t		 m_raw[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD];
};

void	chan_init(struct chan *, int, int);
void	chan_clear(struct chan *);
void	chan_cork(struct chan *);
void	chan_batch(struct chan *);
void	chan_pack(struct chan *);
void	chan_unpack(struct chan *);
int	chan_buffered(const struct chan *);
int	chan_drained(const struct chan *);
int	chan_send(struct chan *, uint32_t, uint32_t, uint32_t,
	    const void *, size_t, int);
int	chan_flush(struct chan *);
int	chan_pending(const struct chan *);
int	chan_recv(struct chan *, struct chan_msg *);
int	chan_get(const struct chan_msg *, void *, size_t);
int	chan_str_ok(const char *, size_t);

#endif
