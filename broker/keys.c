/* SPDX-License-Identifier: ISC */
/*
 * Key material.  Sealing keys and the proxy shared secret are read straight
 * into sodium_malloc pages and kept no-access except between *_open and
 * *_close.  Error text names files and reasons, never contents.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "privsep/log.h"
#include "keys.h"

_Static_assert(SECRET_HMAC_LEN == crypto_auth_hmacsha256_BYTES,
    "SECRET_HMAC_LEN is not HMAC-SHA256's");

static uint8_t	*keys_open_pages[KEYRING_MAX + 2];	/* + the secret's 2 */
static size_t	 keys_nopen;

static void	keys_unlock(uint8_t *);
static void	keys_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	keys_stat(int, const char *, struct stat *, char *, size_t);
static int	keys_read(int, const char *, uint8_t *, size_t, size_t *,
		    char *, size_t);
static int	keys_parse_id(const char *, uint32_t *);
static int	keys_cmp(const void *, const void *);
static int	keys_load_one(int, const char *, const char *, size_t,
		    struct key *,
		    char *, size_t);

static void
keys_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
keys_stat(int fd, const char *path, struct stat *st, char *err,
    size_t errlen)
{
	if (fstat(fd, st) == -1) {
		keys_err(err, errlen, "%s: fstat: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		keys_err(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		keys_err(err, errlen, "%s: mode %04o gives access to group or "
		    "others, want 0600 or stricter", path,
		    (unsigned int)(st->st_mode & 07777));
		return -1;
	}
	if (st->st_uid != geteuid()) {
		keys_err(err, errlen, "%s: owned by uid %u, not by uid %u",
		    path, (unsigned int)st->st_uid, (unsigned int)geteuid());
		return -1;
	}
	return 0;
}

int
keys_check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	st;

	return keys_stat(fd, path, &st, err, errlen);
}

/*
 * Read up to max bytes into dst until end of file.  *got is the count; a
 * file longer than max is left for the caller to detect (*got == max).
 */
static int
keys_read(int fd, const char *path, uint8_t *dst, size_t max, size_t *got,
    char *err, size_t errlen)
{
	ssize_t	n;

	*got = 0;
	while (*got < max) {
		n = read(fd, dst + *got, max - *got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			keys_err(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* A key file name is a decimal id in 1..UINT32_MAX without leading zeros. */
static int
keys_parse_id(const char *name, uint32_t *id)
{
	uint64_t	v = 0;
	size_t		i, len;

	len = strlen(name);
	if (len == 0 || len > 10 || name[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

static int
keys_cmp(const void *a, const void *b)
{
	const struct key	*ka = a, *kb = b;

	return ka->k_id < kb->k_id ? -1 : ka->k_id > kb->k_id;
}

/* name is the file's; its key id starts after skip bytes (a prefix). */
static int
keys_load_one(int dfd, const char *dir, const char *name, size_t skip,
    struct key *k, char *err, size_t errlen)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	uint8_t		 extra;
	size_t		 got;
	int		 fd, r = -1;

	if (keys_parse_id(name + skip, &k->k_id) == -1) {
		keys_err(err, errlen, "%s/%s: not a key file name (want a "
		    "decimal key id)", dir, name);
		return -1;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);

	/* O_NONBLOCK: a fifo must be refused by fstat, not hang the open. */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		keys_err(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (keys_stat(fd, path, &st, err, errlen) == -1)
		goto out;
	if (st.st_size != KEY_LEN) {
		keys_err(err, errlen, "%s: %lld bytes, want %d", path,
		    (long long)st.st_size, KEY_LEN);
		goto out;
	}
	if ((k->k_bytes = sodium_malloc(KEY_LEN)) == NULL) {
		keys_err(err, errlen, "%s: sodium_malloc: %s", path,
		    strerror(errno));
		goto out;
	}
	if (keys_read(fd, path, k->k_bytes, KEY_LEN, &got, err,
	    errlen) == -1)
		goto out;
	if (got != KEY_LEN) {
		keys_err(err, errlen, "%s: short read, want %d bytes", path,
		    KEY_LEN);
		goto out;
	}
	/* The size was checked by fstat; make sure it did not grow since. */
	if (keys_read(fd, path, &extra, 1, &got, err, errlen) == -1)
		goto out;
	sodium_memzero(&extra, sizeof(extra));
	if (got != 0) {
		keys_err(err, errlen, "%s: longer than %d bytes", path,
		    KEY_LEN);
		goto out;
	}
	if (sodium_mprotect_noaccess(k->k_bytes) == -1) {
		keys_err(err, errlen, "%s: mprotect: %s", path,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	if (r == -1 && k->k_bytes != NULL) {
		sodium_free(k->k_bytes);
		k->k_bytes = NULL;
	}
	close(fd);
	return r;
}

/*
 * Load every key file in dir.  With an empty prefix every file must be a
 * key named by its id ("1", "2").  With a prefix (systemd credentials:
 * LoadCredential=key:DIR gives "key_1", "key_2") files without it belong
 * to something else and are skipped.
 */
int
keyring_load(struct keyring *kr, const char *dir, const char *prefix,
    char *err, size_t errlen)
{
	size_t		 plen = strlen(prefix);
	struct dirent	*de;
	DIR		*d;
	int		 dfd;

	memset(kr, 0, sizeof(*kr));
	/* Idempotent; sodium_malloc needs the page size it records. */
	if (sodium_init() == -1) {
		keys_err(err, errlen, "sodium_init failed");
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		keys_err(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		keys_err(err, errlen, "%s: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				keys_err(err, errlen, "%s: readdir: %s", dir,
				    strerror(errno));
				goto fail;
			}
			break;
		}
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, prefix, plen) != 0)
			continue;
		if (kr->kr_n == KEYRING_MAX) {
			keys_err(err, errlen, "%s: more than %d keys", dir,
			    KEYRING_MAX);
			goto fail;
		}
		if (keys_load_one(dfd, dir, de->d_name, plen,
		    &kr->kr_keys[kr->kr_n], err, errlen) == -1)
			goto fail;
		kr->kr_n++;
	}
	closedir(d);
	if (kr->kr_n == 0) {
		keys_err(err, errlen, "no keys in %s", dir);
		return -1;
	}
	qsort(kr->kr_keys, kr->kr_n, sizeof(kr->kr_keys[0]), keys_cmp);
	return 0;
 fail:
	closedir(d);
	keyring_free(kr);
	return -1;
}

/* Does dir hold any systemd credential whose name starts with prefix? */
static int
keys_has_credential(const char *dir, const char *prefix)
{
	struct dirent	*de;
	DIR		*d;
	int		 found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return found;
}

/*
 * The key ring and the proxy secret for a configuration.  systemd
 * credentials ("key_N", "proxy-secret" in $CREDENTIALS_DIRECTORY) win over
 * the configured paths.  Nothing is kept unless both load.
 */
int
keys_load_all(const struct config *conf, struct keyring *kr,
    struct secret *sec, int *have_sec, int *from_creds, char *err,
    size_t errlen)
{
	const char	*creds = getenv("CREDENTIALS_DIRECTORY");
	const char	*spath = conf->c_proxy_secret_file;
	char		 path[PATH_MAX], why[CONF_ERR_MAX];

	*have_sec = 0;
	memset(sec, 0, sizeof(*sec));
	*from_creds = creds != NULL && keys_has_credential(creds, "key_");
	if (*from_creds) {
		if (keyring_load(kr, creds, "key_", why, sizeof(why)) == -1) {
			keys_err(err, errlen, "key ring from credentials: %s",
			    why);
			return -1;
		}
	} else if (keyring_load(kr, conf->c_key_dir, "", why,
	    sizeof(why)) == -1) {
		keys_err(err, errlen, "key ring: %s", why);
		return -1;
	}
	if (creds != NULL && keys_has_credential(creds, "proxy-secret")) {
		if ((size_t)snprintf(path, sizeof(path), "%s/proxy-secret",
		    creds) >= sizeof(path)) {
			keys_err(err, errlen, "CREDENTIALS_DIRECTORY too long");
			keyring_free(kr);
			return -1;
		}
		spath = path;
	}
	if (spath[0] == '\0')
		return 0;
	if (secret_load(sec, spath, why, sizeof(why)) == -1) {
		keys_err(err, errlen, "proxy secret: %s", why);
		keyring_free(kr);
		return -1;
	}
	*have_sec = 1;
	return 0;
}

/*
 * The credential $CREDENTIALS_DIRECTORY/name into path: 1 when it is
 * there, 0 when not, -1 on error.
 */
static int
keys_credential(const char *name, char *path, size_t pathsz, char *err,
    size_t errlen)
{
	const char	*creds = getenv("CREDENTIALS_DIRECTORY");
	struct stat	 st;

	if (creds == NULL)
		return 0;
	if ((size_t)snprintf(path, pathsz, "%s/%s", creds, name) >= pathsz) {
		keys_err(err, errlen, "CREDENTIALS_DIRECTORY too long");
		return -1;
	}
	return lstat(path, &st) == 0;
}

/*
 * The session-token keys: the current one (tk[0]) and the previous one
 * (tk[1]), each may be absent (have[i] 0).  The credentials "token-key"
 * and "token-key-previous" win over token_key_file and
 * token_key_previous_file, as a pair: with either credential, the files
 * are not read.  Nothing is kept unless all load.
 */
int
keys_load_tokens(const struct config *conf, struct secret tk[2],
    int have[2], char *err, size_t errlen)
{
	static const char *const	 cred[2] = { "token-key",
					     "token-key-previous" };
	const char			*file[2] = { conf->c_token_key,
					     conf->c_token_key_prev };
	char				 path[2][PATH_MAX];
	char				 why[CONF_ERR_MAX];
	int				 i, c[2] = { 0, 0 };

	memset(tk, 0, 2 * sizeof(*tk));
	have[0] = have[1] = 0;
	for (i = 0; i < 2; i++)
		if ((c[i] = keys_credential(cred[i], path[i], sizeof(path[i]),
		    err, errlen)) == -1)
			return -1;
	for (i = 0; i < 2; i++) {
		if (!c[0] && !c[1] && file[i][0] != '\0')
			(void)snprintf(path[i], sizeof(path[i]), "%s",
			    file[i]);
		else if (!c[i])
			continue;
		if (secret_read(&tk[i], path[i], why, sizeof(why)) == -1) {
			keys_err(err, errlen, "token key: %s", why);
			if (have[0])
				secret_free(&tk[0]);
			have[0] = 0;
			return -1;
		}
		have[i] = 1;
	}
	return 0;
}

/* Sync a directory so that a created or removed key file stays so. */
static int
keys_sync_dir(const char *dir, char *err, size_t errlen)
{
	int	dfd, r = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		keys_err(err, errlen, "%s: %s", dir, strerror(errno));
		r = -1;
	}
	if (dfd != -1)
		close(dfd);
	return r;
}

/* A new key file: 32 random bytes, created exclusively, mode 0600. */
int
keys_create(const char *dir, uint32_t id, char *err, size_t errlen)
{
	uint8_t		*k;
	char		 path[PATH_MAX];
	ssize_t		 n;
	int		 fd, r = -1;

	(void)snprintf(path, sizeof(path), "%s/%u", dir, id);
	if ((k = sodium_malloc(KEY_LEN)) == NULL) {
		keys_err(err, errlen, "sodium_malloc: %s", strerror(errno));
		return -1;
	}
	randombytes_buf(k, KEY_LEN);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		keys_err(err, errlen, "%s: %s", path, strerror(errno));
		sodium_free(k);
		return -1;
	}
	n = write(fd, k, KEY_LEN);
	sodium_free(k);
	if (n != KEY_LEN || fsync(fd) == -1)
		keys_err(err, errlen, "%s: %s", path, n == -1 || n == KEY_LEN ?
		    strerror(errno) : "short write");
	else
		r = 0;
	if (close(fd) == -1 && r == 0) {
		keys_err(err, errlen, "%s: %s", path, strerror(errno));
		r = -1;
	}
	/* A short key file would stop the next start: remove it. */
	if (r == -1)
		(void)unlink(path);
	if (r == 0)
		r = keys_sync_dir(dir, err, errlen);
	return r;
}

int
keys_remove(const char *dir, uint32_t id, char *err, size_t errlen)
{
	char	path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%u", dir, id);
	if (unlink(path) == -1) {
		keys_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return keys_sync_dir(dir, err, errlen);
}

void
keyring_free(struct keyring *kr)
{
	size_t	i;

	keys_lock_all();
	for (i = 0; i < kr->kr_n; i++)
		sodium_free(kr->kr_keys[i].k_bytes);
	memset(kr, 0, sizeof(*kr));
}

const struct key *
keyring_newest(const struct keyring *kr)
{
	if (kr->kr_n == 0)
		return NULL;
	return &kr->kr_keys[kr->kr_n - 1];
}

const struct key *
keyring_find(const struct keyring *kr, uint32_t id)
{
	size_t	i;

	for (i = 0; i < kr->kr_n; i++)
		if (kr->kr_keys[i].k_id == id)
			return &kr->kr_keys[i];
	return NULL;
}

const uint8_t *
key_open(const struct key *k)
{
	keys_unlock(k->k_bytes);
	return k->k_bytes;
}

/* Done with it; keys_lock_all makes the pages no-access again. */
void
key_close(const struct key *k)
{
	(void)k;
}

/*
 * Key pages are unlocked on first use and stay readable until the event
 * loop, at the end of its turn, calls keys_lock_all: a turn that opens a
 * hundred chunks pays two mprotect calls, not two hundred.  Idle, every
 * key is no-access.  Only the event-loop thread touches keys.
 */
static void
keys_unlock(uint8_t *page)
{
	size_t	i;

	for (i = 0; i < keys_nopen; i++)
		if (keys_open_pages[i] == page)
			return;
	if (keys_nopen == sizeof(keys_open_pages) / sizeof(keys_open_pages[0]))
		fatalx("too many key pages open");
	if (sodium_mprotect_readonly(page) == -1)
		fatal("%s", __func__);
	keys_open_pages[keys_nopen++] = page;
}

void
keys_lock_all(void)
{
	size_t	i;

	for (i = 0; i < keys_nopen; i++)
		if (sodium_mprotect_noaccess(keys_open_pages[i]) == -1)
			fatal("%s", __func__);
	keys_nopen = 0;
}

/* A secret file's bytes, but for one line end; any length to SECRET_MAX. */
int
secret_read(struct secret *s, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	/* Room for SECRET_MAX bytes, "\r\n", and one byte to see excess. */
	const size_t	 cap = SECRET_MAX + 3;
	size_t		 got;
	int		 fd;

	memset(s, 0, sizeof(*s));
	if (sodium_init() == -1) {
		keys_err(err, errlen, "sodium_init failed");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		keys_err(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (keys_stat(fd, path, &st, err, errlen) == -1)
		goto fail;
	if ((s->s_bytes = sodium_malloc(cap)) == NULL) {
		keys_err(err, errlen, "%s: sodium_malloc: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (keys_read(fd, path, s->s_bytes, cap, &got, err, errlen) == -1)
		goto fail;
	if (got > 0 && s->s_bytes[got - 1] == '\n') {
		got--;
		if (got > 0 && s->s_bytes[got - 1] == '\r')
			got--;
	}
	if (got > SECRET_MAX) {
		keys_err(err, errlen, "%s: longer than %d bytes", path,
		    SECRET_MAX);
		goto fail;
	}
	/* Wipe the stripped line end (or excess) past the secret. */
	sodium_memzero(s->s_bytes + got, cap - got);
	s->s_len = got;
	if (sodium_mprotect_noaccess(s->s_bytes) == -1) {
		keys_err(err, errlen, "%s: mprotect: %s", path,
		    strerror(errno));
		goto fail;
	}
	close(fd);
	return 0;
 fail:
	close(fd);
	secret_free(s);
	return -1;
}

/*
 * The proxy secret: it may be empty, but not in silence.  Every guest
 * request behind the proxy checks an HMAC keyed with it, so the keyed
 * state (the key's inner and outer pads, hashed) is computed once here
 * and kept as the secret is: each check copies it instead of hashing
 * the pads again.
 */
int
secret_load(struct secret *s, const char *path, char *err, size_t errlen)
{
	crypto_auth_hmacsha256_state	st;

	if (secret_read(s, path, err, errlen) == -1)
		return -1;
	if ((s->s_hmac = sodium_malloc(sizeof(st))) == NULL) {
		keys_err(err, errlen, "%s: sodium_malloc: %s", path,
		    strerror(errno));
		secret_free(s);
		return -1;
	}
	crypto_auth_hmacsha256_init(&st, secret_open(s), s->s_len);
	memcpy(s->s_hmac, &st, sizeof(st));
	sodium_memzero(&st, sizeof(st));
	keys_lock_all();
	if (sodium_mprotect_noaccess(s->s_hmac) == -1) {
		keys_err(err, errlen, "%s: mprotect: %s", path,
		    strerror(errno));
		secret_free(s);
		return -1;
	}
	if (s->s_len == 0)
		log_warnx("%s: the proxy shared secret is empty; anyone who "
		    "can reach the guest listener can sign as the proxy",
		    path);
	return 0;
}

void
secret_free(struct secret *s)
{
	keys_lock_all();
	if (s->s_bytes != NULL)
		sodium_free(s->s_bytes);
	if (s->s_hmac != NULL)
		sodium_free(s->s_hmac);
	memset(s, 0, sizeof(*s));
}

const uint8_t *
secret_open(const struct secret *s)
{
	keys_unlock(s->s_bytes);
	return s->s_bytes;
}

void
secret_close(const struct secret *s)
{
	(void)s;
}

/* HMAC-SHA256 of msg keyed with a secret from secret_load. */
void
secret_hmac(const struct secret *s, const uint8_t *msg, size_t len,
    uint8_t mac[SECRET_HMAC_LEN])
{
	crypto_auth_hmacsha256_state	st;

	if (s->s_hmac == NULL)
		fatalx("%s: the secret has no HMAC state", __func__);
	keys_unlock(s->s_hmac);
	memcpy(&st, s->s_hmac, sizeof(st));
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}
