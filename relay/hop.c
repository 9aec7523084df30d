/* Hops: names, copies, and the argv that starts a chain (relay/hop.h,
 * docs/methods.md has the table this code follows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/argv.h"
#include "relay/err.h"
#include "relay/hop.h"
#include "relay/sh.h"

static const char *const method_names[] = {
    [JG_METHOD_LOCAL] = "local",     [JG_METHOD_SSH] = "ssh",	  [JG_METHOD_TUNNEL] = "tunnel",
    [JG_METHOD_SUDO] = "sudo",	     [JG_METHOD_SU] = "su",	  [JG_METHOD_DOAS] = "doas",
    [JG_METHOD_LXC] = "lxc",	     [JG_METHOD_LXD] = "lxd",	  [JG_METHOD_DOCKER] = "docker",
    [JG_METHOD_KUBECTL] = "kubectl", [JG_METHOD_SETNS] = "setns",
};
#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))

const char *jg_method_name(enum jg_method m)
{
	return (size_t)m < NMETHODS && method_names[m] != NULL ? method_names[m] : "?";
}

enum jg_method jg_method_lookup(const char *name, size_t len)
{
	for (size_t i = 1; i < NMETHODS; i++)
		if (method_names[i] != NULL && strlen(method_names[i]) == len &&
		    memcmp(method_names[i], name, len) == 0)
			return (enum jg_method)i;
	return 0;
}

/* ---- copies ---- */

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	return src != NULL && (*dst = strdup(src)) == NULL ? JG_ERR_NOMEM : 0;
}

static int dup_list(char ***dst, char *const *src)
{
	struct jg_argv b = {0};

	*dst = NULL;
	if (src == NULL)
		return 0;
	jg_argv_push_all(&b, src);
	return (*dst = jg_argv_take(&b)) == NULL ? JG_ERR_NOMEM : 0;
}

static void wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int jg_hop_copy(struct jg_hop *dst, const struct jg_hop *src)
{
	const struct jg_ssh_opts *s = &src->ssh;
	const struct jg_hop_opts *so = &src->o;
	struct jg_ssh_opts *d = &dst->ssh;
	struct jg_hop_opts *o = &dst->o;
	int r;

	*dst = *src;
	/* Every pointer is replaced before the first failure can free it. */
	d->host = d->user = d->identity_file = d->known_hosts = d->ssh_path = d->password = NULL;
	d->ciphers = NULL;
	d->ssh_args = NULL;
	o->user = o->name = o->container = o->kube_ns = o->context = o->tool_path = NULL;
	o->lxc_dir = o->role = o->type = o->password = NULL;
	o->args = NULL;
	if ((r = dup_str(&d->host, s->host)) != 0 || (r = dup_str(&d->user, s->user)) != 0 ||
	    (r = dup_str(&d->identity_file, s->identity_file)) != 0 ||
	    (r = dup_str(&d->known_hosts, s->known_hosts)) != 0 ||
	    (r = dup_str(&d->ssh_path, s->ssh_path)) != 0 ||
	    (r = dup_str(&d->password, s->password)) != 0 ||
	    (r = dup_str(&d->ciphers, s->ciphers)) != 0 ||
	    (r = dup_list(&d->ssh_args, s->ssh_args)) != 0 ||
	    (r = dup_str(&o->user, so->user)) != 0 || (r = dup_str(&o->name, so->name)) != 0 ||
	    (r = dup_str(&o->container, so->container)) != 0 ||
	    (r = dup_str(&o->kube_ns, so->kube_ns)) != 0 ||
	    (r = dup_str(&o->context, so->context)) != 0 ||
	    (r = dup_str(&o->tool_path, so->tool_path)) != 0 ||
	    (r = dup_str(&o->lxc_dir, so->lxc_dir)) != 0 ||
	    (r = dup_str(&o->role, so->role)) != 0 || (r = dup_str(&o->type, so->type)) != 0 ||
	    (r = dup_str(&o->password, so->password)) != 0 ||
	    (r = dup_list(&o->args, so->args)) != 0)
		jg_hop_clear(dst);
	return r;
}

void jg_hop_clear(struct jg_hop *h)
{
	struct jg_ssh_opts *s = &h->ssh;
	struct jg_hop_opts *o = &h->o;

	free(s->host);
	free(s->user);
	free(s->identity_file);
	free(s->known_hosts);
	free(s->ssh_path);
	free(s->ciphers);
	wipe_free(s->password);
	jg_argv_free(s->ssh_args);
	free(o->user);
	free(o->name);
	free(o->container);
	free(o->kube_ns);
	free(o->context);
	free(o->tool_path);
	free(o->lxc_dir);
	free(o->role);
	free(o->type);
	wipe_free(o->password);
	jg_argv_free(o->args);
	memset(h, 0, sizeof(*h));
}

void jg_sudo_prompt(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "jumpgate-sudo-password-%zu: ", i);
}

/* ---- quoting ---- */

/* ---- the chain's argv ---- */

/* What must run at the far side of the hops wrapped so far: either an argv, or (agent
 * set) the agent with the arguments in v, not yet placed anywhere. */
struct build {
	struct jg_argv cur;
	int agent;
	int askpass; /* with agent: the hop whose password that agent reads, or -1 */
	const char *stub, *agent_path;
	int stub_askpass[JG_CHAIN_MAX_HOPS + 2]; /* per stub, innermost first */
	size_t nstubs;
};

/* Replace CUR by PREFIX followed by CUR (PREFIX is consumed). */
static void wrap(struct build *b, struct jg_argv *prefix)
{
	char **old = jg_argv_take(&b->cur);

	if (old == NULL)
		prefix->nomem = 1;
	jg_argv_push_all(prefix, old);
	jg_argv_free(old);
	b->cur = *prefix;
	memset(prefix, 0, sizeof(*prefix));
}

/* The agent with its arguments, started by the stub (it must be fetched where it runs).
 * SH_ABS: /bin/sh, not PATH's sh -- behind sudo, su and doas, where PATH may still be
 * the lower account's. */
static void place_agent_remote_sh(struct build *b, int sh_abs)
{
	struct jg_argv p = {0};

	if (!b->agent)
		return;
	jg_argv_push(&p, sh_abs ? "/bin/sh" : "sh");
	jg_argv_push(&p, "-c");
	jg_argv_push(&p, b->stub);
	jg_argv_push(&p, "jumpgate-stub");
	wrap(b, &p);
	b->stub_askpass[b->nstubs++] = b->askpass;
	b->agent = 0;
	b->askpass = -1;
}

static void place_agent_remote(struct build *b)
{
	place_agent_remote_sh(b, 0);
}

/* CUR as one shell command line (for ssh and su). NULL on ENOMEM. */
static char *cur_joined(struct build *b)
{
	return b->cur.nomem || b->cur.v == NULL ? NULL : jg_sh_join(b->cur.v);
}

static const char *tool(const struct jg_hop *h, const char *dflt)
{
	return h->o.tool_path != NULL ? h->o.tool_path : dflt;
}

/* sudo, su and doas: the hop's *_path, else NAME from /usr/bin or /bin only, never
 * through PATH (the lower account's, which would see the password a hop sends). */
static void push_priv_tool(struct jg_argv *p, const struct jg_hop *h, const char *name)
{
	if (h->o.tool_path != NULL) {
		jg_argv_push(p, h->o.tool_path);
		return;
	}
	jg_argv_push(p, "/bin/sh");
	jg_argv_push(p, "-c");
	jg_argv_push(p, JG_HOP_TOOL_SEARCH);
	jg_argv_push(p, name);
}

static const char *user_or_root(const struct jg_hop *h)
{
	return h->o.user != NULL ? h->o.user : "root";
}

static int wrap_sudo(struct build *b, const struct jg_hop *h, size_t i)
{
	struct jg_argv p = {0};
	char prompt[64];

	place_agent_remote_sh(b, 1);
	push_priv_tool(&p, h, "sudo");
	if (h->o.password != NULL) {
		jg_sudo_prompt(i, prompt, sizeof(prompt));
		jg_argv_push(&p, "-S");
		jg_argv_push(&p, "-p");
		jg_argv_push(&p, prompt);
	} else {
		jg_argv_push(&p, "-n");
	}
	jg_argv_push(&p, h->o.login ? "-i" : "-H");
	jg_argv_push(&p, "-u");
	jg_argv_push(&p, user_or_root(h));
	if (h->o.preserve_env)
		jg_argv_push(&p, "-E");
	if (h->o.role != NULL) {
		jg_argv_push(&p, "-r");
		jg_argv_push(&p, h->o.role);
	}
	if (h->o.type != NULL) {
		jg_argv_push(&p, "-t");
		jg_argv_push(&p, h->o.type);
	}
	jg_argv_push(&p, "--");
	wrap(b, &p);
	return 0;
}

/* The far side as one string, given to TOOL... by a replacement argv (ssh, su). */
/* CUR runs under an agent that answers hop I's password prompt on a PTY of its own. */
static void wrap_askpass(struct build *b, size_t i)
{
	struct jg_argv p = {0};

	jg_argv_push(&p, "--askpass-tty");
	jg_argv_push(&p, "--");
	wrap(b, &p);
	b->agent = 1;
	b->askpass = (int)i;
}

static int wrap_string(struct build *b, const struct jg_hop *h, size_t i, char *err, size_t errlen)
{
	struct jg_argv p = {0};
	char *cmd, **argv = NULL;
	int r;

	place_agent_remote_sh(b, h->method == JG_METHOD_SU);
	if ((cmd = cur_joined(b)) == NULL)
		return JG_ERR_NOMEM;
	if (h->method == JG_METHOD_SSH) {
		r = jg_ssh_argv(&h->ssh, cmd, &argv, err, errlen);
		free(cmd);
		if (r != 0)
			return r;
		jg_argv_push_all(&p, argv);
		jg_argv_free(argv);
	} else { /* su */
		push_priv_tool(&p, h, "su");
		if (h->o.login)
			jg_argv_push(&p, "-l");
		jg_argv_push(&p, user_or_root(h));
		jg_argv_push(&p, "-c");
		jg_argv_push_take(&p, cmd);
	}
	jg_argv_free(jg_argv_take(&b->cur));
	b->cur = p;
	if (h->method == JG_METHOD_SU && h->o.password != NULL && h->o.password_tty)
		wrap_askpass(b, i);
	return 0;
}

static void wrap_doas(struct build *b, const struct jg_hop *h, size_t i)
{
	struct jg_argv p = {0};

	place_agent_remote_sh(b, 1);
	push_priv_tool(&p, h, "doas");
	if (h->o.password == NULL)
		jg_argv_push(&p, "-n");
	jg_argv_push(&p, "-u");
	jg_argv_push(&p, user_or_root(h));
	jg_argv_push(&p, "--");
	wrap(b, &p);
	/* doas reads its password from a terminal only: an agent gives it one. */
	if (h->o.password != NULL)
		wrap_askpass(b, i);
}

static void wrap_container(struct build *b, const struct jg_hop *h)
{
	struct jg_argv p = {0};
	const struct jg_hop_opts *o = &h->o;

	place_agent_remote(b);
	switch (h->method) {
	case JG_METHOD_LXC:
		jg_argv_push(&p, tool(h, "lxc-attach"));
		jg_argv_push(&p, "--clear-env");
		if (o->lxc_dir != NULL) {
			jg_argv_push(&p, "-P");
			jg_argv_push(&p, o->lxc_dir);
		}
		jg_argv_push(&p, "-n");
		jg_argv_push(&p, o->name);
		jg_argv_push(&p, "--");
		break;
	case JG_METHOD_LXD:
		jg_argv_push(&p, tool(h, "lxc"));
		jg_argv_push(&p, "exec");
		jg_argv_push(&p, "--mode=non-interactive");
		jg_argv_push(&p, o->name);
		jg_argv_push(&p, "--");
		break;
	case JG_METHOD_DOCKER:
		/* docker stops parsing options at the container: a "--" would be the command */
		jg_argv_push(&p, tool(h, "docker"));
		jg_argv_push(&p, "exec");
		jg_argv_push(&p, "-i");
		if (o->user != NULL) {
			jg_argv_push(&p, "-u");
			jg_argv_push(&p, o->user);
		}
		jg_argv_push(&p, o->name);
		break;
	default: /* kubectl */
		jg_argv_push(&p, tool(h, "kubectl"));
		jg_argv_push_all(&p, o->args);
		if (o->context != NULL) {
			jg_argv_push(&p, "--context");
			jg_argv_push(&p, o->context);
		}
		if (o->kube_ns != NULL) {
			jg_argv_push(&p, "-n");
			jg_argv_push(&p, o->kube_ns);
		}
		jg_argv_push(&p, "exec");
		jg_argv_push(&p, "-i");
		jg_argv_push(&p, o->name);
		if (o->container != NULL) {
			jg_argv_push(&p, "-c");
			jg_argv_push(&p, o->container);
		}
		jg_argv_push(&p, "--");
		break;
	}
	wrap(b, &p);
}

static void wrap_setns(struct build *b, const struct jg_hop *h)
{
	static const char *const kinds[] = {[JG_SETNS_PID] = "pid",
					    [JG_SETNS_DOCKER] = "docker",
					    [JG_SETNS_LXC] = "lxc",
					    [JG_SETNS_MACHINECTL] = "machinectl"};
	struct jg_argv p = {0};
	/* Last hop: the agent that entered the namespaces goes on as the agent. */
	int last = b->agent && b->cur.n == 0;

	if (!last)
		place_agent_remote(b);
	if (h->o.setns_kind == JG_SETNS_PID)
		jg_argv_pushf(&p, "--setns=pid:%ld", h->o.pid);
	else
		jg_argv_pushf(&p, "--setns=%s:%s", kinds[h->o.setns_kind], h->o.name);
	if (h->o.user != NULL)
		jg_argv_pushf(&p, "--setns-user=%s", h->o.user);
	if (h->o.tool_path != NULL)
		jg_argv_pushf(&p, "--setns-tool-path=%s", h->o.tool_path);
	if (h->o.lxc_dir != NULL)
		jg_argv_pushf(&p, "--setns-lxc-path=%s", h->o.lxc_dir);
	if (!last)
		jg_argv_push(&p, "--");
	wrap(b, &p);
	b->agent = 1;
	b->askpass = -1;
}

int jg_chain_check(const struct jg_hop *hops, size_t n, char *err, size_t errlen)
{
	size_t first = n > 0 && hops[0].method == JG_METHOD_LOCAL ? 1 : 0;

	if (n == 0 || n > JG_CHAIN_MAX_HOPS) {
		snprintf(err, errlen, "a chain has 1 to %d hops", JG_CHAIN_MAX_HOPS);
		return JG_ERR_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct jg_hop *h = &hops[i];

		if (h->method == JG_METHOD_LOCAL && i > 0) {
			snprintf(err, errlen, "\"local\" can only be the first hop of a chain");
			return JG_ERR_INVAL;
		}
		if (h->method == JG_METHOD_TUNNEL && n > 1) {
			snprintf(err, errlen,
				 "a tunnel target carries tunnels only: it cannot be "
				 "a hop of a chain");
			return JG_ERR_INVAL;
		}
		if (h->method == JG_METHOD_SSH && h->ssh.password != NULL && i != first) {
			snprintf(err, errlen,
				 "hop %zu (ssh to %s): ssh passwords work on the first "
				 "hop only (ssh reads them from a terminal); use a key",
				 i + 1, h->ssh.host);
			return JG_ERR_INVAL;
		}
		if (h->method == JG_METHOD_SSH && h->ssh.raw && n > 1) {
			snprintf(err, errlen,
				 "hop %zu (ssh to %s): raw mode runs no agent, so it "
				 "works for a target of one ssh hop only",
				 i + 1, h->ssh.host);
			return JG_ERR_INVAL;
		}
	}
	return 0;
}

int jg_chain_argv(const struct jg_hop *hops, size_t n, const char *agent_path, const char *stub,
		  struct jg_chain_cmd *out, char *err, size_t errlen)
{
	struct build b = {.agent = 1, .askpass = -1, .stub = stub, .agent_path = agent_path};
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < sizeof(out->askpass) / sizeof(out->askpass[0]); k++)
		out->askpass[k] = -1;
	if ((r = jg_chain_check(hops, n, err, errlen)) != 0)
		return r;
	for (size_t i = n; i-- > 0 && r == 0;) {
		const struct jg_hop *h = &hops[i];

		switch (h->method) {
		case JG_METHOD_LOCAL:
			break;
		case JG_METHOD_SSH:
		case JG_METHOD_SU:
			r = wrap_string(&b, h, i, err, errlen);
			break;
		case JG_METHOD_SUDO:
			r = wrap_sudo(&b, h, i);
			break;
		case JG_METHOD_DOAS:
			wrap_doas(&b, h, i);
			break;
		case JG_METHOD_LXC:
		case JG_METHOD_LXD:
		case JG_METHOD_DOCKER:
		case JG_METHOD_KUBECTL:
			wrap_container(&b, h);
			break;
		case JG_METHOD_SETNS:
			wrap_setns(&b, h);
			break;
		case JG_METHOD_TUNNEL:
			break; /* refused by jg_chain_check */
		}
	}
	if (r == 0 && b.agent) {
		/* The agent runs on the gateway itself. */
		struct jg_argv p = {0};

		jg_argv_push(&p, agent_path);
		wrap(&b, &p);
		out->askpass[0] = b.askpass;
		out->direct_agent = 1;
	}
	if (r == 0 && (out->argv = jg_argv_take(&b.cur)) == NULL)
		r = JG_ERR_NOMEM;
	if (r == 0) {
		out->nstubs = b.nstubs;
		for (size_t k = 0; k < b.nstubs; k++) /* outermost first */
			out->askpass[k + 1] = b.stub_askpass[b.nstubs - 1 - k];
	}
	if (r == JG_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	jg_argv_free(jg_argv_take(&b.cur));
	return r;
}
