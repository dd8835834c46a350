/* SPDX-License-Identifier: ISC */
/*
 * systemd's socket activation and notification protocols (sd.h), used
 * by the broker: listeners passed as LISTEN_FDS, READY/STATUS/WATCHDOG
 * datagrams to NOTIFY_SOCKET.  Written by hand; libsystemd is not linked.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/log.h"
#include "sd.h"

static int			sd_sock = -1;
static struct sockaddr_un	sd_addr;
static socklen_t		sd_addrlen;

static int
sd_env_u64(const char *name, uint64_t max, uint64_t *v)
{
	const char	*s = getenv(name);
	struct buf	 b;

	if (s == NULL)
		return -1;
	buf_init(&b, s, strlen(s));
	return buf_to_u64(&b, max, v);
}

/*
 * Take the fds systemd passed (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES),
 * mark them close-on-exec and forget the variables, so that no child
 * sees them.  Returns how many, 0 when not socket-activated.
 */
int
sd_listen_inherit(struct sd_fd *out, int max)
{
	uint64_t	 pid, n;
	const char	*names;
	struct buf	 b, name;
	int		 i, fl;

	if (sd_env_u64("LISTEN_PID", UINT32_MAX, &pid) == -1 ||
	    (pid_t)pid != getpid()) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		return 0;
	}
	if (sd_env_u64("LISTEN_FDS", (uint64_t)max, &n) == -1)
		fatalx("LISTEN_FDS is not a number of at most %d", max);
	names = getenv("LISTEN_FDNAMES");
	buf_init(&b, names ? names : "", names ? strlen(names) : 0);
	for (i = 0; i < (int)n; i++) {
		out[i].sf_fd = SD_LISTEN_FDS_START + i;
		out[i].sf_name[0] = '\0';
		if (buf_left(&b) > 0 && (buf_sep(&b, ':', &name) == -1 ||
		    buf_copy_str(&name, out[i].sf_name,
		    sizeof(out[i].sf_name)) == -1))
			fatalx("LISTEN_FDNAMES entry %d is too long", i);
		if ((fl = fcntl(out[i].sf_fd, F_GETFD)) == -1 ||
		    fcntl(out[i].sf_fd, F_SETFD, fl | FD_CLOEXEC) == -1)
			fatal("inherited fd %d", out[i].sf_fd);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

/*
 * Open the notification socket now, while sockets may still be created;
 * later messages only need sendto.  A path or an abstract ("@") address.
 */
int
sd_notify_open(void)
{
	const char	*path = getenv("NOTIFY_SOCKET");
	size_t		 len;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(sd_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET is not a usable address");
		return -1;
	}
	memset(&sd_addr, 0, sizeof(sd_addr));
	sd_addr.sun_family = AF_UNIX;
	memcpy(sd_addr.sun_path, path, len);
	if (path[0] == '@')
		sd_addr.sun_path[0] = '\0';
	sd_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	sd_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (sd_sock == -1) {
		log_warn("notify socket");
		return -1;
	}
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

void
sd_notifyf(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	if (sd_sock == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (sendto(sd_sock, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&sd_addr, sd_addrlen) == -1)
		log_warn("sd_notify");
}

/* The watchdog interval meant for this process, 0 when there is none. */
uint64_t
sd_watchdog_usec(void)
{
	uint64_t	usec, pid;

	if (sd_env_u64("WATCHDOG_USEC", UINT64_MAX / 2, &usec) == -1)
		return 0;
	if (sd_env_u64("WATCHDOG_PID", UINT32_MAX, &pid) == 0 &&
	    (pid_t)pid != getpid())
		return 0;
	return usec;
}
