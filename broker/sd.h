/* SPDX-License-Identifier: ISC */
/*
 * systemd's socket-activation and notification protocols, written by hand
 * from sd_listen_fds(3) and sd_notify(3) so that no process links
 * libsystemd (as OpenSSH does since 2024).
 */
#ifndef SEALMD_SD_H
#define SEALMD_SD_H

#include <stdint.h>

#define SD_LISTEN_FDS_START	3
#define SD_FDS_MAX		32
#define SD_NAME_MAX		64

struct sd_fd {
	int	sf_fd;
	char	sf_name[SD_NAME_MAX];
};

int	sd_listen_inherit(struct sd_fd *, int);
int	sd_notify_open(void);
void	sd_notifyf(const char *, ...) __attribute__((format(printf, 1, 2)));
uint64_t sd_watchdog_usec(void);

#endif
