/* The gateway's CA at work: client certificates issued, revoked and listed,
 * and the CRL kept current (`jumpgated cert`, gateway/certcmd.c; the gateway's
 * own renewal, gateway/certwatch.c).  OpenSSL's C API only, no openssl CLI.
 *
 * Files (struct jg_ca_paths says where):
 *   CA        the configured tls.ca (state_dir/ca.pem when generated); during a
 *             rotation it holds the new CA and the old one, and the signing CA
 *             is the one whose key is the CA key
 *   CA key    beside it, ".pem" replaced by ".key" (state_dir/ca.key), or
 *             --ca-key; refused when group or others may read it
 *   CRL       `crl`, else (generated CA only) state_dir/crl.pem, which the
 *             gateway checks when it exists; one CRL per CA: ours is
 *             rewritten, others are kept
 *   issued    state_dir/issued/SERIAL.pem, a copy of every certificate issued:
 *             what `cert list` shows and `cert revoke NAME` finds
 * Every write is atomic (temporary file, rename). */
#ifndef JG_CA_H
#define JG_CA_H

#include <stdio.h>
#include <time.h>

#include "config/config.h"

/* Default lifetime of an issued client certificate, in days. */
#define JG_CA_ISSUE_DAYS 30
/* Lifetime of a CRL written by us, and the days left at which any cert command or
 * the gateway renews it. */
#define JG_CA_CRL_DAYS 30
#define JG_CA_CRL_RENEW_DAYS 10

struct jg_ca_paths {
	char ca[4096], key[4096], crl[4096], issued[4096];
	int crl_configured; /* `crl` is set (else the state_dir default) */
};

struct jg_ca;

/* Where CFG's CA, key, CRL and issued copies are; KEY overrides the CA key (NULL:
 * beside the CA).  0 or JG_ERR_TOOBIG with ERR. */
int jg_ca_paths(const struct jg_config *cfg, const char *key, struct jg_ca_paths *out, char *err,
		size_t errlen);
/* The CRL file the gateway checks: `crl`, else with the generated CA state_dir/crl.pem
 * when it exists; NULL for none.  Into BUF. */
const char *jg_ca_crl_file(const struct jg_config *cfg, char *buf, size_t len);

/* Open the CA of P for signing: the key (mode checked), the CA certificate matching
 * it, the CRL (when present).  0 and *OUT (jg_ca_free), or JG_ERR_* with ERR. */
int jg_ca_open(const struct jg_ca_paths *p, struct jg_ca **out, char *err, size_t errlen);
void jg_ca_free(struct jg_ca *ca);

/* Issue a client certificate for NAME, DAYS long (DNS: also SAN DNS NAME), its key
 * and the CA into OUTDIR (NAME.pem, NAME.key mode 0600, ca.pem; existing NAME files
 * are refused), a copy into the issued directory.  Serial (hex) into SERIAL. */
int jg_ca_issue(struct jg_ca *ca, const char *name, int days, int dns, const char *outdir,
		char *serial, size_t seriallen, char *err, size_t errlen);
/* Revoke WHAT: a serial (hex) or the name of every unexpired issued certificate of
 * that name.  The CRL is rewritten.  0 and the number revoked in *N. */
int jg_ca_revoke(struct jg_ca *ca, const char *what, int *n, char *err, size_t errlen);
/* Rewrite the CRL now (JG_CA_CRL_DAYS from now). */
int jg_ca_crl_renew(struct jg_ca *ca, char *err, size_t errlen);
/* Rewrite the CRL when it exists and has JG_CA_CRL_RENEW_DAYS or fewer left.  0 (and
 * *RENEWED 1 when it did), or JG_ERR_* with ERR. */
int jg_ca_crl_refresh(struct jg_ca *ca, int *renewed, char *err, size_t errlen);
/* Print the issued certificates (serial, name, expiry, state) and the CRL's. */
int jg_ca_list(struct jg_ca *ca, FILE *out, char *err, size_t errlen);

/* The earliest nextUpdate of the CRLs in PATH into *NEXT.  0, or JG_ERR_* with ERR. */
int jg_ca_crl_next_update(const char *path, time_t *next, char *err, size_t errlen);

#endif
