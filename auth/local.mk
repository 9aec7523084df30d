# libjgauth.a: identities, policy rules, audit log (issue 7).
noinst_LIBRARIES += libjgauth.a
libjgauth_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
libjgauth_a_SOURCES = auth/identity.c auth/identity.h auth/policy.c auth/policy.h \
	auth/audit.c auth/audit.h
