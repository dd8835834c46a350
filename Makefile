# SPDX-License-Identifier: ISC
# sealmd: a privilege-separated OpenStack instance-password service.
# make run | make check | make all | make install | make deb | make clean

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
LIBEXECDIR	?= $(PREFIX)/libexec/sealmd
SYSCONFDIR	?= /etc
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
MANDIR		?= $(PREFIX)/share/man
DESTDIR		?=

CC		?= cc
B		:= build
PKGS		:= libsodium libseccomp libcap-ng sqlite3 libpq inih jansson \
		   libtls libcrypto

WARN	:= -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Werror
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) \
	   -I. -DLIBEXECDIR='"$(LIBEXECDIR)"' $(SAN)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now $(SAN)

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs = $(shell pkg-config --libs $(1) 2>/dev/null)

PRIVSEP_SRCS	:= privsep/log.c privsep/buf.c privsep/chan.c \
		   privsep/validate.c privsep/metrics.c privsep/utf8.c
STORE_SRCS	:= broker/store/store.c broker/store/store_sqlite.c \
		   broker/store/store_pg.c broker/store/copystore.c \
		   broker/store/store_replay.c
BROKER_SRCS	:= broker/main.c broker/broker.c broker/listen.c \
		   broker/supervise.c broker/wlog.c broker/ops.c \
		   broker/ops_guest.c broker/ops_owner.c broker/ops_done.c \
		   broker/ident.c broker/keys.c broker/seal.c broker/audit.c \
		   broker/ratelimit.c broker/writer.c broker/reader.c \
		   broker/tokens.c broker/stats.c broker/jobq.c \
		   broker/rotate.c broker/waiters.c broker/hasher.c \
		   broker/tlskey.c broker/tlsauth.c \
		   broker/config.c broker/owner_auth.c broker/sandbox.c \
		   broker/sd.c $(STORE_SRCS)
# The launcher is forked from sealmd, before any key is loaded.
LAUNCHER_SRCS	:= launcher/launcher.c launcher/sandbox.c
# Two workers from one source: sealmd-worker-tls with worker/tls.c, and
# sealmd-worker, for deployments with no TLS listener, without any TLS
# library (worker/notls.c).
WORKER_CORE	:= worker/main.c worker/conn.c worker/http.c \
		   worker/path.c worker/guest.c worker/owner.c \
		   worker/reply.c worker/prom.c worker/sandbox.c
WORKER_SRCS	:= $(WORKER_CORE) worker/tls.c
# What sealmdctl and sealmd-guest share; sealmd-guest runs in the guest.
CLIENT_SRCS	:= client/sealbox.c client/sshkey.c client/secret.c \
		   client/httpc.c
CTL_SRCS	:= ctl/sealmdctl.c ctl/sealcmd.c ctl/rsa.c $(CLIENT_SRCS)
# The guest tool links libsodium and libc only.
GUEST_SRCS	:= guest/sealmd-guest.c $(CLIENT_SRCS) privsep/buf.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

BROKER_LIBS	:= libsodium libseccomp libcap-ng sqlite3 libpq inih libcrypto
BROKER_LDLIBS	:= -lpthread
WORKER_PLAIN_LIBS := libsodium libseccomp libcap-ng jansson
WORKER_LIBS	:= $(WORKER_PLAIN_LIBS) libtls libcrypto
CTL_LIBS	:= jansson libsodium libcrypto
GUEST_LIBS	:= libsodium

all: $(B)/sealmd $(B)/sealmd-worker $(B)/sealmd-worker-tls $(B)/sealmdctl \
    $(B)/sealmd-guest

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(call pc_cflags,$(PKGS)) -MMD -MP -c $< -o $@

$(B)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(call pc_cflags,$(PKGS) criterion) -MMD -MP \
	    -c $< -o $@

$(B)/sealmd: $(call obj,$(PRIVSEP_SRCS) $(BROKER_SRCS) $(LAUNCHER_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(BROKER_LIBS)) \
	    $(BROKER_LDLIBS)

$(B)/sealmd-worker: $(call obj,$(PRIVSEP_SRCS) $(WORKER_CORE) worker/notls.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(WORKER_PLAIN_LIBS))

$(B)/sealmd-worker-tls: $(call obj,$(PRIVSEP_SRCS) $(WORKER_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(WORKER_LIBS))

$(B)/sealmdctl: $(call obj,$(PRIVSEP_SRCS) $(CTL_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(CTL_LIBS))

$(B)/sealmd-guest: $(call obj,$(GUEST_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(GUEST_LIBS))

# The filters as readable PFC, committed and reviewed as diffs.
$(B)/seccomp-export: $(call obj,tools/export_filters.c \
	    worker/sandbox.c broker/sandbox.c launcher/sandbox.c privsep/log.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,libseccomp libcap-ng)

seccomp-export: $(B)/seccomp-export
	$(B)/seccomp-export policy/worker.pfc policy/broker.pfc \
	    policy/launcher.pfc

# Unit tests: one Criterion binary per tests/unit/test_NAME.c, linked with
# the objects listed in UT_NAME.
UT_buf		:= privsep/buf.c privsep/log.c
UT_chan		:= privsep/chan.c privsep/buf.c privsep/log.c
UT_http		:= worker/http.c worker/path.c privsep/utf8.c privsep/buf.c \
		   privsep/log.c
UT_seal		:= broker/seal.c broker/keys.c privsep/buf.c privsep/log.c
UT_store	:= broker/store/store.c broker/store/store_sqlite.c \
		   broker/store/store_pg.c privsep/buf.c privsep/log.c
UT_store_pg	:= $(UT_store)
UT_reader	:= broker/reader.c broker/jobq.c broker/store/store_replay.c \
		   $(UT_store)
UT_config	:= broker/config.c privsep/buf.c privsep/log.c \
		   privsep/chan.c privsep/validate.c
UT_config_tls	:= broker/config.c privsep/buf.c privsep/log.c \
		   privsep/chan.c privsep/validate.c
UT_sandbox	:= worker/sandbox.c broker/sandbox.c launcher/sandbox.c \
		   privsep/log.c
UT_launcher	:= $(LAUNCHER_SRCS) broker/sandbox.c privsep/chan.c \
		   privsep/buf.c privsep/log.c
UT_ratelimit	:= broker/ratelimit.c
UT_tokens	:= broker/tokens.c privsep/log.c
UT_waiters	:= broker/waiters.c
UT_validate	:= privsep/validate.c privsep/chan.c privsep/buf.c \
		   privsep/log.c
UT_hasher	:= broker/hasher.c broker/jobq.c privsep/log.c
UT_log		:= privsep/log.c
UT_jobq		:= broker/jobq.c privsep/log.c
# The broker less main and its supervision of the worker, and its
# sandbox: what tests/unit/bfix.c and tests/fuzz/fuzz_chan.c drive.
BROKER_CORE	:= $(filter-out broker/main.c broker/supervise.c \
		   broker/sandbox.c, $(BROKER_SRCS) $(PRIVSEP_SRCS))
UT_BROKER	:= $(BROKER_CORE) tests/bstub.c tests/unit/bfix.c
UT_ident	:= $(UT_BROKER)
UT_rotate	:= $(UT_BROKER)
UT_ops		:= $(UT_BROKER)
UT_sealbox	:= client/sealbox.c privsep/buf.c
UT_sshkey	:= client/sshkey.c client/sealbox.c privsep/buf.c
UNIT_NAMES	:= $(patsubst tests/unit/test_%.c,%, \
		   $(wildcard tests/unit/test_*.c))
UNIT_BINS	:= $(patsubst %,$(B)/tests/test_%,$(UNIT_NAMES))

# Test-only hostile worker for the integration suite; never installed.
EVIL_WORKER	:= $(B)/tests/evil-worker
$(EVIL_WORKER): $(B)/obj/tests/evil/evil_worker.o \
	    $(call obj,privsep/chan.c privsep/buf.c privsep/log.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Test-only: the real worker that turns hostile after its confinement.
EVIL_CONF_OBJS	:= $(patsubst %.c,$(B)/obj-evil/%.o,$(PRIVSEP_SRCS) \
		   $(WORKER_SRCS) tests/evil/evil_confined.c)
$(B)/obj-evil/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (evil)"
	@$(CC) $(CFLAGS) -DSEALMD_EVIL $(call pc_cflags,$(PKGS)) -MMD -MP \
	    -c $< -o $@
$(B)/tests/sealmd-worker-evil: $(EVIL_CONF_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(WORKER_LIBS))

# Every unit test links tests/unit/tutil.c, what they share.
.SECONDEXPANSION:
$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(B)/obj/tests/unit/tutil.o \
	    $$(call obj,$$(UT_$$*))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKGS) criterion)

deps:
	@./scripts/deps.sh

# test_store_pg needs a PostgreSQL cluster: one of its own, for this run.
unit: $(UNIT_BINS)
	@./tests/pgtest.sh run sh -ec \
	    'for t in $(UNIT_BINS); do echo "== $$t"; $$t; done'

integration: all $(EVIL_WORKER) $(B)/tests/sealmd-worker-evil
	@python3 tests/integration/run.py

# The owner and guest suites again, every daemon on PostgreSQL: its
# engine and the reader that keeps its reads off the event loop.  The
# kill -9 cycles are fewer: the release build on SQLite has run 25.
PG_SUITES	:= test_smoke.py test_owner_api.py test_guest_proxy.py \
		   test_guest_direct.py test_sealmdctl.py test_wait.py \
		   test_verifier.py test_ctl_keys.py test_keys.py \
		   test_metrics.py test_guards.py test_lifecycle.py \
		   test_conn_limits.py test_reload.py \
		   test_crash_consistency.py test_tokens_nodes.py \
		   test_zz_secrets.py
PG_CYCLES	:= 8
integration-pg: all $(EVIL_WORKER)
	@SEALMD_TEST_STORE=postgresql SEALMD_SOAK_CYCLES=$(PG_CYCLES) \
	    ./tests/pgtest.sh run python3 tests/integration/run.py $(PG_SUITES)

# Crash consistency at length: 500 kill -9 cycles of broker and worker.
soak: all
	@SEALMD_SOAK_CYCLES=500 python3 tests/integration/run.py \
	    test_crash_consistency.py

# Everything CI runs: the release build's tests, the Debian packages,
# the same suites under ASan+UBSan, the store threads' suites under
# TSan, the broker under valgrind, then each fuzzer's saved inputs and
# 30 s of fuzzing per harness.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(MAKE) --no-print-directory lint-man analyze
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-pg
	@$(MAKE) --no-print-directory check-deb
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory check-tsan
	@$(MAKE) --no-print-directory check-valgrind
	@$(MAKE) --no-print-directory fuzz-regress
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

run: deps
	@$(MAKE) --no-print-directory all
	@./scripts/run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/sealmd
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/sealmd/keys
	install -m 0755 $(B)/sealmd $(DESTDIR)$(SBINDIR)/sealmd
	install -m 0755 $(B)/sealmd-worker $(DESTDIR)$(LIBEXECDIR)/sealmd-worker
	install -m 0755 $(B)/sealmd-worker-tls \
	    $(DESTDIR)$(LIBEXECDIR)/sealmd-worker-tls
	install -m 0755 $(B)/sealmdctl $(DESTDIR)$(BINDIR)/sealmdctl
	install -m 0755 $(B)/sealmd-guest $(DESTDIR)$(BINDIR)/sealmd-guest
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    dist/sealmd.service.in > $(DESTDIR)$(UNITDIR)/sealmd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sealmd.service
	install -m 0644 dist/sealmd.socket dist/sealmd-owner.socket \
	    $(DESTDIR)$(UNITDIR)/
	install -m 0644 dist/sealmd.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/sealmd.conf
	install -m 0644 dist/sealmd.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/sealmd.conf
	install -m 0644 dist/sealmd.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/sealmd/sealmd.conf.example
	install -m 0644 dist/sealmd-postgresql.conf \
	    $(DESTDIR)$(SYSCONFDIR)/sealmd/sealmd-postgresql.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/sealmd/sealmd.conf || \
	    install -m 0644 dist/sealmd.conf.systemd \
	    $(DESTDIR)$(SYSCONFDIR)/sealmd/sealmd.conf
	install -m 0644 man/sealmd.8 man/sealmdctl.8 man/sealmd-guest.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/sealmd.conf.5 $(DESTDIR)$(MANDIR)/man5/

# Debian packages (debian/) in build-deb/, built from a copy of the tree;
# as root, their build dependencies are installed first.
deb:
	@./scripts/deb.sh

# Those packages linted, then installed, served from, upgraded, removed
# and purged in fresh Debian roots (tests/deb; root only, else skipped).
check-deb: deps
	@python3 tests/deb/test_deb.py

# Static analysis: gcc -fanalyzer with warnings as errors, and cppcheck.
# Suppressions are inline, each with its reason.  The bench references
# are checked too: post_ref and instr_worker link the broker's objects.
ALL_SRCS	:= $(sort $(PRIVSEP_SRCS) $(BROKER_SRCS) $(LAUNCHER_SRCS) \
		   $(WORKER_SRCS) worker/notls.c $(CTL_SRCS) $(GUEST_SRCS) \
		   tools/export_filters.c $(wildcard bench/*.c))
analyze:
	@for f in $(ALL_SRCS); do \
	    $(CC) $(CFLAGS) $(call pc_cflags,$(PKGS)) -fanalyzer \
	        -c $$f -o /dev/null || exit 1; \
	done
	@echo "gcc -fanalyzer: clean"
	@cppcheck -q --enable=warning,portability --error-exitcode=1 \
	    --inline-suppr -I. -D_GNU_SOURCE -DLIBEXECDIR='"/x"' \
	    privsep broker launcher worker client ctl guest tools bench
	@echo "cppcheck: clean"
	@python3 tools/lint_src.py
	@echo "SPDX lines, opening comments, 80 columns, store includes: clean"

# Sanitizer and valgrind builds go to their own directories, with flags
# that never reach a release build (see SECURITY.md).
# kill -9 cycles in these builds: the release build runs 25, and a
# killed process leaves no sanitizer or valgrind report anyway.
SAN_CYCLES	:= 5
ASAN_SAN	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all -DSEALMD_SANITIZE
check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan OPT="-O1 -g" \
	    SAN="$(ASAN_SAN)" all unit build-asan/tests/evil-worker \
	    build-asan/tests/sealmd-worker-evil
	@SEALMD_BUILD=$(CURDIR)/build-asan SEALMD_SANITIZE=1 \
	    SEALMD_SOAK_CYCLES=$(SAN_CYCLES) python3 tests/integration/run.py
	@SEALMD_BUILD=$(CURDIR)/build-asan SEALMD_SANITIZE=1 \
	    SEALMD_SOAK_CYCLES=$(SAN_CYCLES) SEALMD_TEST_STORE=postgresql \
	    ./tests/pgtest.sh run python3 tests/integration/run.py $(PG_SUITES)

# ThreadSanitizer: the integration suites that drive the store threads
# (the writer, PostgreSQL's readers, the hasher) and the log they share,
# on SQLite and on PostgreSQL.  Not the unit suites: Criterion's runner
# maps its shared arena at random fixed addresses, which TSan's shadow
# already holds ("Could not initialize inheritable arena").  The runtime
# maps its shadow at fixed addresses too, which randomised mmap bases may
# hold: setarch -R, inherited by every process it starts.
TSAN_SAN	:= -fsanitize=thread -fno-omit-frame-pointer -DSEALMD_SANITIZE \
		   -DSEALMD_TSAN
TSAN_SUITES	:= test_smoke.py test_owner_api.py test_verifier.py \
		   test_keys.py test_wait.py
TSAN_RUN	:= SEALMD_BUILD=$(CURDIR)/build-tsan SEALMD_SANITIZE=1 \
		   SEALMD_SOAK_CYCLES=$(SAN_CYCLES) setarch -R
check-tsan: deps
	@$(MAKE) --no-print-directory B=build-tsan OPT="-O1 -g" \
	    SAN="$(TSAN_SAN)" all
	@$(TSAN_RUN) python3 tests/integration/run.py $(TSAN_SUITES)
	@$(TSAN_RUN) env SEALMD_TEST_STORE=postgresql ./tests/pgtest.sh run \
	    python3 tests/integration/run.py $(TSAN_SUITES)

check-valgrind: deps
	@$(MAKE) --no-print-directory B=build-vg OPT="-O1 -g" \
	    SAN="-DSEALMD_VALGRIND" all build-vg/tests/evil-worker \
	    build-vg/tests/sealmd-worker-evil
	@SEALMD_BUILD=$(CURDIR)/build-vg SEALMD_VALGRIND=1 \
	    SEALMD_SOAK_CYCLES=$(SAN_CYCLES) python3 tests/integration/run.py

lint-man:
	@for m in man/*.[58]; do mandoc -T lint -W warning $$m || exit 1; done
	@echo "man pages: lint clean"

clean:
	rm -rf $(B) build-asan build-tsan build-vg build-deb

.PHONY: all deps unit integration integration-pg check run install clean \
	seccomp-export lint-man analyze check-asan check-tsan check-valgrind \
	soak deb check-deb

-include $(shell find $(B) -name '*.d' 2>/dev/null)
-include tests/fuzz/fuzz.mk
-include bench/bench.mk
