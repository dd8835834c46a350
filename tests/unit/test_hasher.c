/* SPDX-License-Identifier: ISC */
/* The hasher thread: verifiers carry the configured Argon2id parameters. */
#include <poll.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/hasher.h"

static struct hjob *
run(struct hjob *j)
{
	struct pollfd	 pfd;
	struct hjob	*done;

	cr_assert_eq(hasher_submit(j), 0);
	pfd.fd = hasher_fd();
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "hasher did not answer");
	done = hasher_done();
	cr_assert_eq(done, j);
	return done;
}

Test(hasher, hash_and_verify)
{
	static struct hjob	j;

	cr_assert_neq(sodium_init(), -1);
	cr_assert_eq(hasher_start(), 0);
	memset(&j, 0, sizeof(j));
	j.hj_op = HJ_HASH;
	memcpy(j.hj_value, "correct horse", 13);
	j.hj_len = 13;
	j.hj_ops = 2;
	j.hj_mem = 8 * 1024 * 1024;
	run(&j);
	cr_assert_eq(j.hj_match, 1);
	cr_assert(strncmp(j.hj_verifier, "$argon2id$v=19$m=8192,t=2,p=1$",
	    30) == 0, "verifier %s", j.hj_verifier);
	/* The value is wiped once hashed. */
	cr_assert_eq(j.hj_value[0], 0);

	j.hj_op = HJ_VERIFY;
	memcpy(j.hj_value, "correct horse", 13);
	run(&j);
	cr_assert_eq(j.hj_match, 1);
	memcpy(j.hj_value, "correct horsE", 13);
	run(&j);
	cr_assert_eq(j.hj_match, 0);
	hasher_stop();
}
