/* Admission: the one step between routing (api.c) and the operations (exec,
 * raw, files, fan-out, tunnel, forward).  For every request it
 *  - resolves the target once into its canonical chain (jg_admit_new),
 *  - applies every policy decision: the rules (actions, targets, commands,
 *    paths, become, setid), tunnels.allow, the controller's forwarded agent and
 *    the identity a trusted site asserted (jg_admit_decide),
 *  - opens the audit record, or writes the denial, and
 *  - hands the operation an admitted request, struct jg_admit, which the
 *    operation runs and closes (jg_admit_close) with its outcome.
 *
 * Operations never call up into api.c or back into the router: they hold the
 * jg_admit they were given.  Most questions are complete when the request's
 * headers are (reset, admin, tunnels through an agent, file paths); two are
 * only complete later, and are asked of the same jg_admit then: an exec's argv
 * (its OPEN frame in the request body) and the address a direct tunnel dials
 * (known once its name resolved).  Either way nothing is spawned or connected
 * before the decision, and every decision, allow or deny, is audited once.
 *
 * Lifetime: jg_admit_new -> [jg_admit_decide: 1 allowed | 0 denied and audited]
 * -> jg_admit_close (ends an open record with the outcome; frees).  The stream is
 * used by jg_admit_new and jg_admit_decide only, so an operation may close its
 * admission after its stream is gone. */
#ifndef JG_GATEWAY_ADMISSION_ADMIT_H
#define JG_GATEWAY_ADMISSION_ADMIT_H

#include <stddef.h>

struct jg_gateway;
struct jg_stream;
struct jg_chain;
struct jg_audit;
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

/* Admission of ACTION on TARGET (as named, percent-decoded; NULL for the gateway itself)
 * by the client on S: the target is resolved here, once.  A target that does not
 * resolve is not an error yet (see resolve_err): file operations judge the name first.
 * NULL when out of memory. */
struct jg_admit *jg_admit_new(struct jg_gateway *gw, struct jg_stream *s, const char *action,
			      const char *target, int flags);
/* Decide ADM for the client on S with ASK (NULL: nothing more to ask): tunnels.allow
 * when asked, then the rules.  1 allowed: the record is open in adm->audit, and a
 * forwarded agent (gateway/onward/agentfwd.h) is admitted.  0 denied: the denial is audited
 * (outcome "denied"), logged, and adm->reason says why; the caller answers 403. */
int jg_admit_decide(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask);
/* A refusal the operation found itself by the configuration (no address of a direct
 * tunnel's host is in tunnels.allow): audited and logged as a denial with ASK and
 * REASON, as jg_admit_decide's are. */
void jg_admit_deny(struct jg_admit *adm, struct jg_stream *s, const struct jg_admit_ask *ask,
		   const char *reason);
/* ADM's target did not resolve: answer S with 400 (500 when out of memory) "bad target"
 * and the reason, logged as WHAT's refusal ("exec", "tunnel"), and 1.  0 when it did. */
int jg_admit_unresolved(const struct jg_admit *adm, struct jg_stream *s, const char *what);
/* Apply the controller's x-jumpgate-agent header of S to adm->chain (gateway/onward/agentfwd.h):
 * 0, or the HTTP status to answer with the reason in WHY. */
int jg_admit_agent(struct jg_admit *adm, struct jg_stream *s, char *why, size_t len);
/* End ADM's open record now (nothing when none is open) with OUTCOME ("ok", "failed") and
 * REASON; ADM stays, for its chain, until jg_admit_close. */
void jg_admit_end(struct jg_admit *adm, const char *outcome, const char *reason);
/* End ADM's open record (if any) with OUTCOME ("ok", "failed") and REASON, and free ADM
 * and its chain.  NULL is fine. */
void jg_admit_close(struct jg_admit *adm, const char *outcome, const char *reason);

/* Would ACTION on the gateway itself be allowed for the client on S?  Asked without an
 * audit record: the caller decides what to serve (a listing of one's own targets
 * instead of a 403).  1 or 0. */
int jg_admit_may(struct jg_gateway *gw, struct jg_stream *s, const char *action);
/* A request on S served without an operation (a listing): its record, ACTION on the
 * gateway, started and ended at once with OUTCOME and REASON.  0, or JG_ERR_NOMEM (the
 * caller refuses rather than serve unaudited). */
int jg_admit_note(struct jg_gateway *gw, struct jg_stream *s, const char *action,
		  const char *outcome, const char *reason);

/* The audit log, opened on first use (on failure: logged, and stderr instead). */
struct jg_audit *jg_admit_audit(struct jg_gateway *gw);

#endif
