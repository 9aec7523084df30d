# libFuzzer harnesses (clang): `make fuzz` builds them, FUZZ_SECONDS sets the run.
# Built by hand rather than as automake programs: they need clang's
# -fsanitize=fuzzer whatever CC is, and must never be part of `make check`.
EXTRA_DIST += tests/fuzz/fuzz_frame.c
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -I$(top_srcdir) -I$(top_builddir)
FUZZ_RELAY_FILES = $(srcdir)/relay/err.c $(srcdir)/relay/log.c $(srcdir)/relay/frame.c \
	$(srcdir)/relay/spec.c $(srcdir)/relay/flow.c $(srcdir)/relay/link.c
CLEANFILES += tests/fuzz/fuzz_frame

if HAVE_CLANG
fuzz: tests/fuzz/fuzz_frame

tests/fuzz/fuzz_frame: $(srcdir)/tests/fuzz/fuzz_frame.c $(FUZZ_RELAY_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(CLANG) $(FUZZ_CFLAGS) `$(PKG_CONFIG) --cflags libevent_core` -o $@ \
		$(srcdir)/tests/fuzz/fuzz_frame.c $(FUZZ_RELAY_FILES) \
		`$(PKG_CONFIG) --libs libevent_core`

# The corpus lives in the build tree; `make fuzz-run FUZZ_SECONDS=600` runs longer.
fuzz-run: fuzz
	@$(MKDIR_P) tests/fuzz/corpus-frame
	tests/fuzz/fuzz_frame -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		tests/fuzz/corpus-frame
else
fuzz fuzz-run:
	@echo "fuzz: clang not found at configure time" >&2; exit 1
endif
.PHONY: fuzz fuzz-run
