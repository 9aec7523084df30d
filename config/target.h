/* Target specs: what `{target}` in a request names, resolved against the
 * inventory into a chain of hops, with strict validation before any argv
 * exists.
 *
 * Grammar (DESIGN.md):
 *   target  = inventory-name | spec | inventory-name "/" spec-chain
 *   spec    = "local" | "ssh:" [user "@"] host [":" port]
 *   host    = name | IPv4 | "[" IPv6 "]"
 *             (IPv4 as four decimal numbers without leading zeros: "127.1",
 *             "0x7f.0.0.1", "0177.0.0.1" or "2130706433" are refused, since
 *             policy could not tell them from a name)
 *   name    = [A-Za-z0-9] [A-Za-z0-9._-]*   (max 253; no leading '-')
 *   user    = [A-Za-z0-9_] [A-Za-z0-9._-]*  (max 64; no leading '-')
 *   port    = 1..65535
 * A bare name that is not in the inventory means "ssh:<name>" with the
 * ssh_defaults of the configuration.  Whitespace, control characters and
 * shell metacharacters are refused everywhere: argument injection into ssh
 * ("-oProxyCommand=...") is the classic hole of this kind of tool.
 * Chains of several hops ("a/b") arrive with the onward-methods work; until
 * then they are refused with a clear error. */
#ifndef JG_TARGET_H
#define JG_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "relay/hop.h"

struct jg_config;

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

/* Resolve TEXT (already percent-decoded). 0 and *out, or JG_ERR_INVAL with a reason
 * that names the offending part ("user \"a b\": whitespace is not allowed"),
 * JG_ERR_NOTFOUND for an unknown method ("unknown method \"foo\" (known: local, ssh)"). */
int jg_target_resolve(const struct jg_config *cfg, const char *text, struct jg_chain **out,
		      char *err, size_t errlen);
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
/* Validate one host or user name per the grammar. 0 or JG_ERR_INVAL with the reason. */
int jg_target_check_host(const char *host, char *err, size_t errlen);
/* Why byte C is refused in a name, into BUF: "whitespace is not allowed", "character ';'
 * is not allowed", "control character \x1b is not allowed"... */
void jg_target_bad_char(char *buf, size_t size, unsigned char c);
int jg_target_check_user(const char *user, char *err, size_t errlen);
/* A container, pod, namespace or label named PART in the reason: [A-Za-z0-9_][A-Za-z0-9._-]*,
 * at most 253 bytes. */
int jg_target_check_name(const char *part, const char *name, char *err, size_t errlen);
/* May a tunnel go to PORT of HOST as seen from TARGET (as the client named it)?  HOST
 * NULL means the target itself (its own localhost, or a tunnel target's host).  The
 * configuration's `tunnels` policy (config.h) decides.  1 when allowed; 0 with the
 * reason in WHY ("tunnels to web1 port 80 are not allowed by ..."). */
int jg_target_tunnel_allowed(const struct jg_config *cfg, const char *target, const char *host,
			     uint16_t port, char *why, size_t whylen);

#endif
