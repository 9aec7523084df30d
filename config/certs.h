/* Certificates generated on first start (OpenSSL 3 API, no openssl CLI).
 *
 * In STATE_DIR (created 0700 when absent): a CA (ca.pem, ca.key), a server
 * certificate signed by it for the listen address (server.pem, server.key:
 * SAN IP 127.0.0.1, IP ::1, DNS localhost, plus the given host), and a client
 * certificate for the local user (client.pem, client.key: CN and SAN URI
 * "jumpgate:user:<name>").  Keys are EC P-256, written 0600.  Files already
 * present are kept; a missing one is generated (the CA only when neither CA
 * file exists: a lone ca.pem without its key is an error, never silently
 * replaced, since clients trust it).  The CA lasts 5 years; the server and the
 * client certificate a year, and are renewed (same key) once JG_CERTS_RENEW_DAYS
 * or fewer remain. */
#ifndef JG_CERTS_H
#define JG_CERTS_H

#include <stddef.h>

#include <openssl/x509.h>

/* A generated server or client certificate with this many days left is renewed. */
#define JG_CERTS_RENEW_DAYS 30

/* Make sure the six files exist. HOST (may be NULL) is added to the server's SAN.
 * CLIENT_USER names the client certificate. 0, or a negative JG_ERR_* with a reason in ERR
 * naming the file. Sets *GENERATED to the number of files written (may be NULL). */
int jg_certs_ensure(const char *state_dir, const char *host, const char *client_user,
		    int *generated, char *err, size_t errlen);

/* 1 when CERT's notAfter is within DAYS days from now (or past). */
int jg_certs_expiring(X509 *cert, int days);
/* The reason OpenSSL gave for its last failure, into BUF (the error queue is cleared);
 * returns BUF.  For messages. */
const char *jg_certs_ssl_reason(char *buf, size_t len);

/* Helpers of config/ca.c (jumpgated cert).  Each returns 0 or a negative JG_ERR_* with
 * the reason in ERR. */
/* Write KEY, CERT or every CRL of CRLS (the first non-NULL) as PEM into PATH
 * atomically, mode MODE. */
int jg_certs_write(const char *path, unsigned mode, EVP_PKEY *key, X509 *cert,
		   STACK_OF(X509_CRL) * crls, char *err, size_t errlen);
/* NAME can be a client certificate's name (CN, "jumpgate:user:NAME"). */
int jg_certs_check_name(const char *name, char *err, size_t errlen);
/* A client certificate for NAME (CN, SAN URI jumpgate:user:NAME, with DNS also SAN DNS
 * NAME), DAYS long, for KEY, signed by CA/CA_KEY, into *OUT (caller frees). */
int jg_certs_client(const char *name, int days, int dns, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
		    X509 **out, char *err, size_t errlen);
/* A new EC P-256 key into *OUT. */
int jg_certs_new_key(EVP_PKEY **out, char *err, size_t errlen);

#endif
