/* Resolved chains (config/chain.h): what a chain owns (made from one hop, copied, freed),
 * which accounts it becomes, and how each hop and the whole chain are spelt one way for
 * policy (the canonical form), whatever the request said.
 *
 * config/target.c validates and resolves what a request names into the chains made here;
 * nothing here validates: hosts and users were checked before a hop was built (target.c
 * for requests, the configuration loader for inventory entries). */
#include <arpa/inet.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/chain.h"
#include "relay/err.h"

/* Room for the names target.h's grammar allows: hosts of 253 bytes, users of 64. */
#define MAX_HOST 253
#define MAX_USER 64

/* A chain of the one hop *HOP (taken: *HOP is left empty either way). */
int jg_chain_new_take(struct jg_hop *hop, char *key, char *display, struct jg_chain **out)
{
	struct jg_chain *c = calloc(1, sizeof(*c));
	int r = JG_ERR_NOMEM;

	if (c == NULL || key == NULL || display == NULL ||
	    (c->hops = calloc(1, sizeof(*c->hops))) == NULL)
		goto out;
	c->hops[0] = *hop;
	memset(hop, 0, sizeof(*hop));
	c->nhops = 1;
	c->key = key;
	c->display = display;
	key = display = NULL;
	*out = c;
	c = NULL;
	r = 0;
out:
	jg_hop_clear(hop);
	free(key);
	free(display);
	jg_chain_free(c);
	return r;
}

void jg_chain_free(struct jg_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nhops; i++)
		jg_hop_clear(&c->hops[i]);
	free(c->hops);
	free(c->key);
	free(c->display);
	free(c->canon);
	free(c);
}

int jg_chain_copy(struct jg_chain **dst, const struct jg_chain *src)
{
	struct jg_chain *c = calloc(1, sizeof(*c));

	*dst = NULL;
	if (c == NULL)
		return JG_ERR_NOMEM;
	c->key = strdup(src->key);
	c->display = strdup(src->display);
	c->canon = src->canon != NULL ? strdup(src->canon) : NULL;
	c->hops = calloc(src->nhops, sizeof(*c->hops));
	c->agent = src->agent;
	memcpy(c->agent_owner, src->agent_owner, sizeof(c->agent_owner));
	if (c->key == NULL || c->display == NULL || c->hops == NULL ||
	    (src->canon != NULL && c->canon == NULL))
		goto nomem;
	for (size_t i = 0; i < src->nhops; i++) {
		if (jg_hop_copy(&c->hops[i], &src->hops[i]) != 0)
			goto nomem;
		c->nhops = i + 1;
	}
	*dst = c;
	return 0;
nomem:
	jg_chain_free(c);
	return JG_ERR_NOMEM;
}

size_t jg_chain_become(const struct jg_chain *c, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nhops && n < max; i++) {
		const struct jg_hop *h = &c->hops[i];

		switch (h->method) {
		case JG_METHOD_SUDO:
		case JG_METHOD_SU:
		case JG_METHOD_DOAS:
		case JG_METHOD_SETNS:
			out[n++] = h->o.user != NULL ? h->o.user : "root";
			break;
		/* Container hops land as the container's root unless a user is named:
		 * lxc-attach, lxc exec and kubectl exec take none here, docker exec's
		 * default is the image's USER, root for most (counted as root). */
		case JG_METHOD_DOCKER:
			out[n++] = h->o.user != NULL ? h->o.user : "root";
			break;
		case JG_METHOD_LXC:
		case JG_METHOD_LXD:
		case JG_METHOD_KUBECTL:
			out[n++] = "root";
			break;
		case JG_METHOD_LOCAL:
		case JG_METHOD_SSH:
		case JG_METHOD_TUNNEL:
			/* ssh logs in as the user its canonical form names (target patterns judge
			 * it); local is the gateway's account, granted only by name. */
			break;
		}
	}
	return n;
}

/* HOST (bare, as hops hold it) spelt the one way policy matches it, into BUF: an IPv6
 * address as inet_ntop(3) writes it, in brackets, an IPv4-mapped one as the IPv4 address
 * it is; a name in lower case (DNS ignores case).  IPv4 addresses are canonical already:
 * target.c (check_numeric_v4) refused every other spelling. */
static void canon_host(const char *host, char *buf, size_t len)
{
	struct in6_addr a6;
	char t[INET6_ADDRSTRLEN];
	size_t i;

	if (strchr(host, ':') != NULL && inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6) && inet_ntop(AF_INET, &a6.s6_addr[12], t, sizeof(t)))
			snprintf(buf, len, "%s", t);
		else if (inet_ntop(AF_INET6, &a6, t, sizeof(t)) != NULL)
			snprintf(buf, len, "[%s]", t);
		else
			snprintf(buf, len, "[%s]", host);
		return;
	}
	for (i = 0; host[i] != '\0' && i + 1 < len; i++)
		buf[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
	if (len > 0)
		buf[i] = '\0';
}

/* The account ssh logs in as when neither the spec nor the configuration names one: the
 * gateway's own (ssh's default; a User line in ~/.ssh/config is not read here). */
static const char *default_ssh_user(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "uid%ld", (long)geteuid());
	return buf;
}

int jg_hop_canon(const struct jg_hop *h, char *buf, size_t len)
{
	const struct jg_hop_opts *o = &h->o;
	char host[MAX_HOST + 8], user[MAX_USER + 8];
	const char *m = jg_method_name(h->method);
	int n;

	switch (h->method) {
	case JG_METHOD_LOCAL:
		n = snprintf(buf, len, "local");
		break;
	case JG_METHOD_SSH:
		canon_host(h->ssh.host, host, sizeof(host));
		n = snprintf(buf, len, "ssh:%s@%s:%u",
			     h->ssh.user != NULL ? h->ssh.user
						 : default_ssh_user(user, sizeof(user)),
			     host, h->ssh.port != 0 ? (unsigned)h->ssh.port : 22u);
		break;
	case JG_METHOD_TUNNEL:
		canon_host(h->ssh.host, host, sizeof(host));
		n = snprintf(buf, len, "tunnel:%s", host);
		break;
	case JG_METHOD_SUDO:
	case JG_METHOD_SU:
	case JG_METHOD_DOAS:
		n = snprintf(buf, len, "%s:%s", m, o->user != NULL ? o->user : "root");
		break;
	case JG_METHOD_LXC:
	case JG_METHOD_LXD:
		n = snprintf(buf, len, "%s:%s", m, o->name != NULL ? o->name : "");
		break;
	case JG_METHOD_DOCKER:
		n = snprintf(buf, len, "docker:%s%s%s", o->user != NULL ? o->user : "",
			     o->user != NULL ? "@" : "", o->name != NULL ? o->name : "");
		break;
	case JG_METHOD_KUBECTL:
		n = snprintf(buf, len, "kubectl:%s%s%s%s%s", o->kube_ns != NULL ? o->kube_ns : "",
			     o->kube_ns != NULL ? ":" : "", o->name != NULL ? o->name : "",
			     o->container != NULL ? ":" : "",
			     o->container != NULL ? o->container : "");
		break;
	case JG_METHOD_SETNS: {
		static const char *const kinds[] = {"pid", "pid", "docker", "lxc", "machinectl"};
		const char *k = (unsigned)o->setns_kind < 5 ? kinds[o->setns_kind] : "pid";

		if (o->setns_kind == JG_SETNS_PID || o->name == NULL)
			n = snprintf(buf, len, "setns:%s%spid:%ld", o->user ? o->user : "",
				     o->user ? "@" : "", o->pid);
		else
			n = snprintf(buf, len, "setns:%s%s%s:%s", o->user ? o->user : "",
				     o->user ? "@" : "", k, o->name);
		break;
	}
	default:
		n = snprintf(buf, len, "%s", m != NULL ? m : "?");
		break;
	}
	return n < 0 || (size_t)n >= len ? JG_ERR_TOOBIG : 0;
}

int jg_hop_addr(const struct jg_hop *h, char *host, size_t hlen, unsigned *port)
{
	if (h->method != JG_METHOD_SSH && h->method != JG_METHOD_TUNNEL)
		return JG_ERR_NOTFOUND;
	canon_host(h->ssh.host, host, hlen);
	*port = h->method == JG_METHOD_TUNNEL ? 0u : h->ssh.port != 0 ? (unsigned)h->ssh.port : 22u;
	return 0;
}

/* C->canon from its hops: each hop's jg_hop_canon joined by '/'. */
int jg_chain_canon(struct jg_chain *c)
{
	size_t cap = c->nhops * JG_HOP_CANON_MAX + 1, o = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return JG_ERR_NOMEM;
	s[0] = '\0';
	for (size_t i = 0; i < c->nhops; i++) {
		if (i > 0)
			s[o++] = '/';
		if (jg_hop_canon(&c->hops[i], s + o, cap - o) != 0) {
			free(s);
			return JG_ERR_NOMEM;
		}
		o += strlen(s + o);
	}
	free(c->canon);
	c->canon = s;
	return 0;
}
