/* File channels: the OPEN dispatch for PUT, GET and STAT, path resolution
 * shared by all three (files.h), STAT itself, and the list of live transfers.
 *
 * The list is the one piece of file-scope mutable state in the agent besides
 * the swept-directory memory in files_put.c: struct jg_agent (agent.h, owned
 * by main.c) has a list for exec channels but none for these, and main.c only
 * calls jg_agent_file_free_all.  Both live for the process, as
 * the one struct jg_agent does. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "agent/agent.h"
#include "agent/files.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"
#include "relay/pathrule.h"
#include "relay/wire.h"

__attribute__((format(printf, 3, 4))) static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return JG_ERR_INVAL;
}

/* ---- path resolution ---- */

/* PATH's components joined by single slashes: "" and "." collapse, ".." is refused
 * (it could climb out of ROOT, and an operator's ".." is a typo waiting to happen). */
static int fpath_normalise(const char *path, char **rel, char *err, size_t errlen)
{
	const char *p = path, *s;
	char *out, *o;
	size_t n;

	if ((out = o = malloc(strlen(path) + 1)) == NULL)
		return JG_ERR_NOMEM;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		for (s = p; *p != '\0' && *p != '/'; p++)
			;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			free(out);
			return say(err, errlen, "refusing %s: \"..\" is not allowed in a path",
				   path);
		}
		if (o != out)
			*o++ = '/';
		memcpy(o, s, n);
		o += n;
	}
	*o = '\0';
	*rel = out;
	return 0;
}

/* openat2 resolves the whole parent in one call, refusing any symlink and any escape. */
static int fpath_openat2(int base, const char *rel)
{
#ifdef SYS_openat2
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, base, rel, &how, sizeof(how));
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Why opening component COMP (the path up to it is SHOWN[0..upto]) in CUR failed. */
static int fpath_why(const struct jg_fpath *p, int cur, const char *comp, size_t upto, int e,
		     enum jg_fpath_mode mode, char *err, size_t errlen)
{
	struct stat st;

	if (p->beneath && (e == ELOOP || e == ENOTDIR) &&
	    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return say(
		    err, errlen,
		    "refusing %s: %.*s is a symbolic link (none is followed beneath the root)",
		    p->shown, (int)upto, p->shown);
	if (e == ENOENT && mode == JG_FPATH_READ)
		return say(err, errlen, "no such file: %s", p->shown);
	if (e == ENOENT)
		return say(err, errlen, "parent directory %s does not exist (use mkdirs)",
			   p->dirshown);
	if (e == ENOTDIR)
		return say(err, errlen, "%s: %.*s is not a directory", p->shown, (int)upto,
			   p->shown);
	return say(err, errlen, "%.*s: %s", (int)upto, p->shown, strerror(e));
}

/* One component at a time from BASE (taken): every step an openat on the previous
 * step's fd, O_NOFOLLOW beneath a root, creating what is missing with MKDIRS.
 * Safe on its own; used when openat2 fails, to create directories and to name
 * the component at fault. */
static int fpath_walk(struct jg_fpath *p, int base, const char *prel, enum jg_fpath_mode mode,
		      char *err, size_t errlen)
{
	int oflags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (p->beneath ? O_NOFOLLOW : 0);
	size_t off = strlen(p->dirshown) - strlen(prel); /* prel is a suffix of dirshown */
	const char *s = prel, *e;
	char comp[NAME_MAX + 1];
	int cur = base, fd, r = 0;

	while (*s != '\0') {
		e = strchrnul(s, '/');
		if ((size_t)(e - s) > NAME_MAX) {
			r = say(err, errlen, "%s: a component is longer than %d bytes", p->shown,
				NAME_MAX);
			goto out;
		}
		memcpy(comp, s, (size_t)(e - s));
		comp[e - s] = '\0';
		fd = openat(cur, comp, oflags);
		if (fd < 0 && errno == ENOENT && mode == JG_FPATH_MKDIRS) {
			if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
				r = say(err, errlen, "creating directory %.*s: %s",
					(int)(off + (size_t)(e - prel)), p->dirshown,
					strerror(errno));
				goto out;
			}
			fd = openat(cur, comp, oflags);
		}
		if (fd < 0) {
			r = fpath_why(p, cur, comp, off + (size_t)(e - prel), errno, mode, err,
				      errlen);
			goto out;
		}
		close(cur);
		cur = fd;
		s = *e == '/' ? e + 1 : e;
	}
	p->dirfd = cur;
	cur = -1;
out:
	if (cur >= 0)
		close(cur);
	return r;
}

/* ---- following links under path rules ---- */

#define FPATH_MAX_LINKS 40 /* as the kernel's MAXSYMLINKS */

/* The directory REAL (absolute, symlink-free) opened from "/" one component at a time,
 * never following a link: -1 with errno when it is not (or no longer) what it was. */
static int fpath_open_real(const char *real)
{
	char comp[NAME_MAX + 1];
	const char *s = real, *e;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), nfd;

	while (fd >= 0 && *(s += strspn(s, "/")) != '\0') {
		e = strchrnul(s, '/');
		if ((size_t)(e - s) > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, s, (size_t)(e - s));
		comp[e - s] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
		s = e;
	}
	return fd;
}

/* Where a followed walk ended. */
struct fpath_end {
	int dirfd;		 /* the real parent, held */
	char real[PATH_MAX];	 /* its path, "" for "/" */
	char name[NAME_MAX + 1]; /* the last component, "." when the path names the directory */
	char missing[PATH_MAX];	 /* MKDIRS: directories still to create beneath REAL, "a/b" */
};

/* Walk ABS (absolute) from "/" with O_NOFOLLOW, expanding each symlink met (in the
 * parent always, the last component only with FOLLOW_LAST) by splicing its target
 * into what is left; ".." of a target climbs the real path.  What is missing is an
 * error but for MKDIRS (kept in END->missing: nothing is created here) and the last
 * component (left to the caller).  SHOWN names the request in messages. */
static int fpath_follow(const char *abs, int follow_last, enum jg_fpath_mode mode,
			const char *shown, struct fpath_end *end, char *err, size_t errlen)
{
	char todo[2 * PATH_MAX + 2], link[PATH_MAX], comp[NAME_MAX + 1];
	size_t rlen = 0, n, rest;
	const char *t;
	struct stat st;
	int links = 0, fd, r = 0;
	ssize_t ln;

	end->real[0] = end->missing[0] = '\0';
	if (strlen(abs) >= sizeof(todo))
		return say(err, errlen, "%s: the path is too long", shown);
	strcpy(todo, abs);
	if ((end->dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return say(err, errlen, "opening /: %s", strerror(errno));
	for (t = todo;;) {
		t += strspn(t, "/");
		if (*t == '\0') {
			strcpy(end->name, "."); /* the path names the directory we hold */
			break;
		}
		n = strcspn(t, "/");
		if (n > NAME_MAX) {
			r = say(err, errlen, "%s: a component is longer than %d bytes", shown,
				NAME_MAX);
			goto fail;
		}
		memcpy(comp, t, n);
		comp[n] = '\0';
		t += n;
		rest = strspn(t, "/");
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* Only a link's target brings one (requests are refused with it). */
			while (rlen > 0 && end->real[rlen - 1] != '/')
				rlen--;
			end->real[rlen > 0 ? --rlen : 0] = '\0';
			close(end->dirfd);
			if ((end->dirfd = fpath_open_real(end->real)) < 0) {
				r = say(err, errlen, "%s: reopening %s: %s", shown,
					rlen ? end->real : "/", strerror(errno));
				goto fail;
			}
			continue;
		}
		if (t[rest] == '\0' && !follow_last) {
			strcpy(end->name, comp);
			break;
		}
		if (fstatat(end->dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				r = say(err, errlen, "%s/%s: %s", end->real, comp, strerror(errno));
			else if (t[rest] == '\0') {
				strcpy(end->name, comp); /* a new file, or "no such file" later */
				break;
			} else if (mode == JG_FPATH_MKDIRS) {
				if (snprintf(end->missing, sizeof(end->missing), "%s%s", comp, t) >=
				    (int)sizeof(end->missing))
					r = say(err, errlen, "%s: the path is too long", shown);
				break;
			} else if (mode == JG_FPATH_READ)
				r = say(err, errlen, "no such file: %s", shown);
			else
				r = say(err, errlen,
					"parent directory %s/%s does not exist (use mkdirs)",
					end->real, comp);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > FPATH_MAX_LINKS) {
				r = say(err, errlen, "%s: too many levels of symbolic links",
					shown);
				goto fail;
			}
			ln = readlinkat(end->dirfd, comp, link, sizeof(link));
			if (ln <= 0 || (size_t)ln >= sizeof(link)) {
				r = say(err, errlen, "%s: reading the link %s/%s: %s", shown,
					end->real, comp,
					ln < 0 ? strerror(errno) : "empty or too long");
				goto fail;
			}
			if (link[0] == '/') {
				close(end->dirfd);
				rlen = 0;
				end->real[0] = '\0';
				if ((end->dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
				    0) {
					r = say(err, errlen, "opening /: %s", strerror(errno));
					goto fail;
				}
			}
			/* TARGET "/" REST replaces what is left (T points into TODO: move it). */
			n = strlen(t);
			if ((size_t)ln + 1 + n >= sizeof(todo)) {
				r = say(err, errlen,
					"%s: the path is too long once its links are "
					"followed",
					shown);
				goto fail;
			}
			memmove(todo + ln + 1, t, n + 1);
			memcpy(todo, link, (size_t)ln);
			todo[ln] = '/';
			t = todo;
			continue;
		}
		if (t[rest] == '\0' && !S_ISDIR(st.st_mode)) {
			strcpy(end->name, comp); /* the final object, not a link */
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = say(err, errlen, "%s: %s/%s is not a directory", shown, end->real,
				comp);
			goto fail;
		}
		if (rlen + 1 + n >= sizeof(end->real)) {
			r = say(err, errlen, "%s: the path is too long", shown);
			goto fail;
		}
		if ((fd = openat(end->dirfd, comp,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			r = say(err, errlen, "%s/%s: %s", end->real, comp, strerror(errno));
			goto fail;
		}
		close(end->dirfd);
		end->dirfd = fd;
		end->real[rlen++] = '/';
		memcpy(end->real + rlen, comp, n + 1);
		rlen += n;
	}
	if (r == 0)
		return 0;
fail:
	close(end->dirfd);
	end->dirfd = -1;
	return r;
}

/* Do SPEC's rules allow P->shown (its real path)?  REQUESTED names the request. */
static int fpath_judge(const struct jg_file_spec *spec, const char *requested,
		       const struct jg_fpath *p, char *err, size_t errlen)
{
	if (jg_pathrule_allows(spec->rules, spec->rules_len, p->shown))
		return 0;
	if (strcmp(requested, p->shown) == 0)
		return say(err, errlen, "refusing %s: the policy does not allow this path",
			   requested);
	return say(err, errlen,
		   "refusing %s: it resolves to %s (through a symbolic link), which the "
		   "policy does not allow",
		   requested, p->shown);
}

/* "REAL/NAME" (REAL "" for "/"; NAME "." for REAL itself) into a new string. */
static char *fpath_join(const char *real, const char *name)
{
	char *s;

	if (strcmp(name, ".") == 0)
		return strdup(real[0] != '\0' ? real : "/");
	return asprintf(&s, "%s/%s", real, name) < 0 ? NULL : s;
}

/* ROOT with its links followed: its real path into *REAL, held open in *FD. */
static int fpath_root_followed(const char *root, char **real, int *fd, char *err, size_t errlen)
{
	struct fpath_end e;
	int r;

	*fd = -1;
	if ((r = fpath_follow(root, 1, JG_FPATH_READ, root, &e, err, errlen)) != 0)
		return r;
	if ((*real = fpath_join(e.real, e.name)) == NULL) {
		close(e.dirfd);
		return JG_ERR_NOMEM;
	}
	if (strcmp(e.name, ".") == 0) {
		*fd = e.dirfd;
		return 0;
	}
	*fd = openat(e.dirfd, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(e.dirfd);
	if (*fd >= 0)
		return 0;
	r = say(err, errlen, "root directory %s: %s", *real, strerror(errno));
	free(*real);
	*real = NULL;
	return r;
}

/* An absolute PATH ("/" REL) under path rules: followed, judged, then created (MKDIRS). */
static int fpath_open_followed(const struct jg_file_spec *spec, const char *rel,
			       enum jg_fpath_mode mode, struct jg_fpath *p, char *err,
			       size_t errlen)
{
	char abs[PATH_MAX + 2], *miss = NULL, *slash, *mdir = "";
	struct fpath_end e;
	int r;

	if (snprintf(abs, sizeof(abs), "/%s", rel) >= (int)sizeof(abs))
		return say(err, errlen, "%s: the path is too long", spec->path);
	p->beneath = p->real = 1;
	if ((r = fpath_follow(abs, mode == JG_FPATH_READ, mode, abs, &e, err, errlen)) != 0)
		return r;
	r = JG_ERR_NOMEM;
	if (e.missing[0] != '\0') {
		/* Directories to create: "a/b/name" -> MDIR "a/b", NAME "name". */
		for (const char *c = e.missing; *c != '\0'; c += strcspn(c, "/")) {
			c += strspn(c, "/");
			if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0')) {
				r = say(err, errlen,
					"%s: a symbolic link leads through a missing directory to "
					"\"..\"",
					abs);
				goto out;
			}
		}
		if ((miss = jg_path_lexical("/", e.missing)) == NULL)
			goto out;
		slash = strrchr(miss, '/');
		*slash = '\0';
		mdir = miss[0] != '\0' ? miss + 1 : "";
		if ((p->name = strdup(slash + 1)) == NULL)
			goto out;
		p->dirshown = mdir[0] != '\0' ? fpath_join(e.real, mdir) : fpath_join(e.real, ".");
	} else {
		p->name = strdup(e.name);
		p->dirshown = fpath_join(e.real, ".");
	}
	if (p->name == NULL || p->dirshown == NULL ||
	    (p->shown = fpath_join(strcmp(p->dirshown, "/") == 0 ? "" : p->dirshown, p->name)) ==
		NULL)
		goto out;
	if ((r = fpath_judge(spec, abs, p, err, errlen)) != 0)
		goto out;
	if (mdir[0] == '\0') {
		p->dirfd = e.dirfd;
		e.dirfd = -1;
		r = 0;
	} else {
		r = fpath_walk(p, e.dirfd, mdir, JG_FPATH_MKDIRS, err, errlen);
		e.dirfd = -1; /* taken by the walk */
	}
out:
	if (e.dirfd >= 0)
		close(e.dirfd);
	free(miss);
	if (r == JG_ERR_NOMEM)
		say(err, errlen, "out of memory resolving %s", abs);
	return r;
}

int jg_fpath_link_allowed(const struct jg_file_spec *spec, const struct jg_fpath *p,
			  const char *link, char *err, size_t errlen)
{
	char *to;
	int ok;

	if (spec->rules == NULL)
		return 0;
	if ((to = jg_path_lexical(p->dirshown, link)) == NULL)
		return say(err, errlen, "symlink %s: out of memory", p->shown);
	ok = jg_pathrule_allows(spec->rules, spec->rules_len, to);
	if (!ok)
		say(err, errlen,
		    "refusing symlink %s -> %s: it points to %s, which the policy does not allow",
		    p->shown, link, to);
	free(to);
	return ok ? 0 : JG_ERR_INVAL;
}

int jg_fpath_open(const struct jg_file_spec *spec, enum jg_fpath_mode mode, struct jg_fpath *p,
		  char *err, size_t errlen)
{
	const char *base = spec->root != NULL ? spec->root : "/", *slash;
	char *rel = NULL, *prel = NULL, *realroot = NULL, *requested = NULL;
	size_t blen;
	int fd = -1, r;

	memset(p, 0, sizeof(*p));
	p->dirfd = -1;
	p->beneath = spec->root != NULL;
	if (spec->path == NULL)
		return say(err, errlen, "the file spec has no PATH");
	if (spec->root != NULL && spec->root[0] != '/')
		return say(err, errlen, "ROOT %s is not an absolute path", spec->root);
	if (spec->root != NULL && spec->path[0] == '/')
		return say(err, errlen, "PATH %s must be relative to ROOT %s", spec->path,
			   spec->root);
	if (spec->root == NULL && spec->path[0] != '/')
		return say(err, errlen, "PATH %s is relative: give an absolute path, or a ROOT",
			   spec->path);
	if ((r = fpath_normalise(spec->path, &rel, err, errlen)) != 0)
		return r;
	if (spec->rules != NULL && spec->root == NULL) {
		r = fpath_open_followed(spec, rel, mode, p, err, errlen);
		goto out;
	}
	if (spec->rules != NULL) {
		/* ROOT's own links are followed and judged with the path beneath it. */
		if ((r = fpath_root_followed(spec->root, &realroot, &fd, err, errlen)) != 0)
			goto out;
		if (asprintf(&requested, "%s/%s", spec->root, rel) < 0) {
			requested = NULL;
			r = JG_ERR_NOMEM;
			goto out;
		}
		base = realroot;
		p->real = 1;
	}
	/* Shown as BASE/REL without doubled slashes; the root itself as BASE. */
	blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	r = JG_ERR_NOMEM;
	if (asprintf(&p->shown, "%.*s%s%s", (int)blen, base,
		     rel[0] != '\0' && base[blen - 1] != '/' ? "/" : "", rel) < 0) {
		p->shown = NULL;
		goto out;
	}
	slash = strrchr(rel, '/');
	if ((p->name = strdup(rel[0] == '\0'  ? "."
			      : slash != NULL ? slash + 1
					      : rel)) == NULL ||
	    (prel = strndup(rel, slash != NULL ? (size_t)(slash - rel) : 0)) == NULL)
		goto out;
	/* The parent as shown: SHOWN up to its last slash (the base when REL has one part). */
	if (rel[0] == '\0' || slash == NULL)
		p->dirshown = strndup(base, blen);
	else
		p->dirshown = strndup(p->shown, strlen(p->shown) - strlen(p->name) - 1);
	if (p->dirshown == NULL)
		goto out;
	if (p->real && (r = fpath_judge(spec, requested, p, err, errlen)) != 0)
		goto out;

	if (fd < 0 && (fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = say(err, errlen, "%s %s: %s", spec->root != NULL ? "root directory" : "opening",
			base, strerror(errno));
		goto out;
	}
	if (prel[0] == '\0') {
		p->dirfd = fd;
		fd = -1;
		r = 0;
		goto out;
	}
	p->dirfd = p->beneath ? fpath_openat2(fd, prel)
			      : openat(fd, prel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd >= 0) {
		r = 0;
		goto out;
	}
	r = fpath_walk(p, fd, prel, mode, err, errlen);
	fd = -1; /* taken by the walk */
out:
	if (fd >= 0)
		close(fd);
	free(prel);
	free(rel);
	free(realroot);
	free(requested);
	if (r != 0)
		jg_fpath_clear(p);
	if (r == JG_ERR_NOMEM)
		say(err, errlen, "out of memory resolving %s", spec->path);
	return r;
}

void jg_fpath_clear(struct jg_fpath *p)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->name);
	free(p->shown);
	free(p->dirshown);
	memset(p, 0, sizeof(*p));
	p->dirfd = -1;
}

/* ---- helpers shared by the kinds ---- */

void jg_agent_files_track(struct jg_file_chan *c)
{
	LIST_INSERT_HEAD(&c->a->files, c, entry);
}

void jg_agent_files_untrack(struct jg_file_chan *c)
{
	LIST_REMOVE(c, entry);
}

/* link.h's jg_link_accept() always queues an empty OPEN_OK and the link has no call
 * taking a payload, while GET and STAT answer with a file spec in it.  Until it has
 * one, accept, then swap the empty OPEN_OK just queued at the tail of the output
 * for one carrying PAYLOAD.  Everything queued before it keeps its order. */
int jg_agent_files_accept(struct jg_agent *a, uint32_t ch, void *ud, struct evbuffer *payload)
{
	size_t plen = payload != NULL ? evbuffer_get_length(payload) : 0;

	return jg_link_accept_with(a->link, ch, ud, plen ? evbuffer_pullup(payload, -1) : NULL,
				   plen);
}

int jg_agent_files_describe(const struct stat *st, const char *link, const struct jg_fpath *p,
			    struct evbuffer *out)
{
	struct jg_file_spec s;

	memset(&s, 0, sizeof(s));
	if (p != NULL && p->real)
		s.path = p->shown; /* only read by the encoder */
	s.flags = JG_FILE_HAS_SIZE | JG_FILE_HAS_MODE | JG_FILE_HAS_MTIME;
	if (S_ISDIR(st->st_mode))
		s.flags |= JG_FILE_DIR;
	if (S_ISLNK(st->st_mode) && link != NULL) {
		s.flags |= JG_FILE_SYMLINK;
		s.link = (char *)link; /* only read by the encoder */
	}
	s.size = (uint64_t)st->st_size;
	s.mode = st->st_mode & 07777;
	s.mtime = (int64_t)st->st_mtim.tv_sec;
	return jg_file_spec_encode(&s, out);
}

/* ---- STAT ---- */

/* Without ROOT a symlink is followed (as stat(1) -L would: it is a read); beneath a
 * root it is not, and is described as a link (SYMLINK and LINK). */
static void file_stat(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *spec,
		      char *reason, size_t rlen)
{
	struct evbuffer *payload = NULL;
	char link[PATH_MAX];
	struct jg_fpath p;
	struct stat st;
	ssize_t n;
	int r;

	if ((r = jg_fpath_open(spec, JG_FPATH_READ, &p, reason, rlen)) != 0)
		goto out;
	if (fstatat(p.dirfd, p.name, &st, p.beneath ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
		r = errno == ENOENT ? say(reason, rlen, "no such file: %s", p.shown)
				    : say(reason, rlen, "%s: %s", p.shown, strerror(errno));
		goto out;
	}
	link[0] = '\0';
	if (S_ISLNK(st.st_mode) && (n = readlinkat(p.dirfd, p.name, link, sizeof(link) - 1)) >= 0)
		link[n] = '\0';
	if ((payload = evbuffer_new()) == NULL ||
	    (r = jg_agent_files_describe(&st, link, &p, payload)) != 0) {
		r = say(reason, rlen, "%s: out of memory", p.shown);
		goto out;
	}
	/* No channel object: the EXIT right behind ends the channel. */
	if ((r = jg_agent_files_accept(a, ch, NULL, payload)) != 0 ||
	    (r = jg_link_send_exit(a->link, ch, 0, 0)) != 0)
		jg_log_warn("channel %u: cannot answer STAT of %s: %s", ch, p.shown,
			    jg_strerror(r));
	r = 0;
out:
	if (payload != NULL)
		evbuffer_free(payload);
	jg_fpath_clear(&p);
	if (r == 0)
		return;
	jg_log_info("channel %u: %s", ch, reason);
	if ((r = jg_link_reject(a->link, ch, reason)) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
}

/* ---- entry points (agent.h) ---- */

void jg_agent_file_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f)
{
	struct jg_file_spec spec;
	char reason[1024], why[512];
	int r;

	if ((r = jg_file_spec_decode(f->payload, f->length, &spec, why, sizeof(why))) != 0) {
		snprintf(reason, sizeof(reason), "bad file spec: %s", why);
		jg_log_warn("channel %u: %s", ch, reason);
		if ((r = jg_link_reject(a->link, ch, reason)) != 0)
			jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
		return;
	}
	switch ((enum jg_open_kind)f->aux) {
	case JG_OPEN_PUT:
		jg_agent_put_open(a, ch, &spec);
		break;
	case JG_OPEN_GET:
		jg_agent_get_open(a, ch, &spec);
		break;
	case JG_OPEN_STAT:
		file_stat(a, ch, &spec, reason, sizeof(reason));
		break;
	case JG_OPEN_EXEC:
	case JG_OPEN_TUNNEL:
		/* main.c routes only the file kinds here. */
		jg_link_reject(a->link, ch, "not a file operation");
		break;
	}
	jg_file_spec_clear(&spec);
}

void jg_agent_file_free_all(struct jg_agent *a)
{
	struct jg_file_chan *c;

	while ((c = LIST_FIRST(&a->files)) != NULL) {
		/* The link still knows the channel: make sure it never hands us C again.
		 * dead() sends nothing, removes a PUT's temporary file and frees C. */
		jg_link_set_channel_ud(a->link, c->ch, NULL);
		c->chan.cbs->dead(a, &c->chan, "the agent is shutting down");
	}
	jg_agent_files_journal_close(a); /* every temporary file is gone */
}

void jg_agent_file_sweep_dead(void)
{
	jg_agent_files_journal_sweep();
}
