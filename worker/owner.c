/* SPDX-License-Identifier: ISC */
/*
 * Owner routes on the unix socket: Nova's os-server-password, instance
 * registration and status.  JSON goes through jansson only.  The broker
 * decides who may call them (SO_PEERCRED); the worker only checks shape.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "privsep/log.h"
#include "privsep/validate.h"
#include "worker.h"

#define JSON_TYPE	"application/json"

/* Lowercase a path segment into a canonical uuid, or fail. */
static int
owner_uuid(const char *seg, char *dst)
{
	size_t	i;

	if (strlen(seg) != ID_LEN)
		return -1;
	for (i = 0; i <= ID_LEN; i++)
		dst[i] = (char)tolower((unsigned char)seg[i]);
	return valid_uuid(dst) ? 0 : -1;
}

/* A key id: decimal, 1 to 2^32-1, no sign or leading zero. */
static int
owner_key_id(const char *seg, uint32_t *id)
{
	struct buf	b;
	uint64_t	v;

	buf_init(&b, seg, strlen(seg));
	if (seg[0] == '0' || buf_to_u64(&b, UINT32_MAX, &v) == -1 || v == 0)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/*
 * ?wait=SECONDS in a query of name=value pairs; other names are ignored,
 * as Nova ignores them.  -1 for a bad or repeated wait.
 */
static int
owner_wait(const struct buf *query, uint32_t *wait)
{
	struct buf	q = *query, pair, name;
	uint64_t	v;
	int		seen = 0;

	*wait = 0;
	while (buf_left(&q) > 0) {
		if (buf_sep(&q, '&', &pair) == -1)
			break;
		if (buf_sep(&pair, '=', &name) == -1 || !buf_eq(&name, "wait"))
			continue;
		if (seen++ || buf_to_u64(&pair, PW_WAIT_MAX, &v) == -1)
			return -1;
		*wait = (uint32_t)v;
	}
	return 0;
}

/*
 * GET /instances?limit=N&marker=ID: a page of at most N (1 to 1000,
 * default 1000) instances after ID in id order.  The marker need not
 * exist any more: a walk survives the deletion of its last entry.  NULL,
 * or what is wrong with the query.
 */
static const char *
owner_list_query(const struct buf *query, struct wreq *q)
{
	struct buf	qb = *query, pair, name;
	uint64_t	v;
	char		marker[ID_LEN + 2];
	int		seen_limit = 0, seen_marker = 0;

	q->wr_limit = OWNER_LIST_LIMIT;
	q->wr_after[0] = '\0';
	while (buf_left(&qb) > 0) {
		if (buf_sep(&qb, '&', &pair) == -1)
			break;
		if (buf_sep(&pair, '=', &name) == -1)
			continue;
		if (buf_eq(&name, "limit")) {
			if (seen_limit++ || buf_to_u64(&pair, OWNER_LIST_LIMIT,
			    &v) == -1 || v == 0)
				return "limit: 1 to 1000 instances";
			q->wr_limit = (uint32_t)v;
		} else if (buf_eq(&name, "marker")) {
			if (seen_marker++ || buf_copy_str(&pair, marker,
			    sizeof(marker)) == -1 ||
			    owner_uuid(marker, q->wr_after) == -1)
				return "marker: an instance id (uuid)";
		}
	}
	return NULL;
}

static void
owner_refuse(struct wreq *q, int status, const char *why)
{
	if (q->wr_status == 0) {
		q->wr_status = status;
		q->wr_why = why;
	}
}

void
owner_prepare(struct wconn *c, const struct http_req *r, const struct path *p)
{
	struct wreq	*q = &c->wc_req;
	enum http_method m = q->wr_method;
	const char	*why;
	int		 allowed;

	/* Over TLS the broker judges each request's credentials first. */
	if (!c->wc_authorized && c->wc_tls == NULL) {
		owner_refuse(q, 403, "peer not allowed");
		return;
	}
	if (p->p_nseg == 1 && strcmp(p->p_seg[0], "instances") == 0) {
		q->wr_endpoint = EP_O_LIST;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD;
		if ((why = owner_list_query(&r->hr_query, q)) != NULL)
			owner_refuse(q, 400, why);
	} else if (p->p_nseg == 1 &&
	    strcmp(p->p_seg[0], "instances:batch") == 0) {
		q->wr_endpoint = EP_O_BATCH;
		allowed = m == HTTP_M_POST;
	} else if (p->p_nseg == 2 && strcmp(p->p_seg[0], "instances") == 0) {
		q->wr_endpoint = EP_O_INST;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD ||
		    m == HTTP_M_PUT || m == HTTP_M_DELETE;
		if (owner_uuid(p->p_seg[1], q->wr_id) == -1)
			owner_refuse(q, 400, "invalid instance id");
	} else if (p->p_nseg == 3 && strcmp(p->p_seg[0], "servers") == 0 &&
	    strcmp(p->p_seg[2], "os-server-password") == 0) {
		q->wr_endpoint = EP_O_PW;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD ||
		    m == HTTP_M_DELETE;
		if (owner_uuid(p->p_seg[1], q->wr_id) == -1)
			owner_refuse(q, 400, "invalid server id");
		else if (owner_wait(&r->hr_query, &q->wr_wait) == -1)
			owner_refuse(q, 400, "wait: seconds, 0 to 600");
	} else if (p->p_nseg == 4 && strcmp(p->p_seg[0], "servers") == 0 &&
	    strcmp(p->p_seg[2], "os-server-password") == 0 &&
	    strcmp(p->p_seg[3], "verify") == 0) {
		q->wr_endpoint = EP_O_VERIFY;
		allowed = m == HTTP_M_POST;
		if (owner_uuid(p->p_seg[1], q->wr_id) == -1)
			owner_refuse(q, 400, "invalid server id");
	} else if (p->p_nseg == 1 && strcmp(p->p_seg[0], "status") == 0) {
		q->wr_endpoint = EP_O_STATUS;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD;
	} else if (p->p_nseg == 1 && strcmp(p->p_seg[0], "metrics") == 0) {
		q->wr_endpoint = EP_O_METRICS;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD;
	} else if (p->p_nseg == 1 && strcmp(p->p_seg[0], "keys") == 0) {
		q->wr_endpoint = EP_O_KEYS;
		allowed = m == HTTP_M_GET || m == HTTP_M_HEAD;
	} else if (p->p_nseg == 2 && strcmp(p->p_seg[0], "keys") == 0 &&
	    (strcmp(p->p_seg[1], "rotate") == 0 ||
	    strcmp(p->p_seg[1], "rewrap") == 0)) {
		q->wr_endpoint = EP_O_KEY_ACTION;
		q->wr_key_op = strcmp(p->p_seg[1], "rotate") == 0 ?
		    MSG_OWNER_KEY_ROTATE : MSG_OWNER_KEY_REWRAP;
		allowed = m == HTTP_M_POST;
	} else if (p->p_nseg == 2 && strcmp(p->p_seg[0], "keys") == 0) {
		q->wr_endpoint = EP_O_KEY;
		allowed = m == HTTP_M_DELETE;
		if (owner_key_id(p->p_seg[1], &q->wr_key_id) == -1)
			owner_refuse(q, 400, "invalid key id");
	} else {
		owner_refuse(q, 404, "no such resource");
		return;
	}
	if (!allowed) {
		q->wr_status = 405;
		q->wr_why = "method not allowed";
	}
}

static const char *owner_instance_fields(json_t *, const char *,
		    struct msg_instance *);
static void	owner_json(struct wconn *, int, json_t *);
static const char *owner_why(int);

static int
owner_str(json_t *v, char *dst, size_t dstsz)
{
	const char	*s;

	if (!json_is_string(v) || (s = json_string_value(v)) == NULL ||
	    strlen(s) != json_string_length(v) || strlen(s) >= dstsz)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A JSON object of at most OWNER_BODY_MAX bytes, or NULL and why not. */
static json_t *
owner_load_object(const struct buf *body, const char **why)
{
	json_t		*j;
	json_error_t	 jerr;
	struct buf	 b = *body;
	static uint8_t	 raw[OWNER_BODY_MAX];
	size_t		 len = buf_left(&b);

	*why = NULL;
	if (buf_get(&b, raw, len) == -1) {
		*why = "body too large";
		return NULL;
	}
	j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		*why = "body is not valid JSON";
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		*why = "body must be a JSON object";
	}
	return j;
}

/*
 * The registration body; NULL on success, else what is wrong with it.
 * Not static: tests/fuzz/fuzz_owner_json.c calls it.
 */
const char *
owner_parse_instance(const struct buf *body, const char *id,
    struct msg_instance *mi)
{
	json_t		*j;
	const char	*why;

	memset(mi, 0, sizeof(*mi));
	if ((j = owner_load_object(body, &why)) == NULL)
		return why;
	why = owner_instance_fields(j, id, mi);
	json_decref(j);
	return why;
}

/* The fields of a registration object j (consumed by the caller). */
static const char *
owner_instance_fields(json_t *j, const char *id, struct msg_instance *mi)
{
	json_t		*v, *a;
	const char	*key, *why = NULL;
	char		 addr[ADDR_MAX + 1];
	static char	 addr_err[160];
	size_t		 i;

	(void)snprintf(mi->mn_id, sizeof(mi->mn_id), "%s", id);
	json_object_foreach(j, key, v) {
		if (strcmp(key, "project_id") == 0) {
			if (owner_str(v, mi->mn_project,
			    sizeof(mi->mn_project)) == -1 ||
			    !valid_project(mi->mn_project))
				why = "project_id: 1-64 characters of "
				    "[A-Za-z0-9_-]";
		} else if (strcmp(key, "hostname") == 0) {
			if (owner_str(v, mi->mn_hostname,
			    sizeof(mi->mn_hostname)) == -1 ||
			    !valid_hostname(mi->mn_hostname))
				why = "hostname: up to 255 characters of "
				    "[A-Za-z0-9.-]";
		} else if (strcmp(key, "addresses") == 0) {
			if (!json_is_array(v) ||
			    json_array_size(v) > INST_ADDRS_MAX) {
				why = "addresses: an array of at most 8 "
				    "addresses";
				continue;
			}
			json_array_foreach(v, i, a) {
				if (owner_str(a, addr, sizeof(addr)) == -1) {
					why = "addresses: each must be a "
					    "literal IPv4 or IPv6 address in "
					    "canonical form";
					break;
				}
				if ((why = addr_why(addr)) != NULL) {
					(void)snprintf(addr_err,
					    sizeof(addr_err), "addresses: %s",
					    why);
					why = addr_err;
					break;
				}
				memcpy(mi->mn_addr[mi->mn_naddr++], addr,
				    strlen(addr) + 1);
			}
		} else if (strcmp(key, "password_ttl") == 0) {
			/* 0: never; omitted: the deployment's default. */
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > PW_TTL_MAX)
				why = "password_ttl: seconds, 0 for never";
			else
				mi->mn_pw_ttl = json_integer_value(v) == 0 ?
				    -1 : (int32_t)json_integer_value(v);
		} else if (strcmp(key, "password_mode") == 0) {
			if (!json_is_string(v) || (strcmp(json_string_value(v),
			    "escrow") != 0 && strcmp(json_string_value(v),
			    "verifier") != 0))
				why = "password_mode: escrow or verifier";
			else
				mi->mn_mode = strcmp(json_string_value(v),
				    "escrow") == 0 ? PW_MODE_ESCROW :
				    PW_MODE_VERIFIER;
		} else if (strcmp(key, "one_time_read") == 0) {
			if (!json_is_boolean(v))
				why = "one_time_read: true or false";
			else
				mi->mn_one_time = json_is_true(v) ? 1 : -1;
		} else if (strcmp(key, "public_keys") == 0) {
			const char	*kname;
			json_t		*kv;

			if (!json_is_object(v) ||
			    json_object_size(v) > INST_KEYS_MAX) {
				why = "public_keys: an object of at most 4 "
				    "keys";
				continue;
			}
			json_object_foreach(v, kname, kv) {
				struct msg_key *k = &mi->mn_keys[mi->mn_nkeys];

				if (strlen(kname) >= sizeof(k->mk_name) ||
				    !valid_key_name(kname) ||
				    owner_str(kv, k->mk_data,
				    sizeof(k->mk_data)) == -1 ||
				    !valid_key_data(k->mk_data)) {
					why = "public_keys: name => "
					    "\"TYPE BASE64 [COMMENT]\"";
					break;
				}
				memcpy(k->mk_name, kname, strlen(kname) + 1);
				mi->mn_nkeys++;
			}
		} else
			why = "unknown field";
		if (why != NULL)
			break;
	}
	if (why == NULL && mi->mn_project[0] == '\0')
		why = "project_id is required";
	if (why == NULL && !valid_instance(mi))
		why = "duplicate address or key name";
	return why;
}

/*
 * POST /instances:batch: what the worker keeps of each entry sent, to
 * name it in the answer.
 */
struct wbatch_entry {
	uint32_t	line;
	char		id[ID_LEN + 1];
};

struct wbatch {
	uint32_t		n;
	struct wbatch_entry	e[BATCH_MAX];
};

static int
owner_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* The id of a batch line, taken out of j; NULL or what is wrong. */
static const char *
owner_batch_id(json_t *j, char *id)
{
	char	raw[ID_LEN + 1];

	if (owner_str(json_object_get(j, "id"), raw, sizeof(raw)) == -1 ||
	    owner_uuid(raw, id) == -1) {
		id[0] = '\0';
		return "id: an instance id (uuid) is required";
	}
	if (json_object_del(j, "id") == -1)
		fatalx("json");
	return NULL;
}

static void
owner_batch_error(json_t *errs, uint32_t line, const char *id,
    const char *why)
{
	json_t	*e;

	if ((e = json_pack("{s:I,s:s}", "line", (json_int_t)line, "error",
	    why)) == NULL || (id[0] != '\0' && json_object_set_new(e, "id",
	    json_string(id)) == -1) || json_array_append_new(errs, e) == -1)
		fatalx("json");
}

/*
 * The same id twice: the later line is named.  A hash set (FNV-1a, open
 * addressing), as glibc's qsort asks sysinfo(2), which seccomp kills.
 */
static void
owner_batch_twice(const struct wbatch *wb, json_t *errs)
{
	static uint16_t	 set[2 * BATCH_MAX];	/* entry + 1; 0: free */
	const char	*id;
	uint32_t	 h, i, k;

	memset(set, 0, sizeof(set));
	for (i = 0; i < wb->n; i++) {
		if ((id = wb->e[i].id)[0] == '\0')
			continue;
		for (h = 2166136261u, k = 0; id[k] != '\0'; k++)
			h = (h ^ (uint8_t)id[k]) * 16777619u;
		for (h %= 2 * BATCH_MAX; set[h] != 0 &&
		    strcmp(wb->e[set[h] - 1].id, id) != 0;
		    h = (h + 1) % (2 * BATCH_MAX))
			;
		if (set[h] != 0)
			owner_batch_error(errs, wb->e[i].line, id,
			    "id: twice in the batch");
		else
			set[h] = (uint16_t)(i + 1);
	}
}

/* One line of a batch into mi and id; NULL, or what is wrong with it. */
static const char *
owner_batch_line(const struct buf *line, char *id, struct msg_instance *mi)
{
	json_t		*j;
	const char	*why;

	id[0] = '\0';
	memset(mi, 0, sizeof(*mi));
	if ((j = owner_load_object(line, &why)) == NULL)
		return why;
	if ((why = owner_batch_id(j, id)) == NULL)
		why = owner_instance_fields(j, id, mi);
	json_decref(j);
	return why;
}

/*
 * Each line of the body (NDJSON) is a registration as PUT
 * /instances/{id} takes it, with its "id"; blank lines are skipped.
 * Every line is parsed and checked, and every fault named, before
 * anything is sent; the entries are parsed again as they are sent, one
 * at a time, so that no batch is ever held whole (10 KB an entry).
 * 0, or -1 after a refusal was put in wc_out.
 */
static int
owner_batch_parse(struct wconn *c, const struct buf *body,
    struct wbatch *wb)
{
	static struct msg_instance	 mi;
	struct buf			 b = *body, line;
	json_t				*errs;
	const char			*why;
	char				 id[ID_LEN + 1], msg[96];
	uint32_t			 n = 0, no = 0;

	while (buf_sep(&b, '\n', &line) == 0)
		n += !buf_all(&line, owner_blank);
	if (n == 0 || n > BATCH_MAX) {
		reply_json_error(c, n == 0 ? 400 : 413, n == 0 ?
		    "no entries: one JSON object per line" :
		    "at most 1000 entries per request");
		return -1;
	}
	if ((errs = json_array()) == NULL)
		fatal("json_array");
	b = *body;
	while (buf_sep(&b, '\n', &line) == 0) {
		no++;
		if (buf_all(&line, owner_blank))
			continue;
		if ((why = owner_batch_line(&line, id, &mi)) != NULL)
			owner_batch_error(errs, no, id, why);
		wb->e[wb->n].line = no;
		memcpy(wb->e[wb->n].id, id, sizeof(id));
		wb->n++;
	}
	owner_batch_twice(wb, errs);
	if (json_array_size(errs) == 0) {
		json_decref(errs);
		return 0;
	}
	(void)snprintf(msg, sizeof(msg), "%zu of %u entries are invalid; "
	    "none was registered", json_array_size(errs), n);
	owner_json(c, 400, json_pack("{s:s,s:o}", "error", msg, "errors",
	    errs));
	return -1;
}

/*
 * Room for one more batch: fewer than BATCH_INFLIGHT unanswered (the
 * broker holds at most BATCH_HELD_MAX), and room in the channel's queue
 * of CHAN_QUEUE_MAX frames for all of its own.
 */
int
owner_batch_room(const struct worker *w)
{
	return w->w_batch_out < BATCH_INFLIGHT &&
	    w->w_chan.c_queued + BATCH_MAX + 2 <= CHAN_QUEUE_MAX / 2;
}

/*
 * Sent: BEGIN, an ENTRY per line, END with the count, answered once.
 * Without room, the batch waits its turn behind those that came first
 * (owner_batch_next), its body still in the connection's buffer.
 */
static void
owner_batch(struct worker *w, struct wconn *c, const struct buf *body)
{
	static struct msg_instance	 mi;
	struct wreq			*q = &c->wc_req;
	struct msg_batch_end		 me;
	struct buf			 b = *body, line;
	char				 id[ID_LEN + 1];

	if (!owner_batch_room(w) || (!q->wr_batch_go &&
	    w->w_batch_waiting > 0)) {
		q->wr_batch_turn = ++w->w_batch_ticket;
		w->w_batch_waiting++;
		c->wc_state = WC_WAIT;
		return;
	}
	q->wr_batch_go = 0;
	if (q->wr_batch == NULL &&
	    (q->wr_batch = calloc(1, sizeof(*q->wr_batch))) == NULL)
		fatal("calloc");
	q->wr_batch->n = 0;
	if (owner_batch_parse(c, body, q->wr_batch) == -1) {
		conn_reply_ready(w, c);
		return;
	}
	conn_reports_flush(w);
	if (chan_send(&w->w_chan, MSG_OWNER_BATCH_BEGIN, 0, c->wc_id, NULL,
	    0, -1) == -1)
		fatal("channel to broker");
	while (buf_sep(&b, '\n', &line) == 0) {
		if (buf_all(&line, owner_blank))
			continue;
		/* The same bytes as a moment ago: they parse the same. */
		if (owner_batch_line(&line, id, &mi) != NULL)
			fatalx("batch line no longer parses");
		if (chan_send(&w->w_chan, MSG_OWNER_BATCH_ENTRY, 0, c->wc_id,
		    &mi, sizeof(mi), -1) == -1)
			fatal("channel to broker");
	}
	memset(&me, 0, sizeof(me));
	me.mbe_n = q->wr_batch->n;
	q->wr_batch_out = 1;
	w->w_batch_out++;
	conn_request(w, c, MSG_OWNER_BATCH_END, &me, sizeof(me));
}

/* There is room: the connection that waited longest goes next. */
void
owner_batch_next(struct worker *w)
{
	struct wconn	*c, *next = NULL;
	uint32_t	 i;

	for (i = 0; i < w->w_max; i++) {
		c = &w->w_conns[i];
		if (c->wc_id != 0 && c->wc_req.wr_batch_turn != 0 &&
		    (next == NULL || c->wc_req.wr_batch_turn <
		    next->wc_req.wr_batch_turn))
			next = c;
	}
	if (next == NULL) {
		w->w_batch_waiting = 0;
		return;
	}
	next->wc_req.wr_batch_turn = 0;
	next->wc_req.wr_batch_go = 1;
	w->w_batch_waiting--;
	conn_resume(w, next);
}

/* c closes: its turn, or its batch in flight, no longer counts. */
void
owner_batch_gone(struct worker *w, struct wconn *c)
{
	if (c->wc_req.wr_batch_turn != 0 && w->w_batch_waiting > 0)
		w->w_batch_waiting--;
	c->wc_req.wr_batch_turn = 0;
	if (c->wc_req.wr_batch_out && w->w_batch_out > 0)
		w->w_batch_out--;
	c->wc_req.wr_batch_out = 0;
}

/* The broker's verdict on a batch, each entry named by line and id. */
static void
owner_batch_answer(struct worker *w, struct wconn *c,
    const struct chan_msg *m)
{
	static struct msg_batch_ans	 ma;
	const struct wbatch		*wb = c->wc_req.wr_batch;
	const struct wbatch_entry	*e;
	json_t				*errs;
	uint32_t			 i;
	int				 status;

	if (c->wc_req.wr_batch_out && w->w_batch_out > 0)
		w->w_batch_out--;
	c->wc_req.wr_batch_out = 0;
	if (chan_get(m, &ma, sizeof(ma)) == -1 || wb == NULL ||
	    ma.mba_nerr > BATCH_ERR_MAX || ma.mba_created > wb->n)
		fatalx("bad answer from broker");
	status = (int)ma.mba_status;
	if (status == 200) {
		owner_json(c, 200, json_pack("{s:I,s:I,s:I}", "registered",
		    (json_int_t)wb->n, "created", (json_int_t)ma.mba_created,
		    "updated", (json_int_t)(wb->n - ma.mba_created)));
		return;
	}
	if (ma.mba_nerr == 0) {
		reply_json_error(c, status, owner_why(status));
		return;
	}
	if ((errs = json_array()) == NULL)
		fatalx("json");
	for (i = 0; i < ma.mba_nerr; i++) {
		if (ma.mba_err[i].index >= wb->n)
			fatalx("bad answer from broker");
		e = &wb->e[ma.mba_err[i].index];
		owner_batch_error(errs, e->line, e->id,
		    ma.mba_err[i].status == 409 ? "an address is registered "
		    "to another instance, or to an entry before it" :
		    owner_why((int)ma.mba_err[i].status));
	}
	owner_json(c, status, json_pack("{s:s,s:o}", "error",
	    "none was registered", "errors", errs));
}

/* The candidate is the whole body, as a guest's POST is. */
static void
owner_verify(struct worker *w, struct wconn *c, const struct buf *body)
{
	static struct msg_pw_verify	mv;
	struct buf			b = *body;

	if (buf_left(&b) > PW_MAX) {
		reply_json_error(c, 400, "a candidate is at most 1020 bytes");
		conn_reply_ready(w, c);
		return;
	}
	memset(&mv, 0, sizeof(mv));
	memcpy(mv.mv_id, c->wc_req.wr_id, sizeof(mv.mv_id));
	mv.mv_len = (uint32_t)buf_left(&b);
	if (buf_get(&b, mv.mv_value, mv.mv_len) == -1)
		fatalx("verify body");
	conn_request(w, c, MSG_OWNER_PW_VERIFY, &mv, sizeof(mv));
	sodium_memzero(&mv, sizeof(mv));
}

void
owner_dispatch(struct worker *w, struct wconn *c, const struct buf *body)
{
	struct wreq		*q = &c->wc_req;
	struct msg_instance	 mi;
	struct msg_id		 id;
	struct msg_list		 ml;
	struct msg_key_id	 mk;
	struct msg_pw_get	 mq;
	const char		*why;
	uint32_t		 type;

	if (wtls_owner_auth(w, c))
		return;
	if (q->wr_status != 0) {
		reply_json_error(c, q->wr_status, q->wr_why);
		conn_reply_ready(w, c);
		return;
	}
	memset(&id, 0, sizeof(id));
	memcpy(id.md_id, q->wr_id, sizeof(id.md_id));
	switch (q->wr_endpoint) {
	case EP_O_LIST:
		if ((q->wr_json = json_array()) == NULL)
			fatalx("json");
		q->wr_count = 0;
		memset(&ml, 0, sizeof(ml));
		memcpy(ml.mls_after, q->wr_after, sizeof(ml.mls_after));
		conn_request(w, c, MSG_OWNER_INST_LIST, &ml, sizeof(ml));
		return;
	case EP_O_STATUS:
		conn_request(w, c, MSG_OWNER_STATUS, NULL, 0);
		return;
	case EP_O_METRICS:
		conn_request(w, c, MSG_OWNER_METRICS, NULL, 0);
		return;
	case EP_O_KEYS:
		conn_request(w, c, MSG_OWNER_KEYS, NULL, 0);
		return;
	case EP_O_VERIFY:
		owner_verify(w, c, body);
		return;
	case EP_O_BATCH:
		owner_batch(w, c, body);
		return;
	case EP_O_KEY_ACTION:
		conn_request(w, c, q->wr_key_op, NULL, 0);
		return;
	case EP_O_KEY:
		memset(&mk, 0, sizeof(mk));
		mk.mki_id = q->wr_key_id;
		conn_request(w, c, MSG_OWNER_KEY_RETIRE, &mk, sizeof(mk));
		return;
	case EP_O_INST:
		if (q->wr_method == HTTP_M_PUT) {
			if ((why = owner_parse_instance(body, q->wr_id,
			    &mi)) != NULL) {
				reply_json_error(c, 400, why);
				conn_reply_ready(w, c);
				return;
			}
			conn_request(w, c, MSG_OWNER_INST_PUT, &mi, sizeof(mi));
			return;
		}
		type = q->wr_method == HTTP_M_DELETE ? MSG_OWNER_INST_DEL :
		    MSG_OWNER_INST_GET;
		break;
	case EP_O_PW:
		if (q->wr_method == HTTP_M_DELETE) {
			type = MSG_OWNER_PW_DEL;
			break;
		}
		memset(&mq, 0, sizeof(mq));
		memcpy(mq.mq_id, q->wr_id, sizeof(mq.mq_id));
		mq.mq_wait = q->wr_wait;
		conn_request(w, c, MSG_OWNER_PW_GET, &mq, sizeof(mq));
		return;
	default:
		fatalx("owner route %d", q->wr_endpoint);
	}
	conn_request(w, c, type, &id, sizeof(id));
}

static const char *
owner_why(int status)
{
	switch (status) {
	case 403:
		return "peer not allowed";
	case 404:
		return "instance not found";
	case 400:
		return "an address names a network (@NAME) that no [guest "
		    "NAME] section of identity direct has";
	case 409:
		return "an address is registered to another instance";
	case 503:
		return "store unavailable";
	default:
		return "internal error";
	}
}

static void
owner_json(struct wconn *c, int status, json_t *j)
{
	char	*s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("json");
	json_decref(j);
	reply_send(c, status, JSON_TYPE, s, strlen(s));
	sodium_memzero(s, strlen(s));
	free(s);
}

static json_t *
owner_instance_json(const struct msg_instance *mi)
{
	json_t		*addrs, *keys, *j;
	uint32_t	 i;

	if ((addrs = json_array()) == NULL || (keys = json_object()) == NULL)
		fatalx("json");
	for (i = 0; i < mi->mn_naddr && i < INST_ADDRS_MAX; i++)
		json_array_append_new(addrs, json_string(mi->mn_addr[i]));
	for (i = 0; i < mi->mn_nkeys && i < INST_KEYS_MAX; i++)
		json_object_set_new(keys, mi->mn_keys[i].mk_name,
		    json_string(mi->mn_keys[i].mk_data));
	if ((j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:I}", "id", mi->mn_id,
	    "project_id", mi->mn_project, "hostname", mi->mn_hostname,
	    "addresses", addrs, "public_keys", keys,
	    "created", (json_int_t)mi->mn_created)) == NULL)
		fatalx("json");
	/* Only what was set for this instance; else the default applies. */
	if (mi->mn_pw_ttl != 0)
		json_object_set_new(j, "password_ttl", json_integer(
		    mi->mn_pw_ttl > 0 ? mi->mn_pw_ttl : 0));
	if (mi->mn_one_time != 0)
		json_object_set_new(j, "one_time_read",
		    json_boolean(mi->mn_one_time > 0));
	if (mi->mn_mode != PW_MODE_DEFAULT)
		json_object_set_new(j, "password_mode", json_string(
		    mi->mn_mode == PW_MODE_ESCROW ? "escrow" : "verifier"));
	return j;
}

/*
 * One page from the broker (at most LIST_MAX); asks for the next until
 * the client's page is full or there is none, so the worker never holds
 * more than OWNER_LIST_LIMIT entries.  A full page with more behind it
 * says where the next starts.
 */
static int
owner_list_page(struct worker *w, struct wconn *c, const struct chan_msg *m)
{
	static struct msg_list_ans	 mla;
	struct wreq			*q = &c->wc_req;
	struct msg_list			 ml;
	json_t				*j;
	char				 next[96];
	uint32_t			 i;
	int				 more;

	if (chan_get(m, &mla, sizeof(mla)) == -1 || mla.mla_n > LIST_MAX)
		fatalx("bad answer from broker");
	if (mla.mla_status != 200) {
		reply_json_error(c, (int)mla.mla_status,
		    owner_why((int)mla.mla_status));
		return 0;
	}
	for (i = 0; i < mla.mla_n && q->wr_count < q->wr_limit; i++) {
		if (!chan_str_ok(mla.mla_e[i].id, sizeof(mla.mla_e[i].id)) ||
		    !chan_str_ok(mla.mla_e[i].project,
		    sizeof(mla.mla_e[i].project)))
			fatalx("bad answer from broker");
		json_array_append_new(q->wr_json, json_pack("{s:s,s:s}",
		    "id", mla.mla_e[i].id, "project_id",
		    mla.mla_e[i].project));
		memcpy(q->wr_after, mla.mla_e[i].id, sizeof(q->wr_after));
		q->wr_count++;
	}
	more = i < mla.mla_n || (mla.mla_more && mla.mla_n > 0);
	if (more && q->wr_count < q->wr_limit) {
		memset(&ml, 0, sizeof(ml));
		memcpy(ml.mls_after, q->wr_after, sizeof(ml.mls_after));
		conn_request(w, c, MSG_OWNER_INST_LIST, &ml, sizeof(ml));
		return 1;
	}
	j = json_pack("{s:O}", "instances", q->wr_json);
	if (j != NULL && more) {
		(void)snprintf(next, sizeof(next),
		    "/instances?limit=%u&marker=%s", q->wr_limit, q->wr_after);
		if (json_object_set_new(j, "next", json_string(next)) == -1)
			fatalx("json");
	}
	owner_json(c, 200, j);
	return 0;
}

static json_t *
owner_listeners(const struct msg_status_ans *mt)
{
	json_t		*a;
	uint32_t	 i;

	if ((a = json_array()) == NULL)
		fatalx("json");
	for (i = 0; i < mt->mst_nlisten; i++) {
		if (!chan_str_ok(mt->mst_lname[i], sizeof(mt->mst_lname[i])) ||
		    !chan_str_ok(mt->mst_lmode[i], sizeof(mt->mst_lmode[i])))
			fatalx("bad answer from broker");
		json_array_append_new(a, json_pack("{s:s,s:s}", "name",
		    mt->mst_lname[i], "mode", mt->mst_lmode[i]));
	}
	return a;
}

static json_t *
owner_key_ids(const struct msg_status_ans *mt)
{
	json_t		*a;
	uint32_t	 i;

	if ((a = json_array()) == NULL)
		fatalx("json");
	for (i = 0; i < mt->mst_nkeyids; i++)
		json_array_append_new(a, json_integer(mt->mst_keyids[i]));
	return a;
}

/* {"ID": values sealed under it}, as key rotation wants to watch. */
static json_t *
owner_key_values(const struct msg_status_ans *mt)
{
	json_t		*o;
	uint32_t	 i;
	char		 id[16];

	if ((o = json_object()) == NULL)
		fatalx("json");
	for (i = 0; i < mt->mst_nkeyids; i++) {
		(void)snprintf(id, sizeof(id), "%u", mt->mst_keyids[i]);
		json_object_set_new(o, id, json_integer(mt->mst_keyvalues[i]));
	}
	return o;
}

static void
owner_keys(struct wconn *c, const struct chan_msg *m)
{
	struct msg_keys_ans	 mk;
	json_t			*keys;
	uint32_t		 i;

	if (chan_get(m, &mk, sizeof(mk)) == -1 || mk.mka_n > KEYS_LIST_MAX)
		fatalx("bad answer from broker");
	if (mk.mka_status != 200) {
		reply_json_error(c, (int)mk.mka_status, mk.mka_status == 409 ?
		    "the key ring cannot change here (see the log)" :
		    owner_why((int)mk.mka_status));
		return;
	}
	if ((keys = json_array()) == NULL)
		fatalx("json");
	for (i = 0; i < mk.mka_n; i++)
		json_array_append_new(keys, json_pack("{s:I,s:I}", "id",
		    (json_int_t)mk.mka_id[i], "values",
		    (json_int_t)mk.mka_records[i]));
	owner_json(c, 200, json_pack("{s:I,s:o,s:{s:b,s:I}}", "newest",
	    (json_int_t)mk.mka_newest, "keys", keys, "rewrap", "running",
	    (int)mk.mka_rewrap, "resealed", (json_int_t)mk.mka_rewrapped));
}

static void
owner_metrics(struct wconn *c, const struct chan_msg *m)
{
	static struct msg_metrics_ans	mm;
	struct bbuf			text;
	size_t				i;

	if (chan_get(m, &mm, sizeof(mm)) == -1 ||
	    mm.mm_nlisten > MET_LISTENERS)
		fatalx("bad answer from broker");
	for (i = 0; i < mm.mm_nlisten; i++)
		if (!chan_str_ok(mm.mm_lname[i], sizeof(mm.mm_lname[i])))
			fatalx("bad answer from broker");
	if (mm.mm_status != 200) {
		reply_json_error(c, (int)mm.mm_status,
		    owner_why((int)mm.mm_status));
		return;
	}
	bbuf_init(&text, OWNER_METRICS_MAX);
	prom_render(&text, &mm);
	reply_send(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text.bb_data, text.bb_len);
	bbuf_free(&text);
}

void
owner_answer(struct worker *w, struct wconn *c, const struct chan_msg *m)
{
	static struct msg_instance_ans	 ma;
	static struct msg_status_ans	 mt;
	struct msg_status		 ms;
	struct msg_pw			 mw;
	json_t				*j;
	int				 status;

	switch (m->m_hdr.ch_type) {
	case MSG_OWNER_AUTH_ANS:
		wtls_owner_answer(w, c, m);
		return;
	case MSG_OWNER_INST_LIST_ANS:
		if (owner_list_page(w, c, m))
			return;
		break;
	case MSG_OWNER_INST_PUT_ANS:
	case MSG_OWNER_INST_DEL_ANS:
	case MSG_OWNER_PW_DEL_ANS:
		if (chan_get(m, &ms, sizeof(ms)) == -1)
			fatalx("bad answer from broker");
		status = (int)ms.ms_status;
		if (status == 201 || status == 200)
			owner_json(c, status, json_pack("{s:s}", "id",
			    c->wc_req.wr_id));
		else if (status == 204)
			reply_send(c, 204, JSON_TYPE, NULL, 0);
		else
			reply_json_error(c, status, owner_why(status));
		break;
	case MSG_OWNER_INST_GET_ANS:
		if (chan_get(m, &ma, sizeof(ma)) == -1)
			fatalx("bad answer from broker");
		if (ma.mia_status != 200)
			reply_json_error(c, (int)ma.mia_status,
			    owner_why((int)ma.mia_status));
		else
			owner_json(c, 200, owner_instance_json(&ma.mia_inst));
		break;
	case MSG_OWNER_PW_GET_ANS:
		if (chan_get(m, &mw, sizeof(mw)) == -1 || mw.mw_len > PW_MAX)
			fatalx("bad answer from broker");
		if (mw.mw_status != 200)
			reply_json_error(c, (int)mw.mw_status,
			    mw.mw_status == 500 ? "the stored value does not "
			    "open" : owner_why((int)mw.mw_status));
		else {
			j = json_object();
			if (j == NULL || json_object_set_new(j, "password",
			    json_stringn((const char *)mw.mw_value,
			    mw.mw_len)) == -1 || ((mw.mw_flags &
			    PW_F_VERIFIER) && json_object_set_new(j,
			    "verifier", json_true()) == -1))
				fatalx("json");
			owner_json(c, 200, j);
		}
		sodium_memzero(&mw, sizeof(mw));
		break;
	case MSG_OWNER_PW_VERIFY_ANS:
		if (chan_get(m, &ms, sizeof(ms)) == -1)
			fatalx("bad answer from broker");
		status = (int)ms.ms_status;
		if (status == 204)
			reply_send(c, 204, JSON_TYPE, NULL, 0);
		else
			reply_json_error(c, status, status == 403 ?
			    "no match" : status == 409 ? "a value is stored, "
			    "not a verifier" : status == 404 ?
			    "no password is set" : owner_why(status));
		break;
	case MSG_OWNER_METRICS_ANS:
		owner_metrics(c, m);
		break;
	case MSG_OWNER_BATCH_END_ANS:
		owner_batch_answer(w, c, m);
		break;
	case MSG_OWNER_KEYS_ANS:
	case MSG_OWNER_KEY_ROTATE_ANS:
	case MSG_OWNER_KEY_REWRAP_ANS:
		owner_keys(c, m);
		break;
	case MSG_OWNER_KEY_RETIRE_ANS:
		if (chan_get(m, &ms, sizeof(ms)) == -1)
			fatalx("bad answer from broker");
		status = (int)ms.ms_status;
		if (status == 204)
			reply_send(c, 204, JSON_TYPE, NULL, 0);
		else
			reply_json_error(c, status, status == 404 ?
			    "no such key" : status == 409 ? "the key is the "
			    "newest, still seals values, or comes from "
			    "systemd credentials" : owner_why(status));
		break;
	case MSG_OWNER_STATUS_ANS:
		if (chan_get(m, &mt, sizeof(mt)) == -1 ||
		    !chan_str_ok(mt.mst_store, sizeof(mt.mst_store)) ||
		    !chan_str_ok(mt.mst_store_state,
		    sizeof(mt.mst_store_state)) ||
		    !chan_str_ok(mt.mst_version, sizeof(mt.mst_version)) ||
		    mt.mst_nlisten > MET_LISTENERS ||
		    mt.mst_nkeyids > KEYS_LIST_MAX)
			fatalx("bad answer from broker");
		if (mt.mst_status != 200) {
			reply_json_error(c, (int)mt.mst_status,
			    owner_why((int)mt.mst_status));
			break;
		}
		owner_json(c, 200, json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:I,s:I,"
		    "s:s,s:s,s:I,s:I,s:o,s:o}", "version", mt.mst_version,
		    "uptime", (json_int_t)mt.mst_uptime,
		    "instances", (json_int_t)mt.mst_instances,
		    "passwords", (json_int_t)mt.mst_passwords,
		    "listeners", (json_int_t)mt.mst_listeners,
		    "listener_list", owner_listeners(&mt),
		    "worker_pid", (json_int_t)mt.mst_worker_pid,
		    "worker_restarts", (json_int_t)mt.mst_worker_restarts,
		    "store", mt.mst_store,
		    "store_state", mt.mst_store_state,
		    "key_newest", (json_int_t)mt.mst_key_newest,
		    "keys", (json_int_t)mt.mst_keys,
		    "key_ids", owner_key_ids(&mt),
		    "key_values", owner_key_values(&mt)));
		break;
	default:
		fatalx("unexpected answer type %u", m->m_hdr.ch_type);
	}
	conn_reply_ready(w, c);
}

void
owner_cleanup(struct wconn *c)
{
	free(c->wc_req.wr_batch);
	c->wc_req.wr_batch = NULL;
	if (c->wc_req.wr_json != NULL) {
		json_decref(c->wc_req.wr_json);
		c->wc_req.wr_json = NULL;
	}
}
