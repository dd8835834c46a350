/* SPDX-License-Identifier: ISC */
/*
 * What the parts of the operation table share.  ops.c holds the table,
 * its gates and what every handler uses; ops_guest.c and ops_owner.c the
 * handlers; ops_done.c the completions of the writer, reader and hasher,
 * seeding and the expiry sweep.  Private to them.
 */
#ifndef SEALMD_OPS_H
#define SEALMD_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "privsep/chan.h"
#include "privsep/msg.h"
#include "store/store.h"
#include "writer.h"

struct ops_entry;

struct ops_ctx {
	struct broker		*b;
	struct bconn		*bc;
	const struct chan_msg	*m;
	const struct ops_entry	*oe;		/* its row in the table */
	char			 why[128];	/* set on a violation */
};

typedef int (*ops_fn)(struct ops_ctx *);

/* The gates of a row, all checked in ops_run. */
#define OPS_F_OWNER_AUTH	0x1	/* 403 unless an allowed owner, now */
#define OPS_F_ONCE		0x2	/* once per worker: its first word */
#define OPS_F_NAMES_ID		0x4	/* oe_key: the instance it acts on */
#define OPS_F_BATCH		0x8	/* within a batch: not counted alone */
#define OPS_F_WRITE		0x10	/* a write: after its turn's reads */

/* What a message reads, read ahead for it with a reader (PostgreSQL). */
enum ops_ahead {
	OPS_A_NONE,		/* nothing: it runs at once */
	OPS_A_GUEST,		/* the guest it proves, by address or id */
	OPS_A_TOKEN,		/* the same, for a token: none is needed */
	OPS_A_ID,		/* the instance whose id is at oe_key */
	OPS_A_LIST,		/* a page of the list after oe_key's id */
	OPS_A_COUNTS,		/* the store's counts */
};

struct ops_entry {
	uint32_t	 oe_type;
	int		 oe_role;	/* 0: not tied to a connection */
	size_t		 oe_size;	/* its payload, exactly */
	size_t		 oe_answer;	/* its answer's size; 0: none */
	int		 oe_flags;	/* OPS_F_* */
	const char	*oe_name;	/* its audit op; or in a violation */
	enum ops_ahead	 oe_ahead;
	int		 oe_want;	/* AHEAD_WANT_*, with the instance */
	size_t		 oe_key;	/* offset of an instance id */
	ops_fn		 oe_fn;
};

/* ops.c */
const struct ops_entry *ops_entry(uint32_t);
void	 ops_audit(struct ops_ctx *, const char *, const char *,
	    unsigned int, const uint8_t *);
int	 ops_violation(struct ops_ctx *, const char *);
int	 ops_answer(struct ops_ctx *, const void *, size_t);
int	 ops_answer_status(struct ops_ctx *, unsigned int);
int	 ops_owner_allowed(struct ops_ctx *);
void	 ops_run(struct broker *, struct chan_msg *, int);
int	 ops_store_status(int, int);
void	 ops_route(const struct ops_ctx *, struct route *);
void	 ops_send_route(struct broker *, const struct route *, const void *,
	    size_t);
struct wjob	*ops_job(enum wjob_op, const char *);
void	 ops_job_free(struct wjob *);
int	 ops_submit(struct ops_ctx *, struct wjob *, const char *);
void	 ops_inst_from_wire(struct store_inst *, const struct msg_instance *);
void	 ops_inst_to_wire(struct msg_instance *, const struct store_inst *);
void	 ops_inst_answer(struct msg_instance_ans *, int,
	    const struct store_inst *);
void	 ops_list_to_wire(struct msg_list_ans *, const struct store_list *);
int64_t	 ops_ttl(const struct broker *, const struct store_inst *);
int	 ops_one_time(const struct broker *, const struct store_inst *);
int	 ops_mode(const struct broker *, const struct store_inst *);
int	 ops_expired(const struct store_pw *, int64_t);
void	 ops_expire(const char *, int64_t);
int	 ops_pw_open(struct broker *, const char *, struct store_pw *,
	    struct msg_pw *);
int	 ops_pw_read(struct broker *, const struct store_inst *,
	    struct msg_pw *, int *);

/* ops_guest.c */
int	 ops_guest_ok(struct ops_ctx *, const struct msg_guest *);
int	 ops_guest_ident(struct ops_ctx *);
int	 ops_guest_meta(struct ops_ctx *);
int	 ops_guest_pw_get(struct ops_ctx *);
int	 ops_guest_token(struct ops_ctx *);
int	 ops_guest_pw_put(struct ops_ctx *);

/* ops_owner.c */
int	 ops_owner_inst_put(struct ops_ctx *);
int	 ops_owner_inst_get(struct ops_ctx *);
int	 ops_owner_inst_del(struct ops_ctx *);
int	 ops_owner_inst_list(struct ops_ctx *);
int	 ops_owner_pw_get(struct ops_ctx *);
int	 ops_owner_pw_del(struct ops_ctx *);
int	 ops_owner_keys(struct ops_ctx *);
unsigned int ops_retire_status(int);
int	 ops_owner_key_retire(struct ops_ctx *);
int	 ops_owner_metrics(struct ops_ctx *);
int	 ops_owner_status(struct ops_ctx *);
int	 ops_owner_auth(struct ops_ctx *);
int	 ops_owner_pw_verify(struct ops_ctx *);
int	 ops_owner_batch_begin(struct ops_ctx *);
int	 ops_owner_batch_entry(struct ops_ctx *);
int	 ops_owner_batch_end(struct ops_ctx *);
void	 ops_batch_audit(struct broker *, const struct route *,
	    const struct store_inst *, size_t, unsigned int, size_t,
	    unsigned int);

#endif /* SEALMD_OPS_H */
