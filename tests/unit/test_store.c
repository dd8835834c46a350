/* SPDX-License-Identifier: ISC */
/*
 * The store engines through the store_* interface: this file is the
 * SQLite suite, and with STORE_PG (test_store_pg.c) the same cases run
 * against PostgreSQL, less those about SQLite's file.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#ifdef STORE_PG
#include <libpq-fe.h>
#else
#include <sqlite3.h>
#endif

#include "broker/store/store.h"
#include "tests/unit/tutil.h"

static struct store	*st;

#ifdef STORE_PG
/* A database of its own per test, in the cluster make unit started. */
static char		 conninfo[PATH_MAX + 64], dbname[32];

#define BLOB00		"'\\x00'::bytea"

static void
admin_sql(const char *db, const char *sql)
{
	char		 ci[PATH_MAX + 64];
	PGconn		*c;
	PGresult	*r;

	snprintf(ci, sizeof(ci), "host=%s user=sealmd dbname=%s",
	    getenv("SEALMD_TEST_PGHOST"), db);
	c = PQconnectdb(ci);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static struct store *
engine_open(void)
{
	return store_open_postgresql(conninfo, 0);
}

static void
setup(void)
{
	char	sql[96];

	cr_assert_not_null(getenv("SEALMD_TEST_PGHOST"),
	    "SEALMD_TEST_PGHOST is not set: run this suite through make unit, "
	    "which starts a throwaway PostgreSQL cluster");
	snprintf(dbname, sizeof(dbname), "t%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	admin_sql("postgres", sql);
	snprintf(conninfo, sizeof(conninfo), "host=%s user=sealmd dbname=%s",
	    getenv("SEALMD_TEST_PGHOST"), dbname);
	st = engine_open();
	cr_assert_not_null(st);
}

static void
teardown(void)
{
	char	sql[96];

	store_close(st);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
	admin_sql("postgres", sql);
}

/* Run SQL behind the store's back, as corruption would. */
static void
raw_sql(const char *sql)
{
	admin_sql(dbname, sql);
}
#else
static char		 tdir[] = "/tmp/sealmd-test-store-XXXXXX";
static char		 dbpath[PATH_MAX];

#define BLOB00		"x'00'"

static struct store *
engine_open(void)
{
	return store_open_sqlite(dbpath);
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(tdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tdir);
	st = engine_open();
	cr_assert_not_null(st);
}

static void
teardown(void)
{
	store_close(st);
	tutil_rm_tree(tdir);
}

/* Run SQL on the file behind the store's back, as corruption would. */
static void
raw_sql(const char *sql)
{
	sqlite3	*db;
	char	*msg = NULL;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
	    "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}
#endif

static void
reopen(void)
{
	store_close(st);
	st = engine_open();
	cr_assert_not_null(st);
}

static const char *
mkid(unsigned int n)
{
	static char	id[ID_LEN + 1];

	snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012u", n);
	return id;
}

static void
mkinst(struct store_inst *in, unsigned int n, const char *a0,
    const char *a1)
{
	memset(in, 0, sizeof(*in));
	strcpy(in->ri_id, mkid(n));
	snprintf(in->ri_project, sizeof(in->ri_project), "project-%u", n);
	snprintf(in->ri_hostname, sizeof(in->ri_hostname), "host-%u", n);
	if (a0 != NULL)
		strcpy(in->ri_addr[in->ri_naddr++], a0);
	if (a1 != NULL)
		strcpy(in->ri_addr[in->ri_naddr++], a1);
}

static void
put_new(unsigned int n, const char *a0, const char *a1)
{
	struct store_inst	in;
	int			created = -1;

	mkinst(&in, n, a0, a1);
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(created, 1);
}

static void
mkpw(struct store_pw *pw, uint32_t n, uint8_t fill)
{
	uint32_t	i;

	memset(pw, 0, sizeof(*pw));
	pw->sp_nchunks = n;
	for (i = 0; i < n; i++) {
		pw->sp_chunk[i].ss_key_id = 7 + i;
		pw->sp_chunk[i].ss_format = SEAL_FORMAT_V1 + i % 2;
		memset(pw->sp_chunk[i].ss_nonce, fill + (int)i,
		    SEAL_NONCE_LEN);
		pw->sp_chunk[i].ss_len = i == n - 1 ? SEAL_TAG_LEN + 3 :
		    PW_CHUNK_LEN + SEAL_TAG_LEN;
		memset(pw->sp_chunk[i].ss_ct, fill ^ (int)i,
		    pw->sp_chunk[i].ss_len);
	}
	memset(pw->sp_fp, fill, FP_LEN);
	pw->sp_set_at = 1700000000 + fill;
}

static void
assert_pw_eq(const struct store_pw *a, const struct store_pw *b)
{
	uint32_t	i;

	cr_assert_eq(a->sp_nchunks, b->sp_nchunks);
	cr_assert_eq(a->sp_set_at, b->sp_set_at);
	cr_assert_arr_eq(a->sp_fp, b->sp_fp, FP_LEN);
	for (i = 0; i < a->sp_nchunks; i++) {
		cr_assert_eq(a->sp_chunk[i].ss_key_id,
		    b->sp_chunk[i].ss_key_id);
		cr_assert_eq(a->sp_chunk[i].ss_format,
		    b->sp_chunk[i].ss_format);
		cr_assert_eq(a->sp_chunk[i].ss_len, b->sp_chunk[i].ss_len);
		cr_assert_arr_eq(a->sp_chunk[i].ss_nonce,
		    b->sp_chunk[i].ss_nonce, SEAL_NONCE_LEN);
		cr_assert_arr_eq(a->sp_chunk[i].ss_ct, b->sp_chunk[i].ss_ct,
		    a->sp_chunk[i].ss_len);
	}
}

TestSuite(store, .init = setup, .fini = teardown);

#ifndef STORE_PG
Test(store, file_is_private)
{
	struct stat	sb;
	char		wal[PATH_MAX + 8];

	cr_assert_str_eq(store_name(st), "sqlite");
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "mode %04o",
	    (unsigned int)(sb.st_mode & 07777));
	put_new(1, "10.0.0.1", NULL);
	/* The WAL file now exists and inherits the database's mode. */
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "wal mode %04o",
	    (unsigned int)(sb.st_mode & 07777));
}
#endif

#ifndef STORE_PG
Test(store, open_refuses_loose_mode)
{
	cr_assert_eq(chmod(dbpath, 0644), 0);
	cr_assert_null(store_open_sqlite(dbpath));
}
#endif

Test(store, open_refuses_newer_schema)
{
	raw_sql("UPDATE schema_version SET version = 99");
	store_close(st);
	st = engine_open();
	cr_assert_null(st);
}

Test(store, instance_put_get_replace)
{
	struct store_inst	in, out;
	int			created = -1;
	time_t			before = time(NULL);

	mkinst(&in, 1, "10.0.0.1", "fd00::1");
	in.ri_nkeys = 2;
	strcpy(in.ri_keys[0].rk_name, "k0");
	strcpy(in.ri_keys[0].rk_data, "ssh-ed25519 AAAA0");
	strcpy(in.ri_keys[1].rk_name, "k1");
	strcpy(in.ri_keys[1].rk_data, "ssh-ed25519 AAAA1");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(created, 1);

	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_str_eq(out.ri_project, "project-1");
	cr_assert_str_eq(out.ri_hostname, "host-1");
	cr_assert_eq(out.ri_naddr, 2);
	cr_assert_str_eq(out.ri_addr[0], "10.0.0.1");
	cr_assert_str_eq(out.ri_addr[1], "fd00::1");
	cr_assert_eq(out.ri_nkeys, 2);
	cr_assert_str_eq(out.ri_keys[0].rk_name, "k0");
	cr_assert_str_eq(out.ri_keys[1].rk_data, "ssh-ed25519 AAAA1");
	cr_assert(out.ri_created >= before && out.ri_created <= time(NULL));

	/* Replace: new addresses and keys, same created time. */
	mkinst(&in, 1, "10.0.0.9", NULL);
	strcpy(in.ri_hostname, "renamed");
	in.ri_created = 42;
	in.ri_nkeys = 1;
	strcpy(in.ri_keys[0].rk_name, "only");
	strcpy(in.ri_keys[0].rk_data, "ssh-rsa BBBB");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(created, 0);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_str_eq(out.ri_hostname, "renamed");
	cr_assert_eq(out.ri_naddr, 1);
	cr_assert_str_eq(out.ri_addr[0], "10.0.0.9");
	cr_assert_eq(out.ri_nkeys, 1);
	cr_assert_str_eq(out.ri_keys[0].rk_name, "only");
	cr_assert_neq(out.ri_created, 42);

	cr_assert_eq(store_instance_get(st, mkid(2), &out), STORE_NOTFOUND);
	cr_assert_eq(out.ri_id[0], '\0');
}

Test(store, instance_created_given)
{
	struct store_inst	in, out;
	int			created;

	mkinst(&in, 3, NULL, NULL);
	in.ri_created = 1234567;
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(store_instance_get(st, mkid(3), &out), STORE_OK);
	cr_assert_eq(out.ri_created, 1234567);
	cr_assert_eq(out.ri_naddr, 0);
}

Test(store, instance_refuses_malformed)
{
	struct store_inst	in;
	int			created;

	mkinst(&in, 1, "10.0.0.1", "10.0.0.1");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_ERR);
	mkinst(&in, 1, NULL, NULL);
	in.ri_naddr = INST_ADDRS_MAX + 1;
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_ERR);
	mkinst(&in, 1, NULL, NULL);
	memset(in.ri_project, 'p', sizeof(in.ri_project));
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_ERR);
	cr_assert_eq(store_instance_get(st, mkid(1), &in), STORE_NOTFOUND);
}

/* The identity lookup: the instance row alone, by address. */
Test(store, head_by_addr)
{
	struct store_inst	in, out;
	int			created;

	put_new(1, "10.0.0.1", "10.0.0.2");
	put_new(2, "10.0.0.3", NULL);
	cr_assert_eq(store_instance_head(st, "10.0.0.2", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_str_eq(out.ri_project, "project-1");
	cr_assert_eq(out.ri_naddr, 0);	/* the row alone */
	cr_assert_eq(store_instance_head(st, "10.0.0.3", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(2));
	cr_assert_eq(store_instance_head(st, "10.0.0.4", 1, &out),
	    STORE_NOTFOUND);

	/* A replaced address no longer leads to the instance. */
	mkinst(&in, 1, "10.0.0.5", NULL);
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(store_instance_head(st, "10.0.0.1", 1, &out),
	    STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, "10.0.0.5", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
}

/*
 * A peer named IP[%IFNAME]@NET: the registration on that network wins,
 * else the bare address; never another network's, never the address
 * without its interface.
 */
Test(store, head_by_addr_network_first)
{
	struct store_inst	out;
	struct store_pw		pw;
	int			pw_r;

	put_new(1, "10.0.0.1@a", "fe80::1%eth0");
	put_new(2, "10.0.0.1", "fe80::1");
	put_new(3, "10.0.0.1@b", "fe80::1%eth1@b");
	cr_assert_eq(store_instance_head(st, "10.0.0.1@a", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_eq(store_instance_head(st, "10.0.0.1@b", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(3));
	cr_assert_eq(store_instance_head(st, "10.0.0.1@c", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(2));
	cr_assert_eq(store_instance_head(st, "10.0.0.1", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(2));
	cr_assert_eq(store_instance_head(st, "fe80::1%eth0@b", 1, &out),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_eq(store_instance_head(st, "fe80::1%eth1@b", 1, &out),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(3));
	cr_assert_eq(store_instance_head(st, "fe80::1%eth1", 1, &out),
	    STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, "fe80::1%eth2@b", 1, &out),
	    STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, "10.0.0.2@a", 1, &out),
	    STORE_NOTFOUND);
	/* The guest's read of its head and value together, too. */
	cr_assert_eq(store_head_pw(st, "10.0.0.1@b", 1, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(3));
	cr_assert_eq(store_head_pw(st, "10.0.0.1@z", 1, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(2));
	store_read_end(st);
}

/* Link-local addresses stored without an interface, and only those. */
Test(store, addr_unscoped)
{
	struct store_addr	sa[8];
	size_t			n = 99;

	cr_assert_eq(store_addr_unscoped(st, sa, 8, &n), STORE_OK);
	cr_assert_eq(n, 0);
	/* As a store written before interfaces were required holds them. */
	put_new(1, "fe80::5", "fe80::5%eth0");
	put_new(2, "febf:1::1", "fe8::1");		/* fe8::1 is fe08 */
	put_new(3, "fec0::1", "10.0.0.1");
	put_new(4, "fe80::7@net", "fe80::9%eth1@net");
	put_new(5, "fe9a::1", NULL);
	cr_assert_eq(store_addr_unscoped(st, sa, 8, &n), STORE_OK);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(sa[0].sa_addr, "fe80::5");
	cr_assert_str_eq(sa[0].sa_id, mkid(1));
	cr_assert_str_eq(sa[1].sa_addr, "fe80::7@net");
	cr_assert_str_eq(sa[1].sa_id, mkid(4));
	cr_assert_str_eq(sa[2].sa_addr, "fe9a::1");
	cr_assert_str_eq(sa[3].sa_addr, "febf:1::1");
	cr_assert_str_eq(sa[3].sa_id, mkid(2));
	/* At most max, the first in address order. */
	cr_assert_eq(store_addr_unscoped(st, sa, 2, &n), STORE_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(sa[1].sa_addr, "fe80::7@net");
	store_read_end(st);
}

/* The head and the value in one read, by id and by address. */
Test(store, head_with_value)
{
	struct store_inst	out;
	struct store_pw		a, pw;
	int			pw_r;

	put_new(1, "10.0.0.1", NULL);
	put_new(2, "10.0.0.2", NULL);
	mkpw(&a, 3, 0x61);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	store_read_end(st);

	cr_assert_eq(store_head_pw(st, mkid(1), 0, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_eq(out.ri_naddr, 0);
	cr_assert_eq(pw_r, STORE_OK);
	assert_pw_eq(&pw, &a);
	cr_assert_eq(store_head_pw(st, "10.0.0.1", 1, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_eq(pw_r, STORE_OK);
	assert_pw_eq(&pw, &a);
	cr_assert_eq(store_head_pw(st, "10.0.0.2", 1, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(2));
	cr_assert_eq(pw_r, STORE_NOTFOUND);
	cr_assert_eq(store_head_pw(st, mkid(3), 0, &out, &pw, &pw_r),
	    STORE_NOTFOUND);
	cr_assert_eq(store_head_pw(st, "10.0.0.3", 1, &out, &pw, &pw_r),
	    STORE_NOTFOUND);

	/* A malformed value: the instance is found, its value is not read. */
	raw_sql("UPDATE password_chunks SET count = 2 WHERE instance_id = "
	    "'00000000-0000-4000-8000-000000000001' AND idx = 2");
	store_read_end(st);
	cr_assert_eq(store_head_pw(st, mkid(1), 0, &out, &pw, &pw_r),
	    STORE_OK);
	cr_assert_eq(pw_r, STORE_ERR);
	cr_assert_eq(pw.sp_nchunks, 0);
}

/*
 * Many guests' reads at once answer each as its own read would: by id
 * and by address mixed, found or not, with a value, without one, or
 * with a malformed one, the same key twice, and a full batch.
 */
Test(store, head_pw_many)
{
	static const char *const keys[] = {
		"10.0.0.1@b", "mkid1", "10.0.0.9", "mkid2", "10.0.0.1@z",
		"mkid9", "10.0.0.2", "mkid1", "10.0.0.3", "fe80::1%eth1@b",
		"mkid3", "10.0.0.1", "mkid4", "10.0.0.4", "fe80::1%eth1",
		"10.0.0.1@b",
	};
	struct store_head_req	req[STORE_HEAD_MANY_MAX];
	struct store_inst	inst[STORE_HEAD_MANY_MAX], one;
	struct store_pw		pw[STORE_HEAD_MANY_MAX], a, b, d, opw;
	char			ids[STORE_HEAD_MANY_MAX][ID_LEN + 1];
	size_t			i, n;
	int			r, pw_r;

	cr_assert_eq(sizeof(keys) / sizeof(keys[0]), STORE_HEAD_MANY_MAX);
	put_new(1, "10.0.0.1@b", "fe80::1%eth1@b");
	put_new(2, "10.0.0.1", "10.0.0.2");
	put_new(3, "10.0.0.3", NULL);
	put_new(4, "10.0.0.4", NULL);
	mkpw(&a, 3, 0x71);
	mkpw(&b, 1, 0x72);
	mkpw(&d, 2, 0x73);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &b), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(4), &d), STORE_OK);
	/* Instance 4's value, malformed. */
	raw_sql("UPDATE password_chunks SET count = 3 WHERE instance_id = "
	    "'00000000-0000-4000-8000-000000000004' AND idx = 1");
	store_read_end(st);

	for (n = 1; n <= STORE_HEAD_MANY_MAX; n += n < 4 ? 1 : 6) {
		memset(req, 0, sizeof(req));
		memset(inst, 0xa5, sizeof(inst));
		memset(pw, 0xa5, sizeof(pw));
		for (i = 0; i < n; i++) {
			req[i].hr_by_addr = strncmp(keys[i], "mkid", 4) != 0;
			(void)snprintf(ids[i], sizeof(ids[i]), "%s",
			    mkid((unsigned)(keys[i][4] - '0')));
			req[i].hr_key = req[i].hr_by_addr ? keys[i] : ids[i];
			req[i].hr_inst = &inst[i];
			req[i].hr_pw = &pw[i];
		}
		store_head_pw_many(st, req, n);
		store_read_end(st);
		for (i = 0; i < n; i++) {
			r = store_head_pw(st, req[i].hr_key,
			    req[i].hr_by_addr, &one, &opw, &pw_r);
			cr_assert_eq(req[i].hr_r, r, "%zu of %zu: %s", i, n,
			    keys[i]);
			if (r == STORE_OK) {
				cr_assert_str_eq(inst[i].ri_id, one.ri_id);
				cr_assert_str_eq(inst[i].ri_project,
				    one.ri_project);
				cr_assert_eq(inst[i].ri_naddr, 0);
				cr_assert_eq(req[i].hr_pw_r, pw_r, "%s",
				    keys[i]);
			}
			if (r == STORE_OK && pw_r == STORE_OK)
				assert_pw_eq(&pw[i], &opw);
			else if (r == STORE_OK)
				cr_assert_eq(pw[i].sp_nchunks, 0);
		}
		store_read_end(st);
	}
	/* What the comparison rests on. */
	cr_assert_eq(store_head_pw(st, "10.0.0.1@z", 1, &one, &opw, &pw_r),
	    STORE_OK);
	cr_assert_str_eq(one.ri_id, mkid(2));
	cr_assert_eq(pw_r, STORE_OK);
	cr_assert_eq(store_head_pw(st, mkid(3), 0, &one, &opw, &pw_r),
	    STORE_OK);
	cr_assert_eq(pw_r, STORE_NOTFOUND);
	cr_assert_eq(store_head_pw(st, mkid(4), 0, &one, &opw, &pw_r),
	    STORE_OK);
	cr_assert_eq(pw_r, STORE_ERR);
	cr_assert_eq(store_head_pw(st, "fe80::1%eth1", 1, &one, &opw,
	    &pw_r), STORE_NOTFOUND);
	store_read_end(st);
}

Test(store, address_conflict_changes_nothing)
{
	struct store_inst	in, out;
	int			created = -1;

	put_new(1, "10.0.0.1", NULL);
	put_new(2, "10.0.0.2", NULL);

	/* A new instance claiming a taken address is not created. */
	mkinst(&in, 3, "10.0.0.7", "10.0.0.1");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_CONFLICT);
	cr_assert_eq(created, -1);
	cr_assert_eq(store_instance_get(st, mkid(3), &out), STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, "10.0.0.7", 1, &out),
	    STORE_NOTFOUND);

	/* An existing one keeps its old registration. */
	mkinst(&in, 2, "10.0.0.8", "10.0.0.1");
	strcpy(in.ri_hostname, "changed");
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_CONFLICT);
	cr_assert_eq(store_instance_get(st, mkid(2), &out), STORE_OK);
	cr_assert_str_eq(out.ri_hostname, "host-2");
	cr_assert_eq(out.ri_naddr, 1);
	cr_assert_str_eq(out.ri_addr[0], "10.0.0.2");
	cr_assert_eq(store_instance_head(st, "10.0.0.1", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));

	/* Re-putting one's own address is no conflict. */
	mkinst(&in, 1, "10.0.0.1", NULL);
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
}

/* Bulk registration: all in one transaction, or none. */
Test(store, put_many_all)
{
	struct store_inst	in[3], out;
	int			created[3];
	size_t			bad = 99;

	put_new(2, "10.0.0.2", NULL);
	mkinst(&in[0], 1, "10.0.0.1", NULL);
	mkinst(&in[1], 2, "10.0.0.12", NULL);
	mkinst(&in[2], 3, NULL, NULL);
	cr_assert_eq(store_instance_put_many(st, in, 3, created, &bad),
	    STORE_OK);
	cr_assert_eq(created[0], 1);
	cr_assert_eq(created[1], 0);
	cr_assert_eq(created[2], 1);
	cr_assert_eq(store_instance_get(st, mkid(2), &out), STORE_OK);
	cr_assert_str_eq(out.ri_addr[0], "10.0.0.12");
	cr_assert_eq(store_instance_head(st, "10.0.0.1", 1, &out), STORE_OK);
	cr_assert_str_eq(out.ri_id, mkid(1));
	cr_assert_eq(store_instance_get(st, mkid(3), &out), STORE_OK);
}

Test(store, put_many_one_bad_keeps_none)
{
	struct store_inst	in[3], out;
	int			created[3];
	size_t			bad = 99;

	put_new(9, "10.0.0.9", NULL);
	mkinst(&in[0], 1, "10.0.0.1", NULL);
	mkinst(&in[1], 9, "10.0.0.9", "10.0.0.19");
	mkinst(&in[2], 3, "10.0.0.9", NULL);
	cr_assert_eq(store_instance_put_many(st, in, 3, created, &bad),
	    STORE_CONFLICT);
	cr_assert_eq(bad, 2);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_instance_get(st, mkid(9), &out), STORE_OK);
	cr_assert_eq(out.ri_naddr, 1);

	/* Two entries of one batch claiming one address. */
	mkinst(&in[2], 3, "10.0.0.1", NULL);
	cr_assert_eq(store_instance_put_many(st, in, 3, created, &bad),
	    STORE_CONFLICT);
	cr_assert_eq(bad, 2);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_NOTFOUND);

	/* A malformed entry is named too. */
	mkinst(&in[1], 2, "10.0.0.2", "10.0.0.2");
	cr_assert_eq(store_instance_put_many(st, in, 2, created, &bad),
	    STORE_ERR);
	cr_assert_eq(bad, 1);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_NOTFOUND);
}

/* In the writer's group commit, a failed batch undoes only itself. */
Test(store, put_many_in_group_commit)
{
	struct store_inst	in[2], out;
	int			created[2], c;
	size_t			bad = 99;

	cr_assert_eq(store_batch_begin(st), STORE_OK);
	mkinst(&in[0], 1, "10.0.0.1", NULL);
	cr_assert_eq(store_instance_put(st, &in[0], &c), STORE_OK);
	mkinst(&in[0], 2, "10.0.0.2", NULL);
	mkinst(&in[1], 3, "10.0.0.1", NULL);
	cr_assert_eq(store_instance_put_many(st, in, 2, created, &bad),
	    STORE_CONFLICT);
	cr_assert_eq(bad, 1);
	mkinst(&in[1], 3, "10.0.0.3", NULL);
	cr_assert_eq(store_instance_put_many(st, in, 2, created, &bad),
	    STORE_OK);
	cr_assert(store_batch_active(st));
	cr_assert_eq(store_batch_commit(st), STORE_OK);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_eq(store_instance_get(st, mkid(2), &out), STORE_OK);
	cr_assert_eq(store_instance_get(st, mkid(3), &out), STORE_OK);
}

Test(store, list_paging)
{
	struct store_list	ans;
	unsigned int		i;

	/* Insert out of order: the list is in id order regardless. */
	for (i = LIST_MAX + 5; i >= 1; i--)
		put_new(i, NULL, NULL);

	memset(&ans, 0xa5, sizeof(ans));
	cr_assert_eq(store_instance_list(st, "", &ans), STORE_OK);
	cr_assert_eq(ans.sl_n, LIST_MAX);
	cr_assert_eq(ans.sl_more, 1);
	for (i = 0; i < LIST_MAX; i++) {
		cr_assert_str_eq(ans.sl_e[i].id, mkid(i + 1));
		cr_assert_eq(strncmp(ans.sl_e[i].project, "project-", 8), 0);
	}

	cr_assert_eq(store_instance_list(st, ans.sl_e[LIST_MAX - 1].id,
	    &ans), STORE_OK);
	cr_assert_eq(ans.sl_n, 5);
	cr_assert_eq(ans.sl_more, 0);
	for (i = 0; i < 5; i++)
		cr_assert_str_eq(ans.sl_e[i].id, mkid(LIST_MAX + 1 + i));
	cr_assert_eq(ans.sl_e[5].id[0], '\0');

	cr_assert_eq(store_instance_list(st, mkid(LIST_MAX + 5), &ans),
	    STORE_OK);
	cr_assert_eq(ans.sl_n, 0);
	cr_assert_eq(ans.sl_more, 0);
}

Test(store, list_exact_page)
{
	struct store_list	ans;
	unsigned int		i;

	for (i = 1; i <= LIST_MAX; i++)
		put_new(i, NULL, NULL);
	cr_assert_eq(store_instance_list(st, "", &ans), STORE_OK);
	cr_assert_eq(ans.sl_n, LIST_MAX);
	cr_assert_eq(ans.sl_more, 0);
}

Test(store, pw_set_once)
{
	struct store_pw	a, b, out;

	put_new(1, "10.0.0.1", NULL);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
	mkpw(&a, 3, 0x11);
	mkpw(&b, 1, 0x22);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &b), STORE_CONFLICT);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_CONFLICT);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);

	/* Clear, then a new value may be set. */
	cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &b), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &b);
}

Test(store, pw_full_shape)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	mkpw(&a, PW_CHUNKS, 0x33);
	a.sp_chunk[0].ss_key_id = UINT32_MAX;
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);
}

Test(store, pw_unknown_instance)
{
	struct store_pw	a, out;

	mkpw(&a, 1, 0x44);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(9), &a), STORE_NOTFOUND);
	cr_assert_eq(store_pw_get(st, mkid(9), &out), STORE_NOTFOUND);
	cr_assert_eq(store_pw_del(st, mkid(9)), STORE_NOTFOUND);
}

Test(store, overlong_keys_find_nothing)
{
	struct store_inst	out;
	char			longid[200];

	put_new(1, "10.0.0.1", NULL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	memcpy(longid, mkid(1), ID_LEN);
	cr_assert_eq(store_instance_get(st, longid, &out), STORE_NOTFOUND);
	cr_assert_eq(store_instance_del(st, longid), STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, longid, 1, &out),
	    STORE_NOTFOUND);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
}

Test(store, pw_refuses_bad_shape)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	mkpw(&a, 1, 0x55);
	a.sp_nchunks = 0;
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_ERR);
	a.sp_nchunks = PW_CHUNKS + 1;
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_ERR);
	mkpw(&a, 2, 0x55);
	a.sp_chunk[1].ss_len = SEAL_TAG_LEN - 1;
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_ERR);
	a.sp_chunk[1].ss_len = PW_CHUNK_LEN + SEAL_TAG_LEN + 1;
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_ERR);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
}

Test(store, pw_get_refuses_corrupt_rows)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	put_new(2, NULL, NULL);
	put_new(3, NULL, NULL);
	mkpw(&a, 3, 0x66);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(3), &a), STORE_OK);
	raw_sql("DELETE FROM password_chunks WHERE instance_id = "
	    "'00000000-0000-4000-8000-000000000001' AND idx = 1");
	raw_sql("UPDATE password_chunks SET count = 2 WHERE instance_id = "
	    "'00000000-0000-4000-8000-000000000002' AND idx = 2");
	raw_sql("UPDATE password_chunks SET nonce = " BLOB00
	    " WHERE instance_id = "
	    "'00000000-0000-4000-8000-000000000003' AND idx = 0");
	memset(&out, 0x5a, sizeof(out));
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_ERR);
	cr_assert_eq(out.sp_nchunks, 0);
	cr_assert_eq(store_pw_get(st, mkid(2), &out), STORE_ERR);
	cr_assert_eq(store_pw_get(st, mkid(3), &out), STORE_ERR);
}

Test(store, instance_replace_keeps_password)
{
	struct store_inst	in;
	struct store_pw		a, out;
	int			created;

	put_new(1, "10.0.0.1", NULL);
	mkpw(&a, 2, 0x77);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	mkinst(&in, 1, "10.0.0.2", NULL);
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	cr_assert_eq(created, 0);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);
}

Test(store, instance_del_cascades)
{
	struct store_inst	out;
	struct store_pw		a, pw;
	uint32_t		ni, np;

	put_new(1, "10.0.0.1", NULL);
	put_new(2, "10.0.0.2", NULL);
	mkpw(&a, 2, 0x88);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &a), STORE_OK);

	cr_assert_eq(store_instance_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_instance_del(st, mkid(1)), STORE_NOTFOUND);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_instance_head(st, "10.0.0.1", 1, &out),
	    STORE_NOTFOUND);

	/* Re-registered, it starts without the old password. */
	put_new(1, "10.0.0.1", NULL);
	cr_assert_eq(store_pw_get(st, mkid(1), &pw), STORE_NOTFOUND);
	cr_assert_eq(store_pw_get(st, mkid(2), &pw), STORE_OK);
	cr_assert_eq(store_counts(st, &ni, &np), STORE_OK);
	cr_assert_eq(ni, 2);
	cr_assert_eq(np, 1);
}

Test(store, counts)
{
	struct store_pw	a;
	uint32_t	ni = 99, np = 99;
	unsigned int	i;

	cr_assert_eq(store_counts(st, &ni, &np), STORE_OK);
	cr_assert_eq(ni, 0);
	cr_assert_eq(np, 0);
	for (i = 1; i <= 5; i++)
		put_new(i, NULL, NULL);
	mkpw(&a, PW_CHUNKS, 0x99);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(4), &a), STORE_OK);
	cr_assert_eq(store_counts(st, &ni, &np), STORE_OK);
	cr_assert_eq(ni, 5);
	cr_assert_eq(np, 2);
}

static void
assert_counts(uint32_t want_ni, uint32_t want_np)
{
	uint32_t	ni = 99, np = 99;

	store_read_end(st);
	cr_assert_eq(store_counts(st, &ni, &np), STORE_OK);
	cr_assert_eq(ni, want_ni, "instances %u, want %u", ni, want_ni);
	cr_assert_eq(np, want_np, "values %u, want %u", np, want_np);
}

/*
 * The counts follow every write that changes them: a batch, a failed
 * batch, a value taken, expired or cleared, an instance deleted with its
 * value.  And they are read from the counts the store keeps, not counted
 * row by row (the event loop reads them): a count changed behind the
 * store's back is what it answers.
 */
Test(store, counts_kept_by_the_store)
{
	struct store_inst	in[3];
	struct store_pw		a, out;
	int			created[3];
	size_t			bad;

	mkinst(&in[0], 1, "10.0.0.1", NULL);
	mkinst(&in[1], 2, NULL, NULL);
	mkinst(&in[2], 3, NULL, NULL);
	cr_assert_eq(store_instance_put_many(st, in, 3, created, &bad),
	    STORE_OK);
	assert_counts(3, 0);
	mkinst(&in[0], 4, "10.0.0.1", NULL);	/* the address is taken */
	cr_assert_eq(store_instance_put_many(st, in, 1, created, &bad),
	    STORE_CONFLICT);
	put_new(5, NULL, NULL);
	mkinst(&in[0], 5, NULL, NULL);		/* an update counts nothing */
	cr_assert_eq(store_instance_put(st, &in[0], &created[0]), STORE_OK);
	cr_assert_eq(created[0], 0);
	assert_counts(4, 0);
	mkpw(&a, PW_CHUNKS, 0x61);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_CONFLICT);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(3), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(5), &a), STORE_OK);
	assert_counts(4, 4);
	cr_assert_eq(store_pw_take(st, mkid(2), &out), STORE_OK);
	cr_assert_eq(store_pw_expire(st, mkid(3), a.sp_set_at), STORE_OK);
	cr_assert_eq(store_pw_del(st, mkid(5)), STORE_OK);
	assert_counts(4, 1);
	cr_assert_eq(store_instance_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_instance_del(st, mkid(1)), STORE_NOTFOUND);
	assert_counts(3, 0);
	reopen();
	assert_counts(3, 0);

#ifdef STORE_PG
	/* One row more, as another node's writes would add: summed. */
	raw_sql("INSERT INTO counts VALUES (99, 1000, 2000)");
#else
	raw_sql("UPDATE counts SET instances = instances + 1000, "
	    "passwords = passwords + 2000");
#endif
	assert_counts(1003, 2000);
}

Test(store, data_persists_across_reopen)
{
	struct store_inst	out;
	struct store_pw		a, pw;
	uint32_t		ni, np;

	put_new(1, "10.0.0.1", "10.0.0.2");
	mkpw(&a, 3, 0xaa);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	reopen();
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_eq(out.ri_naddr, 2);
	cr_assert_str_eq(out.ri_addr[1], "10.0.0.2");
	cr_assert_eq(store_pw_get(st, mkid(1), &pw), STORE_OK);
	assert_pw_eq(&pw, &a);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_CONFLICT);
	cr_assert_eq(store_counts(st, &ni, &np), STORE_OK);
	cr_assert_eq(ni, 1);
	cr_assert_eq(np, 1);
}

/*
 * Group commit: writes in one batch fail alone, and nothing is visible to
 * the reading connection until the batch commits.
 */
Test(store, batch_isolates_failures_and_commits_together)
{
	struct store		*reader;
	struct store_pw		 a, b, out;
	struct store_inst	 in;
	int			 created;

	put_new(1, "10.0.0.1", NULL);
	put_new(2, NULL, NULL);
	reader = engine_open();
	cr_assert_not_null(reader);
	mkpw(&a, 2, 0x41);
	mkpw(&b, 1, 0x42);

	cr_assert_eq(store_batch_begin(st), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &b), STORE_CONFLICT);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(9), &b), STORE_NOTFOUND);
	mkinst(&in, 3, "10.0.0.1", NULL);	/* address taken by 1 */
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_CONFLICT);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &b), STORE_OK);
	cr_assert(store_batch_active(st));
	/* Not committed: the other connection sees none of it. */
	cr_assert_eq(store_pw_get(reader, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_pw_get(reader, mkid(2), &out), STORE_NOTFOUND);
	cr_assert_eq(store_batch_commit(st), STORE_OK);
	cr_assert_not(store_batch_active(st));
#ifndef STORE_PG
	/* The reader's snapshot holds until it ends it, as the broker does
	 * before it answers a write. */
	cr_assert_eq(store_pw_get(reader, mkid(1), &out), STORE_NOTFOUND);
#endif
	store_read_end(reader);

	cr_assert_eq(store_pw_get(reader, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);
	cr_assert_eq(store_pw_get(reader, mkid(2), &out), STORE_OK);
	assert_pw_eq(&out, &b);
	cr_assert_eq(store_instance_get(reader, mkid(3), &in), STORE_NOTFOUND);
	store_close(reader);
}

Test(store, batch_not_committed_is_lost)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	mkpw(&a, 1, 0x43);
	cr_assert_eq(store_batch_begin(st), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	reopen();	/* closing without COMMIT, as a crash would */
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
}

/* A version 1 store is upgraded on open, step by step. */
#ifndef STORE_PG
Test(store, migrates_version_1)
{
	struct store_inst	out;
	struct store_pw		a;

	put_new(1, NULL, NULL);
	put_new(2, NULL, NULL);
	mkpw(&a, 2, 0x71);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &a), STORE_OK);
	store_close(st);
	raw_sql("DROP TRIGGER instances_counted_in");
	raw_sql("DROP TRIGGER instances_counted_out");
	raw_sql("DROP TRIGGER passwords_counted_in");
	raw_sql("DROP TRIGGER passwords_counted_out");
	raw_sql("DROP TABLE counts");
	raw_sql("DROP INDEX instances_with_ttl");
	raw_sql("DROP INDEX password_chunks_by_set_at");
	raw_sql("ALTER TABLE instances DROP COLUMN cleared");
	raw_sql("ALTER TABLE instances DROP COLUMN pw_ttl");
	raw_sql("ALTER TABLE instances DROP COLUMN one_time");
	raw_sql("ALTER TABLE instances DROP COLUMN pw_mode");
	raw_sql("ALTER TABLE password_chunks DROP COLUMN kind");
	raw_sql("ALTER TABLE password_chunks DROP COLUMN seal_format");
	raw_sql("UPDATE schema_version SET version = 1");
	st = store_open_sqlite(dbpath);
	cr_assert_not_null(st);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_eq(out.ri_cleared, 0);
	cr_assert_eq(out.ri_pw_ttl, 0);
	cr_assert_eq(out.ri_one_time, 0);
	cr_assert_eq(out.ri_mode, PW_MODE_DEFAULT);
	raw_sql("SELECT cleared, pw_ttl, one_time, pw_mode FROM instances");
	raw_sql("SELECT kind, seal_format FROM password_chunks");
	raw_sql("SELECT 1 FROM instances INDEXED BY instances_with_ttl "
	    "WHERE pw_ttl > 0");
	/* The counts start from the rows there were. */
	assert_counts(2, 1);
	put_new(3, NULL, NULL);
	assert_counts(3, 1);
}
#endif

Test(store, clear_records_when)
{
	struct store_inst	out;
	time_t			t0 = time(NULL);

	put_new(1, NULL, NULL);
	cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_instance_get(st, mkid(1), &out), STORE_OK);
	cr_assert_geq(out.ri_cleared, t0);
	cr_assert_leq(out.ri_cleared, time(NULL));
	cr_assert_eq(store_pw_del(st, mkid(9)), STORE_NOTFOUND);
}

/* A one-time read takes the value and removes it, all at once. */
Test(store, take_once)
{
	struct store_pw	a, out;

	put_new(1, NULL, NULL);
	mkpw(&a, 2, 0x51);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_take(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &a);
	cr_assert_eq(store_pw_take(st, mkid(1), &out), STORE_OK);
	cr_assert_eq(out.sp_nchunks, 0);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
	cr_assert_eq(store_pw_take(st, mkid(9), &out), STORE_NOTFOUND);
}

Test(store, expiry)
{
	struct store_pw		a, b;
	struct store_inst	in;
	char			ids[4][ID_LEN + 1];
	int64_t			set_at[4];
	size_t			n;
	int			created;

	put_new(1, NULL, NULL);
	mkinst(&in, 2, NULL, NULL);
	in.ri_pw_ttl = 100;		/* its own TTL beats the default */
	cr_assert_eq(store_instance_put(st, &in, &created), STORE_OK);
	mkpw(&a, 1, 0x01);		/* set_at 1700000001 */
	mkpw(&b, 1, 0x02);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &a), STORE_OK);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(2), &b), STORE_OK);
	cr_assert_eq(store_pw_expired(st, 1700000050, 10, ids, set_at, 4,
	    &n), STORE_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ids[0], mkid(1));
	cr_assert_eq(store_pw_expired(st, 1700000050, 0, ids, set_at, 4, &n),
	    STORE_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_pw_expired(st, 1700000102, 0, ids, set_at, 4, &n),
	    STORE_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ids[0], mkid(2));
	/* Only the value that was seen expires. */
	cr_assert_eq(store_pw_expire(st, mkid(2), set_at[0] + 1),
	    STORE_NOTFOUND);
	cr_assert_eq(store_pw_expire(st, mkid(2), set_at[0]), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(2), &b), STORE_NOTFOUND);
}

/* What a rewrap writes for rd: every chunk under key 20, new nonce. */
static void
mkreseal(struct store_pw *out, const struct store_pw *rd)
{
	uint32_t	i;

	*out = *rd;
	for (i = 0; i < out->sp_nchunks; i++) {
		out->sp_chunk[i].ss_key_id = 20;
		memset(out->sp_chunk[i].ss_nonce, 0x70 + (int)i,
		    SEAL_NONCE_LEN);
		memset(out->sp_chunk[i].ss_ct, 0x7f, out->sp_chunk[i].ss_len);
	}
}

/*
 * A rewrap reads a value, re-seals it, then writes.  If the owner clears
 * and the guest posts again in between, the new value must survive,
 * whatever its chunks share with the one that was read: the new key id
 * (posted under the newest key), the old key id (another node not yet
 * rotated), the old nonce (only the key id tells them apart), or a whole
 * first chunk (all or none).
 */
Test(store, rewrap_keeps_a_value_posted_meanwhile)
{
	struct store_pw	rd, resealed, posted, out;
	int		shape;

	put_new(1, NULL, NULL);
	for (shape = 0; shape < 4; shape++) {
		mkpw(&rd, 2, 0x10);
		cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &rd),
		    STORE_OK);
		cr_assert_eq(store_pw_get(st, mkid(1), &rd), STORE_OK);
		mkreseal(&resealed, &rd);

		cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
		mkpw(&posted, 2, 0x40);
		switch (shape) {
		case 0:
			posted.sp_chunk[0].ss_key_id = 20;
			posted.sp_chunk[1].ss_key_id = 20;
			break;
		case 1:
			break;			/* keys 7 and 8, as rd */
		case 2:
			memcpy(posted.sp_chunk[0].ss_nonce,
			    rd.sp_chunk[0].ss_nonce, SEAL_NONCE_LEN);
			memcpy(posted.sp_chunk[1].ss_nonce,
			    rd.sp_chunk[1].ss_nonce, SEAL_NONCE_LEN);
			posted.sp_chunk[0].ss_key_id = 20;
			posted.sp_chunk[1].ss_key_id = 20;
			break;
		default:
			posted.sp_chunk[0] = rd.sp_chunk[0];
			break;
		}
		cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &posted),
		    STORE_OK);

		cr_assert_eq(store_pw_rewrap(st, mkid(1), &rd, &resealed),
		    STORE_CONFLICT, "shape %d", shape);
		cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
		assert_pw_eq(&out, &posted);
		cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	}

	/* Undisturbed, the rewrap replaces every chunk. */
	mkpw(&rd, 2, 0x10);
	cr_assert_eq(store_pw_put_if_absent(st, mkid(1), &rd), STORE_OK);
	mkreseal(&resealed, &rd);
	cr_assert_eq(store_pw_rewrap(st, mkid(1), &rd, &resealed), STORE_OK);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_OK);
	assert_pw_eq(&out, &resealed);
	/* A cleared value stays cleared. */
	cr_assert_eq(store_pw_del(st, mkid(1)), STORE_OK);
	cr_assert_eq(store_pw_rewrap(st, mkid(1), &resealed, &resealed),
	    STORE_CONFLICT);
	cr_assert_eq(store_pw_get(st, mkid(1), &out), STORE_NOTFOUND);
}
