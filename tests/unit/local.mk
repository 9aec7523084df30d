# CUnit: one file per module, all suites registered from tests/unit/main.c.
check_PROGRAMS += tests/unit/run
tests_unit_run_SOURCES = tests/unit/main.c tests/unit/suites.h \
	tests/unit/testutil.c tests/unit/testutil.h \
	tests/unit/test_apump.c agent/pump.c agent/pump.h \
	tests/unit/test_frame.c tests/unit/test_spec.c tests/unit/test_flow.c \
	tests/unit/test_link.c tests/unit/test_config.c tests/unit/test_config_access.c \
	tests/unit/test_config_targets.c tests/unit/test_paths.c \
	tests/unit/test_certs.c tests/unit/test_spawn.c tests/unit/test_agent.c \
	tests/unit/test_ssh.c tests/unit/test_bootstrap.c tests/unit/test_bootstrap_run.c \
	tests/unit/test_target.c tests/unit/test_chain.c \
	tests/unit/test_rshargs.c tests/unit/test_sha256.c tests/unit/test_files.c \
	tests/unit/test_files_get.c tests/unit/test_opspec.c tests/unit/test_policy.c \
	tests/unit/test_audit.c tests/unit/test_hop.c tests/unit/test_hop_check.c tests/unit/test_hop_quoting.c \
	tests/unit/test_hopwatch.c \
	tests/unit/test_log.c tests/unit/test_identity.c \
	tests/unit/test_h2field.c gateway/edge/h2field.c gateway/edge/h2field.h \
	client/rshargs.c client/rshargs.h
tests_unit_run_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_run_CFLAGS += $(OPENSSL_CFLAGS)
tests_unit_run_LDADD = libjgauth.a libjgconfig.a librelay.a $(CUNIT_LIBS) $(LIBEVENT_LIBS) $(LIBCONFIG_LIBS) $(OPENSSL_LIBS)
TESTS += tests/unit/run
# test_audit parses audit lines back (issue 7).
tests_unit_run_CFLAGS += $(JANSSON_CFLAGS)
tests_unit_run_LDADD += $(JANSSON_LIBS)
# The sans-I/O route table of multi-site routing (issue 8): relay/rtable.c, in librelay.a.
tests_unit_run_SOURCES += tests/unit/test_routes.c
# The channel <-> stream pump (issue 12): its core is sans-I/O, compiled in from gateway/.
tests_unit_run_SOURCES += tests/unit/test_pump.c gateway/pump/pump.c gateway/pump/pump.h
# Resolving the host of a tunnel the gateway dials (issue 15), compiled in from gateway/.
tests_unit_run_SOURCES += tests/unit/test_dial.c gateway/ops/dial.c gateway/ops/dial.h
# The onward connections by chain key (issue 18): sans-I/O, compiled in from gateway/.
tests_unit_run_SOURCES += tests/unit/test_keymap.c
# The keepalive rule of the links between gateways (relay/keepalive.c, in librelay.a).
tests_unit_run_SOURCES += tests/unit/test_keepalive.c
# Receive-window growth of the gateway's request bodies (relay/autowin.c, in librelay.a).
tests_unit_run_SOURCES += tests/unit/test_autowin.c
# Background flushes of a file being written (relay/syncbehind.c, in librelay.a).
tests_unit_run_SOURCES += tests/unit/test_syncbehind.c
# The one-word stand-ins' argv[0] dispatch (issue 14), compiled in from client/.
tests_unit_run_SOURCES += tests/unit/test_standin.c client/standin.c client/standin.h
# Host lists folded in nodeset notation for `jumpgate run -b` (issue 17).
tests_unit_run_SOURCES += tests/unit/test_nodeset.c client/nodeset.c client/nodeset.h
# Quoting for a POSIX shell (issue 16: one implementation, relay/sh.c).
tests_unit_run_SOURCES += tests/unit/test_sh.c
# Percent-encoding of request paths and query values (issue 16: relay/pct.c).
tests_unit_run_SOURCES += tests/unit/test_pct.c
# JSON text and error bodies built with jansson (issue 16: relay/json.c).
tests_unit_run_SOURCES += tests/unit/test_json.c
# ssh's password prompt, answered for raw sessions and onward connections alike (issue 16).
tests_unit_run_SOURCES += tests/unit/test_sshtty.c gateway/onward/sshtty.c gateway/onward/sshtty.h
# The one growable string vector (issue 16: relay/argv.c).
tests_unit_run_SOURCES += tests/unit/test_argv.c
# The error codes: never a bare -1, each named by jg_strerror (issue 16).
tests_unit_run_SOURCES += tests/unit/test_err.c
# The shared HTTP/2 client (issue 16: h2/client.c) against an nghttp2 server in memory.
tests_unit_run_SOURCES += tests/unit/test_h2client.c
tests_unit_run_CFLAGS += $(NGHTTP2_CFLAGS)
# (librelay.a again: the archives are searched in order, and h2/client.c logs.)
tests_unit_run_LDADD += libjgh2.a librelay.a $(NGHTTP2_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)
