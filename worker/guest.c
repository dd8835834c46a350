/* SPDX-License-Identifier: ISC */
/*
 * Guest routes: Nova's /openstack tree as docs/nova-compat.md has it.
 * Only "/" is answered without identifying the caller; everything else
 * first asks the broker who the guest is, as Nova's handler does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "privsep/log.h"
#include "privsep/utf8.h"
#include "worker.h"

/* nova/api/metadata/base.py: VERSIONS and OPENSTACK_VERSIONS. */
static const char *const ec2_versions[] = {
	"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
	"2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04",
};
#define EC2_NVERSIONS	(sizeof(ec2_versions) / sizeof(ec2_versions[0]))
static const char *const os_versions[] = {
	"2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
	"2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "2025-04-04",
};
#define OS_NVERSIONS	(int)(sizeof(os_versions) / sizeof(os_versions[0]))
#define V_GRIZZLY	1	/* password */
#define V_HAVANA	2	/* vendor_data.json */
#define V_LIBERTY	3	/* network_data.json */
#define V_NEWTON_TWO	5	/* vendor_data2.json */

#define TXT		"text/plain; charset=UTF-8"

static int
guest_version(const char *v)
{
	int	i;

	if (strcmp(v, "latest") == 0)
		return OS_NVERSIONS - 1;
	for (i = 0; i < OS_NVERSIONS; i++)
		if (strcmp(v, os_versions[i]) == 0)
			return i;
	return -1;
}

static void
guest_route(struct wreq *q, const struct path *p)
{
	const char	*leaf;

	q->wr_endpoint = EP_NOTFOUND;
	if (p->p_nseg == 0) {
		q->wr_endpoint = EP_ROOT;
		return;
	}
	if (strcmp(p->p_seg[0], "openstack") != 0)
		return;
	if (p->p_nseg == 1) {
		q->wr_endpoint = EP_OS_VERSIONS;
		return;
	}
	if (p->p_nseg == 3 && strcmp(p->p_seg[1], "api") == 0 &&
	    strcmp(p->p_seg[2], "token") == 0) {
		q->wr_endpoint = EP_TOKEN;
		return;
	}
	if ((q->wr_version = guest_version(p->p_seg[1])) == -1 ||
	    p->p_nseg > 3)
		return;
	if (p->p_nseg == 2) {
		q->wr_endpoint = EP_OS_LISTING;
		return;
	}
	leaf = p->p_seg[2];
	if (strcmp(leaf, "meta_data.json") == 0)
		q->wr_endpoint = EP_META;
	else if (strcmp(leaf, "password") == 0 && q->wr_version >= V_GRIZZLY)
		q->wr_endpoint = EP_PASSWORD;
	else if (strcmp(leaf, "vendor_data.json") == 0 &&
	    q->wr_version >= V_HAVANA)
		q->wr_endpoint = EP_VENDOR;
	else if (strcmp(leaf, "network_data.json") == 0 &&
	    q->wr_version >= V_LIBERTY)
		q->wr_endpoint = EP_NETWORK;
	else if (strcmp(leaf, "vendor_data2.json") == 0 &&
	    q->wr_version >= V_NEWTON_TWO)
		q->wr_endpoint = EP_VENDOR2;
}

static void
guest_refuse(struct wreq *q, int status, const char *why)
{
	if (q->wr_status == 0) {
		q->wr_status = status;
		q->wr_why = why;
	}
}

/* Copy one identity header; 0 missing, -1 duplicate or too long, 1 ok. */
static int
guest_header(const struct http_req *r, const char *name, char *dst,
    size_t dstsz)
{
	const struct http_field	*f;

	if ((f = http_field(r, name)) == NULL)
		return 0;
	if (http_field_count(r, name) > 1 ||
	    buf_copy_str(&f->hf_value, dst, dstsz) == -1)
		return -1;
	return 1;
}

/* nova-compat §4.1: the order of the checks is Nova's. */
static void
guest_proxy_headers(struct wreq *q, const struct http_req *r)
{
	struct msg_guest	*g = &q->wr_guest;
	const struct http_field	*f;
	int			 iid, sig, ten;

	iid = guest_header(r, "X-Instance-ID", g->mg_instance,
	    sizeof(g->mg_instance));
	sig = guest_header(r, "X-Instance-ID-Signature", g->mg_sig,
	    sizeof(g->mg_sig));
	ten = guest_header(r, "X-Tenant-ID", g->mg_tenant,
	    sizeof(g->mg_tenant));
	if (iid == 0)
		guest_refuse(q, 400,
		    "X-Instance-ID header is missing from request.");
	else if (sig == 0)
		guest_refuse(q, 400,
		    "X-Instance-ID-Signature header is missing from request.");
	else if (ten == 0)
		guest_refuse(q, 400,
		    "X-Tenant-ID header is missing from request.");
	else if (http_field_count(r, "X-Instance-ID") > 1 ||
	    http_field_count(r, "X-Instance-ID-Signature") > 1 ||
	    http_field_count(r, "X-Tenant-ID") > 1)
		guest_refuse(q, 400, "Multiple identity headers found "
		    "within request.");
	else if (iid == -1 || sig == -1)
		/* Longer than any registered id or any valid signature. */
		guest_refuse(q, 403, "Invalid proxy request signature.");
	else if (ten == -1) {
		f = http_field(r, "X-Tenant-ID");
		if (buf_left(&f->hf_value) >= sizeof(g->mg_tenant))
			g->mg_flags |= GUEST_F_TENANT_LONG;
		else
			guest_refuse(q, 400, "Bad X-Tenant-ID header.");
		g->mg_tenant[0] = '\0';
	}
}

/* X-Metadata-Token: a well-formed token goes to the broker to check. */
static void
guest_token_header(struct wreq *q, const struct http_req *r)
{
	struct msg_guest	*g = &q->wr_guest;
	int			 n;

	n = guest_header(r, "X-Metadata-Token", g->mg_token,
	    sizeof(g->mg_token));
	if (n == -1 || (n == 1 && (strlen(g->mg_token) != TOKEN_LEN ||
	    strspn(g->mg_token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_") != TOKEN_LEN))) {
		g->mg_flags |= GUEST_F_TOKEN_BAD;
		g->mg_token[0] = '\0';
	}
}

/*
 * Whether a token PUT came through a proxy of its own.  On a direct
 * listener any forwarding header says so (and is refused anyway).
 * Behind neutron, its proxy always adds exactly one X-Forwarded-For
 * address, the guest's; a second one (a list, or a second field) or a
 * Forwarded header is a hop inside the guest, which IMDSv2 also refuses.
 */
static int
guest_token_proxied(const struct wconn *c, const struct http_req *r)
{
	const struct http_field	*f;
	size_t			 comma;

	if (http_field(r, "Forwarded") != NULL)
		return 1;
	if ((f = http_field(r, "X-Forwarded-For")) == NULL)
		return 0;
	return c->wc_ident == IDENT_DIRECT ||
	    http_field_count(r, "X-Forwarded-For") != 1 ||
	    buf_find(&f->hf_value, ',', &comma) == 0;
}

/* PUT /openstack/api/token with X-Metadata-Token-TTL-Seconds. */
static void
guest_token_route(struct wconn *c, const struct http_req *r)
{
	struct wreq		*q = &c->wc_req;
	const struct http_field	*f;
	uint64_t		 ttl;

	if (c->wc_guard->wg_tokens == GUARD_TOKENS_OFF)
		guest_refuse(q, 404, "Session tokens are not enabled here.");
	else if (q->wr_method != HTTP_M_PUT) {
		q->wr_status = 405;
		q->wr_why = "PUT only.";
	} else if (guest_token_proxied(c, r))
		guest_refuse(q, 403, "A proxied request gets no token.");
	else if ((f = http_field(r, "X-Metadata-Token-TTL-Seconds")) == NULL ||
	    http_field_count(r, "X-Metadata-Token-TTL-Seconds") != 1 ||
	    buf_to_u64(&f->hf_value, TOKEN_TTL_MAX, &ttl) == -1 || ttl == 0)
		guest_refuse(q, 400, "X-Metadata-Token-TTL-Seconds must be 1 "
		    "to 21600.");
	else
		q->wr_ttl = (uint32_t)ttl;
}

void
guest_prepare(struct wconn *c, const struct http_req *r, const struct path *p)
{
	struct wreq		*q = &c->wc_req;
	const struct wguard	*g = c->wc_guard;
	const struct http_field	*f;

	guest_route(q, p);
	/* require_header: a GET-only SSRF cannot add a header. */
	if (g->wg_header[0] != '\0' &&
	    ((f = http_field(r, g->wg_header)) == NULL ||
	    http_field_count(r, g->wg_header) != 1 ||
	    !buf_eq(&f->hf_value, g->wg_value)))
		guest_refuse(q, 403, "A required header is missing.");
	if (g->wg_tokens != GUARD_TOKENS_OFF)
		guest_token_header(q, r);
	if (q->wr_endpoint == EP_TOKEN)
		guest_token_route(c, r);
	if (c->wc_ident == IDENT_DIRECT) {
		/* Headers can never change who a direct guest is. */
		if (http_field(r, "X-Forwarded-For") != NULL ||
		    http_field(r, "Forwarded") != NULL)
			guest_refuse(q, 400, "Proxied requests are not "
			    "accepted on this listener.");
		return;
	}
	if (q->wr_endpoint != EP_ROOT)
		guest_proxy_headers(q, r);
}

static void
guest_listing(struct wconn *c, const char *const *items, size_t n)
{
	char	body[512];
	size_t	i, off = 0;
	int	k;

	for (i = 0; i < n; i++) {
		k = snprintf(body + off, sizeof(body) - off, "%s%s",
		    i ? "\n" : "", items[i]);
		if (k < 0 || (size_t)k >= sizeof(body) - off)
			fatalx("listing too long");
		off += (size_t)k;
	}
	reply_send(c, 200, TXT, body, off);
}

static void
guest_os_versions(struct wconn *c)
{
	const char	*items[OS_NVERSIONS + 1];
	char		 today[16];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 n = 0;
	int		 i;

	/*
	 * Nova lists only versions dated today or earlier.  tzset() ran
	 * before the sandbox, so gmtime_r opens no file here.
	 */
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	for (i = 0; i < OS_NVERSIONS; i++)
		if (strcmp(os_versions[i], today) <= 0)
			items[n++] = os_versions[i];
	items[n++] = "latest";
	guest_listing(c, items, n);
}

static void
guest_os_listing(struct wconn *c, int v)
{
	const char	*items[6];
	size_t		 n = 0;

	items[n++] = "meta_data.json";
	if (v >= V_GRIZZLY)
		items[n++] = "password";
	if (v >= V_HAVANA)
		items[n++] = "vendor_data.json";
	if (v >= V_LIBERTY)
		items[n++] = "network_data.json";
	if (v >= V_NEWTON_TWO)
		items[n++] = "vendor_data2.json";
	guest_listing(c, items, n);
}

static void
guest_root(struct wconn *c)
{
	const char	*items[EC2_NVERSIONS + 1];
	size_t		 i;

	for (i = 0; i < EC2_NVERSIONS; i++)
		items[i] = ec2_versions[i];
	items[i++] = "latest";
	guest_listing(c, items, i);
}

static const char *
guest_why(int status)
{
	switch (status) {
	case 400:
		return "The request is not valid.";
	case 401:
		return "A valid X-Metadata-Token is required.";
	case 403:
		return "Invalid proxy request signature.";
	case 404:
		return "The resource could not be found.";
	case 409:
		return "A password is already set.";
	case 411:
		return "A Content-Length header is required.";
	case 429:
		return "Too many requests; slow down.";
	case 503:
		return "The store is unavailable; try again later.";
	default:
		return "An unknown error has occurred. "
		    "Please try your request again.";
	}
}

/* Split the value into Nova's layout and hash it for the broker. */
static void
guest_put(struct worker *w, struct wconn *c, const struct buf *body)
{
	struct msg_guest_pw_put	 mp;
	crypto_generichash_state st;
	struct buf		 b = *body, chunk;
	size_t			 n;

	memset(&mp, 0, sizeof(mp));
	mp.mp_guest = c->wc_req.wr_guest;
	mp.mp_reject = c->wc_req.wr_reject;
	if (mp.mp_reject == 0 && (buf_left(&b) > PW_MAX || !utf8_valid(&b)))
		mp.mp_reject = 400;
	crypto_generichash_init(&st, NULL, 0, PW_DIGEST_LEN);
	while (mp.mp_reject == 0 && buf_left(&b) > 0) {
		n = buf_left(&b) < PW_CHUNK_LEN ? buf_left(&b) : PW_CHUNK_LEN;
		if (buf_take(&b, n, &chunk) == -1 ||
		    buf_get(&chunk, mp.mp_chunk[mp.mp_nchunks], n) == -1)
			fatalx("chunking");
		crypto_generichash_update(&st, mp.mp_chunk[mp.mp_nchunks], n);
		mp.mp_len[mp.mp_nchunks++] = (uint16_t)n;
	}
	crypto_generichash_final(&st, mp.mp_digest, sizeof(mp.mp_digest));
	conn_request(w, c, MSG_GUEST_PW_PUT, &mp, sizeof(mp));
	sodium_memzero(&mp, sizeof(mp));
}

static void
guest_token_ask(struct worker *w, struct wconn *c)
{
	struct msg_guest_token	mt;

	memset(&mt, 0, sizeof(mt));
	mt.mgt_guest = c->wc_req.wr_guest;
	mt.mgt_ttl = c->wc_req.wr_ttl;
	conn_request(w, c, MSG_GUEST_TOKEN, &mt, sizeof(mt));
}

void
guest_dispatch(struct worker *w, struct wconn *c, const struct buf *body)
{
	struct wreq	*q = &c->wc_req;

	if (q->wr_status != 0) {
		reply_text_error(c, q->wr_status, q->wr_why);
		conn_reply_ready(w, c);
		return;
	}
	if (q->wr_endpoint == EP_ROOT) {
		guest_root(c);
		conn_reply_ready(w, c);
		return;
	}
	if (q->wr_endpoint == EP_PASSWORD && q->wr_method == HTTP_M_POST)
		guest_put(w, c, body);
	else if (q->wr_endpoint == EP_PASSWORD && q->wr_method == HTTP_M_GET)
		conn_request(w, c, MSG_GUEST_PW_GET, &q->wr_guest,
		    sizeof(q->wr_guest));
	else if (q->wr_endpoint == EP_META)
		conn_request(w, c, MSG_GUEST_META, &q->wr_guest,
		    sizeof(q->wr_guest));
	else if (q->wr_endpoint == EP_TOKEN)
		guest_token_ask(w, c);
	else
		conn_request(w, c, MSG_GUEST_IDENT, &q->wr_guest,
		    sizeof(q->wr_guest));
}

static void
guest_meta(struct wconn *c, const struct msg_instance *mi)
{
	json_t		*j, *pk, *keys;
	char		*s;
	const char	*name;
	uint32_t	 i;

	name = mi->mn_hostname[0] != '\0' ? mi->mn_hostname : mi->mn_id;
	if ((pk = json_object()) == NULL || (keys = json_array()) == NULL)
		fatalx("json");
	for (i = 0; i < mi->mn_nkeys && i < INST_KEYS_MAX; i++) {
		if (json_object_set_new(pk, mi->mn_keys[i].mk_name,
		    json_string(mi->mn_keys[i].mk_data)) == -1 ||
		    json_array_append_new(keys, json_pack("{s:s,s:s,s:s}",
		    "name", mi->mn_keys[i].mk_name, "type", "ssh",
		    "data", mi->mn_keys[i].mk_data)) == -1)
			fatalx("json");
	}
	j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:o}", "uuid", mi->mn_id,
	    "name", name, "hostname", name, "project_id", mi->mn_project,
	    "launch_index", 0, "public_keys", pk, "keys", keys);
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("json");
	json_decref(j);
	reply_send(c, 200, "application/json", s, strlen(s));
	free(s);
}

static void
guest_found(struct wconn *c)
{
	static const char	 network[] =
	    "{\"links\":[],\"networks\":[],\"services\":[]}";
	struct wreq		*q = &c->wc_req;

	switch (q->wr_endpoint) {
	case EP_OS_VERSIONS:
		guest_os_versions(c);
		break;
	case EP_OS_LISTING:
		guest_os_listing(c, q->wr_version);
		break;
	case EP_VENDOR:
	case EP_VENDOR2:
		reply_send(c, 200, "application/json", "{}", 2);
		break;
	case EP_NETWORK:
		reply_send(c, 200, "application/json", network,
		    sizeof(network) - 1);
		break;
	case EP_PASSWORD:
		reply_text_error(c, 400, "GET and POST only are supported.");
		break;
	default:
		reply_text_error(c, 404, guest_why(404));
		break;
	}
}

void
guest_answer(struct worker *w, struct wconn *c, const struct chan_msg *m)
{
	static struct msg_instance_ans	 ma;
	struct msg_status		 ms;
	struct msg_pw			 mw;
	struct msg_token_ans		 ta;
	int				 status;

	switch (m->m_hdr.ch_type) {
	case MSG_GUEST_IDENT_ANS:
	case MSG_GUEST_PW_PUT_ANS:
		if (chan_get(m, &ms, sizeof(ms)) == -1)
			fatalx("bad answer from broker");
		status = (int)ms.ms_status;
		if (status != 200)
			reply_text_error(c, status, guest_why(status));
		else if (m->m_hdr.ch_type == MSG_GUEST_PW_PUT_ANS)
			reply_send(c, 200, TXT, "", 0);
		else
			guest_found(c);
		break;
	case MSG_GUEST_META_ANS:
		if (chan_get(m, &ma, sizeof(ma)) == -1)
			fatalx("bad answer from broker");
		if (ma.mia_status != 200)
			reply_text_error(c, (int)ma.mia_status,
			    guest_why((int)ma.mia_status));
		else
			guest_meta(c, &ma.mia_inst);
		break;
	case MSG_GUEST_TOKEN_ANS:
		if (chan_get(m, &ta, sizeof(ta)) == -1 ||
		    !chan_str_ok(ta.mta_token, sizeof(ta.mta_token)))
			fatalx("bad answer from broker");
		if (ta.mta_status != 200)
			reply_text_error(c, (int)ta.mta_status,
			    guest_why((int)ta.mta_status));
		else
			reply_send(c, 200, TXT, ta.mta_token,
			    strlen(ta.mta_token));
		sodium_memzero(&ta, sizeof(ta));
		break;
	case MSG_GUEST_PW_GET_ANS:
		if (chan_get(m, &mw, sizeof(mw)) == -1 || mw.mw_len > PW_MAX)
			fatalx("bad answer from broker");
		if (mw.mw_status != 200)
			reply_text_error(c, (int)mw.mw_status,
			    guest_why((int)mw.mw_status));
		else
			reply_send(c, 200, TXT, mw.mw_value, mw.mw_len);
		sodium_memzero(&mw, sizeof(mw));
		break;
	default:
		fatalx("unexpected answer type %u", m->m_hdr.ch_type);
	}
	conn_reply_ready(w, c);
}
