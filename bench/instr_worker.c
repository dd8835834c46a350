/* SPDX-License-Identifier: ISC */
/*
 * instr_worker: the worker's per-request parsing cost, for make
 * bench-instr.  Links the worker's own HTTP parser and path normaliser
 * (worker/http.c, worker/path.c, privsep/utf8.c, privsep/buf.c) and, N
 * times, parses one real GET head, normalises its path and looks up the
 * two headers a direct listener refuses (what conn_head_done and
 * guest_prepare do before routing).  Run under callgrind twice with
 * different N; the difference divided by the difference of N is the
 * instruction count per request, free of start-up cost.
 *
 *   instr_worker N wrk|proxy
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/buf.h"
#include "worker/http.h"
#include "worker/path.h"

/* What wrk sends (make bench): the smallest GET. */
static const char	req_wrk[] =
    "GET /openstack/latest/password HTTP/1.1\r\n"
    "Host: 127.0.0.1:8775\r\n"
    "\r\n";

/* What reaches a proxy listener from neutron's metadata proxy. */
static const char	req_proxy[] =
    "GET /openstack/latest/password HTTP/1.1\r\n"
    "Host: 169.254.169.254\r\n"
    "User-Agent: Python-urllib/3.10\r\n"
    "Accept-Encoding: identity\r\n"
    "X-Forwarded-For: 10.0.0.5\r\n"
    "X-Instance-ID: 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b\r\n"
    "X-Tenant-ID: 3d8a9f0e2b1c4d5e6f708192a3b4c5d6\r\n"
    "X-Instance-ID-Signature: "
    "8a3b6d2c0e1f4a5b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b\r\n"
    "Connection: close\r\n"
    "\r\n";

int
main(int argc, char *argv[])
{
	static struct http_req	req;
	static struct path	p;
	struct http_parser	hp;
	struct buf		in;
	const char		*raw;
	size_t			 len;
	unsigned long		n, i;
	volatile size_t		sink = 0;
	int			status;

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) > 100000000ul) {
		fprintf(stderr, "usage: instr_worker N wrk|proxy\n");
		return 2;
	}
	if (strcmp(argv[2], "wrk") == 0)
		raw = req_wrk;
	else if (strcmp(argv[2], "proxy") == 0)
		raw = req_proxy;
	else {
		fprintf(stderr, "usage: instr_worker N wrk|proxy\n");
		return 2;
	}
	len = strlen(raw);
	for (i = 0; i < n; i++) {
		http_parser_init(&hp);
		buf_init(&in, raw, len);
		if (http_parse(&hp, &in, &req, &status) != HTTP_DONE) {
			fprintf(stderr, "instr_worker: not parsed (%d)\n",
			    status);
			return 1;
		}
		if (path_normalize(&req.hr_path, &p) == -1) {
			fprintf(stderr, "instr_worker: path refused\n");
			return 1;
		}
		sink += req.hr_head_len + p.p_nseg +
		    (http_field(&req, "X-Forwarded-For") != NULL) +
		    (http_field(&req, "Forwarded") != NULL);
	}
	printf("%lu requests, %zu\n", n, (size_t)sink);
	return 0;
}
