/* SPDX-License-Identifier: ISC */
/*
 * The reader's replay store: what a job read is what the handler sees, and
 * anything the plan did not read fails as an unavailable store would.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "broker/broker.h"
#include "broker/reader.h"
#include "broker/rotate.h"
#include "broker/store/store_replay.h"

#define ID1	"00000000-0000-4000-8000-000000000001"
#define ID2	"00000000-0000-4000-8000-000000000002"

static const struct store_ops	real_ops = { .name = "postgresql" };
static struct store		real = { &real_ops, NULL };
static struct broker		b;

static struct rjob *
job(enum ahead_plan plan, const char *key, int want)
{
	struct rjob	*j = reader_job(plan, RT_MSG);

	j->rj_ah.ah_want = want;
	strcpy(j->rj_ah.ah_key, key);
	return j;
}

static void
head(struct rjob *j, const char *id)
{
	j->rj_ah.ah_r = STORE_OK;
	strcpy(j->rj_ah.ah_i.head.ri_id, id);
	strcpy(j->rj_ah.ah_i.head.ri_project, "p");
}

static void
setup(void)
{
	b.b_store = &real;
}

TestSuite(reader, .init = setup);

/* A guest by address: its head, then its value by the id it found. */
Test(reader, by_address_then_by_id)
{
	struct rjob		*j = job(AHEAD_ADDR, "10.0.0.1", AHEAD_WANT_PW);
	struct store_inst	 inst;
	struct store_pw		 pw;

	head(j, ID1);
	j->rj_ah.ah_pw_r = STORE_OK;
	j->rj_ah.ah_i.pw.sp_nchunks = 1;
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_str_eq(store_name(b.b_store), "postgresql");
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.1", 1, &inst),
	    STORE_OK);
	cr_assert_str_eq(inst.ri_id, ID1);
	cr_assert_eq(store_pw_get(b.b_store, ID1, &pw), STORE_OK);
	cr_assert_eq(pw.sp_nchunks, 1);
	/* Not what was read: another address, another id, the record. */
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.2", 1, &inst),
	    STORE_ERR);
	cr_assert_eq(store_pw_get(b.b_store, ID2, &pw), STORE_ERR);
	cr_assert_eq(store_instance_get(b.b_store, ID1, &inst), STORE_ERR);
	cr_assert_eq(store_counts(b.b_store, &(uint32_t){ 0 },
	    &(uint32_t){ 0 }), STORE_ERR);
	store_replay_end(&b.b_store);
	cr_assert_eq(b.b_store, &real);
	reader_free(j);
}

/* An unknown instance: every read of it says so, not an error. */
Test(reader, not_found_is_passed_on)
{
	struct rjob		*j = job(AHEAD_ID, ID2,
				    AHEAD_WANT_INST | AHEAD_WANT_PW);
	struct store_inst	 inst;
	struct store_pw		 pw;

	j->rj_ah.ah_r = STORE_NOTFOUND;
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_head(b.b_store, ID2, 0, &inst),
	    STORE_NOTFOUND);
	cr_assert_eq(store_instance_get(b.b_store, ID2, &inst),
	    STORE_NOTFOUND);
	cr_assert_eq(store_pw_get(b.b_store, ID2, &pw), STORE_NOTFOUND);
	store_replay_end(&b.b_store);
	reader_free(j);
}

/* Writes never go through the event loop's store. */
Test(reader, writes_fail)
{
	struct rjob		*j = job(AHEAD_ID, ID1, AHEAD_WANT_PW);
	struct store_inst	 inst;
	struct store_pw		 pw;
	int			 created;

	head(j, ID1);
	memset(&inst, 0, sizeof(inst));
	memset(&pw, 0, sizeof(pw));
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_put(b.b_store, &inst, &created),
	    STORE_ERR);
	cr_assert_eq(store_pw_put_if_absent(b.b_store, ID1, &pw), STORE_ERR);
	cr_assert_eq(store_pw_del(b.b_store, ID1), STORE_ERR);
	cr_assert_eq(store_pw_take(b.b_store, ID1, &pw), STORE_ERR);
	cr_assert_eq(store_batch_begin(b.b_store), STORE_ERR);
	store_replay_end(&b.b_store);
	reader_free(j);
}

/* The plans that read lists: a page, the counts, values to rewrap. */
Test(reader, lists)
{
	struct rjob		*j = job(AHEAD_LIST, ID1, 0);
	struct store_list	 ans;
	struct store_keycount	 kc[STORE_KEYCOUNTS_MAX];
	char			 ids[ROTATE_BATCH][ID_LEN + 1];
	size_t			 n;
	uint32_t		 ni, np;

	j->rj_ah.ah_r = STORE_OK;
	j->rj_ah.ah_list.sl_n = 1;
	strcpy(j->rj_ah.ah_list.sl_e[0].id, ID2);
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_list(b.b_store, ID1, &ans), STORE_OK);
	cr_assert_eq(ans.sl_n, 1);
	cr_assert_str_eq(ans.sl_e[0].id, ID2);
	cr_assert_eq(store_instance_list(b.b_store, "", &ans), STORE_ERR);
	store_replay_end(&b.b_store);
	reader_free(j);

	j = job(AHEAD_COUNTS, "", 0);
	j->rj_ah.ah_r = STORE_OK;
	j->rj_ah.ah_c.ninst = 3;
	j->rj_ah.ah_c.npw = 2;
	j->rj_ah.ah_c.kc_r = STORE_OK;
	j->rj_ah.ah_c.nkc = 1;
	j->rj_ah.ah_c.kc[0].kc_id = 7;
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_counts(b.b_store, &ni, &np), STORE_OK);
	cr_assert_eq(ni, 3);
	cr_assert_eq(np, 2);
	cr_assert_eq(store_key_counts(b.b_store, kc, STORE_KEYCOUNTS_MAX, &n),
	    STORE_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(kc[0].kc_id, 7);
	store_replay_end(&b.b_store);
	reader_free(j);

	j = job(AHEAD_OLDER, ID1, 0);
	j->rj_ah.ah_newest = 4;
	j->rj_ah.ah_max = ROTATE_BATCH;
	j->rj_ah.ah_r = STORE_OK;
	j->rj_ah.ah_ids.n = 1;
	strcpy(j->rj_ah.ah_ids.id[0], ID2);
	j->rj_ah.ah_ids.pw_r[0] = STORE_OK;
	j->rj_ah.ah_older[0].sp_nchunks = 2;
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_pw_older(b.b_store, 4, ID1, ids, ROTATE_BATCH, &n),
	    STORE_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ids[0], ID2);
	/* Another key since: what was read is stale, not an answer. */
	cr_assert_eq(store_pw_older(b.b_store, 5, ID1, ids, ROTATE_BATCH, &n),
	    STORE_ERR);
	store_replay_end(&b.b_store);
	reader_free(j);
}

/* A full queue: nothing was read, everything fails quietly. */
Test(reader, nothing_read)
{
	struct rjob		*j = job(AHEAD_NONE, "", 0);
	struct store_inst	 inst;

	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.1", 1, &inst),
	    STORE_ERR);
	store_replay_end(&b.b_store);
	reader_free(j);
}

/*
 * What store_ahead_read reads from a real store is what the replay then
 * answers, as the store itself would: the two halves stay in step.
 */
Test(reader, read_ahead_then_replay)
{
	static const char *const files[] = { "", "-wal", "-shm" };
	char			 dir[] = "/tmp/sealmd-test-reader-XXXXXX";
	char			 path[PATH_MAX], p[PATH_MAX + 8];
	struct store		*st;
	struct rjob		*j, *j2;
	struct store_ahead	*ah[2];
	struct store_inst	 in, inst;
	struct store_pw		 pw, got;
	struct store_list	 page;
	size_t			 i;
	int			 created;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	cr_assert_not_null(st = store_open_sqlite(path));
	memset(&in, 0, sizeof(in));
	strcpy(in.ri_id, ID1);
	strcpy(in.ri_project, "p");
	strcpy(in.ri_addr[in.ri_naddr++], "10.0.0.1");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	memset(&pw, 0, sizeof(pw));
	pw.sp_nchunks = 1;
	pw.sp_chunk[0].ss_format = SEAL_FORMAT_V2;
	pw.sp_chunk[0].ss_len = SEAL_TAG_LEN + 3;
	pw.sp_chunk[0].ss_ct[0] = 0x5a;
	pw.sp_set_at = 1700000000;
	cr_assert_eq(store_pw_put_if_absent(st, ID1, &pw), STORE_OK);
	b.b_store = st;

	j = job(AHEAD_ADDR, "10.0.0.1", AHEAD_WANT_INST | AHEAD_WANT_PW);
	store_ahead_read(st, &j->rj_ah);
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_str_eq(store_name(b.b_store), "sqlite");
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.1", 1, &inst),
	    STORE_OK);
	cr_assert_str_eq(inst.ri_id, ID1);
	cr_assert_eq(store_instance_get(b.b_store, ID1, &inst), STORE_OK);
	cr_assert_eq(inst.ri_naddr, 1);
	cr_assert_str_eq(inst.ri_addr[0], "10.0.0.1");
	cr_assert_eq(store_pw_get(b.b_store, ID1, &got), STORE_OK);
	cr_assert_eq(got.sp_set_at, pw.sp_set_at);
	cr_assert_eq(got.sp_chunk[0].ss_len, pw.sp_chunk[0].ss_len);
	cr_assert_eq(got.sp_chunk[0].ss_ct[0], 0x5a);
	/* Not read ahead: another address. */
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.2", 1, &inst),
	    STORE_ERR);
	store_replay_end(&b.b_store);
	reader_free(j);

	/* A take's guest reads, in one call: each gets its own answer. */
	j = job(AHEAD_ADDR, "10.0.0.1", AHEAD_WANT_PW);
	j2 = job(AHEAD_ID, ID2, AHEAD_WANT_PW);
	cr_assert(store_ahead_batchable(&j->rj_ah));
	cr_assert(store_ahead_batchable(&j2->rj_ah));
	ah[0] = &j->rj_ah;
	ah[1] = &j2->rj_ah;
	store_ahead_read_many(st, ah, 2);
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_head(b.b_store, "10.0.0.1", 1, &inst),
	    STORE_OK);
	cr_assert_eq(store_pw_get(b.b_store, ID1, &got), STORE_OK);
	cr_assert_eq(got.sp_chunk[0].ss_ct[0], 0x5a);
	store_replay_end(&b.b_store);
	store_replay_begin(&b.b_store, &j2->rj_ah);
	cr_assert_eq(store_instance_head(b.b_store, ID2, 0, &inst),
	    STORE_NOTFOUND);
	store_replay_end(&b.b_store);
	reader_free(j);
	reader_free(j2);

	j = job(AHEAD_LIST, "", 0);
	cr_assert(!store_ahead_batchable(&j->rj_ah));
	store_ahead_read(st, &j->rj_ah);
	store_replay_begin(&b.b_store, &j->rj_ah);
	cr_assert_eq(store_instance_list(b.b_store, NULL, &page), STORE_OK);
	cr_assert_eq(page.sl_n, 1);
	cr_assert_eq(page.sl_more, 0);
	cr_assert_str_eq(page.sl_e[0].id, ID1);
	store_replay_end(&b.b_store);
	reader_free(j);

	store_close(st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, files[i]);
		(void)unlink(p);
	}
	cr_assert_eq(rmdir(dir), 0);
}

/* A job kept for reuse comes back wiped: no request's bytes, no value. */
Test(reader, reused_job_is_wiped)
{
	struct rjob	*j = job(AHEAD_ADDR, "10.0.0.1", AHEAD_WANT_PW), *k;
	const uint8_t	*p;
	size_t		 i;

	head(j, ID1);
	memset(&j->rj_ah.ah_i.pw, 0xa5, sizeof(j->rj_ah.ah_i.pw));
	memset(j->rj_payload, 0x5a, sizeof(j->rj_payload));
	j->rj_len = sizeof(j->rj_payload);
	reader_free(j);
	k = reader_job(AHEAD_ID, RT_PW_GET);
	cr_assert_eq(k, j, "the job was not kept for reuse");
	cr_assert_eq(k->rj_ah.ah_plan, AHEAD_ID);
	cr_assert_eq(k->rj_then, RT_PW_GET);
	cr_assert_eq(k->rj_len, 0);
	cr_assert_str_empty(k->rj_ah.ah_key);
	cr_assert_str_empty(k->rj_ah.ah_i.head.ri_id);
	p = (const uint8_t *)&k->rj_ah.ah_i.pw;
	for (i = 0; i < sizeof(k->rj_ah.ah_i.pw); i++)
		cr_assert_eq(p[i], 0, "value byte %zu kept", i);
	for (i = 0; i < sizeof(k->rj_payload); i++)
		cr_assert_eq(k->rj_payload[i], 0, "request byte %zu kept", i);
	reader_free(k);
}
