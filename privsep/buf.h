/* SPDX-License-Identifier: ISC */
/*
 * The one buffer API.  Every byte that crosses a trust boundary (HTTP from
 * the network, messages on the channel) is read through a struct buf
 * cursor; every growing byte store is a struct bbuf.  All offset
 * arithmetic lives in buf.c so that no other file indexes wire data.
 */
#ifndef SEALMD_BUF_H
#define SEALMD_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read-only cursor over bytes we did not produce. */
struct buf {
	const uint8_t	*b_data;
	size_t		 b_len;
	size_t		 b_off;
};

void	buf_init(struct buf *, const void *, size_t);
size_t	buf_left(const struct buf *);
int	buf_get(struct buf *, void *, size_t);
int	buf_get_u8(struct buf *, uint8_t *);
int	buf_peek(const struct buf *, size_t, uint8_t *);
int	buf_skip(struct buf *, size_t);
int	buf_find(const struct buf *, uint8_t, size_t *);
int	buf_take(struct buf *, size_t, struct buf *);
int	buf_slice(const struct buf *, size_t, size_t, struct buf *);
int	buf_sep(struct buf *, uint8_t, struct buf *);
int	buf_token(struct buf *, struct buf *);
int	buf_eq(const struct buf *, const char *);
int	buf_caseeq(const struct buf *, const char *);
int	buf_has_prefix(const struct buf *, const char *);
void	buf_trim_ows(struct buf *);
int	buf_copy_str(const struct buf *, char *, size_t);
int	buf_to_u64(const struct buf *, uint64_t, uint64_t *);
int	buf_all(const struct buf *, int (*)(uint8_t));
int	buf_all_in(const struct buf *, const uint8_t [256]);
void	buf_skip_ascii(struct buf *);

/* Growable byte store with a hard cap; never grows past b_max. */
struct bbuf {
	uint8_t		*bb_data;
	size_t		 bb_len;
	size_t		 bb_cap;
	size_t		 bb_max;
};

void	bbuf_init(struct bbuf *, size_t);
void	bbuf_free(struct bbuf *);
void	bbuf_reset(struct bbuf *);
int	bbuf_reserve(struct bbuf *, size_t, uint8_t **, size_t *);
void	bbuf_commit(struct bbuf *, size_t);
void	bbuf_consume(struct bbuf *, size_t);
int	bbuf_add(struct bbuf *, const void *, size_t);
int	bbuf_add_str(struct bbuf *, const char *);
int	bbuf_printf(struct bbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	bbuf_view(const struct bbuf *, struct buf *);
ssize_t	bbuf_read_fd(struct bbuf *, int, size_t);
ssize_t	bbuf_write_fd(struct bbuf *, int);

#endif
