# jumpgate, the controller CLI.  Transport (conn.c, tls.c) -> operation (exec.c);
# main.c parses the command line and owns the context.
bin_PROGRAMS += jumpgate
jumpgate_SOURCES = \
	client/client.h \
	client/main.c \
	client/path.c \
	client/help.c \
	client/tls.c client/tls.h \
	client/conn.c client/conn.h \
	client/tty.c client/tty.h \
	client/input.c client/input.h \
	client/opconn.c client/opconn.h \
	client/exec.c \
	client/request.c \
	client/admin.c client/pages.c client/inventory.c \
	client/cp.c client/run.c client/rsh.c client/connect.c \
	client/help.h \
	client/batch.c client/batch.h \
	client/walk.c client/walk.h \
	client/progress.c client/progress.h \
	client/cp.h client/xfer.c client/cpout.c \
	client/run.h client/runout.c client/runprogress.c client/nodeset.c client/nodeset.h \
	client/rshargs.c client/rshargs.h
jumpgate_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
jumpgate_LDADD = libjgh2.a libjgconfig.a librelay.a $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) $(LIBCONFIG_LIBS) $(JANSSON_LIBS)

# Bash completion (issue 17): where bash-completion loads it on demand.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = client/completion/jumpgate
