/* SPDX-License-Identifier: ISC */
/*
 * Logging shared by every sealmd process.  Lines go to stderr with a
 * syslog priority prefix ("<6>") so that journald keeps the level.
 */
#ifndef SEALMD_LOG_H
#define SEALMD_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_PRI_ERR	3
#define LOG_PRI_WARN	4
#define LOG_PRI_NOTICE	5
#define LOG_PRI_INFO	6
#define LOG_PRI_DEBUG	7

void	log_init(const char *procname, int debug);
void	log_procname(const char *procname);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_audit(const char *const *, size_t);
void	log_flush(void);
void	log_relay(int, const char *, const char *);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
