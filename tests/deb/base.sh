#!/bin/sh
# SPDX-License-Identifier: ISC
# base.sh: print the path of a Debian minbase root tarball for the
# package tests, made once with mmdebstrap and cached outside the clone
# (SEALMD_DEB_CACHE, default /var/cache/sealmd-test) for a week.  The
# mirrors are the ones apt here already uses, from /etc/apt/sources.list*,
# so CI needs no other network.  The tarball keeps apt's package lists,
# so that installing into a copy needs no download but the packages.
set -eu

cache=${SEALMD_DEB_CACHE:-/var/cache/sealmd-test}
. /etc/os-release
suite=$VERSION_CODENAME
tar=$cache/$suite-minbase.tar

# The URI serving SUITE with component main, in one-line or deb822 form.
mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$1" '$1 == "deb" {
			i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++
			if ($2 ~ /^\[/) i++
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" } {
			uri = ""; ok = 0; deb = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) {
					split($i, a, " ")
					uri = a[2]
				}
				if ($i ~ /^Types:.*(^| )deb( |$)/) deb = 1
				if ($i ~ /^Suites:/) {
					n = split($i, a, " ")
					for (j = 2; j <= n; j++)
						if (a[j] == s) ok = 1
				}
			}
			if (ok && deb && uri != "") { print uri; exit } }' "$f"
	done
}

if [ -s "$tar" ] && [ -n "$(find "$tar" -mtime -7)" ]; then
	echo "$tar"
	exit 0
fi
main=$(mirror "$suite" | head -n 1)
sec=$(mirror "$suite-security" | head -n 1)
if [ -z "$main" ]; then
	echo "base: no apt source for $suite in /etc/apt/sources.list*" >&2
	exit 1
fi
mkdir -p "$cache"
set -- "deb $main $suite main" "deb $main $suite-updates main"
[ -n "$sec" ] && set -- "$@" "deb $sec $suite-security main"
echo "base: making $tar from $main" >&2
# Made aside and renamed: a run beside this one sees a whole tarball.
tmp=$tar.$$.tmp
trap 'rm -f "$tmp"' EXIT
mmdebstrap --quiet --format=tar --variant=minbase --skip=cleanup/apt/lists \
    "$suite" "$tmp" "$@" >&2
mv "$tmp" "$tar"
echo "$tar"
