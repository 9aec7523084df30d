/* The local tree walk of `cp -r`; see walk.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/walk.h"
#include "relay/argv.h"
#include "relay/err.h"

/* Deeper than this is a loop or an attack, not a source tree. */
#define WALK_MAX_DEPTH 256

static struct jg_walk_entry *walk_push(struct jg_walk *w, enum jg_walk_kind kind, const char *rel,
				       unsigned depth)
{
	struct jg_walk_entry *e;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct jg_walk_entry *v = realloc(w->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		w->v = v;
		w->cap = cap;
	}
	e = &w->v[w->n];
	memset(e, 0, sizeof(*e));
	if ((e->rel = strdup(rel)) == NULL)
		return NULL;
	e->kind = kind;
	e->depth = depth;
	w->n++;
	return e;
}

static int walk_error(struct jg_walk *w, const char *rel, unsigned depth, const char *why)
{
	struct jg_walk_entry *e = walk_push(w, JG_WALK_ERROR, rel, depth);

	if (e == NULL || (e->link = strdup(why)) == NULL)
		return JG_ERR_NOMEM;
	w->nerrors++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory DFD (taken: closed here), sorted, "." and ".." left out. */
static int walk_names(int dfd, char ***names, size_t *count)
{
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	struct jg_argv v = {0};
	char **list;
	size_t n;
	int r;

	if (dfd < 0)
		return JG_ERR_IO;
	if (d == NULL) {
		close(dfd);
		return JG_ERR_IO;
	}
	errno = 0;
	while (!v.nomem && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			jg_argv_push(&v, de->d_name);
	r = v.nomem ? JG_ERR_NOMEM : errno != 0 ? JG_ERR_IO : 0;
	closedir(d);
	n = v.n;
	if ((list = jg_argv_take(&v)) == NULL && r == 0)
		r = JG_ERR_NOMEM;
	if (r != 0) {
		jg_argv_free(list);
		return r;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_names);
	*names = list;
	*count = n;
	return 0;
}

static int walk_at(struct jg_walk *w, int parent, const char *name, const char *rel,
		   unsigned depth);

/* The entries of directory REL (already recorded), opened as NAME beneath PARENT. */
static int walk_dir(struct jg_walk *w, int parent, const char *name, const char *rel,
		    unsigned depth)
{
	char **names = NULL, sub[PATH_MAX], why[PATH_MAX + 64];
	size_t n = 0, i;
	int dfd, r = 0;

	if (depth >= WALK_MAX_DEPTH)
		return walk_error(w, rel, depth, "directories nested too deep");
	dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
	if (dfd < 0) {
		snprintf(why, sizeof(why), "cannot open the directory: %s", strerror(errno));
		return walk_error(w, rel, depth, why);
	}
	/* walk_names takes (and closes) a duplicate: DFD stays for the *at() calls below, the
	 * same directory that was listed, whatever is renamed meanwhile. */
	r = walk_names(fcntl(dfd, F_DUPFD_CLOEXEC, 0), &names, &n);
	if (r == JG_ERR_IO) {
		snprintf(why, sizeof(why), "cannot read the directory: %s", strerror(errno));
		r = walk_error(w, rel, depth, why);
		goto out;
	}
	if (r != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
				     names[i]) >= sizeof(sub))
			r = walk_error(w, names[i], depth + 1, "path too long");
		else
			r = walk_at(w, dfd, names[i], sub, depth + 1);
	}
out:
	close(dfd);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int walk_at(struct jg_walk *w, int parent, const char *name, const char *rel, unsigned depth)
{
	struct jg_walk_entry *e;
	struct stat st;
	char why[PATH_MAX + 64], target[PATH_MAX];
	ssize_t n;

	/* The root was named on the command line: followed, as cp -r and scp -r do. */
	if (fstatat(parent, name, &st, depth ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		return walk_error(w, rel, depth, why);
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(parent, name, target, sizeof(target) - 1);
		if (n < 0) {
			snprintf(why, sizeof(why), "cannot read the symlink: %s", strerror(errno));
			return walk_error(w, rel, depth, why);
		}
		target[n] = '\0';
	} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		return walk_error(w, rel, depth, "not a regular file, directory or symlink");
	}
	e = walk_push(w,
		      S_ISDIR(st.st_mode)   ? JG_WALK_DIR
		      : S_ISLNK(st.st_mode) ? JG_WALK_SYMLINK
					    : JG_WALK_FILE,
		      rel, depth);
	if (e == NULL)
		return JG_ERR_NOMEM;
	e->mode = st.st_mode & 07777;
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	switch (e->kind) {
	case JG_WALK_SYMLINK:
		w->nlinks++;
		if ((e->link = strdup(target)) == NULL)
			return JG_ERR_NOMEM;
		return 0;
	case JG_WALK_FILE:
		w->nfiles++;
		w->bytes += st.st_size;
		return 0;
	case JG_WALK_DIR:
		w->ndirs++;
		return walk_dir(w, parent, name, rel, depth);
	case JG_WALK_ERROR:
		break;
	}
	return 0;
}

int jg_walk(const char *root, struct jg_walk *w)
{
	return walk_at(w, AT_FDCWD, root, "", 0);
}

void jg_walk_clear(struct jg_walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].rel);
		free(w->v[i].link);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}
