/* The options of inventory targets of every method but local, ssh and tunnel
 * (docs/methods.md): which keys each method takes, each value validated as
 * strictly as a target spec, because every one of them ends up in an argv. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/parse.h"
#include "config/target.h"
#include "relay/err.h"

enum opt_kind {
	OPT_USER,
	OPT_NAME,
	OPT_PATH,
	OPT_BOOL,
	OPT_SECRET,
	OPT_LABEL,
	OPT_ARGS,
	OPT_PID,
	OPT_KIND
};

/* Which keys a method takes: a bit per method. */
#define M(x) (1u << (x))
#define BECOME (M(JG_METHOD_SUDO) | M(JG_METHOD_SU) | M(JG_METHOD_DOAS))

static const struct opt {
	const char *key;
	unsigned methods;
	enum opt_kind kind;
	size_t field; /* offsetof in struct jg_hop_opts (strings) */
} opts[] = {
    {"user", BECOME | M(JG_METHOD_DOCKER) | M(JG_METHOD_SETNS), OPT_USER,
     offsetof(struct jg_hop_opts, user)},
    {"password", BECOME, OPT_SECRET, offsetof(struct jg_hop_opts, password)},
    {"login", M(JG_METHOD_SUDO) | M(JG_METHOD_SU), OPT_BOOL, offsetof(struct jg_hop_opts, login)},
    {"preserve_env", M(JG_METHOD_SUDO), OPT_BOOL, offsetof(struct jg_hop_opts, preserve_env)},
    {"password_tty", M(JG_METHOD_SU), OPT_BOOL, offsetof(struct jg_hop_opts, password_tty)},
    {"selinux_role", M(JG_METHOD_SUDO), OPT_LABEL, offsetof(struct jg_hop_opts, role)},
    {"selinux_type", M(JG_METHOD_SUDO), OPT_LABEL, offsetof(struct jg_hop_opts, type)},
    {"sudo_path", M(JG_METHOD_SUDO), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"su_path", M(JG_METHOD_SU), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"doas_path", M(JG_METHOD_DOAS), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"container", M(JG_METHOD_LXC) | M(JG_METHOD_LXD) | M(JG_METHOD_DOCKER) | M(JG_METHOD_SETNS),
     OPT_NAME, offsetof(struct jg_hop_opts, name)},
    {"lxc_path", M(JG_METHOD_LXC) | M(JG_METHOD_SETNS), OPT_PATH,
     offsetof(struct jg_hop_opts, lxc_dir)},
    {"lxc_attach_path", M(JG_METHOD_LXC), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"lxc_path", M(JG_METHOD_LXD), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"docker_path", M(JG_METHOD_DOCKER) | M(JG_METHOD_SETNS), OPT_PATH,
     offsetof(struct jg_hop_opts, tool_path)},
    {"pod", M(JG_METHOD_KUBECTL), OPT_NAME, offsetof(struct jg_hop_opts, name)},
    {"container", M(JG_METHOD_KUBECTL), OPT_NAME, offsetof(struct jg_hop_opts, container)},
    {"namespace", M(JG_METHOD_KUBECTL), OPT_NAME, offsetof(struct jg_hop_opts, kube_ns)},
    {"context", M(JG_METHOD_KUBECTL), OPT_NAME, offsetof(struct jg_hop_opts, context)},
    {"kubectl_path", M(JG_METHOD_KUBECTL), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"kubectl_args", M(JG_METHOD_KUBECTL), OPT_ARGS, offsetof(struct jg_hop_opts, args)},
    {"pid", M(JG_METHOD_SETNS), OPT_PID, 0},
    {"kind", M(JG_METHOD_SETNS), OPT_KIND, 0},
    {"lxc_info_path", M(JG_METHOD_SETNS), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
    {"machinectl_path", M(JG_METHOD_SETNS), OPT_PATH, offsetof(struct jg_hop_opts, tool_path)},
};

static char **str_field(struct jg_hop_opts *o, size_t off)
{
	return (char **)((char *)o + off);
}

/* "--name" or "--name=value": an option for kubectl itself, never a word it could take
 * for a command, and nothing a shell would read. */
static const char *bad_kubectl_arg(const char *a)
{
	if (strncmp(a, "--", 2) != 0 || a[2] < 'a' || a[2] > 'z')
		return "must be a long option (\"--kubeconfig=/path\")";
	for (const char *q = a; *q != '\0'; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f ||
		    strchr("'\"`$;&|<>\\", *q))
			return "must not contain whitespace, control or shell characters";
	return NULL;
}

static int parse_args(struct jg_parser *p, const config_setting_t *e, const char *key, char ***out)
{
	int n = config_setting_length(e), type = config_setting_type(e);
	char **v;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return jg_parse_fail(p, e, key, "must be an array of strings, not %s",
				     jg_parse_type_name(type));
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return JG_ERR_NOMEM;
	jg_argv_free(*out);
	*out = v;
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)i);
		const char *s = config_setting_get_string(m), *why;

		if (s == NULL)
			return jg_parse_fail(p, m, key, "element %d must be a string", i);
		if ((why = bad_kubectl_arg(s)) != NULL)
			return jg_parse_fail(p, m, key, "\"%s\": %s", s, why);
		if ((v[i] = strdup(s)) == NULL)
			return JG_ERR_NOMEM;
	}
	return 0;
}

static int parse_one(struct jg_parser *p, const config_setting_t *e, const char *key,
		     const struct opt *op, struct jg_hop_opts *o)
{
	const char *v = NULL;
	char why[256];
	uint32_t num;
	int r;

	switch (op->kind) {
	case OPT_BOOL:
		return jg_parse_bool(p, e, key, (int *)((char *)o + op->field));
	case OPT_PATH:
		return jg_parse_path(p, e, key, str_field(o, op->field));
	case OPT_ARGS:
		return parse_args(p, e, key, &o->args);
	case OPT_PID:
		if ((r = jg_parse_uint(p, e, key, 1, 4194304, &num)) != 0)
			return r;
		o->pid = (long)num;
		return 0;
	default:
		break;
	}
	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	switch (op->kind) {
	case OPT_USER:
		r = jg_target_check_user(v, why, sizeof(why));
		break;
	case OPT_NAME:
	case OPT_LABEL:
		r = jg_target_check_name(op->key, v, why, sizeof(why));
		break;
	case OPT_KIND:
		if (strcmp(v, "docker") == 0)
			o->setns_kind = JG_SETNS_DOCKER;
		else if (strcmp(v, "lxc") == 0)
			o->setns_kind = JG_SETNS_LXC;
		else if (strcmp(v, "machinectl") == 0)
			o->setns_kind = JG_SETNS_MACHINECTL;
		else
			return jg_parse_fail(p, e, key, "\"%s\": must be docker, lxc or machinectl",
					     v);
		return 0;
	default: /* OPT_SECRET: anything, but not empty */
		if (v[0] == '\0')
			return jg_parse_fail(p, e, key, "must not be empty");
		r = 0;
		break;
	}
	if (r != 0)
		return jg_parse_fail(p, e, key, "%s", why);
	if (*str_field(o, op->field) != NULL) {
		explicit_bzero(*str_field(o, op->field), strlen(*str_field(o, op->field)));
		free(*str_field(o, op->field));
	}
	return (*str_field(o, op->field) = strdup(v)) == NULL ? JG_ERR_NOMEM : 0;
}

int jg_parse_method_key(struct jg_parser *p, const config_setting_t *e, const char *key,
			struct jg_hop *hop)
{
	const char *n = config_setting_name(e);

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if ((opts[i].methods & M(hop->method)) && strcmp(opts[i].key, n) == 0)
			return parse_one(p, e, key, &opts[i], &hop->o);
	return 1;
}

int jg_parse_method_check(struct jg_parser *p, const config_setting_t *g, const char *key,
			  struct jg_hop *hop)
{
	const struct jg_hop_opts *o = &hop->o;

	switch (hop->method) {
	case JG_METHOD_LXC:
	case JG_METHOD_LXD:
	case JG_METHOD_DOCKER:
		if (o->name == NULL)
			return jg_parse_fail(p, g, key, "container missing (a %s target needs one)",
					     jg_method_name(hop->method));
		return 0;
	case JG_METHOD_KUBECTL:
		if (o->name == NULL)
			return jg_parse_fail(p, g, key, "pod missing (a kubectl target needs one)");
		return 0;
	case JG_METHOD_SETNS:
		/* pid alone, or container with kind: never both, whatever the order */
		if (o->pid > 0 ? o->name != NULL || o->setns_kind != 0
			       : o->name == NULL || o->setns_kind == 0)
			return jg_parse_fail(p, g, key,
					     "a setns target needs either pid, or container and "
					     "kind (docker, lxc or machinectl)");
		if (o->pid > 0)
			hop->o.setns_kind = JG_SETNS_PID;
		return 0;
	default:
		return 0;
	}
}
