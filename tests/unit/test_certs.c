/* Tests for config/certs.c: the six files, their modes, that the leaf
 * certificates chain to the CA with the right names and purposes, and what
 * happens when only some of the files are there. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/certs.h"
#include "config/paths.h"
#include "relay/err.h"
#include "tests/unit/suites.h"

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int certs_init(void)
{
	strcpy(tmpdir, "/tmp/jgcerts-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int certs_clean(void)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh state directory path (not yet created) for one test. */
static void state_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s/state", tmpdir, name);
}

static void file_in(char *buf, size_t len, const char *dir, const char *name)
{
	CU_ASSERT_FATAL(jg_paths_join(buf, len, dir, name) == 0);
}

static X509 *load_cert(const char *dir, const char *name)
{
	char path[256];
	X509 *x = NULL;
	FILE *f;

	file_in(path, sizeof(path), dir, name);
	if ((f = fopen(path, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	CU_ASSERT_PTR_NOT_NULL(x);
	return x;
}

static EVP_PKEY *load_key(const char *dir, const char *name)
{
	char path[256];
	EVP_PKEY *k = NULL;
	FILE *f;

	file_in(path, sizeof(path), dir, name);
	if ((f = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	CU_ASSERT_PTR_NOT_NULL(k);
	return k;
}

static unsigned mode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	if (name != NULL)
		file_in(path, sizeof(path), dir, name);
	else
		snprintf(path, sizeof(path), "%s", dir);
	if (lstat(path, &st) != 0)
		return 0;
	return (unsigned)(st.st_mode & (S_IFMT | 07777));
}

/* 1 when CERT chains to CA for PURPOSE (X509_PURPOSE_SSL_SERVER/CLIENT). */
static int verifies(X509 *ca, X509 *cert, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	if (store != NULL && ctx != NULL && X509_STORE_add_cert(store, ca) == 1 &&
	    X509_STORE_CTX_init(ctx, store, cert, NULL) == 1 &&
	    X509_STORE_CTX_set_purpose(ctx, purpose) == 1) {
		ok = X509_verify_cert(ctx) == 1;
		if (!ok)
			fprintf(stderr, "\n  verify: %s\n",
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* 1 when CERT has a SAN URI equal to URI. */
static int has_uri(X509 *cert, const char *uri)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int found = 0;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI &&
		    strcmp((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
			   uri) == 0)
			found = 1;
	}
	GENERAL_NAMES_free(names);
	return found;
}

static int san_count(X509 *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int n = names != NULL ? sk_GENERAL_NAME_num(names) : -1;

	GENERAL_NAMES_free(names);
	return n;
}

static void check_cn(X509 *cert, const char *want)
{
	char cn[128] = "";

	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	CU_ASSERT_STRING_EQUAL(cn, want);
}

static int ensure(const char *dir, const char *host, int *generated, char *err, size_t len)
{
	int r = jg_certs_ensure(dir, host, "alice", generated, err, len);

	if (r != 0)
		fprintf(stderr, "\n  jg_certs_ensure: %s\n", err);
	return r;
}

static void test_generate(void)
{
	char dir[128], err[512];
	X509 *ca, *server, *client;
	EVP_PKEY *key;
	int gen = -1;

	state_path(dir, sizeof(dir), "gen");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, "gw.example.net", &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 6);

	CU_ASSERT_EQUAL(mode_of(dir, NULL), S_IFDIR | 0700);
	CU_ASSERT_EQUAL(mode_of(dir, JG_CA_CERT), S_IFREG | 0644);
	CU_ASSERT_EQUAL(mode_of(dir, JG_CA_KEY), S_IFREG | 0600);
	CU_ASSERT_EQUAL(mode_of(dir, JG_SERVER_CERT), S_IFREG | 0644);
	CU_ASSERT_EQUAL(mode_of(dir, JG_SERVER_KEY), S_IFREG | 0600);
	CU_ASSERT_EQUAL(mode_of(dir, JG_CLIENT_CERT), S_IFREG | 0644);
	CU_ASSERT_EQUAL(mode_of(dir, JG_CLIENT_KEY), S_IFREG | 0600);

	ca = load_cert(dir, JG_CA_CERT);
	server = load_cert(dir, JG_SERVER_CERT);
	client = load_cert(dir, JG_CLIENT_CERT);
	CU_ASSERT_FATAL(ca != NULL && server != NULL && client != NULL);

	CU_ASSERT_EQUAL(X509_check_ca(ca), 1);
	CU_ASSERT_EQUAL(X509_check_ca(server), 0);
	CU_ASSERT_EQUAL(X509_get_signature_nid(server), NID_ecdsa_with_SHA256);
	CU_ASSERT_PTR_NOT_NULL(X509_get0_subject_key_id(ca));
	CU_ASSERT_PTR_NOT_NULL(X509_get0_authority_key_id(server));
	CU_ASSERT_EQUAL(ASN1_STRING_length(X509_get0_serialNumber(server)), 16);
	CU_ASSERT_NOT_EQUAL(
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(server), X509_get0_serialNumber(client)), 0);

	/* Both leaves chain to the CA, each for its own purpose only. */
	CU_ASSERT(verifies(ca, server, X509_PURPOSE_SSL_SERVER));
	CU_ASSERT(verifies(ca, client, X509_PURPOSE_SSL_CLIENT));
	ERR_clear_error();

	check_cn(server, "jumpgated");
	CU_ASSERT_EQUAL(X509_check_ip_asc(server, "127.0.0.1", 0), 1);
	CU_ASSERT_EQUAL(X509_check_ip_asc(server, "::1", 0), 1);
	CU_ASSERT_EQUAL(X509_check_host(server, "localhost", 0, 0, NULL), 1);
	CU_ASSERT_EQUAL(X509_check_host(server, "gw.example.net", 0, 0, NULL), 1);
	CU_ASSERT_EQUAL(X509_check_host(server, "other.example.net", 0, 0, NULL), 0);
	CU_ASSERT_EQUAL(san_count(server), 4);

	check_cn(client, "alice");
	CU_ASSERT(has_uri(client, "jumpgate:user:alice"));

	/* Each certificate goes with the key next to it. */
	key = load_key(dir, JG_SERVER_KEY);
	CU_ASSERT_EQUAL(X509_check_private_key(server, key), 1);
	CU_ASSERT_EQUAL(EVP_PKEY_get_bits(key), 256);
	EVP_PKEY_free(key);
	key = load_key(dir, JG_CLIENT_KEY);
	CU_ASSERT_EQUAL(X509_check_private_key(client, key), 1);
	EVP_PKEY_free(key);

	/* Everything there: nothing is written. */
	gen = -1;
	CU_ASSERT_EQUAL(ensure(dir, "gw.example.net", &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 0);
	CU_ASSERT_EQUAL(ensure(dir, NULL, NULL, err, sizeof(err)), 0);

	X509_free(ca);
	X509_free(server);
	X509_free(client);
}

static void test_host_address(void)
{
	char dir[128], err[512];
	X509 *server;
	int gen = 0;

	/* An address goes in as IP; a loopback one is not repeated. */
	state_path(dir, sizeof(dir), "ip");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, "192.0.2.7", &gen, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(server = load_cert(dir, JG_SERVER_CERT));
	CU_ASSERT_EQUAL(X509_check_ip_asc(server, "192.0.2.7", 0), 1);
	CU_ASSERT_EQUAL(san_count(server), 4);
	X509_free(server);

	state_path(dir, sizeof(dir), "ip6");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, "[2001:db8::7]", &gen, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(server = load_cert(dir, JG_SERVER_CERT));
	CU_ASSERT_EQUAL(X509_check_ip_asc(server, "2001:db8::7", 0), 1);
	X509_free(server);

	state_path(dir, sizeof(dir), "lo");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, "127.0.0.1", &gen, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(server = load_cert(dir, JG_SERVER_CERT));
	CU_ASSERT_EQUAL(san_count(server), 3);
	X509_free(server);

	/* Nothing that could smuggle another name in. */
	state_path(dir, sizeof(dir), "bad");
	CU_ASSERT_EQUAL(jg_certs_ensure(dir, "a.example,DNS:evil", "alice", &gen, err, sizeof(err)),
			JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_certs_ensure(dir, NULL, "bob smith", &gen, err, sizeof(err)),
			JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_certs_ensure(dir, NULL, "", &gen, err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(gen, 0);
}

static void test_partial(void)
{
	char dir[128], path[256], err[512];
	X509 *ca, *ca2, *client, *server;
	int gen = 0;

	state_path(dir, sizeof(dir), "partial");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca = load_cert(dir, JG_CA_CERT));

	/* A missing client certificate is issued again by the same CA. */
	file_in(path, sizeof(path), dir, JG_CLIENT_CERT);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(client = load_cert(dir, JG_CLIENT_CERT));
	CU_ASSERT(verifies(ca, client, X509_PURPOSE_SSL_CLIENT));
	X509_free(client);

	/* A missing server pair is generated whole. */
	file_in(path, sizeof(path), dir, JG_SERVER_CERT);
	CU_ASSERT_EQUAL(unlink(path), 0);
	file_in(path, sizeof(path), dir, JG_SERVER_KEY);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(server = load_cert(dir, JG_SERVER_CERT));
	CU_ASSERT(verifies(ca, server, X509_PURPOSE_SSL_SERVER));

	/* ca.key alone: ca.pem is made again from it, and the old leaves
	 * still chain to it. */
	file_in(path, sizeof(path), dir, JG_CA_CERT);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca2 = load_cert(dir, JG_CA_CERT));
	CU_ASSERT(verifies(ca2, server, X509_PURPOSE_SSL_SERVER));
	ERR_clear_error();
	X509_free(ca2);
	X509_free(server);
	X509_free(ca);

	/* A certificate without its key is refused, and kept. */
	file_in(path, sizeof(path), dir, JG_SERVER_KEY);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(jg_certs_ensure(dir, NULL, "alice", &gen, err, sizeof(err)), JG_ERR_STATE);
	file_in(path, sizeof(path), dir, JG_SERVER_CERT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL(gen, 0);
}

static void test_lone_ca(void)
{
	char dir[128], ca_pem[256], ca_key[256], path[256], err[512];
	int gen = 0;

	state_path(dir, sizeof(dir), "lone");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	file_in(ca_pem, sizeof(ca_pem), dir, JG_CA_CERT);
	file_in(ca_key, sizeof(ca_key), dir, JG_CA_KEY);

	/* ca.pem without ca.key: clients trust it, so it is never replaced. */
	CU_ASSERT_EQUAL(unlink(ca_key), 0);
	file_in(path, sizeof(path), dir, JG_CLIENT_CERT);
	CU_ASSERT_EQUAL(unlink(path), 0);
	err[0] = '\0';
	CU_ASSERT_NOT_EQUAL(jg_certs_ensure(dir, NULL, "alice", &gen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gen, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ca_pem));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ca_key));
	CU_ASSERT_EQUAL(access(ca_pem, F_OK), 0);
	CU_ASSERT_NOT_EQUAL(access(ca_key, F_OK), 0);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);

	/* No CA at all but a server certificate from the old one: refused too. */
	CU_ASSERT_EQUAL(unlink(ca_pem), 0);
	CU_ASSERT_NOT_EQUAL(jg_certs_ensure(dir, NULL, "alice", &gen, err, sizeof(err)), 0);
	file_in(path, sizeof(path), dir, JG_SERVER_CERT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_NOT_EQUAL(access(ca_pem, F_OK), 0);

	/* A file that is not PEM names the file and OpenSSL's reason. */
	state_path(dir, sizeof(dir), "garbage");
	CU_ASSERT_EQUAL_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)), 0);
	file_in(path, sizeof(path), dir, JG_CLIENT_CERT);
	CU_ASSERT_EQUAL(unlink(path), 0);
	file_in(path, sizeof(path), dir, JG_CA_KEY);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("not a key\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(jg_certs_ensure(dir, NULL, "alice", &gen, err, sizeof(err)), JG_ERR_TLS);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "error:"));
}

/* Days from now to CERT's notAfter (negative: past). */
static int days_left(X509 *cert)
{
	int days = 0, secs = 0;

	CU_ASSERT_FATAL(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 1);
	return days;
}

/* Not ten years (issue 17): the CA 5, the server and client certificates one. */
static void test_lifetimes(void)
{
	char dir[128], err[512];
	int gen = 0;
	X509 *ca, *server, *client;

	state_path(dir, sizeof(dir), "lifetimes");
	CU_ASSERT_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)) == 0);
	ca = load_cert(dir, JG_CA_CERT);
	server = load_cert(dir, JG_SERVER_CERT);
	client = load_cert(dir, JG_CLIENT_CERT);
	CU_ASSERT(days_left(ca) >= 1825 && days_left(ca) <= 1826);
	CU_ASSERT(days_left(server) >= 364 && days_left(server) <= 365);
	CU_ASSERT(days_left(client) >= 364 && days_left(client) <= 365);
	X509_free(ca);
	X509_free(server);
	X509_free(client);
}

/* A generated leaf with JG_CERTS_RENEW_DAYS or fewer left is renewed with its own key,
 * by the CA; one with more is left alone. */
static void test_renew(void)
{
	char dir[128], err[512], path[256];
	int gen = 0;
	X509 *ca, *old = NULL, *now;
	EVP_PKEY *ca_key, *key;

	state_path(dir, sizeof(dir), "renew");
	CU_ASSERT_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)) == 0);
	ca = load_cert(dir, JG_CA_CERT);
	ca_key = load_key(dir, JG_CA_KEY);
	key = load_key(dir, JG_CLIENT_KEY);
	CU_ASSERT_FATAL(jg_certs_client("alice", 2, 0, key, ca, ca_key, &old, err, sizeof(err)) ==
			0);
	file_in(path, sizeof(path), dir, JG_CLIENT_CERT);
	CU_ASSERT_FATAL(jg_certs_write(path, 0644, NULL, old, NULL, err, sizeof(err)) == 0);
	CU_ASSERT(jg_certs_expiring(old, JG_CERTS_RENEW_DAYS));

	CU_ASSERT_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(gen, 1); /* client.pem only */
	now = load_cert(dir, JG_CLIENT_CERT);
	CU_ASSERT(days_left(now) >= 364);
	CU_ASSERT(X509_check_private_key(now, key) == 1);
	CU_ASSERT(verifies(ca, now, X509_PURPOSE_SSL_CLIENT));
	CU_ASSERT(has_uri(now, "jumpgate:user:alice"));
	CU_ASSERT_EQUAL(mode_of(dir, JG_CLIENT_CERT), S_IFREG | 0644);
	/* Nothing more to do the next time. */
	CU_ASSERT_FATAL(ensure(dir, NULL, &gen, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(gen, 0);
	X509_free(now);
	X509_free(old);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

int jg_test_register_certs(void)
{
	CU_pSuite s = CU_add_suite("certs", certs_init, certs_clean);

	if (s == NULL || CU_add_test(s, "generate all six", test_generate) == NULL ||
	    CU_add_test(s, "host as address", test_host_address) == NULL ||
	    CU_add_test(s, "partial state", test_partial) == NULL ||
	    CU_add_test(s, "lone CA certificate", test_lone_ca) == NULL ||
	    CU_add_test(s, "lifetimes: CA 5 years, leaves 1", test_lifetimes) == NULL ||
	    CU_add_test(s, "an expiring leaf is renewed", test_renew) == NULL)
		return -1;
	return 0;
}
