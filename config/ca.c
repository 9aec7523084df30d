/* The CA at work: issue, revoke, list, CRL (see ca.h).
 *
 * The CRL is the record of what is revoked: each write reads the current one
 * (ours: issued by our CA and signed with our key), adds to its entries and
 * signs a new one with the next crlNumber.  CRLs of other CAs in the same file
 * (the old CA during a rotation) are written back untouched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config/ca.h"
#include "config/certs.h"
#include "config/paths.h"
#include "relay/err.h"

struct jg_ca {
	struct jg_ca_paths p;
	X509 *cert; /* the signing CA: the certificate in p.ca matching key */
	EVP_PKEY *key;
	X509_CRL *ours;		     /* the current CRL of our CA, or NULL */
	STACK_OF(X509_CRL) * others; /* other CAs' CRLs in the same file */
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* "2027-01-05 12:00 UTC" */
static void fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, len, "?");
}

static int replace_ext(char *buf, size_t len, const char *path, const char *ext)
{
	size_t n = strlen(path);

	if (n > 4 && strcmp(path + n - 4, ".pem") == 0)
		n -= 4;
	if (n + strlen(ext) + 1 > len)
		return -1;
	memcpy(buf, path, n);
	strcpy(buf + n, ext);
	return 0;
}

int jg_ca_paths(const struct jg_config *cfg, const char *key, struct jg_ca_paths *out, char *err,
		size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (snprintf(out->ca, sizeof(out->ca), "%s", cfg->ca_file) >= (int)sizeof(out->ca) ||
	    (key != NULL ? snprintf(out->key, sizeof(out->key), "%s", key) >= (int)sizeof(out->key)
			 : replace_ext(out->key, sizeof(out->key), cfg->ca_file, ".key") != 0) ||
	    jg_paths_join(out->issued, sizeof(out->issued), cfg->state_dir, "issued") != 0 ||
	    (cfg->crl_file != NULL
		 ? snprintf(out->crl, sizeof(out->crl), "%s", cfg->crl_file) >=
		       (int)sizeof(out->crl)
		 : jg_paths_join(out->crl, sizeof(out->crl), cfg->state_dir, "crl.pem") != 0))
		return fail(err, errlen, JG_ERR_TOOBIG, "%s: a CA path is too long", cfg->ca_file);
	out->crl_configured = cfg->crl_file != NULL;
	return 0;
}

const char *jg_ca_crl_file(const struct jg_config *cfg, char *buf, size_t len)
{
	if (cfg->crl_file != NULL)
		return cfg->crl_file;
	/* Only beside the generated CA: a crl.pem left from it would refuse every
	 * certificate of a configured CA (no CRL of theirs in it). */
	if (!cfg->generate_certs || cfg->state_dir == NULL ||
	    jg_paths_join(buf, len, cfg->state_dir, "crl.pem") != 0)
		return NULL;
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* ---- opening ------------------------------------------------------------ */

/* The CA key is the whole trust of the gateway: a key others may read is refused,
 * as ssh refuses a private key with loose permissions. */
static int read_ca_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	struct stat st;
	char why[256];
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return fail(err, errlen, errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO,
			    "CA key %s: %s (run as the gateway's user, or name the key with "
			    "--ca-key)",
			    path, strerror(errno));
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
		fclose(f);
		return fail(err, errlen, JG_ERR_STATE,
			    "CA key %s is mode %04o: group or others may read it, and whoever "
			    "reads it can mint any identity; chmod 600 %s",
			    path, (unsigned)(st.st_mode & 07777), path);
	}
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return fail(err, errlen, JG_ERR_TLS, "CA key %s: %s", path,
			    jg_certs_ssl_reason(why, sizeof(why)));
	return 0;
}

/* Every certificate of the CA file; the one matching KEY signs. */
static int find_ca_cert(struct jg_ca *ca, char *err, size_t errlen)
{
	FILE *f = fopen(ca->p.ca, "re");
	X509 *c;
	int n = 0;

	if (f == NULL)
		return fail(err, errlen, JG_ERR_IO, "CA %s: %s", ca->p.ca, strerror(errno));
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		n++;
		if (ca->cert == NULL && X509_check_private_key(c, ca->key) == 1)
			ca->cert = c;
		else
			X509_free(c);
	}
	fclose(f);
	ERR_clear_error();
	if (ca->cert == NULL)
		return fail(err, errlen, JG_ERR_TLS,
			    "CA key %s belongs to none of the %d certificate(s) in %s", ca->p.key,
			    n, ca->p.ca);
	return 0;
}

static int read_crls(struct jg_ca *ca, char *err, size_t errlen)
{
	FILE *f = fopen(ca->p.crl, "re");
	X509_CRL *crl;

	if ((ca->others = sk_X509_CRL_new_null()) == NULL)
		return fail(err, errlen, JG_ERR_NOMEM, "out of memory");
	if (f == NULL)
		return errno == ENOENT
			   ? 0
			   : fail(err, errlen, JG_ERR_IO, "CRL %s: %s", ca->p.crl, strerror(errno));
	while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)) == 0 &&
		    X509_CRL_verify(crl, ca->key) == 1) {
			X509_CRL_free(ca->ours);
			ca->ours = crl;
		} else if (!sk_X509_CRL_push(ca->others, crl)) {
			X509_CRL_free(crl);
			fclose(f);
			return fail(err, errlen, JG_ERR_NOMEM, "out of memory");
		}
	}
	fclose(f);
	ERR_clear_error();
	return 0;
}

int jg_ca_open(const struct jg_ca_paths *p, struct jg_ca **out, char *err, size_t errlen)
{
	struct jg_ca *ca = calloc(1, sizeof(*ca));
	int r;

	*out = NULL;
	if (ca == NULL)
		return fail(err, errlen, JG_ERR_NOMEM, "out of memory");
	ca->p = *p;
	ERR_clear_error();
	if ((r = read_ca_key(p->key, &ca->key, err, errlen)) != 0 ||
	    (r = find_ca_cert(ca, err, errlen)) != 0 || (r = read_crls(ca, err, errlen)) != 0) {
		jg_ca_free(ca);
		return r;
	}
	*out = ca;
	return 0;
}

void jg_ca_free(struct jg_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	X509_CRL_free(ca->ours);
	sk_X509_CRL_pop_free(ca->others, X509_CRL_free);
	free(ca);
}

/* ---- the CRL --------------------------------------------------------------- */

static int add_revoked(X509_CRL *crl, const ASN1_INTEGER *serial, const ASN1_TIME *when)
{
	X509_REVOKED *rv = X509_REVOKED_new();

	if (rv == NULL || !X509_REVOKED_set_serialNumber(rv, (ASN1_INTEGER *)serial) ||
	    !X509_REVOKED_set_revocationDate(rv, (ASN1_TIME *)when) ||
	    !X509_CRL_add0_revoked(crl, rv)) {
		X509_REVOKED_free(rv);
		return 0;
	}
	return 1;
}

static int is_revoked(const struct jg_ca *ca, const ASN1_INTEGER *serial)
{
	X509_REVOKED *rv;

	return ca->ours != NULL && X509_CRL_get0_by_serial(ca->ours, &rv, serial) == 1;
}

/* C is listed in the CRL of its issuer: ours, or another CA's in the same file (the
 * old CA during a rotation). */
static int cert_revoked(const struct jg_ca *ca, X509 *c)
{
	X509_REVOKED *rv;

	if (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(ca->cert)) == 0)
		return is_revoked(ca, X509_get0_serialNumber(c));
	for (int i = 0; i < sk_X509_CRL_num(ca->others); i++) {
		X509_CRL *crl = sk_X509_CRL_value(ca->others, i);

		if (X509_NAME_cmp(X509_get_issuer_name(c), X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_get0_by_serial(crl, &rv, X509_get0_serialNumber(c)) == 1)
			return 1;
	}
	return 0;
}

/* The next crlNumber: the current one + 1, else 1. */
static ASN1_INTEGER *next_number(const X509_CRL *old)
{
	ASN1_INTEGER *n =
	    old != NULL ? X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL) : NULL;
	BIGNUM *bn = n != NULL ? ASN1_INTEGER_to_BN(n, NULL) : BN_new();
	ASN1_INTEGER *out = NULL;

	if (bn != NULL && BN_add_word(bn, 1))
		out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	ASN1_INTEGER_free(n);
	return out;
}

/* Sign a new CRL: the current entries plus ADD (NADD serials, skipping those already
 * there), valid JG_CA_CRL_DAYS; write it with the other CAs' CRLs. */
static int write_crl(struct jg_ca *ca, ASN1_INTEGER **add, size_t nadd, char *err, size_t errlen)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *number = next_number(ca->ours);
	STACK_OF(X509_CRL) *all = sk_X509_CRL_new_null();
	STACK_OF(X509_REVOKED) *old = ca->ours != NULL ? X509_CRL_get_REVOKED(ca->ours) : NULL;
	X509V3_CTX v3;
	X509_EXTENSION *akid = NULL;
	char why[256];
	int r = JG_ERR_TLS;

	if (crl == NULL || now == NULL || next == NULL || number == NULL || all == NULL)
		goto ssl;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
	    !X509_gmtime_adj(now, 0) || !X509_time_adj_ex(next, JG_CA_CRL_DAYS, 0, NULL) ||
	    !X509_CRL_set1_lastUpdate(crl, now) || !X509_CRL_set1_nextUpdate(crl, next))
		goto ssl;
	for (int i = 0; i < sk_X509_REVOKED_num(old); i++) {
		const X509_REVOKED *rv = sk_X509_REVOKED_value(old, i);

		if (!add_revoked(crl, X509_REVOKED_get0_serialNumber(rv),
				 X509_REVOKED_get0_revocationDate(rv)))
			goto ssl;
	}
	for (size_t i = 0; i < nadd; i++)
		if (!is_revoked(ca, add[i]) && !add_revoked(crl, add[i], now))
			goto ssl;
	X509V3_set_ctx(&v3, ca->cert, NULL, NULL, crl, 0);
	if ((akid = X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier,
					 "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, akid, -1) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) || !X509_CRL_sort(crl) ||
	    !X509_CRL_sign(crl, ca->key, EVP_sha256()) || !sk_X509_CRL_push(all, crl))
		goto ssl;
	for (int i = 0; i < sk_X509_CRL_num(ca->others); i++)
		if (!sk_X509_CRL_push(all, sk_X509_CRL_value(ca->others, i)))
			goto ssl;
	if ((r = jg_certs_write(ca->p.crl, 0644, NULL, NULL, all, err, errlen)) != 0)
		goto out;
	X509_CRL_free(ca->ours);
	ca->ours = crl;
	crl = NULL;
	r = 0;
	goto out;
ssl:
	r = fail(err, errlen, JG_ERR_TLS, "CRL %s: cannot build: %s", ca->p.crl,
		 jg_certs_ssl_reason(why, sizeof(why)));
out:
	sk_X509_CRL_free(all); /* the CRLs themselves belong to ca (or crl) */
	X509_CRL_free(crl);
	X509_EXTENSION_free(akid);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(number);
	return r;
}

int jg_ca_crl_renew(struct jg_ca *ca, char *err, size_t errlen)
{
	return write_crl(ca, NULL, 0, err, errlen);
}

int jg_ca_crl_refresh(struct jg_ca *ca, int *renewed, char *err, size_t errlen)
{
	time_t when = time(NULL) + (time_t)JG_CA_CRL_RENEW_DAYS * 86400;
	const ASN1_TIME *next;
	int r;

	if (renewed != NULL)
		*renewed = 0;
	if (ca->ours == NULL)
		return 0;
	next = X509_CRL_get0_nextUpdate(ca->ours);
	if (next != NULL && X509_cmp_time(next, &when) > 0)
		return 0;
	if ((r = write_crl(ca, NULL, 0, err, errlen)) == 0 && renewed != NULL)
		*renewed = 1;
	return r;
}

int jg_ca_crl_next_update(const char *path, time_t *next, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	X509_CRL *crl;
	struct tm tm;
	int n = 0, r = 0;

	*next = 0;
	if (f == NULL)
		return fail(err, errlen, JG_ERR_IO, "CRL %s: %s", path, strerror(errno));
	while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
		const ASN1_TIME *t = X509_CRL_get0_nextUpdate(crl);
		time_t v;

		n++;
		if (t != NULL && ASN1_TIME_to_tm(t, &tm) && (v = timegm(&tm)) != (time_t)-1 &&
		    (*next == 0 || v < *next))
			*next = v;
		X509_CRL_free(crl);
	}
	fclose(f);
	ERR_clear_error();
	if (n == 0)
		r = fail(err, errlen, JG_ERR_TLS, "CRL %s: no PEM CRL in it", path);
	return r;
}

/* ---- the issued certificates ------------------------------------------------ */

static char *serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	BN_free(bn);
	return hex; /* OPENSSL_free */
}

static int by_not_before(const X509 *const *a, const X509 *const *b)
{
	return ASN1_TIME_compare(X509_get0_notBefore(*a), X509_get0_notBefore(*b));
}

/* Every certificate in the issued directory, oldest first (none: an empty stack). */
static STACK_OF(X509) * read_issued(const struct jg_ca *ca, char *err, size_t errlen)
{
	STACK_OF(X509) *all = sk_X509_new(by_not_before);
	DIR *d = opendir(ca->p.issued);
	struct dirent *e;
	char path[4400];

	if (all == NULL) {
		fail(err, errlen, JG_ERR_NOMEM, "out of memory");
		if (d != NULL)
			closedir(d);
		return NULL;
	}
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		FILE *f;
		X509 *c;

		if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ca->p.issued, e->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		c = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		if (c != NULL && !sk_X509_push(all, c))
			X509_free(c);
	}
	if (d != NULL)
		closedir(d);
	ERR_clear_error();
	sk_X509_sort(all);
	return all;
}

static void cert_name(X509 *c, char *buf, size_t len)
{
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, (int)len) < 0)
		snprintf(buf, len, "?");
}

/* A hex serial as typed ("4A:3F...", "0x4a3f..."); NULL when it is not one. */
static ASN1_INTEGER *parse_serial(const char *s)
{
	char hex[128];
	size_t n = 0;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *out;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		s += 2;
	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')) ||
		    n + 1 >= sizeof(hex))
			return NULL;
		hex[n++] = *s;
	}
	hex[n] = '\0';
	/* Short all-hex strings ("cafe", "add") are names, not serials: ours are 32 digits. */
	if (n < 8 || BN_hex2bn(&bn, hex) == 0)
		return NULL;
	out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return out;
}

int jg_ca_revoke(struct jg_ca *ca, const char *what, int *n, char *err, size_t errlen)
{
	STACK_OF(X509) *all = read_issued(ca, err, errlen);
	ASN1_INTEGER *serial = parse_serial(what), **add = NULL;
	size_t nadd = 0;
	char name[256], issuer[256];
	int r = 0, found = 0, foreign = 0;

	*n = 0;
	if (all == NULL)
		return JG_ERR_NOMEM;
	if ((add = calloc((size_t)sk_X509_num(all) + 1, sizeof(*add))) == NULL) {
		r = fail(err, errlen, JG_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(all); i++) {
		X509 *c = sk_X509_value(all, i);
		const ASN1_INTEGER *s = X509_get0_serialNumber(c);

		cert_name(c, name, sizeof(name));
		if (serial != NULL ? ASN1_INTEGER_cmp(s, serial) != 0
				   : strcmp(name, what) != 0 || jg_certs_expiring(c, 0))
			continue;
		/* Our CRL lists our certificates only: one of another CA (the old one of a
		 * rotation) is revoked in that CA's CRL, with its key. */
		if (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(ca->cert)) != 0) {
			X509_NAME_oneline(X509_get_issuer_name(c), issuer, sizeof(issuer));
			foreign++;
			continue;
		}
		found++;
		if (!is_revoked(ca, s))
			add[nadd++] = (ASN1_INTEGER *)s;
	}
	/* A serial we have no copy of (issued elsewhere by this CA) is revoked all the same. */
	if (serial != NULL && found == 0 && foreign == 0 && !is_revoked(ca, serial))
		add[nadd++] = serial, found = 1;
	if (found == 0 && foreign > 0) {
		r = fail(err, errlen, JG_ERR_STATE,
			 "\"%s\" was issued by %s, not by the CA of the key %s: revoke it with "
			 "--ca-key naming that CA's key",
			 what, issuer, ca->p.key);
		goto out;
	}
	if (found == 0) {
		r = fail(err, errlen, JG_ERR_NOTFOUND,
			 "no unexpired certificate named \"%s\" was issued here (%s): `jumpgated "
			 "cert list` shows them; a serial revokes any certificate of this CA",
			 what, ca->p.issued);
		goto out;
	}
	if ((r = write_crl(ca, add, nadd, err, errlen)) == 0)
		*n = (int)nadd;
out:
	free(add);
	ASN1_INTEGER_free(serial);
	sk_X509_pop_free(all, X509_free);
	return r;
}

int jg_ca_list(struct jg_ca *ca, FILE *out, char *err, size_t errlen)
{
	STACK_OF(X509) *all = read_issued(ca, err, errlen);
	char name[256], when[64];
	time_t now = time(NULL);

	if (all == NULL)
		return JG_ERR_NOMEM;
	fprintf(out, "%-32s  %-20s  %-20s  %s\n", "SERIAL", "NAME", "EXPIRES", "STATE");
	for (int i = 0; i < sk_X509_num(all); i++) {
		X509 *c = sk_X509_value(all, i);
		char *hex = serial_hex(X509_get0_serialNumber(c));

		cert_name(c, name, sizeof(name));
		fmt_time(X509_get0_notAfter(c), when, sizeof(when));
		fprintf(out, "%-32s  %-20s  %-20s  %s\n", hex != NULL ? hex : "?", name, when,
			cert_revoked(ca, c)				  ? "revoked"
			: X509_cmp_time(X509_get0_notAfter(c), &now) <= 0 ? "expired"
									  : "valid");
		OPENSSL_free(hex);
	}
	if (ca->ours == NULL) {
		fprintf(out, "CRL %s: none yet (`jumpgated cert revoke` writes it)\n", ca->p.crl);
	} else {
		fmt_time(X509_CRL_get0_nextUpdate(ca->ours), when, sizeof(when));
		int nrev = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(ca->ours));

		fprintf(out, "CRL %s: %d revoked, next update %s\n", ca->p.crl, nrev > 0 ? nrev : 0,
			when);
	}
	sk_X509_pop_free(all, X509_free);
	return 0;
}

/* ---- issuing ---------------------------------------------------------------- */

/* Copy the CA file (the bundle, during a rotation) to PATH for the colleague. */
static int copy_ca(const struct jg_ca *ca, const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	FILE *f = fopen(ca->p.ca, "re"), *o;
	X509 *c;
	int r;

	if (certs == NULL || f == NULL) {
		r = fail(err, errlen, JG_ERR_IO, "CA %s: %s", ca->p.ca, strerror(errno));
		goto out;
	}
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(certs, c))
			X509_free(c);
	ERR_clear_error();
	/* Not atomic: a fresh file in the output directory, which nothing reads yet. */
	o = fopen(path, "we");

	r = 0;
	if (o == NULL)
		r = fail(err, errlen, JG_ERR_IO, "%s: %s", path, strerror(errno));
	for (int i = 0; o != NULL && i < sk_X509_num(certs); i++)
		if (!PEM_write_X509(o, sk_X509_value(certs, i)))
			r = fail(err, errlen, JG_ERR_IO, "%s: cannot write", path);
	if (o != NULL && fclose(o) != 0)
		r = fail(err, errlen, JG_ERR_IO, "%s: %s", path, strerror(errno));
out:
	if (f != NULL)
		fclose(f);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

int jg_ca_issue(struct jg_ca *ca, const char *name, int days, int dns, const char *outdir,
		char *serial, size_t seriallen, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char certpath[4400], keypath[4400], capath[4400], record[4400], *hex = NULL;
	int r;

	if ((r = jg_certs_check_name(name, err, errlen)) != 0)
		return r;
	if (snprintf(certpath, sizeof(certpath), "%s/%s.pem", outdir, name) >=
		(int)sizeof(certpath) ||
	    snprintf(keypath, sizeof(keypath), "%s/%s.key", outdir, name) >= (int)sizeof(keypath) ||
	    snprintf(capath, sizeof(capath), "%s/ca.pem", outdir) >= (int)sizeof(capath))
		return fail(err, errlen, JG_ERR_TOOBIG, "%s: path too long", outdir);
	if (access(certpath, F_OK) == 0 || access(keypath, F_OK) == 0)
		return fail(err, errlen, JG_ERR_STATE,
			    "%s or %s exists already: remove it, or choose another --out", certpath,
			    keypath);
	if (jg_paths_mkdir_p(outdir, 0700) != 0)
		return fail(err, errlen, JG_ERR_IO, "%s: cannot create: %s", outdir,
			    strerror(errno));
	if (jg_paths_mkdir_p(ca->p.issued, 0700) != 0)
		return fail(err, errlen, JG_ERR_IO, "%s: cannot create: %s", ca->p.issued,
			    strerror(errno));
	if ((r = jg_certs_new_key(&key, err, errlen)) != 0 ||
	    (r = jg_certs_client(name, days, dns, key, ca->cert, ca->key, &cert, err, errlen)) != 0)
		goto out;
	if ((hex = serial_hex(X509_get0_serialNumber(cert))) == NULL) {
		r = fail(err, errlen, JG_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(record, sizeof(record), "%s/%s.pem", ca->p.issued, hex);
	if ((r = jg_certs_write(keypath, 0600, key, NULL, NULL, err, errlen)) != 0 ||
	    (r = jg_certs_write(certpath, 0644, NULL, cert, NULL, err, errlen)) != 0 ||
	    (r = copy_ca(ca, capath, err, errlen)) != 0 ||
	    (r = jg_certs_write(record, 0644, NULL, cert, NULL, err, errlen)) != 0)
		goto out;
	snprintf(serial, seriallen, "%s", hex);
	/* Every run keeps the CRL alive: the CA's users run this more often than a calendar. */
	r = jg_ca_crl_refresh(ca, NULL, err, errlen);
out:
	OPENSSL_free(hex);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}
