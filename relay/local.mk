# librelay.a: the core every program links (codec, flow control, link session,
# spawn and reaper, logging, errors).  Kept free of TLS and HTTP/2.
noinst_LIBRARIES += librelay.a
librelay_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
# relay/json.c: only the programs that use it (the gateway, the client) link jansson.
librelay_a_CFLAGS += $(JANSSON_CFLAGS)
librelay_a_SOURCES = \
	relay/err.c relay/err.h \
	relay/log.c relay/log.h relay/clock.c relay/clock.h relay/heap.c relay/heap.h \
	relay/wire.h \
	relay/frame.c relay/frame.h \
	relay/keymap.c relay/keymap.h \
	relay/keepalive.c relay/keepalive.h \
	relay/syncbehind.c relay/syncbehind.h \
	relay/spec.c relay/spec.h \
	relay/opspec.c relay/opspec.h \
	relay/pathrule.c relay/pathrule.h \
	relay/sha256.c relay/sha256.h \
	relay/flow.c relay/flow.h \
	relay/autowin.c relay/autowin.h \
	relay/chantab.c relay/chantab.h \
	relay/link.c relay/link.h \
	relay/agentmux.c relay/agentmux.h \
	relay/spawn.c relay/spawn.h \
	relay/reaper.c relay/reaper.h \
	relay/argv.c relay/argv.h \
	relay/sh.c relay/sh.h \
	relay/pct.c relay/pct.h \
	relay/json.c relay/json.h \
	relay/ssh.c relay/ssh.h \
	relay/hop.c relay/hop.h \
	relay/hopwatch.c relay/hopwatch.h \
	relay/bootstrap.c relay/bootstrap.h \
	relay/rtable.c relay/rtable.h
