# SPDX-License-Identifier: ISC
# libFuzzer harnesses, one per tests/fuzz/fuzz_NAME.c, built with clang
# into build/fuzz/ from objects of their own (never the gcc ones).
#   make fuzz		fuzz each for FUZZ_SECONDS on a copy of its corpus
#   make fuzz-regress	replay tests/fuzz/corpus/NAME and regress/NAME once
#   make fuzz-seeds	rewrite tests/fuzz/corpus/chan from gen_chan_seeds.c
# Included from the Makefile, after B, WARN, PKGS and pc_* are set.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 30
FUZZ_B		:= $(B)/fuzz
FUZZ_NAMES	:= http chan config owner_json seal
FUZZ_SAN	:= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The sources carry pragmas for gcc's analyzer, which clang does not know.
FUZZ_CFLAGS	:= -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
		   $(WARN) -Wno-unknown-warning-option -I. \
		   -DLIBEXECDIR='"$(LIBEXECDIR)"' $(FUZZ_SAN)

# What each harness links besides itself and tests/fuzz/common.c, which
# stands in for privsep/log.c, and the pkg-config names it needs.
FZ_http		:= worker/http.c worker/path.c privsep/utf8.c privsep/buf.c
FZ_http_LIBS	:=
# The broker less what fuzz_chan.c stands in for (BROKER_CORE, in the
# Makefile) and tests/bstub.c; writer and hasher jobs are checked on
# their way.
FZ_chan		:= $(filter-out privsep/log.c, $(BROKER_CORE)) tests/bstub.c
FZ_chan_LIBS	:= libsodium sqlite3 libpq inih libcrypto
FZ_chan_LDLIBS	:= -Wl,--wrap=writer_submit,--wrap=writer_done \
		   -Wl,--wrap=hasher_submit,--wrap=hasher_done -lpthread
FZ_config	:= broker/config.c privsep/buf.c privsep/chan.c \
		   privsep/validate.c
FZ_config_LIBS	:= inih libpq
# The worker less its event loop, which fuzz_owner_json.c stands in for,
# and its sandbox.
FZ_owner_json	:= $(filter-out worker/main.c worker/conn.c \
		   worker/sandbox.c privsep/log.c, \
		   $(WORKER_SRCS) $(PRIVSEP_SRCS))
FZ_owner_json_LIBS := jansson libsodium libtls libcrypto
FZ_seal		:= broker/seal.c broker/keys.c
FZ_seal_LIBS	:= libsodium

FUZZ_BINS	:= $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))
fuzz_obj = $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(1))

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(call pc_cflags,$(PKGS)) -MMD -MP \
	    -c $< -o $@

define fuzz_harness
$(FUZZ_B)/fuzz_$(1): $(call fuzz_obj,tests/fuzz/fuzz_$(1).c \
	    tests/fuzz/common.c $(FZ_$(1)))
	@echo "  FUZZLD  $$@"
	@$(FUZZ_CC) $(FUZZ_SAN) -o $$@ $$^ $(call pc_libs,$(FZ_$(1)_LIBS)) \
	    $(FZ_$(1)_LDLIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_harness,$(n))))

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh fuzz $(FUZZ_B) \
	    $(FUZZ_NAMES)

fuzz-regress: $(FUZZ_BINS)
	@tests/fuzz/run.sh regress $(FUZZ_B) $(FUZZ_NAMES)

$(FUZZ_B)/gen_chan_seeds: tests/fuzz/gen_chan_seeds.c tests/fuzz/fuzz_chan.h \
	    privsep/msg.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -O1 $(WARN) -I. \
	    $(call pc_cflags,libsodium) -o $@ $< $(call pc_libs,libsodium)

fuzz-seeds: $(FUZZ_B)/gen_chan_seeds
	rm -f tests/fuzz/corpus/chan/raw-* tests/fuzz/corpus/chan/seq-*
	@mkdir -p tests/fuzz/corpus/chan
	$(FUZZ_B)/gen_chan_seeds tests/fuzz/corpus/chan

.PHONY: fuzz fuzz-regress fuzz-seeds

-include $(shell find $(FUZZ_B)/obj -name '*.d' 2>/dev/null)
