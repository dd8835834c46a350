/* SPDX-License-Identifier: ISC */
/*
 * Writes the seed corpus of fuzz_chan into the directory given: one
 * well-formed frame of every message type the worker sends, as raw
 * frames, and a few message sequences.  Built from the structs in
 * privsep/msg.h and the fixture in fuzz_chan.h, with no randomness, so
 * the same tree always writes the same files ("make fuzz-seeds").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privsep/msg.h"
#include "tests/fuzz/fuzz_chan.h"

#define FZG_ID_C	"3f1c2a9e-4b7d-4e21-9a6f-0c5d8e7b1a23"
/* cloudbase-init posts base64 of an RSA-2048 ciphertext: 344 bytes. */
#define FZG_VALUE_LEN	344

struct fzg_input {
	uint8_t	fi_data[64 * 1024];
	size_t	fi_len;
};

static const char	*fzg_dir;

static void
fzg_add(struct fzg_input *in, const void *p, size_t len)
{
	if (len > sizeof(in->fi_data) - in->fi_len) {
		fprintf(stderr, "gen_chan_seeds: input too long\n");
		exit(1);
	}
	memcpy(in->fi_data + in->fi_len, p, len);
	in->fi_len += len;
}

static void
fzg_write(const char *name, const struct fzg_input *in)
{
	char	 path[4096];
	FILE	*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", fzg_dir, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(in->fi_data, 1, in->fi_len, fp) != in->fi_len ||
	    fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static uint8_t
fzg_type_index(uint32_t type)
{
	uint8_t	i;

	for (i = 0; i < FZC_NTYPES; i++)
		if (fzc_types[i].ft_type == type)
			return i;
	fprintf(stderr, "gen_chan_seeds: type %u not in fzc_types\n", type);
	exit(1);
}

static uint8_t
fzg_conn_index(uint32_t connid)
{
	uint8_t	i;

	for (i = 0; i < FZC_NCONN_IDS; i++)
		if (fzc_conn_ids[i] == connid)
			return i;
	fprintf(stderr, "gen_chan_seeds: conn %u not in fzc_conn_ids\n",
	    connid);
	exit(1);
}

/* A whole frame, for the raw form. */
static void
fzg_frame(struct fzg_input *in, uint32_t type, uint32_t reqid,
    uint32_t connid, const void *p, size_t len)
{
	struct chan_hdr	h;

	memset(&h, 0, sizeof(h));
	h.ch_type = type;
	h.ch_len = (uint32_t)len;
	h.ch_reqid = reqid;
	h.ch_connid = connid;
	fzg_add(in, &h, sizeof(h));
	fzg_add(in, p, len);
}

/* One entry of the messages form. */
static void
fzg_msg(struct fzg_input *in, uint32_t type, uint32_t connid, uint8_t flags,
    uint32_t reqid, const void *p, size_t len)
{
	uint8_t	hdr[FZC_MSG_HDR];

	hdr[0] = fzg_type_index(type);
	hdr[1] = fzg_conn_index(connid);
	hdr[2] = flags;
	memcpy(hdr + 3, &reqid, sizeof(reqid));
	fzg_add(in, hdr, sizeof(hdr));
	fzg_add(in, p, len);
}

static void
fzg_guest(struct msg_guest *g, const char *id, const char *tenant)
{
	crypto_auth_hmacsha256_state	st;
	uint8_t				mac[crypto_auth_hmacsha256_BYTES];

	memset(g, 0, sizeof(*g));
	if (id == NULL)
		return;		/* direct mode claims nothing */
	(void)snprintf(g->mg_instance, sizeof(g->mg_instance), "%s", id);
	(void)snprintf(g->mg_tenant, sizeof(g->mg_tenant), "%s", tenant);
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)FZC_SECRET,
	    sizeof(FZC_SECRET) - 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)id, strlen(id));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(g->mg_sig, sizeof(g->mg_sig), mac, sizeof(mac));
}

/* A value of len bytes, cut and hashed as the worker does. */
static void
fzg_pw_put(struct msg_guest_pw_put *mp, const char *id, const char *tenant,
    size_t len)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	crypto_generichash_state st;
	size_t			 i;

	memset(mp, 0, sizeof(*mp));
	fzg_guest(&mp->mp_guest, id, tenant);
	for (i = 0; i < len; i++)
		mp->mp_chunk[i / PW_CHUNK_LEN][i % PW_CHUNK_LEN] =
		    (uint8_t)(len >= 4 && len - i <= 2 ? '=' :
		    b64[(i * 7 + 3) % 64]);
	mp->mp_nchunks = (uint8_t)((len + PW_CHUNK_LEN - 1) / PW_CHUNK_LEN);
	crypto_generichash_init(&st, NULL, 0, PW_DIGEST_LEN);
	for (i = 0; i < mp->mp_nchunks; i++) {
		mp->mp_len[i] = (uint16_t)(i + 1 < mp->mp_nchunks ?
		    PW_CHUNK_LEN : len - i * PW_CHUNK_LEN);
		crypto_generichash_update(&st, mp->mp_chunk[i], mp->mp_len[i]);
	}
	crypto_generichash_final(&st, mp->mp_digest, PW_DIGEST_LEN);
}

static void
fzg_instance(struct msg_instance *mi)
{
	memset(mi, 0, sizeof(*mi));
	(void)snprintf(mi->mn_id, sizeof(mi->mn_id), "%s", FZG_ID_C);
	(void)snprintf(mi->mn_project, sizeof(mi->mn_project), "proj-c");
	(void)snprintf(mi->mn_hostname, sizeof(mi->mn_hostname),
	    "web-1.example.org");
	mi->mn_naddr = 2;
	(void)snprintf(mi->mn_addr[0], sizeof(mi->mn_addr[0]), "10.0.0.7");
	(void)snprintf(mi->mn_addr[1], sizeof(mi->mn_addr[1]), "fd00::7");
	mi->mn_nkeys = 1;
	(void)snprintf(mi->mn_keys[0].mk_name, sizeof(mi->mn_keys[0].mk_name),
	    "default");
	(void)snprintf(mi->mn_keys[0].mk_data, sizeof(mi->mn_keys[0].mk_data),
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ops@example.org");
}

static void
fzg_id(struct msg_id *mi, const char *id)
{
	memset(mi, 0, sizeof(*mi));
	(void)snprintf(mi->md_id, sizeof(mi->md_id), "%s", id);
}

static void
fzg_pw_get(struct msg_pw_get *mq, const char *id, uint32_t wait)
{
	memset(mq, 0, sizeof(*mq));
	(void)snprintf(mq->mq_id, sizeof(mq->mq_id), "%s", id);
	mq->mq_wait = wait;
}

static void
fzg_verify(struct msg_pw_verify *mv, const char *id, const char *value)
{
	memset(mv, 0, sizeof(*mv));
	(void)snprintf(mv->mv_id, sizeof(mv->mv_id), "%s", id);
	mv->mv_len = (uint32_t)strlen(value);
	memcpy(mv->mv_value, value, mv->mv_len);
}

/* Three reports, (connection, status) each; status 0: it closed. */
static void
fzg_reports(struct msg_reports *mr, uint32_t c1, uint32_t s1, uint32_t c2,
    uint32_t s2, uint32_t c3, uint32_t s3)
{
	memset(mr, 0, sizeof(*mr));
	mr->mrs_n = 3;
	mr->mrs_r[0].mr_connid = c1;
	mr->mrs_r[0].mr_status = s1;
	mr->mrs_r[1].mr_connid = c2;
	mr->mrs_r[1].mr_status = s2;
	mr->mrs_r[2].mr_connid = c3;
	mr->mrs_r[2].mr_status = s3;
}

/* One raw frame of every type the worker may send. */
static void
fzg_raw(void)
{
	static struct fzg_input		in;
	static struct msg_guest_pw_put	mp;
	static struct msg_instance	mi;
	struct msg_guest		g;
	static struct msg_pw_verify	mv;
	struct msg_guest_token		gt;
	struct msg_id			id;
	struct msg_list			ml;
	struct msg_pw_get		mq;
	struct msg_key_id		kid;
	static struct msg_reports	mr;
	const uint32_t			proxy = FZC_CONN_ID(FZC_C_PROXY);
	const uint32_t			owner = FZC_CONN_ID(FZC_C_OWNER);
	uint8_t				mode;

#define FZG_RAW(name, m, type, reqid, conn, p, len) do {	\
	in.fi_len = 0;						\
	mode = (m);						\
	fzg_add(&in, &mode, 1);					\
	fzg_frame(&in, (type), (reqid), (conn), (p), (len));	\
	fzg_write((name), &in);					\
} while (0)

	FZG_RAW("raw-init-done", FZC_S_STARTING, MSG_INIT_DONE, 0, 0, NULL, 0);
	FZG_RAW("raw-pong", 0, MSG_PONG, FZC_PING_ID, 0, NULL, 0);
	FZG_RAW("raw-conn-done", 0, MSG_CONN_DONE, 0, proxy, NULL, 0);
	fzg_guest(&g, FZC_ID_A, FZC_PROJECT_A);
	FZG_RAW("raw-guest-ident-proxy", 0, MSG_GUEST_IDENT, 1, proxy, &g,
	    sizeof(g));
	FZG_RAW("raw-guest-ident-fd", FZC_F_FD, MSG_GUEST_IDENT, 1, proxy, &g,
	    sizeof(g));
	FZG_RAW("raw-guest-meta-proxy", 0, MSG_GUEST_META, 2, proxy, &g,
	    sizeof(g));
	FZG_RAW("raw-guest-pw-get-proxy", FZC_S_STOPPING, MSG_GUEST_PW_GET, 3,
	    proxy, &g, sizeof(g));
	fzg_guest(&g, NULL, NULL);
	FZG_RAW("raw-guest-pw-get-direct", 0, MSG_GUEST_PW_GET, 3,
	    FZC_CONN_ID(FZC_C_DIRECT), &g, sizeof(g));
	FZG_RAW("raw-guest-meta-stranger", 0, MSG_GUEST_META, 3,
	    FZC_CONN_ID(FZC_C_STRANGER), &g, sizeof(g));
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, FZG_VALUE_LEN);
	FZG_RAW("raw-guest-pw-put-proxy", 0, MSG_GUEST_PW_PUT, 4, proxy, &mp,
	    sizeof(mp));
	fzg_pw_put(&mp, NULL, NULL, PW_MAX);
	FZG_RAW("raw-guest-pw-put-direct", 0, MSG_GUEST_PW_PUT, 4,
	    FZC_CONN_ID(FZC_C_DIRECT), &mp, sizeof(mp));
	fzg_instance(&mi);
	FZG_RAW("raw-owner-inst-put", 0, MSG_OWNER_INST_PUT, 5, owner, &mi,
	    sizeof(mi));
	fzg_id(&id, FZC_ID_A);
	FZG_RAW("raw-owner-inst-get", 0, MSG_OWNER_INST_GET, 6, owner, &id,
	    sizeof(id));
	FZG_RAW("raw-owner-inst-get-denied", 0, MSG_OWNER_INST_GET, 6,
	    FZC_CONN_ID(FZC_C_DENIED), &id, sizeof(id));
	fzg_pw_get(&mq, FZC_ID_A, 0);
	FZG_RAW("raw-owner-pw-get", 0, MSG_OWNER_PW_GET, 8, owner, &mq,
	    sizeof(mq));
	fzg_verify(&mv, FZC_ID_A, FZC_PW_A);
	FZG_RAW("raw-owner-pw-verify", 0, MSG_OWNER_PW_VERIFY, 8, owner, &mv,
	    sizeof(mv));
	FZG_RAW("raw-owner-keys", 0, MSG_OWNER_KEYS, 14, owner, NULL, 0);
	FZG_RAW("raw-owner-key-rotate", 0, MSG_OWNER_KEY_ROTATE, 15, owner,
	    NULL, 0);
	FZG_RAW("raw-owner-key-rewrap", 0, MSG_OWNER_KEY_REWRAP, 16, owner,
	    NULL, 0);
	kid.mki_id = 1;
	FZG_RAW("raw-owner-key-retire", 0, MSG_OWNER_KEY_RETIRE, 17, owner,
	    &kid, sizeof(kid));
	FZG_RAW("raw-owner-pw-del", 0, MSG_OWNER_PW_DEL, 9, owner, &id,
	    sizeof(id));
	fzg_id(&id, FZC_ID_B);
	FZG_RAW("raw-owner-inst-del", 0, MSG_OWNER_INST_DEL, 7, owner, &id,
	    sizeof(id));
	memset(&ml, 0, sizeof(ml));
	FZG_RAW("raw-owner-inst-list", 0, MSG_OWNER_INST_LIST, 10, owner, &ml,
	    sizeof(ml));
	FZG_RAW("raw-owner-status", 0, MSG_OWNER_STATUS, 11, owner, NULL, 0);
	FZG_RAW("raw-owner-metrics", 0, MSG_OWNER_METRICS, 12, owner, NULL,
	    0);
	memset(&gt, 0, sizeof(gt));
	gt.mgt_ttl = 60;
	FZG_RAW("raw-guest-token-direct", 0, MSG_GUEST_TOKEN, 13,
	    FZC_CONN_ID(FZC_C_DIRECT), &gt, sizeof(gt));
	/* A guest answered, then closed; an owner answered. */
	fzg_reports(&mr, proxy, 200, proxy, 0, owner, 200);
	FZG_RAW("raw-reports", 0, MSG_REPORTS, 0, 0, &mr, sizeof(mr));
	/* A violation: an entry past the count. */
	mr.mrs_n = 2;
	FZG_RAW("raw-reports-past-count", 0, MSG_REPORTS, 0, 0, &mr,
	    sizeof(mr));
#undef FZG_RAW
}

/* Sequences, in the messages form. */
static void
fzg_sequences(void)
{
	static struct fzg_input		in;
	static struct msg_guest_pw_put	mp;
	static struct msg_instance	mi;
	struct msg_guest		g;
	static struct msg_pw_verify	mv;
	struct msg_guest_token		gt;
	struct msg_id			id;
	struct msg_list			ml;
	struct msg_pw_get		mq;
	struct msg_key_id		kid;
	struct msg_owner_auth		mo;
	static struct msg_reports	mr;
	const uint32_t			proxy = FZC_CONN_ID(FZC_C_PROXY);
	const uint32_t			owner = FZC_CONN_ID(FZC_C_OWNER);
	const uint32_t			tokens =
					    FZC_CONN_ID(FZC_C_PROXY_TOKENS);
	const uint32_t			direct = FZC_CONN_ID(FZC_C_DIRECT);
	const uint32_t			tls = FZC_CONN_ID(FZC_C_OWNER_TLS);
	const uint8_t			mode = FZC_MESSAGES;
	const uint8_t			fix = FZC_F_STRS | FZC_F_SIG |
					    FZC_F_LENS | FZC_F_DIGEST;

	/* Set once: put, read back, put again (409). */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, FZG_VALUE_LEN);
	fzg_msg(&in, MSG_GUEST_PW_PUT, proxy, 0, 1, &mp, sizeof(mp));
	fzg_guest(&g, FZC_ID_B, FZC_PROJECT_B);
	fzg_msg(&in, MSG_GUEST_PW_GET, proxy, 0, 2, &g, sizeof(g));
	fzg_msg(&in, MSG_GUEST_PW_PUT, proxy, 0, 3, &mp, sizeof(mp));
	fzg_write("seq-guest-set-once", &in);

	/* The owner clears A; the guest posts again; the owner reads. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_id(&id, FZC_ID_A);
	fzg_msg(&in, MSG_OWNER_PW_DEL, owner, 0, 1, &id, sizeof(id));
	fzg_pw_put(&mp, NULL, NULL, 1);
	fzg_msg(&in, MSG_GUEST_PW_PUT, FZC_CONN_ID(FZC_C_DIRECT), 0, 2, &mp,
	    sizeof(mp));
	fzg_pw_get(&mq, FZC_ID_A, 0);
	fzg_msg(&in, MSG_OWNER_PW_GET, owner, 0, 3, &mq, sizeof(mq));
	fzg_msg(&in, MSG_CONN_DONE, FZC_CONN_ID(FZC_C_DIRECT), 0, 0, NULL, 0);
	fzg_write("seq-clear-and-repost", &in);

	/* Registration life cycle. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_instance(&mi);
	fzg_msg(&in, MSG_OWNER_INST_PUT, owner, 0, 1, &mi, sizeof(mi));
	fzg_msg(&in, MSG_OWNER_INST_PUT, owner, 0, 2, &mi, sizeof(mi));
	fzg_id(&id, FZG_ID_C);
	fzg_msg(&in, MSG_OWNER_INST_GET, owner, 0, 3, &id, sizeof(id));
	memset(&ml, 0, sizeof(ml));
	fzg_msg(&in, MSG_OWNER_INST_LIST, owner, 0, 4, &ml, sizeof(ml));
	(void)snprintf(ml.mls_after, sizeof(ml.mls_after), "%s", FZC_ID_A);
	fzg_msg(&in, MSG_OWNER_INST_LIST, owner, 0, 5, &ml, sizeof(ml));
	fzg_msg(&in, MSG_OWNER_INST_DEL, owner, 0, 6, &id, sizeof(id));
	fzg_msg(&in, MSG_OWNER_STATUS, owner, 0, 7, NULL, 0);
	fzg_write("seq-owner-registration", &in);

	/* Mutations of these keep their shape through the fix-ups. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, 600);
	fzg_msg(&in, MSG_GUEST_PW_PUT, proxy, fix, 1, &mp, sizeof(mp));
	fzg_guest(&g, FZC_ID_A, FZC_PROJECT_A);
	fzg_msg(&in, MSG_GUEST_META, proxy, fix, 2, &g, sizeof(g));
	fzg_write("seq-fixups", &in);

	/* The worker starts, answers a ping, and is told to stop. */
	in.fi_len = 0;
	fzg_add(&in, &(uint8_t){ FZC_MESSAGES | FZC_S_STARTING }, 1);
	fzg_msg(&in, MSG_INIT_DONE, 0, 0, 0, NULL, 0);
	fzg_msg(&in, MSG_PONG, 0, 0, FZC_PING_ID, NULL, 0);
	fzg_msg(&in, MSG_GUEST_IDENT, proxy, FZC_F_FD, 1, &g, sizeof(g));
	fzg_write("seq-start-ping-fd", &in);

	/* Where tokens are required: get one, post with it, read without. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	memset(&gt, 0, sizeof(gt));
	fzg_guest(&gt.mgt_guest, FZC_ID_B, FZC_PROJECT_B);
	gt.mgt_ttl = 60;
	fzg_msg(&in, MSG_GUEST_TOKEN, tokens, 0, 1, &gt, sizeof(gt));
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, FZG_VALUE_LEN);
	fzg_msg(&in, MSG_GUEST_PW_PUT, tokens, FZC_F_TOKEN, 2, &mp, sizeof(mp));
	fzg_guest(&g, FZC_ID_B, FZC_PROJECT_B);
	fzg_msg(&in, MSG_GUEST_PW_GET, tokens, 0, 3, &g, sizeof(g));
	fzg_msg(&in, MSG_GUEST_PW_GET, tokens, FZC_F_TOKEN, 4, &g, sizeof(g));
	fzg_write("seq-token-required", &in);

	/* Where tokens are optional: a direct guest shows one. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	memset(&gt, 0, sizeof(gt));
	gt.mgt_ttl = TOKEN_TTL_MAX;
	fzg_msg(&in, MSG_GUEST_TOKEN, direct, 0, 1, &gt, sizeof(gt));
	fzg_guest(&g, NULL, NULL);
	fzg_msg(&in, MSG_GUEST_META, direct, FZC_F_TOKEN, 2, &g, sizeof(g));
	(void)snprintf(g.mg_token, sizeof(g.mg_token), "%s",
	    "not-a-token-not-a-token-not-a-token-not-a-t");
	fzg_msg(&in, MSG_GUEST_PW_GET, direct, 0, 3, &g, sizeof(g));
	fzg_write("seq-token-optional", &in);

	/* The owner waits for B's value; the guest posts it. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_pw_get(&mq, FZC_ID_B, 30);
	fzg_msg(&in, MSG_OWNER_PW_GET, owner, 0, 1, &mq, sizeof(mq));
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, 20);
	fzg_msg(&in, MSG_GUEST_PW_PUT, proxy, 0, 2, &mp, sizeof(mp));
	fzg_write("seq-owner-waits", &in);

	/* B in verifier mode, one-time reads: put, verify, read twice. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	memset(&mi, 0, sizeof(mi));
	(void)snprintf(mi.mn_id, sizeof(mi.mn_id), "%s", FZC_ID_B);
	(void)snprintf(mi.mn_project, sizeof(mi.mn_project), "%s",
	    FZC_PROJECT_B);
	mi.mn_naddr = 1;
	(void)snprintf(mi.mn_addr[0], sizeof(mi.mn_addr[0]), "%s",
	    FZC_ADDR_B);
	mi.mn_mode = PW_MODE_VERIFIER;
	mi.mn_one_time = 1;
	fzg_msg(&in, MSG_OWNER_INST_PUT, owner, 0, 1, &mi, sizeof(mi));
	fzg_pw_put(&mp, FZC_ID_B, FZC_PROJECT_B, 12);
	fzg_msg(&in, MSG_GUEST_PW_PUT, proxy, 0, 2, &mp, sizeof(mp));
	memset(&mv, 0, sizeof(mv));
	(void)snprintf(mv.mv_id, sizeof(mv.mv_id), "%s", FZC_ID_B);
	mv.mv_len = 12;
	memcpy(mv.mv_value, mp.mp_chunk[0], 12);
	fzg_msg(&in, MSG_OWNER_PW_VERIFY, owner, 0, 3, &mv, sizeof(mv));
	mv.mv_value[0] ^= 1;
	fzg_msg(&in, MSG_OWNER_PW_VERIFY, owner, 0, 4, &mv, sizeof(mv));
	fzg_pw_get(&mq, FZC_ID_B, 0);
	fzg_msg(&in, MSG_OWNER_PW_GET, owner, 0, 5, &mq, sizeof(mq));
	fzg_msg(&in, MSG_OWNER_PW_GET, owner, 0, 6, &mq, sizeof(mq));
	fzg_write("seq-verifier-one-time", &in);

	/* Key life cycle: rotate, list, rewrap, retire the old key. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_msg(&in, MSG_OWNER_KEY_ROTATE, owner, 0, 1, NULL, 0);
	fzg_msg(&in, MSG_OWNER_KEYS, owner, 0, 2, NULL, 0);
	fzg_msg(&in, MSG_OWNER_KEY_REWRAP, owner, 0, 3, NULL, 0);
	kid.mki_id = 1;
	fzg_msg(&in, MSG_OWNER_KEY_RETIRE, owner, 0, 4, &kid, sizeof(kid));
	fzg_pw_get(&mq, FZC_ID_A, 0);
	fzg_msg(&in, MSG_OWNER_PW_GET, owner, 0, 5, &mq, sizeof(mq));
	fzg_write("seq-keys", &in);

	/* An owner over TLS: refused, then allowed by its certificate. */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_id(&id, FZC_ID_A);
	fzg_msg(&in, MSG_OWNER_INST_GET, tls, 0, 1, &id, sizeof(id));
	memset(&mo, 0, sizeof(mo));
	mo.mo_flags = AUTH_F_CERT;
	(void)snprintf(mo.mo_subject, sizeof(mo.mo_subject), "%s",
	    FZC_SUBJECT);
	fzg_msg(&in, MSG_OWNER_AUTH, tls, 0, 2, &mo, sizeof(mo));
	fzg_msg(&in, MSG_OWNER_INST_GET, tls, 0, 3, &id, sizeof(id));
	mo.mo_flags = AUTH_F_TOKEN;
	mo.mo_subject[0] = '\0';
	(void)snprintf(mo.mo_token, sizeof(mo.mo_token), "not-the-token");
	fzg_msg(&in, MSG_OWNER_AUTH, tls, 0, 4, &mo, sizeof(mo));
	fzg_msg(&in, MSG_OWNER_INST_GET, tls, 0, 5, &id, sizeof(id));
	fzg_write("seq-owner-tls-auth", &in);

	/*
	 * A turn's reports: a guest read and an owner status answered, the
	 * guest's connection closed; then the same, through the fix-ups; then
	 * a read on the closed connection: a violation.
	 */
	in.fi_len = 0;
	fzg_add(&in, &mode, 1);
	fzg_guest(&g, FZC_ID_A, FZC_PROJECT_A);
	fzg_msg(&in, MSG_GUEST_PW_GET, proxy, 0, 1, &g, sizeof(g));
	fzg_msg(&in, MSG_OWNER_STATUS, owner, 0, 2, NULL, 0);
	fzg_reports(&mr, proxy, 200, owner, 200, proxy, 0);
	fzg_msg(&in, MSG_REPORTS, 0, 0, 0, &mr, sizeof(mr));
	fzg_guest(&g, NULL, NULL);
	fzg_msg(&in, MSG_GUEST_PW_GET, direct, 0, 3, &g, sizeof(g));
	fzg_reports(&mr, direct, 200, owner, 404, direct, 0);
	fzg_msg(&in, MSG_REPORTS, 0, fix, 0, &mr, sizeof(mr));
	fzg_guest(&g, FZC_ID_A, FZC_PROJECT_A);
	fzg_msg(&in, MSG_GUEST_PW_GET, proxy, 0, 4, &g, sizeof(g));
	fzg_write("seq-reports", &in);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_chan_seeds DIR\n");
		return 2;
	}
	if (sodium_init() == -1)
		return 1;
	fzg_dir = argv[1];
	fzg_raw();
	fzg_sequences();
	return 0;
}
