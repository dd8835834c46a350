/* SPDX-License-Identifier: ISC */
/*
 * post_ref: the store reference of make bench's POST row.  It does the
 * store work of sealmd's guest POSTs and nothing else: no HTTP, no
 * channel, no audit line, no identity check.  It links the broker's own
 * store and sealing objects, so the schema, the pragmas, the statements
 * and the seals are sealmd's.  Like the broker it has two threads on two
 * connections.  The main thread does per POST what the event loop does:
 * the instance by id and the set-once check (store_instance_head,
 * store_pw_get), then seal_value.  The writer thread does per GROUP POSTs
 * what sealmd's writer does: one transaction, one store_pw_put_if_absent
 * each, one durable commit.  The main thread prepares the next group
 * while the writer commits the last one, as the event loop goes on while
 * sealmd's writer waits on the disk.
 *
 *	post_ref DIR SECONDS GROUP
 *
 * DIR gets a fresh database and key directory (put it on the filesystem
 * of sealmd's state directory); both are removed at the end.  Instances
 * are registered in blocks, off the clock.  Prints one JSON line: POSTs,
 * seconds and POSTs per second on the clock, the group size, the CPU
 * time (user + system, both threads) per POST on the clock, and the
 * p50/p99 of one durable commit.  Bounded: at most POST_REF_MAX POSTs.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/keys.h"
#include "broker/seal.h"
#include "broker/store/store.h"
#include "privsep/log.h"

#define POST_REF_MAX	(1u << 22)	/* POSTs; far above any disk here */
#define POST_REF_BLOCK	8192		/* instances registered at a time */
#define POST_REF_GROUP	256		/* the writer's WRITER_BATCH_MAX */
#define POST_REF_PROJECT "bench-project"
#define POST_REF_LEN	344		/* make bench's value, base64 */

struct post_ref_group {
	char		(*pg_ids)[ID_LEN + 1];
	size_t		  pg_n;
	struct store_pw	  pg_pw[POST_REF_GROUP];
};

struct post_ref {
	struct store	*pr_rd;		/* the event loop's connection */
	struct store	*pr_wr;		/* the writer thread's */
	struct keyring	 pr_kr;
	char		 pr_ids[POST_REF_BLOCK][ID_LEN + 1];
	struct post_ref_group pr_g[2];	/* one filled, one committed */
	pthread_mutex_t	 pr_mtx;
	pthread_cond_t	 pr_cv;
	struct post_ref_group *pr_next;	/* pr_mtx: for the writer */
	int		 pr_busy;	/* pr_mtx: the writer is committing */
	int		 pr_stop;	/* pr_mtx */
	uint8_t		 pr_value[POST_REF_LEN];
	uint64_t	*pr_commit;	/* ns per commit */
	size_t		 pr_ncommit;
	size_t		 pr_posts;
	uint64_t	 pr_ns;		/* on the clock */
	uint64_t	 pr_cpu_ns;	/* user + system, on the clock */
};

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
cpu_ns(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		fatal("getrusage");
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	    1000000000ull + ((uint64_t)ru.ru_utime.tv_usec +
	    (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A version 4 UUID, as Nova names an instance. */
static void
post_ref_uuid(char out[ID_LEN + 1])
{
	uint8_t	b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	(void)snprintf(out, ID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}

/* Off the clock: a block of fresh instances, as the owner API makes them. */
static void
post_ref_register(struct post_ref *pr)
{
	struct store_inst	inst;
	size_t			i;
	int			created;

	if (store_batch_begin(pr->pr_wr) != STORE_OK)
		fatalx("register: begin");
	for (i = 0; i < POST_REF_BLOCK; i++) {
		memset(&inst, 0, sizeof(inst));
		post_ref_uuid(pr->pr_ids[i]);
		memcpy(inst.ri_id, pr->pr_ids[i], sizeof(inst.ri_id));
		(void)snprintf(inst.ri_project, sizeof(inst.ri_project), "%s",
		    POST_REF_PROJECT);
		inst.ri_created = (int64_t)time(NULL);
		if (store_instance_put(pr->pr_wr, &inst, &created) != STORE_OK)
			fatalx("register: instance_put");
	}
	if (store_batch_commit(pr->pr_wr) != STORE_OK)
		fatalx("register: commit");
}

/* The writer thread: each group handed to it, one durable commit each. */
static void *
post_ref_writer(void *arg)
{
	struct post_ref		*pr = arg;
	struct post_ref_group	*g;
	uint64_t		 t0;
	size_t			 i;

	for (;;) {
		pthread_mutex_lock(&pr->pr_mtx);
		while (pr->pr_next == NULL && !pr->pr_stop)
			pthread_cond_wait(&pr->pr_cv, &pr->pr_mtx);
		if ((g = pr->pr_next) == NULL) {
			pthread_mutex_unlock(&pr->pr_mtx);
			return NULL;
		}
		pr->pr_next = NULL;
		pr->pr_busy = 1;
		pthread_mutex_unlock(&pr->pr_mtx);
		t0 = now_ns();
		if (store_batch_begin(pr->pr_wr) != STORE_OK)
			fatalx("batch begin");
		for (i = 0; i < g->pg_n; i++)
			if (store_pw_put_if_absent(pr->pr_wr, g->pg_ids[i],
			    &g->pg_pw[i]) != STORE_OK)
				fatalx("pw_put_if_absent %s", g->pg_ids[i]);
		if (store_batch_commit(pr->pr_wr) != STORE_OK)
			fatalx("batch commit");
		if (pr->pr_ncommit < POST_REF_MAX)
			pr->pr_commit[pr->pr_ncommit++] = now_ns() - t0;
		sodium_memzero(g->pg_pw, sizeof(g->pg_pw[0]) * g->pg_n);
		pthread_mutex_lock(&pr->pr_mtx);
		pr->pr_busy = 0;
		pthread_cond_broadcast(&pr->pr_cv);
		pthread_mutex_unlock(&pr->pr_mtx);
	}
}

/* Until the writer has committed all it was given. */
static void
post_ref_drain(struct post_ref *pr)
{
	pthread_mutex_lock(&pr->pr_mtx);
	while (pr->pr_next != NULL || pr->pr_busy)
		pthread_cond_wait(&pr->pr_cv, &pr->pr_mtx);
	pthread_mutex_unlock(&pr->pr_mtx);
}

/* The event loop's part of n POSTs to ids; the writer commits them. */
static void
post_ref_group(struct post_ref *pr, struct post_ref_group *g,
    char (*ids)[ID_LEN + 1], size_t n)
{
	struct store_inst	inst;
	size_t			i;

	g->pg_ids = ids;
	g->pg_n = n;
	for (i = 0; i < n; i++) {
		if (store_instance_head(pr->pr_rd, ids[i], 0, &inst) !=
		    STORE_OK)
			fatalx("instance %s not found", ids[i]);
		if (store_pw_get(pr->pr_rd, ids[i], &g->pg_pw[i]) !=
		    STORE_NOTFOUND)
			fatalx("instance %s has a value", ids[i]);
		if (seal_value(&pr->pr_kr, ids[i], pr->pr_value,
		    sizeof(pr->pr_value), PW_KIND_VALUE, &g->pg_pw[i]) == -1)
			fatalx("seal_value");
	}
	/* The end of the event loop's turn. */
	store_read_end(pr->pr_rd);
	keys_lock_all();
	/* The other group may still be committing: one group waits. */
	post_ref_drain(pr);
	pthread_mutex_lock(&pr->pr_mtx);
	pr->pr_next = g;
	pthread_cond_broadcast(&pr->pr_cv);
	pthread_mutex_unlock(&pr->pr_mtx);
}

static void
post_ref_run(struct post_ref *pr, double secs, size_t group)
{
	uint64_t	t0, c0, want = (uint64_t)(secs * 1e9);
	size_t		i, n, k = 0;

	while (pr->pr_ns < want && pr->pr_posts < POST_REF_MAX) {
		post_ref_register(pr);
		store_read_end(pr->pr_rd);
		t0 = now_ns();
		c0 = cpu_ns();
		for (i = 0; i < POST_REF_BLOCK && pr->pr_ns + now_ns() - t0 <
		    want; i += n) {
			n = POST_REF_BLOCK - i < group ? POST_REF_BLOCK - i :
			    group;
			post_ref_group(pr, &pr->pr_g[k++ % 2], pr->pr_ids + i,
			    n);
			pr->pr_posts += n;
		}
		post_ref_drain(pr);
		pr->pr_ns += now_ns() - t0;
		pr->pr_cpu_ns += cpu_ns() - c0;
	}
}

static void
post_ref_rm(const char *dir, const char *name)
{
	char	path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    sizeof(path))
		(void)unlink(path);
}

int
main(int argc, char *argv[])
{
	static struct post_ref	 pr;
	pthread_t		 writer;
	char			 dir[4096], db[4200], err[256];
	double			 secs;
	long			 group;
	char			*end;
	size_t			 i;

	if (argc != 4 || (secs = strtod(argv[2], NULL)) <= 0 || secs > 600 ||
	    (group = strtol(argv[3], &end, 10)) < 1 ||
	    group > POST_REF_GROUP || *end != '\0') {
		fprintf(stderr, "usage: post_ref DIR SECONDS GROUP (1..%d)\n",
		    POST_REF_GROUP);
		return 2;
	}
	log_init("post_ref", 1);
	if (sodium_init() == -1 || seal_init() == -1)
		fatalx("sodium_init");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/post_ref.%ld", argv[1],
	    (long)getpid()) >= sizeof(dir))
		fatalx("path too long");
	(void)snprintf(db, sizeof(db), "%s/store.sqlite", dir);
	if (mkdir(dir, 0700) == -1)
		fatal("%s", dir);
	if (keys_create(dir, 1, err, sizeof(err)) == -1 ||
	    keyring_load(&pr.pr_kr, dir, "", err, sizeof(err)) == -1)
		fatalx("keys: %s", err);
	if ((pr.pr_rd = store_open(STORE_SQLITE, db, 1)) == NULL ||
	    (pr.pr_wr = store_open(STORE_SQLITE, db, 0)) == NULL)
		fatalx("%s: cannot open", db);
	if ((pr.pr_commit = calloc(POST_REF_MAX, sizeof(uint64_t))) == NULL)
		fatal("calloc");
	/* 256 random bytes in base64 have no '=' and are this long. */
	for (i = 0; i < sizeof(pr.pr_value); i++)
		pr.pr_value[i] = (uint8_t)"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
		    "ghijklmnopqrstuvwxyz0123456789+/"[randombytes_uniform(64)];
	if (pthread_mutex_init(&pr.pr_mtx, NULL) != 0 ||
	    pthread_cond_init(&pr.pr_cv, NULL) != 0 ||
	    pthread_create(&writer, NULL, post_ref_writer, &pr) != 0)
		fatalx("writer thread");
	post_ref_run(&pr, secs, (size_t)group);
	pthread_mutex_lock(&pr.pr_mtx);
	pr.pr_stop = 1;
	pthread_cond_broadcast(&pr.pr_cv);
	pthread_mutex_unlock(&pr.pr_mtx);
	pthread_join(writer, NULL);
	store_close(pr.pr_rd);
	store_close(pr.pr_wr);
	keyring_free(&pr.pr_kr);
	post_ref_rm(dir, "store.sqlite-wal");
	post_ref_rm(dir, "store.sqlite-shm");
	post_ref_rm(dir, "store.sqlite");
	post_ref_rm(dir, "1");
	if (rmdir(dir) == -1)
		log_warn("%s", dir);
	if (pr.pr_posts == 0 || pr.pr_ncommit == 0)
		fatalx("no POST finished");
	qsort(pr.pr_commit, pr.pr_ncommit, sizeof(uint64_t), cmp_u64);
	printf("{\"posts\": %zu, \"seconds\": %.3f, \"posts_per_s\": %.1f, "
	    "\"group\": %ld, \"commits\": %zu, \"cpu_us_per_post\": %.2f, "
	    "\"commit_p50_us\": %.1f, \"commit_p99_us\": %.1f, "
	    "\"value_bytes\": %d}\n", pr.pr_posts, (double)pr.pr_ns / 1e9,
	    (double)pr.pr_posts / ((double)pr.pr_ns / 1e9), group,
	    pr.pr_ncommit, (double)pr.pr_cpu_ns / 1e3 / (double)pr.pr_posts,
	    (double)pr.pr_commit[pr.pr_ncommit / 2] / 1e3,
	    (double)pr.pr_commit[(pr.pr_ncommit * 99) / 100] / 1e3,
	    POST_REF_LEN);
	free(pr.pr_commit);
	return 0;
}
