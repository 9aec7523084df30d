/* --setns-user: an account of the container, from its own files (trampoline.h).
 *
 * Read after chroot into the container's root, so /etc/passwd and /etc/group
 * are the container's.  Not getpwnam(3): the agent is static, and glibc's NSS
 * would try to load the host's modules into the container's view; the files
 * are all a container normally has anyway.  A purely numeric USER that is no
 * account name is taken as a UID (as docker exec -u does); root works in a
 * container without /etc/passwd. */
#include "config.h" /* _GNU_SOURCE: getline */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/trampoline.h"
#include "relay/err.h"

#define PASSWD_FILE "/etc/passwd"
#define GROUP_FILE "/etc/group"
#define FIELDS_MAX 7

/* Split LINE (its newline removed) at ':' into at most FIELDS_MAX fields; the
 * number found.  The fields point into LINE. */
static int split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	f[n++] = line;
	for (char *p = line; *p != '\0' && n < FIELDS_MAX; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* A decimal ID (uid_t and gid_t are both 32-bit unsigned); -1 when S is not one. */
static long long parse_id(const char *s)
{
	long long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < 0xffffffffLL ? v : -1; /* (uid_t)-1 means "no change" to set*id */
}

static int set_strings(struct jg_setns_user *u, const char *name, const char *home,
		       const char *shell)
{
	u->name = strdup(name);
	u->home = strdup(home[0] != '\0' ? home : "/");
	u->shell = strdup(shell[0] != '\0' ? shell : "/bin/sh");
	return u->name != NULL && u->home != NULL && u->shell != NULL ? 0 : JG_ERR_NOMEM;
}

/* The passwd entry of NAME (or, when NAME is numeric and no account is called
 * that, of that UID).  1 found, 0 not, or a negative JG_ERR_*. */
static int find_passwd(FILE *fp, const char *name, struct jg_setns_user *u)
{
	long long want_uid = parse_id(name), uid, gid;
	char *line = NULL, *f[FIELDS_MAX];
	size_t cap = 0;
	int found = 0, r = 0;

	while (getline(&line, &cap, fp) >= 0) {
		if (line[0] == '+' || line[0] == '-' || line[0] == '#' || split(line, f) < 7)
			continue; /* NIS compat lines and junk */
		if ((uid = parse_id(f[2])) < 0 || (gid = parse_id(f[3])) < 0)
			continue;
		if (strcmp(f[0], name) == 0) {
			found = 2;
		} else if (found == 0 && uid == want_uid) {
			found = 1; /* keep looking for an account named NAME */
		} else {
			continue;
		}
		jg_setns_user_free(u);
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		if ((r = set_strings(u, f[0], f[5], f[6])) != 0)
			break;
		if (found == 2)
			break;
	}
	if (r == 0 && ferror(fp))
		r = JG_ERR_IO;
	free(line);
	return r != 0 ? r : found != 0;
}

/* Add the supplementary groups listing U->name to U->groups. */
static int find_groups(FILE *fp, struct jg_setns_user *u)
{
	char *line = NULL, *f[FIELDS_MAX], *m, *save;
	size_t cap = 0;
	long long gid;

	while (getline(&line, &cap, fp) >= 0) {
		if (line[0] == '+' || line[0] == '-' || line[0] == '#' || split(line, f) < 4)
			continue;
		if ((gid = parse_id(f[2])) < 0 || (gid_t)gid == u->gid)
			continue;
		for (m = strtok_r(f[3], ",", &save); m != NULL; m = strtok_r(NULL, ",", &save)) {
			if (strcmp(m, u->name) != 0)
				continue;
			if (u->ngroups < JG_SETNS_GROUPS_MAX)
				u->groups[u->ngroups++] = (gid_t)gid;
			break;
		}
	}
	free(line);
	return ferror(fp) ? JG_ERR_IO : 0;
}

int jg_setns_user_lookup(const char *name, struct jg_setns_user *u, char *why, size_t whylen)
{
	FILE *fp;
	int r;

	memset(u, 0, sizeof(*u));
	if ((fp = fopen(PASSWD_FILE, "re")) == NULL && errno != ENOENT) {
		snprintf(why, whylen, "cannot read the container's %s: %s", PASSWD_FILE,
			 strerror(errno));
		return JG_ERR_IO;
	}
	r = fp != NULL ? find_passwd(fp, name, u) : 0;
	if (fp != NULL)
		fclose(fp);
	if (r == 0 && (strcmp(name, "root") == 0 || strcmp(name, "0") == 0)) {
		/* A minimal image without /etc/passwd still has root. */
		u->uid = 0;
		u->gid = 0;
		r = set_strings(u, "root", "/root", "/bin/sh") == 0 ? 1 : JG_ERR_NOMEM;
	} else if (r == 0 && parse_id(name) >= 0) {
		u->uid = (uid_t)parse_id(name);
		u->gid = (gid_t)u->uid;
		r = set_strings(u, name, "/", "/bin/sh") == 0 ? 1 : JG_ERR_NOMEM;
	}
	if (r == 0) {
		snprintf(why, whylen, "no user %s in the container", name);
		jg_setns_user_free(u);
		return JG_ERR_NOTFOUND;
	}
	if (r < 0)
		goto fail;
	u->groups[0] = u->gid;
	u->ngroups = 1;
	if ((fp = fopen(GROUP_FILE, "re")) != NULL) {
		r = find_groups(fp, u);
		fclose(fp);
		if (r != 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(why, whylen, "cannot look up %s in the container: %s", name,
		 r == JG_ERR_NOMEM ? "out of memory" : strerror(errno));
	jg_setns_user_free(u);
	return r;
}

void jg_setns_user_free(struct jg_setns_user *u)
{
	free(u->name);
	free(u->home);
	free(u->shell);
	u->name = u->home = u->shell = NULL;
}
