/* Request routing and the small read-only handlers: /healthz and /v1/stats. */
#include "config.h" /* _GNU_SOURCE: memrchr */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth/audit.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/admission/admit.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/admission/api.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "gateway/onward/agentlink.h"
#include "gateway/metrics.h"
#include "gateway/sites/sites.h"
#include "relay/log.h"
#include "relay/pct.h"

#define TARGETS_PREFIX "/v1/targets/"

char *jg_api_stats_json(const struct jg_gateway *gw)
{
	const struct jg_stats *st = &gw->stats;
	json_t *root, *links, *sites;
	char *text;

	links = json_array();
	jg_onward_stats(gw, links);
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

void jg_api_refused(struct jg_gateway *gw, struct jg_stream *s, const char *method,
		    const char *path, int status, const char *reason)
{
	struct jg_audit *a = jg_admit_audit(gw);
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

/* Admin endpoints (/v1/stats, GET /v1/targets) on the gateway itself: the policy's
 * "admin" action; audited like any operation.  1 when allowed (and ended as "ok"). */
static int admin_allowed(struct jg_gateway *gw, struct jg_stream *s, const char *what)
{
	struct jg_admit_ask ask = {.path = what};
	struct jg_admit *adm = jg_admit_new(gw, s, "admin", NULL, 0);

	if (adm == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return 0;
	}
	if (!jg_admit_decide(adm, s, &ask)) {
		jg_stream_reply_error(s, 403, "forbidden", adm->reason);
		jg_admit_close(adm, "failed", "");
		return 0;
	}
	jg_admit_close(adm, "ok", adm->reason);
	return 1;
}

/* The audit record of a non-admin listing (GET /v1/targets of one's own targets): action
 * "list", always ok.  1, or 0 with a 500 answered (refused rather than unaudited). */
static int listing_audited(struct jg_gateway *gw, struct jg_stream *s)
{
	if (jg_admit_note(gw, s, "list", "ok", "the targets this identity may act on") != 0) {
		jg_stream_reply_error(s, 500, "internal error",
				      "out of memory for the audit record");
		return 0;
	}
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
	struct jg_admit *adm = jg_admit_new(gw, s, "reset", target, 0);
	const struct jg_chain *chain;
	char why[400];
	json_t *o;
	char *text;
	int found;

	if (adm == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return;
	}
	if ((chain = adm->chain) == NULL) {
		jg_stream_reply_error(s, 400, "bad target", adm->resolve_why);
		jg_admit_close(adm, "failed", "");
		return;
	}
	if (!jg_admit_decide(adm, s, NULL)) {
		jg_stream_reply_error(s, 403, "forbidden", adm->reason);
		jg_admit_close(adm, "failed", "");
		return;
	}
	jg_admit_end(adm, "ok", "");
	snprintf(why, sizeof(why), "reset by %s", jg_stream_identity(s));
	found = jg_onward_reset(gw, chain->key, why);
	o = json_pack("{s:s, s:b}", "target", chain->key, "reset", found);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL)
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
	else
		reply_text(s, 200, "application/json", text);
	free(text);
	json_decref(o);
	jg_admit_close(adm, "ok", "");
}

/* A target at another site (gateway/sites/sites.h): forwarded whole, ACTION (ALEN bytes, the
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

		what = strcmp(method, "PUT") == 0   ? "put"
		       : strcmp(method, "GET") == 0 ? "get"
						    : NULL;
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
	struct jg_admit *adm;
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
	if ((op = route_remote(gw, s, method, protocol, target, action, alen, tail != NULL,
			       &handled)) != NULL ||
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
		adm = jg_admit_new(gw, s, strcmp(method, "GET") == 0 ? "get" : "put", target, 0);
		if (adm == NULL) {
			free(path);
			jg_stream_reply_error(s, 500, "internal error", "out of memory");
			return NULL;
		}
		op = jg_files_start(gw, s, method, adm, path, query);
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
		if ((adm = jg_admit_new(gw, s, "tunnel", target, 0)) == NULL) {
			jg_stream_reply_error(s, 500, "internal error", "out of memory");
			return NULL;
		}
		return jg_tunnel_op_start(gw, s, adm, protocol, query);
	}
	if (strcmp(method, "POST") != 0) {
		jg_stream_reply_error(s, 405, "method not allowed", "exec and reset take POST");
		return NULL;
	}
	if (alen == 4 && strncmp(action, "exec", 4) == 0) {
		if ((adm = jg_admit_new(gw, s, "exec", target, 0)) == NULL) {
			jg_stream_reply_error(s, 500, "internal error", "out of memory");
			return NULL;
		}
		return jg_exec_op_start(gw, s, adm);
	}
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
			jg_stream_reply_error(s, 405, "method not allowed",
					      "the route stream takes GET");
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
		if (query[0] == '\0' && !jg_admit_may(gw, s, "admin")) {
			if (listing_audited(gw, s))
				jg_targets_list_mine(gw, s);
			return NULL;
		}
		if (!admin_allowed(gw, s, "/v1/targets"))
			return NULL;
		/* "site-c/web*": listed by site-c (gateway/sites/sites.h). */
		if ((op = jg_forward_match(gw, s, query, &handled)) == NULL && !handled)
			jg_targets_list(gw, s, query);
		return op;
	}
	if (plen > strlen(TARGETS_PREFIX) &&
	    strncmp(path, TARGETS_PREFIX, strlen(TARGETS_PREFIX)) == 0)
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
