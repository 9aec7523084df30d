bin_PROGRAMS += jumpgate
jumpgate_SOURCES = client/main.c
jumpgate_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS)
jumpgate_LDADD = libjgconfig.a librelay.a $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) $(LIBCONFIG_LIBS)
