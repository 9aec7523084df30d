/* Identities from client certificates, and the CRL: see identity.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "auth/identity.h"

const char *jg_identity_source_name(enum jg_identity_source source)
{
	switch (source) {
	case JG_IDENTITY_CN:
		return "cn";
	case JG_IDENTITY_SAN_URI:
		return "san-uri";
	case JG_IDENTITY_SAN_DNS:
		return "san-dns";
	}
	return "?";
}

/* Printable ASCII only: an identity ends up in log lines, audit lines and glob matches. */
static int clean(const unsigned char *s, int n)
{
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int from_san(X509 *cert, int type, char *buf, size_t len)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int r = -1;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *s;

		if (g->type != type)
			continue;
		s = type == GEN_URI ? g->d.uniformResourceIdentifier : g->d.dNSName;
		if (clean(ASN1_STRING_get0_data(s), ASN1_STRING_length(s)) &&
		    (size_t)ASN1_STRING_length(s) < len) {
			memcpy(buf, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
			buf[ASN1_STRING_length(s)] = '\0';
			r = 0;
		}
		break; /* the first of its type, good or bad */
	}
	GENERAL_NAMES_free(names);
	return r;
}

static int from_cert(X509 *cert, enum jg_identity_source source, char *buf, size_t len);

int jg_identity_from_cert(X509 *cert, enum jg_identity_source source, char *buf, size_t len)
{
	char id[256];

	if (from_cert(cert, source, buf, len) != 0)
		return -1;
	/* "unix:NAME" is what the kernel vouches for on the Unix socket (SO_PEERCRED): a
	 * certificate must not be able to claim a local account's rules. */
	if (strncmp(buf, "unix:", 5) == 0) {
		snprintf(id, sizeof(id), "%s", buf);
		snprintf(buf, len,
			 "identity \"%.200s\" begins with \"unix:\", which is reserved for local "
			 "users of the Unix socket",
			 id);
		return -1;
	}
	return 0;
}

static int from_cert(X509 *cert, enum jg_identity_source source, char *buf, size_t len)
{
	X509_NAME *name;
	char cn[256];
	int n;

	if (cert == NULL) {
		snprintf(buf, len, "(none)");
		return -1;
	}
	switch (source) {
	case JG_IDENTITY_SAN_URI:
		if (from_san(cert, GEN_URI, buf, len) == 0)
			return 0;
		snprintf(buf, len, "(no URI SAN)");
		return -1;
	case JG_IDENTITY_SAN_DNS:
		if (from_san(cert, GEN_DNS, buf, len) == 0)
			return 0;
		snprintf(buf, len, "(no DNS SAN)");
		return -1;
	case JG_IDENTITY_CN:
		break;
	}
	name = X509_get_subject_name(cert);
	n = name != NULL ? X509_NAME_get_text_by_NID(name, NID_commonName, cn, (int)sizeof(cn))
			 : -1;
	if (n < 0) {
		snprintf(buf, len, "(no CN)");
		return -1;
	}
	/* There is a CN, but no name of ours: say so, with the CN (the log escapes it). */
	if (!clean((const unsigned char *)cn, n) || (size_t)n != strlen(cn)) {
		snprintf(buf, len, "(a CN holding a control, NUL or non-ASCII byte: \"%s\")", cn);
		return -1;
	}
	if ((size_t)n >= len) {
		snprintf(buf, len, "(a CN too long)");
		return -1;
	}
	memcpy(buf, cn, (size_t)n + 1);
	return 0;
}

int jg_identity_load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	unsigned long e;
	int n;

	n = X509_STORE_load_file(store, path);
	if (n != 1) {
		e = ERR_get_error();
		snprintf(err, errlen, "crl %s: %s", path,
			 e ? ERR_reason_error_string(e) : "cannot load");
		ERR_clear_error();
		return -1;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}
