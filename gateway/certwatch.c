/* The running gateway's certificates over time: a revocation takes effect
 * without a signal, and neither an expiring CRL nor an expiring generated
 * certificate locks anyone out silently.
 *
 * Every 2 s the CRL file (`crl`, else state_dir/crl.pem) is stat'ed; a new
 * inode, size or mtime rebuilds the TLS context (new connections are checked
 * against the new list; established ones were checked at their handshake).
 * Every hour, at start and on SIGHUP, jg_certwatch_check renews what the
 * gateway made itself (the generated CA's CRL and its server and client
 * certificates, gateway/../config/certs.c) and warns about a CRL it cannot
 * renew (a configured CA: its key is not the gateway's to use). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config/ca.h"
#include "config/certs.h"
#include "config/config.h"
#include "config/paths.h"
#include "gateway/certcmd.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "relay/log.h"

#define WATCH_SECONDS 2
#define CHECK_EVERY (3600 / WATCH_SECONDS) /* ticks between jg_certwatch_check runs */
/* A CRL that nobody here renews is warned about this many days before it ends. */
#define WARN_DAYS 7

struct jg_certwatch {
	struct jg_gateway *gw;
	struct event *timer;
	struct stat seen; /* of the CRL file when the TLS context was built */
	int have_seen;
	unsigned ticks;
};

static void crl_stat(const struct jg_config *cfg, struct stat *st, int *have)
{
	char buf[4096];
	const char *path = jg_ca_crl_file(cfg, buf, sizeof(buf));

	*have = path != NULL && stat(path, st) == 0;
}

static int same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The generated CA: renew its CRL (when there is one) and its leaves. */
static int renew_own(const struct jg_config *cfg, const char *when)
{
	struct jg_ca_paths p;
	struct jg_ca *ca = NULL;
	char err[1024], own[256];
	int generated = 0, renewed = 0;

	if (jg_certs_ensure(cfg->state_dir, cfg->listen_host,
			    jg_config_own_identity(own, sizeof(own)), &generated, err,
			    sizeof(err)) != 0)
		jg_log_error("%s: certificates in %s: %s", when, cfg->state_dir, err);
	else if (generated > 0)
		jg_log_info("%s: renewed %d certificate file(s) in %s", when, generated,
			    cfg->state_dir);
	if (jg_ca_paths(cfg, NULL, &p, err, sizeof(err)) != 0 ||
	    jg_ca_open(&p, &ca, err, sizeof(err)) != 0 ||
	    jg_ca_crl_refresh(ca, &renewed, err, sizeof(err)) != 0)
		jg_log_error("%s: cannot renew the CRL: %s", when, err);
	else if (renewed)
		jg_log_info("%s: renewed the CRL %s (valid %d days)", when, p.crl, JG_CA_CRL_DAYS);
	jg_ca_free(ca);
	return generated > 0 || renewed;
}

int jg_certwatch_check(const struct jg_config *cfg, const char *when)
{
	char buf[4096], err[512], at[64];
	const char *crl;
	time_t next, now = time(NULL);
	int rewritten = 0;

	if (cfg->generate_certs)
		rewritten = renew_own(cfg, when);
	if ((crl = jg_ca_crl_file(cfg, buf, sizeof(buf))) == NULL)
		return rewritten;
	if (jg_ca_crl_next_update(crl, &next, err, sizeof(err)) != 0 || next == 0)
		return rewritten; /* unreadable: jg_edge_tls_server_ctx says why */
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M UTC", gmtime(&next));
	if (next <= now)
		jg_log_error("%s: the CRL %s expired at %s: EVERY client certificate is refused "
			     "until it is renewed; renew it where the CA key is (`jumpgated -c "
			     "CONFIG cert crl`, or `openssl ca -gencrl`), or remove `crl` from the "
			     "configuration",
			     when, crl, at);
	else if (next - now <= (time_t)WARN_DAYS * 86400)
		jg_log_warn(
		    "%s: the CRL %s expires at %s (in %lld hour(s)): then every client "
		    "certificate is refused; renew it before (`jumpgated -c CONFIG cert crl` "
		    "where the CA key is)",
		    when, crl, at, (long long)((next - now) / 3600));
	return rewritten;
}

/* A new TLS context from the running configuration; the old one lives on in the
 * connections that hold it (OpenSSL counts references). */
static void rebuild(struct jg_certwatch *w, const char *why)
{
	struct jg_gateway *gw = w->gw;
	SSL_CTX *ctx = NULL;
	char err[1024];

	if (jg_edge_tls_server_ctx(gw->cfg, &ctx, err, sizeof(err)) != 0) {
		jg_log_error("%s: %s; new connections keep the previous certificates and CRL", why,
			     err);
		return;
	}
	SSL_CTX_free(gw->ssl_ctx);
	gw->ssl_ctx = ctx;
	jg_log_info("%s: new connections are checked against it", why);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jg_certwatch *w = arg;
	struct stat st;
	int have;

	(void)fd;
	(void)what;
	if (w->gw->draining)
		return;
	if (++w->ticks % CHECK_EVERY == 0 && jg_certwatch_check(w->gw->cfg, "hourly check"))
		w->have_seen = -1; /* something was rewritten: rebuild below */
	crl_stat(w->gw->cfg, &st, &have);
	if (w->have_seen == -1 || have != w->have_seen || (have && !same(&st, &w->seen))) {
		char why[4200], buf[4096];
		const char *crl = jg_ca_crl_file(w->gw->cfg, buf, sizeof(buf));

		snprintf(why, sizeof(why), "CRL %s %s", crl != NULL ? crl : "(none)",
			 have ? "changed" : "removed");
		w->seen = st;
		w->have_seen = have;
		rebuild(w, why);
	}
}

int jg_certwatch_start(struct jg_gateway *gw)
{
	struct jg_certwatch *w = calloc(1, sizeof(*w));
	struct timeval tv = {.tv_sec = WATCH_SECONDS, .tv_usec = 0};

	if (w == NULL)
		return -1;
	w->gw = gw;
	crl_stat(gw->cfg, &w->seen, &w->have_seen);
	if ((w->timer = event_new(gw->base, -1, EV_PERSIST, on_tick, w)) == NULL ||
	    event_add(w->timer, &tv) != 0) {
		if (w->timer != NULL)
			event_free(w->timer);
		free(w);
		return -1;
	}
	gw->certwatch = w;
	return 0;
}

/* After a SIGHUP rebuilt the context itself: what it read is what we have seen. */
void jg_certwatch_reset(struct jg_gateway *gw)
{
	struct jg_certwatch *w = gw->certwatch;

	if (w != NULL)
		crl_stat(gw->cfg, &w->seen, &w->have_seen);
}

void jg_certwatch_stop(struct jg_gateway *gw)
{
	struct jg_certwatch *w = gw->certwatch;

	if (w == NULL)
		return;
	event_free(w->timer);
	free(w);
	gw->certwatch = NULL;
}
