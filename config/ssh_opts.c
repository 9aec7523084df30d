/* The ssh option keys, shared by ssh targets and ssh_defaults.
 *
 * A target's options start as a copy of ssh_defaults and each key given
 * replaces the inherited value (ssh_args included: lists are replaced, not
 * appended), so a setting can also be turned back off per target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "config/parse.h"
#include "config/target.h"
#include "relay/err.h"

#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_KEEPALIVE_INTERVAL_S 15
#define DEFAULT_KEEPALIVE_COUNT 3
#define MAX_SSH_ARGS 64

/* AES-GCM first when this CPU encrypts AES in hardware: there it is several times
 * faster than chacha20-poly1305, OpenSSH's default choice (bench_datapath.sh).  '^'
 * puts them at the head of ssh's own list, so a server without GCM still agrees on
 * something. */
#define CIPHERS_AES_FIRST "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"

/* cpuid is asked here, when a configuration is parsed, and nowhere at start-up:
 * __builtin_cpu_supports would link libgcc's cpu-model constructor into every
 * program, and in a virtual machine each cpuid traps to the hypervisor (that
 * constructor was 14% of a warm `jumpgate exec`'s CPU in a profile). */
static int cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & bit_AES) && (c & bit_PCLMUL);
#elif defined(__aarch64__) && defined(HWCAP_AES) && defined(HWCAP_PMULL)
	unsigned long hw = getauxval(AT_HWCAP);

	return (hw & HWCAP_AES) && (hw & HWCAP_PMULL);
#else
	return 0;
#endif
}

const char *jg_ssh_ciphers_auto(void)
{
	return cpu_has_aes() ? CIPHERS_AES_FIRST : NULL;
}

void jg_parse_ssh_defaults(struct jg_ssh_opts *o)
{
	const char *auto_ciphers = jg_ssh_ciphers_auto();

	o->check_host_keys = JG_HOSTKEYS_ENFORCE;
	o->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
	o->keepalive_interval_s = DEFAULT_KEEPALIVE_INTERVAL_S;
	o->keepalive_count = DEFAULT_KEEPALIVE_COUNT;
	/* Out of memory leaves ssh's own choice: slower, not wrong. */
	o->ciphers = auto_ciphers != NULL ? strdup(auto_ciphers) : NULL;
}

/* Replace *DST with a copy of V. */
static int set_str(char **dst, const char *v)
{
	char *d = strdup(v);

	if (d == NULL)
		return JG_ERR_NOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* ciphers: "auto" (AES-GCM first on AES hardware), "" (ssh_config decides) or a
 * list in ssh's Ciphers syntax, checked to its alphabet (it reaches ssh's argv). */
static int parse_ciphers(struct jg_parser *p, const config_setting_t *e, const char *key,
			 char **out)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	if (strcmp(v, "auto") == 0)
		v = jg_ssh_ciphers_auto();
	else if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789@.,+-^") != strlen(v))
		return jg_parse_fail(p, e, key,
				     "\"%s\" is not a cipher list (names such as "
				     "aes128-gcm@openssh.com separated by commas, optionally "
				     "starting with ^, + or -), \"auto\" or \"\"",
				     v);
	free(*out);
	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return 0;
	return set_str(out, v);
}

/* host and user go through the target grammar: they reach ssh's argv. */
static int parse_name(struct jg_parser *p, const config_setting_t *e, const char *key, char **dst,
		      int is_host)
{
	const char *v = NULL;
	char why[256];
	size_t len;
	int r;

	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	r = is_host ? jg_target_check_host(v, why, sizeof(why))
		    : jg_target_check_user(v, why, sizeof(why));
	if (r != 0)
		return jg_parse_fail(p, e, key, "%s", why);
	/* The argv wants an IPv6 address bare: "[::1]" is stored as "::1". */
	len = strlen(v);
	if (is_host && v[0] == '[') {
		char *h = strndup(v + 1, len - 2);

		if (h == NULL)
			return JG_ERR_NOMEM;
		free(*dst);
		*dst = h;
		return 0;
	}
	return set_str(dst, v);
}

static int parse_hostkeys(struct jg_parser *p, const config_setting_t *e, const char *key,
			  enum jg_hostkeys *out)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	if (strcmp(v, "enforce") == 0)
		*out = JG_HOSTKEYS_ENFORCE;
	else if (strcmp(v, "accept") == 0)
		*out = JG_HOSTKEYS_ACCEPT;
	else if (strcmp(v, "ignore") == 0)
		*out = JG_HOSTKEYS_IGNORE;
	else
		return jg_parse_fail(p, e, key, "\"%s\" is not one of enforce, accept, ignore", v);
	return 0;
}

/* ssh_args: strings passed to ssh as they are.  They come from the
 * operator, not from a request, so only emptiness and control characters
 * (never meant, and confusing in logs) are refused. */
static int parse_args(struct jg_parser *p, const config_setting_t *e, const char *key, char ***out)
{
	int n = config_setting_length(e), r = 0;
	char **v, ekey[96];

	if (config_setting_type(e) != CONFIG_TYPE_LIST &&
	    config_setting_type(e) != CONFIG_TYPE_ARRAY)
		return jg_parse_fail(p, e, key,
				     "must be a list of strings [ \"...\", ... ], not %s",
				     jg_parse_type_name(config_setting_type(e)));
	if (n > MAX_SSH_ARGS)
		return jg_parse_fail(p, e, key, "more than %d arguments", MAX_SSH_ARGS);
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n && r == 0; i++) {
		const config_setting_t *a = config_setting_get_elem(e, (unsigned)i);
		const char *s = NULL;

		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		if ((r = jg_parse_string(p, a, ekey, &s)) != 0)
			break;
		if (s[0] == '\0') {
			r = jg_parse_fail(p, a, ekey, "must not be empty");
			break;
		}
		for (const char *c = s; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				r = jg_parse_fail(p, a, ekey, "control characters are not allowed");
				break;
			}
		if (r == 0 && (v[i] = strdup(s)) == NULL)
			r = JG_ERR_NOMEM;
	}
	if (r != 0) {
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (*out != NULL)
		for (char **a = *out; *a != NULL; a++)
			free(*a);
	free(*out);
	/* An empty list clears inherited arguments: NULL means none. */
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return 0;
}

/* ssh_path: a bare name is looked up in PATH when ssh is run, as a shell
 * would; anything with a '/' is a path like the others. */
static int parse_ssh_path(struct jg_parser *p, const config_setting_t *e, const char *key,
			  char **out)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	if (v[0] != '\0' && v[0] != '~' && strchr(v, '/') == NULL) {
		if (v[0] == '-')
			return jg_parse_fail(p, e, key, "\"%s\" must not start with '-'", v);
		return set_str(out, v);
	}
	return jg_parse_home_path(p, e, key, out);
}

int jg_parse_ssh_key(struct jg_parser *p, const config_setting_t *e, const char *key,
		     struct jg_ssh_opts *o)
{
	const char *n = config_setting_name(e), *v = NULL;
	uint32_t u;
	int r;

	if (strcmp(n, "host") == 0)
		return parse_name(p, e, key, &o->host, 1);
	if (strcmp(n, "user") == 0)
		return parse_name(p, e, key, &o->user, 0);
	if (strcmp(n, "port") == 0) {
		if ((r = jg_parse_uint(p, e, key, 1, 65535, &u)) == 0)
			o->port = (uint16_t)u;
		return r;
	}
	if (strcmp(n, "identity_file") == 0)
		return jg_parse_home_path(p, e, key, &o->identity_file);
	if (strcmp(n, "check_host_keys") == 0)
		return parse_hostkeys(p, e, key, &o->check_host_keys);
	if (strcmp(n, "known_hosts") == 0)
		return jg_parse_home_path(p, e, key, &o->known_hosts);
	if (strcmp(n, "connect_timeout") == 0)
		return jg_parse_uint(p, e, key, 0, 3600, &o->connect_timeout_s);
	if (strcmp(n, "keepalive_interval") == 0)
		return jg_parse_uint(p, e, key, 0, 3600, &o->keepalive_interval_s);
	if (strcmp(n, "keepalive_count") == 0)
		return jg_parse_uint(p, e, key, 0, 100, &o->keepalive_count);
	if (strcmp(n, "compression") == 0)
		return jg_parse_bool(p, e, key, &o->compression);
	if (strcmp(n, "ssh_args") == 0)
		return parse_args(p, e, key, &o->ssh_args);
	if (strcmp(n, "ssh_path") == 0)
		return parse_ssh_path(p, e, key, &o->ssh_path);
	if (strcmp(n, "identities_only") == 0)
		return jg_parse_bool(p, e, key, &o->identities_only);
	if (strcmp(n, "ssh_debug_level") == 0) {
		if ((r = jg_parse_uint(p, e, key, 0, 3, &u)) == 0)
			o->debug_level = (int)u;
		return r;
	}
	if (strcmp(n, "password") == 0) {
		if ((r = jg_parse_string(p, e, key, &v)) != 0)
			return r;
		if (v[0] == '\0' || strpbrk(v, "\r\n") != NULL)
			return jg_parse_fail(p, e, key,
					     "must not be empty or contain a line break (it is "
					     "typed at ssh's prompt, followed by one)");
		if (o->password != NULL)
			explicit_bzero(o->password, strlen(o->password));
		return set_str(&o->password, v);
	}
	if (strcmp(n, "raw") == 0)
		return jg_parse_bool(p, e, key, &o->raw);
	if (strcmp(n, "ciphers") == 0)
		return parse_ciphers(p, e, key, &o->ciphers);
	return 1;
}
