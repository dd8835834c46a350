/* SPDX-License-Identifier: ISC */
/*
 * The owner API's registration body (PUT /instances/{id}), decoded by
 * owner_parse_instance() in worker/owner.c.  An accepted body must give a
 * struct the broker will take (valid_instance), and that struct must say
 * exactly what the JSON said: nothing dropped, cut short or invented.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "privsep/buf.h"
#include "privsep/validate.h"
#include "tests/fuzz/common.h"
#include "worker/worker.h"

#define FO_ID	"6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* conn.c, left out: the routes call these, owner_parse_instance never. */
int
conn_request(struct worker *w, struct wconn *c, uint32_t type,
    const void *p, size_t len)
{
	(void)w;
	(void)c;
	(void)p;
	(void)len;
	fuzz_fail(__FILE__, __LINE__, "conn_request(%u) reached", type);
}

void
conn_reply_ready(struct worker *w, struct wconn *c)
{
	(void)w;
	(void)c;
	fuzz_fail(__FILE__, __LINE__, "conn_reply_ready reached");
}

void
conn_resume(struct worker *w, struct wconn *c)
{
	(void)w;
	(void)c;
	fuzz_fail(__FILE__, __LINE__, "conn_resume reached");
}

void
conn_reports_flush(struct worker *w)
{
	(void)w;
	fuzz_fail(__FILE__, __LINE__, "conn_reports_flush reached");
}

/* worker/tls.c's, for TLS connections, which this harness has none of. */
void
conn_dispatch(struct worker *w, struct wconn *c)
{
	(void)w;
	(void)c;
	fuzz_fail(__FILE__, __LINE__, "conn_dispatch reached");
}

uint64_t
conn_now_ms(void)
{
	fuzz_fail(__FILE__, __LINE__, "conn_now_ms reached");
}

static int
fo_str_is(json_t *v, const char *s)
{
	return json_is_string(v) && json_string_length(v) == strlen(s) &&
	    memcmp(json_string_value(v), s, strlen(s)) == 0;
}

/* Read the accepted body again, independently, and compare. */
static void
fo_same(const uint8_t *data, size_t size, const struct msg_instance *mi)
{
	json_t		*j, *v, *a, *addrs = NULL, *keys = NULL;
	const char	*key;
	size_t		 i;
	uint32_t	 k;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(j), "accepted, but not a JSON object");
	json_object_foreach(j, key, v) {
		if (strcmp(key, "project_id") == 0)
			FUZZ_CHECK(fo_str_is(v, mi->mn_project),
			    "project_id differs");
		else if (strcmp(key, "hostname") == 0)
			FUZZ_CHECK(fo_str_is(v, mi->mn_hostname),
			    "hostname differs");
		else if (strcmp(key, "addresses") == 0)
			addrs = v;
		else if (strcmp(key, "public_keys") == 0)
			keys = v;
		else
			fuzz_fail(__FILE__, __LINE__, "unknown field %s "
			    "accepted", key);
	}
	FUZZ_CHECK(mi->mn_naddr == (addrs != NULL ? json_array_size(addrs) :
	    0), "%u addresses kept", mi->mn_naddr);
	json_array_foreach(addrs, i, a)
		FUZZ_CHECK(fo_str_is(a, mi->mn_addr[i]), "address %zu differs",
		    i);
	FUZZ_CHECK(mi->mn_nkeys == (keys != NULL ? json_object_size(keys) :
	    0), "%u keys kept", mi->mn_nkeys);
	for (k = 0; k < mi->mn_nkeys; k++)
		FUZZ_CHECK(fo_str_is(json_object_get(keys,
		    mi->mn_keys[k].mk_name), mi->mn_keys[k].mk_data),
		    "key %u differs", k);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg_instance	 mi;
	struct buf			 body;
	const char			*why;

	buf_init(&body, data, size);
	if ((why = owner_parse_instance(&body, FO_ID, &mi)) != NULL) {
		FUZZ_CHECK(why[0] != '\0', "refused with an empty reason");
		return 0;
	}
	FUZZ_CHECK(valid_instance(&mi), "accepted an invalid instance");
	FUZZ_CHECK(strcmp(mi.mn_id, FO_ID) == 0, "id changed to %.36s",
	    mi.mn_id);
	fo_same(data, size, &mi);
	return 0;
}
