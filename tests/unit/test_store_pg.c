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
