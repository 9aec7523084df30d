/* Certificates generated on first start (OpenSSL 3 API, no openssl CLI).
 *
 * In STATE_DIR (created 0700 when absent): a CA (ca.pem, ca.key), a server
 * certificate signed by it for the listen address (server.pem, server.key:
 * SAN IP 127.0.0.1, IP ::1, DNS localhost, plus the given host), and a client
 * certificate for the local user (client.pem, client.key: CN and SAN URI
 * "jumpgate:user:<name>").  Keys are EC P-256, written 0600.  Files already
 * present are kept; a missing one is generated (the CA only when neither CA
 * file exists: a lone ca.pem without its key is an error, never silently
 * replaced, since clients trust it). */
#ifndef JG_CERTS_H
#define JG_CERTS_H

#include <stddef.h>

/* Make sure the six files exist. HOST (may be NULL) is added to the server's SAN.
 * CLIENT_USER names the client certificate. 0, or a negative JG_ERR_* with a reason in ERR
 * naming the file. Sets *GENERATED to the number of files written (may be NULL). */
int jg_certs_ensure(const char *state_dir, const char *host, const char *client_user,
		    int *generated, char *err, size_t errlen);

#endif
