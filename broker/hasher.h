/* SPDX-License-Identifier: ISC */
/*
 * Argon2id off the event loop.  Hashing costs hundreds of milliseconds and
 * hundreds of MiB, so one thread does it, from a short queue: when the
 * queue is full the answer is 503, and a flood of POSTs cannot starve
 * anybody's reads.
 */
#ifndef SEALMD_HASHER_H
#define SEALMD_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "jobq.h"
#include "privsep/msg.h"
#include "route.h"

#define HASHER_QUEUE_MAX	8

enum hjob_op {
	HJ_HASH,		/* hj_value -> hj_verifier */
	HJ_VERIFY,		/* hj_value against hj_verifier -> hj_match */
};

struct hjob {
	struct jobq_link hj_q;
	struct hjob	*hj_next;	/* hasher_done's list */
	enum hjob_op	 hj_op;
	char		 hj_id[ID_LEN + 1];
	struct route	 hj_rt;
	uint8_t		 hj_value[PW_MAX];
	size_t		 hj_len;
	char		 hj_verifier[crypto_pwhash_STRBYTES];
	int		 hj_match;	/* 1 match, 0 not, -1 error */
	unsigned long long hj_ops;
	size_t		 hj_mem;
};

int		 hasher_start(void);
void		 hasher_stop(void);
int		 hasher_fd(void);
int		 hasher_submit(struct hjob *);
struct hjob	*hasher_done(void);

#endif
