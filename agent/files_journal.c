/* The put journal: temporary files of agents that were killed are removed when
 * the next agent starts, not only when a later PUT happens into the same
 * directory (files_put.c sweeps that one on its first PUT there).
 *
 * Each agent process that writes a temporary file appends its absolute path to
 * its own journal, "<dir>/agent-<pid>-<16 hex>", which it holds flock(LOCK_EX)
 * on for its whole life; <dir> is $XDG_RUNTIME_DIR/jumpgate-puts when that is
 * set (per user, cleared at logout), else $HOME/.cache/jumpgate/puts (beside
 * the agent cache), created 0700 and used only when it is a directory the
 * agent's account owns.  When its last live PUT ends (and when it ends
 * normally) an agent removes its journal: none of its temporary files is left
 * then, and the next PUT starts a new one.  At
 * start, every journal whose lock can be taken belongs to an agent that is
 * gone (the lock dies with its process, whatever pid namespace it ran in):
 * each temporary file it names that still exists, is a regular file with a
 * temporary name and is not locked (a live transfer holds its file locked) is
 * removed, then the journal.  Without a usable directory nothing is
 * journaled, and the sweep on the first PUT into a directory still applies. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/files.h"
#include "relay/log.h"

/* Open (with MAKE: creating it) the journal directory; -1 when there is none usable. */
static int journal_dir(int make)
{
	const char *rt = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	const char *base, *const *parts;
	static const char *const in_rt[] = {"jumpgate-puts", NULL};
	static const char *const in_home[] = {".cache", "jumpgate", "puts", NULL};
	struct stat st;
	int fd, nfd;

	if (rt != NULL && rt[0] == '/') {
		base = rt;
		parts = in_rt;
	} else if (home != NULL && home[0] == '/') {
		base = home;
		parts = in_home;
	} else {
		return -1;
	}
	if ((fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (; *parts != NULL; parts++) {
		if (make && mkdirat(fd, *parts, 0700) != 0 && errno != EEXIST)
			goto fail;
		nfd = openat(fd, *parts, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if ((fd = nfd) < 0)
			return -1;
	}
	/* Ours alone: another account's directory (a HOME we were given) is not used. */
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int jg_agent_files_journal_add(struct jg_agent *a, const char *dir, const char *name)
{
	char jname[64], line[PATH_MAX + NAME_MAX + 4];
	uint64_t r;
	int dfd, n;

	if (!a->journal_tried) {
		a->journal_tried = 1;
		a->journal_fd = -1;
		if ((dfd = journal_dir(1)) < 0)
			return 0;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = (uint64_t)getppid() << 32 ^ (uint64_t)time(NULL);
		snprintf(jname, sizeof(jname), "agent-%ld-%016llx", (long)getpid(),
			 (unsigned long long)r);
		a->journal_fd =
		    openat(dfd, jname,
			   O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (a->journal_fd >= 0 && flock(a->journal_fd, LOCK_EX | LOCK_NB) != 0) {
			/* Unlocked, it would look like a dead agent's: not used. */
			unlinkat(dfd, jname, 0);
			close(a->journal_fd);
			a->journal_fd = -1;
		}
		if (a->journal_fd >= 0 && (a->journal_name = strdup(jname)) == NULL) {
			unlinkat(dfd, jname, 0);
			close(a->journal_fd);
			a->journal_fd = -1;
		}
		close(dfd);
	}
	if (a->journal_fd < 0 || strchr(dir, '\n') != NULL || strchr(name, '\n') != NULL)
		return 0;
	n = snprintf(line, sizeof(line), "%s/%s\n", strcmp(dir, "/") == 0 ? "" : dir, name);
	if (n <= 0 || (size_t)n >= sizeof(line) || write(a->journal_fd, line, (size_t)n) != n) {
		jg_log_debug("put journal: cannot note %s/%s", dir, name);
		return 0;
	}
	a->journal_live++;
	return 1;
}

void jg_agent_files_journal_done(struct jg_agent *a)
{
	if (a->journal_live > 0 && --a->journal_live == 0)
		jg_agent_files_journal_close(a);
}

void jg_agent_files_journal_close(struct jg_agent *a)
{
	int dfd;

	a->journal_tried = 0; /* the next PUT starts a new journal */
	a->journal_live = 0;
	if (a->journal_fd < 0)
		return;
	if (a->journal_name != NULL && (dfd = journal_dir(0)) >= 0) {
		unlinkat(dfd, a->journal_name, 0);
		close(dfd);
	}
	close(a->journal_fd);
	a->journal_fd = -1;
	free(a->journal_name);
	a->journal_name = NULL;
}

/* Remove PATH (a line of a dead agent's journal) if it is still an unlocked temp file. */
static void journal_sweep_one(char *path)
{
	char *slash = strrchr(path, '/');
	struct stat st;
	int dfd, fd;

	if (slash == NULL || !jg_agent_files_is_temp(slash + 1))
		return;
	*slash = '\0';
	dfd = open(path[0] != '\0' ? path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (dfd < 0)
		return;
	if (fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (fd = openat(dfd, slash + 1,
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, slash + 1, 0) == 0)
			jg_log_info(
			    "removed %s, left by an interrupted transfer (its agent is gone)",
			    path);
		close(fd);
	}
	close(dfd);
}

void jg_agent_files_journal_sweep(void)
{
	char line[PATH_MAX + NAME_MAX + 4];
	struct dirent *e;
	DIR *d;
	FILE *f;
	int dfd, fd;

	if ((dfd = journal_dir(0)) < 0)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "agent-", 6) != 0)
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 || (f = fdopen(fd, "r")) == NULL) {
			close(fd); /* locked: its agent is alive */
			continue;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '/')
				journal_sweep_one(line);
		}
		unlinkat(dirfd(d), e->d_name, 0);
		fclose(f);
	}
	closedir(d);
}
