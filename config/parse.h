/* Internal to config/: the libconfig helpers every part of the parser
 * shares (config.c for the top level, ssh_opts.c for ssh option groups).
 *
 * Each helper validates one setting and, on failure, formats
 * "FILE:LINE: key: what" into the parser's error buffer and returns
 * JG_ERR_CONFIG, so callers only propagate. */
#ifndef JG_CONFIG_PARSE_H
#define JG_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "relay/ssh.h"

/* What one load needs besides the struct being built. */
struct jg_config;
struct jg_hop;

struct jg_parser {
	const char *path; /* the file, as given: messages name it so */
	char *dir;	  /* its directory, absolute: relative paths are resolved here */
	char *err;
	size_t errlen;
	/* tls is resolved after state_dir is known, so it is kept here meanwhile */
	const config_setting_t *tls;
	char *tls_ca, *tls_cert, *tls_key;
	int audit_given; /* `audit` present (else the default file, jg_paths_audit_default) */
};

void jg_parse_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "FILE:LINE: KEY: what" for setting S; returns JG_ERR_CONFIG. */
int jg_parse_fail(struct jg_parser *p, const config_setting_t *s, const char *key, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
/* "a string", "an integer", ... for messages. */
const char *jg_parse_type_name(int type);
/* DIR "/" NAME in a new string; NULL when out of memory. */
char *jg_parse_join_dup(const char *dir, const char *name);

/* A string value; *OUT is borrowed from libconfig. */
int jg_parse_string(struct jg_parser *p, const config_setting_t *s, const char *key,
		    const char **out);
/* A non-empty path, relative ones resolved against the file's directory; replaces *OUT. */
int jg_parse_path(struct jg_parser *p, const config_setting_t *s, const char *key, char **out);
/* As jg_parse_path, and "~/..." expanded from $HOME ("~user" refused). */
int jg_parse_home_path(struct jg_parser *p, const config_setting_t *s, const char *key, char **out);
/* Seconds (integer or float) in (0, 3600], stored as milliseconds rounded up. */
int jg_parse_seconds(struct jg_parser *p, const config_setting_t *s, const char *key, uint32_t *ms);
/* An integer in [LO, HI]. */
int jg_parse_uint(struct jg_parser *p, const config_setting_t *s, const char *key, long long lo,
		  long long hi, uint32_t *out);
/* A boolean (true/false, not 0/1). */
int jg_parse_bool(struct jg_parser *p, const config_setting_t *s, const char *key, int *out);
/* A list or array of non-empty path strings (an empty "[]" too) into a new array of
 * *N strings (*OUT freed and replaced). */
int jg_parse_paths(struct jg_parser *p, const config_setting_t *s, const char *key, char ***out,
		   size_t *n);

/* One member E of an ssh option group, named KEY in messages, into O (replacing what O
 * held for that key).  0 when handled, 1 when E is not an ssh option (the caller decides),
 * else an error.  "host" is an ssh option here; ssh_defaults refuses it itself. */
int jg_parse_ssh_key(struct jg_parser *p, const config_setting_t *e, const char *key,
		     struct jg_ssh_opts *o);
/* Defaults of ssh_defaults (and so of every ssh target): enforce, 10 s, 15 s, 3. */
void jg_parse_ssh_defaults(struct jg_ssh_opts *o);
/* The ciphers "auto" stands for on this machine: AES-GCM first when the CPU has AES
 * instructions, else NULL (ssh_config decides). */
const char *jg_ssh_ciphers_auto(void);

/* method_opts.c: one key E of an inventory target of HOP's method (not local, ssh or
 * tunnel) into HOP->o: 0 when handled, 1 when the method takes no such key, else an
 * error.  jg_parse_method_check: what the method needs is there (group G, KEY). */
int jg_parse_method_key(struct jg_parser *p, const config_setting_t *e, const char *key,
			struct jg_hop *hop);
int jg_parse_method_check(struct jg_parser *p, const config_setting_t *g, const char *key,
			  struct jg_hop *hop);

/* inventory.c: `targets` and `groups` (groups are checked against the targets). */
int jg_parse_targets(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
int jg_parse_groups(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);

/* access.c: the access-control settings (file:line errors through P). */
int jg_parse_tunnels(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
int jg_parse_identity(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
int jg_parse_policy(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
/* sites.c: `gateway_name`, `sites`; jg_parse_sites_finish (after targets and groups) defaults
 * the name and checks the sites against the inventory.  ROOT locates the messages. */
int jg_parse_gateway_name(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
int jg_parse_sites(struct jg_parser *p, const config_setting_t *s, struct jg_config *c);
int jg_parse_sites_finish(struct jg_parser *p, const config_setting_t *root, struct jg_config *c);
void jg_config_free_sites(struct jg_config *c);

/* The built-in default's policy: everything for the local account's generated identity. */
int jg_config_builtin_policy(struct jg_config *c);

#endif
