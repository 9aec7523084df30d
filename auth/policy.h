/* Policy: who may do what, where -- sans-I/O (no sockets, no files), unit-tested.
 *
 * The rules are the configuration's (struct jg_policy_rule in config/config.h),
 * in order.  The first rule that matches decides; none matching is a denial
 * ("no rule matched").  A rule matches a request when every dimension does:
 *  - identities: a glob (fnmatch(3)) matches the identity;           absent: any
 *  - targets: a glob matches the target as the client named it, its resolved
 *    chain key ("ssh:deploy@db1:22") or its canonical chain (config/target.h:
 *    "ssh:deploy@127.0.0.2:22/sudo:root"), or "group:NAME" and the target is a
 *    member of inventory group NAME;                                  absent: any
 *    A DENY rule matches more, so that no alias slips past it: also each leading
 *    part of those chains ("t3" denies "t3/sudo:root"), the first element's group,
 *    and every destination whose first address (after any local hops) is the
 *    HOST:PORT of an inventory target the rule names (another inventory name or a
 *    raw spec for the same host and port; any port of a tunnel target's host)
 *    An ALLOW rule's pattern matches a chain that starts on the bastion itself
 *    (local, or an inventory entry of method local) only when the pattern begins
 *    with the literal "local": "*" and "group:..." never grant local, which runs
 *    as the gateway's own account.  A rule without targets is unscoped: it
 *    matches every target, local included.
 *    A request without a target (admin on the gateway itself: /v1/stats, GET
 *    /v1/targets, /v1/routes, the route stream) matches only rules WITHOUT
 *    targets, allow and deny alike: a rule scoped to targets never grants admin.
 *  - via: a glob matches the site whose trusted peer gateway asserted the identity
 *    (sites.trust_asserted_identity), or "-" and the identity is the connection's
 *    own (no site asserted it);          absent: either -- except that an asserted
 *    identity beginning with "unix:" (another gateway's local user) matches only
 *    rules with via: "unix:NAME" in a rule without via is this gateway's local user
 *  - actions: the action is listed, or "*" is;                        absent: any
 *  - commands (exec only): a glob matches argv[0];                absent: no narrowing
 *    an allow rule matches with FNM_PATHNAME ('*' stays inside one component) and
 *    only an argv[0] without "." or ".." components or repeated or trailing '/';
 *    a deny rule matches any such argv[0], and its globs' '*' crosses '/'
 *  - become: every account the chain becomes (jg_chain_become: the user of each
 *    sudo, su, doas, setns and docker hop, root when none is named, and root for
 *    lxc, lxd and kubectl hops) matches a glob; a chain that becomes no one
 *    matches;                                                  absent: no narrowing
 *  - paths (put/get only): the path is under a prefix ("/srv/" or "/srv": "/srv"
 *    itself and everything below, never "/srvx");                 absent: no narrowing
 *  - setid (put only, allow rules only): a put asking for the setuid, setgid or
 *    sticky bit (mode & 07000) is granted only by an allow rule with setid = true;
 *    other allow rules do not match it (deny rules match it as any put).  default: no
 *  - forward_agent, forward_agent_to_target (allow rules only): a request forwarding
 *    the controller's ssh-agent (agent = JG_POLICY_AGENT_GATEWAY) is granted only by
 *    an allow rule with forward_agent = true, one forwarding it on to the target
 *    (JG_POLICY_AGENT_TARGET) only by one with forward_agent_to_target = true; other
 *    allow rules do not match it (deny rules match it as any request).   default: no
 * commands and paths narrow: a rule whose identity, target and action match but
 * whose commands or paths do not is NOT a match, and the next rule is tried.
 * The path judged is the absolute one (x-jumpgate-root joined to the request's
 * path); the agent judges the path it really opens again (jg_policy_path_rules). */
#ifndef JG_AUTH_POLICY_H
#define JG_AUTH_POLICY_H

#include <stddef.h>

struct jg_config;

/* One request, every field borrowed.  Fields that do not apply are NULL (port 0). */
struct jg_policy_req {
	const char *identity; /* from the client certificate (or asserted: see via) */
	const char *via;      /* the site whose trusted peer asserted IDENTITY, or NULL */
	const char *action;   /* "exec", "put", "get", "tunnel", "reset", "admin" */
	const char *target;   /* as the client named it; NULL for admin on the gateway */
	const char *key;      /* the resolved chain key, or NULL */
	const char *canon;    /* the resolved chain's canonical form (jg_chain.canon), or NULL */
	const char *argv0;    /* exec */
	const char *const *become; /* accounts the chain becomes (nbecome of them) */
	size_t nbecome;
	const char *path; /* put, get (normalised, absolute) */
	unsigned setid;	  /* put: the mode's setuid/setgid/sticky bits asked for (07000) */
	unsigned port;	  /* tunnel (audited; tunnels.allow narrows ports) */
	int agent;	  /* the controller's ssh-agent is forwarded: JG_POLICY_AGENT_* */
};
/* jg_policy_req.agent: not forwarded; to the gateway's onward ssh (only allow rules with
 * forward_agent = true match); and on to the target (forward_agent_to_target = true). */
#define JG_POLICY_AGENT_NONE 0
#define JG_POLICY_AGENT_GATEWAY 1
#define JG_POLICY_AGENT_TARGET 2

/* Decide REQ under CFG's rules: 1 allow, 0 deny.  REASON gets "allowed by rule "x"
 * (FILE:LINE)", "denied by rule "x" (FILE:LINE)" or "no rule matched" ("built-in"
 * instead of FILE:LINE for the built-in default). */
int jg_policy_check(const struct jg_config *cfg, const struct jg_policy_req *req, char *reason,
		    size_t len);

/* What REQ's identity may do with REQ's action on REQ's target, for listings (`jumpgate
 * targets`), without a command or a path to judge: the first rule matching every other
 * dimension decides, as jg_policy_check does, except that a deny rule narrowed by
 * commands or paths denies only some and the next rules are looked at too.
 * JG_POLICY_MAY_NOT, JG_POLICY_MAY (every command or path), JG_POLICY_MAY_SOME (some
 * commands or paths: an allow rule narrowed by them, or one behind a narrowed deny). */
enum { JG_POLICY_MAY_NOT = 0, JG_POLICY_MAY = 1, JG_POLICY_MAY_SOME = 2 };
int jg_policy_may(const struct jg_config *cfg, const struct jg_policy_req *req);

/* Warn (through WARN, once per finding) about a policy that does not do what it looks
 * like: a configuration file without `policy` (everything is refused), and allow rules
 * granting exec on local to identities other than OWN (the gateway's own identity, or
 * "unix:OWN").  Nothing for the built-in default. */
void jg_policy_lint(const struct jg_config *cfg, const char *own,
		    void (*warn)(void *ud, const char *msg), void *ud);
/* The `paths` dimension of REQ (put or get) as path rules for the agent
 * (relay/pathrule.h): every rule matching REQ in all other dimensions, in order,
 * "+PREFIX"/"-PREFIX" per prefix, and a rule without `paths` as "+/" or "-/" ending
 * the list.  Appended to OUT.  1 rules were added; 0 the request is not
 * path-restricted (the first such rule allows every path) or not a file action;
 * -1 out of memory (nothing added).  The agent then judges the path it really
 * opens, after symlinks, by the same first-match order. */
struct evbuffer;
int jg_policy_path_rules(const struct jg_config *cfg, const struct jg_policy_req *req,
			 struct evbuffer *out);

#endif
