/* SPDX-License-Identifier: ISC */
/*
 * The shared store engine: PostgreSQL through libpq, for several sealmd
 * nodes on one database.  Each thread that uses the store holds its own
 * connection.  Every parameter and result travels in binary form, so no
 * value is ever quoted into SQL text.  Set-once is the database's primary
 * key on (instance_id, idx): the first chunk goes in with ON CONFLICT DO
 * NOTHING, so of two nodes racing on one instance exactly one inserts it.
 *
 * A lost connection fails the call in progress (the broker answers 503)
 * and is opened again on a later call, no sooner than a backoff that
 * doubles up to PG_BACKOFF_MAX_MS.  Logs name the engine, an instance id
 * or the server's primary message, never the conninfo, a value or a
 * ciphertext.
 *
 * Fencing: every connection, the first and each one again, reads the
 * server's timeline.  A promotion starts a new one; a former primary that
 * comes back writable stays on its old one.  A server on a lower timeline
 * than any this process has seen is refused, and the next attempt starts
 * from the next host of the conninfo, so a former primary listed first
 * does not hide the new one.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "privsep/log.h"
#include "store.h"

/* PostgreSQL schema 1 is the logical schema of SQLite schema 5. */
#define PG_SCHEMA_VERSION	3
#define PG_PARAMS_MAX		10
#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000
#define PG_STATEMENT_TIMEOUT	"5s"
/* The server's statement timeout answers first, unless it cannot. */
#define PG_ANSWER_MS		6000
#define PG_SLICE_MS		100
/* Distinct statements pg_exec runs; a few to spare. */
#define PG_PREP_MAX		64
/* Any node migrating holds this advisory lock ("sealmd" in ASCII). */
#define PG_MIGRATE_LOCK		"115101971081091000"
#define PG_TEXT_OID		25	/* pg_type.h's TEXTOID */
/* The channel every node's commit of a value is told on. */
#define PG_CHANNEL		"sealmd_pw"

static const char *const pg_migrate[PG_SCHEMA_VERSION] = {
	"CREATE TABLE instances ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  project TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  created BIGINT NOT NULL,"
	"  cleared BIGINT NOT NULL DEFAULT 0,"
	"  pw_ttl BIGINT NOT NULL DEFAULT 0,"
	"  one_time BIGINT NOT NULL DEFAULT 0,"
	"  pw_mode BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE instance_addresses ("
	"  addr TEXT COLLATE \"C\" PRIMARY KEY,"
	"  instance_id TEXT COLLATE \"C\" NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  pos BIGINT NOT NULL);"
	"CREATE INDEX instance_addresses_by_instance"
	"  ON instance_addresses (instance_id);"
	"CREATE TABLE instance_keys ("
	"  instance_id TEXT COLLATE \"C\" NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  pos BIGINT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  PRIMARY KEY (instance_id, pos));"
	"CREATE TABLE password_chunks ("
	"  instance_id TEXT COLLATE \"C\" NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  idx BIGINT NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  key_id BIGINT NOT NULL,"
	"  nonce BYTEA NOT NULL,"
	"  sealed BYTEA NOT NULL,"
	"  fingerprint BYTEA NOT NULL,"
	"  set_at BIGINT NOT NULL,"
	"  kind BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (instance_id, idx));"
	"CREATE INDEX instances_with_ttl ON instances (pw_ttl) "
	"  WHERE pw_ttl > 0;"
	"CREATE INDEX password_chunks_by_set_at ON password_chunks (set_at) "
	"  WHERE idx = 0;",
	/* 2: what a chunk's seal binds (SEAL_FORMAT_*); older rows are v1. */
	"ALTER TABLE password_chunks ADD COLUMN seal_format BIGINT NOT NULL "
	"  DEFAULT 1;",
	/*
	 * 3: the counts, kept by triggers in the transactions that change
	 * them, so that reading them is not a scan; nodes on schema 2 keep
	 * them too.  One row per slot (the backend's pid, modulo 16),
	 * summed on reading: one row for all would make every node's
	 * commits wait for each other.  The triggers come first: they lock
	 * out writers until the first counts commit.
	 */
	"CREATE TABLE counts ("
	"  slot BIGINT PRIMARY KEY,"
	"  instances BIGINT NOT NULL,"
	"  passwords BIGINT NOT NULL);"
	"CREATE FUNCTION sealmd_count() RETURNS trigger LANGUAGE plpgsql AS $$"
	"  DECLARE d BIGINT := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;"
	"  BEGIN"
	"    INSERT INTO counts AS c VALUES (pg_backend_pid() % 16,"
	"      CASE TG_TABLE_NAME WHEN 'instances' THEN d ELSE 0 END,"
	"      CASE TG_TABLE_NAME WHEN 'instances' THEN 0 ELSE d END)"
	"    ON CONFLICT (slot) DO UPDATE SET"
	"      instances = c.instances + EXCLUDED.instances,"
	"      passwords = c.passwords + EXCLUDED.passwords;"
	"    RETURN NULL;"
	"  END $$;"
	"CREATE TRIGGER instances_counted AFTER INSERT OR DELETE ON instances "
	"  FOR EACH ROW EXECUTE FUNCTION sealmd_count();"
	"CREATE TRIGGER passwords_counted_in AFTER INSERT ON password_chunks "
	"  FOR EACH ROW WHEN (NEW.idx = 0) EXECUTE FUNCTION sealmd_count();"
	"CREATE TRIGGER passwords_counted_out AFTER DELETE ON password_chunks "
	"  FOR EACH ROW WHEN (OLD.idx = 0) EXECUTE FUNCTION sealmd_count();"
	"INSERT INTO counts VALUES (16, (SELECT count(*) FROM instances),"
	"  (SELECT count(*) FROM password_chunks WHERE idx = 0));",
};

#define PG_INST_COLS	"id, project, hostname, created, cleared, " \
			"pw_ttl, one_time, pw_mode"
#define PG_HEAD_COLS	"i.id, i.project, i.hostname, i.created, " \
			"i.cleared, i.pw_ttl, i.one_time, i.pw_mode, " \
			"p.idx, p.count, p.key_id, p.nonce, p.sealed, " \
			"p.fingerprint, p.set_at, p.kind, p.seal_format "
#define PG_PW_JOIN	"LEFT JOIN password_chunks p ON p.instance_id = i.id "
#define PG_HEAD_PW	PG_HEAD_COLS "FROM instances i " PG_PW_JOIN

struct pg {
	PGconn		*pg_conn;
	char		*pg_conninfo;	/* never logged */
	int64_t		 pg_retry_ms;	/* no reconnection before */
	int64_t		 pg_backoff_ms;
	int		 pg_down;	/* the loss is logged */
	int		 pg_tx;		/* we opened a transaction */
	int64_t		 pg_answer_ms;	/* the longest wait for an answer */
	/* The conninfo's host, hostaddr and port lists, and where to start. */
	char		*pg_list[3];
	size_t		 pg_nhosts;
	size_t		 pg_rot;
	/* Prepared on this connection: statement sN is pg_prep[N]. */
	const char	*pg_prep[PG_PREP_MAX];
	size_t		 pg_nprep;
	int		 pg_listening;	/* LISTEN ran on this connection */
};

static const char *const pg_list_keys[3] = { "host", "hostaddr", "port" };

/* The highest timeline seen on a writable server, by any connection. */
static pthread_mutex_t	 pg_fence_mtx = PTHREAD_MUTEX_INITIALIZER;
static int64_t		 pg_fence_tli;

/* The broker is stopping: no thread waits on the database any more. */
static atomic_int	 pg_aborting;

/* The parameters of one statement, all in binary form. */
struct pgp {
	int		 n;
	const char	*v[PG_PARAMS_MAX];
	int		 len[PG_PARAMS_MAX];
	int		 fmt[PG_PARAMS_MAX];
	uint64_t	 num[PG_PARAMS_MAX];	/* big-endian int8 */
};

static void	pg_close(struct store *);
static int	pg_put_begin(struct store *, int *);
static int	pg_put_commit(struct store *, int);
static void	pg_put_abort(struct store *, int);
static int	pg_instance_write(struct store *, const struct store_inst *,
		    int *);
static int	pg_instance_get(struct store *, const char *,
		    struct store_inst *);
static int	pg_instance_del(struct store *, const char *);
static int	pg_instance_list(struct store *, const char *,
		    struct store_list *);
static int	pg_pw_put_if_absent(struct store *, const char *,
		    const struct store_pw *);
static int	pg_pw_get(struct store *, const char *, struct store_pw *);
static int	pg_pw_del(struct store *, const char *);
static int	pg_counts(struct store *, uint32_t *, uint32_t *);
static int	pg_key_counts(struct store *, struct store_keycount *, size_t,
		    size_t *);
static int	pg_pw_older(struct store *, uint32_t, const char *,
		    char (*)[ID_LEN + 1], size_t, size_t *);
static int	pg_pw_rewrap(struct store *, const char *,
		    const struct store_pw *, const struct store_pw *);
static int	pg_instance_head(struct store *, const char *, int,
		    struct store_inst *);
static int	pg_head_pw(struct store *, const char *, int,
		    struct store_inst *, struct store_pw *, int *);
static int	pg_head_pw_many(struct store *, struct store_head_req *,
		    size_t);
static int	pg_pw_expire(struct store *, const char *, int64_t);
static int	pg_pw_expired(struct store *, int64_t, int64_t,
		    char (*)[ID_LEN + 1], int64_t *, size_t, size_t *);
static int	pg_pw_take(struct store *, const char *, struct store_pw *);
static int	pg_addr_unscoped(struct store *, struct store_addr *, size_t,
		    size_t *);
static int	pg_batch_begin(struct store *);
static int	pg_batch_commit(struct store *);
static int	pg_batch_active(struct store *);
static void	pg_read_end(struct store *);
static int	pg_notified(struct store *, int, char (*)[ID_LEN + 1],
		    size_t, size_t *);

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.put_begin = pg_put_begin,
	.put_write = pg_instance_write,
	.put_commit = pg_put_commit,
	.put_abort = pg_put_abort,
	.instance_get = pg_instance_get,
	.instance_del = pg_instance_del,
	.instance_list = pg_instance_list,
	.pw_put_if_absent = pg_pw_put_if_absent,
	.pw_get = pg_pw_get,
	.pw_del = pg_pw_del,
	.counts = pg_counts,
	.key_counts = pg_key_counts,
	.pw_older = pg_pw_older,
	.pw_rewrap = pg_pw_rewrap,
	.instance_head = pg_instance_head,
	.head_pw = pg_head_pw,
	.head_pw_many = pg_head_pw_many,
	.pw_expire = pg_pw_expire,
	.pw_expired = pg_pw_expired,
	.pw_take = pg_pw_take,
	.addr_unscoped = pg_addr_unscoped,
	.batch_begin = pg_batch_begin,
	.batch_commit = pg_batch_commit,
	.batch_active = pg_batch_active,
	.read_end = pg_read_end,
	.notified = pg_notified,
};

static int64_t
pg_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of libpq's message: the rest is hints and context. */
static void
pg_log_conn(const char *what, PGconn *c)
{
	const char	*m = c != NULL ? PQerrorMessage(c) : "out of memory";

	log_warnx("store postgresql: %s: %.*s", what,
	    (int)strcspn(m, "\n"), m);
}

/* The server's notices (IF NOT EXISTS skipped...) are not news. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Items of a comma-separated list. */
static size_t
pg_items(const char *s)
{
	size_t	n = 1;

	for (; *s != '\0'; s++)
		n += *s == ',';
	return n;
}

/*
 * The conninfo's host lists, so that a connection attempt can start from
 * any of its hosts; -1 if it does not parse.
 */
static int
pg_hosts(struct pg *pg)
{
	PQconninfoOption	*opts, *o;
	char			*err = NULL;
	size_t			 i;
	int			 r = 0;

	if ((opts = PQconninfoParse(pg->pg_conninfo, &err)) == NULL) {
		/* err may quote the conninfo. */
		PQfreemem(err);
		log_warnx("store postgresql: the conninfo does not parse");
		return -1;
	}
	pg->pg_nhosts = 1;
	for (o = opts; o->keyword != NULL; o++) {
		for (i = 0; i < 3; i++) {
			if (strcmp(o->keyword, pg_list_keys[i]) != 0 ||
			    o->val == NULL || o->val[0] == '\0')
				continue;
			if ((pg->pg_list[i] = strdup(o->val)) == NULL) {
				log_warn("%s", __func__);
				r = -1;
			} else if (i < 2 && pg_items(o->val) > pg->pg_nhosts)
				pg->pg_nhosts = pg_items(o->val);
		}
	}
	PQconninfoFree(opts);
	return r;
}

/* list, with as many items as hosts, rotated to start at item rot. */
static char *
pg_rotate(const char *list, size_t nhosts, size_t rot)
{
	const char	*p = list;
	char		*out;
	size_t		 len, i;

	if (list == NULL || rot == 0 || pg_items(list) != nhosts)
		return NULL;
	for (i = 0; i < rot && (p = strchr(p, ',')) != NULL; i++)
		p++;
	if (p == NULL)
		return NULL;
	len = strlen(list);
	if ((out = malloc(len + 2)) == NULL)
		return NULL;
	/* "c,d" then "," then "a,b" */
	(void)snprintf(out, len + 2, "%s,%.*s", p, (int)(p - list - 1), list);
	return out;
}

/*
 * Defaults come first: whatever the conninfo says overrides them.  None
 * lets a thread wait on the database for ever: connect_timeout bounds a
 * connection, statement_timeout a statement the server is slow to run
 * (a lock held elsewhere), and over TCP keepalives and tcp_user_timeout
 * a server that is gone without a word.  What times out fails as 503.
 * After a refused server the host lists come rotated, after the conninfo.
 */
static PGconn *
pg_connect(const struct pg *pg)
{
	const char	*keys[] = {
		"connect_timeout", "application_name", "options",
		"keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "dbname", NULL, NULL, NULL, NULL
	};
	const char	*vals[] = {
		"2", "sealmd", "-c statement_timeout=" PG_STATEMENT_TIMEOUT,
		"5", "2", "3", "10000", pg->pg_conninfo, NULL, NULL, NULL, NULL
	};
	char		*rot[3];
	size_t		 i, n = 8;
	PGconn		*c;

	for (i = 0; i < 3; i++) {
		rot[i] = pg_rotate(pg->pg_list[i], pg->pg_nhosts, pg->pg_rot);
		if (rot[i] != NULL) {
			keys[n] = pg_list_keys[i];
			vals[n++] = rot[i];
		}
	}
	if ((c = PQconnectdbParams(keys, vals, 1)) != NULL)
		(void)PQsetNoticeProcessor(c, pg_notice, NULL);
	for (i = 0; i < 3; i++)
		free(rot[i]);
	return c;
}

static int	pg_col_int(const PGresult *, int, int, int64_t, int64_t,
		    int64_t *);
static PGresult	*pg_exec_once(struct pg *, const char *, const struct pgp *);

/*
 * 0 to use a new connection, -1 to refuse it: a writable server on a
 * lower timeline than one seen before is a former primary.  The timeline
 * is the one WAL is written on now (its file name's first 8 digits).  A
 * server in recovery takes no write; its timeline is not compared.
 */
static int
pg_fence(struct pg *pg)
{
	PGresult	*res;
	int64_t		 tli = -1, seen;

	res = pg_exec_once(pg, "SELECT CASE WHEN pg_is_in_recovery() THEN 0 "
	    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, "
	    "8))::bit(32)::bigint END", NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    pg_col_int(res, 0, 0, 0, UINT32_MAX, &tli) == -1) {
		log_warnx("store postgresql: cannot read the server's "
		    "timeline: %s", PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) != NULL ? PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) : "no result");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	pthread_mutex_lock(&pg_fence_mtx);
	if ((seen = pg_fence_tli) < tli)
		pg_fence_tli = tli;
	pthread_mutex_unlock(&pg_fence_mtx);
	if (tli == 0 || tli >= seen)
		return 0;
	log_warnx("store postgresql: refused a writable server on timeline "
	    "%lld: timeline %lld was seen, it is a former primary",
	    (long long)tli, (long long)seen);
	pg->pg_rot = (pg->pg_rot + 1) % pg->pg_nhosts;
	return -1;
}

/*
 * How long this session may wait for an answer: PG_ANSWER_MS, or a
 * second more than a statement_timeout the conninfo raised, so that the
 * server's own timeout still answers first.  0 (none) keeps the bound.
 */
static int
pg_answer_bound(struct pg *pg)
{
	PGresult	*res;
	int64_t		 ms = 0;

	res = pg_exec_once(pg, "SELECT (extract(epoch FROM "
	    "current_setting('statement_timeout')::interval) * 1000)::bigint",
	    NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    pg_col_int(res, 0, 0, 0, INT32_MAX, &ms) == -1) {
		log_warnx("store postgresql: cannot read statement_timeout");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	pg->pg_answer_ms = ms + 1000 > PG_ANSWER_MS ? ms + 1000 :
	    PG_ANSWER_MS;
	return 0;
}

static int	pg_schema(struct pg *, int);
static int	pg_pw_rows(const PGresult *, int, int, int,
		    struct store_pw *);
static int	pg_end(struct pg *, const char *);

/* 0 with a live connection, -1 while the database is unreachable. */
static int
pg_ready(struct pg *pg)
{
	int64_t	now;

	if (pg->pg_conn != NULL && PQstatus(pg->pg_conn) == CONNECTION_OK)
		return 0;
	/* A new connection would run the rest outside the transaction. */
	if (pg->pg_tx)
		return -1;
	if (pg->pg_conn != NULL) {
		PQfinish(pg->pg_conn);
		pg->pg_conn = NULL;
		if (!pg->pg_down)
			log_warnx("store postgresql: connection lost, "
			    "reconnecting");
		pg->pg_down = 1;
	}
	if ((now = pg_now_ms()) < pg->pg_retry_ms ||
	    atomic_load(&pg_aborting))
		return -1;
	/* Statements are the session's: a new one prepares them again. */
	pg->pg_nprep = 0;
	pg->pg_listening = 0;
	pg->pg_conn = pg_connect(pg);
	if (pg->pg_conn == NULL || PQstatus(pg->pg_conn) != CONNECTION_OK)
		pg_log_conn("connect", pg->pg_conn);
	if (pg->pg_conn == NULL || PQstatus(pg->pg_conn) != CONNECTION_OK ||
	    pg_fence(pg) == -1 || pg_answer_bound(pg) == -1 ||
	    pg_schema(pg, 0) == -1) {
		PQfinish(pg->pg_conn);
		pg->pg_conn = NULL;
		pg->pg_down = 1;
		pg->pg_backoff_ms = pg->pg_backoff_ms == 0 ?
		    PG_BACKOFF_MIN_MS : pg->pg_backoff_ms * 2;
		if (pg->pg_backoff_ms > PG_BACKOFF_MAX_MS)
			pg->pg_backoff_ms = PG_BACKOFF_MAX_MS;
		pg->pg_retry_ms = now + pg->pg_backoff_ms;
		return -1;
	}
	if (pg->pg_down)
		log_info("store postgresql: connected again");
	pg->pg_down = 0;
	pg->pg_backoff_ms = 0;
	return 0;
}

static void
pgp_bin(struct pgp *p, const void *v, size_t len)
{
	if (p->n == PG_PARAMS_MAX)
		fatalx("%s: too many parameters", __func__);
	p->v[p->n] = v;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* At most max bytes: a longer string cannot match a stored one. */
static void
pgp_str(struct pgp *p, const char *s, size_t max)
{
	pgp_bin(p, s, strnlen(s, max + 1));
}

static void
pgp_int(struct pgp *p, int64_t v)
{
	if (p->n == PG_PARAMS_MAX)
		fatalx("%s: too many parameters", __func__);
	p->num[p->n] = htobe64((uint64_t)v);
	pgp_bin(p, &p->num[p->n], sizeof(p->num[0]));
}

void
store_abort(void)
{
	atomic_store(&pg_aborting, 1);
}

/*
 * The last result of what was sent.  NULL, the connection dropped, when
 * the server gives no answer within pg_answer_ms (it hangs, or a COMMIT
 * waits for a synchronous standby that is gone: the server's timeout
 * does not end that wait) or the broker is stopping.  What was cut off
 * may still commit: the caller answers 503, as for a lost connection.
 */
static PGresult *
pg_wait(struct pg *pg)
{
	struct pollfd	 pfd;
	PGresult	*res, *last = NULL;
	const char	*why = "no answer in time";
	int64_t		 left, end = pg_now_ms() + pg->pg_answer_ms;

	pfd.fd = PQsocket(pg->pg_conn);
	pfd.events = POLLIN;
	for (;;) {
		while (!PQisBusy(pg->pg_conn)) {
			if ((res = PQgetResult(pg->pg_conn)) == NULL)
				return last;
			PQclear(last);
			last = res;
		}
		if (atomic_load(&pg_aborting)) {
			why = "stopping";
			break;
		}
		if ((left = end - pg_now_ms()) <= 0)
			break;
		if (poll(&pfd, 1, left < PG_SLICE_MS ? (int)left :
		    PG_SLICE_MS) == -1 && errno != EINTR)
			break;
		/* A lost connection makes the results an error at once. */
		if (!PQconsumeInput(pg->pg_conn))
			while ((res = PQgetResult(pg->pg_conn)) != NULL) {
				PQclear(last);
				last = res;
			}
	}
	PQclear(last);
	log_warnx("store postgresql: %s, connection dropped", why);
	/* Nothing more is waited for, not even the goodbye. */
	(void)PQsetnonblocking(pg->pg_conn, 1);
	PQfinish(pg->pg_conn);
	pg->pg_conn = NULL;
	pg->pg_down = 1;
	return NULL;
}

static PGresult *
pg_exec_once(struct pg *pg, const char *sql, const struct pgp *p)
{
	if (!PQsendQueryParams(pg->pg_conn, sql, p != NULL ? p->n : 0, NULL,
	    p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
	    p != NULL ? p->fmt : NULL, 1))
		return PQmakeEmptyPGresult(pg->pg_conn, PGRES_FATAL_ERROR);
	return pg_wait(pg);
}

/*
 * sql, prepared on this connection the first time it runs here, so that
 * the server parses and plans it once per session.  sql is a string
 * constant: its address names the statement.
 */
static PGresult *
pg_exec_prepared(struct pg *pg, const char *sql, const struct pgp *p)
{
	PGresult	*res;
	char		 name[16];
	size_t		 i;

	for (i = 0; i < pg->pg_nprep && pg->pg_prep[i] != sql; i++)
		;
	(void)snprintf(name, sizeof(name), "s%zu", i);
	if (i == pg->pg_nprep) {
		if (i == PG_PREP_MAX)
			fatalx("%s: too many statements", __func__);
		if (!PQsendPrepare(pg->pg_conn, name, sql, p != NULL ? p->n :
		    0, NULL))
			return PQmakeEmptyPGresult(pg->pg_conn,
			    PGRES_FATAL_ERROR);
		if ((res = pg_wait(pg)) == NULL ||
		    PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		pg->pg_prep[pg->pg_nprep++] = sql;
	}
	if (!PQsendQueryPrepared(pg->pg_conn, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
	    p != NULL ? p->fmt : NULL, 1))
		return PQmakeEmptyPGresult(pg->pg_conn, PGRES_FATAL_ERROR);
	return pg_wait(pg);
}

/* SQL text of one or more statements, no parameters: the last result. */
static PGresult *
pg_exec_text(struct pg *pg, const char *sql)
{
	if (!PQsendQuery(pg->pg_conn, sql))
		return PQmakeEmptyPGresult(pg->pg_conn, PGRES_FATAL_ERROR);
	return pg_wait(pg);
}

/*
 * Run one statement; its result, or NULL after logging the failure.  With
 * state, the SQLSTATE of a failure is copied there, logged or not.
 */
static PGresult *
pg_exec(struct pg *pg, const char *sql, const struct pgp *p,
    char state[6])
{
	PGresult	*res;
	const char	*s, *m;
	ExecStatusType	 es;

	if (state != NULL)
		state[0] = '\0';
	if (pg_ready(pg) == -1)
		return NULL;
	if ((res = pg_exec_prepared(pg, sql, p)) == NULL)
		return NULL;
	/*
	 * A connection found dead (a server restart) is opened again at
	 * once for what is safe to repeat: a read or a BEGIN outside any
	 * transaction.  Nothing else: it may have run before the loss.
	 */
	if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    PQstatus(pg->pg_conn) == CONNECTION_BAD && !pg->pg_tx &&
	    (strncmp(sql, "SELECT", 6) == 0 || strcmp(sql, "BEGIN") == 0) &&
	    pg_ready(pg) == 0) {
		PQclear(res);
		if ((res = pg_exec_prepared(pg, sql, p)) == NULL)
			return NULL;
	}
	es = PQresultStatus(res);
	if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
		return res;
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && s != NULL && strlen(s) == 5)
		memcpy(state, s, 6);
	/* The primary message only: DETAIL may quote a row. */
	m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (state == NULL || state[0] == '\0' || strcmp(state, "23505") != 0)
		log_warnx("store postgresql: %s", m != NULL ? m :
		    "no connection");
	PQclear(res);
	return NULL;
}

/* A statement whose rows do not matter; -1 on failure. */
static int
pg_run(struct pg *pg, const char *sql, const struct pgp *p)
{
	PGresult	*res;

	if ((res = pg_exec(pg, sql, p, NULL)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Rows changed by the statement, or -1. */
static int64_t
pg_changes(struct pg *pg, const char *sql, const struct pgp *p,
    char state[6])
{
	PGresult	*res;
	int64_t		 n;

	if ((res = pg_exec(pg, sql, p, state)) == NULL)
		return -1;
	n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

static int
pg_col_str(const PGresult *res, int row, int col, char *dst, size_t size)
{
	int	n;

	if (PQgetisnull(res, row, col))
		return -1;
	n = PQgetlength(res, row, col);
	if (n < 0 || (size_t)n >= size ||
	    memchr(PQgetvalue(res, row, col), '\0', (size_t)n) != NULL)
		return -1;
	memcpy(dst, PQgetvalue(res, row, col), (size_t)n);
	dst[n] = '\0';
	return 0;
}

static int
pg_col_blob(const PGresult *res, int row, int col, uint8_t *dst, size_t min,
    size_t max, size_t *len)
{
	int	n;

	if (PQgetisnull(res, row, col))
		return -1;
	n = PQgetlength(res, row, col);
	if (n < 0 || (size_t)n < min || (size_t)n > max)
		return -1;
	memcpy(dst, PQgetvalue(res, row, col), (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int
pg_col_int(const PGresult *res, int row, int col, int64_t min, int64_t max,
    int64_t *v)
{
	uint64_t	be;

	if (PQgetisnull(res, row, col) ||
	    PQgetlength(res, row, col) != (int)sizeof(be))
		return -1;
	memcpy(&be, PQgetvalue(res, row, col), sizeof(be));
	*v = (int64_t)be64toh(be);
	return *v < min || *v > max ? -1 : 0;
}

/*
 * Create the schema in an empty database; with migrate, bring an older
 * one up to date.  Any node doing so holds one advisory lock, so two
 * nodes starting together do not both create it.
 */
static int
pg_schema(struct pg *pg, int migrate)
{
	PGresult	*res = NULL;
	char		 sql[96];
	int64_t		 v = 0;
	int		 r = -1;

	if (PQstatus(pg->pg_conn) != CONNECTION_OK)
		return -1;
	res = pg_exec_text(pg, "BEGIN; SELECT pg_advisory_xact_lock("
	    PG_MIGRATE_LOCK "); CREATE TABLE IF NOT EXISTS schema_version ("
	    "version BIGINT NOT NULL)");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto dberr;
	PQclear(res);
	res = pg_exec_once(pg, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version", NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		goto dberr;
	if (pg_col_int(res, 0, 0, 0, INT64_MAX, &v) == -1) {
		log_warnx("store postgresql: malformed schema_version");
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (v > PG_SCHEMA_VERSION) {
		log_warnx("store postgresql: schema version %lld is newer "
		    "than this sealmd knows (%d)", (long long)v,
		    PG_SCHEMA_VERSION);
		goto out;
	}
	/* Other nodes may run the old schema: changing it is a decision. */
	if (v > 0 && v < PG_SCHEMA_VERSION && !migrate) {
		log_warnx("store postgresql: schema version %lld is older "
		    "than this sealmd's (%d): run sealmd -c FILE --migrate",
		    (long long)v, PG_SCHEMA_VERSION);
		goto out;
	}
	for (; v < PG_SCHEMA_VERSION; v++) {
		res = pg_exec_text(pg, pg_migrate[v]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			goto dberr;
		PQclear(res);
		res = pg_exec_text(pg, "DELETE FROM schema_version");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			goto dberr;
		PQclear(res);
		(void)snprintf(sql, sizeof(sql), "INSERT INTO schema_version "
		    "(version) VALUES (%lld)", (long long)v + 1);
		res = pg_exec_text(pg, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			goto dberr;
		PQclear(res);
		res = NULL;
		log_info("store postgresql: schema migrated to version %lld",
		    (long long)v + 1);
	}
	res = pg_exec_text(pg, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto dberr;
	r = 0;
	goto out;
 dberr:
	log_warnx("store postgresql: schema: %s",
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no result");
 out:
	PQclear(res);
	if (r == -1 && pg->pg_conn != NULL &&
	    PQtransactionStatus(pg->pg_conn) != PQTRANS_IDLE)
		PQclear(pg_exec_text(pg, "ROLLBACK"));
	return r;
}

static void
pg_free(struct pg *pg)
{
	size_t	i;

	PQfinish(pg->pg_conn);
	free(pg->pg_conninfo);
	for (i = 0; i < 3; i++)
		free(pg->pg_list[i]);
	free(pg);
}

struct store *
store_open_postgresql(const char *conninfo, int migrate)
{
	struct store	*st;
	struct pg	*pg;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (pg = calloc(1, sizeof(*pg))) == NULL ||
	    (pg->pg_conninfo = strdup(conninfo)) == NULL) {
		log_warn("%s", __func__);
		if (st != NULL)
			free(st->st_engine);
		free(st);
		return NULL;
	}
	pg->pg_answer_ms = PG_ANSWER_MS;
	if (pg_hosts(pg) == -1)
		goto fail;
	pg->pg_conn = pg_connect(pg);
	if (pg->pg_conn == NULL || PQstatus(pg->pg_conn) != CONNECTION_OK) {
		pg_log_conn("connect", pg->pg_conn);
		goto fail;
	}
	if (pg_fence(pg) == -1 || pg_answer_bound(pg) == -1 ||
	    pg_schema(pg, migrate) == -1)
		goto fail;
	st->st_ops = &pg_ops;
	st->st_engine = pg;
	return st;
 fail:
	pg_free(pg);
	free(st);
	return NULL;
}

static void
pg_close(struct store *st)
{
	pg_free(st->st_engine);
	free(st);
}

/* Autocommit reads see each commit at once: there is no snapshot to end. */
static void
pg_read_end(struct store *st)
{
	(void)st;
}

/*
 * pg_tx, not libpq's status, says whether a transaction is open: after a
 * lost connection libpq knows nothing, and pg_ready must not reconnect
 * in the middle of one.
 */
static int
pg_begin(struct pg *pg)
{
	if (pg->pg_tx)
		(void)pg_end(pg, "ROLLBACK");
	if (pg_run(pg, "BEGIN", NULL) == -1)
		return -1;
	pg->pg_tx = 1;
	return 0;
}

/*
 * COMMIT of a failed transaction succeeds as a ROLLBACK: only a COMMIT
 * tag says it committed.
 */
static int
pg_end(struct pg *pg, const char *sql)
{
	PGresult	*res;
	int		 r = -1;

	if ((res = pg_exec(pg, sql, NULL, NULL)) != NULL) {
		r = strcmp(PQcmdStatus(res), sql) == 0 ? 0 : -1;
		PQclear(res);
	}
	pg->pg_tx = 0;
	return r;
}

/* One write, all or nothing: its own transaction, or a batch savepoint. */
static int
pg_tx_begin(struct pg *pg, int *nested)
{
	if ((*nested = pg->pg_tx))
		return pg_run(pg, "SAVEPOINT w", NULL);
	return pg_begin(pg);
}

static int
pg_tx_commit(struct pg *pg, int nested)
{
	return nested ? pg_run(pg, "RELEASE w", NULL) : pg_end(pg, "COMMIT");
}

static void
pg_tx_abort(struct pg *pg, int nested)
{
	if (!nested)
		(void)pg_end(pg, "ROLLBACK");
	else if (pg_run(pg, "ROLLBACK TO w", NULL) == 0)
		(void)pg_run(pg, "RELEASE w", NULL);
}

static int
pg_batch_begin(struct store *st)
{
	return pg_begin(st->st_engine) == 0 ? STORE_OK : STORE_ERR;
}

/* Nothing in the batch is durable until this returns STORE_OK. */
static int
pg_batch_commit(struct store *st)
{
	struct pg	*pg = st->st_engine;

	return pg_end(pg, "COMMIT") == 0 ? STORE_OK : STORE_ERR;
}

/* False once the batch is lost: the connection went, or it failed. */
static int
pg_batch_active(struct store *st)
{
	struct pg	*pg = st->st_engine;

	return pg->pg_tx && PQstatus(pg->pg_conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->pg_conn) == PQTRANS_INTRANS;
}

/* 1 if the instance exists (its row now locked against delete), 0, -1. */
static int
pg_exists(struct pg *pg, const char *id)
{
	struct pgp	 p = { 0 };
	PGresult	*res;
	int		 n;

	pgp_str(&p, id, ID_LEN);
	if ((res = pg_exec(pg, "SELECT 1 FROM instances WHERE id = $1::text "
	    "FOR KEY SHARE", &p, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

/* An address held by another instance refuses the whole put. */
static int
pg_addr_free(struct pg *pg, const struct store_inst *inst)
{
	struct pgp	 p;
	PGresult	*res;
	char		 owner[ID_LEN + 1];
	uint32_t	 i;
	int		 r;

	for (i = 0; i < inst->ri_naddr; i++) {
		memset(&p, 0, sizeof(p));
		pgp_str(&p, inst->ri_addr[i], ADDR_MAX);
		if ((res = pg_exec(pg, "SELECT instance_id FROM "
		    "instance_addresses WHERE addr = $1::text", &p,
		    NULL)) == NULL)
			return STORE_ERR;
		r = STORE_OK;
		if (PQntuples(res) > 0 &&
		    pg_col_str(res, 0, 0, owner, sizeof(owner)) == -1)
			r = STORE_ERR;
		else if (PQntuples(res) > 0 && strcmp(owner, inst->ri_id) != 0)
			r = STORE_CONFLICT;
		PQclear(res);
		if (r != STORE_OK)
			return r;
	}
	return STORE_OK;
}

static int
pg_put_begin(struct store *st, int *nested)
{
	return pg_tx_begin(st->st_engine, nested);
}

static int
pg_put_commit(struct store *st, int nested)
{
	return pg_tx_commit(st->st_engine, nested);
}

static void
pg_put_abort(struct store *st, int nested)
{
	pg_tx_abort(st->st_engine, nested);
}

/* A registration's rows, in the transaction or savepoint the caller holds. */
static int
pg_instance_write(struct store *st, const struct store_inst *inst,
    int *created)
{
	struct pg	*pg = st->st_engine;
	struct pgp	 p;
	char		 state[6];
	int64_t		 n;
	uint32_t	 i;
	int		 isnew, r = STORE_ERR;

	if ((r = pg_addr_free(pg, inst)) != STORE_OK)
		goto out;
	r = STORE_ERR;
	memset(&p, 0, sizeof(p));
	pgp_str(&p, inst->ri_id, ID_LEN);
	pgp_str(&p, inst->ri_project, PROJECT_MAX);
	pgp_str(&p, inst->ri_hostname, HOSTNAME_MAX);
	pgp_int(&p, inst->ri_created != 0 ? inst->ri_created :
	    (int64_t)time(NULL));
	pgp_int(&p, inst->ri_pw_ttl);
	pgp_int(&p, inst->ri_one_time);
	pgp_int(&p, inst->ri_mode);
	if ((n = pg_changes(pg, "INSERT INTO instances (id, project, "
	    "hostname, created, pw_ttl, one_time, pw_mode) VALUES ($1::text, "
	    "$2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, "
	    "$7::bigint) ON CONFLICT (id) DO NOTHING", &p, NULL)) == -1)
		goto out;
	isnew = n == 1;
	if (!isnew && pg_run(pg, "UPDATE instances SET project = $2::text, "
	    "hostname = $3::text, pw_ttl = $5::bigint, one_time = $6::bigint, "
	    "pw_mode = $7::bigint WHERE id = $1::text AND "
	    "$4::bigint IS NOT NULL", &p) == -1)
		goto out;

	memset(&p, 0, sizeof(p));
	pgp_str(&p, inst->ri_id, ID_LEN);
	if (pg_run(pg, "DELETE FROM instance_addresses WHERE instance_id = "
	    "$1::text", &p) == -1 || pg_run(pg, "DELETE FROM instance_keys "
	    "WHERE instance_id = $1::text", &p) == -1)
		goto out;
	for (i = 0; i < inst->ri_naddr; i++) {
		memset(&p, 0, sizeof(p));
		pgp_str(&p, inst->ri_addr[i], ADDR_MAX);
		pgp_str(&p, inst->ri_id, ID_LEN);
		pgp_int(&p, i);
		/* Another node may have taken it since pg_addr_free. */
		if (pg_changes(pg, "INSERT INTO instance_addresses (addr, "
		    "instance_id, pos) VALUES ($1::text, $2::text, "
		    "$3::bigint)", &p, state) == -1) {
			if (strcmp(state, "23505") == 0)
				r = STORE_CONFLICT;
			goto out;
		}
	}
	for (i = 0; i < inst->ri_nkeys; i++) {
		memset(&p, 0, sizeof(p));
		pgp_str(&p, inst->ri_id, ID_LEN);
		pgp_int(&p, i);
		pgp_str(&p, inst->ri_keys[i].rk_name, KEYNAME_MAX);
		pgp_str(&p, inst->ri_keys[i].rk_data, KEYDATA_MAX);
		if (pg_run(pg, "INSERT INTO instance_keys (instance_id, pos, "
		    "name, data) VALUES ($1::text, $2::bigint, $3::text, "
		    "$4::text)", &p) == -1)
			goto out;
	}
	if (created != NULL)
		*created = isnew;
	r = STORE_OK;
 out:
	return r;
}

/* The scalar columns of an instance row, in PG_INST_COLS order,
 * from column off. */
static int
pg_head_row(const PGresult *res, int row, int off,
    struct store_inst *inst)
{
	int64_t	ttl, once, mode;

	if (pg_col_str(res, row, off + 0, inst->ri_id,
	    sizeof(inst->ri_id)) == -1 ||
	    pg_col_str(res, row, off + 1, inst->ri_project,
	    sizeof(inst->ri_project)) == -1 ||
	    pg_col_str(res, row, off + 2, inst->ri_hostname,
	    sizeof(inst->ri_hostname)) == -1 ||
	    pg_col_int(res, row, off + 3, INT64_MIN, INT64_MAX,
	    &inst->ri_created) == -1 ||
	    pg_col_int(res, row, off + 4, 0, INT64_MAX,
	    &inst->ri_cleared) == -1 ||
	    pg_col_int(res, row, off + 5, -1, PW_TTL_MAX, &ttl) == -1 ||
	    pg_col_int(res, row, off + 6, -1, 1, &once) == -1 ||
	    pg_col_int(res, row, off + 7, PW_MODE_DEFAULT, PW_MODE_VERIFIER,
	    &mode) == -1)
		return -1;
	inst->ri_pw_ttl = (int32_t)ttl;
	inst->ri_one_time = (int32_t)once;
	inst->ri_mode = (int32_t)mode;
	return 0;
}

/*
 * The instance an address names: IP[%IFNAME]@NET before IP[%IFNAME].
 * Two plain lookups: one sorted statement cost PostgreSQL more.
 */
#define PG_BY_ADDR	"coalesce((SELECT instance_id FROM " \
			"instance_addresses WHERE addr = $1::text), " \
			"(SELECT instance_id FROM instance_addresses WHERE " \
			"addr = $2::text))"

/*
 * An instance's n rows from row0, its columns from off: the instance
 * row, with pw its value's chunks (none: NULL columns).
 */
static int
pg_head_rows(const PGresult *res, int row0, int n, int off,
    struct store_inst *inst, struct store_pw *pw, int *pw_r)
{
	if (pg_head_row(res, row0, off, inst) == -1) {
		log_warnx("store postgresql: malformed instance row");
		return STORE_ERR;
	}
	if (pw == NULL)
		return STORE_OK;
	if (PQgetisnull(res, row0, off + 8))
		*pw_r = STORE_NOTFOUND;
	else if (pg_pw_rows(res, row0, n, off + 8, pw) == -1) {
		log_warnx("store postgresql: instance %.*s: stored password "
		    "has a malformed shape", ID_LEN, inst->ri_id);
		memset(pw, 0, sizeof(*pw));
	} else
		*pw_r = STORE_OK;
	return STORE_OK;
}

/*
 * The instance row, by id or by address, with no addresses or keys; with
 * pw, its value's chunks too, in the same round trip (none: NULL columns).
 */
static int
pg_head(struct pg *pg, const char *key, int by_addr,
    struct store_inst *inst, struct store_pw *pw, int *pw_r)
{
	static const char *const sql[2][2] = {
		{ "SELECT " PG_INST_COLS " FROM instances WHERE id = $1::text",
		  "SELECT " PG_INST_COLS " FROM instances WHERE id = "
		  PG_BY_ADDR },
		{ "SELECT " PG_HEAD_PW "WHERE i.id = $1::text ORDER BY p.idx",
		  "SELECT " PG_HEAD_PW "WHERE i.id = " PG_BY_ADDR " "
		  "ORDER BY p.idx" },
	};
	struct pgp	 p = { 0 };
	PGresult	*res;
	int		 r = STORE_OK;

	inst->ri_naddr = inst->ri_nkeys = 0;
	if (pw != NULL)
		memset(pw, 0, sizeof(*pw));
	pgp_str(&p, key, by_addr ? ADDR_MAX : ID_LEN);
	if (by_addr)
		pgp_bin(&p, key, store_addr_base(key));
	if ((res = pg_exec(pg, sql[pw != NULL][by_addr != 0], &p,
	    NULL)) == NULL)
		return STORE_ERR;
	r = PQntuples(res) == 0 ? STORE_NOTFOUND : pg_head_rows(res, 0,
	    PQntuples(res), 0, inst, pw, pw_r);
	PQclear(res);
	return r;
}

/* A text[] in binary form: the array header, then each item. */
struct pga {
	uint8_t	b[20 + STORE_HEAD_MANY_MAX * (4 + ADDR_MAX + 1)];
	size_t	len;
};

static void
pga_put(struct pga *a, const void *v, size_t len)
{
	if (len > sizeof(a->b) - a->len)
		fatalx("%s: array too long", __func__);
	memcpy(a->b + a->len, v, len);
	a->len += len;
}

static void
pga_u32(struct pga *a, uint32_t v)
{
	v = htobe32(v);
	pga_put(a, &v, sizeof(v));
}

/* One dimension of n items from 1, none NULL. */
static void
pga_start(struct pga *a, size_t n)
{
	a->len = 0;
	pga_u32(a, 1);
	pga_u32(a, 0);
	pga_u32(a, PG_TEXT_OID);
	pga_u32(a, (uint32_t)n);
	pga_u32(a, 1);
}

/* At most ADDR_MAX + 1 bytes: a longer key cannot match a stored one. */
static void
pga_str(struct pga *a, const char *s, size_t len)
{
	if (len > ADDR_MAX + 1)
		len = ADDR_MAX + 1;
	pga_u32(a, (uint32_t)len);
	pga_put(a, s, len);
}

/*
 * The m keys of grp, all by id or all by address, in one statement; its
 * rows come in order of the key (q.n), each key's chunks in order.
 */
static int
pg_head_batch(struct pg *pg, int by_addr, struct store_head_req **grp,
    size_t m)
{
	static const char *const sql[2] = {
		"SELECT q.n, " PG_HEAD_COLS "FROM unnest($1::text[]) WITH "
		"ORDINALITY q(k, n) JOIN instances i ON i.id = q.k "
		PG_PW_JOIN "ORDER BY q.n, p.idx",
		"SELECT q.n, " PG_HEAD_COLS "FROM unnest($1::text[], "
		"$2::text[]) WITH ORDINALITY q(k, b, n) LEFT JOIN "
		"instance_addresses a ON a.addr = q.k LEFT JOIN "
		"instance_addresses ab ON ab.addr = q.b JOIN instances i ON "
		"i.id = coalesce(a.instance_id, ab.instance_id) "
		PG_PW_JOIN "ORDER BY q.n, p.idx",
	};
	struct pga		 keys, bases;
	struct pgp		 p = { 0 };
	struct store_head_req	*q;
	PGresult		*res;
	int64_t			 n, next;
	int			 row, end, rows, r = 0;
	size_t			 i;

	pga_start(&keys, m);
	pga_start(&bases, m);
	for (i = 0; i < m; i++) {
		pga_str(&keys, grp[i]->hr_key, strnlen(grp[i]->hr_key,
		    (by_addr ? ADDR_MAX : ID_LEN) + 1));
		if (by_addr)
			pga_str(&bases, grp[i]->hr_key,
			    store_addr_base(grp[i]->hr_key));
	}
	pgp_bin(&p, keys.b, keys.len);
	if (by_addr)
		pgp_bin(&p, bases.b, bases.len);
	if ((res = pg_exec(pg, sql[by_addr != 0], &p, NULL)) == NULL)
		return -1;
	rows = PQntuples(res);
	/* Each key's rows together, keys in order: else it is not ours. */
	for (row = 0, next = 1; row < rows; row = end) {
		if (pg_col_int(res, row, 0, next, (int64_t)m, &n) == -1) {
			log_warnx("store postgresql: malformed batch row");
			r = -1;
			break;
		}
		for (end = row + 1; end < rows &&
		    pg_col_int(res, end, 0, n, n, &next) == 0; end++)
			;
		next = n + 1;
		q = grp[n - 1];
		q->hr_r = pg_head_rows(res, row, end - row, 1, q->hr_inst,
		    q->hr_pw, &q->hr_pw_r);
	}
	PQclear(res);
	return r;
}

/*
 * Up to STORE_HEAD_MANY_MAX guests' reads: those by id in one statement,
 * those by address in another.  A key alone takes its usual statement.
 */
static int
pg_head_pw_many(struct store *st, struct store_head_req *req, size_t n)
{
	struct pg		*pg = st->st_engine;
	struct store_head_req	*grp[STORE_HEAD_MANY_MAX];
	size_t			 i, m;
	int			 by_addr;

	for (i = 0; i < n; i++) {
		req[i].hr_inst->ri_naddr = req[i].hr_inst->ri_nkeys = 0;
		memset(req[i].hr_pw, 0, sizeof(*req[i].hr_pw));
		req[i].hr_r = STORE_NOTFOUND;
	}
	for (by_addr = 0; by_addr < 2; by_addr++) {
		for (i = m = 0; i < n; i++)
			if ((req[i].hr_by_addr != 0) == by_addr)
				grp[m++] = &req[i];
		if (m == 1)
			grp[0]->hr_r = pg_head(pg, grp[0]->hr_key, by_addr,
			    grp[0]->hr_inst, grp[0]->hr_pw,
			    &grp[0]->hr_pw_r);
		else if (m > 1 && pg_head_batch(pg, by_addr, grp, m) == -1)
			return -1;
	}
	return 0;
}

/* fe80::/10 is fe80: to febf:, four digits; no '%': no interface. */
static int
pg_addr_unscoped(struct store *st, struct store_addr *out, size_t max,
    size_t *n)
{
	struct pgp	 p = { 0 };
	PGresult	*res;
	int		 i, rows, bad = 0;

	*n = 0;
	pgp_int(&p, (int64_t)max);
	if ((res = pg_exec(st->st_engine, "SELECT addr, instance_id FROM "
	    "instance_addresses WHERE addr >= 'fe80' AND addr < 'fec0' AND "
	    "strpos(addr, ':') = 5 AND strpos(addr, '%') = 0 ORDER BY addr "
	    "LIMIT $1::bigint", &p, NULL)) == NULL)
		return STORE_ERR;
	rows = PQntuples(res);
	for (i = 0; !bad && i < rows && (size_t)i < max; i++)
		bad = pg_col_str(res, i, 0, out[i].sa_addr,
		    sizeof(out[i].sa_addr)) == -1 ||
		    pg_col_str(res, i, 1, out[i].sa_id,
		    sizeof(out[i].sa_id)) == -1;
	PQclear(res);
	if (bad) {
		log_warnx("store postgresql: malformed stored address");
		return STORE_ERR;
	}
	*n = (size_t)i;
	return STORE_OK;
}

static int
pg_instance_head(struct store *st, const char *key, int by_addr,
    struct store_inst *inst)
{
	return pg_head(st->st_engine, key, by_addr, inst, NULL, NULL);
}

/* The guest's common read, in one round trip. */
static int
pg_head_pw(struct store *st, const char *key, int by_addr,
    struct store_inst *inst, struct store_pw *pw, int *pw_r)
{
	return pg_head(st->st_engine, key, by_addr, inst, pw, pw_r);
}

/* Addresses, then keys, of an instance whose head is in inst. */
static int
pg_fill_lists(struct pg *pg, struct store_inst *inst)
{
	struct pgp	 p = { 0 };
	PGresult	*res;
	int		 i, n, bad = 0;

	pgp_str(&p, inst->ri_id, ID_LEN);
	if ((res = pg_exec(pg, "SELECT addr FROM instance_addresses WHERE "
	    "instance_id = $1::text ORDER BY pos", &p, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n > INST_ADDRS_MAX)
		bad = 1;
	for (i = 0; !bad && i < n; i++)
		bad = pg_col_str(res, i, 0, inst->ri_addr[i],
		    sizeof(inst->ri_addr[i])) == -1;
	inst->ri_naddr = bad ? 0 : (uint32_t)n;
	PQclear(res);
	if (bad || (res = pg_exec(pg, "SELECT name, data FROM instance_keys "
	    "WHERE instance_id = $1::text ORDER BY pos", &p, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n > INST_KEYS_MAX)
		bad = 1;
	for (i = 0; !bad && i < n; i++)
		bad = pg_col_str(res, i, 0, inst->ri_keys[i].rk_name,
		    sizeof(inst->ri_keys[i].rk_name)) == -1 ||
		    pg_col_str(res, i, 1, inst->ri_keys[i].rk_data,
		    sizeof(inst->ri_keys[i].rk_data)) == -1;
	inst->ri_nkeys = bad ? 0 : (uint32_t)n;
	PQclear(res);
	return bad ? -1 : 0;
}

/*
 * Three queries in one read-only snapshot.  inst is not zeroed first (9
 * KB, on every meta_data GET): as on SQLite, the head row sets every
 * scalar and string, pg_fill_lists the counts, and nothing reads past a
 * string's NUL or the counts.  A failure zeroes it all.
 */
static int
pg_instance_get(struct store *st, const char *id, struct store_inst *inst)
{
	struct pg	*pg = st->st_engine;
	int		 nested, r;

	if (pg_tx_begin(pg, &nested) == -1) {
		memset(inst, 0, sizeof(*inst));
		return STORE_ERR;
	}
	if (!nested && pg_run(pg, "SET TRANSACTION ISOLATION LEVEL "
	    "REPEATABLE READ, READ ONLY", NULL) == -1)
		r = STORE_ERR;
	else if ((r = pg_instance_head(st, id, 0, inst)) == STORE_OK &&
	    pg_fill_lists(pg, inst) == -1) {
		log_warnx("store postgresql: instance %.*s: malformed "
		    "addresses or keys", ID_LEN, id);
		r = STORE_ERR;
	}
	if (r == STORE_ERR || pg_tx_commit(pg, nested) == -1) {
		pg_tx_abort(pg, nested);
		r = STORE_ERR;
	}
	if (r != STORE_OK)
		memset(inst, 0, sizeof(*inst));
	return r;
}

/* ON DELETE CASCADE removes addresses, keys and password. */
static int
pg_instance_del(struct store *st, const char *id)
{
	struct pgp	p = { 0 };
	int64_t		n;

	pgp_str(&p, id, ID_LEN);
	if ((n = pg_changes(st->st_engine, "DELETE FROM instances WHERE "
	    "id = $1::text", &p, NULL)) == -1)
		return STORE_ERR;
	return n == 0 ? STORE_NOTFOUND : STORE_OK;
}

static int
pg_instance_list(struct store *st, const char *after,
    struct store_list *ans)
{
	struct pgp	 p = { 0 };
	PGresult	*res;
	char		 from[ID_LEN + 2];
	size_t		 len;
	int		 i, n, bad = 0;

	/* Copy first: after may point into the previous page in ans. */
	len = after == NULL ? 0 : strnlen(after, ID_LEN + 1);
	if (len > 0)
		memcpy(from, after, len);
	from[len] = '\0';
	ans->sl_n = 0;
	ans->sl_more = 0;
	memset(ans->sl_e, 0, sizeof(ans->sl_e));
	pgp_str(&p, from, ID_LEN);
	/* One row past the page tells whether there are more. */
	pgp_int(&p, LIST_MAX + 1);
	if ((res = pg_exec(st->st_engine, "SELECT id, project FROM instances "
	    "WHERE id > $1::text ORDER BY id LIMIT $2::bigint", &p,
	    NULL)) == NULL)
		return STORE_ERR;
	n = PQntuples(res);
	if (n > LIST_MAX) {
		ans->sl_more = 1;
		n = LIST_MAX;
	}
	for (i = 0; !bad && i < n; i++)
		bad = pg_col_str(res, i, 0, ans->sl_e[i].id,
		    sizeof(ans->sl_e[0].id)) == -1 ||
		    pg_col_str(res, i, 1, ans->sl_e[i].project,
		    sizeof(ans->sl_e[0].project)) == -1;
	PQclear(res);
	if (bad) {
		log_warnx("store postgresql: malformed stored instance");
		ans->sl_more = 0;
		memset(ans->sl_e, 0, sizeof(ans->sl_e));
		return STORE_ERR;
	}
	ans->sl_n = (uint32_t)n;
	return STORE_OK;
}

/*
 * Set-once across nodes: chunk 0 goes in with ON CONFLICT DO NOTHING in
 * the transaction that holds the rest.  A node racing on the same
 * instance waits on the primary key until the first commits, then
 * inserts nothing: exactly one of them gets STORE_OK.
 */
static int
pg_pw_put_if_absent(struct store *st, const char *id,
    const struct store_pw *pw)
{
	struct pg			*pg = st->st_engine;
	const struct store_sealed	*c;
	struct pgp			 p;
	int64_t				 n;
	uint32_t			 i;
	int				 nested, rc, r = STORE_ERR;

	if (!store_pw_ok(pw))
		return STORE_ERR;
	if (pg_tx_begin(pg, &nested) == -1)
		return STORE_ERR;
	if ((rc = pg_exists(pg, id)) != 1) {
		r = rc == 0 ? STORE_NOTFOUND : STORE_ERR;
		goto out;
	}
	for (i = 0; i < pw->sp_nchunks; i++) {
		c = &pw->sp_chunk[i];
		memset(&p, 0, sizeof(p));
		pgp_str(&p, id, ID_LEN);
		pgp_int(&p, i);
		pgp_int(&p, pw->sp_nchunks);
		pgp_int(&p, c->ss_key_id);
		pgp_bin(&p, c->ss_nonce, sizeof(c->ss_nonce));
		pgp_bin(&p, c->ss_ct, c->ss_len);
		pgp_bin(&p, pw->sp_fp, sizeof(pw->sp_fp));
		pgp_int(&p, pw->sp_set_at);
		pgp_int(&p, pw->sp_kind);
		pgp_int(&p, c->ss_format);
		n = pg_changes(pg, "INSERT INTO password_chunks (instance_id, "
		    "idx, count, key_id, nonce, sealed, fingerprint, set_at, "
		    "kind, seal_format) VALUES ($1::text, $2::bigint, "
		    "$3::bigint, $4::bigint, $5::bytea, $6::bytea, $7::bytea, "
		    "$8::bigint, $9::bigint, $10::bigint) ON CONFLICT DO "
		    "NOTHING", &p, NULL);
		if (n == 0 && i == 0)
			r = STORE_CONFLICT;
		if (n != 1)
			goto out;
	}
	/* Told to every listening node when, and only if, it commits. */
	memset(&p, 0, sizeof(p));
	pgp_str(&p, id, ID_LEN);
	if (pg_run(pg, "SELECT pg_notify('" PG_CHANNEL "', $1::text)",
	    &p) == -1)
		goto out;
	if (pg_tx_commit(pg, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		pg_tx_abort(pg, nested);
	return r;
}

/*
 * The n rows from row0 must be idx 0..count-1, all agreeing on count;
 * from column off.
 */
static int
pg_pw_rows(const PGresult *res, int row0, int n, int off,
    struct store_pw *pw)
{
	struct store_sealed	*c;
	int64_t			 idx, count, key_id, set_at, kind, format;
	size_t			 len;
	int			 i, row;

	if (n > PW_CHUNKS)
		return -1;
	for (i = 0; i < n; i++) {
		row = row0 + i;
		c = &pw->sp_chunk[i];
		if (pg_col_int(res, row, off + 0, i, i, &idx) == -1 ||
		    pg_col_int(res, row, off + 1, 1, PW_CHUNKS, &count) == -1 ||
		    (i > 0 && count != pw->sp_nchunks) ||
		    pg_col_int(res, row, off + 2, 0, UINT32_MAX,
		    &key_id) == -1 ||
		    pg_col_int(res, row, off + 6, INT64_MIN, INT64_MAX,
		    &set_at) == -1 ||
		    pg_col_int(res, row, off + 8, SEAL_FORMAT_V1,
		    SEAL_FORMAT_V2, &format) == -1 ||
		    pg_col_blob(res, row, off + 3, c->ss_nonce, SEAL_NONCE_LEN,
		    SEAL_NONCE_LEN, &len) == -1 ||
		    pg_col_blob(res, row, off + 4, c->ss_ct, SEAL_TAG_LEN,
		    PW_CHUNK_LEN + SEAL_TAG_LEN, &len) == -1)
			return -1;
		c->ss_len = (uint32_t)len;
		c->ss_key_id = (uint32_t)key_id;
		c->ss_format = (uint32_t)format;
		if (i == 0) {
			pw->sp_nchunks = (uint32_t)count;
			pw->sp_set_at = set_at;
			if (pg_col_int(res, row, off + 7, PW_KIND_VALUE,
			    PW_KIND_VERIFIER, &kind) == -1 ||
			    pg_col_blob(res, row, off + 5, pw->sp_fp, FP_LEN,
			    FP_LEN, &len) == -1)
				return -1;
			pw->sp_kind = (uint32_t)kind;
		}
	}
	return (uint32_t)n == pw->sp_nchunks ? 0 : -1;
}

/* lock: FOR UPDATE, for a read that removes what it read. */
static int
pg_pw_read(struct pg *pg, const char *id, struct store_pw *pw, int lock)
{
	struct pgp	 p = { 0 };
	PGresult	*res;
	int		 r = STORE_OK;

	memset(pw, 0, sizeof(*pw));
	pgp_str(&p, id, ID_LEN);
	if ((res = pg_exec(pg, lock ? "SELECT idx, count, key_id, nonce, "
	    "sealed, fingerprint, set_at, kind, seal_format FROM "
	    "password_chunks WHERE instance_id = $1::text ORDER BY idx FOR "
	    "UPDATE" : "SELECT idx, count, key_id, nonce, sealed, "
	    "fingerprint, set_at, kind, seal_format FROM password_chunks "
	    "WHERE instance_id = $1::text ORDER BY idx", &p, NULL)) == NULL)
		return STORE_ERR;
	if (PQntuples(res) == 0)
		r = STORE_NOTFOUND;
	else if (pg_pw_rows(res, 0, PQntuples(res), 0, pw) == -1) {
		log_warnx("store postgresql: instance %.*s: stored password "
		    "has a malformed shape", ID_LEN, id);
		r = STORE_ERR;
	}
	PQclear(res);
	if (r != STORE_OK)
		memset(pw, 0, sizeof(*pw));
	return r;
}

static int
pg_pw_get(struct store *st, const char *id, struct store_pw *pw)
{
	return pg_pw_read(st->st_engine, id, pw, 0);
}

/* Clearing also records when, which reopens a post_window. */
static int
pg_pw_del(struct store *st, const char *id)
{
	struct pg	*pg = st->st_engine;
	struct pgp	 p = { 0 };
	int		 nested, rc, r = STORE_ERR;

	if (pg_tx_begin(pg, &nested) == -1)
		return STORE_ERR;
	if ((rc = pg_exists(pg, id)) != 1) {
		r = rc == 0 ? STORE_NOTFOUND : STORE_ERR;
		goto out;
	}
	pgp_str(&p, id, ID_LEN);
	pgp_int(&p, (int64_t)time(NULL));
	if (pg_run(pg, "DELETE FROM password_chunks WHERE instance_id = "
	    "$1::text AND $2::bigint IS NOT NULL", &p) == -1 ||
	    pg_run(pg, "UPDATE instances SET cleared = $2::bigint WHERE "
	    "id = $1::text", &p) == -1 || pg_tx_commit(pg, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		pg_tx_abort(pg, nested);
	return r;
}

static int
pg_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	PGresult	*res;
	int64_t		 a, b;
	int		 bad;

	/* Kept by triggers (schema 3): a count(*) would take O(n). */
	if ((res = pg_exec(st->st_engine, "SELECT coalesce(sum(instances), "
	    "0)::bigint, coalesce(sum(passwords), 0)::bigint FROM counts",
	    NULL, NULL)) == NULL)
		return STORE_ERR;
	bad = PQntuples(res) != 1 ||
	    pg_col_int(res, 0, 0, 0, UINT32_MAX, &a) == -1 ||
	    pg_col_int(res, 0, 1, 0, UINT32_MAX, &b) == -1;
	PQclear(res);
	if (bad)
		return STORE_ERR;
	*instances = (uint32_t)a;
	*passwords = (uint32_t)b;
	return STORE_OK;
}

static int
pg_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	PGresult	*res;
	int64_t		 id, cnt;
	int		 i, rows, bad = 0;

	*n = 0;
	if ((res = pg_exec(st->st_engine, "SELECT key_id, count(DISTINCT "
	    "instance_id) FROM password_chunks GROUP BY key_id ORDER BY "
	    "key_id", NULL, NULL)) == NULL)
		return STORE_ERR;
	rows = PQntuples(res);
	if ((size_t)rows > max)
		bad = 1;
	for (i = 0; !bad && i < rows; i++) {
		bad = pg_col_int(res, i, 0, 0, UINT32_MAX, &id) == -1 ||
		    pg_col_int(res, i, 1, 0, UINT32_MAX, &cnt) == -1;
		kc[i].kc_id = (uint32_t)id;
		kc[i].kc_records = (uint32_t)cnt;
	}
	PQclear(res);
	if (bad)
		return STORE_ERR;
	*n = (size_t)rows;
	return STORE_OK;
}

/*
 * Append the rows of res, column 0 an instance id and (with set_at)
 * column 1 a time, to ids; at most max in all, *n counts them.
 */
static int
pg_collect_ids(PGresult *res, char (*ids)[ID_LEN + 1], int64_t *set_at,
    size_t max, size_t *n)
{
	int	i, rows = PQntuples(res), bad = 0;

	for (i = 0; !bad && i < rows; i++) {
		bad = *n == max ||
		    pg_col_str(res, i, 0, ids[*n], ID_LEN + 1) == -1 ||
		    (set_at != NULL && pg_col_int(res, i, 1, INT64_MIN,
		    INT64_MAX, &set_at[*n]) == -1);
		if (!bad)
			(*n)++;
	}
	PQclear(res);
	return bad ? STORE_ERR : STORE_OK;
}

/* Instances with a chunk sealed by a key older than newest, in id order. */
static int
pg_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	struct pgp	 p = { 0 };
	PGresult	*res;

	*n = 0;
	pgp_int(&p, newest);
	pgp_str(&p, after, ID_LEN);
	pgp_int(&p, (int64_t)max);
	pgp_int(&p, SEAL_FORMAT_V2);
	/* An older key, or an older seal format. */
	if ((res = pg_exec(st->st_engine, "SELECT DISTINCT instance_id FROM "
	    "password_chunks WHERE (key_id < $1::bigint OR seal_format < "
	    "$4::bigint) AND instance_id > $2::text ORDER BY instance_id "
	    "LIMIT $3::bigint", &p, NULL)) == NULL)
		return STORE_ERR;
	return pg_collect_ids(res, ids, NULL, max, n);
}

/*
 * Replace every chunk of a value with its re-sealed form, all or none, and
 * only if the value is still the one that was read (else STORE_CONFLICT).
 */
static int
pg_pw_rewrap(struct store *st, const char *id, const struct store_pw *old,
    const struct store_pw *new)
{
	struct pg			*pg = st->st_engine;
	const struct store_sealed	*o, *c;
	struct pgp			 p;
	int64_t				 n;
	uint32_t			 i;
	int				 nested, r = STORE_ERR;

	if (old->sp_nchunks != new->sp_nchunks || new->sp_nchunks < 1 ||
	    new->sp_nchunks > PW_CHUNKS)
		return STORE_ERR;
	if (pg_tx_begin(pg, &nested) == -1)
		return STORE_ERR;
	for (i = 0; i < new->sp_nchunks; i++) {
		o = &old->sp_chunk[i];
		c = &new->sp_chunk[i];
		memset(&p, 0, sizeof(p));
		pgp_str(&p, id, ID_LEN);
		pgp_int(&p, i);
		pgp_int(&p, c->ss_key_id);
		pgp_bin(&p, c->ss_nonce, sizeof(c->ss_nonce));
		pgp_bin(&p, c->ss_ct, c->ss_len);
		pgp_int(&p, o->ss_key_id);
		pgp_bin(&p, o->ss_nonce, sizeof(o->ss_nonce));
		pgp_int(&p, c->ss_format);
		if ((n = pg_changes(pg, "UPDATE password_chunks SET key_id = "
		    "$3::bigint, nonce = $4::bytea, sealed = $5::bytea, "
		    "seal_format = $8::bigint WHERE instance_id = $1::text AND "
		    "idx = $2::bigint AND key_id = $6::bigint AND nonce = "
		    "$7::bytea", &p, NULL)) == -1)
			goto out;
		if (n != 1) {
			r = STORE_CONFLICT;
			goto out;
		}
	}
	if (pg_tx_commit(pg, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		pg_tx_abort(pg, nested);
	return r;
}

/* Delete a value that outlived its TTL, unless it was replaced since. */
static int
pg_pw_expire(struct store *st, const char *id, int64_t set_at)
{
	struct pgp	p = { 0 };
	int64_t		n;

	pgp_str(&p, id, ID_LEN);
	pgp_int(&p, set_at);
	if ((n = pg_changes(st->st_engine, "DELETE FROM password_chunks "
	    "WHERE instance_id = $1::text AND set_at = $2::bigint", &p,
	    NULL)) == -1)
		return STORE_ERR;
	return n > 0 ? STORE_OK : STORE_NOTFOUND;
}

/* Values due to expire at now, by instance TTL, then the default ttl. */
static int
pg_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	struct pgp	 p = { 0 };
	PGresult	*res;

	*n = 0;
	pgp_int(&p, now);
	pgp_int(&p, (int64_t)max);
	if ((res = pg_exec(st->st_engine, "SELECT p.instance_id, p.set_at "
	    "FROM instances i JOIN password_chunks p ON p.instance_id = i.id "
	    "AND p.idx = 0 WHERE i.pw_ttl > 0 AND p.set_at + i.pw_ttl <= "
	    "$1::bigint LIMIT $2::bigint", &p, NULL)) == NULL ||
	    pg_collect_ids(res, ids, set_at, max, n) != STORE_OK)
		return STORE_ERR;
	if (ttl <= 0 || *n == max)
		return STORE_OK;
	memset(&p, 0, sizeof(p));
	pgp_int(&p, now);
	pgp_int(&p, ttl);
	pgp_int(&p, (int64_t)(max - *n));
	if ((res = pg_exec(st->st_engine, "SELECT p.instance_id, p.set_at "
	    "FROM password_chunks p JOIN instances i ON i.id = p.instance_id "
	    "WHERE p.idx = 0 AND p.set_at <= $1::bigint - $2::bigint AND "
	    "i.pw_ttl = 0 LIMIT $3::bigint", &p, NULL)) == NULL)
		return STORE_ERR;
	return pg_collect_ids(res, ids, set_at, max, n);
}

/*
 * One-time read: the value is locked as it is read and removed in the
 * same transaction, so of two readers on any nodes exactly one gets it.
 * No value: STORE_OK with no chunks.
 */
static int
pg_pw_take(struct store *st, const char *id, struct store_pw *pw)
{
	struct pg	*pg = st->st_engine;
	int		 nested, r;

	if (pg_tx_begin(pg, &nested) == -1)
		return STORE_ERR;
	r = pg_pw_read(pg, id, pw, 1);
	if (r == STORE_NOTFOUND) {
		memset(pw, 0, sizeof(*pw));
		r = pg_exists(pg, id);
		r = r == 1 ? STORE_OK : r == 0 ? STORE_NOTFOUND : STORE_ERR;
	} else if (r == STORE_OK && pg_pw_del(st, id) != STORE_OK)
		r = STORE_ERR;
	if (r != STORE_ERR && pg_tx_commit(pg, nested) == 0)
		return r;
	pg_tx_abort(pg, nested);
	memset(pw, 0, sizeof(*pw));
	return STORE_ERR;
}

/* What libpq has read of what was told, up to max in all. */
static void
pg_told(struct pg *pg, char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	PGnotify	*nf;

	while (*n < max && (nf = PQnotifies(pg->pg_conn)) != NULL) {
		if (strcmp(nf->relname, PG_CHANNEL) == 0 &&
		    strnlen(nf->extra, ID_LEN + 1) <= ID_LEN)
			memcpy(ids[(*n)++], nf->extra, strlen(nf->extra) + 1);
		PQfreemem(nf);
	}
}

/*
 * The listening connection: LISTEN on a new one (1: what committed
 * before it was not told), then whatever was told within ms.  A payload
 * that is not an instance id is dropped.
 */
static int
pg_notified(struct store *st, int ms, char (*ids)[ID_LEN + 1], size_t max,
    size_t *n)
{
	struct pg	*pg = st->st_engine;
	struct pollfd	 pfd;
	int		 fresh = 0;

	if (!pg->pg_listening || pg->pg_conn == NULL ||
	    PQstatus(pg->pg_conn) != CONNECTION_OK) {
		if (pg_run(pg, "LISTEN " PG_CHANNEL, NULL) == -1)
			return -1;
		pg->pg_listening = fresh = 1;
	}
	pg_told(pg, ids, max, n);
	if (*n > 0)
		return fresh;
	pfd.fd = PQsocket(pg->pg_conn);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
		return fresh;
	if (!PQconsumeInput(pg->pg_conn)) {
		pg_log_conn("listen", pg->pg_conn);
		pg->pg_listening = 0;
		return -1;
	}
	pg_told(pg, ids, max, n);
	return fresh;
}
