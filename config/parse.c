/* Shared libconfig helpers of the configuration parser (see parse.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/parse.h"
#include "config/paths.h"
#include "relay/err.h"

#define MAX_TIMEOUT_S 3600.0
#define MAX_PATHS 64

void jg_parse_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int jg_parse_fail(struct jg_parser *p, const config_setting_t *s, const char *key, const char *fmt,
		  ...)
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
		jg_parse_set_err(p->err, p->errlen, "%s:%u: %s: %s", p->path,
				 (unsigned)config_setting_source_line(s), key, what);
	else
		jg_parse_set_err(p->err, p->errlen, "%s%s%s:%u: %s: %s",
				 file[0] == '/' ? "" : p->dir, file[0] == '/' ? "" : "/", file,
				 (unsigned)config_setting_source_line(s), key, what);
	return JG_ERR_CONFIG;
}

const char *jg_parse_type_name(int type)
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

char *jg_parse_join_dup(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *buf = malloc(len);

	if (buf != NULL && jg_paths_join(buf, len, dir, name) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

int jg_parse_string(struct jg_parser *p, const config_setting_t *s, const char *key,
		    const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return jg_parse_fail(p, s, key, "must be a string, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	*out = config_setting_get_string(s);
	return 0;
}

/* Relative paths are resolved against the file's directory so that the
 * daemon's working directory never matters. */
int jg_parse_path(struct jg_parser *p, const config_setting_t *s, const char *key, char **out)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if (v[0] == '\0')
		return jg_parse_fail(p, s, key, "must not be empty");
	free(*out);
	*out = v[0] == '/' ? strdup(v) : jg_parse_join_dup(p->dir, v);
	return *out == NULL ? JG_ERR_NOMEM : 0;
}

/* "~/" is the gateway user's $HOME, as ssh itself would read it.  "~user"
 * would need a password-database lookup, which the daemon never does (NSS
 * modules in a privileged process, and results that change under it). */
int jg_parse_home_path(struct jg_parser *p, const config_setting_t *s, const char *key, char **out)
{
	const char *v = NULL, *home;
	int r;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if (v[0] != '~')
		return jg_parse_path(p, s, key, out);
	if (v[1] != '/' && v[1] != '\0')
		return jg_parse_fail(p, s, key,
				     "\"%s\": \"~user\" is not supported (only \"~/\", the "
				     "gateway user's $HOME)",
				     v);
	home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		return jg_parse_fail(p, s, key, "\"%s\": HOME is %s", v,
				     home == NULL || home[0] == '\0' ? "not set"
								     : "not an absolute path");
	free(*out);
	*out = v[1] == '\0' ? strdup(home) : jg_parse_join_dup(home, v + 2);
	return *out == NULL ? JG_ERR_NOMEM : 0;
}

int jg_parse_seconds(struct jg_parser *p, const config_setting_t *s, const char *key, uint32_t *ms)
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
		return jg_parse_fail(p, s, key, "must be a number of seconds, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	}
	if (!(v > 0.0 && v <= MAX_TIMEOUT_S))
		return jg_parse_fail(p, s, key, "%g seconds out of range: must be > 0 and <= %g", v,
				     MAX_TIMEOUT_S);
	/* Round up so that any positive value stays positive. */
	m = v * 1000.0;
	*ms = (uint32_t)m;
	if ((double)*ms < m)
		(*ms)++;
	return 0;
}

int jg_parse_uint(struct jg_parser *p, const config_setting_t *s, const char *key, long long lo,
		  long long hi, uint32_t *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return jg_parse_fail(p, s, key, "must be an integer, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return jg_parse_fail(p, s, key, "%lld out of range %lld-%lld", v, lo, hi);
	*out = (uint32_t)v;
	return 0;
}

int jg_parse_bool(struct jg_parser *p, const config_setting_t *s, const char *key, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return jg_parse_fail(p, s, key, "must be true or false, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

int jg_parse_paths(struct jg_parser *p, const config_setting_t *s, const char *key, char ***out,
		   size_t *n)
{
	int len = config_setting_length(s), r = 0;
	char **v = NULL, ekey[96];

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return jg_parse_fail(p, s, key,
				     "must be a list of strings [ \"...\", ... ], not %s",
				     jg_parse_type_name(config_setting_type(s)));
	if (len > MAX_PATHS)
		return jg_parse_fail(p, s, key, "more than %d entries", MAX_PATHS);
	if ((v = calloc((size_t)len + 1, sizeof(*v))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < len && r == 0; i++) {
		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		r = jg_parse_path(p, config_setting_get_elem(s, (unsigned)i), ekey, &v[i]);
	}
	if (r != 0) {
		for (int i = 0; i < len; i++)
			free(v[i]);
		free(v);
		return r;
	}
	for (size_t i = 0; i < *n; i++)
		free((*out)[i]);
	free(*out);
	*out = v;
	*n = (size_t)len;
	return 0;
}
