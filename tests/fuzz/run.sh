#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the libFuzzer harnesses built in BDIR (see fuzz.mk).
#   run.sh fuzz BDIR NAME...	fuzz each for $FUZZ_SECONDS (default 30) on
#				a copy of its corpus and regression inputs;
#				a crash is kept in BDIR/artifacts/NAME/
#   run.sh regress BDIR NAME...	run each once over those inputs
# Generated inputs never land in the tree, and a harness's scratch files
# (its $TMPDIR) go even when it crashes.  Exit 1 if any harness failed,
# or has no corpus: "0 inputs ok" would be a check that checked nothing.
set -u

mode=$1
bdir=$2
shift 2
here=$(dirname "$0")
secs=${FUZZ_SECONDS:-30}
rc=0
tmp=""
# Scratch in memory where there is some: the chan harness's store fsyncs
# every commit, which halves its speed on disk, and a busy disk can stall
# it for seconds.
shm=/dev/shm
if [ ! -d "$shm" ] || [ ! -w "$shm" ]; then
	shm=${TMPDIR:-/tmp}
fi
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for name in "$@"; do
	bin=$bdir/fuzz_$name
	inputs="$here/corpus/$name $here/regress/$name"
	if [ -z "$(find "$here/corpus/$name" -type f 2>/dev/null | head -1)" ]
	then
		echo "fuzz: $name: FAILED: no inputs in $here/corpus/$name" >&2
		rc=1
		continue
	fi
	tmp=$(mktemp -d -p "$shm")
	mkdir "$tmp/corpus" "$tmp/scratch"
	# Room for a request line over the 8 KiB limit, and for a few
	# channel frames as large as the broker takes.
	case $name in
	http)	opts="-max_len=20000" ;;
	chan)	opts="-max_len=20000" ;;
	*)	opts="" ;;
	esac
	if [ -f "$here/$name.dict" ]; then
		opts="$opts -dict=$here/$name.dict"
	fi

	if [ "$mode" = regress ]; then
		# shellcheck disable=SC2086
		files=$(find $inputs -type f 2>/dev/null | sort)
		n=$(printf '%s\n' "$files" | grep -c .)
		# shellcheck disable=SC2086
		if [ "$n" -gt 0 ] && ! TMPDIR=$tmp/scratch "$bin" $files \
		    >"$tmp/log" 2>&1; then
			cat "$tmp/log"
			echo "fuzz-regress: $name: FAILED" >&2
			rc=1
		else
			echo "fuzz-regress: $name: $n inputs ok"
		fi
	else
		for d in $inputs; do
			if [ -d "$d" ]; then
				find "$d" -type f -exec cp {} "$tmp/corpus"/ \;
			fi
		done
		echo "== fuzz_$name for $secs s"
		art=$bdir/artifacts/$name/
		mkdir -p "$art"
		# shellcheck disable=SC2086
		if ! TMPDIR=$tmp/scratch "$bin" $opts -max_total_time="$secs" \
		    -timeout=10 -print_final_stats=1 -artifact_prefix="$art" \
		    "$tmp/corpus"; then
			echo "fuzz: $name: FAILED, see $art" >&2
			rc=1
		fi
	fi
	rm -rf "$tmp"
	tmp=""
done
exit $rc
