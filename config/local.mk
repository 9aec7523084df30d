# libjgconfig.a: configuration parsing, state paths, certificate generation.
noinst_LIBRARIES += libjgconfig.a
libjgconfig_a_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(OPENSSL_CFLAGS)
libjgconfig_a_SOURCES = \
	config/config.c config/config.h \
	config/parse.c config/parse.h config/ssh_opts.c \
	config/paths.c config/paths.h \
	config/certs.c config/certs.h \
	config/ca.c config/ca.h \
	config/target.c config/target.h \
	config/access.c config/inventory.c config/sites.c config/method_opts.c
EXTRA_DIST += config/jumpgated.conf.example
