/* One hop of a target chain, and the argv that starts a whole chain
 * (docs/methods.md).  Sans-I/O: nothing here spawns or reads.
 *
 * The argv is built from the last hop to the first: each hop wraps the command
 * that must run at its far side.  Tools that take an argv get it untouched;
 * tools that take one command string (ssh, su) get it quoted for a POSIX
 * shell, one level per such hop, so quoting is right at any depth.  Where the
 * agent must run somewhere other than the gateway the command is the
 * bootstrap stub (relay/bootstrap.h) with the agent's arguments; each such
 * stub is a "stage" of the bootstrap. */
#ifndef JG_HOP_H
#define JG_HOP_H

#include <stddef.h>

#include "relay/ssh.h"

#define JG_CHAIN_MAX_HOPS 8

/* sudo, su and doas with no *_path run as `/bin/sh -c JG_HOP_TOOL_SEARCH NAME ARGS...`:
 * NAME from /usr/bin or /bin only, never through the PATH of the account below the
 * hop (which could put its own "sudo" first and read the hop's password). */
#define JG_HOP_TOOL_SEARCH                                                                         \
	"for d in /usr/bin /bin;do [ -x \"$d/$0\" ]&&exec \"$d/$0\" \"$@\";done;"                  \
	"echo \"$0: not in /usr/bin or /bin (set ${0}_path)\" >&2;exit 127"

enum jg_method {
	JG_METHOD_LOCAL = 1, /* the agent runs on the bastion itself (first hop only) */
	JG_METHOD_SSH = 2,   /* OpenSSH client to a host */
	/* No agent: the gateway itself opens tunnels to ssh.host (config `method =
	 * "tunnel"`); only tunnels, no exec or files. */
	JG_METHOD_TUNNEL = 3,
	JG_METHOD_SUDO = 4,
	JG_METHOD_SU = 5,
	JG_METHOD_DOAS = 6,
	JG_METHOD_LXC = 7,	/* lxc-attach */
	JG_METHOD_LXD = 8,	/* lxc exec */
	JG_METHOD_DOCKER = 9,	/* docker exec -i */
	JG_METHOD_KUBECTL = 10, /* kubectl exec -i */
	JG_METHOD_SETNS = 11,	/* the agent's own setns(2) trampoline */
};

enum jg_setns_kind {
	JG_SETNS_PID = 1,
	JG_SETNS_DOCKER = 2,
	JG_SETNS_LXC = 3,
	JG_SETNS_MACHINECTL = 4,
};

/* Options of every method but ssh (which has struct jg_ssh_opts).  Strings are owned by
 * the hop; each was validated (config/target.c) before it got here.  Which fields a
 * method reads is in jg_hop_wrap's table in hop.c. */
struct jg_hop_opts {
	char *user;	   /* sudo/su/doas/docker/setns: the account (NULL: root) */
	char *name;	   /* lxc/lxd/docker: container; kubectl: pod; setns: container name */
	char *container;   /* kubectl: -c */
	char *kube_ns;	   /* kubectl: -n */
	char *context;	   /* kubectl: --context */
	char *tool_path;   /* sudo_path, su_path, doas_path, lxc_attach_path, lxc_path (lxd's
			    * client), docker_path, kubectl_path, setns: the inspect tool */
	char *lxc_dir;	   /* lxc: -P (lxc_path of the lxc method) */
	char **args;	   /* kubectl_args, NULL-terminated or NULL */
	char *role, *type; /* sudo: SELinux -r / -t */
	char *password;	   /* sudo/su/doas: NULL for none */
	int login;	   /* sudo -i, su -l */
	int preserve_env;  /* sudo -E */
	int password_tty;  /* su: the password goes to a terminal (shadow's su), not stdin */
	enum jg_setns_kind setns_kind;
	long pid; /* setns pid: */
};

struct jg_hop {
	enum jg_method method;
	struct jg_ssh_opts ssh; /* method == JG_METHOD_SSH, and ssh.host alone for
				 * JG_METHOD_TUNNEL */
	struct jg_hop_opts o;	/* every other method */
};

/* The method's name as the grammar spells it ("sudo"). */
const char *jg_method_name(enum jg_method m);
/* The method named NAME (LEN bytes), or 0. */
enum jg_method jg_method_lookup(const char *name, size_t len);

/* Deep copy (for inventory entries turned into chains). 0 or JG_ERR_NOMEM. */
int jg_hop_copy(struct jg_hop *dst, const struct jg_hop *src);
/* Free what a hop owns (passwords are wiped first). */
void jg_hop_clear(struct jg_hop *h);

/* The stub prompt sudo is given for hop I ("jumpgate-sudo-password-I: "). */
void jg_sudo_prompt(size_t i, char *buf, size_t len);

/* What starts a chain. */
struct jg_chain_cmd {
	char **argv; /* spawned on the gateway; free with jg_argv_free */
	/* Stub stages, outermost first.  Stage 0 is the agent started directly on the gateway
	 * (argv[0] is agent_path: a chain starting with local and a trampoline); stages 1..n
	 * are the stubs in the order they run.  askpass[k] is the hop whose password the agent
	 * started by stage k reads as its first stdin line (--askpass-tty), or -1. */
	size_t nstubs;
	int askpass[JG_CHAIN_MAX_HOPS + 2];
	int direct_agent; /* argv[0] is the gateway's agent (no stub at all) */
};

/* Is HOPS[0..N-1] a chain that can be started (local first only, ssh passwords on the
 * first hop only, no tunnel targets inside a chain, 1-8 hops)?  0 or JG_ERR_INVAL with
 * the reason in ERR. */
int jg_chain_check(const struct jg_hop *hops, size_t n, char *err, size_t errlen);
/* Build the argv for HOPS[0..N-1] that ends with the agent running at the far end.
 * AGENT_PATH is the agent binary on the gateway; STUB the bootstrap stub script (one
 * line, relay/bootstrap.h).  0, or JG_ERR_INVAL with ERR ("local is only a first hop",
 * "ssh passwords work on the first hop only", "doas asks for its password ...") or
 * JG_ERR_NOMEM. */
int jg_chain_argv(const struct jg_hop *hops, size_t n, const char *agent_path, const char *stub,
		  struct jg_chain_cmd *out, char *err, size_t errlen);

#endif
