bin_PROGRAMS += jumpgated
jumpgated_SOURCES = gateway/main.c gateway/gateway.h gateway/stream.h gateway/edge/edge.h gateway/edge/accept.c gateway/edge/accept.h gateway/edge/tls.c gateway/edge/h2.c gateway/edge/h2session.c \
	gateway/edge/h2conn.h gateway/edge/h2stream.c gateway/edge/h2field.c gateway/edge/h2field.h gateway/edge/unixsock.c \
	gateway/admission/api.c gateway/admission/api.h gateway/admitted.h gateway/admission/admit.c gateway/admission/admit.h gateway/ops/ops.h gateway/ops/exec.c gateway/pump/pump.c gateway/pump/pump.h gateway/onward/agentlink.c gateway/onward/agentlink.h gateway/onward/agentlink_impl.h gateway/onward/onward.c \
	gateway/onward/setupq.c gateway/onward/setupq.h \
	gateway/memtrim.c gateway/memtrim.h \
	gateway/ops/tunnel.c gateway/ops/tunnel_int.h gateway/ops/tundirect.c \
	gateway/ops/dial.c gateway/ops/dial.h gateway/ops/files.c gateway/ops/fanout.c \
	gateway/ops/files.h gateway/ops/fileput.c gateway/ops/fileget.c gateway/ops/targets.c gateway/ops/whoami.c \
	gateway/ops/raw.c gateway/ops/execstream.c gateway/ops/execstream.h \
	gateway/onward/sshtty.c gateway/onward/sshtty.h \
	gateway/sdnotify.c gateway/sdnotify.h \
	gateway/certcmd.c gateway/certcmd.h gateway/certwatch.c \
	gateway/sites/sites.h gateway/sites/sitelink.h gateway/sites/sitelink.c gateway/sites/linksession.c \
	gateway/sites/siteset.c \
	gateway/sites/routes.c gateway/sites/forward.c gateway/sites/fwput.c \
	gateway/onward/agentfwd.h gateway/onward/agentfwd.c gateway/onward/agentsock.c \
	gateway/metrics.c gateway/metrics.h gateway/metricshttp.c
jumpgated_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_EXTRA_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) $(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS)
jumpgated_LDADD = libjgh2.a libjgauth.a libjgconfig.a librelay.a $(LIBEVENT_EXTRA_LIBS) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) $(LIBCONFIG_LIBS) $(JANSSON_LIBS) $(SYSTEMD_LIBS)
# The source of a relayed copy between targets (issue 14): a GET feeding the fan-out.
jumpgated_SOURCES += gateway/ops/copysrc.c gateway/ops/copysrc.h
