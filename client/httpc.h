/* SPDX-License-Identifier: ISC */
/*
 * The HTTP/1.1 client that sealmdctl (unix socket) and sealmd-guest (TCP)
 * share: one request per connection, a deadline on every step, and an
 * answer parser that reads the wire only through struct buf.  It needs
 * libc and privsep/buf.c only; the caller opens the connection.
 */
#ifndef SEALMD_HTTPC_H
#define SEALMD_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

/* The other end, as the request and the messages name it. */
struct httpc_peer {
	const char	*hp_host;	/* the Host header */
	const char	*hp_agent;	/* the User-Agent header, or NULL */
	const char	*hp_name;	/* what messages call the peer */
	int		 hp_timeout;	/* seconds, as messages quote them */
};

struct httpc_resp {
	struct bbuf	hr_raw;		/* as read, at most its cap */
	struct bbuf	hr_chunked;	/* the decoded body, if chunked */
	int		hr_status;
	struct buf	hr_reason;	/* views into hr_raw or hr_chunked */
	struct buf	hr_body;
};

int64_t	httpc_now_ms(void);
int	httpc_wait(int, short, int64_t);
int	httpc_line(struct buf *, struct buf *, int);
int	httpc_request(struct bbuf *, const struct httpc_peer *, const char *,
	    const char *, const char *, const void *, size_t);
void	httpc_resp_init(struct httpc_resp *, size_t);
void	httpc_resp_free(struct httpc_resp *);
int	httpc_parse(struct httpc_resp *, int, const char **);
int	httpc_exchange(const struct httpc_peer *, int, struct bbuf *,
	    struct httpc_resp *, int64_t);

#endif
