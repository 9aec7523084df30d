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
	client/agentrelay.c client/agentrelay.h \
	client/tty.c client/tty.h \
	client/input.c client/input.h \
	client/opconn.c client/opconn.h \
	client/exec.c \
	client/failover.c client/failover.h \
	client/request.c \
	client/admin.c client/pages.c client/inventory.c \
	client/cp.c client/run.c client/rsh.c client/connect.c \
	client/help.h \
	client/batch.c client/batch.h \
	client/walk.c client/walk.h \
	client/progress.c client/progress.h \
	client/cp.h client/xfer.c client/cpout.c client/cprelay.c \
	client/run.h client/runout.c client/runprogress.c client/nodeset.c client/nodeset.h \
	client/rshargs.c client/rshargs.h \
	client/mux.c client/mux.h client/master.c client/master.h client/masterrelay.c \
	client/standin.c client/standin.h
jumpgate_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
# CLIENT_LIBS: static archives of the libraries, or the shared ones (configure.ac,
# --disable-static-client-libs).
jumpgate_LDADD = libjgh2.a libjgconfig.a librelay.a $(CLIENT_LIBS)

# The one-word stand-ins (client/standin.h): symlinks to jumpgate in bindir, which it
# tells apart by argv[0].  Relative links, so a DESTDIR staging tree stays correct once
# moved into place.  Prerequisites only, no recipe: other local.mk files may hook in too.
JG_STANDINS = jumpgate-ssh jumpgate-scp jumpgate-sftp
install-exec-hook: install-jumpgate-standins
uninstall-hook: uninstall-jumpgate-standins
install-jumpgate-standins:
	@$(MKDIR_P) '$(DESTDIR)$(bindir)'
	@for s in $(JG_STANDINS); do \
	  echo " ln -sf jumpgate '$(DESTDIR)$(bindir)/$$s'"; \
	  ln -sf jumpgate '$(DESTDIR)$(bindir)/'"$$s" || exit 1; \
	done
uninstall-jumpgate-standins:
	@for s in $(JG_STANDINS); do rm -f '$(DESTDIR)$(bindir)/'"$$s"; done
.PHONY: install-jumpgate-standins uninstall-jumpgate-standins

# Bash completion (issue 17): where bash-completion loads it on demand.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = client/completion/jumpgate
