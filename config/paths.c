/* State directory location and small path helpers (see paths.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config/paths.h"
#include "relay/err.h"

int jg_paths_state_dir(char *buf, size_t len)
{
	const char *home;
	int n;

	/* An explicit override wins, for tests and for several gateways on one host. */
	home = getenv("JUMPGATE_HOME");
	if (home != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s", home);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/jumpgate");
	else {
		/* $HOME only: a passwd lookup would pull NSS modules into a
		 * static or sandboxed program and may block on the network. */
		home = getenv("HOME");
		if (home == NULL || home[0] == '\0')
			return JG_ERR_NOTFOUND;
		n = snprintf(buf, len, "%s/.local/state/jumpgate", home);
	}
	if (n < 0 || (size_t)n >= len)
		return JG_ERR_TOOBIG;
	return 0;
}

/* As fixed as /var/lib/jumpgate above and the unit's LogsDirectory=. */
#define JG_LOGDIR "/var/log/jumpgate"

int jg_paths_audit_default(const char *state_dir, char *buf, size_t len)
{
	const char *logs = getenv("LOGS_DIRECTORY");
	char dir[4096];

	if (logs != NULL && logs[0] == '/')
		snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(logs, ":"), logs);
	else if (state_dir == NULL || strcmp(state_dir, "/var/lib/jumpgate") == 0)
		snprintf(dir, sizeof(dir), "%s", JG_LOGDIR);
	else
		snprintf(dir, sizeof(dir), "%s", state_dir);
	return jg_paths_join(buf, len, dir, "audit.log");
}

int jg_paths_join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	while (name[0] == '/')
		name++;
	if (dl == 1 && dir[0] == '/')
		n = snprintf(buf, len, "/%s", name);
	else
		n = snprintf(buf, len, "%.*s/%s", (int)dl, dir, name);
	if (n < 0 || (size_t)n >= len)
		return JG_ERR_TOOBIG;
	return 0;
}

int jg_paths_mkdir_p(const char *dir, unsigned mode)
{
	struct stat st;
	char *p = NULL, *s;
	int r = JG_ERR_IO, c;

	if (dir == NULL || dir[0] == '\0') {
		errno = EINVAL;
		return JG_ERR_IO;
	}
	if ((p = strdup(dir)) == NULL) {
		errno = ENOMEM;
		return JG_ERR_IO;
	}
	/* Walk the components left to right, creating each one that is missing;
	 * EEXIST is fine as long as what exists is a directory. */
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0) {
			int e = errno;
			if (e != EEXIST || stat(p, &st) != 0) {
				errno = e;
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				goto out;
			}
		}
		*s = c;
		if (c == '\0')
			break;
		while (s[1] == '/')
			s++;
	}
	r = 0;
out:
	c = errno; /* free() must not hide why mkdir failed */
	free(p);
	errno = c;
	return r;
}
