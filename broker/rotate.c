/* SPDX-License-Identifier: ISC */
/*
 * Key rotation, in the broker's event loop: owner requests to rotate,
 * rewrap and retire (owner API /keys), and the rewrap pass that re-seals
 * old values a batch at a time through the writer.  rotate.h has the
 * rules that keep every value openable across a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker.h"
#include "ops.h"
#include "privsep/log.h"
#include "reader.h"
#include "rotate.h"
#include "seal.h"
#include "writer.h"

_Static_assert(ROTATE_BATCH <= AHEAD_OLDER_MAX,
    "a reader job holds a rewrap batch");

/* Keys made by sealmd live in key_dir; credentials belong to systemd. */
static int
rotate_own_keys(struct broker *b, char *err, size_t errlen)
{
	if (!b->b_keys_creds)
		return 0;
	(void)snprintf(err, errlen, "the key ring comes from systemd "
	    "credentials: add or remove a credential file and reload");
	return -1;
}

/* Reread the ring after a change on disk; the old one stays on failure. */
static int
rotate_reload(struct broker *b, char *err, size_t errlen)
{
	struct keyring	kr;
	char		why[CONF_ERR_MAX];

	if (keyring_load(&kr, b->b_conf->c_key_dir, "", why,
	    sizeof(why)) == -1) {
		(void)snprintf(err, errlen, "%s", why);
		return -1;
	}
	keyring_free(&b->b_keys);
	b->b_keys = kr;
	return 0;
}

int
rotate_new_key(struct broker *b, char *err, size_t errlen)
{
	uint32_t	id = keyring_newest(&b->b_keys)->k_id + 1;

	if (rotate_own_keys(b, err, errlen) == -1)
		return -1;
	if (id == 0 || b->b_keys.kr_n >= KEYRING_MAX) {
		(void)snprintf(err, errlen, "the key ring is full");
		return -1;
	}
	if (keys_create(b->b_conf->c_key_dir, id, err, errlen) == -1 ||
	    rotate_reload(b, err, errlen) == -1)
		return -1;
	log_info("key %u now seals new values", id);
	return 0;
}

/*
 * Whether key id may be retired, so far as the ring says: 0 yes (count
 * its values next), 1 unknown key, 2 the newest, -1 error.  The newest
 * key is never retired: new values need it.
 */
int
rotate_retire_check(struct broker *b, uint32_t id, char *err, size_t errlen)
{
	if (keyring_find(&b->b_keys, id) == NULL)
		return 1;
	if (rotate_own_keys(b, err, errlen) == -1)
		return -1;
	if (id == keyring_newest(&b->b_keys)->k_id) {
		(void)snprintf(err, errlen, "key %u is the newest", id);
		return 2;
	}
	return 0;
}

/*
 * Retire the key once the writer has counted its values (WJ_KEY_COUNT):
 * 0 done, 1 unknown key, 2 still in use or the newest, -1 error.  Every
 * write queued before the count has run by then, and none sealed by the
 * key can follow it: new values are sealed by the newest key.
 */
int
rotate_retire(struct broker *b, const struct wjob *j, char *err,
    size_t errlen)
{
	int	r;

	if ((r = rotate_retire_check(b, j->wj_key, err, errlen)) != 0)
		return r;
	if (j->wj_result != STORE_OK) {
		(void)snprintf(err, errlen, "store unavailable");
		return -1;
	}
	if (j->wj_count > 0) {
		(void)snprintf(err, errlen, "key %u still seals %u values: "
		    "rewrap first", j->wj_key, j->wj_count);
		return 2;
	}
	if (keys_remove(b->b_conf->c_key_dir, j->wj_key, err, errlen) == -1 ||
	    rotate_reload(b, err, errlen) == -1)
		return -1;
	log_info("key %u retired", j->wj_key);
	return 0;
}

void
rotate_start(struct broker *b)
{
	if (b->b_rewrap)
		return;
	b->b_rewrap = 1;
	b->b_rewrap_done = 0;
	b->b_rewrap_after[0] = '\0';
	log_info("rewrap: re-sealing values under key %u",
	    keyring_newest(&b->b_keys)->k_id);
}

/*
 * Open every chunk with the key that sealed it, seal it again with the
 * newest.  A value that does not open is left as it is, and said so.
 */
static int
rotate_reseal(struct broker *b, const char *id, const struct store_pw *old,
    struct store_pw *new)
{
	uint8_t		plain[PW_CHUNK_LEN];
	size_t		len;
	uint32_t	i;
	int		r = 0;

	*new = *old;
	for (i = 0; i < old->sp_nchunks && r == 0; i++) {
		if ((r = seal_open(&b->b_keys, id, (uint8_t)i,
		    (uint8_t)old->sp_nchunks, old->sp_kind, old->sp_set_at,
		    &old->sp_chunk[i], plain, &len)) == -1)
			log_warnx("rewrap: the value of %s does not open "
			    "(chunk %u, key %u): %s; left as it is", id, i,
			    old->sp_chunk[i].ss_key_id,
			    seal_why(&b->b_keys, &old->sp_chunk[i]));
		else if ((r = seal_chunk(&b->b_keys, id, (uint8_t)i,
		    (uint8_t)old->sp_nchunks, old->sp_kind, old->sp_set_at,
		    plain, len, &new->sp_chunk[i])) == -1)
			log_warnx("rewrap: cannot seal the value of %s", id);
	}
	sodium_memzero(plain, sizeof(plain));
	return r;
}

/*
 * One turn of a rewrap pass: a few values, and only while the writer
 * keeps up, so that guests' writes never wait behind it.  One pass goes
 * through the instances in id order once; a value that changed meanwhile
 * is already sealed by the newest key.
 */
void
rotate_step(struct broker *b)
{
	char		 ids[ROTATE_BATCH][ID_LEN + 1];
	struct wjob	*j;
	struct rjob	*rj;
	size_t		 n, i;
	uint32_t	 newest;
	int		 r;

	if (!b->b_rewrap || writer_queued() > ROTATE_QUEUE_MAX ||
	    b->b_rewrap_reading)
		return;
	newest = keyring_newest(&b->b_keys)->k_id;
	if (reader_on()) {
		rj = reader_job(AHEAD_OLDER, RT_ROTATE);
		rj->rj_ah.ah_newest = newest;
		memcpy(rj->rj_ah.ah_key, b->b_rewrap_after,
		    strnlen(b->b_rewrap_after, ID_LEN));
		rj->rj_ah.ah_max = ROTATE_BATCH;
		b->b_rewrap_reading = 1;
		reader_submit(rj);
		return;
	}
	if (store_pw_older(b->b_store, newest, b->b_rewrap_after, ids,
	    ROTATE_BATCH, &n) != STORE_OK)
		return;
	if (n == 0) {
		if (b->b_rewrap_inflight == 0) {
			b->b_rewrap = 0;
			log_info("rewrap: done, %u values re-sealed",
			    b->b_rewrap_done);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		memcpy(b->b_rewrap_after, ids[i], sizeof(b->b_rewrap_after));
		j = ops_job(WJ_PW_REWRAP, ids[i]);
		j->wj_audit = "key.reseal";
		j->wj_rt.rt_listener = -1;
		(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer),
		    "broker");
		/* Cleared meanwhile: nothing to do. */
		if ((r = store_pw_get(b->b_store, ids[i], &j->wj_old)) ==
		    STORE_ERR)
			log_warnx("rewrap: the value of %s cannot be read; "
			    "left as it is", ids[i]);
		if (r != STORE_OK ||
		    rotate_reseal(b, ids[i], &j->wj_old, &j->wj_pw) != 0) {
			ops_job_free(j);
			continue;
		}
		if (writer_submit(j) == -1) {
			ops_job_free(j);
			return;
		}
		b->b_rewrap_inflight++;
	}
}

void
rotate_done(struct broker *b, const struct wjob *j)
{
	b->b_rewrap_inflight--;
	if (j->wj_result == STORE_OK)
		b->b_rewrap_done++;
}

void
rotate_fill(struct broker *b, struct msg_keys_ans *mk)
{
	struct store_keycount	kc[STORE_KEYCOUNTS_MAX];
	size_t			n = 0, i, k;

	memset(mk, 0, sizeof(*mk));
	mk->mka_status = store_key_counts(b->b_store, kc, STORE_KEYCOUNTS_MAX,
	    &n) == STORE_OK ? 200 : 503;
	mk->mka_newest = keyring_newest(&b->b_keys)->k_id;
	mk->mka_rewrap = (uint32_t)b->b_rewrap;
	mk->mka_rewrapped = b->b_rewrap_done;
	for (i = 0; i < b->b_keys.kr_n && i < KEYS_LIST_MAX; i++) {
		mk->mka_id[i] = b->b_keys.kr_keys[i].k_id;
		for (k = 0; k < n; k++)
			if (kc[k].kc_id == mk->mka_id[i])
				mk->mka_records[i] = kc[k].kc_records;
	}
	mk->mka_n = (uint32_t)i;
}
