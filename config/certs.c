/* First-start certificates: a private CA, a server and a client certificate
 * (see certs.h).  OpenSSL 3 EVP and X509 calls only; no openssl CLI, so
 * nothing depends on what is installed or on a shell.
 *
 * The state is a set of six files; jg_certs_ensure() first decides what to
 * do from which of them exist, refuses the combinations that cannot be
 * repaired without replacing something a client may trust, then writes each
 * missing file atomically (temporary name, then rename), key before
 * certificate, so an interrupted run leaves a state the next run completes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/certs.h"
#include "config/paths.h"
#include "relay/err.h"

/* Lifetimes of what jg_certs_ensure generates (issue 17: not ten years).  The
 * CA outlives what it signs; the server and the local client certificate are
 * renewed by jg_certs_ensure when JG_CERTS_RENEW_DAYS or fewer remain, which a
 * gateway does at start, on SIGHUP and once an hour (gateway/certwatch.c). */
#define CA_DAYS 1826
#define LEAF_DAYS 365
/* Clocks on a fleet disagree a little; a certificate made this second must
 * already be valid on a machine a few minutes behind. */
#define BACKDATE_SECONDS (-3600L)
#define CN_MAX 64 /* ub-common-name (RFC 5280) */

/* One of the three identities: its two files and whether each exists. */
struct pair {
	const char *cert_name, *key_name;
	char cert[4096], key[4096];
	int have_cert, have_key;
};

struct ctx {
	const char *dir;
	char *err;
	size_t errlen;
	int generated;
};

static int fail(struct ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record "what: reason" in ERR and return CODE. */
static int fail(struct ctx *x, int code, const char *fmt, ...)
{
	va_list ap;

	if (x->err == NULL || x->errlen == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return code;
}

const char *jg_certs_ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int tls_fail(struct ctx *x, const char *file, const char *what)
{
	char reason[256];

	return fail(x, JG_ERR_TLS, "%s: %s: %s", file, what,
		    jg_certs_ssl_reason(reason, sizeof(reason)));
}

/* 1 when PATH exists, 0 when it does not, negative (ERR set) when unknown. */
static int exists(struct ctx *x, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return fail(x, JG_ERR_IO, "%s: %s", path, strerror(errno));
}

/* ---- writing ---------------------------------------------------------- */

/* Write PATH atomically with MODE: a temporary file created exclusively
 * (never through a link someone planted), fsync'd, then renamed over. */
static int write_pem(struct ctx *x, const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
		     STACK_OF(X509_CRL) * crls)
{
	char tmp[4200], reason[256];
	FILE *f = NULL;
	int fd = -1, r = JG_ERR_IO, ok = 1;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	/* A leftover from a crashed run of this pid number is ours to remove. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)) < 0) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The umask must not loosen or tighten what clients and the daemon expect. */
	if (fchmod(fd, mode) != 0) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (key != NULL)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else if (crls != NULL)
		for (int i = 0, n = sk_X509_CRL_num(crls); ok && i < n; i++)
			ok = PEM_write_X509_CRL(f, sk_X509_CRL_value(crls, i));
	else
		ok = PEM_write_X509(f, cert);
	if (!ok) {
		r = fail(x, JG_ERR_TLS, "%s: cannot write: %s", path,
			 jg_certs_ssl_reason(reason, sizeof(reason)));
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	ok = fclose(f);
	f = NULL;
	if (ok != 0) {
		r = fail(x, JG_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = fail(x, JG_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	x->generated++;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return r;
}

/* ---- reading ---------------------------------------------------------- */

static int read_key(struct ctx *x, const char *path, EVP_PKEY **out)
{
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return fail(x, JG_ERR_IO, "%s: %s", path, strerror(errno));
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return *out == NULL ? tls_fail(x, path, "cannot read private key") : 0;
}

static int read_cert(struct ctx *x, const char *path, X509 **out)
{
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return fail(x, JG_ERR_IO, "%s: %s", path, strerror(errno));
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return *out == NULL ? tls_fail(x, path, "cannot read certificate") : 0;
}

/* ---- building --------------------------------------------------------- */

static int new_key(struct ctx *x, const char *path, EVP_PKEY **out)
{
	if ((*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return tls_fail(x, path, "cannot generate an EC P-256 key");
	return 0;
}

/* A random positive 128-bit serial: unique without keeping a counter. */
static int set_serial(X509 *cert)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7f; /* DER INTEGER: keep it positive... */
	b[0] |= 0x40; /* ...and 16 bytes long, never zero */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
		ok = 1;
	BN_free(bn);
	return ok;
}

/* Add one extension given in OpenSSL's text form (fixed strings only). */
static int add_ext(X509 *cert, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	int ok;

	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int add_san_string(GENERAL_NAMES *names, int type, const char *value)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || !ASN1_STRING_set(s, value, (int)strlen(value))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return 0;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return 0;
	}
	return 1;
}

static int add_san_ip(GENERAL_NAMES *names, const unsigned char *addr, int len)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	if (gn == NULL || s == NULL || !ASN1_OCTET_STRING_set(s, addr, len)) {
		GENERAL_NAME_free(gn);
		ASN1_OCTET_STRING_free(s);
		return 0;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return 0;
	}
	return 1;
}

/* Add "IP:x" when TEXT is an address, "DNS:x" otherwise.  Built as
 * structures, not as a "DNS:..." string, so no input can inject a name.
 * The loopback names are there already; a wildcard listen address
 * (0.0.0.0, ::) is nothing a client connects to, so it is left out. */
static int add_san_host(GENERAL_NAMES *names, const char *text)
{
	static const unsigned char any[16], v6lo[16] = {[15] = 1};
	static const unsigned char v4lo[4] = {127, 0, 0, 1};
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		return memcmp(a, any, 4) == 0 || memcmp(a, v4lo, 4) == 0 ? 1
									 : add_san_ip(names, a, 4);
	if (inet_pton(AF_INET6, text, a) == 1)
		return memcmp(a, any, 16) == 0 || memcmp(a, v6lo, 16) == 0
			   ? 1
			   : add_san_ip(names, a, 16);
	return strcasecmp(text, "localhost") == 0 ? 1 : add_san_string(names, GEN_DNS, text);
}

enum kind { KIND_CA, KIND_SERVER, KIND_CLIENT };

struct spec {
	enum kind kind;
	const char *cn;
	const char *host; /* KIND_SERVER: extra SAN, may be NULL */
	const char *user; /* KIND_CLIENT: SAN URI */
	int dns;	  /* KIND_CLIENT: also a SAN DNS of USER */
	int days;	  /* validity; 0: CA_DAYS or LEAF_DAYS */
	EVP_PKEY *key;	  /* the subject's key */
	X509 *issuer;	  /* NULL: self-signed */
	EVP_PKEY *issuer_key;
};

static int add_extensions(X509 *cert, const struct spec *s)
{
	X509V3_CTX v3;
	GENERAL_NAMES *names = NULL;
	char uri[CN_MAX + 32];
	int ok = 0;

	X509V3_set_ctx(&v3, s->issuer != NULL ? s->issuer : cert, cert, NULL, NULL, 0);
	if (!add_ext(cert, &v3, NID_subject_key_identifier, "hash"))
		goto out;
	if (s->kind == KIND_CA) {
		ok = add_ext(cert, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
		     add_ext(cert, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
		goto out;
	}
	if (!add_ext(cert, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, &v3, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(cert, &v3, NID_ext_key_usage,
		     s->kind == KIND_SERVER ? "serverAuth" : "clientAuth") ||
	    !add_ext(cert, &v3, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if ((names = sk_GENERAL_NAME_new_null()) == NULL)
		goto out;
	if (s->kind == KIND_SERVER) {
		static const unsigned char lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};

		if (!add_san_ip(names, lo4, 4) || !add_san_ip(names, lo6, 16) ||
		    !add_san_string(names, GEN_DNS, "localhost"))
			goto out;
		if (s->host != NULL && !add_san_host(names, s->host))
			goto out;
	} else {
		snprintf(uri, sizeof(uri), "jumpgate:user:%s", s->user);
		if (!add_san_string(names, GEN_URI, uri) ||
		    (s->dns && !add_san_string(names, GEN_DNS, s->user)))
			goto out;
	}
	ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
out:
	GENERAL_NAMES_free(names);
	return ok;
}

/* Build and sign one certificate for S; FILE names it in messages. */
static int make_cert(struct ctx *x, const char *file, const struct spec *s, X509 **out)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	int r = JG_ERR_TLS;

	*out = NULL;
	if ((cert = X509_new()) == NULL || (name = X509_NAME_new()) == NULL)
		goto fail;
	if (!X509_set_version(cert, X509_VERSION_3) || !set_serial(cert) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)s->cn, -1,
					-1, 0) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert,
				  s->issuer != NULL ? X509_get_subject_name(s->issuer) : name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), BACKDATE_SECONDS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(cert),
			      s->days > 0	   ? s->days
			      : s->kind == KIND_CA ? CA_DAYS
						   : LEAF_DAYS,
			      0, NULL) ||
	    !X509_set_pubkey(cert, s->key) || !add_extensions(cert, s) ||
	    !X509_sign(cert, s->issuer_key != NULL ? s->issuer_key : s->key, EVP_sha256()))
		goto fail;
	*out = cert;
	cert = NULL;
	r = 0;
	goto out;
fail:
	r = tls_fail(x, file, "cannot build certificate");
out:
	X509_NAME_free(name);
	X509_free(cert);
	return r;
}

/* ---- the plan ----------------------------------------------------------- */

static int init_pair(struct ctx *x, struct pair *p, const char *cert_name, const char *key_name)
{
	int r;

	p->cert_name = cert_name;
	p->key_name = key_name;
	if (jg_paths_join(p->cert, sizeof(p->cert), x->dir, cert_name) != 0 ||
	    jg_paths_join(p->key, sizeof(p->key), x->dir, key_name) != 0)
		return fail(x, JG_ERR_TOOBIG, "%s: state directory path too long", x->dir);
	if ((r = exists(x, p->cert)) < 0)
		return r;
	p->have_cert = r;
	if ((r = exists(x, p->key)) < 0)
		return r;
	p->have_key = r;
	return 0;
}

/* Make sure pair P exists, issued by CA/CA_KEY (NULL: P is the CA).  An
 * existing key without its certificate gets a certificate; a certificate
 * without its key is refused: the key cannot be recovered, and replacing
 * the certificate is for a person to decide. */
static int ensure_pair(struct ctx *x, struct pair *p, struct spec *s, EVP_PKEY **key_out,
		       X509 **cert_out)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int r;

	if (p->have_cert && !p->have_key) {
		r = fail(x, JG_ERR_STATE,
			 "%s exists without its key %s: restore the key, or remove %s to have both "
			 "generated%s",
			 p->cert, p->key, p->cert,
			 s->kind == KIND_CA ? " (clients trusting the old CA will need the new one)"
					    : "");
		goto out;
	}
	if (p->have_key)
		r = read_key(x, p->key, &key);
	else if ((r = new_key(x, p->key, &key)) == 0)
		r = write_pem(x, p->key, 0600, key, NULL, NULL);
	if (r != 0)
		goto out;
	if (p->have_cert) {
		if ((r = read_cert(x, p->cert, &cert)) != 0)
			goto out;
		if (X509_check_private_key(cert, key) != 1) {
			r = fail(x, JG_ERR_TLS, "%s: does not match the key in %s", p->cert,
				 p->key);
			goto out;
		}
	}
	/* A generated leaf close to its end is renewed with the same key, so a gateway
	 * left running never locks its own users out. */
	if (p->have_cert && s->issuer != NULL && jg_certs_expiring(cert, JG_CERTS_RENEW_DAYS)) {
		X509_free(cert);
		cert = NULL;
		p->have_cert = 0;
	}
	if (!p->have_cert) {
		s->key = key;
		if ((r = make_cert(x, p->cert, s, &cert)) != 0)
			goto out;
		if ((r = write_pem(x, p->cert, 0644, NULL, cert, NULL)) != 0)
			goto out;
	}
	if (key_out != NULL) {
		*key_out = key;
		key = NULL;
	}
	if (cert_out != NULL) {
		*cert_out = cert;
		cert = NULL;
	}
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

/* Check HOST before anything is written: it ends up in the certificate. */
static int check_host(struct ctx *x, const char *host, char *buf, size_t len)
{
	size_t n;

	if (host == NULL || host[0] == '\0')
		return 0;
	/* "[::1]" as written in listen = "[::1]:4443" */
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= len)
		return fail(x, JG_ERR_INVAL, "host name \"%s\" too long for a certificate", host);
	memcpy(buf, host, n);
	buf[n] = '\0';
	for (const char *c = buf; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == ':'))
			return fail(x, JG_ERR_INVAL,
				    "host \"%s\" is neither an address nor a DNS name", buf);
	return 0;
}

static int check_user(struct ctx *x, const char *user)
{
	if (user == NULL || user[0] == '\0')
		return fail(x, JG_ERR_INVAL, "client certificate: no user name");
	if (strlen(user) > CN_MAX)
		return fail(x, JG_ERR_INVAL, "client certificate: user name \"%s\" over %d bytes",
			    user, CN_MAX);
	/* It goes into a URI and a CN: printable ASCII, no separators. */
	for (const char *c = user; *c != '\0'; c++)
		if (*c <= ' ' || *c > '~' || *c == ':' || *c == '/' || *c == ',' || *c == '%')
			return fail(x, JG_ERR_INVAL,
				    "client certificate: user name \"%s\" has a character not "
				    "allowed in a URI",
				    user);
	return 0;
}

int jg_certs_expiring(X509 *cert, int days)
{
	time_t when = time(NULL) + (time_t)days * 86400;

	return X509_cmp_time(X509_get0_notAfter(cert), &when) <= 0;
}

/* 1 when the certificate in PATH ends within JG_CERTS_RENEW_DAYS (or cannot be read:
 * then ensure_pair reads it again and says why). */
static int file_expiring(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int r = cert == NULL || jg_certs_expiring(cert, JG_CERTS_RENEW_DAYS);

	if (f != NULL)
		fclose(f);
	X509_free(cert);
	ERR_clear_error();
	return r;
}

int jg_certs_ensure(const char *state_dir, const char *host, const char *client_user,
		    int *generated, char *err, size_t errlen)
{
	struct ctx x = {.dir = state_dir, .err = err, .errlen = errlen};
	struct pair ca, server, client;
	struct spec s;
	EVP_PKEY *ca_key = NULL;
	X509 *ca_cert = NULL;
	char hostbuf[256] = "", hostname[64], cn[CN_MAX + 1];
	int r, dfd = -1;

	if (generated != NULL)
		*generated = 0;
	ERR_clear_error();
	if ((r = check_host(&x, host, hostbuf, sizeof(hostbuf))) != 0 ||
	    (r = check_user(&x, client_user)) != 0)
		goto out;
	if (jg_paths_mkdir_p(state_dir, 0700) != 0) {
		r = fail(&x, JG_ERR_IO, "%s: cannot create: %s", state_dir, strerror(errno));
		goto out;
	}
	if ((r = init_pair(&x, &ca, JG_CA_CERT, JG_CA_KEY)) != 0 ||
	    (r = init_pair(&x, &server, JG_SERVER_CERT, JG_SERVER_KEY)) != 0 ||
	    (r = init_pair(&x, &client, JG_CLIENT_CERT, JG_CLIENT_KEY)) != 0)
		goto out;
	if (ca.have_cert && server.have_cert && client.have_cert && ca.have_key &&
	    server.have_key && client.have_key && !file_expiring(server.cert) &&
	    !file_expiring(client.cert))
		goto out; /* the common case: nothing to renew, nothing to do */

	/* A new CA would leave existing certificates signed by one that is gone. */
	if (!ca.have_cert && !ca.have_key && (server.have_cert || client.have_cert)) {
		r = fail(&x, JG_ERR_STATE,
			 "%s and %s are missing but %s exists, signed by a CA that is gone: "
			 "restore the CA, or remove the certificates to have all generated",
			 ca.cert, ca.key, server.have_cert ? server.cert : client.cert);
		goto out;
	}

	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	/* Clipped to fit the CN limit; the name only helps a person tell CAs apart. */
	snprintf(cn, sizeof(cn), "jumpgate CA %.*s", CN_MAX - 12, hostname);
	s = (struct spec){.kind = KIND_CA, .cn = cn};
	if ((r = ensure_pair(&x, &ca, &s, &ca_key, &ca_cert)) != 0)
		goto out;

	s = (struct spec){.kind = KIND_SERVER,
			  .cn = "jumpgated",
			  .host = hostbuf[0] != '\0' ? hostbuf : NULL,
			  .issuer = ca_cert,
			  .issuer_key = ca_key};
	if ((r = ensure_pair(&x, &server, &s, NULL, NULL)) != 0)
		goto out;
	s = (struct spec){.kind = KIND_CLIENT,
			  .cn = client_user,
			  .user = client_user,
			  .issuer = ca_cert,
			  .issuer_key = ca_key};
	if ((r = ensure_pair(&x, &client, &s, NULL, NULL)) != 0)
		goto out;

	/* The renames are durable only once the directory itself is synced. */
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		(void)fsync(dfd);
out:
	if (dfd >= 0)
		close(dfd);
	if (generated != NULL)
		*generated = x.generated;
	EVP_PKEY_free(ca_key);
	X509_free(ca_cert);
	return r;
}

/* ---- for the CA commands (config/ca.c) ---------------------------------- */

int jg_certs_write(const char *path, unsigned mode, EVP_PKEY *key, X509 *cert,
		   STACK_OF(X509_CRL) * crls, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};

	return write_pem(&x, path, (mode_t)mode, key, cert, crls);
}

int jg_certs_check_name(const char *name, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};

	return check_user(&x, name);
}

int jg_certs_client(const char *name, int days, int dns, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
		    X509 **out, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};
	struct spec s = {.kind = KIND_CLIENT,
			 .cn = name,
			 .user = name,
			 .dns = dns,
			 .days = days,
			 .key = key,
			 .issuer = ca,
			 .issuer_key = ca_key};
	int r;

	if ((r = check_user(&x, name)) != 0)
		return r;
	return make_cert(&x, name, &s, out);
}

int jg_certs_new_key(EVP_PKEY **out, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};

	return new_key(&x, "new key", out);
}
