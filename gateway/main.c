/* jumpgated: parse the command line and configuration, make sure the
 * certificates exist, listen, run the event loop, drain on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "config.h"
#include "config/certs.h"
#include "config/check.h"
#include "config/config.h"
#include "config/paths.h"
#include "auth/audit.h"
#include "auth/policy.h"
#include "gateway/edge/accept.h"
#include "gateway/certcmd.h"
#include "gateway/admission/admit.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "gateway/onward/agentlink.h"
#include "gateway/metrics.h"
#include "gateway/sdnotify.h"
#include "gateway/onward/setupq.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/heap.h"
#include "relay/log.h"
#include "relay/reaper.h"

static const char usage_text[] =
    "NAME\n"
    "    jumpgated - the jumpgate connection-delegation gateway daemon\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgated [-c FILE] [-f] [-v] [-h] [--version]\n"
    "    jumpgated -t [-c FILE]\n"
    "    jumpgated [-c FILE] cert issue NAME [--days N] [--out DIR] [--ca-key FILE]\n"
    "    jumpgated [-c FILE] cert revoke NAME|SERIAL | list | crl [--ca-key FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    jumpgated runs on a bastion host.  Controllers (jumpgate, Ansible, CI jobs,\n"
    "    scripts) connect to it over TLS 1.3 with HTTP/2 and a client certificate;\n"
    "    it runs their operations on targets through jumpgate-agent.\n"
    "\n"
    "    Without -c it uses the built-in default: listen on 127.0.0.1:4443, keep\n"
    "    state in $JUMPGATE_HOME (else /var/lib/jumpgate for root, else\n"
    "    ~/.local/state/jumpgate), where a CA, a server certificate and a client\n"
    "    certificate for the local user are generated on first start, and serve\n"
    "    the `local` target (the bastion itself).\n"
    "\n"
    "    With metrics_listen set it also serves GET /metrics (Prometheus) and\n"
    "    GET /healthz over plain HTTP there, with no authentication.\n"
    "\n"
    "OPTIONS\n"
    "    -c, --config FILE   read FILE (libconfig syntax; see jumpgated.conf(5))\n"
    "    -f, --foreground    stay in the foreground (default: detach once listening)\n"
    "    -v, --verbose       log debug lines (the configured log_level otherwise)\n"
    "    -t, --test          check the configuration and every file it names\n"
    "                        (certificates, keys, CRL, agents, audit log), print\n"
    "                        each problem as FILE:LINE: what, and exit: 0 when\n"
    "                        all is well, 1 otherwise; nothing is started\n"
    "    -h, --help          show this text\n"
    "        --version       show the version\n"
    "\n"
    "CERTIFICATES\n"
    "    cert issue NAME     a client certificate from the gateway's CA (tls.ca, its\n"
    "                        key beside it as .key), valid --days N (default 30):\n"
    "                        DIR/NAME.pem, NAME.key, ca.pem (--out DIR, default .)\n"
    "    cert revoke WHAT    every unexpired certificate issued to NAME, or SERIAL,\n"
    "                        into the CRL (crl, else STATE/crl.pem with the\n"
    "                        generated CA), which the running gateway reloads\n"
    "                        within 2 s\n"
    "    cert list           issued certificates, expiry, state; the CRL's expiry\n"
    "    cert crl            renew the CRL now (issue and revoke renew it when 10\n"
    "                        days or fewer are left; the gateway renews its\n"
    "                        generated CA's CRL itself, hourly)\n"
    "\n"
    "SIGNALS\n"
    "    SIGTERM, SIGINT     stop accepting, send GOAWAY, let streams finish for\n"
    "                        drain_timeout seconds (default 10), then exit\n"
    "    SIGHUP              read the -c file again and swap it in, or keep the\n"
    "                        running one when it is bad; reopen the audit log;\n"
    "                        reload the certificates and the CRL.  The replaced\n"
    "                        configuration is freed once no site link uses it, so\n"
    "                        reloads do not add up in memory\n"
    "\n"
    "ENVIRONMENT\n"
    "    JUMPGATE_HOME       state directory (certificates)\n"
    "    JOURNAL_STREAM      set by systemd: when stderr is the journal, each log\n"
    "                        line starts with its syslog priority (<3> error,\n"
    "                        <4> warn, <6> info, <7> debug)\n"
    "    LOGS_DIRECTORY      set by systemd (LogsDirectory=): the default audit\n"
    "                        log is its audit.log\n"
    "    JUMPGATE_AGENT      path of jumpgate-agent (else agent_path, else next to\n"
    "                        jumpgated, else " JG_LIBEXECDIR "/jumpgate-agent)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 after a clean shutdown; 1 when the configuration, the certificates, the\n"
    "    audit log or the listening socket are unusable (the reason is logged); 2 on\n"
    "    bad usage.  With -t: 0 when the configuration is usable, else 1.\n"
    "\n"
    "FILES\n"
    "    STATE/ca.pem, ca.key, server.pem, server.key, client.pem, client.key\n"
    "    /var/log/jumpgate/audit.log\n"
    "                        the audit log when `audit` is not set: under the\n"
    "                        unit ($LOGS_DIRECTORY) or with the state directory\n"
    "                        /var/lib/jumpgate; else STATE/audit.log\n"
    "    STATE/crl.pem, STATE/issued/SERIAL.pem (jumpgated cert)\n";

struct options {
	const char *config;
	int foreground;
	int verbose;
	int test;      /* -t: check the configuration and exit */
	int cert_argc; /* `cert ...`: the CA commands instead of the daemon */
	char **cert_argv;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"test", no_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	/* '+': stop at the first operand, so `cert issue NAME --days 7` keeps its options. */
	while ((ch = getopt_long(argc, argv, "+c:fvht", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 't':
			o->test = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("jumpgated %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			fprintf(stderr, "try 'jumpgated --help'\n");
			return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind], "cert") == 0) {
		o->cert_argc = argc - optind;
		o->cert_argv = argv + optind;
		return 0;
	}
	if (optind != argc) {
		fprintf(stderr, "jumpgated: unexpected argument '%s'\ntry 'jumpgated --help'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* The agent binary: configuration, environment, beside us, then the install path. */
static int find_agent(const struct jg_config *cfg, char *buf, size_t len)
{
	char self[PATH_MAX];
	const char *env = getenv("JUMPGATE_AGENT");
	ssize_t n;

	if (cfg->agent_path != NULL) {
		snprintf(buf, len, "%s", cfg->agent_path);
		return access(buf, X_OK);
	}
	if (env != NULL && env[0] != '\0') {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, len, "%s/jumpgate-agent", dirname(self));
		if (access(buf, X_OK) == 0)
			return 0;
	}
	snprintf(buf, len, "%s/jumpgate-agent", JG_LIBEXECDIR);
	return access(buf, X_OK);
}

/* The name in the generated client certificate: the account running jumpgated. */
static const char *local_user(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *u = pw != NULL ? pw->pw_name : getenv("USER");

	if (u == NULL || u[0] == '\0') {
		snprintf(buf, len, "uid%ld", (long)geteuid());
		return buf;
	}
	snprintf(buf, len, "%s", u);
	return buf;
}

static void on_exit_now(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

/* Time is up: every operation still running ends with a reason (its agent
 * channels die, so each stream gets a DEAD frame or an error status), then the
 * loop runs a little longer so those last frames reach the clients. */
static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct jg_gateway *gw = arg;
	struct timeval grace = {.tv_sec = 0, .tv_usec = 500000};

	jg_log_warn("drain time is up: ending the operations of %llu connection(s)",
		    (unsigned long long)gw->stats.conns_current);
	jg_onward_shutdown_all(gw, "the gateway is shutting down (drain time is up)");
	jg_sd_status("drain time is up: ending the remaining operations");
	if (event_base_once(gw->base, -1, EV_TIMEOUT, on_exit_now, gw->base, &grace) != 0)
		event_base_loopexit(gw->base, NULL);
}

/* A bufferevent's deferred callback holds a reference to it until it runs, and
 * deferred callbacks run only inside the loop: a connection freed in the loop's
 * last turn (a peer's EOF queued as SIGTERM came, seen under a descriptor flood)
 * kept its bufferevent, SSL and buffers past event_base_free, which runs only
 * finalizers.  A few turns that wait for nothing let them go; the callbacks
 * themselves were cleared by bufferevent_free. */
static void settle_deferred(struct event_base *base)
{
	for (int i = 0; i < 4; i++)
		if (event_base_loop(base, EVLOOP_NONBLOCK) < 0)
			break;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct jg_gateway *gw = arg;
	uint32_t ms = gw->cfg->drain_timeout_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (gw->draining) {
		jg_log_info("second %s: exiting now", sig == SIGINT ? "SIGINT" : "SIGTERM");
		event_base_loopexit(gw->base, NULL);
		return;
	}
	gw->draining = 1;
	jg_sd_stopping();
	jg_sd_status("draining %llu connection(s) for up to %u ms",
		     (unsigned long long)gw->stats.conns_current, ms);
	jg_log_info("%s: draining %llu connection(s) for up to %u ms",
		    sig == SIGINT ? "SIGINT" : "SIGTERM",
		    (unsigned long long)gw->stats.conns_current, ms);
	/* Stop listening at once: new connections are refused, not left hanging. */
	jg_accept_guard_free(gw->tls_guard);
	gw->tls_guard = NULL;
	if (gw->listener != NULL) {
		evconnlistener_free(gw->listener);
		gw->listener = NULL;
	}
	jg_unix_stop(gw);
	jg_sites_drain(gw);
	gw->drain_timer = evtimer_new(gw->base, on_drain_timeout, gw);
	if (gw->drain_timer != NULL)
		evtimer_add(gw->drain_timer, &tv);
	jg_h2conn_drain_all(gw);
	if (gw->conns == NULL)
		event_base_loopexit(gw->base, NULL);
}

/* What SIGHUP needs besides the gateway.  gw->cfg is the gateway's reference to the
 * current configuration (config.h: jg_config_ref); whatever keeps a pointer into a
 * configuration past one event -- a site link's entry (sitelink.h), the agent builds'
 * paths (main) -- holds its own, so a replaced one is freed once the last goes.
 * Operations copy what they keep (a resolved chain is deep-copied) and read the
 * current gw->cfg when they look something up. */
struct reload {
	struct jg_gateway *gw;
	const char *path; /* -c, or NULL: the built-in default, nothing to reload */
	int verbose;	  /* -v wins over log_level */
};

/* What a reload cannot change in a running gateway, said once so nobody expects it. */
static void warn_line(void *ud, const char *msg)
{
	(void)ud;
	jg_log_warn("%s", msg);
}

/* A policy that does not do what it looks like is said at start and at each reload. */
static void policy_lint(const struct jg_config *cfg)
{
	char own[256];

	jg_policy_lint(cfg, jg_config_own_identity(own, sizeof(own)), warn_line, NULL);
}

static void reload_warn_fixed(const struct jg_config *old, const struct jg_config *new)
{
	int same_unix;

	if (strcmp(old->listen_host, new->listen_host) != 0 || old->listen_port != new->listen_port)
		jg_log_warn("reload: listen changed to %s:%u; it applies at the next start only",
			    new->listen_host, (unsigned)new->listen_port);
	same_unix = (old->unix_socket == NULL && new->unix_socket == NULL) ||
		    (old->unix_socket != NULL &&
		     new->unix_socket != NULL &&strcmp(old->unix_socket, new->unix_socket) == 0);
	if (!same_unix)
		jg_log_warn("reload: unix_socket changed; it applies at the next start only");
	if ((old->metrics_host == NULL) != (new->metrics_host == NULL) ||
	    (old->metrics_host != NULL && (strcmp(old->metrics_host, new->metrics_host) != 0 ||
					   old->metrics_port != new->metrics_port)))
		jg_log_warn("reload: metrics_listen changed; it applies at the next start only");
}

/* SIGHUP: read the file again and swap it in whole, or keep the running one.
 * New operations use the new configuration; streams in flight keep what they
 * copied when admitted (their resolved chain); the old one is freed once its
 * last holder lets go (struct reload).  The
 * TLS context is rebuilt from the new ca/cert/key files (renewed certificates
 * take effect for new connections; established ones keep their SSL_CTX, which
 * OpenSSL reference-counts). */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct reload *rl = arg;
	struct jg_gateway *gw = rl->gw;
	const struct jg_config *old;
	struct jg_config *cfg = NULL;
	SSL_CTX *ctx = NULL;
	char err[1024];

	if (rl->path == NULL) {
		jg_log_info("SIGHUP: running on the built-in default configuration (no -c): "
			    "certificates and CRL re-read");
		jg_certwatch_check(gw->cfg, "SIGHUP");
		if (jg_edge_tls_server_ctx(gw->cfg, &ctx, err, sizeof(err)) != 0) {
			jg_log_error("SIGHUP: %s; keeping the running certificates", err);
			goto reopen;
		}
		SSL_CTX_free(gw->ssl_ctx);
		gw->ssl_ctx = ctx;
		jg_certwatch_reset(gw);
		goto reopen;
	}
	if (jg_config_load(rl->path, &cfg, err, sizeof(err)) != 0) {
		jg_log_error("SIGHUP: %s; keeping the running configuration", err);
		goto reopen;
	}
	/* Every peer knows us by our name (paths, loop refusal): renaming a running gateway
	 * would leave their tables wrong. */
	if (strcmp(cfg->gateway_name, gw->cfg->gateway_name) != 0) {
		jg_log_error("SIGHUP: %s: gateway_name changed from \"%s\" to \"%s\": a gateway is "
			     "renamed by a restart only (its peers know it by name); keeping the "
			     "running configuration",
			     rl->path, gw->cfg->gateway_name, cfg->gateway_name);
		goto fail;
	}
	jg_certwatch_check(cfg, "SIGHUP");
	if (jg_edge_tls_server_ctx(cfg, &ctx, err, sizeof(err)) != 0) {
		jg_log_error("SIGHUP: %s: %s; keeping the running configuration", rl->path, err);
		goto fail;
	}
	reload_warn_fixed(gw->cfg, cfg);
	policy_lint(cfg);
	old = gw->cfg;
	gw->cfg = cfg; /* the reference jg_config_load gave us */
	SSL_CTX_free(gw->ssl_ctx);
	gw->ssl_ctx = ctx;
	jg_certwatch_reset(gw);
	/* Links follow the new sites (added, removed, changed); trust and policy follow
	 * gw->cfg by themselves. */
	jg_sites_reload(gw);
	/* Freed here unless a site link still holds it (its reconfiguration failed). */
	jg_config_unref(old);
	if (!rl->verbose)
		jg_log_set_level((enum jg_log_level)cfg->log_level);
	jg_log_info("SIGHUP: reloaded %s (%zu target(s)); new operations use it", rl->path,
		    cfg->ntargets);
	goto reopen;
fail:
	SSL_CTX_free(ctx);
	jg_config_free(cfg);
reopen:
	/* The audit file: the running configuration's `audit`, reopened (logrotate moved it
	 * away) or, when a reload changed it, the new path -- opened before the old one is
	 * closed.  A new path that cannot be opened is logged and the current one reopened,
	 * so logrotate still works.  Not opened yet: jg_admit_audit opens gw->cfg's on first
	 * use. */
	if (gw->audit != NULL && jg_audit_reopen_at(gw->audit, gw->cfg->audit_path) != 0)
		jg_audit_reopen(gw->audit);
}

/* Give agents a bounded time to exit after their links closed. */
static void reap_agents(struct jg_gateway *gw)
{
	for (int i = 0; i < 300 && jg_reaper_count(gw->reaper) > 0; i++) {
		jg_reaper_poll(gw->reaper);
		usleep(10000);
	}
}

/* The agents this gateway can send to targets: its own (gw->agent_path) and any
 * configured for other architectures; then the stub that asks for them. */
static void load_agents(struct jg_gateway *gw)
{
	const struct jg_config *cfg = gw->cfg;
	char err[512];

	gw->builds = calloc(cfg->nagent_paths + 1, sizeof(*gw->builds));
	if (gw->builds == NULL)
		return;
	for (size_t i = 0; i <= cfg->nagent_paths; i++) {
		const char *path = i == 0 ? gw->agent_path : cfg->agent_paths[i - 1];
		struct jg_agent_build *b = &gw->builds[gw->nbuilds];

		if (jg_agent_build_load(path, b, err, sizeof(err)) != 0) {
			jg_log_warn("agent %s unusable for targets: %s", path, err);
			continue;
		}
		jg_log_debug("agent for %s: %s (%llu bytes, sha256 %.16s...)", b->arch, path,
			     (unsigned long long)b->size, b->sha256);
		gw->nbuilds++;
	}
	if (gw->nbuilds > 0)
		gw->boot_stub = jg_bootstrap_stub(gw->builds, gw->nbuilds);
	else
		jg_log_warn("no agent binary: targets reached over ssh cannot be bootstrapped");
}

static int prepare_certs(const struct jg_config *cfg)
{
	char err[512], ubuf[32];
	int generated = 0;

	if (!cfg->generate_certs)
		return 0;
	if (jg_certs_ensure(cfg->state_dir, cfg->listen_host, local_user(ubuf, sizeof(ubuf)),
			    &generated, err, sizeof(err)) != 0) {
		jg_log_error("certificates in %s: %s", cfg->state_dir, err);
		return -1;
	}
	if (generated > 0)
		jg_log_info("generated %d certificate file(s) in %s", generated, cfg->state_dir);
	return 0;
}

static void print_problem(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "jumpgated: %s\n", msg);
}

/* -t: the file parsed already (its errors name file:line); now what it points at, and
 * the TLS files read the way a start reads them (a key that does not match its
 * certificate, a CRL that does not parse).  0 when the gateway would start with it. */
static int test_config(const struct options *o, const struct jg_config *cfg)
{
	const char *name = o->config != NULL ? o->config : "the built-in configuration";
	char agent[PATH_MAX], err[1024];
	SSL_CTX *ctx = NULL;
	int n;

	find_agent(cfg, agent, sizeof(agent));
	n = jg_config_check_files(cfg, agent, print_problem, NULL);
	/* Generated certificates may not exist yet; given ones must load. */
	if (n == 0 && !cfg->generate_certs &&
	    jg_edge_tls_server_ctx(cfg, &ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "jumpgated: %s%s%s\n", o->config != NULL ? o->config : "",
			o->config != NULL ? ": tls: " : "", err);
		n++;
	}
	SSL_CTX_free(ctx);
	if (n > 0) {
		fprintf(stderr,
			"jumpgated: %s: %d problem(s); the gateway would not start with it\n", name,
			n);
		return 1;
	}
	printf("jumpgated: %s: configuration OK (%zu target(s), audit %s)\n", name, cfg->ntargets,
	       cfg->audit_path != NULL ? cfg->audit_path : "stderr");
	return 0;
}

/* The audit log, opened before serving: a path it cannot write refuses the start, as a
 * bad configuration does, rather than the first operation finding out.  The default
 * under the state directory (a user's own gateway) makes that directory first. */
static int open_audit(struct jg_gateway *gw)
{
	const struct jg_config *cfg = gw->cfg;
	size_t sl = cfg->state_dir != NULL ? strlen(cfg->state_dir) : 0;
	char err[300];

	if (cfg->audit_path != NULL && sl > 0 &&
	    strncmp(cfg->audit_path, cfg->state_dir, sl) == 0 && cfg->audit_path[sl] == '/' &&
	    strchr(cfg->audit_path + sl + 1, '/') == NULL)
		(void)jg_paths_mkdir_p(cfg->state_dir, 0700);
	gw->audit = jg_audit_new(cfg->audit_path, err, sizeof(err));
	if (gw->audit == NULL) {
		jg_log_error("%s: refusing to start (set `audit` to a file this user can write, or "
			     "to \"stderr\")",
			     err);
		return -1;
	}
	return 0;
}

/* The TLS listener: the socket systemd passed (jumpgated.socket), else bind `listen`. */
/* Every controller connection, agent link and spawned onward connection costs
 * descriptors, and the soft limit is often 1024 while the hard one is far higher:
 * take the hard limit (children get child_nofile, relay/spawn.c).  The result is what
 * max_handshakes defaults from. */
static uint64_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			jg_log_warn("cannot raise the descriptor limit from %llu to %llu: %s",
				    (unsigned long long)was, (unsigned long long)rl.rlim_max,
				    strerror(errno));
			rl.rlim_cur = was;
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
}

static int socket_activated;

static int listen_tls(struct jg_gateway *gw, char *err, size_t errlen)
{
	int fd = jg_sd_listen_fd();

	socket_activated = fd >= 0;
	return fd >= 0 ? jg_edge_tls_listen_fd(gw, fd, err, errlen)
		       : jg_edge_tls_listen(gw, err, errlen);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct jg_config *cfg = NULL;
	const struct jg_config *agents_cfg = NULL; /* gw.builds borrow its agent_paths */
	struct jg_gateway gw;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	struct reload rl;
	char err[1024];
	int rc = 1, r;

	jg_log_init("jumpgated", JG_LOG_INFO);
	jg_sd_init(); /* systemd: NOTIFY_SOCKET, WATCHDOG_*, LISTEN_* out of the environment */
	if (parse_args(argc, argv, &opt) != 0)
		return 2;
	if (opt.cert_argc > 0)
		return jg_certcmd_main(opt.config, opt.cert_argc, opt.cert_argv);
	signal(SIGPIPE, SIG_IGN);
	/* Bulk streams allocate and free megabyte buffers all the time (relay/heap.h): keep
	 * up to 16 MiB of free heap while busy; gateway/memtrim.c returns it when idle. */
	jg_heap_tune(16 << 20, 2 << 20);
	memset(&gw, 0, sizeof(gw));
	memset(&rl, 0, sizeof(rl));
	r = opt.config ? jg_config_load(opt.config, &cfg, err, sizeof(err))
		       : jg_config_default(&cfg, err, sizeof(err));
	if (r != 0) {
		jg_log_error("%s", err);
		return 1;
	}
	jg_log_set_level(opt.verbose ? JG_LOG_DEBUG : (enum jg_log_level)cfg->log_level);
	if (opt.test) {
		policy_lint(cfg);
		r = test_config(&opt, cfg);
		jg_config_free(cfg);
		return r;
	}
	gw.cfg = cfg;
	gw.admission = &jg_admit_cbs;
	gw.started = time(NULL);
	gw.nofile = raise_nofile();
	rl.gw = &gw;
	rl.path = opt.config;
	rl.verbose = opt.verbose;
	policy_lint(cfg);
	if (prepare_certs(cfg) != 0 || open_audit(&gw) != 0)
		goto out;
	if ((gw.metrics = jg_metrics_new()) == NULL) {
		jg_log_error("out of memory");
		goto out;
	}
	gw.metrics->count_onward = jg_onward_count;
	jg_audit_set_observer(gw.audit, jg_metrics_audit_end, gw.metrics);
	if (find_agent(cfg, gw.agent_path, sizeof(gw.agent_path)) != 0)
		jg_log_warn("agent %s is not executable (%s): exec will fail until it is",
			    gw.agent_path, strerror(errno));
	agents_cfg = jg_config_ref(cfg);
	load_agents(&gw);
	jg_certwatch_check(cfg, "start");
	if (jg_edge_tls_server_ctx(cfg, &gw.ssl_ctx, err, sizeof(err)) != 0) {
		jg_log_error("%s", err);
		goto out;
	}
	gw.base = event_base_new();
	if (gw.base == NULL || (gw.reaper = jg_reaper_new(gw.base)) == NULL) {
		jg_log_error("cannot create the event loop");
		goto out;
	}
	if (listen_tls(&gw, err, sizeof(err)) != 0 || jg_unix_listen(&gw, err, sizeof(err)) != 0 ||
	    jg_metrics_listen(&gw, err, sizeof(err)) != 0) {
		jg_log_error("%s", err);
		goto out;
	}
	ev_term = evsignal_new(gw.base, SIGTERM, on_stop_signal, &gw);
	ev_int = evsignal_new(gw.base, SIGINT, on_stop_signal, &gw);
	ev_hup = evsignal_new(gw.base, SIGHUP, on_hup, &rl);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL) || evsignal_add(ev_hup, NULL)) {
		jg_log_error("cannot install signal handlers");
		goto out;
	}
	if (jg_certwatch_start(&gw) != 0) {
		jg_log_error("cannot watch the CRL: out of memory");
		goto out;
	}
	if (jg_sites_start(&gw, err, sizeof(err)) != 0) {
		jg_log_error("%s", err);
		goto out;
	}
	jg_log_info("listening on %s:%u as site %s (state %s, agent %s)", cfg->listen_host,
		    (unsigned)cfg->listen_port, cfg->gateway_name,
		    cfg->state_dir ? cfg->state_dir : "-", gw.agent_path);
	jg_log_info("descriptor limit %llu, at most %zu TLS handshakes at once",
		    (unsigned long long)gw.nofile, jg_h2conn_handshake_limit(&gw));
	if (gw.unix_path != NULL)
		jg_log_info("listening on unix socket %s (h2c)", gw.unix_path);
	/* Detach only once listening, so start-up errors reach the caller's terminal and
	 * exit status.  stderr stays open: it is the log. */
	if (!opt.foreground && daemon(0, 1) != 0) {
		jg_log_error("cannot detach: %s", strerror(errno));
		goto out;
	}
	if (!opt.foreground && event_reinit(gw.base) != 0) {
		jg_log_error("cannot reinitialise the event loop after detaching");
		goto out;
	}
	/* systemd (Type=notify): serving now; keep-alive pings from the loop. */
	jg_sd_watchdog_start(gw.base);
	if (socket_activated)
		jg_sd_status("serving (socket activation, state %s)",
			     cfg->state_dir ? cfg->state_dir : "-");
	else
		jg_sd_status("serving (%s:%u, state %s)", cfg->listen_host,
			     (unsigned)cfg->listen_port, cfg->state_dir ? cfg->state_dir : "-");
	jg_sd_ready();
	event_base_dispatch(gw.base);
	jg_h2conn_close_all(&gw);
	jg_sites_free(&gw);
	jg_onward_shutdown_all(&gw, "the gateway is shutting down");
	reap_agents(&gw);
	settle_deferred(gw.base);
	jg_log_info("stopped");
	rc = 0;
out:
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (gw.drain_timer)
		event_free(gw.drain_timer);
	jg_accept_guard_free(gw.tls_guard);
	if (gw.listener)
		evconnlistener_free(gw.listener);
	jg_sites_free(&gw); /* a failed start: the loop never ran */
	jg_setupq_free(&gw);
	jg_unix_close(&gw);
	jg_metrics_close(&gw);
	jg_sd_watchdog_stop();
	jg_certwatch_stop(&gw);
	if (gw.reaper)
		jg_reaper_free(gw.reaper);
	if (gw.base)
		event_base_free(gw.base);
	SSL_CTX_free(gw.ssl_ctx);
	jg_audit_free(gw.audit); /* opened by open_audit before serving */
	jg_metrics_free(gw.metrics);
	free(gw.builds);
	free(gw.boot_stub);
	jg_config_unref(agents_cfg);
	jg_config_unref(gw.cfg); /* the current one; the site links released theirs */
	return rc;
}
