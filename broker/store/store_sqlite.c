/* SPDX-License-Identifier: ISC */
/*
 * The embedded store engine: one SQLite file in WAL mode with
 * synchronous=FULL, so a committed transaction is on disk when COMMIT
 * returns.  Every statement is prepared once at open.  Logs name the file,
 * an instance id or SQLite's own message, never a value or ciphertext.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "privsep/log.h"
#include "store.h"

#define SQ_SCHEMA_VERSION	7
#define SQ_STR(x)		#x
#define SQ_XSTR(x)		SQ_STR(x)
#define SQ_BUSY_MS		5000
/*
 * The page cache of the connection that writes batches, in KiB.  It is
 * the only writer, so what it caches stays valid from one commit to the
 * next, and a bulk registration touches the id indexes at random.  The
 * others keep SQLite's default: every commit elsewhere empties theirs.
 */
#define SQ_WRITER_CACHE_KIB	32768

enum sq_stmt {
	SQ_BEGIN,
	SQ_BEGIN_IMMEDIATE,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_SAVEPOINT,
	SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_INST_CREATED,
	SQ_INST_INSERT,
	SQ_INST_UPDATE,
	SQ_INST_GET,
	SQ_INST_CLEARED,
	SQ_INST_HEAD_BY_ADDR,
	SQ_PW_EXPIRE,
	SQ_PW_EXPIRED_OWN,
	SQ_PW_EXPIRED_DEF,
	SQ_INST_DEL,
	SQ_INST_LIST,
	SQ_ADDR_DEL,
	SQ_ADDR_INSERT,
	SQ_ADDR_LIST,
	SQ_ADDR_UNSCOPED,
	SQ_KEY_DEL,
	SQ_KEY_INSERT,
	SQ_KEY_LIST,
	SQ_PW_INSERT,
	SQ_PW_GET,
	SQ_PW_DEL,
	SQ_COUNTS,
	SQ_KEY_COUNTS,
	SQ_PW_OLDER,
	SQ_PW_REWRAP,
	SQ_NSTMT
};

static const char *const sq_sql[SQ_NSTMT] = {
	[SQ_BEGIN] = "BEGIN",
	[SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_SAVEPOINT] = "SAVEPOINT w",
	[SQ_RELEASE] = "RELEASE w",
	[SQ_ROLLBACK_TO] = "ROLLBACK TO w",
	[SQ_INST_CREATED] = "SELECT created FROM instances WHERE id = ?1",
	/*
	 * OR IGNORE: an instance registered before is updated instead
	 * (sqlite3_changes tells), and a statement that cannot abort half
	 * way needs no statement journal, which its trigger would.
	 */
	[SQ_INST_INSERT] = "INSERT OR IGNORE INTO instances (id, project, "
	    "hostname, created, pw_ttl, one_time, pw_mode) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_INST_UPDATE] = "UPDATE instances SET project = ?2, hostname = ?3, "
	    "pw_ttl = ?5, one_time = ?6, pw_mode = ?7 WHERE id = ?1",
	[SQ_INST_GET] = "SELECT id, project, hostname, created, cleared, "
	    "pw_ttl, one_time, pw_mode FROM instances WHERE id = ?1",
	[SQ_INST_HEAD_BY_ADDR] = "SELECT i.id, i.project, i.hostname, "
	    "i.created, i.cleared, i.pw_ttl, i.one_time, i.pw_mode FROM "
	    "instance_addresses a JOIN instances i ON i.id = a.instance_id "
	    "WHERE a.addr = ?1",
	[SQ_PW_EXPIRE] = "DELETE FROM password_chunks WHERE instance_id = ?1 "
	    "AND set_at = ?2",
	/*
	 * Values older than their instance's TTL, then than the default TTL
	 * ?2.  Each walks an index of what may expire (schema 5), not every
	 * value: the sweep runs on the event loop.
	 */
	[SQ_PW_EXPIRED_OWN] = "SELECT p.instance_id, p.set_at FROM instances "
	    "i INDEXED BY instances_with_ttl JOIN password_chunks p ON "
	    "p.instance_id = i.id AND p.idx = 0 WHERE i.pw_ttl > 0 AND "
	    "p.set_at + i.pw_ttl <= ?1 LIMIT ?3",
	[SQ_PW_EXPIRED_DEF] = "SELECT p.instance_id, p.set_at FROM "
	    "password_chunks p INDEXED BY password_chunks_by_set_at JOIN "
	    "instances i ON i.id = p.instance_id WHERE p.idx = 0 AND "
	    "p.set_at <= ?1 - ?2 AND i.pw_ttl = 0 LIMIT ?3",
	[SQ_INST_CLEARED] = "UPDATE instances SET cleared = ?2 WHERE id = ?1",
	[SQ_INST_DEL] = "DELETE FROM instances WHERE id = ?1",
	[SQ_INST_LIST] = "SELECT id, project FROM instances WHERE id > ?1 "
	    "ORDER BY id LIMIT ?2",
	[SQ_ADDR_DEL] = "DELETE FROM instance_addresses WHERE instance_id = ?1",
	[SQ_ADDR_INSERT] = "INSERT INTO instance_addresses (addr, "
	    "instance_id, pos) VALUES (?1, ?2, ?3)",
	/* fe80::/10 is fe80: to febf:, four digits; no '%': no interface. */
	[SQ_ADDR_UNSCOPED] = "SELECT addr, instance_id FROM "
	    "instance_addresses WHERE addr >= 'fe80' AND addr < 'fec0' AND "
	    "instr(addr, ':') = 5 AND instr(addr, '%') = 0 ORDER BY addr "
	    "LIMIT ?1",
	[SQ_ADDR_LIST] = "SELECT addr FROM instance_addresses "
	    "WHERE instance_id = ?1 ORDER BY pos",
	[SQ_KEY_DEL] = "DELETE FROM instance_keys WHERE instance_id = ?1",
	[SQ_KEY_INSERT] = "INSERT INTO instance_keys (instance_id, pos, name, "
	    "data) VALUES (?1, ?2, ?3, ?4)",
	[SQ_KEY_LIST] = "SELECT name, data FROM instance_keys "
	    "WHERE instance_id = ?1 ORDER BY pos",
	[SQ_PW_INSERT] = "INSERT INTO password_chunks (instance_id, idx, "
	    "count, key_id, nonce, sealed, fingerprint, set_at, kind, "
	    "seal_format) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[SQ_PW_GET] = "SELECT idx, count, key_id, nonce, sealed, fingerprint, "
	    "set_at, kind, seal_format FROM password_chunks WHERE "
	    "instance_id = ?1 ORDER BY idx",
	[SQ_PW_DEL] = "DELETE FROM password_chunks WHERE instance_id = ?1",
	/* Kept by triggers (schema 7): counting rows would take O(n). */
	[SQ_COUNTS] = "SELECT instances, passwords FROM counts",
	[SQ_KEY_COUNTS] = "SELECT key_id, count(DISTINCT instance_id) "
	    "FROM password_chunks GROUP BY key_id ORDER BY key_id",
	/* An older key, or an older seal format. */
	[SQ_PW_OLDER] = "SELECT DISTINCT instance_id FROM password_chunks "
	    "WHERE (key_id < ?1 OR seal_format < " SQ_XSTR(SEAL_FORMAT_V2)
	    ") AND instance_id > ?2 ORDER BY instance_id LIMIT ?3",
	/* Only the chunk that was read: a clear or a new value wins. */
	[SQ_PW_REWRAP] = "UPDATE password_chunks SET key_id = ?3, nonce = ?4, "
	    "sealed = ?5, seal_format = ?8 WHERE instance_id = ?1 AND "
	    "idx = ?2 AND key_id = ?6 AND nonce = ?7",
};

/* sq_migrate[v] takes the schema from version v to v + 1. */
static const char *const sq_migrate[SQ_SCHEMA_VERSION] = {
	"CREATE TABLE instances ("
	"  id TEXT PRIMARY KEY,"
	"  project TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE instance_addresses ("
	"  addr TEXT PRIMARY KEY,"
	"  instance_id TEXT NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL);"
	"CREATE INDEX instance_addresses_by_instance"
	"  ON instance_addresses (instance_id);"
	"CREATE TABLE instance_keys ("
	"  instance_id TEXT NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  PRIMARY KEY (instance_id, pos));"
	"CREATE TABLE password_chunks ("
	"  instance_id TEXT NOT NULL"
	"    REFERENCES instances(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL,"
	"  nonce BLOB NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  fingerprint BLOB NOT NULL,"
	"  set_at INTEGER NOT NULL,"
	"  PRIMARY KEY (instance_id, idx));",
	/* 2: when the password was last cleared, for post_window. */
	"ALTER TABLE instances ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;",
	/* 3: per-instance expiry and one-time read (0: the default). */
	"ALTER TABLE instances ADD COLUMN pw_ttl INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE instances ADD COLUMN one_time INTEGER NOT NULL "
	"DEFAULT 0;",
	/* 4: verifier mode: what a stored record is, and per-instance mode. */
	"ALTER TABLE password_chunks ADD COLUMN kind INTEGER NOT NULL "
	"DEFAULT 0;"
	"ALTER TABLE instances ADD COLUMN pw_mode INTEGER NOT NULL DEFAULT 0;",
	/* 5: the expiry sweep visits only what may expire. */
	"CREATE INDEX instances_with_ttl ON instances (pw_ttl) "
	"WHERE pw_ttl > 0;"
	"CREATE INDEX password_chunks_by_set_at ON password_chunks (set_at) "
	"WHERE idx = 0;",
	/* 6: what a chunk's seal binds (SEAL_FORMAT_*); older rows are v1. */
	("ALTER TABLE password_chunks ADD COLUMN seal_format INTEGER NOT NULL "
	"DEFAULT 1;"),
	/*
	 * 7: the counts, kept in the transactions that change them, so that
	 * reading them (the event loop does, for /status and /metrics) costs
	 * one row, not a scan.  A value is counted by its chunk 0.
	 */
	"CREATE TABLE counts ("
	"  instances INTEGER NOT NULL,"
	"  passwords INTEGER NOT NULL);"
	"INSERT INTO counts SELECT (SELECT count(*) FROM instances), "
	"  (SELECT count(*) FROM password_chunks WHERE idx = 0);"
	"CREATE TRIGGER instances_counted_in AFTER INSERT ON instances "
	"  BEGIN UPDATE counts SET instances = instances + 1; END;"
	"CREATE TRIGGER instances_counted_out AFTER DELETE ON instances "
	"  BEGIN UPDATE counts SET instances = instances - 1; END;"
	"CREATE TRIGGER passwords_counted_in AFTER INSERT ON password_chunks "
	"  WHEN NEW.idx = 0 "
	"  BEGIN UPDATE counts SET passwords = passwords + 1; END;"
	"CREATE TRIGGER passwords_counted_out AFTER DELETE ON password_chunks "
	"  WHEN OLD.idx = 0 "
	"  BEGIN UPDATE counts SET passwords = passwords - 1; END;",
};

/* Each setting is read back: a silent no-op would void a promise. */
static const struct {
	const char	*set;
	const char	*get;
	const char	*want;
} sq_pragmas[] = {
	{ "PRAGMA journal_mode = WAL", "PRAGMA journal_mode", "wal" },
	{ "PRAGMA synchronous = FULL", "PRAGMA synchronous", "2" },
	{ "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1" },
	/* Savepoint journals in memory: no temp file per transaction. */
	{ "PRAGMA temp_store = MEMORY", "PRAGMA temp_store", "2" },
};

struct sq {
	sqlite3		*sq_db;
	char		*sq_path;
	sqlite3_stmt	*sq_st[SQ_NSTMT];
	int		 sq_reading;	/* a read snapshot is open */
	int		 sq_batching;	/* has begun a batch: the writer */
};

static void	sq_close(struct store *);
static int	sq_put_begin(struct store *, int *);
static int	sq_put_commit(struct store *, int);
static void	sq_put_abort(struct store *, int);
static int	sq_instance_write(struct store *, const struct store_inst *,
		    int *);
static int	sq_instance_row(struct sq *, enum sq_stmt,
		    const struct store_inst *, int64_t);
static int	sq_instance_get(struct store *, const char *,
		    struct store_inst *);
static int	sq_instance_del(struct store *, const char *);
static int	sq_instance_list(struct store *, const char *,
		    struct store_list *);
static int	sq_pw_put_if_absent(struct store *, const char *,
		    const struct store_pw *);
static int	sq_pw_get(struct store *, const char *, struct store_pw *);
static int	sq_pw_del(struct store *, const char *);
static int	sq_counts(struct store *, uint32_t *, uint32_t *);
static int	sq_key_counts(struct store *, struct store_keycount *, size_t,
		    size_t *);
static int	sq_pw_older(struct store *, uint32_t, const char *,
		    char (*)[ID_LEN + 1], size_t, size_t *);
static int	sq_pw_rewrap(struct store *, const char *,
		    const struct store_pw *, const struct store_pw *);
static int	sq_pw_expire(struct store *, const char *, int64_t);
static int	sq_pw_expired(struct store *, int64_t, int64_t,
		    char (*)[ID_LEN + 1], int64_t *, size_t, size_t *);
static int	sq_pw_take(struct store *, const char *, struct store_pw *);
static int	sq_head_row(sqlite3_stmt *, struct store_inst *);
static int	sq_instance_head(struct store *, const char *, int,
		    struct store_inst *);
static int	sq_addr_unscoped(struct store *, struct store_addr *, size_t,
		    size_t *);
static int	sq_batch_begin(struct store *);
static int	sq_batch_commit(struct store *);
static int	sq_batch_active(struct store *);
static void	sq_read_end(struct store *);

static const struct store_ops sq_ops = {
	.name = "sqlite",
	.close = sq_close,
	.put_begin = sq_put_begin,
	.put_write = sq_instance_write,
	.put_commit = sq_put_commit,
	.put_abort = sq_put_abort,
	.instance_get = sq_instance_get,
	.instance_del = sq_instance_del,
	.instance_list = sq_instance_list,
	.pw_put_if_absent = sq_pw_put_if_absent,
	.pw_get = sq_pw_get,
	.pw_del = sq_pw_del,
	.counts = sq_counts,
	.key_counts = sq_key_counts,
	.pw_older = sq_pw_older,
	.pw_rewrap = sq_pw_rewrap,
	.pw_expire = sq_pw_expire,
	.pw_expired = sq_pw_expired,
	.pw_take = sq_pw_take,
	.instance_head = sq_instance_head,
	.addr_unscoped = sq_addr_unscoped,
	.batch_begin = sq_batch_begin,
	.batch_commit = sq_batch_commit,
	.batch_active = sq_batch_active,
	.read_end = sq_read_end,
};

static void	sq_free(struct sq *);
static int	sq_create_file(const char *);
static int	sq_settings(struct sq *);
static int	sq_schema(struct sq *);
static int	sq_prepare(struct sq *);
static sqlite3_stmt *sq_get(struct sq *, enum sq_stmt);
static void	sq_done(sqlite3_stmt *);
static int	sq_step(struct sq *, sqlite3_stmt *);
static int	sq_run(struct sq *, enum sq_stmt);
static int	sq_run_id(struct sq *, enum sq_stmt, const char *);
static void	sq_rollback(struct sq *);
static struct sq *sq_reader(struct store *);
static void	sq_snapshot_end(struct sq *);
static int	sq_tx_begin(struct sq *, int *);
static int	sq_tx_commit(struct sq *, int);
static void	sq_tx_abort(struct sq *, int);
static int	sq_bind_str(sqlite3_stmt *, int, const char *, size_t);
static int	sq_col_str(sqlite3_stmt *, int, char *, size_t);
static int	sq_col_blob(sqlite3_stmt *, int, uint8_t *, size_t, size_t,
		    size_t *);
static int	sq_col_int(sqlite3_stmt *, int, int64_t, int64_t, int64_t *);
static int	sq_collect_ids(struct sq *, sqlite3_stmt *,
		    char (*)[ID_LEN + 1], int64_t *, size_t, size_t *);
static int	sq_exists(struct sq *, const char *);
static int	sq_fill(struct sq *, const char *, struct store_inst *);

/*
 * Before any connection: no allocation statistics (nothing here reads
 * them), so that SQLite's every malloc and free, a dozen per guest GET
 * (Debian builds it without lookaside), takes no global mutex.  Where
 * SQLite is already in use (a test opened it first) it stays as it is,
 * only slower.
 */
static void
sq_global(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open_sqlite(const char *path)
{
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;
	struct store		*st;
	struct sq		*sq;
	int			 rc;

	(void)pthread_once(&once, sq_global);
	if (sq_create_file(path) == -1)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if ((sq = calloc(1, sizeof(*sq))) == NULL ||
	    (sq->sq_path = strdup(path)) == NULL) {
		log_warn("%s", __func__);
		free(sq);
		free(st);
		return NULL;
	}
	/* No CREATE: the file exists with our mode, or something is wrong. */
	rc = sqlite3_open_v2(path, &sq->sq_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("%s: open: %s", path, sq->sq_db != NULL ?
		    sqlite3_errmsg(sq->sq_db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(sq->sq_db, 1);
	if (sq_settings(sq) == -1 || sq_schema(sq) == -1 ||
	    sq_prepare(sq) == -1)
		goto fail;
	st->st_ops = &sq_ops;
	st->st_engine = sq;
	return st;
 fail:
	sq_free(sq);
	free(st);
	return NULL;
}

/*
 * Create the file 0600 before SQLite sees it: SQLite gives the -wal and
 * -shm files the mode of the database file.
 */
static int
sq_create_file(const char *path)
{
	struct stat	sb;
	int		fd, r = -1;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		log_warn("%s: fstat", path);
	else if (!S_ISREG(sb.st_mode))
		log_warnx("%s: not a regular file", path);
	else if ((sb.st_mode & 077) != 0)
		log_warnx("%s: mode %04o gives access to group or others, "
		    "want 0600", path, (unsigned int)(sb.st_mode & 07777));
	else
		r = 0;
	close(fd);
	return r;
}

static int
sq_settings(struct sq *sq)
{
	sqlite3_stmt	*s;
	const char	*v;
	size_t		 i;
	int		 ok;

	if (sqlite3_busy_timeout(sq->sq_db, SQ_BUSY_MS) != SQLITE_OK) {
		log_warnx("%s: busy_timeout: %s", sq->sq_path,
		    sqlite3_errmsg(sq->sq_db));
		return -1;
	}
	for (i = 0; i < sizeof(sq_pragmas) / sizeof(sq_pragmas[0]); i++) {
		if (sqlite3_exec(sq->sq_db, sq_pragmas[i].set, NULL, NULL,
		    NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(sq->sq_db, sq_pragmas[i].get, -1, &s,
		    NULL) != SQLITE_OK) {
			log_warnx("%s: %s: %s", sq->sq_path, sq_pragmas[i].set,
			    sqlite3_errmsg(sq->sq_db));
			return -1;
		}
		ok = sqlite3_step(s) == SQLITE_ROW &&
		    (v = (const char *)sqlite3_column_text(s, 0)) != NULL &&
		    strcmp(v, sq_pragmas[i].want) == 0;
		sqlite3_finalize(s);
		if (!ok) {
			log_warnx("%s: %s did not take effect", sq->sq_path,
			    sq_pragmas[i].set);
			return -1;
		}
	}
	return 0;
}

static int
sq_schema(struct sq *sq)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 v = 0;
	int		 rc;

	if (sqlite3_exec(sq->sq_db, "BEGIN IMMEDIATE; "
	    "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sq->sq_db, "SELECT max(version) FROM "
	    "schema_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		goto dberr;
	rc = sqlite3_column_type(s, 0);
	if (rc == SQLITE_INTEGER)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if ((rc != SQLITE_INTEGER && rc != SQLITE_NULL) || v < 0) {
		log_warnx("%s: malformed schema_version", sq->sq_path);
		goto fail;
	}
	if (v > SQ_SCHEMA_VERSION) {
		log_warnx("%s: schema version %lld is newer than this sealmd "
		    "knows (%d)", sq->sq_path, (long long)v,
		    SQ_SCHEMA_VERSION);
		goto fail;
	}
	if (v < SQ_SCHEMA_VERSION) {
		for (; v < SQ_SCHEMA_VERSION; v++)
			if (sqlite3_exec(sq->sq_db, sq_migrate[v], NULL, NULL,
			    NULL) != SQLITE_OK)
				goto dberr;
		if (sqlite3_exec(sq->sq_db, "DELETE FROM schema_version; "
		    "INSERT INTO schema_version (version) VALUES ("
		    SQ_XSTR(SQ_SCHEMA_VERSION) ")", NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto dberr;
	}
	if (sqlite3_exec(sq->sq_db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	return 0;
 dberr:
	log_warnx("%s: schema: %s", sq->sq_path, sqlite3_errmsg(sq->sq_db));
 fail:
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(sq->sq_db))
		(void)sqlite3_exec(sq->sq_db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
sq_prepare(struct sq *sq)
{
	int	i;

	for (i = 0; i < SQ_NSTMT; i++) {
		if (sqlite3_prepare_v3(sq->sq_db, sq_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &sq->sq_st[i], NULL) !=
		    SQLITE_OK) {
			log_warnx("%s: prepare: %s", sq->sq_path,
			    sqlite3_errmsg(sq->sq_db));
			return -1;
		}
	}
	return 0;
}

static void
sq_free(struct sq *sq)
{
	int	i;

	for (i = 0; i < SQ_NSTMT; i++)
		sqlite3_finalize(sq->sq_st[i]);
	if (sq->sq_db != NULL && sqlite3_close(sq->sq_db) != SQLITE_OK)
		log_warnx("%s: close: %s", sq->sq_path,
		    sqlite3_errmsg(sq->sq_db));
	free(sq->sq_path);
	free(sq);
}

static void
sq_close(struct store *st)
{
	sq_snapshot_end(st->st_engine);
	sq_free(st->st_engine);
	free(st);
}

/* Statements are always clean here: every use ends with sq_done. */
static sqlite3_stmt *
sq_get(struct sq *sq, enum sq_stmt which)
{
	return sq->sq_st[which];
}

/* Reset ends the statement's read and drops pointers to caller memory. */
static void
sq_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* One step; SQLITE_ROW and SQLITE_DONE pass, anything else is logged. */
static int
sq_step(struct sq *sq, sqlite3_stmt *s)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_warnx("%s: %s", sq->sq_path, sqlite3_errmsg(sq->sq_db));
	return rc;
}

static int
sq_run(struct sq *sq, enum sq_stmt which)
{
	sqlite3_stmt	*s = sq_get(sq, which);
	int		 rc;

	rc = sq_step(sq, s);
	sq_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A statement on one instance id that returns no rows. */
static int
sq_run_id(struct sq *sq, enum sq_stmt which, const char *id)
{
	sqlite3_stmt	*s = sq_get(sq, which);
	int		 rc;

	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ? SQLITE_ERROR :
	    sq_step(sq, s);
	sq_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* SQLite may already have rolled back by itself, e.g. on SQLITE_FULL. */
static void
sq_rollback(struct sq *sq)
{
	if (!sqlite3_get_autocommit(sq->sq_db))
		(void)sq_run(sq, SQ_ROLLBACK);
}

/*
 * The event loop's reads share one snapshot until store_read_end(), which
 * the broker calls before it sleeps and before it answers any write: WAL
 * takes file locks per transaction, so once per loop turn, not per read.
 * Inside a write transaction a read is simply part of it.
 */
static struct sq *
sq_reader(struct store *st)
{
	struct sq	*sq = st->st_engine;

	if (!sq->sq_reading && sqlite3_get_autocommit(sq->sq_db) &&
	    sq_run(sq, SQ_BEGIN) == 0)
		sq->sq_reading = 1;
	return sq;
}

static void
sq_snapshot_end(struct sq *sq)
{
	if (!sq->sq_reading)
		return;
	sq->sq_reading = 0;
	/* An error inside may already have ended it. */
	if (!sqlite3_get_autocommit(sq->sq_db) && sq_run(sq, SQ_COMMIT) == -1)
		sq_rollback(sq);
}

static void
sq_read_end(struct store *st)
{
	sq_snapshot_end(st->st_engine);
}

/*
 * One write, all or nothing: its own transaction, or a savepoint when the
 * writer thread has a batch open (group commit: one fsync for many).  A
 * read snapshot of the event loop ends first: a write is never part of it.
 */
static int
sq_tx_begin(struct sq *sq, int *nested)
{
	sq_snapshot_end(sq);
	*nested = !sqlite3_get_autocommit(sq->sq_db);
	return sq_run(sq, *nested ? SQ_SAVEPOINT : SQ_BEGIN_IMMEDIATE);
}

static int
sq_tx_commit(struct sq *sq, int nested)
{
	return sq_run(sq, nested ? SQ_RELEASE : SQ_COMMIT);
}

static void
sq_tx_abort(struct sq *sq, int nested)
{
	if (!nested) {
		sq_rollback(sq);
		return;
	}
	/* Only this write: the batch goes on, unless SQLite ended it. */
	if (!sqlite3_get_autocommit(sq->sq_db) &&
	    sq_run(sq, SQ_ROLLBACK_TO) == 0)
		(void)sq_run(sq, SQ_RELEASE);
}

static int
sq_batch_begin(struct store *st)
{
	struct sq	*sq = st->st_engine;

	sq_snapshot_end(sq);
	if (!sq->sq_batching) {
		sq->sq_batching = 1;
		if (sqlite3_exec(sq->sq_db, "PRAGMA cache_size = -"
		    SQ_XSTR(SQ_WRITER_CACHE_KIB), NULL, NULL, NULL) !=
		    SQLITE_OK)
			log_warnx("%s: cache_size: %s", sq->sq_path,
			    sqlite3_errmsg(sq->sq_db));
	}
	return sq_run(sq, SQ_BEGIN_IMMEDIATE) == 0 ? STORE_OK : STORE_ERR;
}

/* Nothing in the batch is on disk until this returns STORE_OK. */
static int
sq_batch_commit(struct store *st)
{
	struct sq	*sq = st->st_engine;

	if (sq_run(sq, SQ_COMMIT) == 0)
		return STORE_OK;
	sq_rollback(sq);
	return STORE_ERR;
}

/* False once SQLite has rolled the batch back by itself (disk full). */
static int
sq_batch_active(struct store *st)
{
	struct sq	*sq = st->st_engine;

	return !sqlite3_get_autocommit(sq->sq_db);
}

/* Bind at most max bytes: a longer string cannot match a stored one. */
static int
sq_bind_str(sqlite3_stmt *s, int col, const char *str, size_t max)
{
	return sqlite3_bind_text(s, col, str, (int)strnlen(str, max + 1),
	    SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/*
 * A column's value, read through sqlite3_value: one call into the
 * statement, not three, per column of every guest read.  The value is
 * unprotected, which only matters to a connection shared by threads;
 * each of ours has one (SQLITE_OPEN_NOMUTEX).
 */
static sqlite3_value *
sq_col(sqlite3_stmt *s, int col, int type)
{
	sqlite3_value	*v;

	v = sqlite3_column_value(s, col);
	return v != NULL && sqlite3_value_type(v) == type ? v : NULL;
}

static int
sq_col_str(sqlite3_stmt *s, int col, char *dst, size_t size)
{
	sqlite3_value		*v;
	const unsigned char	*t;
	int			 n;

	if ((v = sq_col(s, col, SQLITE_TEXT)) == NULL)
		return -1;
	t = sqlite3_value_text(v);
	n = sqlite3_value_bytes(v);
	if (t == NULL || n < 0 || (size_t)n >= size ||
	    memchr(t, '\0', (size_t)n) != NULL)
		return -1;
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
	return 0;
}

static int
sq_col_blob(sqlite3_stmt *s, int col, uint8_t *dst, size_t min, size_t max,
    size_t *len)
{
	sqlite3_value	*v;
	const void	*p;
	int		 n;

	if ((v = sq_col(s, col, SQLITE_BLOB)) == NULL)
		return -1;
	p = sqlite3_value_blob(v);
	n = sqlite3_value_bytes(v);
	if (p == NULL || n < 0 || (size_t)n < min || (size_t)n > max)
		return -1;
	memcpy(dst, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int
sq_col_int(sqlite3_stmt *s, int col, int64_t min, int64_t max, int64_t *v)
{
	sqlite3_value	*sv;

	if ((sv = sq_col(s, col, SQLITE_INTEGER)) == NULL)
		return -1;
	*v = sqlite3_value_int64(sv);
	return *v < min || *v > max ? -1 : 0;
}

/* 1 if the instance exists, 0 if not, -1 on error. */
static int
sq_exists(struct sq *sq, const char *id)
{
	sqlite3_stmt	*s = sq_get(sq, SQ_INST_CREATED);
	int		 rc;

	if (sq_bind_str(s, 1, id, ID_LEN) == -1)
		rc = SQLITE_ERROR;
	else
		rc = sq_step(sq, s);
	sq_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
sq_put_begin(struct store *st, int *nested)
{
	return sq_tx_begin(st->st_engine, nested);
}

static int
sq_put_commit(struct store *st, int nested)
{
	return sq_tx_commit(st->st_engine, nested);
}

static void
sq_put_abort(struct store *st, int nested)
{
	sq_tx_abort(st->st_engine, nested);
}

/* The instance row by the statement which (?4, created, only to insert). */
static int
sq_instance_row(struct sq *sq, enum sq_stmt which,
    const struct store_inst *inst, int64_t when)
{
	sqlite3_stmt	*s = sq_get(sq, which);
	int		 rc;

	if ((which == SQ_INST_INSERT &&
	    sqlite3_bind_int64(s, 4, when) != SQLITE_OK) ||
	    sq_bind_str(s, 1, inst->ri_id, ID_LEN) == -1 ||
	    sq_bind_str(s, 2, inst->ri_project, PROJECT_MAX) == -1 ||
	    sq_bind_str(s, 3, inst->ri_hostname, HOSTNAME_MAX) == -1 ||
	    sqlite3_bind_int64(s, 5, inst->ri_pw_ttl) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, inst->ri_one_time) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, inst->ri_mode) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sq_step(sq, s);
	sq_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A registration's rows, in the transaction or savepoint the caller
 * holds, which undoes them all when this fails: an address another
 * instance holds (STORE_CONFLICT) shows only as it is inserted.  Two
 * statements for a new instance of one address, and no lookup before.
 */
static int
sq_instance_write(struct store *st, const struct store_inst *inst,
    int *created)
{
	struct sq	*sq = st->st_engine;
	sqlite3_stmt	*s;
	int64_t		 when;
	uint32_t	 i;
	int		 rc, isnew;

	when = inst->ri_created != 0 ? inst->ri_created : (int64_t)time(NULL);
	if (sq_instance_row(sq, SQ_INST_INSERT, inst, when) == -1)
		return STORE_ERR;
	/* Ignored: registered before, so updated, its created kept, and
	 * its addresses and keys replaced (a new one has none: the foreign
	 * keys see to that). */
	isnew = sqlite3_changes(sq->sq_db) == 1;
	if (!isnew && (sq_instance_row(sq, SQ_INST_UPDATE, inst, 0) == -1 ||
	    sq_run_id(sq, SQ_ADDR_DEL, inst->ri_id) == -1 ||
	    sq_run_id(sq, SQ_KEY_DEL, inst->ri_id) == -1))
		return STORE_ERR;
	for (i = 0; i < inst->ri_naddr; i++) {
		s = sq_get(sq, SQ_ADDR_INSERT);
		if (sq_bind_str(s, 1, inst->ri_addr[i], ADDR_MAX) == -1 ||
		    sq_bind_str(s, 2, inst->ri_id, ID_LEN) == -1 ||
		    sqlite3_bind_int64(s, 3, i) != SQLITE_OK)
			rc = SQLITE_ERROR;
		else	/* Not sq_step: a taken address is no error. */
			rc = sqlite3_step(s);
		if (rc != SQLITE_DONE && sqlite3_extended_errcode(sq->sq_db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = SQLITE_CONSTRAINT;
		else if (rc != SQLITE_DONE)
			log_warnx("%s: instance %.*s: %s", sq->sq_path, ID_LEN,
			    inst->ri_id, sqlite3_errmsg(sq->sq_db));
		sq_done(s);
		if (rc != SQLITE_DONE)
			return rc == SQLITE_CONSTRAINT ? STORE_CONFLICT :
			    STORE_ERR;
	}
	for (i = 0; i < inst->ri_nkeys; i++) {
		s = sq_get(sq, SQ_KEY_INSERT);
		if (sq_bind_str(s, 1, inst->ri_id, ID_LEN) == -1 ||
		    sqlite3_bind_int64(s, 2, i) != SQLITE_OK ||
		    sq_bind_str(s, 3, inst->ri_keys[i].rk_name,
		    KEYNAME_MAX) == -1 ||
		    sq_bind_str(s, 4, inst->ri_keys[i].rk_data,
		    KEYDATA_MAX) == -1)
			rc = SQLITE_ERROR;
		else
			rc = sq_step(sq, s);
		sq_done(s);
		if (rc != SQLITE_DONE)
			return STORE_ERR;
	}
	if (created != NULL)
		*created = isnew;
	return STORE_OK;
}

/*
 * Fill inst from the rows of instance id; call inside a transaction.  Not
 * zeroed first (9 KB, on every GET): the head row sets every scalar and
 * string, and nothing reads past a string's NUL or the counts.  A
 * failure zeroes it all.
 */
static int
sq_fill(struct sq *sq, const char *id, struct store_inst *inst)
{
	struct store_key	*k;
	sqlite3_stmt	*s;
	int		 rc, bad = 0;

	inst->ri_naddr = inst->ri_nkeys = 0;
	s = sq_get(sq, SQ_INST_GET);
	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ? SQLITE_ERROR :
	    sq_step(sq, s);
	if (rc == SQLITE_ROW && sq_head_row(s, inst) == -1)
		bad = 1;
	sq_done(s);
	if (rc == SQLITE_DONE) {
		memset(inst, 0, sizeof(*inst));
		return STORE_NOTFOUND;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	if (bad)
		goto corrupt;

	s = sq_get(sq, SQ_ADDR_LIST);
	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ? SQLITE_ERROR :
	    sq_step(sq, s);
	while (rc == SQLITE_ROW) {
		if (inst->ri_naddr == INST_ADDRS_MAX ||
		    sq_col_str(s, 0, inst->ri_addr[inst->ri_naddr],
		    sizeof(inst->ri_addr[0])) == -1) {
			bad = 1;
			break;
		}
		inst->ri_naddr++;
		rc = sq_step(sq, s);
	}
	sq_done(s);
	if (bad)
		goto corrupt;
	if (rc != SQLITE_DONE)
		goto fail;

	s = sq_get(sq, SQ_KEY_LIST);
	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ? SQLITE_ERROR :
	    sq_step(sq, s);
	while (rc == SQLITE_ROW) {
		k = &inst->ri_keys[inst->ri_nkeys];
		if (inst->ri_nkeys == INST_KEYS_MAX ||
		    sq_col_str(s, 0, k->rk_name, sizeof(k->rk_name)) == -1 ||
		    sq_col_str(s, 1, k->rk_data, sizeof(k->rk_data)) == -1) {
			bad = 1;
			break;
		}
		inst->ri_nkeys++;
		rc = sq_step(sq, s);
	}
	sq_done(s);
	if (bad)
		goto corrupt;
	if (rc != SQLITE_DONE)
		goto fail;
	return STORE_OK;
 corrupt:
	log_warnx("%s: instance %.*s: malformed stored registration",
	    sq->sq_path, ID_LEN, id);
 fail:
	memset(inst, 0, sizeof(*inst));
	return STORE_ERR;
}

static int
sq_instance_get(struct store *st, const char *id, struct store_inst *inst)
{
	struct sq	*sq = sq_reader(st);

	/* Three queries: they must share the snapshot. */
	if (sqlite3_get_autocommit(sq->sq_db)) {
		memset(inst, 0, sizeof(*inst));
		return STORE_ERR;
	}
	/* sq_fill zeroes inst when it fails. */
	return sq_fill(sq, id, inst);
}

/* The schema's ON DELETE CASCADE removes addresses, keys and password. */
static int
sq_instance_del(struct store *st, const char *id)
{
	struct sq	*sq = st->st_engine;

	if (sq_run_id(sq, SQ_INST_DEL, id) == -1)
		return STORE_ERR;
	return sqlite3_changes(sq->sq_db) == 0 ? STORE_NOTFOUND : STORE_OK;
}

static int
sq_instance_list(struct store *st, const char *after,
    struct store_list *ans)
{
	struct sq	*sq = sq_reader(st);
	sqlite3_stmt	*s;
	char		 from[ID_LEN + 2];
	size_t		 len;
	int		 rc;

	/* Copy first: after may point into the previous page in ans. */
	len = after == NULL ? 0 : strnlen(after, ID_LEN + 1);
	if (len > 0)
		memcpy(from, after, len);
	from[len] = '\0';
	ans->sl_n = 0;
	ans->sl_more = 0;
	memset(ans->sl_e, 0, sizeof(ans->sl_e));
	s = sq_get(sq, SQ_INST_LIST);
	/* One row past the page tells whether there are more. */
	if (sq_bind_str(s, 1, from, ID_LEN) == -1 ||
	    sqlite3_bind_int(s, 2, LIST_MAX + 1) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sq_step(sq, s);
	while (rc == SQLITE_ROW) {
		if (ans->sl_n == LIST_MAX) {
			ans->sl_more = 1;
			rc = SQLITE_DONE;
			break;
		}
		if (sq_col_str(s, 0, ans->sl_e[ans->sl_n].id,
		    sizeof(ans->sl_e[0].id)) == -1 ||
		    sq_col_str(s, 1, ans->sl_e[ans->sl_n].project,
		    sizeof(ans->sl_e[0].project)) == -1) {
			log_warnx("%s: malformed stored instance",
			    sq->sq_path);
			rc = SQLITE_CORRUPT;
			break;
		}
		ans->sl_n++;
		rc = sq_step(sq, s);
	}
	sq_done(s);
	if (rc != SQLITE_DONE) {
		ans->sl_n = 0;
		ans->sl_more = 0;
		memset(ans->sl_e, 0, sizeof(ans->sl_e));
		return STORE_ERR;
	}
	return STORE_OK;
}

/*
 * Set-once: every chunk goes in with a plain INSERT inside one IMMEDIATE
 * transaction; the primary key on (instance_id, idx) makes chunk 0 the
 * arbiter between two writers.  STORE_OK only after COMMIT returned.
 */
static int
sq_pw_put_if_absent(struct store *st, const char *id,
    const struct store_pw *pw)
{
	int			 nested;
	struct sq		*sq = st->st_engine;
	const struct store_sealed *c;
	sqlite3_stmt		*s;
	uint32_t		 i;
	int			 rc, r = STORE_ERR;

	if (!store_pw_ok(pw))
		return STORE_ERR;
	if (sq_tx_begin(sq, &nested) == -1)
		return STORE_ERR;
	if ((rc = sq_exists(sq, id)) != 1) {
		r = rc == 0 ? STORE_NOTFOUND : STORE_ERR;
		goto out;
	}
	for (i = 0; i < pw->sp_nchunks; i++) {
		c = &pw->sp_chunk[i];
		s = sq_get(sq, SQ_PW_INSERT);
		if (sq_bind_str(s, 1, id, ID_LEN) == -1 ||
		    sqlite3_bind_int64(s, 2, i) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, pw->sp_nchunks) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 4, c->ss_key_id) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 5, c->ss_nonce, sizeof(c->ss_nonce),
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 6, c->ss_ct, (int)c->ss_len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 7, pw->sp_fp, sizeof(pw->sp_fp),
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 8, pw->sp_set_at) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 9, pw->sp_kind) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 10, c->ss_format) != SQLITE_OK) {
			sq_done(s);
			goto out;
		}
		/* Not sq_step: losing the race on chunk 0 is no error. */
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE && i == 0 &&
		    sqlite3_extended_errcode(sq->sq_db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY)
			r = STORE_CONFLICT;
		else if (rc != SQLITE_DONE)
			log_warnx("%s: instance %.*s: %s", sq->sq_path, ID_LEN,
			    id, sqlite3_errmsg(sq->sq_db));
		sq_done(s);
		if (rc != SQLITE_DONE)
			goto out;
	}
	if (sq_tx_commit(sq, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		sq_tx_abort(sq, nested);
	return r;
}

static int
sq_pw_get(struct store *st, const char *id, struct store_pw *pw)
{
	struct sq		*sq = sq_reader(st);
	struct store_sealed	*c;
	sqlite3_stmt		*s;
	int64_t			 idx, count, key_id, set_at, kind, format;
	size_t			 len;
	uint32_t		 n = 0;
	int			 rc, bad = 0;

	memset(pw, 0, sizeof(*pw));
	s = sq_get(sq, SQ_PW_GET);
	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ? SQLITE_ERROR :
	    sq_step(sq, s);
	while (rc == SQLITE_ROW) {
		/* Rows must be idx 0..count-1, all agreeing on count. */
		if (n == PW_CHUNKS ||
		    sq_col_int(s, 0, n, n, &idx) == -1 ||
		    sq_col_int(s, 1, 1, PW_CHUNKS, &count) == -1 ||
		    (n > 0 && count != pw->sp_nchunks) ||
		    sq_col_int(s, 2, 0, UINT32_MAX, &key_id) == -1 ||
		    sq_col_int(s, 6, INT64_MIN, INT64_MAX, &set_at) == -1 ||
		    sq_col_int(s, 8, SEAL_FORMAT_V1, SEAL_FORMAT_V2,
		    &format) == -1) {
			bad = 1;
			break;
		}
		c = &pw->sp_chunk[n];
		if (sq_col_blob(s, 3, c->ss_nonce, SEAL_NONCE_LEN,
		    SEAL_NONCE_LEN, &len) == -1 ||
		    sq_col_blob(s, 4, c->ss_ct, SEAL_TAG_LEN,
		    PW_CHUNK_LEN + SEAL_TAG_LEN, &len) == -1) {
			bad = 1;
			break;
		}
		c->ss_len = (uint32_t)len;
		c->ss_key_id = (uint32_t)key_id;
		c->ss_format = (uint32_t)format;
		if (n == 0) {
			pw->sp_nchunks = (uint32_t)count;
			pw->sp_set_at = set_at;
			if (sq_col_int(s, 7, PW_KIND_VALUE, PW_KIND_VERIFIER,
			    &kind) == -1 || sq_col_blob(s, 5, pw->sp_fp,
			    FP_LEN, FP_LEN, &len) == -1) {
				bad = 1;
				break;
			}
			pw->sp_kind = (uint32_t)kind;
		}
		n++;
		rc = sq_step(sq, s);
	}
	sq_done(s);
	if (!bad && rc == SQLITE_DONE && n == 0)
		return STORE_NOTFOUND;
	if (!bad && rc == SQLITE_DONE && n != pw->sp_nchunks)
		bad = 1;
	if (bad)
		log_warnx("%s: instance %.*s: stored password has a malformed "
		    "shape", sq->sq_path, ID_LEN, id);
	if (bad || rc != SQLITE_DONE) {
		memset(pw, 0, sizeof(*pw));
		return STORE_ERR;
	}
	return STORE_OK;
}

/* Clearing an unset password is fine; an unknown instance is not. */
static int
/* Clearing also records when, which reopens a post_window. */
sq_pw_del(struct store *st, const char *id)
{
	int			 nested;
	struct sq	*sq = st->st_engine;
	sqlite3_stmt	*s;
	int		 rc, r = STORE_ERR;

	if (sq_tx_begin(sq, &nested) == -1)
		return STORE_ERR;
	if ((rc = sq_exists(sq, id)) != 1) {
		r = rc == 0 ? STORE_NOTFOUND : STORE_ERR;
		goto out;
	}
	if (sq_run_id(sq, SQ_PW_DEL, id) == -1)
		goto out;
	s = sq_get(sq, SQ_INST_CLEARED);
	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ||
	    sqlite3_bind_int64(s, 2, (int64_t)time(NULL)) != SQLITE_OK ?
	    SQLITE_ERROR : sq_step(sq, s);
	sq_done(s);
	if (rc != SQLITE_DONE || sq_tx_commit(sq, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		sq_tx_abort(sq, nested);
	return r;
}

static int
sq_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	struct sq	*sq = sq_reader(st);
	sqlite3_stmt	*s = sq_get(sq, SQ_COUNTS);
	int64_t		 ni, np;
	int		 rc;

	rc = sq_step(sq, s);
	if (rc == SQLITE_ROW &&
	    (sq_col_int(s, 0, 0, UINT32_MAX, &ni) == -1 ||
	    sq_col_int(s, 1, 0, UINT32_MAX, &np) == -1 ||
	    sq_step(sq, s) != SQLITE_DONE))
		rc = SQLITE_CORRUPT;
	sq_done(s);
	if (rc != SQLITE_ROW)
		return STORE_ERR;
	*instances = (uint32_t)ni;
	*passwords = (uint32_t)np;
	return STORE_OK;
}

static int
sq_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	struct sq	*sq = sq_reader(st);
	sqlite3_stmt	*s = sq_get(sq, SQ_KEY_COUNTS);
	int64_t		 id, cnt;
	int		 rc;

	*n = 0;
	while ((rc = sq_step(sq, s)) == SQLITE_ROW) {
		if (*n == max || sq_col_int(s, 0, 0, UINT32_MAX, &id) == -1 ||
		    sq_col_int(s, 1, 0, UINT32_MAX, &cnt) == -1) {
			rc = SQLITE_CORRUPT;
			break;
		}
		kc[*n].kc_id = (uint32_t)id;
		kc[*n].kc_records = (uint32_t)cnt;
		(*n)++;
	}
	sq_done(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/*
 * Step s to its end, appending column 0 (an instance id) to ids and, with
 * set_at, column 1 to set_at, at most max in all; *n counts them.
 */
static int
sq_collect_ids(struct sq *sq, sqlite3_stmt *s, char (*ids)[ID_LEN + 1],
    int64_t *set_at, size_t max, size_t *n)
{
	int	rc;

	while ((rc = sq_step(sq, s)) == SQLITE_ROW) {
		if (*n == max || sq_col_str(s, 0, ids[*n], ID_LEN + 1) == -1 ||
		    (set_at != NULL && sq_col_int(s, 1, INT64_MIN, INT64_MAX,
		    &set_at[*n]) == -1)) {
			rc = SQLITE_CORRUPT;
			break;
		}
		(*n)++;
	}
	sq_done(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* Instances with a chunk sealed by a key older than newest, in id order. */
static int
sq_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	struct sq	*sq = sq_reader(st);
	sqlite3_stmt	*s = sq_get(sq, SQ_PW_OLDER);

	*n = 0;
	if (sqlite3_bind_int64(s, 1, newest) != SQLITE_OK ||
	    sq_bind_str(s, 2, after, ID_LEN) == -1 ||
	    sqlite3_bind_int64(s, 3, (int64_t)max) != SQLITE_OK) {
		sq_done(s);
		return STORE_ERR;
	}
	return sq_collect_ids(sq, s, ids, NULL, max, n);
}

/*
 * Replace every chunk of a value with its re-sealed form, all or none, and
 * only if the value is still the one that was read (else STORE_CONFLICT).
 */
static int
sq_pw_rewrap(struct store *st, const char *id, const struct store_pw *old,
    const struct store_pw *new)
{
	int			 nested;
	struct sq			*sq = st->st_engine;
	const struct store_sealed	*o, *c;
	sqlite3_stmt			*s;
	uint32_t			 i;
	int				 rc, r = STORE_ERR;

	if (old->sp_nchunks != new->sp_nchunks || new->sp_nchunks < 1 ||
	    new->sp_nchunks > PW_CHUNKS)
		return STORE_ERR;
	if (sq_tx_begin(sq, &nested) == -1)
		return STORE_ERR;
	for (i = 0; i < new->sp_nchunks; i++) {
		o = &old->sp_chunk[i];
		c = &new->sp_chunk[i];
		s = sq_get(sq, SQ_PW_REWRAP);
		rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ||
		    sqlite3_bind_int64(s, 2, i) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, c->ss_key_id) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 4, c->ss_nonce, sizeof(c->ss_nonce),
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 5, c->ss_ct, (int)c->ss_len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 6, o->ss_key_id) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 7, o->ss_nonce, sizeof(o->ss_nonce),
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 8, c->ss_format) != SQLITE_OK ?
		    SQLITE_ERROR : sq_step(sq, s);
		sq_done(s);
		if (rc != SQLITE_DONE)
			goto out;
		if (sqlite3_changes(sq->sq_db) != 1) {
			r = STORE_CONFLICT;
			goto out;
		}
	}
	if (sq_tx_commit(sq, nested) == -1)
		goto out;
	r = STORE_OK;
 out:
	if (r != STORE_OK)
		sq_tx_abort(sq, nested);
	return r;
}

/* Delete a value that outlived its TTL, unless it was replaced since. */
static int
sq_pw_expire(struct store *st, const char *id, int64_t set_at)
{
	struct sq	*sq = st->st_engine;
	sqlite3_stmt	*s = sq_get(sq, SQ_PW_EXPIRE);
	int		 rc;

	rc = sq_bind_str(s, 1, id, ID_LEN) == -1 ||
	    sqlite3_bind_int64(s, 2, set_at) != SQLITE_OK ? SQLITE_ERROR :
	    sq_step(sq, s);
	sq_done(s);
	if (rc != SQLITE_DONE)
		return STORE_ERR;
	return sqlite3_changes(sq->sq_db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

/* Up to max - *n more rows of one expiry query into ids and set_at. */
static int
sq_pw_expired_run(struct sq *sq, int which, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	sqlite3_stmt	*s = sq_get(sq, which);

	if (sqlite3_bind_int64(s, 1, now) != SQLITE_OK ||
	    (which == SQ_PW_EXPIRED_DEF &&
	    sqlite3_bind_int64(s, 2, ttl) != SQLITE_OK) ||
	    sqlite3_bind_int64(s, 3, (int64_t)(max - *n)) != SQLITE_OK) {
		sq_done(s);
		return STORE_ERR;
	}
	return sq_collect_ids(sq, s, ids, set_at, max, n);
}

/* Values due to expire at now, by instance TTL or the default ttl. */
static int
sq_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	struct sq	*sq = sq_reader(st);

	*n = 0;
	if (sq_pw_expired_run(sq, SQ_PW_EXPIRED_OWN, now, ttl, ids, set_at,
	    max, n) != STORE_OK)
		return STORE_ERR;
	if (ttl <= 0 || *n == max)
		return STORE_OK;
	return sq_pw_expired_run(sq, SQ_PW_EXPIRED_DEF, now, ttl, ids, set_at,
	    max, n);
}

/*
 * One-time read: the value and its removal in one transaction, so that of
 * two readers exactly one gets it.  No value: STORE_OK with no chunks.
 */
static int
sq_pw_take(struct store *st, const char *id, struct store_pw *pw)
{
	int			 nested;
	struct sq	*sq = st->st_engine;
	int		 r;

	if (sq_tx_begin(sq, &nested) == -1)
		return STORE_ERR;
	r = sq_pw_get(st, id, pw);
	if (r == STORE_NOTFOUND) {
		memset(pw, 0, sizeof(*pw));
		r = sq_exists(sq, id) == 1 ? STORE_OK : STORE_NOTFOUND;
	} else if (r == STORE_OK && sq_pw_del(st, id) != STORE_OK)
		r = STORE_ERR;
	if (r != STORE_ERR && sq_tx_commit(sq, nested) == 0)
		return r;
	sq_tx_abort(sq, nested);
	return STORE_ERR;
}

/* The scalar columns of an instance row, in SQ_INST_GET's order. */
static int
sq_head_row(sqlite3_stmt *s, struct store_inst *inst)
{
	int64_t	ttl, once, mode;

	if (sq_col_str(s, 0, inst->ri_id, sizeof(inst->ri_id)) == -1 ||
	    sq_col_str(s, 1, inst->ri_project, sizeof(inst->ri_project)) ==
	    -1 || sq_col_str(s, 2, inst->ri_hostname,
	    sizeof(inst->ri_hostname)) == -1 ||
	    sq_col_int(s, 3, INT64_MIN, INT64_MAX, &inst->ri_created) == -1 ||
	    sq_col_int(s, 4, 0, INT64_MAX, &inst->ri_cleared) == -1 ||
	    sq_col_int(s, 5, -1, PW_TTL_MAX, &ttl) == -1 ||
	    sq_col_int(s, 6, -1, 1, &once) == -1 ||
	    sq_col_int(s, 7, PW_MODE_DEFAULT, PW_MODE_VERIFIER, &mode) == -1)
		return -1;
	inst->ri_pw_ttl = (int32_t)ttl;
	inst->ri_one_time = (int32_t)once;
	inst->ri_mode = (int32_t)mode;
	return 0;
}

static int
sq_addr_unscoped(struct store *st, struct store_addr *out, size_t max,
    size_t *n)
{
	struct sq	*sq = sq_reader(st);
	sqlite3_stmt	*s;
	int		 rc;

	*n = 0;
	s = sq_get(sq, SQ_ADDR_UNSCOPED);
	rc = sqlite3_bind_int64(s, 1, (sqlite3_int64)max) != SQLITE_OK ?
	    SQLITE_ERROR : sq_step(sq, s);
	while (rc == SQLITE_ROW && *n < max) {
		if (sq_col_str(s, 0, out[*n].sa_addr,
		    sizeof(out[*n].sa_addr)) == -1 ||
		    sq_col_str(s, 1, out[*n].sa_id,
		    sizeof(out[*n].sa_id)) == -1) {
			log_warnx("%s: malformed stored address", sq->sq_path);
			rc = SQLITE_CORRUPT;
			break;
		}
		(*n)++;
		rc = sq_step(sq, s);
	}
	sq_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/*
 * The instance row alone, by id or by address (key's first len bytes):
 * one statement, and only its scalar fields are filled (no addresses, no
 * keys).  Identifying a guest needs no more, and it runs on every guest
 * request.
 */
static int
sq_head_one(struct sq *sq, const char *key, size_t len, int by_addr,
    struct store_inst *inst)
{
	sqlite3_stmt	*s;
	int		 rc;

	s = sq_get(sq, by_addr ? SQ_INST_HEAD_BY_ADDR : SQ_INST_GET);
	rc = sqlite3_bind_text(s, 1, key, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK ? SQLITE_ERROR : sq_step(sq, s);
	if (rc == SQLITE_ROW && sq_head_row(s, inst) == -1) {
		log_warnx("%s: malformed instance row", sq->sq_path);
		rc = SQLITE_CORRUPT;
	}
	sq_done(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

/*
 * By address, the row of exactly IP@NET, else of the bare IP: two plain
 * lookups, not one statement ordered by length, whose sorter cost every
 * guest request about a third of its CPU.
 */
static int
sq_instance_head(struct store *st, const char *key, int by_addr,
    struct store_inst *inst)
{
	struct sq	*sq = sq_reader(st);
	size_t		 len, base;
	int		 r;

	/* One past the limit: an over-long key binds as given and matches
	 * nothing. */
	len = strnlen(key, (by_addr ? ADDR_MAX : ID_LEN) + 1);
	inst->ri_naddr = inst->ri_nkeys = 0;
	r = sq_head_one(sq, key, len, by_addr, inst);
	if (r != STORE_NOTFOUND || !by_addr ||
	    (base = store_addr_base(key)) >= len)
		return r;
	return sq_head_one(sq, key, base, by_addr, inst);
}
