/* SPDX-License-Identifier: ISC */
/*
 * Rules: root and the broker's own uid are always allowed (both can read
 * the keys anyway); then allow_uid entries; then allow_group entries,
 * matched against the peer's primary gid or the group's member list.
 *
 * Groups are resolved once, at start, before the broker is confined:
 * accept() and operations never read /etc/group, and a reload never runs
 * NSS modules (nscd, systemd-userdb, sssd) that the broker's filter
 * would kill it for.  A reload re-reads allow_uid and allow_group and
 * takes the groups from that cache: it can drop any, but a group that
 * was not named at start needs a restart.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owner_auth.h"
#include "privsep/log.h"

#define AUTH_UIDS_MAX	256

/* The allow lists in force. */
static uid_t	auth_uids[CONF_ALLOW_MAX + AUTH_UIDS_MAX];
static size_t	auth_nuids;
static gid_t	auth_gids[CONF_ALLOW_MAX];
static size_t	auth_ngids;

/* Every group resolved at start: its gid and its members' uids. */
static struct {
	char	ag_name[sizeof(((struct config *)NULL)->c_allow_group[0])];
	gid_t	ag_gid;
	size_t	ag_first;	/* in auth_members */
	size_t	ag_n;
} auth_groups[CONF_ALLOW_MAX];
static size_t	auth_ngroups;
static uid_t	auth_members[AUTH_UIDS_MAX];
static size_t	auth_nmembers;

/* The lists conf names, from the cache; unknown: groups it lacks. */
static void
owner_auth_build(const struct config *conf, char *unknown, size_t size)
{
	size_t	i, j, k, n;

	auth_nuids = auth_ngids = 0;
	if (size > 0)
		unknown[0] = '\0';
	for (i = 0; i < conf->c_nallow_uid; i++)
		auth_uids[auth_nuids++] = conf->c_allow_uid[i];
	for (i = 0; i < conf->c_nallow_group; i++) {
		for (j = 0; j < auth_ngroups; j++)
			if (strcmp(auth_groups[j].ag_name,
			    conf->c_allow_group[i]) == 0)
				break;
		if (j == auth_ngroups) {
			n = strlen(unknown);
			(void)snprintf(unknown + n, size - n, "%s%s",
			    n > 0 ? ", " : "", conf->c_allow_group[i]);
			continue;
		}
		auth_gids[auth_ngids++] = auth_groups[j].ag_gid;
		for (k = 0; k < auth_groups[j].ag_n &&
		    auth_nuids < sizeof(auth_uids) / sizeof(auth_uids[0]); k++)
			auth_uids[auth_nuids++] =
			    auth_members[auth_groups[j].ag_first + k];
	}
}

/* At start: resolve every group, then build the lists. */
int
owner_auth_init(const struct config *conf)
{
	struct group	*gr;
	struct passwd	*pw;
	size_t		 i, j;
	char		 unknown[8];

	auth_ngroups = auth_nmembers = 0;
	for (i = 0; i < conf->c_nallow_group; i++) {
		if ((gr = getgrnam(conf->c_allow_group[i])) == NULL) {
			log_warnx("%s: allow_group \"%s\": no such group",
			    conf->c_path, conf->c_allow_group[i]);
			return -1;
		}
		(void)snprintf(auth_groups[i].ag_name,
		    sizeof(auth_groups[i].ag_name), "%s",
		    conf->c_allow_group[i]);
		auth_groups[i].ag_gid = gr->gr_gid;
		auth_groups[i].ag_first = auth_nmembers;
		auth_groups[i].ag_n = 0;
		for (j = 0; gr->gr_mem[j] != NULL; j++) {
			if (auth_nmembers == AUTH_UIDS_MAX) {
				log_warnx("allow_group \"%s\": too many "
				    "members", conf->c_allow_group[i]);
				return -1;
			}
			if ((pw = getpwnam(gr->gr_mem[j])) != NULL) {
				auth_members[auth_nmembers++] = pw->pw_uid;
				auth_groups[i].ag_n++;
			}
		}
		auth_ngroups++;
	}
	owner_auth_build(conf, unknown, sizeof(unknown));
	return 0;
}

/*
 * On reload: the lists the new conf names.  A group the start did not
 * resolve is left out and named in unknown, for a warning.
 */
void
owner_auth_reload(const struct config *conf, char *unknown, size_t size)
{
	owner_auth_build(conf, unknown, size);
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
