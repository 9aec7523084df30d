# libjgconfig.a: configuration parsing, state paths, certificate generation.
noinst_LIBRARIES += libjgconfig.a
libjgconfig_a_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(OPENSSL_CFLAGS)
libjgconfig_a_SOURCES = \
	config/config.c config/config.h config/check.c config/check.h \
	config/parse.c config/parse.h config/ssh_opts.c \
	config/paths.c config/paths.h \
	config/certs.c config/certs.h \
	config/ca.c config/ca.h \
	config/target.c config/target.h config/chain.c config/chain.h \
	config/access.c config/inventory.c config/sites.c config/method_opts.c
EXTRA_DIST += config/jumpgated.conf.example

# The audit log's logrotate(8) entry, with the installation's paths filled in.
logrotatedir = $(sysconfdir)/logrotate.d
logrotate_DATA = config/logrotate.d/jumpgate
CLEANFILES += config/logrotate.d/jumpgate
EXTRA_DIST += config/jumpgate.logrotate.in
config/logrotate.d/jumpgate: $(srcdir)/config/jumpgate.logrotate.in Makefile
	$(AM_V_GEN)$(MKDIR_P) config/logrotate.d && rm -f $@ $@.tmp && \
	sed -e 's|@localstatedir[@]|$(localstatedir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/config/jumpgate.logrotate.in >$@.tmp && mv $@.tmp $@
