/* jumpgated.conf: libconfig text in, one immutable struct jg_config out.
 *
 * Every key is optional and has a default.  Anything the parser does not
 * know is an error, never ignored: a typo such as "idle_timout" must not
 * leave the default silently in force.  Messages follow "FILE:LINE: key:
 * what is wrong" so an operator can go straight to the line. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/paths.h"
#include "relay/err.h"
#include "relay/log.h"

#define DEFAULT_LISTEN_HOST "127.0.0.1"
#define DEFAULT_LISTEN_PORT 4443
#define DEFAULT_DRAIN_MS 10000
#define DEFAULT_HANDSHAKE_MS 10000
#define DEFAULT_IDLE_MS 300000
#define DEFAULT_MAX_STREAMS 256
#define DEFAULT_STREAM_WINDOW 262144
#define MAX_TIMEOUT_S 3600.0
#define MAX_TARGET_NAME 64
#define LOCAL_TARGET "local"

/* What one load needs besides the struct being built. */
struct parser {
	const char *path; /* the file, as given: messages name it so */
	char *dir;	  /* its directory, absolute: relative paths are resolved here */
	char *err;
	size_t errlen;
	/* tls is resolved after state_dir is known, so it is kept here meanwhile */
	const config_setting_t *tls;
	char *tls_ca, *tls_cert, *tls_key;
};

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

static int fail(struct parser *p, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format "FILE:LINE: key: what" for setting S and return JG_ERR_CONFIG. */
static int fail(struct parser *p, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* libconfig names an @include'd file as written, relative to the
	 * include directory, which is ours. */
	if (file == NULL || strcmp(file, p->path) == 0)
		set_err(p->err, p->errlen, "%s:%u: %s: %s", p->path,
			(unsigned)config_setting_source_line(s), key, what);
	else
		set_err(p->err, p->errlen, "%s%s%s:%u: %s: %s", file[0] == '/' ? "" : p->dir,
			file[0] == '/' ? "" : "/", file, (unsigned)config_setting_source_line(s),
			key, what);
	return JG_ERR_CONFIG;
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "an unknown type";
}

static int get_string(struct parser *p, const config_setting_t *s, const char *key,
		      const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(p, s, key, "must be a string, not %s",
			    type_name(config_setting_type(s)));
	*out = config_setting_get_string(s);
	return 0;
}

/* Join DIR and NAME into a new string; NULL when out of memory. */
static char *join_dup(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *buf = malloc(len);

	if (buf != NULL && jg_paths_join(buf, len, dir, name) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* A path-valued key: non-empty, relative ones resolved against the file's
 * directory so that the daemon's working directory never matters. */
static int get_path(struct parser *p, const config_setting_t *s, const char *key, char **out)
{
	const char *v = NULL;
	int r;

	if ((r = get_string(p, s, key, &v)) != 0)
		return r;
	if (v[0] == '\0')
		return fail(p, s, key, "must not be empty");
	free(*out);
	*out = v[0] == '/' ? strdup(v) : join_dup(p->dir, v);
	return *out == NULL ? JG_ERR_NOMEM : 0;
}

/* Seconds as a float or an integer, in (0, 3600], stored as milliseconds. */
static int get_seconds(struct parser *p, const config_setting_t *s, const char *key, uint32_t *ms)
{
	double v, m;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		return fail(p, s, key, "must be a number of seconds, not %s",
			    type_name(config_setting_type(s)));
	}
	if (!(v > 0.0 && v <= MAX_TIMEOUT_S))
		return fail(p, s, key, "%g seconds out of range: must be > 0 and <= %g", v,
			    MAX_TIMEOUT_S);
	/* Round up so that any positive value stays positive. */
	m = v * 1000.0;
	*ms = (uint32_t)m;
	if ((double)*ms < m)
		(*ms)++;
	return 0;
}

static int get_uint(struct parser *p, const config_setting_t *s, const char *key, long long lo,
		    long long hi, uint32_t *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(p, s, key, "must be an integer, not %s",
			    type_name(config_setting_type(s)));
	v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return fail(p, s, key, "%lld out of range %lld-%lld", v, lo, hi);
	*out = (uint32_t)v;
	return 0;
}

/* "host:port", or "[v6]:port".  The host must be numeric (or localhost):
 * the listener must not depend on DNS at start. */
static int parse_listen(struct parser *p, const config_setting_t *s, struct jg_config *c)
{
	const char *v = NULL, *host, *port, *end;
	unsigned char addr[16];
	char hbuf[INET6_ADDRSTRLEN + 1];
	size_t hlen;
	unsigned long n = 0;
	int r, family;

	if ((r = get_string(p, s, "listen", &v)) != 0)
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
			return fail(
			    p, s, "listen",
			    "\"%s\": an IPv6 address goes in brackets, as in \"[::1]:4443\"", v);
		host = v;
		port = end + 1;
		family = AF_INET;
	}
	hlen = (size_t)(end - host);
	if (hlen == 0)
		goto syntax;
	if (port[0] == '\0')
		return fail(p, s, "listen", "\"%s\": port missing after ':'", v);
	for (const char *d = port; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return fail(p, s, "listen", "port \"%s\" is not a number", port);
		if (n <= 65535)
			n = n * 10 + (unsigned long)(*d - '0');
	}
	if (n < 1 || n > 65535)
		return fail(p, s, "listen", "port %s out of range 1-65535", port);
	if (hlen >= sizeof(hbuf))
		goto badhost;
	memcpy(hbuf, host, hlen);
	hbuf[hlen] = '\0';
	if (inet_pton(family, hbuf, addr) != 1 &&
	    (family != AF_INET || strcmp(hbuf, "localhost") != 0))
		goto badhost;
	free(c->listen_host);
	if ((c->listen_host = strdup(hbuf)) == NULL)
		return JG_ERR_NOMEM;
	c->listen_port = (uint16_t)n;
	return 0;
syntax:
	return fail(p, s, "listen",
		    "\"%s\" is not host:port (as in \"127.0.0.1:4443\" or \"[::1]:4443\")", v);
badhost:
	return fail(p, s, "listen", "host \"%.*s\" must be a numeric %s address%s", (int)hlen, host,
		    family == AF_INET6 ? "IPv6" : "IPv4", family == AF_INET ? " or localhost" : "");
}

/* tls = { ca = ...; cert = ...; key = ...; }: all three or none. */
static int parse_tls(struct parser *p, const config_setting_t *s)
{
	static const char *const names[] = {"ca", "cert", "key"};
	char **dst[] = {&p->tls_ca, &p->tls_cert, &p->tls_key};
	char key[32];
	int r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(p, s, "tls",
			    "must be a group { ca = ...; cert = ...; key = ...; }, not %s",
			    type_name(config_setting_type(s)));
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
			return fail(p, e, key, "unknown key (tls takes ca, cert and key)");
		if ((r = get_path(p, e, key, dst[k])) != 0)
			return r;
	}
	return 0;
}

/* Why NAME is not a valid target name, or NULL.  Names appear in URLs and
 * in target specs, so the alphabet is small and nothing starts like an
 * option or a hidden/relative path. */
static const char *bad_target_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "must not be empty";
	if (len > MAX_TARGET_NAME)
		return "longer than 64 characters";
	if (name[0] == '-' || name[0] == '.')
		return "must not start with '-' or '.'";
	for (const char *q = name; *q != '\0'; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_' || *q == '.' || *q == '-'))
			return "may contain only letters, digits, '_', '.' and '-'";
	return NULL;
}

static int parse_target(struct parser *p, const config_setting_t *g, int idx, struct jg_target *t)
{
	const config_setting_t *name_s = NULL, *method_s = NULL;
	const char *v = NULL, *why;
	char key[64];
	int r;

	snprintf(key, sizeof(key), "targets[%d]", idx);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(p, g, key, "must be a group { name = ...; method = ...; }, not %s",
			    type_name(config_setting_type(g)));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *n = config_setting_name(e);

		if (strcmp(n, "name") == 0)
			name_s = e;
		else if (strcmp(n, "method") == 0)
			method_s = e;
		else {
			snprintf(key, sizeof(key), "targets[%d].%s", idx, n);
			return fail(p, e, key, "unknown key (a target takes name and method)");
		}
	}
	if (name_s == NULL || method_s == NULL)
		return fail(p, g, key, "%s missing", name_s == NULL ? "name" : "method");

	snprintf(key, sizeof(key), "targets[%d].name", idx);
	if ((r = get_string(p, name_s, key, &v)) != 0)
		return r;
	if ((why = bad_target_name(v)) != NULL)
		return fail(p, name_s, key, "\"%s\" %s", v, why);
	if ((t->name = strdup(v)) == NULL)
		return JG_ERR_NOMEM;

	snprintf(key, sizeof(key), "targets[%d].method", idx);
	if ((r = get_string(p, method_s, key, &v)) != 0)
		return r;
	if (strcmp(v, "local") != 0)
		return fail(p, method_s, key, "unknown method \"%s\" (known: local)", v);
	t->method = JG_METHOD_LOCAL;
	return 0;
}

static int parse_targets(struct parser *p, const config_setting_t *s, struct jg_config *c)
{
	int n = config_setting_length(s), r;

	/* An empty "[]" is an array to libconfig; anything else must be a list. */
	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
		return fail(p, s, "targets",
			    "must be a list ( { name = ...; method = ...; }, ... ), not %s",
			    type_name(config_setting_type(s)));
	/* One spare slot: "local" is appended when the file does not name it. */
	if ((c->targets = calloc((size_t)n + 1, sizeof(*c->targets))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		/* Counted first so that jg_config_free() frees a half-parsed one. */
		c->ntargets++;
		if ((r = parse_target(p, g, i, &c->targets[i])) != 0)
			return r;
		for (int j = 0; j < i; j++) {
			const config_setting_t *prev = config_setting_get_member(
			    config_setting_get_elem(s, (unsigned)j), "name");
			char key[64];

			if (strcmp(c->targets[j].name, c->targets[i].name) != 0)
				continue;
			snprintf(key, sizeof(key), "targets[%d].name", i);
			return fail(p, config_setting_get_member(g, "name"), key,
				    "duplicate target \"%s\" (first defined at line %u)",
				    c->targets[i].name, (unsigned)config_setting_source_line(prev));
		}
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
	t->method = JG_METHOD_LOCAL;
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
	c->idle_timeout_ms = DEFAULT_IDLE_MS;
	c->max_streams = DEFAULT_MAX_STREAMS;
	c->stream_window = DEFAULT_STREAM_WINDOW;
}

/* The certificate files inside c->state_dir, to be generated there. */
static int set_state_files(struct jg_config *c)
{
	if ((c->ca_file = join_dup(c->state_dir, JG_CA_CERT)) == NULL ||
	    (c->cert_file = join_dup(c->state_dir, JG_SERVER_CERT)) == NULL ||
	    (c->key_file = join_dup(c->state_dir, JG_SERVER_KEY)) == NULL)
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

static int parse_root(struct parser *p, const config_setting_t *root, struct jg_config *c)
{
	static const char *const seconds[] = {"drain_timeout", "handshake_timeout", "idle_timeout"};
	uint32_t *const seconds_dst[] = {&c->drain_timeout_ms, &c->handshake_timeout_ms,
					 &c->idle_timeout_ms};
	const char *v = NULL;
	int r = 0, lvl;

	for (int i = 0; i < config_setting_length(root) && r == 0; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		size_t k;

		for (k = 0; k < 3; k++)
			if (strcmp(name, seconds[k]) == 0)
				break;
		if (k < 3)
			r = get_seconds(p, s, name, seconds_dst[k]);
		else if (strcmp(name, "listen") == 0)
			r = parse_listen(p, s, c);
		else if (strcmp(name, "state_dir") == 0)
			r = get_path(p, s, name, &c->state_dir);
		else if (strcmp(name, "tls") == 0)
			r = parse_tls(p, s);
		else if (strcmp(name, "log_level") == 0) {
			if ((r = get_string(p, s, name, &v)) == 0 &&
			    (lvl = jg_log_level_parse(v)) < 0)
				r = fail(p, s, name,
					 "\"%s\" is not one of error, warn, info, debug", v);
			else if (r == 0)
				c->log_level = lvl;
		} else if (strcmp(name, "max_streams") == 0)
			r = get_uint(p, s, name, 1, 10000, &c->max_streams);
		else if (strcmp(name, "stream_window") == 0)
			r = get_uint(p, s, name, 65535, 16777216, &c->stream_window);
		else if (strcmp(name, "agent_path") == 0)
			r = get_path(p, s, name, &c->agent_path);
		else if (strcmp(name, "targets") == 0)
			r = parse_targets(p, s, c);
		else
			r = fail(p, s, name,
				 "unknown key (see jumpgated.conf.example for the keys)");
	}
	return r;
}

/* After the keys: fill in what depends on several of them. */
static int finish(struct parser *p, struct jg_config *c)
{
	const char *why;
	int r;

	if (c->state_dir == NULL && (r = default_state_dir(c, &why)) != 0) {
		if (r == JG_ERR_NOMEM)
			return r;
		set_err(p->err, p->errlen, "%s: state_dir: not set, and no default: %s", p->path,
			why);
		return JG_ERR_CONFIG;
	}
	if (p->tls_ca == NULL && p->tls_cert == NULL && p->tls_key == NULL) {
		if ((r = set_state_files(c)) != 0)
			return r;
	} else if (p->tls_ca == NULL || p->tls_cert == NULL || p->tls_key == NULL) {
		return fail(p, p->tls, "tls",
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
	struct parser p = {.path = path, .err = err, .errlen = errlen};
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
		set_err(err, errlen, "%s: cannot read: %s", path, strerror(e));
		r = JG_ERR_IO;
		goto out;
	}
	if ((r = file_dir(path, &p.dir)) != 0) {
		set_err(err, errlen, "%s: cannot resolve its directory: %s", path,
			r == JG_ERR_NOMEM ? "out of memory" : strerror(errno));
		goto out;
	}
	/* @include "x" is relative to the file, like every other path in it. */
	config_set_include_dir(&cfg, p.dir);
	if (!config_read_file(&cfg, path)) {
		e = errno;
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			set_err(err, errlen, "%s: cannot read: %s", path, strerror(e));
			r = JG_ERR_IO;
		} else {
			const char *f = config_error_file(&cfg);

			/* As in fail(): an included file is relative to p.dir. */
			if (f == NULL || strcmp(f, path) == 0 || f[0] == '/')
				set_err(err, errlen, "%s:%d: %s", f != NULL ? f : path,
					config_error_line(&cfg), config_error_text(&cfg));
			else
				set_err(err, errlen, "%s/%s:%d: %s", p.dir, f,
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
	*out = c;
	c = NULL;
out:
	if (r == JG_ERR_NOMEM)
		set_err(err, errlen, "%s: out of memory", path);
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
		set_err(err, errlen, "cannot find the state directory: %s", why);
		goto out;
	}
	if ((r = set_state_files(c)) != 0)
		goto out;
	if ((r = add_local_target(c)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (r == JG_ERR_NOMEM)
		set_err(err, errlen, "out of memory");
	jg_config_free(c);
	return r;
}

void jg_config_free(struct jg_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntargets; i++)
		free(c->targets[i].name);
	free(c->targets);
	free(c->path);
	free(c->listen_host);
	free(c->state_dir);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->agent_path);
	free(c);
}

const struct jg_target *jg_config_find_target(const struct jg_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}
