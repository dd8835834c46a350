/* SPDX-License-Identifier: ISC */
/*
 * Key rotation (broker/rotate.c): a new key, the checks before a key is
 * retired, retiring it once the writer has counted its values (queued
 * writes included), and a rewrap pass through the real writer thread;
 * and that thread's hand-off: what a turn queues is one group.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>

#include "broker/rotate.h"
#include "broker/seal.h"
#include "broker/writer.h"
#include "tests/unit/bfix.h"

#define ID_A	"6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b"
#define ID_B	"0b5e2c3d-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
#define PW_A	"value of A"
#define PW_B	"value of B, sealed by the first key"
#define SPINS	200		/* polls of a second at most */

static void
setup(void)
{
	bfix_setup();
	bfix_register(ID_A, "proj-a", "10.0.0.5", NULL);
	bfix_register(ID_B, "proj-b", "10.0.0.6", NULL);
}

TestSuite(rotate, .init = setup, .fini = bfix_teardown);

static int
key_file(uint32_t id)
{
	char		path[PATH_MAX + 16];
	struct stat	st;

	(void)snprintf(path, sizeof(path), "%s/%u", bfix_conf.c_key_dir, id);
	return stat(path, &st) == 0;
}

/* A value sealed by the ring's newest key, as a guest PUT seals it. */
static void
seal_str(const char *id, const char *value, struct store_pw *sp)
{
	cr_assert_eq(seal_value(&bfix_b.b_keys, id, (const uint8_t *)value,
	    strlen(value), PW_KIND_VALUE, sp), 0);
}

static void
put_value(const char *id, const char *value)
{
	struct store_pw	sp;

	seal_str(id, value, &sp);
	cr_assert_eq(store_pw_put_if_absent(bfix_b.b_store, id, &sp),
	    STORE_OK);
}

/* The value as stored opens, to what was put, sealed by key `by`. */
static void
value_is(const char *id, const char *value, uint32_t by)
{
	struct store_pw	sp;
	uint8_t		plain[PW_CHUNK_LEN];
	size_t		len;

	cr_assert_eq(store_pw_get(bfix_b.b_store, id, &sp), STORE_OK);
	store_read_end(bfix_b.b_store);
	cr_assert_eq(sp.sp_nchunks, 1);
	cr_assert_eq(sp.sp_chunk[0].ss_key_id, by, "%s sealed by %u", id,
	    sp.sp_chunk[0].ss_key_id);
	cr_assert_eq(seal_open(&bfix_b.b_keys, id, 0, 1, sp.sp_kind,
	    sp.sp_set_at, &sp.sp_chunk[0], plain, &len), 0,
	    "%s does not open", id);
	cr_assert(len == strlen(value) && memcmp(plain, value, len) == 0);
}

/* What the key ring and the store say, as `sealmdctl keys` shows it. */
static uint32_t
records_of(uint32_t id)
{
	struct msg_keys_ans	mk;
	uint32_t		i;

	rotate_fill(&bfix_b, &mk);
	store_read_end(bfix_b.b_store);
	cr_assert_eq(mk.mka_status, 200);
	for (i = 0; i < mk.mka_n; i++)
		if (mk.mka_id[i] == id)
			return mk.mka_records[i];
	cr_assert_fail("key %u not in the ring", id);
	return 0;
}

static void
new_key(uint32_t want)
{
	char	err[CONF_ERR_MAX] = "";

	cr_assert_eq(rotate_new_key(&bfix_b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(keyring_newest(&bfix_b.b_keys)->k_id, want);
	cr_assert(key_file(want));
}

Test(rotate, new_key_seals_new_values)
{
	char	err[CONF_ERR_MAX] = "";

	put_value(ID_A, PW_A);
	new_key(2);
	cr_assert_not_null(keyring_find(&bfix_b.b_keys, 1));
	put_value(ID_B, PW_B);
	value_is(ID_A, PW_A, 1);
	value_is(ID_B, PW_B, 2);
	/* A ring from systemd credentials is not sealmd's to change. */
	bfix_b.b_keys_creds = 1;
	cr_assert_eq(rotate_new_key(&bfix_b, err, sizeof(err)), -1);
	cr_assert_neq(err[0], '\0');
	cr_assert_not(key_file(3));
}

Test(rotate, ring_full)
{
	char		err[CONF_ERR_MAX] = "";
	uint32_t	id;

	for (id = 2; id <= KEYRING_MAX; id++)
		new_key(id);
	cr_assert_eq(rotate_new_key(&bfix_b, err, sizeof(err)), -1);
	cr_assert(strstr(err, "full") != NULL, "%s", err);
	cr_assert_eq(bfix_b.b_keys.kr_n, KEYRING_MAX);
}

Test(rotate, retire_check_table)
{
	static const struct {
		const char	*name;
		uint32_t	 id;
		int		 creds, r;
	} rows[] = {
		{ "an older key", 1, 0, 0 },
		{ "the newest", 2, 0, 2 },
		{ "unknown", 7, 0, 1 },
		{ "zero", 0, 0, 1 },
		{ "credentials, older", 1, 1, -1 },
		{ "credentials, unknown", 7, 1, 1 },
	};
	char	err[CONF_ERR_MAX];
	size_t	i;

	new_key(2);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bfix_b.b_keys_creds = rows[i].creds;
		err[0] = '\0';
		cr_assert_eq(rotate_retire_check(&bfix_b, rows[i].id, err,
		    sizeof(err)), rows[i].r, "%s", rows[i].name);
		cr_assert_eq(err[0] != '\0', rows[i].r == 2 || rows[i].r == -1,
		    "%s: \"%s\"", rows[i].name, err);
	}
	cr_assert(key_file(1) && key_file(2));
}

/* rotate_retire on the writer's count: only a key that seals nothing. */
Test(rotate, retire_table)
{
	static const struct {
		const char	*name;
		uint32_t	 key, count;
		int		 result, r, gone;
	} rows[] = {
		{ "store error", 1, 0, STORE_ERR, -1, 0 },
		{ "still seals values", 1, 3, STORE_OK, 2, 0 },
		{ "the newest", 2, 0, STORE_OK, 2, 0 },
		{ "unknown", 9, 0, STORE_OK, 1, 0 },
		{ "seals nothing", 1, 0, STORE_OK, 0, 1 },
	};
	struct wjob	j;
	char		err[CONF_ERR_MAX];
	size_t		i;

	new_key(2);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.wj_op = WJ_KEY_COUNT;
		j.wj_key = rows[i].key;
		j.wj_count = rows[i].count;
		j.wj_result = rows[i].result;
		err[0] = '\0';
		cr_assert_eq(rotate_retire(&bfix_b, &j, err, sizeof(err)),
		    rows[i].r, "%s (%s)", rows[i].name, err);
		cr_assert_eq(!key_file(rows[i].key) && rows[i].key < 9,
		    rows[i].gone, "%s", rows[i].name);
		cr_assert_eq(keyring_find(&bfix_b.b_keys, rows[i].key) == NULL,
		    rows[i].gone || rows[i].key == 9, "%s: ring", rows[i].name);
	}
	cr_assert_eq(keyring_newest(&bfix_b.b_keys)->k_id, 2);
}

static struct wjob *
job(enum wjob_op op, const char *id)
{
	struct wjob	*j;

	cr_assert_not_null(j = calloc(1, sizeof(*j)));
	j->wj_op = op;
	(void)snprintf(j->wj_id, sizeof(j->wj_id), "%s", id);
	j->wj_rt.rt_listener = -1;
	return j;
}

/* Wait for n jobs back from the writer; the last one. */
static struct wjob *
collect(int n)
{
	struct pollfd	 pfd;
	struct wjob	*list, *j, *last = NULL;
	int		 spins;

	for (spins = 0; n > 0 && spins < SPINS; spins++) {
		writer_wake();
		pfd.fd = writer_fd();
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		for (list = writer_done(); list != NULL; list = j) {
			j = list->wj_next;
			if (last != NULL)
				free(last);
			last = list;
			n--;
		}
	}
	cr_assert_eq(n, 0, "%d jobs never came back", n);
	return last;
}

/*
 * Commit 7e0c71b: a value sealed by key 1 and still queued for the
 * writer when key 1 is retired must be counted.  The store's write lock
 * is held by another connection, so the PUT is queued behind it, and the
 * count after it; the retire must answer "still in use", and the value
 * must open.
 */
Test(rotate, retire_counts_queued_writes)
{
	struct wjob	*put, *count;
	sqlite3		*hold;
	char		 path[PATH_MAX + 16], err[CONF_ERR_MAX] = "";

	put = job(WJ_PW_PUT, ID_A);
	seal_str(ID_A, PW_A, &put->wj_pw);	/* by key 1 */
	new_key(2);
	cr_assert_eq(rotate_retire_check(&bfix_b, 1, err, sizeof(err)), 0);
	cr_assert_eq(records_of(1), 0, "nothing committed under key 1 yet");

	(void)snprintf(path, sizeof(path), "%s/sealmd.db", bfix_dir);
	cr_assert_eq(sqlite3_open(path, &hold), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(hold, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(writer_submit(put), 0);
	count = job(WJ_KEY_COUNT, "");
	count->wj_key = 1;
	cr_assert_eq(writer_submit(count), 0);
	cr_assert_eq(sqlite3_exec(hold, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_close(hold), SQLITE_OK);

	count = collect(2);
	cr_assert_eq(count->wj_op, WJ_KEY_COUNT, "the count came back last");
	cr_assert_eq(count->wj_result, STORE_OK);
	cr_assert_eq(count->wj_count, 1, "the queued write was not counted");
	cr_assert_eq(rotate_retire(&bfix_b, count, err, sizeof(err)), 2,
	    "retired with a value still sealed by it: %s", err);
	cr_assert(key_file(1));
	value_is(ID_A, PW_A, 1);
	free(count);
}

/* Turns of the event loop until the pass ends. */
static void
rewrap_run(void)
{
	struct pollfd	pfd;
	int		spins;

	rotate_start(&bfix_b);
	cr_assert(bfix_b.b_rewrap);
	for (spins = 0; bfix_b.b_rewrap && spins < SPINS; spins++) {
		/* Twice: a turn may come before the writer's answers. */
		rotate_step(&bfix_b);
		store_read_end(bfix_b.b_store);
		rotate_step(&bfix_b);
		store_read_end(bfix_b.b_store);
		if (bfix_b.b_rewrap_inflight == 0)
			continue;
		writer_wake();
		pfd.fd = writer_fd();
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) > 0)
			ops_write_done(&bfix_b);
	}
	cr_assert_not(bfix_b.b_rewrap, "the pass never ended");
	cr_assert_eq(bfix_b.b_rewrap_inflight, 0);
}

/*
 * A pass re-seals every value under the newest key, leaves one that does
 * not open as it is, and then the old key retires.
 */
Test(rotate, rewrap_then_retire)
{
	struct msg_keys_ans	 mk;
	struct store_pw		 sp;
	struct wjob		*count;
	char			 err[CONF_ERR_MAX] = "";
	char			 id[ID_LEN + 1];
	int			 i;

	put_value(ID_A, PW_A);
	put_value(ID_B, PW_B);
	/* More than a batch, so that the pass takes several turns. */
	for (i = 0; i < ROTATE_BATCH + 3; i++) {
		(void)snprintf(id, sizeof(id),
		    "00000000-0000-4000-8000-%012d", i);
		bfix_register(id, "proj-x", NULL, NULL);
		put_value(id, "x");
	}
	new_key(2);
	cr_assert_eq(records_of(1), ROTATE_BATCH + 5);
	rewrap_run();
	cr_assert_eq(bfix_b.b_rewrap_done, ROTATE_BATCH + 5);
	cr_assert_eq(records_of(1), 0);
	cr_assert_eq(records_of(2), ROTATE_BATCH + 5);
	value_is(ID_A, PW_A, 2);
	value_is(ID_B, PW_B, 2);
	rotate_fill(&bfix_b, &mk);
	store_read_end(bfix_b.b_store);
	cr_assert_eq(mk.mka_newest, 2);
	cr_assert_eq(mk.mka_rewrap, 0);
	cr_assert_eq(mk.mka_rewrapped, ROTATE_BATCH + 5);

	/* A value that does not open stays as it is, under key 2. */
	new_key(3);
	cr_assert_eq(store_pw_get(bfix_b.b_store, ID_A, &sp), STORE_OK);
	store_read_end(bfix_b.b_store);
	cr_assert_eq(store_pw_del(bfix_b.b_store, ID_A), STORE_OK);
	sp.sp_chunk[0].ss_ct[0] ^= 1;
	cr_assert_eq(store_pw_put_if_absent(bfix_b.b_store, ID_A, &sp),
	    STORE_OK);
	rewrap_run();
	cr_assert_eq(bfix_b.b_rewrap_done, ROTATE_BATCH + 4);
	cr_assert_eq(records_of(2), 1);
	value_is(ID_B, PW_B, 3);

	/* Key 1 seals nothing now: it retires, through the writer's count. */
	count = job(WJ_KEY_COUNT, "");
	count->wj_key = 1;
	cr_assert_eq(writer_submit(count), 0);
	count = collect(1);
	cr_assert_eq(rotate_retire(&bfix_b, count, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_not(key_file(1));
	cr_assert_null(keyring_find(&bfix_b.b_keys, 1));
	free(count);
}

/*
 * A pass waits while the writer is behind, so that guests' writes never
 * queue behind it: with more than ROTATE_QUEUE_MAX jobs queued (held by
 * another connection's write lock), a turn submits nothing.
 */
Test(rotate, rewrap_waits_for_the_writer)
{
	sqlite3		*hold;
	char		 path[PATH_MAX + 16];
	int		 i, spins;

	put_value(ID_A, PW_A);
	new_key(2);
	(void)snprintf(path, sizeof(path), "%s/sealmd.db", bfix_dir);
	cr_assert_eq(sqlite3_open(path, &hold), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(hold, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	/* The writer takes one job and waits for the lock... */
	cr_assert_eq(writer_submit(job(WJ_PW_DEL, ID_B)), 0);
	writer_wake();
	for (spins = 0; writer_queued() > 0 && spins < SPINS * 100; spins++)
		(void)poll(NULL, 0, 10);
	cr_assert_eq(writer_queued(), 0);
	/* ...while these queue behind it. */
	for (i = 0; i <= ROTATE_QUEUE_MAX; i++)
		cr_assert_eq(writer_submit(job(WJ_PW_DEL, ID_B)), 0);
	rotate_start(&bfix_b);
	rotate_step(&bfix_b);
	store_read_end(bfix_b.b_store);
	cr_assert_eq(bfix_b.b_rewrap_inflight, 0, "a rewrap queued behind "
	    "%zu writes", writer_queued());
	cr_assert_eq(writer_queued(), ROTATE_QUEUE_MAX + 1);
	cr_assert_eq(sqlite3_exec(hold, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_close(hold), SQLITE_OK);
	free(collect(ROTATE_QUEUE_MAX + 2));
	/* Caught up: the pass goes on. */
	rewrap_run();
	value_is(ID_A, PW_A, 2);
}

/*
 * writer_submit only queues: the thread starts at writer_wake, which
 * broker_run calls once a turn before it sleeps, and takes the turn's
 * writes as one group (one transaction, one commit).
 */
Test(writer, one_group_per_wake, .init = setup, .fini = bfix_teardown)
{
	struct msg_hist	c0, g0, c1, g1;
	int		i;

	writer_stats(&c0, &g0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(writer_submit(job(WJ_PW_DEL, ID_B)), 0);
		/* Time for a thread woken by the submit to take it. */
		(void)poll(NULL, 0, 50);
	}
	cr_assert_eq(writer_queued(), 3, "the writer took %zu writes "
	    "before writer_wake", 3 - writer_queued());
	free(collect(3));
	writer_stats(&c1, &g1);
	cr_assert_eq(g1.mh_count - g0.mh_count, 1, "%llu groups",
	    (unsigned long long)(g1.mh_count - g0.mh_count));
	cr_assert_eq(g1.mh_sum - g0.mh_sum, 3.0);
}
