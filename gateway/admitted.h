/* An admitted request, as the operations and the sites hold it: what admission
 * (gateway/admission/admit.h, which says the whole contract and lifetime) hands an
 * operation, and the questions the operation asks of it later (an exec's argv, a
 * direct tunnel's address, a fan-out's targets) and its close.  Admission implements
 * them and hands them down as a callback table in the context (gw->admission), so no
 * layer below includes admission's header.  Like gateway.h, a leaf header of the
 * service glue (tests/lint/layers.sh). */
#ifndef JG_GATEWAY_ADMITTED_H
#define JG_GATEWAY_ADMITTED_H

#include <stddef.h>

#include "gateway/gateway.h"

struct jg_stream;
struct jg_chain;
struct jg_audit_op;
struct jg_file_spec;

/* The part of the policy question beyond identity, action and target: what the
 * operation learnt from the request (NULL/0 members: none). */
struct jg_admit_ask {
	char *const *argv; /* exec: the program and its arguments (ARGC of them) */
	size_t argc;
	const char *path; /* put, get: the absolute path judged; admin: the endpoint */
	unsigned port;	  /* tunnel */
	const char *host; /* tunnel: the destination host, recorded */
	const char *root; /* put, get: x-jumpgate-root (PATH is beneath it), recorded */
	unsigned setid;	  /* put: the mode's set-id bits (MODE & 07000, policy `setid`) */
	/* Where the request really goes, judged instead of the chain's own canonical form:
	 * a tunnel the gateway dials judges "tunnel:ADDR", the address it resolved. */
	const char *canon;
	/* A tunnel through the target's agent: tunnels.allow judges TARGET, HOST ("localhost"
	 * when NULL) and PORT first; its refusal is a denial like a rule's. */
	int tunnels_allow;
	/* put, get: when not NULL, its rules/rules_len get the path rules the agent must
	 * judge what it really opens by (left NULL for an identity without path limits). */
	struct jg_file_spec *rules_to;
};

/* jg_admit_new's FLAGS.  JG_ADMIT_REMOTE: the target is at another site; its gateway
 * judges where the chain goes, so rules here see the name only (not our canonical form). */
#define JG_ADMIT_REMOTE 1

/* An admitted request (or one being admitted).  Read-only for the operation, except
 * the record's counters (audit->bytes_in and the like) while it is open. */
struct jg_admit {
	struct jg_gateway *gw;
	char action[8];		   /* "exec", "put", "get", "tunnel", "reset", "admin" */
	char *typed;		   /* the target as the client named it; NULL: the gateway */
	struct jg_chain *chain;	   /* its canonical chain (owned); NULL: no target, or it did
				    * not resolve (resolve_err, resolve_why say why) */
	int resolve_err;	   /* 0, or the JG_ERR_* of resolving TYPED */
	char resolve_why[400];	   /* ... and its reason */
	int remote;		   /* JG_ADMIT_REMOTE was given */
	struct jg_audit_op *audit; /* the open record, from an allow to jg_admit_close */
	char reason[400];	   /* the decision's reason: "allowed by rule ..." / the denial */
};

/* What admission gives the layers below it (gateway/admission/admit.c: jg_admit_cbs),
 * set in the context at construction (gw->admission, main.c) and called through the
 * jg_admit_* functions below; each member has the contract of the function of its
 * name.  An operation holds its admitted request by this header only, never by
 * admission's. */
struct jg_admit_cbs {
	struct jg_admit *(*admit_new)(struct jg_gateway *gw, struct jg_stream *s,
				      const char *action, const char *target, int flags);
	int (*decide)(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask);
	void (*deny)(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask,
		     const char *reason);
	int (*unresolved)(const struct jg_admit *adm, struct jg_stream *s, const char *what);
	int (*agent)(struct jg_admit *adm, struct jg_stream *s, char *why, size_t len);
	void (*end)(struct jg_admit *adm, const char *outcome, const char *reason);
	void (*close)(struct jg_admit *adm, const char *outcome, const char *reason);
};

/* Admission of ACTION on TARGET (as named, percent-decoded; NULL for the gateway itself)
 * by the client on S: the target is resolved here, once.  A target that does not
 * resolve is not an error yet (see resolve_err): file operations judge the name first.
 * NULL when out of memory. */
static inline struct jg_admit *jg_admit_new(struct jg_gateway *gw, struct jg_stream *s,
					    const char *action, const char *target, int flags)
{
	return gw->admission->admit_new(gw, s, action, target, flags);
}
/* Decide ADM for the client on S with ASK (NULL: nothing more to ask): tunnels.allow
 * when asked, then the rules.  1 allowed: the record is open in adm->audit, and a
 * forwarded agent (gateway/onward/agentfwd.h) is admitted.  0 denied: the denial is audited
 * (outcome "denied"), logged, and adm->reason says why; the caller answers 403. */
static inline int jg_admit_decide(struct jg_admit *adm, struct jg_stream *s,
				  const struct jg_admit_ask *ask)
{
	return adm->gw->admission->decide(adm, s, ask);
}
/* A refusal the operation found itself by the configuration (no address of a direct
 * tunnel's host is in tunnels.allow): audited and logged as a denial with ASK and
 * REASON, as jg_admit_decide's are. */
static inline void jg_admit_deny(struct jg_admit *adm, struct jg_stream *s,
				 const struct jg_admit_ask *ask, const char *reason)
{
	adm->gw->admission->deny(adm, s, ask, reason);
}
/* ADM's target did not resolve: answer S with 400 (500 when out of memory) "bad target"
 * and the reason, logged as WHAT's refusal ("exec", "tunnel"), and 1.  0 when it did. */
static inline int jg_admit_unresolved(const struct jg_admit *adm, struct jg_stream *s,
				      const char *what)
{
	return adm->gw->admission->unresolved(adm, s, what);
}
/* Apply the controller's x-jumpgate-agent header of S to adm->chain (gateway/onward/agentfwd.h):
 * 0, or the HTTP status to answer with the reason in WHY. */
static inline int jg_admit_agent(struct jg_admit *adm, struct jg_stream *s, char *why, size_t len)
{
	return adm->gw->admission->agent(adm, s, why, len);
}
/* End ADM's open record now (nothing when none is open) with OUTCOME ("ok", "failed") and
 * REASON; ADM stays, for its chain, until jg_admit_close. */
static inline void jg_admit_end(struct jg_admit *adm, const char *outcome, const char *reason)
{
	if (adm != NULL)
		adm->gw->admission->end(adm, outcome, reason);
}
/* End ADM's open record (if any) with OUTCOME ("ok", "failed") and REASON, and free ADM
 * and its chain.  NULL is fine. */
static inline void jg_admit_close(struct jg_admit *adm, const char *outcome, const char *reason)
{
	if (adm != NULL)
		adm->gw->admission->close(adm, outcome, reason);
}

#endif
