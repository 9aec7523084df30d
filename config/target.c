/* Target specs: strict validation of what a request names, resolution against
 * the inventory into a chain of hops (config/chain.h makes, spells and frees
 * chains), and whether a tunnel may go where a request asks (`tunnels`).
 *
 * Everything a request can put into an ssh argv passes through
 * jg_target_check_host/user first.  The character classes are allow-lists
 * (letters, digits and a little punctuation), never deny-lists, so a
 * metacharacter nobody thought of is refused as well. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"

#define MAX_HOST 253
#define MAX_USER 64
#define MAX_QUOTED 48 /* of a refused value, in messages */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* S (LEN bytes) for a message inside double quotes: '"' and '\' escaped,
 * anything not printable ASCII as \xNN, so a refused value can neither
 * break the message, the log line, nor the terminal showing it. */
static void quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < MAX_QUOTED && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (i < len && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

void jg_target_bad_char(char *buf, size_t size, unsigned char c)
{
	if (c == ' ' || c == '\t')
		snprintf(buf, size, "whitespace is not allowed");
	else if (c < 0x20 || c == 0x7f)
		snprintf(buf, size, "control character \\x%02x is not allowed", c);
	else if (c >= 0x80)
		snprintf(buf, size, "non-ASCII byte \\x%02x is not allowed", c);
	else if (c == '\'')
		snprintf(buf, size, "character \"'\" is not allowed");
	else
		snprintf(buf, size, "character '%c' is not allowed", c);
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Refuse S (LEN bytes) as PART with a reason. */
static int refuse(char *err, size_t errlen, const char *part, const char *s, size_t len,
		  const char *why)
{
	char q[MAX_QUOTED * 4 + 8];

	quote(q, sizeof(q), s, len);
	set_err(err, errlen, "%s \"%s\": %s", part, q, why);
	return JG_ERR_INVAL;
}

/* The common part of host names and user names: not empty, not too long,
 * not like an option, and every byte in [A-Za-z0-9._-]; FIRST_OK tells
 * which first characters are allowed besides letters and digits. */
static int check_word(const char *part, const char *s, size_t len, size_t max, const char *first_ok,
		      char *err, size_t errlen)
{
	char why[96];

	if (len == 0)
		return refuse(err, errlen, part, s, len, "must not be empty");
	if (len > max) {
		snprintf(why, sizeof(why), "longer than %zu characters", max);
		return refuse(err, errlen, part, s, len, why);
	}
	/* Before the character scan: "-oProxyCommand=x" is an option first. */
	if (s[0] == '-')
		return refuse(err, errlen, part, s, len,
			      "must not start with '-' (it would be read as an option)");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_alnum(c) || c == '.' || c == '_' || c == '-')
			continue;
		jg_target_bad_char(why, sizeof(why), c);
		return refuse(err, errlen, part, s, len, why);
	}
	if (!is_alnum((unsigned char)s[0]) && strchr(first_ok, s[0]) == NULL) {
		snprintf(why, sizeof(why), "must start with a letter%s",
			 first_ok[0] != '\0' ? ", a digit or '_'" : " or a digit");
		return refuse(err, errlen, part, s, len, why);
	}
	return 0;
}

/* "[" IPv6 "]": hex digits, ':' and '.' (an embedded IPv4) only, and an
 * address inet_pton accepts, so no zone ids or names hide in brackets. */
static int check_ipv6(const char *s, size_t len, char *err, size_t errlen)
{
	unsigned char addr[16];
	char buf[INET6_ADDRSTRLEN + 1], why[96];

	if (len < 2 || s[len - 1] != ']')
		return refuse(err, errlen, "host", s, len,
			      "an IPv6 address in brackets must end with ']'");
	for (size_t i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_hex(c) || c == ':' || c == '.')
			continue;
		jg_target_bad_char(why, sizeof(why), c);
		return refuse(err, errlen, "host", s, len, why);
	}
	if (len - 2 >= sizeof(buf))
		return refuse(err, errlen, "host", s, len, "not an IPv6 address");
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return refuse(err, errlen, "host", s, len, "not an IPv6 address");
	return 0;
}

/* A host that the C library reads as an IPv4 address (inet_aton(3): "127.1", "0x7f.0.1.3",
 * "0177.0.1.3", "2130706691", "127.0.1.03") must be written the one way a policy rule can
 * match: four decimal numbers without leading zeros.  A host of digits and dots only that
 * is no address at all ("1.2.3.4.5", "256.0.0.1") is refused too: it is no name either. */
static int check_numeric_v4(const char *s, size_t len, char *err, size_t errlen)
{
	char buf[MAX_HOST + 1], canon[INET_ADDRSTRLEN], why[160];
	struct in_addr a;
	int digits_dots = 1;

	if (len > MAX_HOST)
		return 0; /* check_word says so */
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			digits_dots = 0;
	if (inet_aton(buf, &a) != 0) {
		if (inet_ntop(AF_INET, &a, canon, sizeof(canon)) == NULL || strcmp(canon, buf) == 0)
			return 0;
		snprintf(why, sizeof(why),
			 "a numeric IPv4 address must be four decimal numbers without leading "
			 "zeros (this one means %s: write that)",
			 canon);
		return refuse(err, errlen, "host", s, len, why);
	}
	if (digits_dots)
		return refuse(err, errlen, "host", s, len, "not an IPv4 address");
	return 0;
}

static int check_host_n(const char *s, size_t len, char *err, size_t errlen)
{
	int r;

	if (len > 0 && s[0] == '[')
		return check_ipv6(s, len, err, errlen);
	/* A bare IPv6 address: point at the brackets rather than at ':'. */
	if (memchr(s, ':', len) != NULL) {
		size_t colons = 0, i;

		for (i = 0; i < len; i++) {
			if (s[i] == ':')
				colons++;
			else if (!is_hex((unsigned char)s[i]) && s[i] != '.')
				break;
		}
		if (i == len && colons >= 2)
			return refuse(err, errlen, "host", s, len,
				      "an IPv6 address goes in brackets, as in \"[::1]\"");
	}
	if ((r = check_word("host", s, len, MAX_HOST, "", err, errlen)) != 0)
		return r;
	return check_numeric_v4(s, len, err, errlen);
}

int jg_target_check_host(const char *host, char *err, size_t errlen)
{
	return check_host_n(host, strlen(host), err, errlen);
}

int jg_target_check_user(const char *user, char *err, size_t errlen)
{
	return check_word("user", user, strlen(user), MAX_USER, "_", err, errlen);
}

/* A new string from FMT; NULL when out of memory. */
static char *fmt_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *fmt_dup(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* "[user@]host[:port]" with an IPv6 host back in brackets, after PREFIX. */
static char *describe(const char *prefix, const struct jg_ssh_opts *o, const char *suffix)
{
	int v6 = strchr(o->host, ':') != NULL;
	char port[8] = "";

	if (o->port != 0)
		snprintf(port, sizeof(port), ":%u", (unsigned)o->port);
	return fmt_dup("%s%s%s%s%s%s%s%s", prefix, o->user != NULL ? o->user : "",
		       o->user != NULL ? "@" : "", v6 ? "[" : "", o->host, v6 ? "]" : "", port,
		       suffix);
}

static int from_inventory(const struct jg_target *t, struct jg_chain **out)
{
	struct jg_hop hop;
	char *display;
	int r;

	if ((r = jg_hop_copy(&hop, &t->hop)) != 0)
		return r;
	if (t->hop.method == JG_METHOD_SSH) {
		char prefix[96];

		snprintf(prefix, sizeof(prefix), "%s (ssh ", t->name);
		display = describe(prefix, &t->hop.ssh, ")");
	} else if (t->hop.method == JG_METHOD_TUNNEL) {
		display =
		    fmt_dup("%s (tunnel %s%s%s)", t->name, strchr(t->hop.ssh.host, ':') ? "[" : "",
			    t->hop.ssh.host, strchr(t->hop.ssh.host, ':') ? "]" : "");
	} else if (strcmp(t->name, "local") == 0) {
		display = strdup(t->name);
	} else {
		display = fmt_dup("%s (%s)", t->name, jg_method_name(t->hop.method));
	}
	return jg_chain_new_take(&hop, strdup(t->name), display, out);
}

/* PORT (LEN bytes): decimal digits only, 1..65535. */
static int parse_port(const char *s, size_t len, uint16_t *port, char *err, size_t errlen)
{
	unsigned long n = 0;

	if (len == 0)
		return refuse(err, errlen, "port", s, len, "must not be empty");
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return refuse(err, errlen, "port", s, len, "must be a number 1-65535");
		if (n <= 65535)
			n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n < 1 || n > 65535)
		return refuse(err, errlen, "port", s, len, "out of range 1-65535");
	*port = (uint16_t)n;
	return 0;
}

/* "[user@]host[:port]" (after "ssh:", or a bare host) into an ssh hop over
 * the configuration's ssh_defaults. */
static int from_ssh_spec(const struct jg_config *cfg, const char *spec, const char *display,
			 struct jg_chain **out, char *err, size_t errlen)
{
	const char *at = strchr(spec, '@'), *host, *colon = NULL;
	size_t ulen = 0, hlen;
	uint16_t port = 0;
	struct jg_hop hop = {0};
	int r;

	if (at != NULL) {
		ulen = (size_t)(at - spec);
		if ((r = check_word("user", spec, ulen, MAX_USER, "_", err, errlen)) != 0)
			return r;
	}
	host = at != NULL ? at + 1 : spec;
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (rb != NULL && rb[1] == ':')
			colon = rb + 1;
	} else if ((colon = strchr(host, ':')) != NULL && strchr(colon + 1, ':') != NULL) {
		colon = NULL; /* a bare IPv6 address: check_host_n says so */
	}
	hlen = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if ((r = check_host_n(host, hlen, err, errlen)) != 0)
		return r;
	if (colon != NULL &&
	    (r = parse_port(colon + 1, strlen(colon + 1), &port, err, errlen)) != 0)
		return r;

	if ((r = jg_hop_copy(&hop, &cfg->ssh_defaults)) != 0)
		return r;
	hop.method = JG_METHOD_SSH;
	free(hop.ssh.host);
	/* The argv wants an IPv6 address bare. */
	if (host[0] == '[')
		hop.ssh.host = strndup(host + 1, hlen - 2);
	else
		hop.ssh.host = strndup(host, hlen);
	if (hop.ssh.host == NULL)
		goto nomem;
	if (at != NULL) {
		free(hop.ssh.user);
		if ((hop.ssh.user = strndup(spec, ulen)) == NULL)
			goto nomem;
	}
	if (port != 0)
		hop.ssh.port = port;
	/* The key names only what the spec gave: the same spec, the same
	 * connection, whatever ssh_defaults or ~/.ssh/config add. */
	{
		struct jg_ssh_opts given = {
		    .host = hop.ssh.host, .user = at != NULL ? hop.ssh.user : NULL, .port = port};

		return jg_chain_new_take(&hop, describe("ssh:", &given, ""), strdup(display), out);
	}
nomem:
	jg_hop_clear(&hop);
	return JG_ERR_NOMEM;
}

/* A method name's shape; anything else before a ':' is not a method. */
static int is_method_word(const char *s, size_t len)
{
	if (len == 0 || len > 32)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* NAME (LEN bytes) as PART of a spec: a container, pod or namespace name. */
static int check_name(const char *part, const char *s, size_t len, char *err, size_t errlen)
{
	return check_word(part, s, len, MAX_HOST, "_", err, errlen);
}

int jg_target_check_name(const char *part, const char *name, char *err, size_t errlen)
{
	return check_name(part, name, strlen(name), err, errlen);
}

static int dup_n(char **dst, const char *s, size_t len)
{
	free(*dst);
	return (*dst = strndup(s, len)) == NULL ? JG_ERR_NOMEM : 0;
}

/* "[user@]rest": the user (checked) into O->user, REST returned. NULL with ERR. */
static const char *take_user(const char *v, struct jg_hop_opts *o, int *r, char *err, size_t errlen)
{
	const char *at = strchr(v, '@');

	*r = 0;
	if (at == NULL)
		return v;
	if ((*r = check_word("user", v, (size_t)(at - v), MAX_USER, "_", err, errlen)) != 0 ||
	    (*r = dup_n(&o->user, v, (size_t)(at - v))) != 0)
		return NULL;
	return at + 1;
}

/* "setns:" [user "@"] (number | "pid:" number | kind ":" name). */
static int parse_setns(const char *v, struct jg_hop_opts *o, char *err, size_t errlen)
{
	static const struct {
		const char *word;
		enum jg_setns_kind kind;
	} kinds[] = {{"docker", JG_SETNS_DOCKER},
		     {"lxc", JG_SETNS_LXC},
		     {"machinectl", JG_SETNS_MACHINECTL}};
	const char *colon;
	int r;

	if ((v = take_user(v, o, &r, err, errlen)) == NULL)
		return r;
	colon = strchr(v, ':');
	if (colon == NULL || (colon - v == 3 && memcmp(v, "pid", 3) == 0)) {
		const char *num = colon != NULL ? colon + 1 : v;
		char *end = NULL;
		long pid = strtol(num, &end, 10);

		if (num[0] < '1' || num[0] > '9' || *end != '\0' || pid <= 0 || pid > 4194304)
			return refuse(err, errlen, "pid", num, strlen(num),
				      "must be a process ID (1-4194304)");
		o->setns_kind = JG_SETNS_PID;
		o->pid = pid;
		return 0;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].word) != (size_t)(colon - v) ||
		    memcmp(kinds[i].word, v, (size_t)(colon - v)) != 0)
			continue;
		o->setns_kind = kinds[i].kind;
		if ((r = check_name("container", colon + 1, strlen(colon + 1), err, errlen)) != 0)
			return r;
		return dup_n(&o->name, colon + 1, strlen(colon + 1));
	}
	return refuse(err, errlen, "setns", v, strlen(v),
		      "expected a PID, pid:N, docker:NAME, lxc:NAME or machinectl:NAME");
}

/* "kubectl:" [namespace ":"] pod [":" container]. */
static int parse_kubectl(const char *v, struct jg_hop_opts *o, char *err, size_t errlen)
{
	const char *part[3] = {v, NULL, NULL};
	size_t len[3], n = 1;
	const char *c;
	int r;

	while ((c = strchr(part[n - 1], ':')) != NULL) {
		if (n == 3)
			return refuse(err, errlen, "kubectl", v, strlen(v),
				      "expected [namespace:]pod[:container]");
		len[n - 1] = (size_t)(c - part[n - 1]);
		part[n++] = c + 1;
	}
	len[n - 1] = strlen(part[n - 1]);
	if (n == 1)
		return (r = check_name("pod", part[0], len[0], err, errlen)) != 0
			   ? r
			   : dup_n(&o->name, part[0], len[0]);
	if ((r = check_name("namespace", part[0], len[0], err, errlen)) != 0 ||
	    (r = check_name("pod", part[1], len[1], err, errlen)) != 0 ||
	    (n == 3 && (r = check_name("container", part[2], len[2], err, errlen)) != 0) ||
	    (r = dup_n(&o->kube_ns, part[0], len[0])) != 0 ||
	    (r = dup_n(&o->name, part[1], len[1])) != 0 ||
	    (n == 3 && (r = dup_n(&o->container, part[2], len[2])) != 0))
		return r;
	return 0;
}

/* Every method but local and ssh, from "method:value". */
static int from_method_spec(enum jg_method m, const char *v, const char *text,
			    struct jg_chain **out, char *err, size_t errlen)
{
	struct jg_hop hop = {.method = m};
	const char *rest;
	int r = 0;

	switch (m) {
	case JG_METHOD_SUDO:
	case JG_METHOD_SU:
	case JG_METHOD_DOAS:
		if ((r = check_word("user", v, strlen(v), MAX_USER, "_", err, errlen)) == 0)
			r = dup_n(&hop.o.user, v, strlen(v));
		break;
	case JG_METHOD_LXC:
	case JG_METHOD_LXD:
		if ((r = check_name("container", v, strlen(v), err, errlen)) == 0)
			r = dup_n(&hop.o.name, v, strlen(v));
		break;
	case JG_METHOD_DOCKER:
		if ((rest = take_user(v, &hop.o, &r, err, errlen)) != NULL &&
		    (r = check_name("container", rest, strlen(rest), err, errlen)) == 0)
			r = dup_n(&hop.o.name, rest, strlen(rest));
		break;
	case JG_METHOD_KUBECTL:
		r = parse_kubectl(v, &hop.o, err, errlen);
		break;
	case JG_METHOD_SETNS:
		r = parse_setns(v, &hop.o, err, errlen);
		break;
	default:
		r = refuse(err, errlen, "target", text, strlen(text),
			   "this method is for inventory entries only");
		break;
	}
	if (r != 0) {
		jg_hop_clear(&hop);
		return r;
	}
	return jg_chain_new_take(&hop, strdup(text), strdup(text), out);
}

/* One element of a chain (no '/'), as a chain of one hop. */
static int resolve_one(const struct jg_config *cfg, const char *text, struct jg_chain **out,
		       char *err, size_t errlen)
{
	const struct jg_target *t;
	const char *colon;
	struct jg_hop hop = {0};
	int r;

	if (text[0] == '\0') {
		set_err(err, errlen, "empty target");
		return JG_ERR_INVAL;
	}
	/* An inventory name wins over a host of the same name. */
	if ((t = jg_config_find_target(cfg, text)) != NULL) {
		r = from_inventory(t, out);
	} else if (strcmp(text, "local") == 0) {
		hop.method = JG_METHOD_LOCAL;
		r = jg_chain_new_take(&hop, strdup("local"), strdup("local"), out);
	} else if ((colon = strchr(text, ':')) != NULL && text[0] != '[' &&
		   is_method_word(text, (size_t)(colon - text))) {
		size_t mlen = (size_t)(colon - text);
		enum jg_method m = jg_method_lookup(text, mlen);

		if (m == JG_METHOD_SSH) {
			r = from_ssh_spec(cfg, colon + 1, text, out, err, errlen);
		} else if (m == JG_METHOD_LOCAL) {
			r = refuse(err, errlen, "target", text, strlen(text),
				   "\"local\" takes no options");
		} else if (m != 0 && m != JG_METHOD_TUNNEL) {
			r = from_method_spec(m, colon + 1, text, out, err, errlen);
		} else {
			set_err(err, errlen,
				"unknown method \"%.*s\" (known: local, ssh, sudo, su, doas, lxc, "
				"lxd, docker, kubectl, setns)",
				(int)mlen, text);
			r = JG_ERR_NOTFOUND;
		}
	} else if ((r = check_host_n(text, strlen(text), err, errlen)) == 0) {
		/* A bare host, as ssh itself would take it (no user, no port:
		 * "db7:22" reads as a method). */
		r = from_ssh_spec(cfg, text, text, out, err, errlen);
	}
	return r;
}

/* Append ONE's hop to C (taken), its key and display after a '/'. */
static int chain_append(struct jg_chain *c, struct jg_chain *one)
{
	struct jg_hop *hops = realloc(c->hops, (c->nhops + 1) * sizeof(*hops));
	char *key = NULL, *display = NULL;

	if (hops != NULL)
		c->hops = hops;
	if (hops == NULL ||
	    (key = c->key == NULL ? strdup(one->key) : fmt_dup("%s/%s", c->key, one->key)) ==
		NULL ||
	    (display = c->display == NULL ? strdup(one->display)
					  : fmt_dup("%s/%s", c->display, one->display)) == NULL) {
		free(key);
		return JG_ERR_NOMEM;
	}
	free(c->key);
	free(c->display);
	c->key = key;
	c->display = display;
	c->hops[c->nhops++] = one->hops[0];
	one->nhops = 0;
	return 0;
}

int jg_target_resolve(const struct jg_config *cfg, const char *text, struct jg_chain **out,
		      char *err, size_t errlen)
{
	struct jg_chain *c = NULL, *one = NULL;
	const char *p, *slash;
	size_t n = 0;
	int r = 0;

	*out = NULL;
	if (text == NULL || text[0] == '\0') {
		set_err(err, errlen, "empty target");
		return JG_ERR_INVAL;
	}
	if (strchr(text, '/') == NULL) {
		if ((r = resolve_one(cfg, text, out, err, errlen)) == 0 &&
		    (r = jg_chain_canon(*out)) != 0) {
			jg_chain_free(*out);
			*out = NULL;
		}
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	for (p = text; r == 0; p = slash + 1) {
		char *elem;

		slash = strchr(p, '/');
		if (++n > JG_CHAIN_MAX_HOPS) {
			r = refuse(err, errlen, "target", text, strlen(text),
				   "a chain has at most 8 hops");
			break;
		}
		elem = slash != NULL ? strndup(p, (size_t)(slash - p)) : strdup(p);
		r = elem == NULL ? JG_ERR_NOMEM : resolve_one(cfg, elem, &one, err, errlen);
		free(elem);
		if (r == 0)
			r = chain_append(c, one);
		jg_chain_free(one);
		one = NULL;
		if (slash == NULL)
			break;
	}
	if (r == 0 && (r = jg_chain_check(c->hops, c->nhops, err, errlen)) == 0 &&
	    (r = jg_chain_canon(c)) == 0) {
		*out = c;
		c = NULL;
	}
out:
	jg_chain_free(c);
	if (r == JG_ERR_NOMEM)
		set_err(err, errlen, "out of memory");
	return r;
}

/* HOST without the brackets of an IPv6 address, into BUF. */
static const char *bare_host(const char *host, char *buf, size_t len)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < len) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return buf;
	}
	return host;
}

int jg_target_tunnel_allowed(const struct jg_config *cfg, const char *target, const char *host,
			     uint16_t port, char *why, size_t whylen)
{
	const struct jg_target *t = jg_config_find_target(cfg, target);
	char portstr[8], hb[300], rb[300];
	const char *h;

	/* A tunnel target's host is part of the target: "office:22" names it. */
	if (host == NULL || strcmp(host, "localhost") == 0)
		host = "localhost";
	h = bare_host(host, hb, sizeof(hb));
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	switch (cfg->tunnel_policy) {
	case JG_TUNNELS_ANY:
		return 1;
	case JG_TUNNELS_DEFAULT:
		if (t != NULL && strcmp(h, "localhost") == 0 && port == 22)
			return 1;
		set_err(why, whylen,
			"a tunnel to %s%s%s port %u is not allowed: without `tunnels` in the "
			"configuration, only port 22 of inventory targets is (see tunnels.allow)",
			target, strcmp(h, "localhost") != 0 ? " host " : "",
			strcmp(h, "localhost") != 0 ? host : "", (unsigned)port);
		return 0;
	case JG_TUNNELS_LIST:
		break;
	}
	for (size_t i = 0; i < cfg->ntunnel_rules; i++) {
		const struct jg_tunnel_rule *r = &cfg->tunnel_rules[i];

		if (fnmatch(r->target, target, 0) == 0 && fnmatch(r->port, portstr, 0) == 0 &&
		    fnmatch(bare_host(r->host, rb, sizeof(rb)), h, 0) == 0)
			return 1;
	}
	if (strcmp(h, "localhost") == 0)
		set_err(why, whylen,
			"a tunnel to %s port %u is not allowed (no tunnels.allow "
			"entry matches \"%s:%u\")",
			target, (unsigned)port, target, (unsigned)port);
	else
		set_err(why, whylen,
			"a tunnel to %s host %s port %u is not allowed (no "
			"tunnels.allow entry matches \"%s:%s:%u\")",
			target, host, (unsigned)port, target, host, (unsigned)port);
	return 0;
}
