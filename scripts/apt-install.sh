#!/bin/sh
# SPDX-License-Identifier: ISC
# apt-install.sh NAME PACKAGE...: install the Debian packages that are
# missing.  As root: apt-get update once, then install only those.  As
# anyone else: print the command and fail.  NAME prefixes the messages.
set -eu

name=$1
shift
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "$name: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing
	else
		echo "$name: missing packages:$missing" >&2
		echo "$name: run as root: apt-get update &&" \
		    "apt-get install -y --no-install-recommends$missing" >&2
		exit 1
	fi
fi
exit 0
