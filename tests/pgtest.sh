#!/bin/sh
# SPDX-License-Identifier: ISC
# pgtest.sh start|stop|restart DIR: a throwaway PostgreSQL cluster in DIR
# for the tests, run by an unprivileged user (nobody, when we are root),
# listening only on a unix socket in DIR.  Superuser: sealmd, trust auth.
# pgtest.sh run CMD...: CMD with such a cluster, its socket directory in
# SEALMD_TEST_PGHOST, and the cluster gone afterwards.
# pgtest.sh standby PRIMARY DIR: a streaming standby of the cluster in
# PRIMARY (pg_basebackup -c fast -R), served from DIR the same way.
# pgtest.sh serve DIR [-c NAME=VALUE]...: start DIR's stopped (or killed)
# cluster again, with these settings too.  promote DIR: pg_ctl promote.
set -eu

cmd=$1
shift
if [ "$cmd" = run ]; then
	SEALMD_TEST_PGHOST=$(mktemp -d /tmp/sealmd-pg-XXXXXX)
	export SEALMD_TEST_PGHOST
	trap '"$0" stop "$SEALMD_TEST_PGHOST"' EXIT
	"$0" start "$SEALMD_TEST_PGHOST"
	"$@"
	exit $?
fi
dir=$1
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
	echo "pgtest: no PostgreSQL server installed (make deps)" >&2
	exit 1
fi
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    --reset-env -- "$@"
	else
		"$@"
	fi
}

mkdir_dir() {
	mkdir -p "$dir"
	# The broker reconnects after dropping root's DAC override.
	chmod 0755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody:nogroup "$dir"
	fi
}
# serve [-c NAME=VALUE]...: start the cluster in $dir.
serve() {
	as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
	    "-c listen_addresses='' -c unix_socket_directories='$dir' \
	    -c max_connections=200 $*" start >/dev/null ||
	    { cat "$dir/server.log" >&2; exit 1; }
}

case $cmd in
start)
	mkdir_dir
	as_user "$bin/initdb" -D "$dir/data" -U sealmd -A trust -E UTF8 \
	    --locale=C >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	serve
	;;
standby)
	primary=$dir
	dir=$2
	mkdir_dir
	as_user "$bin/pg_basebackup" -h "$primary" -U sealmd -D "$dir/data" \
	    -c fast -R >"$dir/basebackup.log" 2>&1 ||
	    { cat "$dir/basebackup.log" >&2; exit 1; }
	serve
	;;
serve)
	shift
	serve "$@"
	;;
promote)
	as_user "$bin/pg_ctl" -D "$dir/data" -w promote >/dev/null
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop \
		    >/dev/null || true
	fi
	rm -rf "$dir"
	;;
restart)
	as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w \
	    restart >/dev/null
	;;
*)
	echo "usage: pgtest.sh start|stop|restart|serve|promote DIR" \
	    "| standby PRIMARY DIR" >&2
	exit 2
	;;
esac
