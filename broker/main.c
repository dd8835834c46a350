/* SPDX-License-Identifier: ISC */
/*
 * sealmd: the privileged broker.  Loads the configuration, the key ring,
 * the proxy secret and the store, binds the listeners, then supervises the
 * worker and serves its operations until SIGTERM.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>

#include "broker.h"
#include "launcher/launcher.h"
#include "owner_auth.h"
#include "privsep/log.h"
#include "sd.h"
#include "ratelimit.h"
#include "tokens.h"
#include "seal.h"
#include "hasher.h"
#include "store/copystore.h"
#include "reader.h"
#include "writer.h"

#define MAIN_UNSCOPED_SHOWN	8	/* bare link-local addresses named */

static void	usage(void) __attribute__((noreturn));
static void	main_harden(void);
static int	main_can_drop(void);
static void	main_worker_ids(struct broker *);
static void	main_chroot_dir(struct broker *);
static int	main_dir_empty(const char *);
static void	main_nofile(const struct broker *);
static void	main_threads(const struct config *);

static void
usage(void)
{
	fprintf(stderr, "usage: sealmd [-dn] [--migrate] -c FILE\n"
	    "       sealmd --copy-store FROM TO\n"
	    "  -c FILE       configuration file\n"
	    "  -n            check the configuration and exit\n"
	    "  -d            debug logging\n"
	    "  --migrate     bring the store's schema up to date and exit\n"
	    "  --copy-store  copy the store of configuration FROM into the "
	    "empty\n"
	    "                store of configuration TO, sealed, and exit\n");
	exit(2);
}

/*
 * The broker keeps a handle on every connection, and holds each new one
 * once more until the channel has passed it on: room for both, and for
 * its own files.  Short of that, accept or dup fails with a warning.
 */
static void
main_nofile(const struct broker *b)
{
	struct rlimit	rl;
	rlim_t		need;

	need = 2 * (rlim_t)BROKER_CONNS(b) + BROKER_FD_SLACK;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		log_warnx("max_conns %u needs %llu file descriptors, but "
		    "RLIMIT_NOFILE allows %llu: raise LimitNOFILE",
		    b->b_conf->c_max_conns, (unsigned long long)need,
		    (unsigned long long)rl.rlim_max);
		need = rl.rlim_max;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");
}

/* No core dumps and no ptrace by other users: keys live in this process. */
static void
main_harden(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal(SIGPIPE)");
}

/*
 * The worker is dropped to its own uid in a chroot when we can: as root,
 * or as the unit's user holding the capabilities systemd granted.
 */
static int
main_can_drop(void)
{
	if (geteuid() == 0)
		return 1;
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) &&
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_CHROOT) &&
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
}

static void
main_worker_ids(struct broker *b)
{
	struct passwd	*pw;

	b->b_drop = main_can_drop();
	if (!b->b_drop) {
		b->b_wuid = geteuid();
		b->b_wgid = getegid();
		return;
	}
	if ((pw = getpwnam(b->b_conf->c_worker_user)) == NULL)
		fatalx("worker user \"%s\" does not exist; create it with: "
		    "useradd --system --no-create-home --shell "
		    "/usr/sbin/nologin %s", b->b_conf->c_worker_user,
		    b->b_conf->c_worker_user);
	if (pw->pw_uid == 0 || pw->pw_uid == geteuid())
		fatalx("worker user \"%s\" must not be root or the user "
		    "sealmd runs as", b->b_conf->c_worker_user);
	b->b_wuid = pw->pw_uid;
	b->b_wgid = pw->pw_gid;
}

/* The worker's chroot: empty, root-owned, writable by nobody else. */
static void
main_chroot_dir(struct broker *b)
{
	const char	*dir = b->b_conf->c_chroot;
	struct stat	 st;

	if (!b->b_drop)
		return;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		/* Create the parent too: /run/sealmd on a fresh boot. */
		char	 parent[PATH_MAX], *slash;

		if ((size_t)snprintf(parent, sizeof(parent), "%s", dir) >=
		    sizeof(parent))
			fatalx("chroot path too long");
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
			*slash = '\0';
		if (mkdir(parent, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", parent);
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", dir);
	}
	if (lstat(dir, &st) == -1)
		fatal("stat %s", dir);
	/* The worker's uid must never own or write it. */
	if (!S_ISDIR(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0)
		fatalx("chroot %s must be a directory owned by root (or by "
		    "sealmd's own user) and writable only by its owner", dir);
	if (!main_dir_empty(dir))
		fatalx("chroot %s must be empty", dir);
}

/* Any entry, not only a subdirectory (which st_nlink would count). */
static int
main_dir_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if ((d = opendir(dir)) == NULL)
		fatal("opendir %s", dir);
	errno = 0;
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	if (empty && errno != 0)
		fatal("readdir %s", dir);
	closedir(d);
	return empty;
}

/*
 * The store threads, before the filter loads (TSYNC then confines them
 * too).  They take none of the signals the event loop handles, so that a
 * signal never waits on a thread that sleeps (TSan holds one for the
 * thread's next libc call).
 */
static void
main_threads(const struct config *conf)
{
	sigset_t	sigs, old;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	if ((errno = pthread_sigmask(SIG_BLOCK, &sigs, &old)) != 0)
		fatal("pthread_sigmask");
	if (writer_start(conf->c_store_engine, config_store_target(conf)) ==
	    -1)
		fatalx("cannot start the store writer");
	/* A database across a network is read off the event loop. */
	if (store_engine_remote(conf->c_store_engine) &&
	    reader_start(conf->c_store_engine, config_store_target(conf)) ==
	    -1)
		fatalx("cannot start the store readers");
	if (hasher_start() == -1)
		fatalx("cannot start the verifier hasher");
	if ((errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatal("pthread_sigmask");
}

#ifdef SEALMD_SANITIZE
/*
 * make check-asan: LeakSanitizer stops the world with clone and ptrace at
 * exit, which no seccomp filter of ours allows.  Leaks in the daemons are
 * valgrind's job; ASan and UBSan stay on.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/*
 * sealmd -n: the file, and what starting would refuse in the files it
 * names (TLS certificates and keys, owner groups), without starting.
 */
static void
main_check(struct config *conf, struct broker *b)
{
	char	err[CONF_ERR_MAX];
	int	rc = 0;

	if (seal_init() == -1)
		fatalx("libsodium initialisation failed");
	if (owner_auth_init(conf) == -1)
		rc = 2;
	else if (tlskey_load(conf, &b->b_tls, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealmd: %s\n", err);
		rc = 2;
	} else {
		if (config_store_advice(conf) != NULL)
			fprintf(stderr, "sealmd: warning: %s\n",
			    config_store_advice(conf));
		fprintf(stderr, "sealmd: configuration OK\n");
	}
	tlskey_free(&b->b_tls);
	config_free(conf);
	exit(rc);
}

/*
 * A link-local address registered without its interface, which earlier
 * versions allowed, identifies no guest now (the same fe80:: address may
 * be on every link): name the first few at start, so that they are
 * registered again rather than silently never found.
 */
static void
main_unscoped(struct store *st)
{
	struct store_addr	sa[MAIN_UNSCOPED_SHOWN + 1];
	size_t			i, n;

	if (store_addr_unscoped(st, sa, MAIN_UNSCOPED_SHOWN + 1, &n) !=
	    STORE_OK)
		log_warnx("cannot look for link-local addresses registered "
		    "without an interface");
	else {
		for (i = 0; i < n && i < MAIN_UNSCOPED_SHOWN; i++)
			log_warnx("instance %s: address %s is link-local "
			    "without its interface and identifies no guest; "
			    "register it again as %s%%INTERFACE", sa[i].sa_id,
			    sa[i].sa_addr, sa[i].sa_addr);
		if (n > MAIN_UNSCOPED_SHOWN)
			log_warnx("more link-local addresses without their "
			    "interface than the %d named", MAIN_UNSCOPED_SHOWN);
	}
	store_read_end(st);
}

/* sealmd --copy-store FROM TO */
static void
main_copy(const char *from, const char *to)
{
	static struct config	cfrom, cto;
	char			err[CONF_ERR_MAX];
	int			rc;

	if (config_load(from, &cfrom, err, sizeof(err)) == -1 ||
	    config_load(to, &cto, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealmd: %s\n", err);
		exit(2);
	}
	if (seal_init() == -1)
		fatalx("libsodium initialisation failed");
	umask(077);
	rc = copystore_run(cfrom.c_store_engine, config_store_target(&cfrom),
	    cto.c_store_engine, config_store_target(&cto));
	config_free(&cfrom);
	config_free(&cto);
	exit(rc == 0 ? 0 : 1);
}

/*
 * sealmd --migrate: a shared store's schema changes only when asked,
 * since other nodes may still run the older sealmd.
 */
static void
main_migrate(struct config *conf)
{
	struct store	*st;

	if ((st = store_open(conf->c_store_engine, config_store_target(conf),
	    1)) == NULL) {
		fprintf(stderr, "sealmd: cannot open or migrate the %s store\n",
		    store_engine_name(conf->c_store_engine));
		exit(1);
	}
	store_close(st);
	fprintf(stderr, "sealmd: the %s store's schema is up to date\n",
	    store_engine_name(conf->c_store_engine));
	config_free(conf);
	exit(0);
}

int
main(int argc, char *argv[])
{
	static struct config	 conf;
	static struct broker	 b;
	struct msg_init		 init;
	char			 err[CONF_ERR_MAX];
	struct tokens_ring	*ring;
	const char		*conffile = NULL;
	static const struct option longopts[] = {
		{ "migrate", no_argument, NULL, 'M' },
		{ "copy-store", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	int			 ch, checkonly = 0, debug = 0, migrate = 0;
	int			 copy = 0;
	size_t			 i;

	log_init("sealmd", 0);
	while ((ch = getopt_long(argc, argv, "c:dn", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'M':
			migrate = 1;
			break;
		case 'C':
			copy = 1;
			break;
		default:
			usage();
		}
	}
	log_init("sealmd", debug);
	if (copy && conffile == NULL && !migrate && !checkonly &&
	    argc - optind == 2)
		main_copy(argv[optind], argv[optind + 1]);
	if (copy || conffile == NULL || optind != argc)
		usage();

	if (config_load(conffile, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealmd: %s\n", err);
		exit(2);
	}
	if (checkonly)
		main_check(&conf, &b);
	if (migrate)
		main_migrate(&conf);

	main_harden();
	umask(077);
	b.b_conf = &conf;
	b.b_debug = debug;
	b.b_started = time(NULL);
	/* The launcher first: it must never see a key, secret or store. */
	main_worker_ids(&b);
	main_chroot_dir(&b);
	if (supervise_find_path(&b) == -1)
		fatalx("cannot run the worker %s", b.b_worker_path);
	supervise_fill_init(&b, &init);
	b.b_lpid = launcher_start(&b.b_launch, &init, b.b_worker_path);
	if (seal_init() == -1)
		fatalx("libsodium initialisation failed");
	ratelimit_init();
	tokens_init();
	if (owner_auth_init(&conf) == -1)
		exit(2);
	if (keys_load_all(&conf, &b.b_keys, &b.b_secret, &b.b_have_secret,
	    &b.b_keys_creds, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (b.b_have_secret == 0 && conf.c_proxy_secret_file[0] != '\0')
		fatalx("no proxy secret");
	if (broker_token_keys(&conf, &ring, err, sizeof(err)) == -1)
		fatalx("%s", err);
	tokens_commit(ring);
	if (tlskey_load(&conf, &b.b_tls, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (config_store_advice(&conf) != NULL)
		log_warnx("%s", config_store_advice(&conf));
	if ((b.b_store = store_open(conf.c_store_engine,
	    config_store_target(&conf), 0)) == NULL)
		fatalx("cannot open the %s store",
		    store_engine_name(conf.c_store_engine));
	main_unscoped(b.b_store);
	if (ops_seed_instances(&b) == -1)
		fatalx("cannot seed instances from %s", conffile);
	main_threads(&conf);
	if ((b.b_conns = calloc(BROKER_CONNS(&b), sizeof(*b.b_conns))) ==
	    NULL || (b.b_gone = calloc(BROKER_CONNS(&b),
	    sizeof(*b.b_gone))) == NULL)
		fatal("calloc");
	main_nofile(&b);
	if (listen_setup(&b) == -1)
		exit(1);
	for (i = 0; i < b.b_nlisten; i++)
		if (b.b_listen[i].l_role == ROLE_GUEST &&
		    b.b_listen[i].l_ident == IDENT_PROXY && !b.b_have_secret)
			fatalx("%s uses proxy identity but there is no proxy "
			    "secret (proxy_secret_file or credential "
			    "proxy-secret)", b.b_listen[i].l_name);
	broker_tokens_log(&b);
	if (sd_notify_open() == -1)
		exit(1);
	log_info("started: %zu listeners, key ring of %zu (newest %u), "
	    "store %s, worker %s", b.b_nlisten, b.b_keys.kr_n,
	    keyring_newest(&b.b_keys)->k_id, store_name(b.b_store),
	    b.b_worker_path);

	broker_run(&b);
	launcher_stop(&b.b_launch, b.b_lpid);
	b.b_lpid = 0;

	hasher_stop();
	/* Nobody waits for an answer now: a stuck database holds no one. */
	store_abort();
	reader_stop();
	writer_stop();
	store_close(b.b_store);
	keyring_free(&b.b_keys);
	tlskey_free(&b.b_tls);
	if (b.b_have_secret)
		secret_free(&b.b_secret);
	free(b.b_conns);
	free(b.b_gone);
	config_free(&conf);
	log_info("stopped");
	return 0;
}
