/* A local file tree as a flat list, for `jumpgate cp -r`.
 *
 * Pre-order (a directory comes before everything in it), names sorted within a
 * directory so that runs are repeatable.  Nothing beneath the root is followed:
 * entries come from lstat (fstatat AT_SYMLINK_NOFOLLOW), directories are opened
 * with O_NOFOLLOW relative to their parent's descriptor, so a symlink swapped in
 * during the walk is seen as a symlink, never walked through.  The root itself,
 * named by the user, is followed when it is a symlink.  What cannot be read or copied (an
 * unreadable directory, a fifo, a device) becomes an JG_WALK_ERROR entry, so the
 * caller reports it with the other failures and goes on. */
#ifndef JG_CLIENT_WALK_H
#define JG_CLIENT_WALK_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

enum jg_walk_kind { JG_WALK_FILE, JG_WALK_DIR, JG_WALK_SYMLINK, JG_WALK_ERROR };

struct jg_walk_entry {
	enum jg_walk_kind kind;
	char *rel;   /* relative to the root, "" for the root itself, never starting with '/' */
	char *link;  /* JG_WALK_SYMLINK: the link's text; JG_WALK_ERROR: the reason */
	mode_t mode; /* permission bits (07777) */
	off_t size;
	struct timespec mtime;
	unsigned depth; /* 0 for the root */
};

struct jg_walk {
	struct jg_walk_entry *v;
	size_t n, cap;
	size_t nfiles, ndirs, nlinks, nerrors;
	off_t bytes; /* sum of the regular files' sizes */
};

/* Walk ROOT (a file, a symlink or a directory) into W (zeroed by the caller).  0, or
 * JG_ERR_NOMEM; problems with ROOT itself or below it are JG_WALK_ERROR entries. */
int jg_walk(const char *root, struct jg_walk *w);
void jg_walk_clear(struct jg_walk *w);

#endif
