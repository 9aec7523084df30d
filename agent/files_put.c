/* PUT channels: atomic writes (relay/opspec.h).
 *
 * A regular file is written to "<dir>/.<name>.jg-<16 hex>.tmp", created
 * O_EXCL|O_NOFOLLOW mode 0600 in the destination directory, hashed on the
 * fly, and on EOF checked (SHA256, SIZE), given its owner, mode and mtime,
 * fsync'd and renamed over the destination, then the directory is fsync'd.
 * rename() replaces whatever is at the name -- a symlink included, whose
 * target is never opened.  Any failure before the rename unlinks the
 * temporary file: nothing is replaced.  CLOSE, DEAD, link loss and shutdown
 * unlink it too.
 *
 * An agent killed mid-transfer cannot clean up.  The next agent to start
 * removes what it left (files_journal.c), and the first PUT into a
 * directory by each agent process (each new connection) sweeps that
 * directory for ".*.jg-*.tmp" files older than 60 s whose owner is gone: a
 * live transfer holds flock(LOCK_EX) on its temporary file for its whole
 * life, even while its agent is stopped, and the lock dies with the process.
 * (The sweep covers every name in the directory, not only the one being
 * written, so a tree of 10,000 files costs one directory scan, not 10,000.)
 *
 * DIR and SYMLINK are done at once inside the OPEN: OPEN_OK, the result as
 * DATA, EXIT 0 -- or OPEN_FAIL; data the gateway sends behind is dropped. */
#include "config.h" /* _GNU_SOURCE */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "agent/agent.h"
#include "agent/files.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"
#include "relay/sha256.h"

#define PUT_STALE_AFTER 60 /* seconds untouched before an unlocked temp file is swept */
#define PUT_NAME_KEEP 200  /* bytes of the name kept in a temp name (NAME_MAX is 255) */

struct put {
	struct jg_file_chan fc; /* first */
	struct jg_fpath path;
	char *tmp;     /* temp file name in path.dirfd; NULL once renamed or removed */
	int journaled; /* tmp is in the agent's put journal (files_journal.c) */
	int fd;
	struct jg_apump *pump; /* writes the gateway's DATA to FD (borrowed), hashed on the way */
	struct jg_sha256 sha;
	uint64_t size;
	uint32_t flags, mode;
	int64_t mtime;
	uint8_t want[JG_SHA256_LEN];
	uint64_t want_size;
	uid_t uid; /* (uid_t)-1: leave */
	gid_t gid;
	struct evbuffer *result; /* the result spec, not yet all sent; NULL before EOF */
};

__attribute__((format(printf, 3, 4))) static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return JG_ERR_INVAL;
}

/* ---- owners ---- */

static int put_number(const char *s, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end != '\0' || errno != 0 || *v >= 0xffffffffUL ? -1 : 0;
}

/* Names are looked up in /etc/passwd and /etc/group only: the agent is static, and
 * glibc's NSS modules (ldap, sss...) cannot be loaded safely into a static binary. */
static int put_ids(const struct jg_file_spec *s, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	char buf[16384];
	unsigned long v;
	int found = 0;
	FILE *f;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (s->owner != NULL && put_number(s->owner, &v) == 0) {
		*uid = (uid_t)v;
	} else if (s->owner != NULL) {
		struct passwd pw, *res;

		if ((f = fopen("/etc/passwd", "re")) != NULL) {
			while (!found && fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0)
				if (strcmp(pw.pw_name, s->owner) == 0) {
					*uid = pw.pw_uid;
					found = 1;
				}
			fclose(f);
		}
		if (!found)
			return say(err, errlen, "unknown user %s (not in /etc/passwd; give a uid)",
				   s->owner);
	}
	found = 0;
	if (s->group != NULL && put_number(s->group, &v) == 0) {
		*gid = (gid_t)v;
	} else if (s->group != NULL) {
		struct group gr, *res;

		if ((f = fopen("/etc/group", "re")) != NULL) {
			while (!found && fgetgrent_r(f, &gr, buf, sizeof(buf), &res) == 0)
				if (strcmp(gr.gr_name, s->group) == 0) {
					*gid = gr.gr_gid;
					found = 1;
				}
			fclose(f);
		}
		if (!found)
			return say(err, errlen, "unknown group %s (not in /etc/group; give a gid)",
				   s->group);
	}
	return 0;
}

/* ---- temporary files ---- */

int jg_agent_files_is_temp(const char *n)
{
	size_t len = strlen(n);

	/* "." NAME ".jg-" 16 hex ".tmp", NAME at least one byte */
	if (len < 26 || n[0] != '.' || strcmp(n + len - 4, ".tmp") != 0 ||
	    strncmp(n + len - 24, ".jg-", 4) != 0)
		return 0;
	for (size_t i = len - 20; i < len - 4; i++)
		if (!isxdigit((unsigned char)n[i]))
			return 0;
	return 1;
}

/* Remove temp files left by dead agents in DIRFD, once per directory per process. */
static void put_sweep(struct jg_agent *a, int dirfd, const char *dirshown)
{
	time_t now = time(NULL);
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if (fstat(dirfd, &st) != 0)
		return;
	for (unsigned i = 0; i < JG_AGENT_SWEPT_MAX && i < a->nswept; i++)
		if (a->swept[i].dev == st.st_dev && a->swept[i].ino == st.st_ino)
			return;
	a->swept[a->nswept % JG_AGENT_SWEPT_MAX].dev = st.st_dev;
	a->swept[a->nswept % JG_AGENT_SWEPT_MAX].ino = st.st_ino;
	a->nswept++;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!jg_agent_files_is_temp(e->d_name) ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    now - st.st_mtime < PUT_STALE_AFTER)
			continue;
		if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd, e->d_name,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			if (fd < 0)
				continue;
			/* Locked: a live (maybe stopped) transfer owns it. */
			if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
				close(fd);
				continue;
			}
		} else if (!S_ISLNK(st.st_mode)) {
			continue;
		} else {
			fd = -1; /* a symlink temp only lives inside one OPEN */
		}
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			jg_log_info("removed %s/%s, left by an interrupted transfer", dirshown,
				    e->d_name);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
}

/* A fresh temp name for NAME ("." NAME ".jg-" 16 hex ".tmp"), or NULL. */
static char *put_temp_name(const char *name)
{
	static uint64_t counter;
	uint64_t r;
	char *t;

	/* Unpredictable, so nobody can plant the name ahead of us (O_EXCL would refuse it
	 * anyway; this keeps such a refusal from being a denial of service). */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)time(NULL) << 32 ^ (uint64_t)getpid() << 16 ^ ++counter;

	if (asprintf(&t, ".%.*s.jg-%016llx.tmp", PUT_NAME_KEEP, name, (unsigned long long)r) < 0)
		return NULL;
	return t;
}

/* ---- the channel ---- */

static void put_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void put_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void put_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_cbs put_cbs = {
    .frame = put_frame,
    .writable = put_writable,
    .dead = put_dead,
};

static void put_free(struct put *x)
{
	jg_agent_files_untrack(&x->fc);
	jg_apump_free(x->pump);
	if (x->fd >= 0)
		close(x->fd);
	if (x->tmp != NULL && unlinkat(x->path.dirfd, x->tmp, 0) != 0 && errno != ENOENT)
		jg_log_warn("removing %s/%s: %s", x->path.dirshown, x->tmp, strerror(errno));
	free(x->tmp);
	if (x->journaled)
		jg_agent_files_journal_done(x->fc.a);
	jg_fpath_clear(&x->path);
	if (x->result != NULL)
		evbuffer_free(x->result);
	free(x);
}

/* The transfer failed: DEAD with the reason, temp file removed, nothing replaced. */
__attribute__((format(printf, 2, 3))) static void put_fail(struct put *x, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	jg_log_info("channel %u: %s", x->fc.ch, reason);
	if ((r = jg_link_send_dead(x->fc.a->link, x->fc.ch, reason)) != 0)
		jg_log_warn("channel %u: cannot send DEAD: %s", x->fc.ch, jg_strerror(r));
	put_free(x);
}

/* Send what is left of the result; EXIT 0 and free once it is all out. */
static void put_flush_result(struct put *x)
{
	struct jg_link *l = x->fc.a->link;
	size_t len = evbuffer_get_length(x->result);
	int64_t n;
	int r;

	n = jg_link_send_data(l, x->fc.ch, 0, evbuffer_pullup(x->result, -1), len);
	if (n < 0) {
		jg_log_warn("channel %u: cannot send the result: %s", x->fc.ch,
			    jg_strerror((int)n));
		put_free(x);
		return;
	}
	evbuffer_drain(x->result, (size_t)n);
	if ((size_t)n < len)
		return; /* the rest when the gateway grants credit */
	if ((r = jg_link_send_exit(l, x->fc.ch, 0, 0)) != 0)
		jg_log_warn("channel %u: cannot send EXIT: %s", x->fc.ch, jg_strerror(r));
	put_free(x);
}

/* What replacing the destination keeps: its mode and, as root, its owner. */
static void put_defaults(struct put *x)
{
	struct stat st;
	int old = fstatat(x->path.dirfd, x->path.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		  S_ISREG(st.st_mode);

	if (!(x->flags & JG_FILE_HAS_MODE))
		x->mode = old ? st.st_mode & 07777 : 0644;
	if (old && geteuid() == 0) {
		if (x->uid == (uid_t)-1)
			x->uid = st.st_uid;
		if (x->gid == (gid_t)-1)
			x->gid = st.st_gid;
	}
}

static void put_finish(struct put *x)
{
	const char *shown = x->path.shown;
	struct jg_file_spec res;
	char want[JG_SHA256_HEX_LEN], got[JG_SHA256_HEX_LEN];
	uint8_t sum[JG_SHA256_LEN];
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
	const char *what;
	int fd;

	jg_sha256_final(&x->sha, sum);
	if ((x->flags & JG_FILE_HAS_SHA256) && memcmp(sum, x->want, sizeof(sum)) != 0) {
		put_fail(x, "sha256 mismatch: expected %s, got %s; %s left unchanged",
			 jg_sha256_hex(x->want, want), jg_sha256_hex(sum, got), shown);
		return;
	}
	if ((x->flags & JG_FILE_HAS_SIZE) && x->size != x->want_size) {
		put_fail(x, "size mismatch: expected %llu bytes, got %llu; %s left unchanged",
			 (unsigned long long)x->want_size, (unsigned long long)x->size, shown);
		return;
	}
	put_defaults(x);
	/* chown before chmod: chown clears set-id bits. */
	what = "setting the owner of";
	if ((x->uid != (uid_t)-1 || x->gid != (gid_t)-1) && fchown(x->fd, x->uid, x->gid) != 0)
		goto fail;
	what = "setting the mode of";
	if (fchmod(x->fd, x->mode) != 0)
		goto fail;
	what = "setting the mtime of";
	ts[1].tv_sec = (time_t)x->mtime;
	if ((x->flags & JG_FILE_HAS_MTIME) && futimens(x->fd, ts) != 0)
		goto fail;
	/* Data on disk before the name points at it; close reports late errors (NFS). */
	what = "writing";
	fd = x->fd;
	x->fd = -1;
	if (fsync(fd) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		goto fail;
	}
	if (close(fd) != 0)
		goto fail;
	what = "renaming the new file to";
	if (renameat(x->path.dirfd, x->tmp, x->path.dirfd, x->path.name) != 0)
		goto fail;
	free(x->tmp);
	x->tmp = NULL;
	if (fsync(x->path.dirfd) != 0) {
		put_fail(x, "%s was replaced, but syncing %s failed: %s", shown, x->path.dirshown,
			 strerror(errno));
		return;
	}
	jg_log_debug("channel %u: wrote %s (%llu bytes)", x->fc.ch, shown,
		     (unsigned long long)x->size);

	memset(&res, 0, sizeof(res));
	res.flags = JG_FILE_HAS_SHA256 | JG_FILE_HAS_SIZE | JG_FILE_HAS_MODE;
	memcpy(res.sha256, sum, sizeof(sum));
	res.size = x->size;
	res.mode = x->mode;
	if (x->path.real)
		res.path = x->path.shown; /* what was really written, for the audit */
	if ((x->result = evbuffer_new()) == NULL || jg_file_spec_encode(&res, x->result) != 0) {
		put_fail(x, "%s was written, but out of memory for the result", shown);
		return;
	}
	put_flush_result(x);
	return;
fail:
	put_fail(x, "%s %s: %s; %s left unchanged", what, shown, strerror(errno), shown);
}

/* Every byte of the file, as it arrives (before it is written). */
static void put_tap(const void *data, size_t len, void *ud)
{
	struct put *x = ud;

	jg_sha256_update(&x->sha, data, len);
	x->size += len;
}

static void put_on_pump(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which,
			int err, void *ud)
{
	struct put *x = ud;

	if (ev == JG_APUMP_IN_DONE)
		put_finish(x);
	else if (ev == JG_APUMP_WRITE_FAILED)
		put_fail(x, "writing %s: %s; %s left unchanged", x->path.shown, strerror(err),
			 x->path.shown);
}

static void put_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f)
{
	struct put *x = (struct put *)c;

	/* DATA and EOF are the pump's: the file's bytes, then put_finish (put_on_pump). */
	if (jg_apump_frame(x->pump, f))
		return;
	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_CLOSE:
		/* The gateway gave up: nothing may be sent, the temp file goes. */
		jg_log_debug("channel %u: PUT of %s closed by the gateway", x->fc.ch,
			     x->path.shown);
		put_free(x);
		return;
	case JG_FRAME_DATA:
	case JG_FRAME_EOF:
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_OPEN_OK:
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_WINDOW:
	case JG_FRAME_EXIT:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
	case JG_FRAME_DEAD:
		break;
	}
	jg_log_debug("channel %u: ignoring %s", x->fc.ch, jg_frame_type_name(f->type));
}

static void put_writable(struct jg_agent *a, struct jg_agent_chan *c)
{
	struct put *x = (struct put *)c;

	if (x->result != NULL)
		put_flush_result(x);
}

static void put_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason)
{
	struct put *x = (struct put *)c;

	jg_log_info("channel %u: PUT of %s abandoned (%s)", x->fc.ch, x->path.shown, reason);
	put_free(x);
}

/* ---- OPEN ---- */

/* Accept, send the result spec describing what is now at the name, EXIT 0. */
static void put_done_at_once(struct jg_agent *a, uint32_t ch, const struct jg_fpath *p)
{
	char link[4096];
	struct evbuffer *b;
	struct stat st;
	ssize_t n;
	int r = JG_ERR_NOMEM;

	link[0] = '\0';
	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		memset(&st, 0, sizeof(st));
	if (S_ISLNK(st.st_mode) && (n = readlinkat(p->dirfd, p->name, link, sizeof(link) - 1)) >= 0)
		link[n] = '\0';
	if ((b = evbuffer_new()) == NULL || (r = jg_agent_files_describe(&st, link, p, b)) != 0 ||
	    (r = jg_link_accept(a->link, ch, NULL)) != 0)
		goto out;
	if (jg_link_send_data(a->link, ch, 0, evbuffer_pullup(b, -1), evbuffer_get_length(b)) !=
	    (int64_t)evbuffer_get_length(b))
		jg_log_warn("channel %u: the window is too small for the result", ch);
	r = jg_link_send_exit(a->link, ch, 0, 0);
out:
	if (r != 0)
		jg_log_warn("channel %u: cannot answer the PUT of %s: %s", ch, p->shown,
			    jg_strerror(r));
	if (b != NULL)
		evbuffer_free(b);
}

static int put_dir(const struct jg_file_spec *s, const struct jg_fpath *p, uid_t uid, gid_t gid,
		   char *err, size_t errlen)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)s->mtime, 0}};
	int created, fd, r = 0;

	created = mkdirat(p->dirfd, p->name, 0700) == 0;
	if (!created && errno != EEXIST)
		return say(err, errlen, "creating directory %s: %s", p->shown, strerror(errno));
	fd = openat(p->dirfd, p->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return say(err, errlen, "%s exists and is not a directory", p->shown);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) != 0)
		r = say(err, errlen, "setting the owner of %s: %s", p->shown, strerror(errno));
	else if ((created || (s->flags & JG_FILE_HAS_MODE)) &&
		 fchmod(fd, s->flags & JG_FILE_HAS_MODE ? s->mode : 0755) != 0)
		r = say(err, errlen, "setting the mode of %s: %s", p->shown, strerror(errno));
	else if ((s->flags & JG_FILE_HAS_MTIME) && futimens(fd, ts) != 0)
		r = say(err, errlen, "setting the mtime of %s: %s", p->shown, strerror(errno));
	else if (created)
		fsync(p->dirfd);
	close(fd);
	return r;
}

static int put_symlink(const struct jg_file_spec *s, const struct jg_fpath *p, uid_t uid, gid_t gid,
		       char *err, size_t errlen)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)s->mtime, 0}};
	const char *what = NULL;
	char *tmp = NULL;
	int e, r = 0;

	if (s->link[0] == '\0')
		return say(err, errlen, "symlink %s: empty LINK", p->shown);
	if ((r = jg_fpath_link_allowed(s, p, s->link, err, errlen)) != 0)
		return r;
	for (int tries = 0; tmp == NULL && tries < 4; tries++) {
		if ((tmp = put_temp_name(p->name)) == NULL)
			return say(err, errlen, "symlink %s: out of memory", p->shown);
		if (symlinkat(s->link, p->dirfd, tmp) == 0)
			break;
		e = errno;
		free(tmp);
		tmp = NULL;
		if (e != EEXIST)
			return say(err, errlen, "creating symlink %s: %s", p->shown, strerror(e));
	}
	if (tmp == NULL)
		return say(err, errlen, "creating symlink %s: no free temporary name", p->shown);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(p->dirfd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
		what = "setting the owner of";
	else if ((s->flags & JG_FILE_HAS_MTIME) &&
		 utimensat(p->dirfd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0)
		what = "setting the mtime of";
	else if (renameat(p->dirfd, tmp, p->dirfd, p->name) != 0)
		what = "replacing";
	if (what != NULL) {
		e = errno;
		unlinkat(p->dirfd, tmp, 0);
		r = e == EISDIR ? say(err, errlen, "%s is a directory", p->shown)
				: say(err, errlen, "%s %s: %s", what, p->shown, strerror(e));
	} else {
		fsync(p->dirfd);
	}
	free(tmp);
	return r;
}

/* A regular file: temp file open and locked, channel accepted. */
static int put_file(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *s,
		    struct jg_fpath *p, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct jg_apump_opts o = {
	    .fd = {-1, -1, -1}, .in_end = JG_APUMP_IN_KEEP, .cb = put_on_pump, .tap = put_tap};
	struct put *x;
	struct stat st;
	int r;

	if (strcmp(p->name, ".") == 0)
		return say(err, errlen, "%s is a directory, not a file name", p->shown);
	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return say(err, errlen, "%s is a directory", p->shown);
	put_sweep(a, p->dirfd, p->dirshown);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return say(err, errlen, "PUT %s: out of memory", p->shown);
	o.ud = x;
	x->fc.chan.cbs = &put_cbs;
	x->fc.a = a;
	x->fc.ch = ch;
	x->path = *p; /* taken */
	memset(p, 0, sizeof(*p));
	p->dirfd = -1;
	x->fd = -1;
	x->flags = s->flags;
	x->mode = s->mode;
	x->mtime = s->mtime;
	memcpy(x->want, s->sha256, sizeof(x->want));
	x->want_size = s->size;
	x->uid = uid;
	x->gid = gid;
	jg_sha256_init(&x->sha);
	jg_agent_files_track(&x->fc);
	for (int tries = 0; x->fd < 0 && tries < 4; tries++) {
		free(x->tmp);
		if ((x->tmp = put_temp_name(x->path.name)) == NULL)
			break;
		x->fd =
		    openat(x->path.dirfd, x->tmp,
			   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		if (x->fd < 0 && errno != EEXIST)
			break;
	}
	if (x->fd < 0) {
		r = say(err, errlen, "creating a temporary file in %s: %s", x->path.dirshown,
			x->tmp != NULL ? strerror(errno) : "out of memory");
		free(x->tmp);
		x->tmp = NULL;
		put_free(x);
		return r;
	}
	o.fd[JG_APUMP_IN] = x->fd;
	if ((x->pump = jg_apump_new(&a->pumps, ch, &o)) == NULL) {
		r = say(err, errlen, "PUT %s: out of memory", x->path.shown);
		put_free(x);
		return r;
	}
	/* Marks the temp file as live for sweeps by other agents (see the top). */
	if (flock(x->fd, LOCK_EX | LOCK_NB) != 0)
		jg_log_warn("channel %u: cannot lock %s/%s: %s", ch, x->path.dirshown, x->tmp,
			    strerror(errno));
	x->journaled = jg_agent_files_journal_add(a, x->path.dirshown, x->tmp);
	if ((r = jg_link_accept(a->link, ch, x)) != 0) {
		put_free(x);
		return say(err, errlen, "cannot accept: %s", jg_strerror(r));
	}
	return 0;
}

void jg_agent_put_open(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *s)
{
	enum jg_fpath_mode mode = s->flags & JG_FILE_MKDIRS ? JG_FPATH_MKDIRS : JG_FPATH_WRITE;
	char reason[1024];
	struct jg_fpath p;
	uid_t uid;
	gid_t gid;
	int r;

	memset(&p, 0, sizeof(p));
	p.dirfd = -1;
	if ((s->flags & JG_FILE_DIR) && (s->flags & JG_FILE_SYMLINK)) {
		r = say(reason, sizeof(reason), "PUT %s: DIR and SYMLINK together", s->path);
		goto out;
	}
	if ((r = put_ids(s, &uid, &gid, reason, sizeof(reason))) != 0 ||
	    (r = jg_fpath_open(s, mode, &p, reason, sizeof(reason))) != 0)
		goto out;
	if (s->flags & (JG_FILE_DIR | JG_FILE_SYMLINK)) {
		if (s->flags & JG_FILE_DIR)
			r = put_dir(s, &p, uid, gid, reason, sizeof(reason));
		else if (strcmp(p.name, ".") == 0)
			r = say(reason, sizeof(reason), "%s is a directory", p.shown);
		else
			r = put_symlink(s, &p, uid, gid, reason, sizeof(reason));
		if (r == 0)
			put_done_at_once(a, ch, &p);
		goto out;
	}
	r = put_file(a, ch, s, &p, uid, gid, reason, sizeof(reason));
out:
	jg_fpath_clear(&p);
	if (r == 0)
		return;
	jg_log_info("channel %u: %s", ch, reason);
	if ((r = jg_link_reject(a->link, ch, reason)) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
}
