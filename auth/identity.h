/* Identities: the name of a controller, taken from its verified client certificate,
 * and the certificate revocation list those certificates are checked against. */
#ifndef JG_AUTH_IDENTITY_H
#define JG_AUTH_IDENTITY_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config/config.h"

/* The identity in CERT per SOURCE (cn, san-uri: the first URI SAN, san-dns: the first
 * DNS SAN) into BUF.  0, or -1 with BUF holding "(no CN)" / "(no URI SAN)" / ... when
 * the certificate lacks that part, or "(a CN holding a control, NUL or non-ASCII byte:
 * "...")" when it has one (a name that could forge a log line is no name), or with BUF
 * saying why when the identity begins with "unix:" (reserved for local users of the
 * Unix socket). */
int jg_identity_from_cert(X509 *cert, enum jg_identity_source source, char *buf, size_t len);
/* "cn", "san-uri", "san-dns". */
const char *jg_identity_source_name(enum jg_identity_source source);
/* Load the PEM CRL(s) in PATH into CTX's store and turn on CRL checking for the leaf
 * (X509_V_FLAG_CRL_CHECK).  0, or -1 with the reason in ERR. */
int jg_identity_load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen);

#endif
