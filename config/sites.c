/* Multi-site settings of jumpgated.conf: `gateway_name` and `sites`.
 *
 *   gateway_name = "site-a";
 *   sites = (
 *     { name = "site-b"; address = "127.0.0.1:4444";
 *       ca = "b-ca.pem"; cert = "a-client.pem"; key = "a-client.key";
 *       keepalive_interval = 5; },
 *     { name = "site-z"; identity = "gw-z"; trust_asserted_identity = true; }
 *   );
 *
 * A site entry with an `address` is a peer this gateway links to (and so
 * learns routes from); `ca`, `cert` and `key` then say how: the CA the peer's
 * server certificate must chain to, and our client certificate.  `identity`
 * is the name the peer's own client certificate gives (per the `identity`
 * setting) when IT connects to US; `trust_asserted_identity` lets such a
 * connection assert the controller it acts for.  Names share the alphabet of
 * inventory names and may not collide with them: `site-b/web3` must mean one
 * thing.  `learn = [ "site-c", "dc2-*" ]` names the sites whose routes may be
 * learned through the peer (globs; "*" any); unset, only the names of `sites`
 * entries.  A learned name that is an inventory target or group is refused
 * whatever `learn` says (jg_config_site_may_learn). */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/parse.h"
#include "relay/err.h"
#include "relay/rtable.h"

#define DEFAULT_SITE_KEEPALIVE_MS 10000
#define MAX_SITES 256

/* [A-Za-z0-9][A-Za-z0-9._-]*, at most 63: a site name travels in paths and headers. */
int jg_config_site_name_ok(const char *v)
{
	return jg_rtable_name_ok(v);
}

static int parse_name(struct jg_parser *p, const config_setting_t *s, const char *key, char **out)
{
	const char *v;
	int r;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if (!jg_config_site_name_ok(v))
		return jg_parse_fail(p, s, key,
				     "\"%s\" is not a site name (1-63 of A-Z a-z 0-9 . _ -, "
				     "starting with a letter or digit)",
				     v);
	free(*out);
	return (*out = strdup(v)) == NULL ? JG_ERR_NOMEM : 0;
}

int jg_parse_gateway_name(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	return parse_name(p, s, "gateway_name", &c->gateway_name);
}

/* "host:port" or "[v6]:port", the host numeric or "localhost": no DNS at connect time. */
static int parse_address(struct jg_parser *p, const config_setting_t *s, const char *key,
			 struct jg_site *site)
{
	const char *v, *host, *port, *end;
	unsigned char addr[16];
	char hbuf[64];
	unsigned long n = 0;
	size_t hlen;
	int r, family = AF_INET;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if (v[0] == '[') {
		host = v + 1;
		if ((end = strchr(host, ']')) == NULL || end[1] != ':')
			goto syntax;
		port = end + 2;
		family = AF_INET6;
	} else {
		if ((end = strrchr(v, ':')) == NULL || memchr(v, ':', (size_t)(end - v)) != NULL)
			goto syntax;
		host = v;
		port = end + 1;
	}
	hlen = (size_t)(end - host);
	if (hlen == 0 || hlen >= sizeof(hbuf) || port[0] == '\0')
		goto syntax;
	for (const char *d = port; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			goto syntax;
		if (n <= 65535)
			n = n * 10 + (unsigned long)(*d - '0');
	}
	if (n < 1 || n > 65535)
		return jg_parse_fail(p, s, key, "port %s out of range 1-65535", port);
	memcpy(hbuf, host, hlen);
	hbuf[hlen] = '\0';
	if (inet_pton(family, hbuf, addr) != 1 &&
	    (family != AF_INET || strcmp(hbuf, "localhost") != 0))
		return jg_parse_fail(p, s, key,
				     "host \"%s\" must be a numeric address or localhost (the "
				     "gateway does no DNS when it reconnects)",
				     hbuf);
	if ((site->address = strdup(v)) == NULL || (site->host = strdup(hbuf)) == NULL)
		return JG_ERR_NOMEM;
	snprintf(site->port, sizeof(site->port), "%lu", n);
	return 0;
syntax:
	return jg_parse_fail(
	    p, s, key, "\"%s\" is not host:port (as in \"10.1.0.5:4443\" or \"[::1]:4443\")", v);
}

/* learn = [ "site-c", "dc2-*", ... ]: site names, or globs of their characters. */
static int parse_learn(struct jg_parser *p, const config_setting_t *s, const char *key,
		       struct jg_site *site)
{
	int len = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return jg_parse_fail(p, s, key,
				     "must be a list of site names or globs [ \"site-c\", ... ], "
				     "not %s",
				     jg_parse_type_name(config_setting_type(s)));
	if (len > MAX_SITES)
		return jg_parse_fail(p, s, key, "%d entries, at most %d", len, MAX_SITES);
	if (site->learn != NULL || (site->learn = calloc((size_t)len + 1, sizeof(char *))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < len; i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL || v[0] == '\0' || strlen(v) > 63 ||
		    strspn(v,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-*?") !=
			strlen(v))
			return jg_parse_fail(p, s, key,
					     "element %d is not a site name or a glob of one (1-63 "
					     "of A-Z a-z 0-9 . _ - * ?)",
					     i + 1);
		if ((site->learn[i] = strdup(v)) == NULL)
			return JG_ERR_NOMEM;
		site->nlearn++;
	}
	return 0;
}

static int parse_site(struct jg_parser *p, const config_setting_t *s, int idx, struct jg_site *site)
{
	char key[96];
	const config_setting_t *where = s;
	int r = 0;

	site->line = (int)config_setting_source_line(s);
	site->keepalive_interval_ms = DEFAULT_SITE_KEEPALIVE_MS;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		snprintf(key, sizeof(key), "sites[%d]", idx);
		return jg_parse_fail(p, s, key,
				     "must be a group { name = ...; address = ...; }, "
				     "not %s",
				     jg_parse_type_name(config_setting_type(s)));
	}
	for (int i = 0; i < config_setting_length(s) && r == 0; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);

		snprintf(key, sizeof(key), "sites[%d].%s", idx, name);
		if (strcmp(name, "name") == 0)
			r = parse_name(p, e, key, &site->name);
		else if (strcmp(name, "address") == 0)
			r = parse_address(p, e, key, site);
		else if (strcmp(name, "ca") == 0)
			r = jg_parse_path(p, e, key, &site->ca_file);
		else if (strcmp(name, "cert") == 0)
			r = jg_parse_path(p, e, key, &site->cert_file);
		else if (strcmp(name, "key") == 0)
			r = jg_parse_path(p, e, key, &site->key_file);
		else if (strcmp(name, "identity") == 0) {
			const char *v;

			if ((r = jg_parse_string(p, e, key, &v)) == 0 && v[0] == '\0')
				r = jg_parse_fail(p, e, key, "empty");
			else if (r == 0 && (site->identity = strdup(v)) == NULL)
				r = JG_ERR_NOMEM;
		} else if (strcmp(name, "trust_asserted_identity") == 0) {
			where = e;
			r = jg_parse_bool(p, e, key, &site->trust_asserted_identity);
		} else if (strcmp(name, "keepalive_interval") == 0)
			r = jg_parse_seconds(p, e, key, &site->keepalive_interval_ms);
		else if (strcmp(name, "learn") == 0)
			r = parse_learn(p, e, key, site);
		else
			r = jg_parse_fail(p, e, key,
					  "unknown key (a site takes name, address, ca, cert, key, "
					  "identity, trust_asserted_identity, keepalive_interval, "
					  "learn)");
	}
	if (r != 0)
		return r;
	snprintf(key, sizeof(key), "sites[%d]", idx);
	if (site->name == NULL)
		return jg_parse_fail(p, s, key, "name missing");
	if (site->address != NULL &&
	    (site->ca_file == NULL || site->cert_file == NULL || site->key_file == NULL))
		return jg_parse_fail(p, s, key,
				     "site \"%s\": address needs ca (the CA of its server "
				     "certificate), cert and key (our client certificate): %s "
				     "missing",
				     site->name,
				     site->ca_file == NULL     ? "ca"
				     : site->cert_file == NULL ? "cert"
							       : "key");
	if (site->address == NULL && (site->ca_file || site->cert_file || site->key_file))
		return jg_parse_fail(p, s, key,
				     "site \"%s\": ca, cert and key are for linking to it: "
				     "address missing",
				     site->name);
	if (site->trust_asserted_identity && site->identity == NULL)
		return jg_parse_fail(p, where, key,
				     "site \"%s\": trust_asserted_identity needs identity (the "
				     "name its client certificate gives when it connects here)",
				     site->name);
	if (site->address == NULL && site->identity == NULL)
		return jg_parse_fail(p, s, key,
				     "site \"%s\": give address (to link to it) or identity (to "
				     "know it when it links here), or both",
				     site->name);
	return 0;
}

int jg_parse_sites(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	int n, r;
	char key[32];

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return jg_parse_fail(p, s, "sites",
				     "must be a list ( { name = ...; }, ... ), not %s",
				     jg_parse_type_name(config_setting_type(s)));
	n = config_setting_length(s);
	if (n > MAX_SITES)
		return jg_parse_fail(p, s, "sites", "%d entries, at most %d", n, MAX_SITES);
	if (n == 0)
		return 0;
	if ((c->sites = calloc((size_t)n, sizeof(*c->sites))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		c->nsites++; /* counted first: jg_config_free frees a half-parsed one */
		if ((r = parse_site(p, e, i, &c->sites[i])) != 0)
			return r;
		for (int j = 0; j < i; j++) {
			if (strcmp(c->sites[j].name, c->sites[i].name) == 0) {
				snprintf(key, sizeof(key), "sites[%d].name", i);
				return jg_parse_fail(p, e, key,
						     "site \"%s\" already defined at line %d",
						     c->sites[i].name, c->sites[j].line);
			}
		}
	}
	return 0;
}

/* The short host name, when it is a valid site name; else "gateway". */
static int default_gateway_name(struct jg_config *c)
{
	char buf[256];

	if (gethostname(buf, sizeof(buf)) != 0)
		buf[0] = '\0';
	buf[sizeof(buf) - 1] = '\0';
	buf[strcspn(buf, ".")] = '\0';
	c->gateway_name = strdup(jg_config_site_name_ok(buf) ? buf : "gateway");
	return c->gateway_name == NULL ? JG_ERR_NOMEM : 0;
}

int jg_parse_sites_finish(struct jg_parser *p, const config_setting_t *root, struct jg_config *c)
{
	/* ROOT is NULL for the built-in default (no file, so no sites). */
	const config_setting_t *s = root != NULL ? config_setting_get_member(root, "sites") : NULL;
	int r;

	if (c->gateway_name == NULL && (r = default_gateway_name(c)) != 0)
		return r;
	for (size_t i = 0; i < c->nsites; i++) {
		const struct jg_site *site = &c->sites[i];
		const config_setting_t *e =
		    s != NULL ? config_setting_get_elem(s, (unsigned)i) : NULL;
		char key[32];

		snprintf(key, sizeof(key), "sites[%zu].name", i);
		if (strcmp(site->name, c->gateway_name) == 0)
			return jg_parse_fail(p, e != NULL ? e : root, key,
					     "\"%s\" is this gateway's own name (gateway_name)",
					     site->name);
		if (jg_config_find_target(c, site->name) != NULL ||
		    jg_config_find_group(c, site->name) != NULL)
			return jg_parse_fail(p, e != NULL ? e : root, key,
					     "\"%s\" is also an inventory target or group: "
					     "\"%s/...\" would be ambiguous",
					     site->name, site->name);
	}
	return 0;
}

void jg_config_free_sites(struct jg_config *c)
{
	for (size_t i = 0; i < c->nsites; i++) {
		struct jg_site *s = &c->sites[i];

		free(s->name);
		free(s->address);
		free(s->host);
		free(s->ca_file);
		free(s->cert_file);
		free(s->key_file);
		free(s->identity);
		for (size_t j = 0; j < s->nlearn; j++)
			free(s->learn[j]);
		free(s->learn);
	}
	free(c->sites);
	free(c->gateway_name);
}

const struct jg_site *jg_config_find_site(const struct jg_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}

int jg_config_site_may_learn(const struct jg_config *c, const char *peer, const char *site,
			     char *why, size_t whylen)
{
	const struct jg_site *p = jg_config_find_site(c, peer);

	if (strcmp(site, c->gateway_name) == 0) {
		snprintf(why, whylen, "\"%s\" is this gateway's own name", site);
		return 0;
	}
	/* "local" included: the inventory always holds it. */
	if (jg_config_find_target(c, site) != NULL || jg_config_find_group(c, site) != NULL) {
		snprintf(why, whylen,
			 "\"%s\" is an inventory %s here: a peer cannot take that name", site,
			 jg_config_find_target(c, site) != NULL ? "target" : "group");
		return 0;
	}
	if (p == NULL) {
		snprintf(why, whylen, "%s is not a configured site", peer);
		return 0;
	}
	if (p->learn == NULL) {
		if (jg_config_find_site(c, site) != NULL)
			return 1;
		snprintf(why, whylen,
			 "\"%s\" is not a configured site (sites entry %s: learn = [ \"%s\" ] or "
			 "[ \"*\" ] allows it)",
			 site, peer, site);
		return 0;
	}
	/* The peer's own name always: it is what the entry configures. */
	if (strcmp(site, peer) == 0)
		return 1;
	for (size_t i = 0; i < p->nlearn; i++)
		if (fnmatch(p->learn[i], site, 0) == 0)
			return 1;
	snprintf(why, whylen, "\"%s\" is not in the learn list of sites entry %s", site, peer);
	return 0;
}
