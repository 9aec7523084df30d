# libjgh2.a: what every HTTP/2 endpoint of jumpgate shares (the gateway's server
# sessions and site links, the client), and the one HTTP/2 client session
# (h2/client.h) the client and the site links both run.
noinst_LIBRARIES += libjgh2.a
libjgh2_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS)
libjgh2_a_SOURCES = h2/bulk.c h2/bulk.h h2/client.c h2/client.h
