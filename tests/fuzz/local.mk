# libFuzzer harnesses (clang).  Built by hand rather than as automake programs:
# they need clang's -fsanitize=fuzzer whatever CC is, and must never be part of
# `make check`.  Each compiles the sources it exercises itself, so the fuzzer's
# coverage instrumentation covers them.
#   make fuzz                    build every harness
#   make fuzz-smoke              run each FUZZ_SMOKE_SECONDS (30) from its seed corpus
#                                (tests/fuzz/corpus/NAME, copied aside first); fails on
#                                any crash, leak, UB, timeout or OOM (CI, with clang);
#                                FUZZ_JOBS=2 runs two at a time (one core each)
#   make fuzz-run                run each FUZZ_SECONDS (60), growing a corpus kept in
#                                the build tree (tests/fuzz/corpus-NAME), seeded from
#                                the committed one; FUZZ_HARNESSES=tests/fuzz/fuzz_h2
#                                picks (fuzz, fuzz-smoke and fuzz-run all take it)
# Harnesses, and what each feeds (details at the top of each file):
#   fuzz_frame    frame decoder, exec-spec decoder and an ACCEPTOR link (relay/)
#   fuzz_opspec   exec, tunnel and file spec decoders, with re-encoding (relay/)
#   fuzz_target   target specs and tunnel policy against a small inventory (config/target.c,
#                 config/chain.c)
#   fuzz_config   the configuration loader over libconfig (config/)
#   fuzz_rshargs  the rsh (ssh-compatible) argv parser (client/rshargs.c)
#   fuzz_h2       HTTP/2 bytes into a server session wired to the real handlers (gateway/)
FUZZ_SRC = tests/fuzz/fuzz_frame.c tests/fuzz/fuzz_opspec.c tests/fuzz/fuzz_target.c \
	tests/fuzz/fuzz_config.c tests/fuzz/fuzz_rshargs.c tests/fuzz/fuzz_h2.c
FUZZ_HARNESSES = tests/fuzz/fuzz_frame tests/fuzz/fuzz_opspec tests/fuzz/fuzz_target \
	tests/fuzz/fuzz_config tests/fuzz/fuzz_rshargs tests/fuzz/fuzz_h2
FUZZ_CORPORA = tests/fuzz/corpus/frame tests/fuzz/corpus/opspec tests/fuzz/corpus/target \
	tests/fuzz/corpus/config tests/fuzz/corpus/rshargs tests/fuzz/corpus/h2
EXTRA_DIST += $(FUZZ_SRC) tests/fuzz/smoke.sh $(FUZZ_CORPORA)
CLEANFILES += $(FUZZ_HARNESSES)
FUZZ_SECONDS = 60
FUZZ_SMOKE_SECONDS = 30
# Harnesses run side by side by fuzz-smoke (one core each; scripts/test.sh: one per CPU).
FUZZ_JOBS = 1
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wno-unused-parameter \
	-I$(top_srcdir) -I$(top_builddir) -DHAVE_CONFIG_H
FUZZ_CC = $(CLANG) $(FUZZ_CFLAGS)
FUZZ_RELAY_FILES = $(srcdir)/relay/err.c $(srcdir)/relay/log.c $(srcdir)/relay/frame.c \
	$(srcdir)/relay/spec.c $(srcdir)/relay/flow.c $(srcdir)/relay/chantab.c $(srcdir)/relay/link.c
FUZZ_SPEC_FILES = $(srcdir)/relay/err.c $(srcdir)/relay/log.c $(srcdir)/relay/frame.c \
	$(srcdir)/relay/spec.c $(srcdir)/relay/opspec.c $(srcdir)/relay/pathrule.c
FUZZ_CONFIG_FILES = $(srcdir)/relay/err.c $(srcdir)/relay/log.c $(srcdir)/relay/ssh.c \
	$(srcdir)/relay/argv.c $(srcdir)/relay/hop.c $(srcdir)/relay/hopwatch.c $(srcdir)/relay/sh.c \
	$(srcdir)/config/method_opts.c \
	$(srcdir)/config/config.c $(srcdir)/config/parse.c $(srcdir)/config/ssh_opts.c \
	$(srcdir)/config/paths.c $(srcdir)/config/target.c $(srcdir)/config/chain.c \
	$(srcdir)/config/access.c \
	$(srcdir)/config/inventory.c $(srcdir)/config/sites.c
# fuzz_h2: jumpgated's sources without main.c (the harness is the main), onward.c,
# relay/spawn.c and relay/reaper.c (the harness replaces them with an in-memory
# agent; nothing is spawned) and sdnotify.c (main.c's).  A new source file of
# jumpgated goes here too.
FUZZ_H2_FILES = $(FUZZ_CONFIG_FILES) $(srcdir)/config/certs.c \
	$(srcdir)/relay/frame.c $(srcdir)/relay/spec.c $(srcdir)/relay/opspec.c $(srcdir)/relay/clock.c \
	$(srcdir)/relay/keepalive.c $(srcdir)/relay/autowin.c \
	$(srcdir)/relay/sha256.c $(srcdir)/relay/flow.c $(srcdir)/relay/chantab.c $(srcdir)/relay/link.c \
	$(srcdir)/relay/bootstrap.c $(srcdir)/relay/pathrule.c $(srcdir)/relay/pct.c $(srcdir)/relay/json.c \
	$(srcdir)/auth/identity.c $(srcdir)/auth/policy.c $(srcdir)/auth/audit.c \
	$(srcdir)/gateway/edge/accept.c $(srcdir)/gateway/edge/tls.c $(srcdir)/gateway/edge/h2.c $(srcdir)/gateway/edge/h2session.c $(srcdir)/gateway/edge/h2stream.c $(srcdir)/gateway/edge/h2field.c \
	$(srcdir)/gateway/edge/unixsock.c $(srcdir)/gateway/admission/api.c $(srcdir)/gateway/admission/admit.c $(srcdir)/gateway/ops/exec.c $(srcdir)/gateway/pump/pump.c \
	$(srcdir)/gateway/onward/agentlink.c $(srcdir)/gateway/onward/setupq.c $(srcdir)/relay/keymap.c $(srcdir)/gateway/memtrim.c $(srcdir)/gateway/ops/tunnel.c $(srcdir)/gateway/ops/tundirect.c $(srcdir)/gateway/ops/dial.c $(srcdir)/gateway/ops/files.c \
	$(srcdir)/gateway/ops/fanout.c $(srcdir)/gateway/ops/fileput.c $(srcdir)/gateway/ops/fileget.c \
	$(srcdir)/gateway/ops/targets.c $(srcdir)/gateway/ops/whoami.c $(srcdir)/gateway/ops/raw.c $(srcdir)/gateway/onward/sshtty.c $(srcdir)/gateway/ops/execstream.c \
	$(srcdir)/gateway/sites/sitelink.c $(srcdir)/gateway/sites/linksession.c $(srcdir)/gateway/sites/siteset.c \
	$(srcdir)/relay/rtable.c $(srcdir)/h2/bulk.c $(srcdir)/h2/client.c \
	$(srcdir)/gateway/sites/routes.c $(srcdir)/gateway/sites/forward.c $(srcdir)/gateway/sites/fwput.c \
	$(srcdir)/gateway/onward/agentfwd.c $(srcdir)/relay/agentmux.c $(srcdir)/gateway/metrics.c $(srcdir)/gateway/ops/copysrc.c $(srcdir)/config/ca.c

if HAVE_CLANG
fuzz: $(FUZZ_HARNESSES)

tests/fuzz/fuzz_frame: $(srcdir)/tests/fuzz/fuzz_frame.c $(FUZZ_RELAY_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBEVENT_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_frame.c \
		$(FUZZ_RELAY_FILES) $(LIBEVENT_LIBS)

tests/fuzz/fuzz_opspec: $(srcdir)/tests/fuzz/fuzz_opspec.c $(FUZZ_SPEC_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBEVENT_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_opspec.c \
		$(FUZZ_SPEC_FILES) $(LIBEVENT_LIBS)

tests/fuzz/fuzz_target: $(srcdir)/tests/fuzz/fuzz_target.c $(FUZZ_CONFIG_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBCONFIG_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_target.c \
		$(FUZZ_CONFIG_FILES) $(LIBCONFIG_LIBS)

tests/fuzz/fuzz_config: $(srcdir)/tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBCONFIG_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_config.c \
		$(FUZZ_CONFIG_FILES) $(LIBCONFIG_LIBS)

tests/fuzz/fuzz_rshargs: $(srcdir)/tests/fuzz/fuzz_rshargs.c $(srcdir)/client/rshargs.c \
		$(FUZZ_CONFIG_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBCONFIG_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_rshargs.c \
		$(srcdir)/client/rshargs.c $(FUZZ_CONFIG_FILES) $(LIBCONFIG_LIBS)

tests/fuzz/fuzz_h2: $(srcdir)/tests/fuzz/fuzz_h2.c $(FUZZ_H2_FILES)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) \
		$(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz_h2.c \
		$(FUZZ_H2_FILES) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) \
		$(LIBCONFIG_LIBS) $(JANSSON_LIBS)

fuzz-smoke: fuzz
	FUZZ_JOBS=$(FUZZ_JOBS) $(SHELL) $(srcdir)/tests/fuzz/smoke.sh $(FUZZ_SMOKE_SECONDS) $(srcdir)/tests/fuzz/corpus \
		$(FUZZ_HARNESSES)

# The grown corpus lives in the build tree; `make fuzz-run FUZZ_SECONDS=600` runs longer.
fuzz-run: fuzz
	@for h in $(FUZZ_HARNESSES); do \
		n=`basename $$h`; n=$${n#fuzz_}; \
		$(MKDIR_P) tests/fuzz/corpus-$$n || exit 1; \
		echo "== $$h ($(FUZZ_SECONDS) s)"; \
		$$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$$h- tests/fuzz/corpus-$$n \
			$(srcdir)/tests/fuzz/corpus/$$n || exit 1; \
	done
else
fuzz fuzz-run fuzz-smoke:
	@echo "fuzz: clang not found at configure time" >&2; exit 1
endif
.PHONY: fuzz fuzz-run fuzz-smoke
