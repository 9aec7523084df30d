bin_PROGRAMS += jumpgated
jumpgated_SOURCES = gateway/main.c gateway/gateway.h gateway/accept.c gateway/accept.h gateway/tls.c gateway/h2.c \
	gateway/h2conn.h gateway/h2stream.c gateway/h2field.c gateway/h2field.h gateway/unixsock.c \
	gateway/api.c gateway/exec.c gateway/pump.c gateway/pump.h gateway/agentlink.c gateway/agentlink.h gateway/onward.c \
	gateway/setupq.c gateway/setupq.h \
	gateway/tunnel.c gateway/files.c gateway/fanout.c \
	gateway/files.h gateway/fileput.c gateway/fileget.c gateway/targets.c \
	gateway/raw.c gateway/execstream.c gateway/execstream.h \
	gateway/sdnotify.c gateway/sdnotify.h \
	gateway/certcmd.c gateway/certcmd.h gateway/certwatch.c \
	gateway/sites.h gateway/sitelink.h gateway/sitelink.c gateway/linksession.c \
	gateway/siteset.c \
	gateway/rtable.h gateway/rtable.c gateway/routes.c gateway/forward.c gateway/fwput.c
jumpgated_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) $(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS)
jumpgated_LDADD = libjgh2.a libjgauth.a libjgconfig.a librelay.a $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) $(LIBCONFIG_LIBS) $(JANSSON_LIBS) $(SYSTEMD_LIBS)
