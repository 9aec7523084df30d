/* Internal to the agent's file channels (files.c, files_put.c, files_get.c).
 *
 * Every path the gateway names is resolved the same way (files.c): PATH is
 * split into components, "" and "." collapse, ".." is refused; the parent
 * directory is opened as a directory fd and the last component is kept as a
 * name, so every later call is an *at() call on that fd and nothing is looked
 * up twice by path.  Beneath ROOT no symbolic link is ever followed; without
 * ROOT the operator named an absolute path, and links in its parent are
 * followed as the kernel would, but never the final component of a PUT.
 *
 * With RULES (a path-restricted identity, relay/pathrule.h) the agent follows
 * every symlink itself instead of letting the kernel do it: one component at a
 * time with O_NOFOLLOW from "/", each link read and spliced in, so that it
 * always knows the real path of what it holds.  That real path -- the parent's
 * and the final name's, after the links of ROOT, of the parent and (for GET
 * and STAT) of the final component -- is what the rules judge, before anything
 * is created (MKDIRS included); beneath ROOT still no link is followed. */
#ifndef JG_AGENT_FILES_H
#define JG_AGENT_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "agent/agent.h"

struct evbuffer;
struct jg_file_spec;

/* The common head of PUT and GET channel objects. */
struct jg_file_chan {
	struct jg_agent_chan chan; /* first: the link's channel user data */
	LIST_ENTRY(jg_file_chan) entry;
	struct jg_agent *a;
	uint32_t ch;
};

/* A resolved path: the open parent directory and the last component. */
struct jg_fpath {
	int dirfd;	/* O_RDONLY | O_DIRECTORY, close-on-exec; -1 when unset */
	char *name;	/* last component, or "." when PATH names ROOT (or "/") itself */
	char *shown;	/* the normalised full path, for messages */
	char *dirshown; /* the normalised parent, for messages */
	int beneath;	/* ROOT was given: no symlink may be followed, the last one included */
	int real;	/* RULES were given: SHOWN is the real path, links resolved, judged */
};

/* How jg_fpath_open treats a missing parent. */
enum jg_fpath_mode {
	JG_FPATH_READ = 0,   /* GET, STAT: "no such file: PATH" */
	JG_FPATH_WRITE = 1,  /* PUT: "parent directory ... does not exist (use mkdirs)" */
	JG_FPATH_MKDIRS = 2, /* PUT with JG_FILE_MKDIRS: create what is missing (0755) */
};

/* Resolve SPEC's ROOT and PATH.  0, or JG_ERR_* with a message naming the path in ERR. */
int jg_fpath_open(const struct jg_file_spec *spec, enum jg_fpath_mode mode, struct jg_fpath *p,
		  char *err, size_t errlen);
/* Close and free what P holds; P may be partly filled. */
void jg_fpath_clear(struct jg_fpath *p);

/* Start tracking C (for free_all) / stop. */
void jg_agent_files_track(struct jg_file_chan *c);
void jg_agent_files_untrack(struct jg_file_chan *c);
/* jg_link_accept(), with PAYLOAD (may be NULL or empty) as the OPEN_OK's fields. */
int jg_agent_files_accept(struct jg_agent *a, uint32_t ch, void *ud, struct evbuffer *payload);
/* A file spec describing ST (FLAGS DIR for a directory, SIZE, MODE, MTIME) into OUT;
 * with P->real also P's real path as PATH (the gateway audits what was opened). */
int jg_agent_files_describe(const struct stat *st, const char *link, const struct jg_fpath *p,
			    struct evbuffer *out);
/* SPEC's path rules allow the symlink LINK at P (resolved from P's real parent)?
 * 0, or JG_ERR_INVAL with the refusal in ERR. */
int jg_fpath_link_allowed(const struct jg_file_spec *spec, const struct jg_fpath *p,
			  const char *link, char *err, size_t errlen);

/* files_put.c: is N a temporary file's name (".NAME.jg-<16 hex>.tmp")? */
int jg_agent_files_is_temp(const char *n);
/* files_journal.c: note the temporary file DIR/NAME (DIR absolute) in this agent's
 * journal (opened, locked and made on first use).  1 journaled; 0 when no journal can
 * be kept. */
int jg_agent_files_journal_add(struct jg_agent *a, const char *dir, const char *name);
/* A journaled temporary file is gone (renamed or removed): the last one removes the
 * journal.  Call once per jg_agent_files_journal_add that returned 1. */
void jg_agent_files_journal_done(struct jg_agent *a);
/* Remove this agent's journal (a normal end: it leaves no temporary file). */
void jg_agent_files_journal_close(struct jg_agent *a);
/* At start: the temporary files that agents now gone journaled, and their journals. */
void jg_agent_files_journal_sweep(void);

/* files_put.c: OPEN(PUT).  Accepts or refuses before returning (relay/opspec.h). */
void jg_agent_put_open(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *spec);
/* files_get.c: OPEN(GET). */
void jg_agent_get_open(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *spec);

#endif
