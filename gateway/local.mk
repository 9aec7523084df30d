bin_PROGRAMS += jumpgated
jumpgated_SOURCES = gateway/main.c gateway/gateway.h gateway/accept.c gateway/accept.h gateway/tls.c gateway/h2.c \
	gateway/h2conn.h gateway/h2stream.c gateway/h2field.c gateway/h2field.h gateway/unixsock.c \
	gateway/api.c gateway/api.h gateway/admit.c gateway/admit.h gateway/exec.c gateway/pump.c gateway/pump.h gateway/agentlink.c gateway/agentlink.h gateway/onward.c \
	gateway/setupq.c gateway/setupq.h gateway/keymap.c gateway/keymap.h \
	gateway/memtrim.c gateway/memtrim.h \
	gateway/tunnel.c gateway/dial.c gateway/dial.h gateway/files.c gateway/fanout.c \
	gateway/files.h gateway/fileput.c gateway/fileget.c gateway/targets.c gateway/whoami.c \
	gateway/raw.c gateway/execstream.c gateway/execstream.h \
	gateway/sshtty.c gateway/sshtty.h \
	gateway/sdnotify.c gateway/sdnotify.h \
	gateway/certcmd.c gateway/certcmd.h gateway/certwatch.c \
	gateway/sites.h gateway/sitelink.h gateway/sitelink.c gateway/linksession.c \
	gateway/siteset.c \
	gateway/rtable.h gateway/rtable.c gateway/routes.c gateway/forward.c gateway/fwput.c \
	gateway/agentfwd.h gateway/agentfwd.c gateway/agentsock.c \
	gateway/metrics.c gateway/metrics.h gateway/metricshttp.c
jumpgated_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_EXTRA_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) $(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS)
jumpgated_LDADD = libjgh2.a libjgauth.a libjgconfig.a librelay.a $(LIBEVENT_EXTRA_LIBS) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) $(LIBCONFIG_LIBS) $(JANSSON_LIBS) $(SYSTEMD_LIBS)
# The source of a relayed copy between targets (issue 14): a GET feeding the fan-out.
jumpgated_SOURCES += gateway/copysrc.c gateway/copysrc.h
