/* SPDX-License-Identifier: ISC */
/*
 * sealmd --copy-store FROM TO: every instance and stored value of the
 * store FROM's configuration names into the empty store TO's names, in
 * one transaction (broker/main.c reads the two configurations).  Values
 * are copied as they are stored, sealed: no key is loaded and nothing is
 * opened, so TO's nodes need FROM's key ring.  This is how a deployment
 * moves from SQLite to PostgreSQL and back.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "copystore.h"
#include "privsep/log.h"
#include "store.h"

/* Open a store; a SQLite source must exist, not be created. */
static struct store *
copystore_open(enum store_engine engine, const char *target, int source)
{
	if (source && engine == STORE_SQLITE && access(target, F_OK) == -1) {
		log_warn("%s", target);
		return NULL;
	}
	return store_open(engine, target, 0);
}

/* One instance, then its value if it has one. */
static int
copystore_one(struct store *from, struct store *to, const char *id,
    uint32_t *nvalues)
{
	static struct store_inst	inst;
	static struct store_pw		pw;
	int				r, created;

	if (store_instance_get(from, id, &inst) != STORE_OK ||
	    store_instance_put(to, &inst, &created) != STORE_OK) {
		log_warnx("copy: instance %s failed", id);
		return -1;
	}
	r = store_pw_get(from, id, &pw);
	if (r == STORE_OK && store_pw_put_if_absent(to, id, &pw) == STORE_OK)
		(*nvalues)++;
	else if (r != STORE_NOTFOUND) {
		log_warnx("copy: the value of %s failed", id);
		r = -1;
	}
	sodium_memzero(&pw, sizeof(pw));
	return r == -1 ? -1 : 0;
}

int
copystore_run(enum store_engine efrom, const char *tfrom,
    enum store_engine eto, const char *tto)
{
	static struct store_list	 page;
	struct store			*from = NULL, *to = NULL;
	char				 after[ID_LEN + 1] = "";
	uint32_t			 ninst = 0, nvalues = 0, n, npw, i;
	int				 rc = -1;

	if ((from = copystore_open(efrom, tfrom, 1)) == NULL ||
	    (to = copystore_open(eto, tto, 0)) == NULL)
		goto out;
	if (store_counts(to, &n, &npw) != STORE_OK || n != 0) {
		log_warnx("copy: the destination %s store is not empty (%u "
		    "instances): it would be merged, refused",
		    store_name(to), n);
		goto out;
	}
	if (store_batch_begin(to) != STORE_OK)
		goto out;
	do {
		if (store_instance_list(from, after, &page) != STORE_OK) {
			log_warnx("copy: cannot list the source's instances");
			goto out;
		}
		for (i = 0; i < page.sl_n; i++, ninst++)
			if (copystore_one(from, to, page.sl_e[i].id,
			    &nvalues) == -1)
				goto out;
		if (page.sl_n > 0)
			memcpy(after, page.sl_e[page.sl_n - 1].id,
			    sizeof(after));
	} while (page.sl_more);
	if (store_batch_commit(to) != STORE_OK) {
		log_warnx("copy: the destination did not commit");
		goto out;
	}
	/* What arrived is what was sent, counted by the destination. */
	if (store_counts(to, &n, &npw) != STORE_OK || n != ninst ||
	    npw != nvalues) {
		log_warnx("copy: the destination counts %u instances and %u "
		    "values, want %u and %u", n, npw, ninst, nvalues);
		goto out;
	}
	log_info("copy: %u instances and %u sealed values from %s to %s",
	    ninst, nvalues, store_name(from), store_name(to));
	rc = 0;
 out:
	if (to != NULL && rc == -1 && store_batch_active(to))
		log_warnx("copy: nothing was copied");
	store_close(to);
	store_close(from);
	return rc;
}
