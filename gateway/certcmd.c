/* `jumpgated [-c FILE] cert issue|revoke|list|crl`: the gateway's CA from the
 * command line (config/ca.c does the work).  Runs as the gateway's user, on the
 * bastion, against the same configuration the daemon reads, so the files it
 * writes are the ones the daemon uses; nothing here talks to a running daemon
 * (it notices a new CRL by itself: gateway/certwatch.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/ca.h"
#include "config/certs.h"
#include "config/config.h"
#include "gateway/certcmd.h"
#include "relay/err.h"

static const char cert_usage[] =
    "usage: jumpgated [-c FILE] cert issue NAME [--days N] [--out DIR] [--ca-key FILE]\n"
    "       jumpgated [-c FILE] cert revoke NAME|SERIAL [--ca-key FILE]\n"
    "       jumpgated [-c FILE] cert list [--ca-key FILE]\n"
    "       jumpgated [-c FILE] cert crl [--ca-key FILE]\n"
    "  issue   a client certificate for NAME from the gateway's CA, valid N days\n"
    "          (default 30, at most 3650): DIR/NAME.pem, DIR/NAME.key, DIR/ca.pem\n"
    "          (DIR: the current directory)\n"
    "  revoke  every unexpired certificate issued to NAME, or the one with SERIAL,\n"
    "          into the CRL; the gateway reloads it within 2 seconds\n"
    "  list    the certificates issued, their expiry and state, and the CRL's\n"
    "  crl     renew the CRL now (every run of issue and revoke renews it when\n"
    "          10 days or fewer are left)\n";

static int usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "jumpgated cert: %s\n", why);
	fputs(cert_usage, stderr);
	return 2;
}

static const char *identity_of(const struct jg_config *cfg, const char *name, char *buf, size_t len)
{
	if (cfg->identity == JG_IDENTITY_SAN_URI)
		snprintf(buf, len, "jumpgate:user:%s", name);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

/* The generated CA (no tls in the file): made here when the gateway never ran yet,
 * the way its first start would. */
static int ensure_generated(const struct jg_config *cfg)
{
	char err[1024], own[256];
	int generated = 0;

	if (!cfg->generate_certs)
		return 0;
	if (jg_certs_ensure(cfg->state_dir, cfg->listen_host,
			    jg_config_own_identity(own, sizeof(own)), &generated, err,
			    sizeof(err)) != 0) {
		fprintf(stderr, "jumpgated cert: certificates in %s: %s\n", cfg->state_dir, err);
		return -1;
	}
	return 0;
}

int jg_certcmd_main(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"days", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'o'},
	    {"ca-key", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct jg_config *cfg = NULL;
	struct jg_ca_paths paths;
	struct jg_ca *ca = NULL;
	const char *verb, *out = ".", *cakey = NULL, *arg = NULL;
	char err[1024], serial[128], id[300], *end;
	long days = JG_CA_ISSUE_DAYS;
	int ch, rc = 1, n;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return argc < 2 ? usage("which command? issue, revoke, list or crl")
				: (fputs(cert_usage, stdout), 0);
	verb = argv[1];
	if (strcmp(verb, "issue") != 0 && strcmp(verb, "revoke") != 0 &&
	    strcmp(verb, "list") != 0 && strcmp(verb, "crl") != 0) {
		fprintf(stderr, "jumpgated cert: unknown command '%s'\n", verb);
		return usage(NULL);
	}
	/* From the verb on (ARGV[1] is argv[0] to getopt); optind 0 restarts GNU getopt,
	 * which main's "+" scan left in stop-at-operand mode. */
	argc--;
	argv++;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || days < 1 || days > 3650) {
				fprintf(
				    stderr,
				    "jumpgated cert: --days %s: a whole number of days, 1-3650\n",
				    optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			cakey = optarg;
			break;
		case 'h':
			fputs(cert_usage, stdout);
			return 0;
		default:
			return usage(NULL);
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "jumpgated cert %s: unexpected argument '%s'\n", verb,
			argv[optind]);
		return usage(NULL);
	}
	if ((strcmp(verb, "issue") == 0 || strcmp(verb, "revoke") == 0) && arg == NULL) {
		fprintf(stderr, "jumpgated cert %s: which %s?\n", verb,
			verb[0] == 'i' ? "NAME" : "NAME or SERIAL");
		return usage(NULL);
	}
	if ((strcmp(verb, "list") == 0 || strcmp(verb, "crl") == 0) && arg != NULL) {
		fprintf(stderr, "jumpgated cert %s: unexpected argument '%s'\n", verb, arg);
		return usage(NULL);
	}
	if ((config != NULL ? jg_config_load(config, &cfg, err, sizeof(err))
			    : jg_config_default(&cfg, err, sizeof(err))) != 0) {
		fprintf(stderr, "jumpgated cert: %s\n", err);
		return 1;
	}
	if (ensure_generated(cfg) != 0)
		goto out;
	if (jg_ca_paths(cfg, cakey, &paths, err, sizeof(err)) != 0 ||
	    jg_ca_open(&paths, &ca, err, sizeof(err)) != 0) {
		fprintf(stderr, "jumpgated cert %s: %s\n", verb, err);
		goto out;
	}
	/* With a configured CA the gateway checks only the CRL `crl` names. */
	if ((strcmp(verb, "revoke") == 0 || strcmp(verb, "crl") == 0) && !cfg->generate_certs &&
	    cfg->crl_file == NULL) {
		fprintf(stderr,
			"jumpgated cert %s: %s sets tls but no crl: add crl = \"%s\"; (the file "
			"need not exist yet) so that the gateway checks what this writes\n",
			verb, cfg->path != NULL ? cfg->path : "the configuration", paths.crl);
		goto out;
	}
	if (strcmp(verb, "issue") == 0) {
		if (jg_ca_issue(ca, arg, (int)days, cfg->identity == JG_IDENTITY_SAN_DNS, out,
				serial, sizeof(serial), err, sizeof(err)) != 0) {
			fprintf(stderr, "jumpgated cert issue %s: %s\n", arg, err);
			goto out;
		}
		printf("issued %s/%s.pem (key %s/%s.key, CA %s/ca.pem): serial %s, valid %ld "
		       "day(s)\n"
		       "identity \"%s\" (identity = \"%s\"); give the three files to its holder:\n"
		       "  jumpgate -g %s:%u --cert %s.pem --key %s.key --ca ca.pem exec TARGET -- "
		       "id\n",
		       out, arg, out, arg, out, serial, days, identity_of(cfg, arg, id, sizeof(id)),
		       cfg->identity == JG_IDENTITY_SAN_URI   ? "san-uri"
		       : cfg->identity == JG_IDENTITY_SAN_DNS ? "san-dns"
							      : "cn",
		       strcmp(cfg->listen_host, "0.0.0.0") == 0 ||
			       strcmp(cfg->listen_host, "::") == 0
			   ? "THIS-HOST"
			   : cfg->listen_host,
		       (unsigned)cfg->listen_port, arg, arg);
	} else if (strcmp(verb, "revoke") == 0) {
		if (jg_ca_revoke(ca, arg, &n, err, sizeof(err)) != 0) {
			fprintf(stderr, "jumpgated cert revoke %s: %s\n", arg, err);
			goto out;
		}
		printf("revoked %d certificate(s) of %s; CRL %s rewritten: the gateway checks new "
		       "connections against it within 2 seconds\n",
		       n, arg, paths.crl);
	} else if (strcmp(verb, "list") == 0) {
		if (jg_ca_list(ca, stdout, err, sizeof(err)) != 0) {
			fprintf(stderr, "jumpgated cert list: %s\n", err);
			goto out;
		}
	} else {
		if (jg_ca_crl_renew(ca, err, sizeof(err)) != 0) {
			fprintf(stderr, "jumpgated cert crl: %s\n", err);
			goto out;
		}
		printf("CRL %s renewed: valid %d days\n", paths.crl, JG_CA_CRL_DAYS);
	}
	rc = 0;
out:
	jg_ca_free(ca);
	jg_config_free(cfg);
	return rc;
}
