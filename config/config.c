/* jumpgated.conf: libconfig text in, one immutable struct jg_config out.
 *
 * Every key is optional and has a default.  Anything the parser does not
 * know is an error, never ignored: a typo such as "idle_timout" must not
 * leave the default silently in force.  Messages follow "FILE:LINE: key:
 * what is wrong" so an operator can go straight to the line. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/target.h"
#include "config/parse.h"
#include "config/paths.h"
#include "relay/err.h"
#include "relay/log.h"

#define DEFAULT_LISTEN_HOST "127.0.0.1"
#define DEFAULT_LISTEN_PORT 4443
#define DEFAULT_DRAIN_MS 10000
#define DEFAULT_HANDSHAKE_MS 10000
#define DEFAULT_PREFACE_MS 10000
#define DEFAULT_MAX_SETUPS 64
#define DEFAULT_MAX_SETUPS_PER_IDENTITY 32
#define DEFAULT_IDLE_MS 300000
#define DEFAULT_MAX_STREAMS 256
#define DEFAULT_STREAM_WINDOW 1048576
#define DEFAULT_STREAM_WINDOW_MAX (8u << 20)
#define DEFAULT_WINDOW_BUDGET (32u << 20)
#define DEFAULT_MAX_CONNS_PER_IDENTITY 64
#define DEFAULT_MAX_HEADER_LIST 65536
#define DEFAULT_BUFFER_BUDGET_MIB 256
#define DEFAULT_POOL_IDLE_MS 300000
#define DEFAULT_CONNECT_MS 15000
#define DEFAULT_KEEPALIVE_MS 15000
#define DEFAULT_CHILD_NOFILE 1024
#define LOCAL_TARGET "local"

/* "host:port", or "[v6]:port", at KEY into *HOSTP (replaced) and *PORTP.  The host
 * must be numeric (or localhost): a listener must not depend on DNS at start. */
static int parse_hostport(struct jg_parser *p, const config_setting_t *s, const char *key,
			  char **hostp, uint16_t *portp)
{
	const char *v = NULL, *host, *port, *end;
	unsigned char addr[16];
	char hbuf[INET6_ADDRSTRLEN + 1];
	size_t hlen;
	unsigned long n = 0;
	int r, family;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if (v[0] == '[') {
		host = v + 1;
		if ((end = strchr(host, ']')) == NULL || end[1] != ':')
			goto syntax;
		port = end + 2;
		family = AF_INET6;
	} else {
		if ((end = strchr(v, ':')) == NULL)
			goto syntax;
		if (strchr(end + 1, ':') != NULL)
			return jg_parse_fail(
			    p, s, key,
			    "\"%s\": an IPv6 address goes in brackets, as in \"[::1]:4443\"", v);
		host = v;
		port = end + 1;
		family = AF_INET;
	}
	hlen = (size_t)(end - host);
	if (hlen == 0)
		goto syntax;
	if (port[0] == '\0')
		return jg_parse_fail(p, s, key, "\"%s\": port missing after ':'", v);
	for (const char *d = port; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return jg_parse_fail(p, s, key, "port \"%s\" is not a number", port);
		if (n <= 65535)
			n = n * 10 + (unsigned long)(*d - '0');
	}
	if (n < 1 || n > 65535)
		return jg_parse_fail(p, s, key, "port %s out of range 1-65535", port);
	if (hlen >= sizeof(hbuf))
		goto badhost;
	memcpy(hbuf, host, hlen);
	hbuf[hlen] = '\0';
	if (inet_pton(family, hbuf, addr) != 1 &&
	    (family != AF_INET || strcmp(hbuf, "localhost") != 0))
		goto badhost;
	free(*hostp);
	if ((*hostp = strdup(hbuf)) == NULL)
		return JG_ERR_NOMEM;
	*portp = (uint16_t)n;
	return 0;
syntax:
	return jg_parse_fail(
	    p, s, key, "\"%s\" is not host:port (as in \"127.0.0.1:4443\" or \"[::1]:4443\")", v);
badhost:
	return jg_parse_fail(p, s, key, "host \"%.*s\" must be a numeric %s address%s", (int)hlen,
			     host, family == AF_INET6 ? "IPv6" : "IPv4",
			     family == AF_INET ? " or localhost" : "");
}

static int parse_listen(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	return parse_hostport(p, s, "listen", &c->listen_host, &c->listen_port);
}

/* tls = { ca = ...; cert = ...; key = ...; }: all three or none. */
static int parse_tls(struct jg_parser *p, const config_setting_t *s)
{
	static const char *const names[] = {"ca", "cert", "key"};
	char **dst[] = {&p->tls_ca, &p->tls_cert, &p->tls_key};
	char key[32];
	int r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(p, s, "tls",
				     "must be a group { ca = ...; cert = ...; key = ...; }, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	p->tls = s;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		size_t k;

		for (k = 0; k < 3; k++)
			if (strcmp(name, names[k]) == 0)
				break;
		snprintf(key, sizeof(key), "tls.%s", name);
		if (k == 3)
			return jg_parse_fail(p, e, key, "unknown key (tls takes ca, cert and key)");
		if ((r = jg_parse_path(p, e, key, dst[k])) != 0)
			return r;
	}
	return 0;
}

static int add_local_target(struct jg_config *c)
{
	struct jg_target *t;

	if (jg_config_find_target(c, LOCAL_TARGET) != NULL)
		return 0;
	if (c->targets == NULL && (c->targets = calloc(1, sizeof(*c->targets))) == NULL)
		return JG_ERR_NOMEM;
	t = &c->targets[c->ntargets];
	if ((t->name = strdup(LOCAL_TARGET)) == NULL)
		return JG_ERR_NOMEM;
	t->hop.method = JG_METHOD_LOCAL;
	c->ntargets++;
	return 0;
}

static void set_defaults(struct jg_config *c)
{
	c->listen_port = DEFAULT_LISTEN_PORT;
	c->generate_certs = 1;
	c->log_level = JG_LOG_INFO;
	c->drain_timeout_ms = DEFAULT_DRAIN_MS;
	c->handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
	c->preface_timeout_ms = DEFAULT_PREFACE_MS;
	c->idle_timeout_ms = DEFAULT_IDLE_MS;
	c->max_streams = DEFAULT_MAX_STREAMS;
	c->stream_window = DEFAULT_STREAM_WINDOW;
	c->stream_window_max = DEFAULT_STREAM_WINDOW_MAX;
	c->window_budget = DEFAULT_WINDOW_BUDGET;
	c->max_connections_per_identity = DEFAULT_MAX_CONNS_PER_IDENTITY;
	c->max_header_list_size = DEFAULT_MAX_HEADER_LIST;
	c->buffer_budget = (uint64_t)DEFAULT_BUFFER_BUDGET_MIB << 20;
	c->pool_idle_timeout_ms = DEFAULT_POOL_IDLE_MS;
	c->connect_timeout_ms = DEFAULT_CONNECT_MS;
	c->keepalive_interval_ms = DEFAULT_KEEPALIVE_MS;
	c->child_nofile = DEFAULT_CHILD_NOFILE;
	c->max_onward_setups = DEFAULT_MAX_SETUPS;
	c->max_onward_setups_per_identity = DEFAULT_MAX_SETUPS_PER_IDENTITY;
	c->ssh_defaults.method = JG_METHOD_SSH;
	jg_parse_ssh_defaults(&c->ssh_defaults.ssh);
}

/* The certificate files inside c->state_dir, to be generated there. */
static int set_state_files(struct jg_config *c)
{
	if ((c->ca_file = jg_parse_join_dup(c->state_dir, JG_CA_CERT)) == NULL ||
	    (c->cert_file = jg_parse_join_dup(c->state_dir, JG_SERVER_CERT)) == NULL ||
	    (c->key_file = jg_parse_join_dup(c->state_dir, JG_SERVER_KEY)) == NULL)
		return JG_ERR_NOMEM;
	c->generate_certs = 1;
	return 0;
}

/* The default state directory into c->state_dir; *WHY says what failed. */
static int default_state_dir(struct jg_config *c, const char **why)
{
	char buf[4096];
	int r;

	if ((r = jg_paths_state_dir(buf, sizeof(buf))) != 0) {
		*why = r == JG_ERR_NOTFOUND ? "neither JUMPGATE_HOME nor HOME is set"
					    : "the default state directory path is too long";
		return r;
	}
	if ((c->state_dir = strdup(buf)) == NULL) {
		*why = "out of memory";
		return JG_ERR_NOMEM;
	}
	return 0;
}

/* No `audit` key: a file (jg_paths_audit_default), never stderr by accident. */
static int default_audit(struct jg_config *c)
{
	char buf[4096];

	if (jg_paths_audit_default(c->state_dir, buf, sizeof(buf)) != 0)
		return JG_ERR_TOOBIG;
	return (c->audit_path = strdup(buf)) == NULL ? JG_ERR_NOMEM : 0;
}

/* ssh_defaults = { ... }: the ssh options of every spec that is not in the
 * inventory, and the base every ssh target starts from.  No host: a
 * default host would turn every typo into a connection attempt. */
static int parse_ssh_defaults(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	char key[96];
	int r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(p, s, "ssh_defaults",
				     "must be a group { user = ...; ... }, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		snprintf(key, sizeof(key), "ssh_defaults.%s", config_setting_name(e));
		if (strcmp(config_setting_name(e), "host") == 0)
			return jg_parse_fail(p, e, key,
					     "not allowed (the host comes from the target spec)");
		if ((r = jg_parse_ssh_key(p, e, key, &c->ssh_defaults.ssh)) < 0)
			return r;
		if (r > 0)
			return jg_parse_fail(p, e, key,
					     "unknown key (see jumpgated.conf.example for the ssh "
					     "option keys)");
	}
	return 0;
}

/* pool = { idle_timeout; connect_timeout; keepalive_interval; } in seconds. */
static int parse_pool(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	static const char *const names[] = {"idle_timeout", "connect_timeout",
					    "keepalive_interval"};
	uint32_t *const dst[] = {&c->pool_idle_timeout_ms, &c->connect_timeout_ms,
				 &c->keepalive_interval_ms};
	char key[64];
	int r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(p, s, "pool",
				     "must be a group { idle_timeout = ...; ... }, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		size_t k;

		for (k = 0; k < 3; k++)
			if (strcmp(name, names[k]) == 0)
				break;
		snprintf(key, sizeof(key), "pool.%s", name);
		if (k == 3)
			return jg_parse_fail(
			    p, e, key,
			    "unknown key (pool takes idle_timeout, connect_timeout "
			    "and keepalive_interval)");
		if ((r = jg_parse_seconds(p, e, key, dst[k])) != 0)
			return r;
	}
	return 0;
}

/* Bytes, 1 MiB to 64 GiB (a 64-bit integer: "274877906944L" in libconfig). */
static int parse_buffer_budget(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return jg_parse_fail(p, s, "buffer_budget", "must be an integer (bytes), not %s",
				     jg_parse_type_name(config_setting_type(s)));
	v = config_setting_get_int64(s);
	if (v < (1LL << 20) || v > (64LL << 30))
		return jg_parse_fail(p, s, "buffer_budget",
				     "%lld out of range 1048576 (1 MiB) - 68719476736 (64 GiB)", v);
	c->buffer_budget = (uint64_t)v;
	return 0;
}

/* An absolute path that fits in sockaddr_un (108 bytes on Linux, NUL included). */
static int parse_unix_socket(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, s, "unix_socket", &v)) != 0)
		return r;
	if (v[0] != '/')
		return jg_parse_fail(p, s, "unix_socket", "\"%s\" is not an absolute path", v);
	if (strlen(v) > 107)
		return jg_parse_fail(p, s, "unix_socket", "path longer than 107 bytes");
	free(c->unix_socket);
	if ((c->unix_socket = strdup(v)) == NULL)
		return JG_ERR_NOMEM;
	return 0;
}

static int parse_root(struct jg_parser *p, const config_setting_t *root, struct jg_config *c)
{
	static const char *const seconds[] = {"drain_timeout", "handshake_timeout", "idle_timeout",
					      "preface_timeout"};
	uint32_t *const seconds_dst[] = {&c->drain_timeout_ms, &c->handshake_timeout_ms,
					 &c->idle_timeout_ms, &c->preface_timeout_ms};
	const config_setting_t *d = config_setting_get_member(root, "ssh_defaults");
	const char *v = NULL;
	int r = 0, lvl;

	/* Before the targets, which inherit from it wherever it is written. */
	if (d != NULL && (r = parse_ssh_defaults(p, d, c)) != 0)
		return r;
	for (int i = 0; i < config_setting_length(root) && r == 0; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		size_t k;

		for (k = 0; k < 4; k++)
			if (strcmp(name, seconds[k]) == 0)
				break;
		if (k < 4)
			r = jg_parse_seconds(p, s, name, seconds_dst[k]);
		else if (strcmp(name, "listen") == 0)
			r = parse_listen(p, s, c);
		else if (strcmp(name, "metrics_listen") == 0)
			r = parse_hostport(p, s, name, &c->metrics_host, &c->metrics_port);
		else if (strcmp(name, "state_dir") == 0)
			r = jg_parse_path(p, s, name, &c->state_dir);
		else if (strcmp(name, "tls") == 0)
			r = parse_tls(p, s);
		else if (strcmp(name, "log_level") == 0) {
			if ((r = jg_parse_string(p, s, name, &v)) == 0 &&
			    (lvl = jg_log_level_parse(v)) < 0)
				r = jg_parse_fail(
				    p, s, name, "\"%s\" is not one of error, warn, info, debug", v);
			else if (r == 0)
				c->log_level = lvl;
		} else if (strcmp(name, "max_streams") == 0)
			r = jg_parse_uint(p, s, name, 1, 10000, &c->max_streams);
		else if (strcmp(name, "stream_window") == 0)
			r = jg_parse_uint(p, s, name, 65535, 16777216, &c->stream_window);
		else if (strcmp(name, "stream_window_max") == 0)
			r = jg_parse_uint(p, s, name, 0, 268435456, &c->stream_window_max);
		else if (strcmp(name, "window_budget") == 0)
			r = jg_parse_uint(p, s, name, 0, 2147483647, &c->window_budget);
		else if (strcmp(name, "max_connections_per_identity") == 0)
			r = jg_parse_uint(p, s, name, 0, 100000, &c->max_connections_per_identity);
		else if (strcmp(name, "max_handshakes") == 0)
			r = jg_parse_uint(p, s, name, 0, 1000000, &c->max_handshakes);
		else if (strcmp(name, "max_header_list_size") == 0)
			r = jg_parse_uint(p, s, name, 1024, 1048576, &c->max_header_list_size);
		else if (strcmp(name, "buffer_budget") == 0)
			r = parse_buffer_budget(p, s, c);
		else if (strcmp(name, "unix_socket") == 0)
			r = parse_unix_socket(p, s, c);
		else if (strcmp(name, "agent_path") == 0)
			r = jg_parse_path(p, s, name, &c->agent_path);
		else if (strcmp(name, "targets") == 0)
			r = jg_parse_targets(p, s, c);
		else if (s == d || strcmp(name, "groups") == 0)
			continue; /* ssh_defaults came first; groups come last (jg_config_load) */
		else if (strcmp(name, "pool") == 0)
			r = parse_pool(p, s, c);
		else if (strcmp(name, "max_onward_setups") == 0)
			r = jg_parse_uint(p, s, name, 0, 100000, &c->max_onward_setups);
		else if (strcmp(name, "max_onward_setups_per_identity") == 0)
			r = jg_parse_uint(p, s, name, 0, 100000,
					  &c->max_onward_setups_per_identity);
		else if (strcmp(name, "child_nofile") == 0)
			r = jg_parse_uint(p, s, name, 64, 1048576, &c->child_nofile);
		else if (strcmp(name, "agents") == 0)
			r = jg_parse_paths(p, s, name, &c->agent_paths, &c->nagent_paths);
		else if (strcmp(name, "tunnels") == 0)
			r = jg_parse_tunnels(p, s, c);
		else if (strcmp(name, "identity") == 0)
			r = jg_parse_identity(p, s, c);
		else if (strcmp(name, "crl") == 0)
			r = jg_parse_path(p, s, name, &c->crl_file);
		else if (strcmp(name, "resolv_conf") == 0)
			r = jg_parse_path(p, s, name, &c->resolv_conf);
		else if (strcmp(name, "policy") == 0)
			r = jg_parse_policy(p, s, c);
		else if (strcmp(name, "gateway_name") == 0)
			r = jg_parse_gateway_name(p, s, c);
		else if (strcmp(name, "sites") == 0)
			r = jg_parse_sites(p, s, c);
		else if (strcmp(name, "audit") == 0) {
			/* "stderr" (or "-"): stderr, the journal under systemd. */
			p->audit_given = 1;
			if ((r = jg_parse_string(p, s, name, &v)) == 0 &&
			    strcmp(v, "stderr") != 0 && strcmp(v, "-") != 0)
				r = jg_parse_path(p, s, name, &c->audit_path);
		} else
			r = jg_parse_fail(p, s, name,
					  "unknown key (see jumpgated.conf.example for the keys)");
	}
	return r;
}

/* After the keys: fill in what depends on several of them. */
static int finish(struct jg_parser *p, struct jg_config *c)
{
	const char *why;
	int r;

	if (c->state_dir == NULL && (r = default_state_dir(c, &why)) != 0) {
		if (r == JG_ERR_NOMEM)
			return r;
		jg_parse_set_err(p->err, p->errlen, "%s: state_dir: not set, and no default: %s",
				 p->path, why);
		return JG_ERR_CONFIG;
	}
	if (!p->audit_given && (r = default_audit(c)) != 0)
		return r;
	if (p->tls_ca == NULL && p->tls_cert == NULL && p->tls_key == NULL) {
		if ((r = set_state_files(c)) != 0)
			return r;
	} else if (p->tls_ca == NULL || p->tls_cert == NULL || p->tls_key == NULL) {
		return jg_parse_fail(
		    p, p->tls, "tls",
		    "ca, cert and key go together: %s missing (or give none of them to "
		    "generate certificates in state_dir)",
		    p->tls_ca == NULL	  ? "ca"
		    : p->tls_cert == NULL ? "cert"
					  : "key");
	} else {
		c->ca_file = p->tls_ca;
		c->cert_file = p->tls_cert;
		c->key_file = p->tls_key;
		p->tls_ca = p->tls_cert = p->tls_key = NULL;
		c->generate_certs = 0;
	}
	return add_local_target(c);
}

/* The absolute directory holding PATH (which exists). */
static int file_dir(const char *path, char **out)
{
	char *d = strdup(path), *slash;

	if (d == NULL)
		return JG_ERR_NOMEM;
	slash = strrchr(d, '/');
	if (slash == NULL)
		strcpy(d, ".");
	else if (slash == d)
		d[1] = '\0';
	else
		*slash = '\0';
	*out = realpath(d, NULL);
	free(d);
	return *out == NULL ? JG_ERR_IO : 0;
}

int jg_config_load(const char *path, struct jg_config **out, char *err, size_t errlen)
{
	struct jg_parser p = {.path = path, .err = err, .errlen = errlen};
	const config_setting_t *groups;
	struct jg_config *c = NULL;
	struct stat st;
	config_t cfg;
	int r, e = 0;

	*out = NULL;
	config_init(&cfg);
	/* libconfig would read a directory as an empty file, hence the check. */
	if (stat(path, &st) != 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	if (e != 0) {
		jg_parse_set_err(err, errlen, "%s: cannot read: %s", path, strerror(e));
		r = JG_ERR_IO;
		goto out;
	}
	if ((r = file_dir(path, &p.dir)) != 0) {
		jg_parse_set_err(err, errlen, "%s: cannot resolve its directory: %s", path,
				 r == JG_ERR_NOMEM ? "out of memory" : strerror(errno));
		goto out;
	}
	/* @include "x" is relative to the file, like every other path in it. */
	config_set_include_dir(&cfg, p.dir);
	if (!config_read_file(&cfg, path)) {
		e = errno;
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			jg_parse_set_err(err, errlen, "%s: cannot read: %s", path, strerror(e));
			r = JG_ERR_IO;
		} else {
			const char *f = config_error_file(&cfg);

			/* As in fail(): an included file is relative to p.dir. */
			if (f == NULL || strcmp(f, path) == 0 || f[0] == '/')
				jg_parse_set_err(err, errlen, "%s:%d: %s", f != NULL ? f : path,
						 config_error_line(&cfg), config_error_text(&cfg));
			else
				jg_parse_set_err(err, errlen, "%s/%s:%d: %s", p.dir, f,
						 config_error_line(&cfg), config_error_text(&cfg));
			r = JG_ERR_CONFIG;
		}
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	set_defaults(c);
	if ((c->path = strdup(path)) == NULL ||
	    (c->listen_host = strdup(DEFAULT_LISTEN_HOST)) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	if ((r = parse_root(&p, config_root_setting(&cfg), c)) != 0)
		goto out;
	if ((r = finish(&p, c)) != 0)
		goto out;
	groups = config_setting_get_member(config_root_setting(&cfg), "groups");
	if (groups != NULL && (r = jg_parse_groups(&p, groups, c)) != 0)
		goto out;
	if ((r = jg_parse_sites_finish(&p, config_root_setting(&cfg), c)) != 0)
		goto out;
	c->refs = 1;
	*out = c;
	c = NULL;
out:
	if (r == JG_ERR_NOMEM)
		jg_parse_set_err(err, errlen, "%s: out of memory", path);
	jg_config_free(c);
	free(p.dir);
	free(p.tls_ca);
	free(p.tls_cert);
	free(p.tls_key);
	config_destroy(&cfg);
	return r;
}

int jg_config_default(struct jg_config **out, char *err, size_t errlen)
{
	struct jg_config *c;
	const char *why;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	set_defaults(c);
	if ((c->listen_host = strdup(DEFAULT_LISTEN_HOST)) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	if ((r = default_state_dir(c, &why)) != 0) {
		jg_parse_set_err(err, errlen, "cannot find the state directory: %s", why);
		goto out;
	}
	if ((r = set_state_files(c)) != 0)
		goto out;
	if ((r = default_audit(c)) != 0)
		goto out;
	if ((r = add_local_target(c)) != 0)
		goto out;
	/* DESIGN.md: with no file, our own identity may do anything, tunnels included. */
	c->tunnel_policy = JG_TUNNELS_ANY;
	if ((r = jg_config_builtin_policy(c)) != 0)
		goto out;
	if ((r = jg_parse_sites_finish(NULL, NULL, c)) != 0)
		goto out;
	c->refs = 1;
	*out = c;
	c = NULL;
out:
	if (r == JG_ERR_NOMEM)
		jg_parse_set_err(err, errlen, "out of memory");
	jg_config_free(c);
	return r;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void jg_config_free(struct jg_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntargets; i++) {
		free(c->targets[i].name);
		jg_hop_clear(&c->targets[i].hop);
	}
	jg_hop_clear(&c->ssh_defaults);
	free(c->targets);
	for (size_t i = 0; i < c->ngroups; i++) {
		for (size_t j = 0; j < c->groups[i].nmembers; j++)
			free(c->groups[i].members[j]);
		free(c->groups[i].members);
		free(c->groups[i].name);
	}
	free(c->groups);
	free(c->path);
	free(c->listen_host);
	free(c->state_dir);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->agent_path);
	free(c->unix_socket);
	for (size_t i = 0; i < c->nagent_paths; i++)
		free(c->agent_paths[i]);
	free(c->agent_paths);
	for (size_t i = 0; i < c->ntunnel_rules; i++) {
		free(c->tunnel_rules[i].target);
		free(c->tunnel_rules[i].host);
		free(c->tunnel_rules[i].port);
	}
	free(c->tunnel_rules);
	for (size_t i = 0; i < c->npolicy; i++) {
		struct jg_policy_rule *pr = &c->policy[i];

		free(pr->name);
		free_strings(pr->identities, pr->nidentities);
		free_strings(pr->targets, pr->ntargets);
		free_strings(pr->actions, pr->nactions);
		free_strings(pr->commands, pr->ncommands);
		free_strings(pr->become, pr->nbecome);
		free_strings(pr->paths, pr->npaths);
		free_strings(pr->via, pr->nvia);
	}
	free(c->policy);
	free(c->crl_file);
	free(c->audit_path);
	free(c->metrics_host);
	free(c->resolv_conf);
	jg_config_free_sites(c);
	free(c);
}

/* The count is the one member that changes after loading; the struct is heap memory
 * (jg_config_load, jg_config_default), so writing it through a const pointer is sound. */
const struct jg_config *jg_config_ref(const struct jg_config *c)
{
	((struct jg_config *)c)->refs++;
	return c;
}

void jg_config_unref(const struct jg_config *c)
{
	struct jg_config *m = (struct jg_config *)c;

	if (m == NULL)
		return;
	if (m->refs > 1) {
		m->refs--;
		return;
	}
	jg_config_free(m);
}

const struct jg_target *jg_config_find_target(const struct jg_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}

const struct jg_group *jg_config_find_group(const struct jg_config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}
