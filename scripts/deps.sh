#!/bin/sh
# SPDX-License-Identifier: ISC
# Install what sealmd needs to build and test, on Debian 12, and create
# the unprivileged worker user (as root; as anyone else, print the
# command and fail).
set -eu

# procps and man-db: systemd-analyze verify checks that sealmd.service's
# ExecReload= (/bin/kill) exists and that its Documentation= pages open
# with man; a minimal Debian has neither.  debhelper, lintian and
# mmdebstrap: make check-deb builds the packages, lints them and installs
# them into fresh Debian roots.  valgrind: make check-valgrind.
"$(dirname "$0")/apt-install.sh" deps build-essential pkg-config \
    libsodium-dev libseccomp-dev libcap-ng-dev libcriterion-dev \
    libsqlite3-dev libinih-dev libjansson-dev curl openssl python3 sqlite3 \
    iproute2 systemd mandoc cppcheck clang libclang-rt-14-dev libssl-dev \
    openssh-client libtls-dev libpq-dev postgresql procps man-db \
    debhelper lintian mmdebstrap valgrind

if [ "$(id -u)" -eq 0 ] && ! getent passwd sealmd-worker >/dev/null; then
	echo "deps: creating user sealmd-worker"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group sealmd-worker
fi
exit 0
