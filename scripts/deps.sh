#!/bin/sh
# Install what sealmd needs to build and test, on Debian 12.
# As root: apt-get update once, then install only what is missing, and
# create the unprivileged worker user.  As anyone else: print the command.
set -eu

PKGS="build-essential pkg-config libsodium-dev libseccomp-dev libcap-ng-dev
libcriterion-dev libsqlite3-dev libinih-dev libjansson-dev curl openssl
python3 sqlite3 iproute2 systemd mandoc cppcheck clang libclang-rt-14-dev
libssl-dev openssh-client libtls-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing
	else
		echo "deps: missing packages:$missing" >&2
		echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
fi

if [ "$(id -u)" -eq 0 ] && ! getent passwd sealmd-worker >/dev/null; then
	echo "deps: creating user sealmd-worker"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group sealmd-worker
fi
exit 0
