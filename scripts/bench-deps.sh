#!/bin/sh
# Install what `make bench` and `make bench-instr` need, on Debian 12:
# wrk (load generator), nginx (the reference server), valgrind (callgrind)
# and util-linux (taskset).  Kept apart from scripts/deps.sh on purpose:
# `make check` must not need any of these.
# As root: apt-get update once, then install only what is missing.
# As anyone else: print the command and fail.
set -eu

PKGS="wrk nginx valgrind openssl util-linux procps python3 build-essential"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "bench-deps: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing
	else
		echo "bench-deps: missing packages:$missing" >&2
		echo "bench-deps: run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
		exit 1
	fi
fi
exit 0
