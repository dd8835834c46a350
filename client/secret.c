/* SPDX-License-Identifier: ISC */
/*
 * Reading and generating the password that sealmdctl seal-for and
 * sealmd-guest seal.  The caller's bbuf holds it and wipes it when freed.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "client/secret.h"

#define SECRET_READ_CHUNK	1024

/* Letters and digits that cannot be taken for one another on a console. */
static const char	secret_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

static int	secret_fd(int, struct bbuf *, int);
static int	secret_tty(int, struct bbuf *, const char *);
static void	secret_chomp(const struct bbuf *, struct buf *);

/* Read fd to its end, or to the end of a line when line is set. */
static int
secret_fd(int fd, struct bbuf *bb, int line)
{
	struct buf	b;
	size_t		pos;
	ssize_t		n;

	for (;;) {
		bbuf_view(bb, &b);
		if (line && buf_find(&b, '\n', &pos) == 0)
			return 0;
		n = bbuf_read_fd(bb, fd, SECRET_READ_CHUNK);
		if (n == 0)
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
	}
}

/*
 * One line from a terminal with echo off.  ISIG is off too, so that ^C
 * cannot leave the terminal silent: it arrives as a byte and aborts here.
 */
static int
secret_tty(int fd, struct bbuf *bb, const char *prompt)
{
	struct termios	old, quiet;
	struct buf	b;
	size_t		pos;
	int		rv, saved;

	if (tcgetattr(fd, &old) == -1) {
		warn("terminal");
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ISIG);
	quiet.c_lflag |= ICANON;
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == -1) {
		warn("terminal");
		return -1;
	}
	rv = secret_fd(fd, bb, 1);
	saved = errno;
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	if (rv == -1 && saved == ENOBUFS) {
		warnx("password too long");
		return -1;
	}
	if (rv == -1) {
		errno = saved;
		warn("terminal");
		return -1;
	}
	bbuf_view(bb, &b);
	if (buf_find(&b, old.c_cc[VINTR], &pos) == 0) {
		warnx("interrupted");
		return -1;
	}
	return 0;
}

/* The contents less one trailing LF or CRLF. */
static void
secret_chomp(const struct bbuf *bb, struct buf *pw)
{
	struct buf	b;
	uint8_t		ch;

	bbuf_view(bb, &b);
	if (buf_peek(&b, buf_left(&b) - 1, &ch) == 0 && ch == '\n' &&
	    buf_take(&b, buf_left(&b) - 1, pw) == 0) {
		b = *pw;
		if (buf_peek(&b, buf_left(&b) - 1, &ch) == 0 && ch == '\r')
			(void)buf_take(&b, buf_left(&b) - 1, pw);
		return;
	}
	*pw = b;
}

/*
 * The password from fd, into bb (which the caller frees) with pw a view
 * of it: all of fd less one final newline or, on a terminal, a line
 * typed once, or twice when confirm is set.  At most max bytes.
 */
int
secret_read(int fd, struct bbuf *bb, size_t max, int confirm, struct buf *pw)
{
	struct bbuf	again;
	struct buf	pw2;
	int		rv = -1;

	/* Room for the newline, and one byte more to see "too long". */
	bbuf_init(bb, max + 3);
	bbuf_init(&again, max + 3);
	if (isatty(fd)) {
		if (secret_tty(fd, bb, "Password: ") == -1 ||
		    (confirm && secret_tty(fd, &again, "Again: ") == -1))
			goto out;
		secret_chomp(bb, pw);
		secret_chomp(&again, &pw2);
		if (confirm && (buf_left(pw) != buf_left(&pw2) ||
		    sodium_memcmp(bb->bb_data, again.bb_data,
		    buf_left(pw)) != 0)) {
			warnx("the two passwords differ");
			goto out;
		}
	} else {
		if (secret_fd(fd, bb, 0) == -1) {
			if (errno == ENOBUFS)
				warnx("password longer than %zu bytes", max);
			else
				warn("stdin");
			goto out;
		}
		secret_chomp(bb, pw);
	}
	if (buf_left(pw) == 0) {
		warnx("empty password");
		goto out;
	}
	if (buf_left(pw) > max) {
		warnx("password longer than %zu bytes", max);
		goto out;
	}
	rv = 0;
 out:
	bbuf_free(&again);
	return rv;
}

/* len characters of secret_alphabet, uniformly, into bb; pw views it. */
int
secret_random(struct bbuf *bb, size_t len, struct buf *pw)
{
	size_t	i;
	char	ch;

	bbuf_init(bb, len);
	for (i = 0; i < len; i++) {
		ch = secret_alphabet[randombytes_uniform(
		    sizeof(secret_alphabet) - 1)];
		if (bbuf_add(bb, &ch, 1) == -1) {
			warnx("cannot generate a password");
			return -1;
		}
	}
	sodium_memzero(&ch, sizeof(ch));
	bbuf_view(bb, pw);
	return 0;
}
