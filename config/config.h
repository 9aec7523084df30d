/* jumpgated.conf: parsed once (libconfig) into an immutable struct.
 *
 * Every validation error names the file, the line and what is wrong:
 *   "/etc/jumpgate/jumpgated.conf:12: listen: port 70000 out of range 1-65535".
 * A reload builds a new struct and swaps it in whole.  With no file, the
 * built-in default: listen 127.0.0.1:4443, the default state directory with
 * generated certificates, and the `local` target. */
#ifndef JG_CONFIG_H
#define JG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/target.h"

/* An inventory entry: a name and the hop it stands for (its method and options). */
struct jg_target {
	char *name; /* [A-Za-z0-9_.-], no leading '-' or '.' */
	struct jg_hop hop;
};

/* An inventory group: a name standing for several inventory targets.  Members are
 * inventory names or globs over them (fnmatch(3)), kept as written: a glob is
 * expanded when used (gateway/ops/targets.c), so it follows the inventory it is used with. */
struct jg_group {
	char *name;	/* the target-name alphabet; never the name of an inventory target */
	char **members; /* inventory names or globs ('*', '?', '[') */
	size_t nmembers;
};

/* One entry of tunnels.allow, "TARGET:PORT" or "TARGET:HOST:PORT", split into its
 * fnmatch(3) globs.  HOST "localhost" stands for the target itself. */
struct jg_tunnel_rule {
	char *target;
	char *host;
	char *port;
};

/* Which part of a client certificate names the controller (config `identity`). */
enum jg_identity_source {
	JG_IDENTITY_CN = 0,  /* subject CN (the default) */
	JG_IDENTITY_SAN_URI, /* the first URI subjectAltName ("jumpgate:user:NAME") */
	JG_IDENTITY_SAN_DNS, /* the first DNS subjectAltName */
};

/* One `policy` rule (auth/policy.h has the matching contract).  An absent list is NULL
 * with n == 0: for identities, targets and actions it means "any"; for commands and
 * paths "not narrowed". */
struct jg_policy_rule {
	char *name;
	int line;	   /* in jg_config.path, for denied by rule "x" (file:12) */
	char **identities; /* globs */
	char **targets;	   /* globs over the name and the resolved key; "group:NAME" */
	char **actions;	   /* exec put get tunnel reset admin, or "*" */
	char **commands;   /* argv[0] globs (exec only) */
	char **become;	   /* globs over the accounts a chain's sudo/su/doas/setns/docker hops
			    * become (every one must match) */
	char **paths;	   /* absolute path prefixes (put/get only) */
	char **via;	   /* globs over the site that asserted the identity; "-": none */
	size_t nidentities, ntargets, nactions, ncommands, nbecome, npaths, nvia;
	int allow;
	int setid; /* an allow rule may grant puts with setuid/setgid/sticky bits */
	/* An allow rule may grant requests that forward the controller's ssh-agent to the
	 * gateway's onward ssh (forward_agent), and on to the target as ssh -A does
	 * (forward_agent_to_target, which implies forward_agent). */
	int forward_agent, forward_agent_to_target;
};

enum jg_tunnel_policy {
	JG_TUNNELS_DEFAULT = 0, /* no `tunnels` key: port 22 of inventory targets only */
	JG_TUNNELS_ANY = 1,	/* the built-in default (no file): anything */
	JG_TUNNELS_LIST = 2,	/* tunnels.allow, and nothing else */
};

/* One `sites` entry: a peer gateway (config/sites.c). */
struct jg_site {
	char *name;    /* its site name (its own gateway_name) */
	int line;      /* where it is defined */
	char *address; /* "host:port" as written; NULL: we do not link to it */
	char *host;    /* numeric host (or localhost) of address */
	char port[8];
	char *ca_file;	 /* the CA its server certificate chains to (with address) */
	char *cert_file; /* our client certificate for it (with address) */
	char *key_file;
	char *identity;			/* its identity when it connects to us, or NULL */
	int trust_asserted_identity;	/* honour its x-jumpgate-on-behalf-of */
	uint32_t keepalive_interval_ms; /* PING period, and the deadline of each PING */
	char **learn; /* `learn`: site-name globs its routes may name; NULL: unset */
	size_t nlearn;
};

struct jg_config {
	char *path;	   /* the file it came from, NULL for the built-in default */
	char *listen_host; /* numeric address or "localhost" */
	uint16_t listen_port;
	char *state_dir;	   /* holds generated certificates */
	char *ca_file;		   /* CA that client certificates must chain to */
	char *cert_file;	   /* server certificate */
	char *key_file;		   /* server key */
	int generate_certs;	   /* non-zero: create the files above in state_dir when absent */
	int log_level;		   /* enum jg_log_level */
	uint32_t drain_timeout_ms; /* SIGTERM: how long streams may finish after GOAWAY */
	uint32_t handshake_timeout_ms; /* TLS handshake must finish within this */
	uint32_t idle_timeout_ms;      /* a connection with no stream is closed after this */
	uint32_t preface_timeout_ms;   /* handshake done: the first request must come within this */
	uint32_t max_streams;	       /* SETTINGS_MAX_CONCURRENT_STREAMS per connection */
	uint32_t stream_window;	       /* HTTP/2 stream receive window and agent channel window */
	/* A request body's window grows (relay/autowin.h) up to stream_window_max while all
	 * growth together stays within window_budget; 0 for either: no growth. */
	uint32_t stream_window_max;
	uint32_t window_budget;
	/* Limits (jumpgated.conf.example says what the client sees when one is hit). */
	uint32_t max_connections_per_identity; /* concurrent connections of one identity; 0: any */
	/* Connections still in their TLS handshake; past it the oldest is dropped.  0: a
	 * quarter of the gateway's descriptor limit (gateway/main.c). */
	uint32_t max_handshakes;
	uint32_t max_header_list_size; /* request header list (RFC 9113 6.5.2 size): 431 past it */
	uint64_t buffer_budget;	       /* response bytes queued gateway-wide before links pause */
	char *unix_socket;	       /* h2c listener path (identity unix:<user>), NULL: none */
	char *agent_path; /* NULL: $JUMPGATE_AGENT, next to jumpgated, then pkglibexecdir */
	struct jg_target *targets; /* always contains "local" */
	size_t ntargets;
	/* Options for ssh specs that are not in the inventory (`ssh:host`, a bare host):
	 * method JG_METHOD_SSH, host NULL. */
	struct jg_hop ssh_defaults;
	uint32_t pool_idle_timeout_ms;	/* an onward connection with no channel closes after this */
	uint32_t connect_timeout_ms;	/* spawn to agent HELLO (bootstrap included) */
	uint32_t keepalive_interval_ms; /* PING on agent links; dead after two missed */
	uint32_t child_nofile;		/* RLIMIT_NOFILE given to spawned children */
	uint32_t max_onward_setups;	/* onward connections in setup at once; 0: any */
	uint32_t max_onward_setups_per_identity; /* the same for one identity; 0: any */
	char **agent_paths; /* agents for other architectures (the own one is agent_path) */
	size_t nagent_paths;
	enum jg_tunnel_policy tunnel_policy; /* see jg_target_tunnel_allowed() */
	struct jg_tunnel_rule *tunnel_rules;
	size_t ntunnel_rules;
	struct jg_group *groups; /* inventory groups (groups = { web = [ ... ]; }) */
	size_t ngroups;
	enum jg_identity_source identity; /* `identity`: where a controller's name comes from */
	char *crl_file;	    /* `crl`: checked on every client certificate; NULL: none */
	char *audit_path;   /* `audit`: a file, or NULL for stderr */
	char *metrics_host; /* `metrics_listen`: plain /metrics, /healthz, or NULL */
	uint16_t metrics_port;
	char *resolv_conf; /* `resolv_conf`: names of tunnels the gateway dials are
			    * resolved with it; NULL: /etc/resolv.conf */
	/* `policy`: first match wins, default deny.  No `policy` key in a file: no rule, so
	 * everything is denied.  The built-in default: one rule allowing everything to the
	 * generated client identity (the local account name). */
	struct jg_policy_rule *policy;
	size_t npolicy;
	/* Multi-site (config/sites.c): this gateway's site name (`gateway_name`, default the
	 * short host name) and its peer gateways. */
	char *gateway_name;
	struct jg_site *sites;
	size_t nsites;
	/* Holders of this configuration (jg_config_ref): the running gateway's current
	 * one, a site link whose entry it is, ...  The last jg_config_unref frees it, so a
	 * reload frees the configuration it replaced once nothing uses it any more. */
	unsigned refs;
};

/* Parse PATH. 0 and *out with one reference (jg_config_unref;
 * jg_config_free when the caller is its only holder), or JG_ERR_CONFIG with
 * "file:line: what" in ERR (JG_ERR_IO when the file cannot be read). */
int jg_config_load(const char *path, struct jg_config **out, char *err, size_t errlen);
/* The built-in default (no file); the state directory from jg_paths_state_dir(). */
int jg_config_default(struct jg_config **out, char *err, size_t errlen);
/* Free C at once: for its only holder (a -t check, a test).  Shared: jg_config_unref. */
void jg_config_free(struct jg_config *c);
/* One more holder of C (load and default return it with one).  Returns C. */
const struct jg_config *jg_config_ref(const struct jg_config *c);
/* One holder fewer; the last frees C.  NULL: nothing. */
void jg_config_unref(const struct jg_config *c);
/* Inventory lookup by exact name; NULL when absent. */
const struct jg_target *jg_config_find_target(const struct jg_config *c, const char *name);
/* The gateway's own identity: the local account's name, which the generated client
 * certificate and the built-in policy use ("uid1000" when it has none).  Into BUF. */
const char *jg_config_own_identity(char *buf, size_t len);
/* Inventory group by exact name; NULL when absent. */
const struct jg_group *jg_config_find_group(const struct jg_config *c, const char *name);
/* `sites` entry by name; NULL when absent. */
const struct jg_site *jg_config_find_site(const struct jg_config *c, const char *name);
/* May a route to SITE be learned from the peer PEER (a `sites` name)?  1, or 0 with
 * why not in WHY: SITE is an inventory target or group, or this gateway's own name
 * (never, whatever `learn` says), or not allowed by PEER's `learn` (default: the
 * names of the `sites` entries). */
int jg_config_site_may_learn(const struct jg_config *c, const char *peer, const char *site,
			     char *why, size_t whylen);
/* 1 when V is a valid site name (1-63 of [A-Za-z0-9._-], first alphanumeric). */
int jg_config_site_name_ok(const char *v);

#endif
