/* Admission: resolve once, decide, audit.  See admit.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/audit.h"
#include "auth/policy.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/admission/admit.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/opspec.h"

struct jg_audit *jg_admit_audit(struct jg_gateway *gw)
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

/* The path rules the agent must judge what it opens by (auth/policy.h), into SPEC.
 * 0, or -1 when out of memory. */
static int path_rules(struct jg_admit *adm, struct jg_stream *s, struct jg_file_spec *spec)
{
	const struct jg_chain *chain = adm->chain;
	const char *become[JG_CHAIN_MAX_HOPS];
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .action = adm->action,
	    .target = adm->typed,
	    .key = chain != NULL ? chain->key : NULL,
	    .become = become,
	    .nbecome = chain != NULL ? jg_chain_become(chain, become, JG_CHAIN_MAX_HOPS) : 0,
	};
	struct evbuffer *b = evbuffer_new();
	size_t n;
	int r;

	if (b == NULL || (r = jg_policy_path_rules(adm->gw->cfg, &req, b)) < 0) {
		r = -1;
		goto out;
	}
	if (r == 1) {
		n = evbuffer_get_length(b);
		if ((spec->rules = malloc(n)) == NULL) {
			r = -1;
			goto out;
		}
		evbuffer_remove(b, spec->rules, n);
		spec->rules_len = n;
	}
	r = 0;
out:
	if (b != NULL)
		evbuffer_free(b);
	return r;
}

static struct jg_admit *admit_new(struct jg_gateway *gw, struct jg_stream *s, const char *action,
				  const char *target, int flags)
{
	struct jg_admit *adm = calloc(1, sizeof(*adm));

	(void)s;
	if (adm == NULL || (target != NULL && (adm->typed = strdup(target)) == NULL)) {
		free(adm);
		return NULL;
	}
	adm->gw = gw;
	adm->remote = (flags & JG_ADMIT_REMOTE) != 0;
	snprintf(adm->action, sizeof(adm->action), "%s", action);
	if (target != NULL)
		adm->resolve_err = jg_target_resolve(gw->cfg, target, &adm->chain, adm->resolve_why,
						     sizeof(adm->resolve_why));
	return adm;
}

static int admit_unresolved(const struct jg_admit *adm, struct jg_stream *s, const char *what)
{
	if (adm->chain != NULL)
		return 0;
	jg_log_info("%s by %s refused: %s", what, jg_stream_identity(s), adm->resolve_why);
	jg_stream_reply_error(s, adm->resolve_err == JG_ERR_NOMEM ? 500 : 400, "bad target",
			      adm->resolve_why);
	return 1;
}

static int admit_agent(struct jg_admit *adm, struct jg_stream *s, char *why, size_t len)
{
	if (adm->chain == NULL)
		return 0;
	return jg_agentfwd_apply(adm->gw, s, adm->chain, why, len);
}

/* The record for S's request ADM with ASK, begun and started; NULL when out of memory. */
static struct jg_audit_op *record_open(struct jg_admit *adm, struct jg_stream *s,
				       const struct jg_admit_ask *ask, int agent)
{
	struct jg_audit *a = jg_admit_audit(adm->gw);
	const char *typed = adm->typed != NULL ? adm->typed : "";
	const char *key = adm->chain != NULL && !adm->remote ? adm->chain->key : NULL;
	struct jg_audit_op *o;

	/* From here the stream has its record: no refusal record at its close (h2session.c). */
	jg_stream_set_audited(s);
	o = jg_audit_begin(a, jg_stream_identity(s), jg_stream_peer(s), adm->action,
			   key != NULL ? key : typed);
	if (o == NULL || (ask->argv != NULL && jg_audit_set_argv(o, ask->argv, ask->argc) != 0) ||
	    (ask->path != NULL && jg_audit_set_path(o, ask->path) != 0) ||
	    (ask->root != NULL && (o->root = strdup(ask->root)) == NULL)) {
		jg_audit_op_free(o);
		return NULL;
	}
	/* As typed, as resolved, and where that really goes. */
	snprintf(o->typed, sizeof(o->typed), "%s", typed);
	if (adm->chain != NULL)
		snprintf(o->dest, sizeof(o->dest), "%s", adm->chain->display);
	if (ask->host != NULL)
		snprintf(o->host, sizeof(o->host), "%s", ask->host);
	o->port = ask->port;
	o->agent = agent == JG_POLICY_AGENT_TARGET    ? "target"
		   : agent == JG_POLICY_AGENT_GATEWAY ? "gateway"
						      : NULL;
	jg_audit_start(a, o);
	return o;
}

/* Deny ADM (audited with ASK, logged); 0. */
static int denied(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask,
		  int agent)
{
	struct jg_audit_op *o = record_open(adm, s, ask, agent);

	jg_log_info("%s on %s by %s refused: %s", adm->action,
		    adm->typed != NULL ? adm->typed : "gateway", jg_stream_identity(s),
		    adm->reason);
	if (o != NULL)
		jg_audit_end(jg_admit_audit(adm->gw), o, "denied", adm->reason);
	return 0;
}

static void admit_deny(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask,
		       const char *reason)
{
	static const struct jg_admit_ask none;

	snprintf(adm->reason, sizeof(adm->reason), "%s", reason);
	(void)denied(adm, s, ask != NULL ? ask : &none, jg_stream_agent(s, NULL));
}

static int admit_decide(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask)
{
	static const struct jg_admit_ask none;
	const char *become[JG_CHAIN_MAX_HOPS];
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = jg_stream_via(s),
	    .action = adm->action,
	    .target = adm->typed,
	    .key = adm->chain != NULL && !adm->remote ? adm->chain->key : NULL,
	    .agent = jg_stream_agent(s, NULL),
	    .become = become,
	};

	if (ask == NULL)
		ask = &none;
	req.argv0 = ask->argv != NULL && ask->argc > 0 ? ask->argv[0] : NULL;
	req.path = ask->path;
	req.setid = ask->setid;
	req.port = ask->port;
	/* The accounts the chain becomes, for rules with `become`. */
	if (adm->chain != NULL)
		req.nbecome = jg_chain_become(adm->chain, become, JG_CHAIN_MAX_HOPS);
	/* Rules match where the chain really goes as well as its name.  Not for a target at
	 * another site ("site/target" means the far gateway's inventory, which judges it by
	 * its own canonical form). */
	if (adm->chain != NULL && !adm->remote && !names_site(adm->gw, adm->typed))
		req.canon = adm->chain->canon;
	if (ask->canon != NULL)
		req.canon = ask->canon;
	if (ask->tunnels_allow &&
	    !jg_target_tunnel_allowed(adm->gw->cfg, adm->typed, ask->host, (uint16_t)ask->port,
				      adm->reason, sizeof(adm->reason)))
		return denied(adm, s, ask, req.agent);
	if (!jg_policy_check(adm->gw->cfg, &req, adm->reason, sizeof(adm->reason)))
		return denied(adm, s, ask, req.agent);
	/* Out of memory for the record: the operation is refused rather than unaudited. */
	if ((adm->audit = record_open(adm, s, ask, req.agent)) == NULL) {
		snprintf(adm->reason, sizeof(adm->reason), "out of memory for the audit record");
		return 0;
	}
	if (ask->rules_to != NULL && path_rules(adm, s, ask->rules_to) != 0) {
		jg_admit_end(adm, "failed", "out of memory");
		snprintf(adm->reason, sizeof(adm->reason), "out of memory");
		return 0;
	}
	if (req.agent != JG_POLICY_AGENT_NONE)
		jg_agentfwd_admit(s);
	return 1;
}

static void admit_end(struct jg_admit *adm, const char *outcome, const char *reason)
{
	if (adm == NULL || adm->audit == NULL)
		return;
	jg_audit_end(jg_admit_audit(adm->gw), adm->audit, outcome, reason);
	adm->audit = NULL;
}

static void admit_close(struct jg_admit *adm, const char *outcome, const char *reason)
{
	if (adm == NULL)
		return;
	jg_admit_end(adm, outcome, reason);
	jg_chain_free(adm->chain);
	free(adm->typed);
	free(adm);
}

int jg_admit_may(struct jg_gateway *gw, struct jg_stream *s, const char *action)
{
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = jg_stream_via(s),
	    .action = action,
	};
	char why[300];

	return jg_policy_check(gw->cfg, &req, why, sizeof(why));
}

int jg_admit_note(struct jg_gateway *gw, struct jg_stream *s, const char *action,
		  const char *outcome, const char *reason)
{
	struct jg_audit *a = jg_admit_audit(gw);
	struct jg_audit_op *o;

	jg_stream_set_audited(s);
	if ((o = jg_audit_begin(a, jg_stream_identity(s), jg_stream_peer(s), action, "")) == NULL)
		return JG_ERR_NOMEM;
	jg_audit_start(a, o);
	jg_audit_end(a, o, outcome, reason);
	return 0;
}

const struct jg_admit_cbs jg_admit_cbs = {
    .admit_new = admit_new,
    .decide = admit_decide,
    .deny = admit_deny,
    .unresolved = admit_unresolved,
    .agent = admit_agent,
    .end = admit_end,
    .close = admit_close,
};
