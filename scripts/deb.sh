#!/bin/sh
# SPDX-License-Identifier: ISC
# deb.sh [OUTDIR [VERSION]]: build the Debian packages (debian/) from a
# copy of this tree, and leave the .deb, .changes and .buildinfo files in
# OUTDIR (default build-deb).  VERSION replaces the changelog's top
# version in the copy (the upgrade test builds an older one).  As root,
# installs what debian/control's Build-Depends lists first; as anyone
# else, dpkg-buildpackage names what is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/build-deb}" && cd "${1:-$top/build-deb}" && pwd)
version=${2:-}

cd "$top"
"$top/scripts/apt-install.sh" deb dpkg-dev debhelper
if [ "$(id -u)" -eq 0 ] && ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	echo "deb: installing the build dependencies"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q \
	    --no-install-recommends ./
fi

# dpkg-buildpackage writes its results beside the source: a scratch copy
# of the tree, without build outputs, keeps them out of the clone's parent.
work=$(mktemp -d "$out/.src-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/sealmd"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
	    xargs -0 tar -C "$top" -cf - --no-recursion |
	    tar -C "$work/sealmd" -xf -
else
	tar -C "$top" -cf - --exclude=./build --exclude='./build-*' . |
	    tar -C "$work/sealmd" -xf -
fi
if [ -n "$version" ]; then
	sed -i "1s/(\([^)]*\))/($version)/" "$work/sealmd/debian/changelog"
fi
(cd "$work/sealmd" && dpkg-buildpackage -us -uc -b)
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	mv "$f" "$out/"
done
echo "deb: packages in $out"
