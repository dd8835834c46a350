/* SPDX-License-Identifier: ISC */
/*
 * The store conformance suite against the PostgreSQL engine, plus what
 * only a networked engine has: a lost connection and its reconnection.
 */
#define STORE_PG	1
#include "test_store.c"

/* End the store's sessions from outside, as a server restart would. */
static void
kill_sessions(void)
{
	char	sql[160];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = '%s' AND pid <> "
	    "pg_backend_pid()", dbname);
	raw_sql(sql);
}

/*
 * A dropped session (a server restart) is found dead by the next read,
 * which reconnects and runs again: safe, since a read changes nothing.
 */
Test(store, reconnects_after_lost_session)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	mkpw(&a, 2, 0x51);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	kill_sessions();
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);
	/* And a write, whose BEGIN is what finds the session dead. */
	kill_sessions();
	cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
}

/* A dropped session in the middle of a batch loses the batch, all of it. */
Test(store, lost_batch_is_not_half_written)
{
	struct store_pw	a, b, out;

	put_new(1, NULL, NULL);
	put_new(2, NULL, NULL);
	mkpw(&a, 3, 0x52);
	mkpw(&b, 1, 0x53);
	cr_assert_eq(store_batch_begin(st), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	kill_sessions();
	cr_assert_neq(store_pw_put_if_absent(st, mkid(2), &b), STORE_OK);
	cr_assert_not(store_batch_active(st));
	cr_assert_eq(store_batch_commit(st), STORE_ERR);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_pw_get(st, mkid(2), &out), STORE_NOTFOUND);
}

Test(store, open_fails_when_unreachable)
{
	cr_assert_null(store_open_postgresql("host=/nonexistent user=sealmd "
	    "dbname=sealmd", 0));
}

/* What a listener is told within a bounded number of waits, or NULL. */
static const char *
told(struct store *l, char (*ids)[ID_LEN + 1], size_t *n)
{
	int	i, r;

	for (i = 0; i < 50; i++) {
		cr_assert_neq(r = store_notified(l, 100, ids, 8, n), -1);
		cr_assert_eq(r, 0, "listening afresh");
		if (*n > 0)
			return ids[0];
	}
	return NULL;
}

/*
 * Another node listening is told of a value once it commits, with its
 * instance id; a batch that fails tells nothing.  A listener starts
 * afresh (1) on its first call and again on a new connection.
 */
Test(store, a_committed_value_is_told_to_listeners)
{
	struct store	*l;
	struct store_pw	 a, b;
	char		 ids[8][ID_LEN + 1];
	size_t		 n;
	int		 i, r = 0;

	cr_assert_not_null(l = engine_open());
	cr_assert_eq(store_notified(l, 0, ids, 8, &n), 1);
	cr_assert_eq(store_notified(l, 0, ids, 8, &n), 0);
	cr_assert_eq(n, 0);
	put_new(1, NULL, NULL);
	put_new(2, NULL, NULL);
	mkpw(&a, 2, 0x81);
	mkpw(&b, 1, 0x82);
	cr_assert_eq(store_batch_begin(st), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &b), STORE_OK);
	/* Told nothing before the commit. */
	cr_assert_eq(store_notified(l, 200, ids, 8, &n), 0);
	cr_assert_eq(n, 0);
	/* Both sessions lost: the batch with them, and the listener's. */
	kill_sessions();
	cr_assert_eq(store_batch_commit(st), STORE_ERR);
	for (i = 0; i < 50 && (r = store_notified(l, 100, ids, 8, &n)) != 1;
	    i++)
		cr_assert_eq(n, 0);
	cr_assert_eq(r, 1, "not listening afresh on a new connection");
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_str_eq(told(l, ids, &n), mkid(1));
	cr_assert_eq(n, 1, "the failed batch told its value");
	store_close(l);
}
