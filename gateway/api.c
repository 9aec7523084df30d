/* Request routing and the small read-only handlers: /healthz and /v1/stats. */
#include "config.h" /* _GNU_SOURCE: memrchr */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth/audit.h"
#include "auth/policy.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/agentfwd.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/sites.h"
#include "relay/log.h"
#include "relay/pct.h"

#define TARGETS_PREFIX "/v1/targets/"

char *jg_api_stats_json(const struct jg_gateway *gw)
{
	const struct jg_stats *st = &gw->stats;
	json_t *root, *links, *sites;
	char *text;

	links = json_array();
	jg_agentlink_stats(gw, links);
	sites = json_array();
	jg_sites_stats(gw, sites);
	root = json_pack(
		"{s:I, s:s, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:{s:I, s:I, s:I}}, s:{s:I, s:I},"
		" s:I, s:o, s:s, s:o}",
		"uptime_s", (json_int_t)(time(NULL) - gw->started), "state",
		gw->draining ? "draining" : "serving", "connections", "current",
		(json_int_t)st->conns_current, "total", (json_int_t)st->conns_total, "streams",
		"current", (json_int_t)st->streams_current, "total", (json_int_t)st->streams_total,
		"operations", "exec", "current", (json_int_t)st->exec_current, "total",
		(json_int_t)st->exec_total, "failed", (json_int_t)st->exec_failed, "bytes",
		"from_clients", (json_int_t)st->bytes_from_clients, "to_clients",
		(json_int_t)st->bytes_to_clients, "tls_failures", (json_int_t)st->tls_failures,
		"agent_links", links, "gateway_name", gw->cfg->gateway_name, "sites", sites);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

struct jg_audit *jg_gate_audit(struct jg_gateway *gw)
{
	char err[300];

	if (gw->audit != NULL)
		return gw->audit;
	gw->audit = jg_audit_new(gw->cfg->audit_path, err, sizeof(err));
	if (gw->audit == NULL) {
		jg_log_error("%s: auditing to stderr instead", err);
		gw->audit = jg_audit_new(NULL, err, sizeof(err));
	}
	return gw->audit;
}

/* Does TARGET's first element name another site ("site-c/web1")? */
static int names_site(struct jg_gateway *gw, const char *target)
{
	struct jg_sitelink *link;
	char site[256], why[200];
	size_t n = strcspn(target, "/");
	int direct;

	if (target[n] != '/' || n >= sizeof(site))
		return 0;
	memcpy(site, target, n);
	site[n] = '\0';
	return jg_routes_lookup(gw, site, &link, &direct, why, sizeof(why)) >= 0;
}

int jg_gate_check_detail(struct jg_gateway *gw, struct jg_stream *s, const char *action,
			 const char *target, const char *key, char *const *argv, size_t argc,
			 const char *path, unsigned port, const struct jg_gate_detail *detail,
			 struct jg_audit_op **op, char *reason, size_t len)
{
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = jg_stream_via(s),
	    .action = action,
	    .target = target,
	    .key = key,
	    .argv0 = argv != NULL && argc > 0 ? argv[0] : NULL,
	    .path = path,
	    .setid = detail != NULL ? detail->setid : 0,
	    .port = port,
	    .agent = jg_stream_agent(s, NULL),
	};
	struct jg_audit *a = jg_gate_audit(gw);
	struct jg_audit_op *o;
	const char *become[JG_CHAIN_MAX_HOPS];
	struct jg_chain *chain = NULL;
	int allowed;

	/* The accounts the chain becomes, for rules with `become`: the target was resolved
	 * by the caller already, so this cannot fail for another reason than memory. */
	if (target != NULL && jg_target_resolve(gw->cfg, target, &chain, reason, len) == 0)
		req.nbecome = jg_chain_become(chain, become, JG_CHAIN_MAX_HOPS);
	/* Rules match where the chain really goes as well as its name.  Only for a chain the
	 * caller resolved here (KEY given): a forwarded "site/target" means the far
	 * gateway's inventory, which judges it by its own canonical form. */
	if (chain != NULL && key != NULL && !names_site(gw, target))
		req.canon = chain->canon;
	if (detail != NULL && detail->canon != NULL)
		req.canon = detail->canon;
	req.become = become;
	allowed = jg_policy_check(gw->cfg, &req, reason, len);

	/* Out of memory for the record: the operation is refused rather than unaudited. */
	jg_stream_set_audited(s);
	o = jg_audit_begin(a, req.identity, jg_stream_peer(s), action,
			   key != NULL ? key : target != NULL ? target : "");
	if (o == NULL || (argv != NULL && jg_audit_set_argv(o, argv, argc) != 0) ||
	    (path != NULL && jg_audit_set_path(o, path) != 0) ||
	    (detail != NULL && detail->root != NULL && (o->root = strdup(detail->root)) == NULL)) {
		jg_audit_op_free(o);
		jg_chain_free(chain);
		snprintf(reason, len, "out of memory for the audit record");
		*op = NULL;
		return 0;
	}
	/* As typed, as resolved, and where that really goes. */
	snprintf(o->typed, sizeof(o->typed), "%s", target != NULL ? target : "");
	if (chain != NULL)
		snprintf(o->dest, sizeof(o->dest), "%s", chain->display);
	if (detail != NULL && detail->host != NULL)
		snprintf(o->host, sizeof(o->host), "%s", detail->host);
	jg_chain_free(chain);
	o->port = port;
	o->agent = req.agent == JG_POLICY_AGENT_TARGET	  ? "target"
		   : req.agent == JG_POLICY_AGENT_GATEWAY ? "gateway"
							  : NULL;
	jg_audit_start(a, o);
	if (!allowed) {
		jg_log_info("%s on %s by %s refused: %s", action, target != NULL ? target : "gateway",
			    req.identity, reason);
		jg_audit_end(a, o, "denied", reason);
		o = NULL;
	} else if (req.agent != JG_POLICY_AGENT_NONE) {
		jg_agentfwd_admit(s);
	}
	*op = o;
	return allowed;
}

int jg_gate_check(struct jg_gateway *gw, struct jg_stream *s, const char *action,
		  const char *target, const char *key, char *const *argv, size_t argc,
		  const char *path, unsigned port, struct jg_audit_op **op, char *reason,
		  size_t len)
{
	return jg_gate_check_detail(gw, s, action, target, key, argv, argc, path, port, NULL, op,
				    reason, len);
}

/* The action and the target (percent-decoded, as typed) a request PATH asks for, as far
 * as it can be told; "" for what names neither. */
static const char *refused_action(const char *method, const char *path, char *target, size_t tlen)
{
	size_t plen = strcspn(path, "?"), pl = strlen(TARGETS_PREFIX);

	target[0] = '\0';
	if (plen > pl && strncmp(path, TARGETS_PREFIX, pl) == 0) {
		const char *enc = path + pl, *act = memchr(enc, '/', plen - pl);
		size_t elen = act != NULL ? (size_t)(act - enc) : plen - pl;

		if (elen >= tlen || jg_pct_decode(enc, elen, target) != 0)
			snprintf(target, tlen, "%.*s", (int)(elen < tlen ? elen : tlen - 1), enc);
		if (act == NULL)
			return "";
		act++;
		if (strncmp(act, "files", 5) == 0)
			return strcmp(method, "GET") == 0 ? "get" : "put";
		if (strncmp(act, "exec", 4) == 0)
			return "exec";
		if (strncmp(act, "tunnel", 6) == 0)
			return "tunnel";
		if (strncmp(act, "reset", 5) == 0)
			return "reset";
		return "";
	}
	if (strncmp(path, "/v1/files/", 10) == 0)
		return "put";
	if (strncmp(path, "/v1/", 4) == 0)
		return "admin";
	return "";
}

void jg_gate_refused(struct jg_gateway *gw, struct jg_stream *s, const char *method,
		     const char *path, int status, const char *reason)
{
	struct jg_audit *a = jg_gate_audit(gw);
	char target[256], why[64];
	const char *action;
	struct jg_audit_op *o;

	if (strncmp(path, "/healthz", 8) == 0) /* liveness, not an operation */
		return;
	action = refused_action(method, path, target, sizeof(target));
	if ((o = jg_audit_begin(a, jg_stream_identity(s), jg_stream_peer(s), action, target)) ==
		NULL ||
	    (o->request = malloc(strlen(method) + strlen(path) + 2)) == NULL) {
		jg_log_error("audit: the refusal of %s %s by %s: out of memory", method, path,
			     jg_stream_identity(s));
		jg_audit_op_free(o);
		return;
	}
	sprintf(o->request, "%s %s", method, path);
	o->status = status;
	snprintf(why, sizeof(why), "answered %d", status);
	jg_audit_start(a, o);
	jg_audit_end(a, o, "refused", reason != NULL ? reason : why);
}

void jg_gate_end(struct jg_gateway *gw, struct jg_audit_op *op, const char *outcome,
		 const char *reason)
{
	if (op != NULL)
		jg_audit_end(jg_gate_audit(gw), op, outcome, reason);
}

/* Admin endpoints (/v1/stats, GET /v1/targets) on the gateway itself: the policy's
 * "admin" action; audited like any operation.  1 when allowed (and ended as "ok"). */
static int admin_allowed(struct jg_gateway *gw, struct jg_stream *s, const char *what)
{
	struct jg_audit_op *op;
	char reason[400];

	if (!jg_gate_check(gw, s, "admin", NULL, NULL, NULL, 0, what, 0, &op, reason,
			   sizeof(reason))) {
		jg_stream_reply_error(s, 403, "forbidden", reason);
		return 0;
	}
	jg_gate_end(gw, op, "ok", reason);
	return 1;
}

/* Would the admin action be allowed?  Asked without an audit record: the caller decides
 * what to serve (a listing of one's own targets instead of a 403). */
static int admin_quiet(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = jg_stream_via(s),
	    .action = "admin",
	};
	char why[300];

	return jg_policy_check(gw->cfg, &req, why, sizeof(why));
}

/* The audit record of a non-admin listing (GET /v1/targets of one's own targets): action
 * "list", always ok.  1, or 0 with a 500 answered (refused rather than unaudited). */
static int listing_audited(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_audit *a = jg_gate_audit(gw);
	struct jg_audit_op *o;

	jg_stream_set_audited(s);
	if ((o = jg_audit_begin(a, jg_stream_identity(s), jg_stream_peer(s), "list", "")) == NULL) {
		jg_stream_reply_error(s, 500, "internal error",
				      "out of memory for the audit record");
		return 0;
	}
	jg_audit_start(a, o);
	jg_audit_end(a, o, "ok", "the targets this identity may act on");
	return 1;
}

static void reply_text(struct jg_stream *s, int status, const char *type, const char *text)
{
	jg_stream_reply(s, status, type, text, strlen(text));
}

/* POST /v1/targets/{t}/reset: close the onward connection now; operations on it end with
 * the reason, the next operation opens a fresh one. */
static void reset_target(struct jg_gateway *gw, struct jg_stream *s, const char *target)
{
	struct jg_chain *chain = NULL;
	struct jg_audit_op *op;
	char why[400];
	json_t *o;
	char *text;
	int found;

	if (jg_target_resolve(gw->cfg, target, &chain, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad target", why);
		return;
	}
	if (!jg_gate_check(gw, s, "reset", target, chain->key, NULL, 0, NULL, 0, &op, why,
			   sizeof(why))) {
		jg_stream_reply_error(s, 403, "forbidden", why);
		jg_chain_free(chain);
		return;
	}
	jg_gate_end(gw, op, "ok", "");
	snprintf(why, sizeof(why), "reset by %s", jg_stream_identity(s));
	found = jg_agentlink_reset(gw, chain->key, why);
	o = json_pack("{s:s, s:b}", "target", chain->key, "reset", found);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL)
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
	else
		reply_text(s, 200, "application/json", text);
	free(text);
	json_decref(o);
	jg_chain_free(chain);
}

/* A target at another site (gateway/sites.h): forwarded whole, ACTION (ALEN bytes, the
 * path's rest after it up to the end of the string) as it is.  NULL and *HANDLED 0 when
 * TARGET is not at another site, or the action is not one that travels. */
static struct jg_op *route_remote(struct jg_gateway *gw, struct jg_stream *s, const char *method,
				  const char *protocol, const char *target, const char *action,
				  size_t alen, int has_tail, int *handled)
{
	const char *what = NULL;
	char *fpath = NULL;
	struct jg_op *op;

	*handled = 0;
	if (alen == 5 && strncmp(action, "files", 5) == 0 && has_tail) {
		const char *p = action + 5;
		size_t plen = strcspn(p, "?");

		what = strcmp(method, "PUT") == 0 ? "put" : strcmp(method, "GET") == 0 ? "get" : NULL;
		if (what != NULL &&
		    ((fpath = malloc(plen + 1)) == NULL || jg_pct_decode(p, plen, fpath) != 0)) {
			free(fpath);
			*handled = 1;
			jg_stream_reply_error(s, 400, "bad path", "the file path is badly encoded");
			return NULL;
		}
	} else if (has_tail) {
		return NULL;
	} else if (alen == 6 && strncmp(action, "tunnel", 6) == 0) {
		what = strcmp(method, "CONNECT") == 0 && protocol[0] != '\0' ? "tunnel" : NULL;
	} else if (alen == 4 && strncmp(action, "exec", 4) == 0) {
		what = strcmp(method, "POST") == 0 ? "exec" : NULL;
	} else if (alen == 5 && strncmp(action, "reset", 5) == 0) {
		what = strcmp(method, "POST") == 0 ? "reset" : NULL;
	}
	if (what == NULL)
		return NULL;
	op = jg_forward_target(gw, s, method, protocol, what, target, action, fpath, handled);
	free(fpath);
	return op;
}

/* /v1/targets/{target}/{action}[/{path}]: the target is percent-encoded (it may hold '/',
 * ':' and '@' as %2F, %3A, %40), so the first '/' ends it; a file path follows "files". */
static struct jg_op *route_target(struct jg_gateway *gw, struct jg_stream *s, const char *method,
				  const char *rest, size_t len, const char *protocol,
				  const char *query)
{
	const char *slash = memchr(rest, '/', len), *action, *tail;
	size_t enclen, alen;
	char target[256], *path;
	struct jg_op *op;
	int handled;

	if (slash == NULL) {
		jg_stream_reply_error(s, 404, "not found",
				      "no action after the target (exec, reset, tunnel, files)");
		return NULL;
	}
	enclen = (size_t)(slash - rest);
	action = slash + 1;
	tail = memchr(action, '/', len - enclen - 1);
	alen = tail ? (size_t)(tail - action) : len - enclen - 1;
	if (enclen == 0 || enclen >= sizeof(target) || jg_pct_decode(rest, enclen, target) != 0) {
		jg_stream_reply_error(s, 400, "bad target",
				      "the target in the path is empty, too long or badly encoded");
		return NULL;
	}
	/* This gateway's own name in front is just a prefix: "site-a/web1" here is web1. */
	{
		size_t gl = strlen(gw->cfg->gateway_name);

		if (strncmp(target, gw->cfg->gateway_name, gl) == 0 && target[gl] == '/')
			memmove(target, target + gl + 1, strlen(target + gl + 1) + 1);
	}
	if ((op = route_remote(gw, s, method, protocol, target, action, alen, tail != NULL, &handled)) !=
		    NULL ||
	    handled)
		return op;
	if (alen == 5 && strncmp(action, "files", 5) == 0 && tail != NULL) {
		/* The path keeps its leading '/': /v1/targets/web1/files/etc/motd -> /etc/motd. */
		size_t plen = len - (size_t)(tail - rest);

		if ((path = malloc(plen + 1)) == NULL || jg_pct_decode(tail, plen, path) != 0) {
			free(path);
			jg_stream_reply_error(s, 400, "bad path", "the file path is badly encoded");
			return NULL;
		}
		op = jg_files_start(gw, s, method, target, path, query);
		free(path);
		return op;
	}
	if (tail != NULL) {
		jg_stream_reply_error(s, 404, "not found", "unexpected path after the action");
		return NULL;
	}
	if (alen == 6 && strncmp(action, "tunnel", 6) == 0) {
		if (strcmp(method, "CONNECT") != 0 || protocol[0] == '\0') {
			jg_stream_reply_error(s, 405, "method not allowed",
					      "tunnels are extended CONNECT requests (RFC 8441)");
			return NULL;
		}
		return jg_tunnel_start(gw, s, target, protocol, query);
	}
	if (strcmp(method, "POST") != 0) {
		jg_stream_reply_error(s, 405, "method not allowed", "exec and reset take POST");
		return NULL;
	}
	if (alen == 4 && strncmp(action, "exec", 4) == 0)
		return jg_exec_start(gw, s, target);
	if (alen == 5 && strncmp(action, "reset", 5) == 0) {
		reset_target(gw, s, target);
		return NULL;
	}
	jg_stream_reply_error(s, 404, "not found",
			      "unknown target action (known: exec, reset, tunnel, files)");
	return NULL;
}

struct jg_op *jg_api_route(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			   const char *path, const char *content_type, const char *protocol)
{
	size_t plen = strcspn(path, "?");
	const char *query = path[plen] == '?' ? path + plen + 1 : "";

	if (plen == 8 && strncmp(path, "/healthz", 8) == 0) {
		if (gw->draining)
			reply_text(s, 503, "application/json", "{\"status\":\"draining\"}\n");
		else
			reply_text(s, 200, "application/json", "{\"status\":\"ok\"}\n");
		return NULL;
	}
	if (plen == 9 && strncmp(path, "/v1/stats", 9) == 0) {
		char *text;

		if (!admin_allowed(gw, s, "/v1/stats"))
			return NULL;
		if ((text = jg_api_stats_json(gw)) == NULL) {
			jg_stream_reply_error(s, 500, "internal error", "cannot render statistics");
			return NULL;
		}
		reply_text(s, 200, "application/json", text);
		free(text);
		return NULL;
	}
	if (plen == 9 && strncmp(path, "/v1/agent", 9) == 0) {
		/* A controller's ssh-agent, for the request that names it (agentfwd.h). */
		if (strcmp(method, "POST") != 0) {
			jg_stream_reply_error(s, 405, "method not allowed",
					      "agent streams take POST");
			return NULL;
		}
		return jg_agentfwd_start(gw, s);
	}
	if (plen == 8 && strncmp(path, "/metrics", 8) == 0) {
		/* The same text as the plain listener (metrics_listen), here behind mutual TLS
		 * and the policy's admin action, as /v1/stats is. */
		struct evbuffer *b;
		size_t n;

		if (!admin_allowed(gw, s, "/metrics"))
			return NULL;
		if ((b = evbuffer_new()) == NULL || jg_metrics_render(gw, b) != 0 ||
		    (n = evbuffer_get_length(b)) == 0) {
			jg_stream_reply_error(s, 500, "internal error",
					      "cannot render the metrics");
		} else {
			jg_stream_reply(s, 200, JG_METRICS_CONTENT_TYPE,
					(const char *)evbuffer_pullup(b, -1), n);
		}
		if (b != NULL)
			evbuffer_free(b);
		return NULL;
	}
	if (plen == 10 && strncmp(path, "/v1/routes", 10) == 0) {
		char *text;

		if (!admin_allowed(gw, s, "/v1/routes"))
			return NULL;
		if ((text = jg_routes_json(gw)) == NULL) {
			jg_stream_reply_error(s, 500, "internal error", "cannot render the routes");
			return NULL;
		}
		reply_text(s, 200, "application/json", text);
		free(text);
		return NULL;
	}
	if (plen == 17 && strncmp(path, "/v1/routes/stream", 17) == 0) {
		/* A gateway linked to us subscribes to what we reach (docs/protocol.md). */
		if (strcmp(method, "GET") != 0) {
			jg_stream_reply_error(s, 405, "method not allowed", "the route stream takes GET");
			return NULL;
		}
		return admin_allowed(gw, s, "/v1/routes/stream") ? jg_routes_serve(gw, s) : NULL;
	}
	if (plen == 10 && strncmp(path, "/v1/whoami", 10) == 0) {
		jg_whoami_reply(gw, s);
		return NULL;
	}
	if (plen == 11 && strncmp(path, "/v1/targets", 11) == 0 && strcmp(method, "GET") == 0) {
		struct jg_op *op = NULL;
		int handled = 0;

		/* Without admin, the inventory is what the caller may act on (audited). */
		if (query[0] == '\0' && !admin_quiet(gw, s)) {
			if (listing_audited(gw, s))
				jg_targets_list_mine(gw, s);
			return NULL;
		}
		if (!admin_allowed(gw, s, "/v1/targets"))
			return NULL;
		/* "site-c/web*": listed by site-c (gateway/sites.h). */
		if ((op = jg_forward_match(gw, s, query, &handled)) == NULL && !handled)
			jg_targets_list(gw, s, query);
		return op;
	}
	if (plen > strlen(TARGETS_PREFIX) && strncmp(path, TARGETS_PREFIX, strlen(TARGETS_PREFIX)) == 0)
		return route_target(gw, s, method, path + strlen(TARGETS_PREFIX),
				    plen - strlen(TARGETS_PREFIX), protocol, query);
	/* /v1/copy/ (a relayed copy between targets) has a path of its own so that a gateway
	 * without it answers 404 instead of writing the empty request body. */
	if ((plen > 10 && strncmp(path, "/v1/files/", 10) == 0) ||
	    (plen > 9 && strncmp(path, "/v1/copy/", 9) == 0)) {
		size_t pre = path[4] == 'f' ? 9 : 8; /* keep the path's leading '/' */
		char *fpath = malloc(plen - pre + 1);
		struct jg_op *op = NULL;

		if (strcmp(method, "PUT") != 0)
			jg_stream_reply_error(s, 405, "method not allowed",
					      pre == 9 ? "fan-out uploads take PUT"
						       : "copies take PUT");
		else if (fpath == NULL || jg_pct_decode(path + pre, plen - pre, fpath) != 0)
			jg_stream_reply_error(s, 400, "bad path", "the file path is badly encoded");
		else
			op = jg_fanout_start(gw, s, fpath, query, pre == 8);
		free(fpath);
		return op;
	}
	jg_stream_reply_error(s, 404, "not found", "no such endpoint (see docs/api.md)");
	return NULL;
}
