/* jumpgated -t: see check.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/check.h"
#include "config/config.h"

struct check {
	const struct jg_config *c;
	config_t lc; /* the file again, for the lines of the keys */
	int have_lc;
	jg_config_report_fn report;
	void *ud;
	int problems;
};

/* "FILE:LINE: " for the setting at libconfig path KEY, "FILE: " when the file does not
 * say it (a default), "" for the built-in configuration. */
static void where(struct check *k, const char *key, int line, char *buf, size_t len)
{
	const config_setting_t *s;

	if (k->c->path == NULL) {
		buf[0] = '\0';
		return;
	}
	if (line <= 0 && k->have_lc && key != NULL && (s = config_lookup(&k->lc, key)) != NULL)
		line = (int)config_setting_source_line(s);
	if (line > 0)
		snprintf(buf, len, "%s:%d: ", k->c->path, line);
	else
		snprintf(buf, len, "%s: ", k->c->path);
}

static void problem(struct check *k, const char *key, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(struct check *k, const char *key, int line, const char *fmt, ...)
{
	char pre[1200], msg[1500], text[3000];
	va_list ap;

	where(k, key, line, pre, sizeof(pre));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%s%s", pre, msg);
	k->report(k->ud, text);
	k->problems++;
}

/* PATH must be a regular file the gateway can read. */
static void want_readable(struct check *k, const char *key, int line, const char *label,
			  const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		problem(k, key, line, "%s: %s: %s", label, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problem(k, key, line, "%s: %s: not a regular file", label, path);
	else if (access(path, R_OK) != 0)
		problem(k, key, line, "%s: %s: cannot be read by uid %ld: %s", label, path,
			(long)geteuid(), strerror(errno));
}

/* The directory of PATH into BUF ("." when it has none). */
static void dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int jg_config_check_audit(const char *path, char *why, size_t len)
{
	char dir[4096];
	struct stat st;

	if (path == NULL || strcmp(path, "stderr") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, len, "%s is a directory (give a file name in it)", path);
			return -1;
		}
		if (access(path, W_OK) != 0) {
			snprintf(why, len, "%s cannot be written by uid %ld: %s", path,
				 (long)geteuid(), strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Missing: the gateway creates it, so its directory must exist and be writable. */
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s cannot be created: directory %s %s", path, dir,
			 stat(dir, &st) != 0 ? "does not exist" : "is not a directory");
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(why, len, "%s cannot be created: directory %s is not writable by uid %ld",
			 path, dir, (long)geteuid());
		return -1;
	}
	return 0;
}

/* The default audit file in a state directory that does not exist yet: jumpgated
 * creates the directory at start (check_state judges whether it can). */
static int audit_in_new_state_dir(const struct jg_config *c)
{
	char dir[4096];
	struct stat st;

	if (c->audit_path == NULL || c->state_dir == NULL)
		return 0;
	dir_of(c->audit_path, dir, sizeof(dir));
	return strcmp(dir, c->state_dir) == 0 && stat(dir, &st) != 0 && errno == ENOENT;
}

/* The state directory: generated certificates go there when the file names none, and
 * the default audit log. */
static void check_state(struct check *k)
{
	struct stat st;

	if (k->c->state_dir == NULL || (!k->c->generate_certs && !audit_in_new_state_dir(k->c)))
		return;
	if (stat(k->c->state_dir, &st) != 0) {
		char parent[4096];

		/* Created at start when its parent allows. */
		dir_of(k->c->state_dir, parent, sizeof(parent));
		if (errno == ENOENT && access(parent, W_OK | X_OK) == 0)
			return;
		problem(k, "state_dir", 0, "state_dir: %s: %s", k->c->state_dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode))
		problem(k, "state_dir", 0, "state_dir: %s: not a directory", k->c->state_dir);
	else if (access(k->c->state_dir, W_OK | X_OK) != 0)
		problem(k, "state_dir", 0,
			"state_dir: %s: not writable by uid %ld (certificates are generated there)",
			k->c->state_dir, (long)geteuid());
}

/* ssh keys: ssh_defaults' once, and each target's own (one it inherits is that one). */
static void check_ssh_keys(struct check *k)
{
	const struct jg_config *c = k->c;
	char key[64], label[300];

	if (c->ssh_defaults.ssh.identity_file != NULL)
		want_readable(k, "ssh_defaults.identity_file", 0, "ssh_defaults.identity_file",
			      c->ssh_defaults.ssh.identity_file);
	for (size_t i = 0; i < c->ntargets && k->have_lc; i++) {
		const struct jg_hop *h = &c->targets[i].hop;

		if (h->method != JG_METHOD_SSH || h->ssh.identity_file == NULL)
			continue;
		snprintf(key, sizeof(key), "targets.[%zu].identity_file", i);
		if (config_lookup(&k->lc, key) == NULL)
			continue;
		snprintf(label, sizeof(label), "target %s: identity_file", c->targets[i].name);
		want_readable(k, key, 0, label, h->ssh.identity_file);
	}
}

int jg_config_check_files(const struct jg_config *c, const char *agent, jg_config_report_fn report,
			  void *ud)
{
	struct check k = {.c = c, .report = report, .ud = ud};
	char why[4600];

	config_init(&k.lc);
	if (c->path != NULL)
		k.have_lc = config_read_file(&k.lc, c->path) == CONFIG_TRUE;
	if (!c->generate_certs) {
		want_readable(&k, "tls.ca", 0, "tls.ca", c->ca_file);
		want_readable(&k, "tls.cert", 0, "tls.cert", c->cert_file);
		want_readable(&k, "tls.key", 0, "tls.key", c->key_file);
	}
	check_state(&k);
	check_ssh_keys(&k);
	if (c->crl_file != NULL)
		want_readable(&k, "crl", 0, "crl", c->crl_file);
	for (size_t i = 0; i < c->nsites; i++) {
		const struct jg_site *s = &c->sites[i];
		char label[128];

		if (s->address == NULL)
			continue;
		snprintf(label, sizeof(label), "site %s: ca", s->name);
		want_readable(&k, NULL, s->line, label, s->ca_file);
		snprintf(label, sizeof(label), "site %s: cert", s->name);
		want_readable(&k, NULL, s->line, label, s->cert_file);
		snprintf(label, sizeof(label), "site %s: key", s->name);
		want_readable(&k, NULL, s->line, label, s->key_file);
	}
	if (agent != NULL && access(agent, X_OK) != 0)
		problem(&k, "agent_path", 0, "agent_path: %s: not executable: %s", agent,
			strerror(errno));
	for (size_t i = 0; i < c->nagent_paths; i++)
		if (access(c->agent_paths[i], X_OK) != 0)
			problem(&k, "agents", 0, "agents: %s: not executable: %s",
				c->agent_paths[i], strerror(errno));
	if (!audit_in_new_state_dir(c) &&
	    jg_config_check_audit(c->audit_path, why, sizeof(why)) != 0)
		problem(&k, "audit", 0, "audit: %s", why);
	config_destroy(&k.lc);
	return k.problems;
}
