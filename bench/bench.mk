# SPDX-License-Identifier: ISC
# Benchmarks, included at the end of the Makefile.  Nothing here is part of
# `make check`, and nothing here is timed in a test.
#
#   make bench         bench/run.py: sealmd against nginx, fdatasync and
#                      its own store work (post_ref), side by side in one
#                      run (BENCH_SECONDS, BENCH_ROUNDS)
#   make bench-instr   bench/instr.py: instructions per guest GET and POST
#                      under callgrind (broker, the worker's parser, and
#                      post_ref's store work)
#   make bench-pg      bench/pg.py: sealmd on PostgreSQL against sealmd on
#                      SQLite, side by side in one run
#   make bench-scale   bench/scale.py: a registry of BENCH_SCALE_N instances
#                      (default 1,000,000) against one of 1,000
#   make bench-batch   bench/batch.py: bulk registration, sealmdctl import
#                      and POST /instances:batch against single PUTs
#   make bench-deps    install wrk, nginx and valgrind (Debian)
#
# bench/README.md says what each figure means and where it stops meaning it.

BENCH_B		:= $(B)/bench
INSTR_B		:= $(B)/instr

bench-deps:
	@./scripts/bench-deps.sh

$(BENCH_B)/fsync_ref: $(B)/obj/bench/fsync_ref.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Scenario 4's floor: a CPU load with nothing of sealmd in it.
$(BENCH_B)/cpu_ref: $(B)/obj/bench/cpu_ref.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

# The broker's own store and sealing objects, as the release build
# compiles them: the reference does sealmd's store work with sealmd's code.
$(BENCH_B)/post_ref: $(B)/obj/bench/post_ref.o \
	    $(call obj,broker/seal.c broker/keys.c $(UT_store))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,libsodium sqlite3 libpq) \
	    -lpthread

# The worker's parser objects exactly as the release build compiles them.
$(BENCH_B)/instr_worker: $(B)/obj/bench/instr_worker.o \
	    $(call obj,worker/http.c worker/path.c privsep/utf8.c \
	    privsep/buf.c privsep/log.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

bench: deps bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_B)/fsync_ref \
	    $(BENCH_B)/post_ref $(BENCH_B)/cpu_ref
	@SEALMD_BUILD=$(CURDIR)/$(B) python3 bench/run.py

bench-pg: deps bench-deps
	@$(MAKE) --no-print-directory all
	@SEALMD_BUILD=$(CURDIR)/$(B) python3 bench/pg.py

bench-scale: deps bench-deps
	@$(MAKE) --no-print-directory all
	@SEALMD_BUILD=$(CURDIR)/$(B) python3 bench/scale.py

bench-batch: deps
	@$(MAKE) --no-print-directory all
	@SEALMD_BUILD=$(CURDIR)/$(B) python3 bench/batch.py

# The broker under callgrind needs the SEALMD_VALGRIND build (no broker
# seccomp filter: valgrind cannot emulate the seccomp syscall), kept in its
# own directory with the release optimisation level.
bench-instr: deps bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_B)/instr_worker \
	    $(BENCH_B)/post_ref
	@$(MAKE) --no-print-directory B=$(INSTR_B) SAN="-DSEALMD_VALGRIND" all
	@SEALMD_BUILD=$(CURDIR)/$(B) SEALMD_INSTR_BUILD=$(CURDIR)/$(INSTR_B) \
	    python3 bench/instr.py

.PHONY: bench bench-instr bench-pg bench-scale bench-batch bench-deps
