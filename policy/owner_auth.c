/*
 * Rules: root and the broker's own uid are always allowed (both can read
 * the keys anyway); then allow_uid entries; then allow_group entries,
 * matched against the peer's primary gid or the group's member list.
 * Group membership is resolved once at start, so that accept() never reads
 * /etc/group.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owner_auth.h"
#include "privsep/log.h"

#define AUTH_UIDS_MAX	256

static uid_t	auth_uids[CONF_ALLOW_MAX + AUTH_UIDS_MAX];
static size_t	auth_nuids;
static gid_t	auth_gids[CONF_ALLOW_MAX];
static size_t	auth_ngids;

int
owner_auth_init(const struct config *conf)
{
	struct group	*gr;
	struct passwd	*pw;
	size_t		 i, j;

	auth_nuids = auth_ngids = 0;
	for (i = 0; i < conf->c_nallow_uid; i++)
		auth_uids[auth_nuids++] = conf->c_allow_uid[i];
	for (i = 0; i < conf->c_nallow_group; i++) {
		if ((gr = getgrnam(conf->c_allow_group[i])) == NULL) {
			log_warnx("%s: allow_group \"%s\": no such group",
			    conf->c_path, conf->c_allow_group[i]);
			return -1;
		}
		auth_gids[auth_ngids++] = gr->gr_gid;
		for (j = 0; gr->gr_mem[j] != NULL; j++) {
			if (auth_nuids == sizeof(auth_uids) /
			    sizeof(auth_uids[0])) {
				log_warnx("allow_group \"%s\": too many "
				    "members", conf->c_allow_group[i]);
				return -1;
			}
			if ((pw = getpwnam(gr->gr_mem[j])) != NULL)
				auth_uids[auth_nuids++] = pw->pw_uid;
		}
	}
	return 0;
}

int
owner_auth_allowed(uid_t uid, gid_t gid)
{
	size_t	i;

	if (uid == 0 || uid == geteuid())
		return 1;
	for (i = 0; i < auth_nuids; i++)
		if (auth_uids[i] == uid)
			return 1;
	for (i = 0; i < auth_ngids; i++)
		if (auth_gids[i] == gid)
			return 1;
	return 0;
}
