#!/bin/sh
# SPDX-License-Identifier: ISC
# Install what `make bench` and `make bench-instr` need, on Debian 12:
# wrk (load generator), nginx (the reference server), valgrind (callgrind)
# and util-linux (taskset).  Kept apart from scripts/deps.sh on purpose:
# `make check` must not need any of these.
set -eu

exec "$(dirname "$0")/apt-install.sh" bench-deps wrk nginx valgrind \
    openssl util-linux procps python3 build-essential
