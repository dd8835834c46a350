/* SPDX-License-Identifier: ISC */
/*
 * Listeners and accept().  Identity is taken here, from the kernel: the
 * peer address for guests, SO_PEERCRED for the owner socket.  The
 * connected fd then goes to the worker with an opaque connection id.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "owner_auth.h"
#include "privsep/log.h"
#include "sd.h"
#include "privsep/validate.h"

#define LISTEN_BACKLOG	1024

static const char busy_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

/*
 * "guest:127.0.0.1:8775", "guest:[::1]:8775", "owner:/path" or, for the
 * owner API over TLS, "owner:127.0.0.1:8776", for logs.
 */
static int
listen_name(struct listener *l, const struct sockaddr_storage *ss,
    socklen_t len)
{
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)ss;
	char				 host[NI_MAXHOST], port[NI_MAXSERV];
	int				 n;

	if (ss->ss_family == AF_UNIX)
		n = snprintf(l->l_name, sizeof(l->l_name), "owner:%s",
		    len > offsetof(struct sockaddr_un, sun_path) &&
		    sun->sun_path[0] != '\0' ? sun->sun_path : "(unnamed)");
	else {
		if (getnameinfo((const struct sockaddr *)ss, len, host,
		    sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
			log_warnx("cannot name a listening socket");
			return -1;
		}
		n = snprintf(l->l_name, sizeof(l->l_name), "%s:%s%s%s:%s",
		    l->l_role == ROLE_OWNER ? "owner" : "guest",
		    ss->ss_family == AF_INET6 ? "[" : "", host,
		    ss->ss_family == AF_INET6 ? "]" : "", port);
	}
	if (n < 0 || (size_t)n >= sizeof(l->l_name)) {
		log_warnx("listener name too long");
		return -1;
	}
	return 0;
}

/*
 * hop_limit: every packet of an answer, the SYN-ACK included, carries this
 * TTL (hop limit), so it dies before a forwarding host can pass it on
 * (SSRF).  Set on the listener: accepted sockets inherit it.  An AF_INET6
 * socket from systemd may take IPv4 clients too ([::] without V6ONLY),
 * whose answers are IPv4 packets: it gets IP_TTL as well.
 */
static int
listen_hops(const struct listener *l, int fd, int family, int reset)
{
	int	hops = l->l_guard.cg_hops;

	/* -1: the system's default, when a reload took hop_limit away. */
	if (hops == 0 && !reset)
		return 0;
	if (hops == 0)
		hops = -1;
	if (setsockopt(fd, IPPROTO_IP, IP_TTL, &hops, sizeof(hops)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_UNICAST_HOPS, &hops, sizeof(hops)) == -1)) {
		log_warn("%s: hop_limit", l->l_name);
		return -1;
	}
	return 0;
}

static int
listen_tcp(struct broker *b, const struct conf_listen *cl, int role)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct listener		*l = &b->b_listen[b->b_nlisten];
	int			 fd, on = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(cl->cl_host, cl->cl_port, &hints, &res)) != 0) {
		log_warnx("listen %s:%s: %s", cl->cl_host, cl->cl_port,
		    gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (cl->cl_device[0] != '\0' && setsockopt(fd, SOL_SOCKET,
	    SO_BINDTODEVICE, cl->cl_device, strlen(cl->cl_device)) == -1) ||
	    (res->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		log_warn("listen %s:%s%s%s", cl->cl_host, cl->cl_port,
		    cl->cl_device[0] != '\0' ? " on interface " : "",
		    cl->cl_device);
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	memset(l, 0, sizeof(*l));
	l->l_fd = fd;
	l->l_role = role;
	l->l_ident = role == ROLE_GUEST ? cl->cl_ident : 0;
	l->l_tls = role == ROLE_GUEST ? cl->cl_tls : b->b_conf->c_owner_tls;
	l->l_guard = cl->cl_guard;
	if (role == ROLE_GUEST && cl->cl_ident == IDENT_DIRECT &&
	    strncmp(cl->cl_section, "guest ", 6) == 0)
		(void)snprintf(l->l_net, sizeof(l->l_net), "%s",
		    cl->cl_section + 6);
	if (role == ROLE_GUEST)
		l->l_section = (int)(cl - b->b_conf->c_listen) + 1;
	if (listen_name(l, &ss, sslen) == -1 ||
	    listen_hops(l, fd, ss.ss_family, 0) == -1) {
		close(fd);
		return -1;
	}
	if (role == ROLE_OWNER)
		log_info("listening: %s (owner API over TLS)", l->l_name);
	else
		log_info("listening: %s (identity %s%s%s%s%s%s)", l->l_name,
		    cl->cl_ident == IDENT_DIRECT ? "direct" : "proxy",
		    l->l_net[0] != '\0' ? ", network " : "", l->l_net,
		    cl->cl_device[0] != '\0' ? ", interface " : "",
		    cl->cl_device, l->l_tls ? ", TLS" : "");
	b->b_nlisten++;
	return 0;
}

/* Replace a stale socket file, never a live listener or another file. */
static int
listen_unlink_stale(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, r;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("owner socket %s exists and is not a socket", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    sizeof(sun.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		log_warnx("owner socket %s is in use by another process", path);
		return -1;
	}
	return unlink(path);
}

static int
listen_owner(struct broker *b)
{
	struct sockaddr_un	 sun;
	struct listener		*l = &b->b_listen[b->b_nlisten];
	const char		*path = b->b_conf->c_owner_socket;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    sizeof(sun.sun_path)) {
		log_warnx("owner socket path too long: %s", path);
		return -1;
	}
	if (listen_unlink_stale(path) == -1) {
		log_warn("owner socket %s", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("owner socket %s", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(l, 0, sizeof(*l));
	l->l_fd = fd;
	l->l_role = ROLE_OWNER;
	if ((size_t)snprintf(l->l_name, sizeof(l->l_name), "owner:%s", path) >=
	    sizeof(l->l_name))
		fatalx("listener name too long");
	log_info("listening: %s", l->l_name);
	b->b_nlisten++;
	return 0;
}

/*
 * The TLS context of the first guest section with tls = yes and this
 * identity, for a socket systemd passed as "guest-tls" (proxy) or
 * "guest-direct-tls".
 */
static int
listen_guest_tls(const struct config *conf, int ident)
{
	size_t	i;

	for (i = 0; i < conf->c_ntls; i++)
		if (!conf->c_tls[i].ct_owner &&
		    conf->c_tls[i].ct_ident == ident)
			return (int)i + 1;
	return 0;
}

/*
 * A socket systemd passed.  Its name gives the role: "guest" (identity
 * from the first guest section, else proxy), "guest-proxy",
 * "guest-direct" or "owner"; "guest-tls", "guest-direct-tls" and
 * "owner-tls" take their certificate from the configuration.  Its type
 * must fit the role.
 */
static int
listen_inherited(struct broker *b, const struct sd_fd *sf)
{
	struct listener		*l = &b->b_listen[b->b_nlisten];
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 type = 0, acc = 0, fl;
	socklen_t		 olen = sizeof(int);
	char			 name[SD_NAME_MAX], *net;

	memset(l, 0, sizeof(*l));
	l->l_fd = sf->sf_fd;
	l->l_inherited = 1;
	/* "guest-direct@NET": a direct listener of the network NET. */
	(void)snprintf(name, sizeof(name), "%s", sf->sf_name);
	if ((net = strchr(name, '@')) != NULL) {
		*net++ = '\0';
		if ((strcmp(name, "guest-direct") != 0 &&
		    strcmp(name, "guest-direct-tls") != 0) || !valid_net(net)) {
			log_warnx("socket fd %d from systemd has name \"%s\": "
			    "only guest-direct and guest-direct-tls take "
			    "@NETWORK, 1 to %d characters of [A-Za-z0-9_.-]",
			    sf->sf_fd, sf->sf_name, ADDR_NET_MAX);
			return -1;
		}
		(void)snprintf(l->l_net, sizeof(l->l_net), "%s", net);
	}
	if (strcmp(name, "owner") == 0)
		l->l_role = ROLE_OWNER;
	else if (strcmp(name, "guest") == 0) {
		l->l_role = ROLE_GUEST;
		l->l_ident = b->b_conf->c_nlisten > 0 ?
		    b->b_conf->c_listen[0].cl_ident : IDENT_PROXY;
	} else if (strcmp(name, "guest-proxy") == 0) {
		l->l_role = ROLE_GUEST;
		l->l_ident = IDENT_PROXY;
	} else if (strcmp(name, "guest-direct") == 0) {
		l->l_role = ROLE_GUEST;
		l->l_ident = IDENT_DIRECT;
	} else if (strcmp(name, "guest-tls") == 0 ||
	    strcmp(name, "guest-direct-tls") == 0) {
		l->l_role = ROLE_GUEST;
		l->l_ident = name[6] == 'd' ? IDENT_DIRECT : IDENT_PROXY;
		l->l_tls = listen_guest_tls(b->b_conf, l->l_ident);
	} else if (strcmp(name, "owner-tls") == 0) {
		l->l_role = ROLE_OWNER;
		l->l_tls = b->b_conf->c_owner_tls;
	} else {
		log_warnx("socket fd %d from systemd has name \"%s\"; want "
		    "guest, guest-proxy, guest-direct, guest-tls, "
		    "guest-direct-tls, owner or owner-tls", sf->sf_fd,
		    sf->sf_name);
		return -1;
	}
	if (strstr(name, "tls") != NULL && l->l_tls == 0) {
		log_warnx("socket \"%s\" from systemd, but no section of the "
		    "configuration gives it a certificate (tls = yes with that "
		    "identity, or tls_cert in [owner])", sf->sf_name);
		return -1;
	}
	/* Guards as the first guest section says; answers stay local. */
	if (l->l_role == ROLE_GUEST && b->b_conf->c_nlisten > 0) {
		l->l_guard = b->b_conf->c_listen[0].cl_guard;
		l->l_section = 1;
	}
	if (l->l_role == ROLE_GUEST && l->l_ident == IDENT_DIRECT &&
	    b->b_conf->c_nlisten == 0)
		l->l_guard.cg_hops = 1;
	if (l->l_role == ROLE_GUEST && l->l_ident == IDENT_PROXY &&
	    l->l_guard.cg_tokens == GUARD_TOKENS_REQUIRED) {
		log_warnx("socket \"%s\" from systemd is a proxy listener, "
		    "but the first guest section has session_tokens = "
		    "required, which cannot work behind the neutron proxy",
		    sf->sf_name);
		return -1;
	}
	if (getsockopt(l->l_fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    getsockopt(l->l_fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) == -1 ||
	    getsockname(l->l_fd, (struct sockaddr *)&ss, &len) == -1 ||
	    type != SOCK_STREAM || !acc ||
	    (l->l_role == ROLE_OWNER && l->l_tls == 0) !=
	    (ss.ss_family == AF_UNIX) ||
	    (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6)) {
		log_warnx("socket fd %d from systemd (\"%s\") is not a "
		    "listening stream socket of the right family", sf->sf_fd,
		    sf->sf_name);
		return -1;
	}
	if ((fl = fcntl(l->l_fd, F_GETFL)) == -1 ||
	    fcntl(l->l_fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("socket fd %d from systemd", sf->sf_fd);
		return -1;
	}
	if (listen_name(l, &ss, len) == -1 ||
	    (l->l_role == ROLE_GUEST && listen_hops(l, l->l_fd,
	    ss.ss_family, 0) == -1))
		return -1;
	log_info("listening: %s (%s%s%s%s%s, from systemd)", l->l_name,
	    l->l_role == ROLE_OWNER ? "owner API" : "identity ",
	    l->l_role == ROLE_OWNER ? "" :
	    l->l_ident == IDENT_DIRECT ? "direct" : "proxy",
	    l->l_net[0] != '\0' ? ", network " : "", l->l_net,
	    l->l_tls ? " over TLS" : "");
	b->b_nlisten++;
	return 0;
}

/*
 * Sockets from systemd first.  They replace the configuration's listeners
 * of their role; a role systemd did not pass is bound from the
 * configuration.
 */
int
listen_setup(struct broker *b)
{
	struct sd_fd	sfd[SD_FDS_MAX];
	int		n, i, guests = 0, owner = 0, owner_tls = 0;
	size_t		j;

	if ((n = sd_listen_inherit(sfd, SD_FDS_MAX)) > CONF_LISTEN_MAX) {
		log_warnx("systemd passed %d sockets; at most %d", n,
		    CONF_LISTEN_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (listen_inherited(b, &sfd[i]) == -1)
			return -1;
		if (b->b_listen[b->b_nlisten - 1].l_role != ROLE_OWNER)
			guests++;
		else if (b->b_listen[b->b_nlisten - 1].l_tls != 0)
			owner_tls++;
		else
			owner++;
	}
	if (owner > 1 || owner_tls > 1) {
		log_warnx("systemd passed %d owner sockets; at most one",
		    owner);
		return -1;
	}
	if (guests > 0 && b->b_conf->c_nlisten > 0)
		log_info("guest listeners come from systemd; not binding the "
		    "%zu listen entries of the configuration",
		    b->b_conf->c_nlisten);
	for (j = 0; guests == 0 && j < b->b_conf->c_nlisten; j++)
		if (listen_tcp(b, &b->b_conf->c_listen[j], ROLE_GUEST) == -1)
			return -1;
	if (owner_tls == 0 && b->b_conf->c_owner_listen &&
	    listen_tcp(b, &b->b_conf->c_owner_tcp, ROLE_OWNER) == -1)
		return -1;
	if (owner > 0) {
		log_info("owner socket comes from systemd; not binding %s",
		    b->b_conf->c_owner_socket);
		return 0;
	}
	return listen_owner(b);
}

/*
 * After a reload: each guest listener takes its section's guards as they
 * now are.  hop_limit holds for connections accepted from now on; the
 * header and token guards reach the worker with each new connection, and
 * post_window applies to the next POST.
 */
void
listen_reguard(struct broker *b)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct listener		*l;
	size_t			 i;
	int			 hops;

	for (i = 0; i < b->b_nlisten; i++) {
		l = &b->b_listen[i];
		if (l->l_section == 0 || l->l_fd == -1)
			continue;
		hops = l->l_guard.cg_hops;
		l->l_guard = b->b_conf->c_listen[l->l_section - 1].cl_guard;
		len = sizeof(ss);
		if (hops != l->l_guard.cg_hops &&
		    getsockname(l->l_fd, (struct sockaddr *)&ss, &len) == 0)
			(void)listen_hops(l, l->l_fd, ss.ss_family, 1);
	}
}

/*
 * The peer as the registry names it, IP[%IFNAME][@NET]: IPv4-mapped IPv6
 * becomes IPv4; a link-local peer gets the name of the interface it came
 * in on (the kernel's scope id), as the same fe80:: address may be on
 * every link; a listener of a [guest NET] section adds @NET, so that the
 * store can prefer a registration on that network (see the store's
 * address lookup).  An interface gone since is "?", which matches none.
 */
static void
listen_peer_addr(const struct listener *l, const struct sockaddr_storage *ss,
    char *addr, size_t addrsz, char *peer, size_t peersz)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	struct in_addr			 v4;
	struct ifreq			 ifr;
	unsigned int			 port = 0;
	size_t				 n;

	(void)snprintf(addr, addrsz, "?");
	if (ss->ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, addrsz);
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
			inet_ntop(AF_INET, &v4, addr, addrsz);
		} else
			inet_ntop(AF_INET6, &sin6->sin6_addr, addr, addrsz);
		port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) {
			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_ifindex = (int)sin6->sin6_scope_id;
			if (ioctl(l->l_fd, SIOCGIFNAME, &ifr) == -1 ||
			    (ifr.ifr_name[IFNAMSIZ - 1] = '\0',
			    !valid_ifname(ifr.ifr_name)))
				(void)snprintf(ifr.ifr_name,
				    sizeof(ifr.ifr_name), "?");
			n = strlen(addr);
			(void)snprintf(addr + n, addrsz - n, "%%%.*s",
			    (int)sizeof(ifr.ifr_name), ifr.ifr_name);
		}
	}
	(void)snprintf(peer, peersz, "%s:%u", addr, port);
	if (l->l_net[0] != '\0') {
		n = strlen(addr);
		(void)snprintf(addr + n, addrsz - n, "@%s", l->l_net);
	}
}

/*
 * A slot for a new connection.  Guests may hold max_conns at once; the
 * owner API has BROKER_OWNER_CONNS more of its own, so that a flood of
 * guests never locks the owner out.
 */
static uint32_t
listen_conn_alloc(struct broker *b, int role)
{
	uint32_t	i, cap;

	cap = role == ROLE_OWNER ? BROKER_OWNER_CONNS : b->b_conf->c_max_conns;
	if (b->b_nconns[role] >= cap)
		return 0;
	for (i = 0; i < BROKER_CONNS(b); i++) {
		if (b->b_conns[i].bc_id == 0) {
			b->b_gen = (b->b_gen + 1) & 0xffff;
			if (b->b_gen == 0)
				b->b_gen = 1;
			b->b_conns[i].bc_id = (b->b_gen << 16) | i;
			b->b_conns[i].bc_serial = ++b->b_serial;
			b->b_conns[i].bc_role = role;
			b->b_conns[i].bc_fd = -1;
			b->b_conns[i].bc_born_ms = broker_now_ms();
			b->b_conns[i].bc_last_ms = b->b_conns[i].bc_born_ms;
			b->b_nconns[role]++;
			return b->b_conns[i].bc_id;
		}
	}
	return 0;
}

/*
 * The owner TLS listener may hold half of the owner API's connections:
 * callers it has not authenticated yet must not lock out the unix socket.
 */
static int
listen_owner_tls_full(struct broker *b)
{
	uint32_t	i, n = 0;

	for (i = 0; i < BROKER_CONNS(b); i++)
		if (b->b_conns[i].bc_id != 0 &&
		    b->b_conns[i].bc_role == ROLE_OWNER &&
		    b->b_conns[i].bc_tls != 0)
			n++;
	return n >= BROKER_OWNER_CONNS / 2;
}

/* Returns 1 when a connection was taken, 0 when none was waiting. */
int
listen_accept(struct broker *b, struct listener *l)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct ucred		 cred;
	socklen_t		 credlen = sizeof(cred);
	struct msg_conn_new	 mc;
	struct bconn		*bc;
	uint32_t		 id;
	int			 fd;

	fd = accept4(l->l_fd, (struct sockaddr *)&ss, &sslen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			log_warn("accept on %s", l->l_name);
		return 0;
	}
	if ((l->l_role == ROLE_OWNER && l->l_tls != 0 &&
	    listen_owner_tls_full(b)) ||
	    (id = listen_conn_alloc(b, l->l_role)) == 0) {
		/* Best effort: the socket is fresh, so this rarely blocks. */
		if (l->l_tls == 0)
			(void)send(fd, busy_reply, sizeof(busy_reply) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		log_warnx("%s: connection limit %u reached", l->l_name,
		    l->l_role != ROLE_OWNER ? b->b_conf->c_max_conns :
		    l->l_tls != 0 ? BROKER_OWNER_CONNS / 2 :
		    BROKER_OWNER_CONNS);
		return 1;
	}
	bc = broker_conn_get(b, id);
	/* The broker's own handle: it can end what it passes on. */
	if ((bc->bc_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: dup", l->l_name);
		broker_conn_free(b, id);
		close(fd);
		return 1;
	}
	bc->bc_listener = (int)(l - b->b_listen);
	bc->bc_ident = l->l_ident;
	tlskey_conn_new(b, bc, l->l_tls);
	if (l->l_role == ROLE_OWNER && l->l_tls == 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &credlen) == -1) {
			log_warn("SO_PEERCRED on %s", l->l_name);
			broker_conn_free(b, id);
			close(fd);
			return 1;
		}
		bc->bc_uid = cred.uid;
		bc->bc_gid = cred.gid;
		bc->bc_authorized = owner_auth_allowed(cred.uid, cred.gid);
		(void)snprintf(bc->bc_peer, sizeof(bc->bc_peer),
		    "uid=%u,gid=%u,pid=%d", (unsigned)cred.uid,
		    (unsigned)cred.gid, (int)cred.pid);
	} else {
		listen_peer_addr(l, &ss, bc->bc_addr, sizeof(bc->bc_addr),
		    bc->bc_peer, sizeof(bc->bc_peer));
	}

	memset(&mc, 0, sizeof(mc));
	mc.mc_role = (uint32_t)bc->bc_role;
	mc.mc_ident = (uint32_t)bc->bc_ident;
	mc.mc_listener = (uint32_t)bc->bc_listener;
	mc.mc_authorized = (uint32_t)bc->bc_authorized;
	mc.mc_tls = (uint32_t)bc->bc_tls;
	mc.mc_tokens = (uint32_t)l->l_guard.cg_tokens;
	memcpy(mc.mc_header, l->l_guard.cg_header, sizeof(mc.mc_header));
	memcpy(mc.mc_value, l->l_guard.cg_value, sizeof(mc.mc_value));
	if (chan_send(&b->b_chan, MSG_CONN_NEW, 0, id, &mc, sizeof(mc),
	    fd) == -1) {
		broker_conn_free(b, id);
		supervise_kill(b, "cannot pass a connection: %s",
		    strerror(errno));
	}
	return 1;
}
