/* Resolved chains: the hops a target resolves to (config/target.h makes them from what a
 * request names), what a chain owns, which accounts it becomes, and the canonical form
 * policy judges: every hop spelt one way, whatever the request said.
 *
 * A chain owns everything it points to; nothing here validates (the hops were checked
 * before they were built). */
#ifndef JG_CHAIN_H
#define JG_CHAIN_H

#include <stddef.h>

#include "relay/hop.h"

/* A resolved target. Everything owned; free with jg_chain_free. */
struct jg_chain {
	char *key;     /* the pool key: one onward connection per key ("web1", "ssh:u@h:22") */
	char *display; /* for messages: "web1 (ssh deploy@127.0.0.2:2222)" */
	/* Where the chain really goes, spelt one way whatever the request said: each hop's
	 * jg_hop_canon joined by '/' ("ssh:deploy@127.0.0.2:2222/sudo:root"); what policy
	 * rules match besides the name as typed (auth/policy.h). */
	char *canon;
	struct jg_hop *hops;
	size_t nhops;
	/* The onward ssh authenticates with a controller's forwarded ssh-agent
	 * (gateway/onward/agentfwd.h): JG_POLICY_AGENT_GATEWAY, or _TARGET when ssh forwards it on
	 * as ssh -A does; 0 (none) from jg_target_resolve.  The pool then shares the onward
	 * connection only with requests of AGENT_OWNER (the identity) forwarding as far. */
	int agent;
	char agent_owner[256];
};

/* A new chain *OUT of the one hop *HOP, with KEY and DISPLAY: all three taken whatever
 * happens (*HOP is left empty, KEY and DISPLAY freed on failure).  A NULL KEY or DISPLAY
 * (a failed strdup) is JG_ERR_NOMEM, so callers pass allocations straight in.  0 or
 * JG_ERR_NOMEM; no canonical form yet (jg_chain_canon). */
int jg_chain_new_take(struct jg_hop *hop, char *key, char *display, struct jg_chain **out);
void jg_chain_free(struct jg_chain *c);
/* Deep copy of SRC into a new chain *DST. 0 or JG_ERR_NOMEM. */
int jg_chain_copy(struct jg_chain **dst, const struct jg_chain *src);
/* The accounts chain C becomes, one per hop that changes account: sudo/su/doas/setns and
 * docker hops: their user or "root"; lxc, lxd and kubectl hops: "root" (where those tools
 * land by default).  ssh, local and tunnel hops count none (the canonical chain names the
 * ssh user).  At most MAX of them into OUT (borrowed from C).  Returns how many. */
size_t jg_chain_become(const struct jg_chain *c, const char **out, size_t max);
/* The longest jg_hop_canon. */
#define JG_HOP_CANON_MAX 600
/* Hop H's canonical form into BUF: "local"; "ssh:USER@HOST:PORT" with the user ssh logs in
 * as (the gateway's own account when none is configured), the port (22 when none), an IPv6
 * HOST as inet_ntop writes it in brackets (an IPv4-mapped one as IPv4), a name in lower
 * case; "tunnel:HOST"; "sudo:USER" (su, doas alike; root when none); "lxc:NAME",
 * "lxd:NAME", "docker:[USER@]NAME", "kubectl:[NS:]POD[:CONTAINER]",
 * "setns:[USER@]pid:N" or "setns:[USER@]KIND:NAME".  0 or JG_ERR_TOOBIG. */
int jg_hop_canon(const struct jg_hop *h, char *buf, size_t len);
/* The network address hop H connects to, as jg_hop_canon spells it: HOST and *PORT (22
 * when none; 0 for a tunnel target, whose port each tunnel names).  JG_ERR_NOTFOUND for
 * hops that connect nowhere (local, sudo, containers). */
int jg_hop_addr(const struct jg_hop *h, char *host, size_t hlen, unsigned *port);
/* C->canon (replaced) from its hops: each hop's jg_hop_canon joined by '/'.  0 or
 * JG_ERR_NOMEM. */
int jg_chain_canon(struct jg_chain *c);

#endif
