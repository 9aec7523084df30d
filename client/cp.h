/* `jumpgate cp`, shared between the planner (cp.c) and the transfers (xfer.c).
 *
 * cp.c turns the operands into a plan: an array of items, each one request
 * (a file, a directory or a symlink to PUT, a file to GET), grouped in
 * phases that must finish in order (directories of depth d before those of
 * depth d+1, all directories before the files in them, directory modes and
 * mtimes last).  xfer.c runs one item as one HTTP/2 stream on the shared
 * connection (client/batch.h) and records its outcome. */
#ifndef JG_CLIENT_CP_H
#define JG_CLIENT_CP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "client/batch.h"
#include "client/progress.h"
#include "relay/argv.h"

struct jg_client;

/* Files up to this size are hashed before they are sent, so the expected sha256 travels
 * in the request headers and a mismatch replaces nothing on the target.  Larger files are
 * hashed as they are sent and checked against the sha256 the target reports. */
#define JG_CP_PREHASH_MAX (16u << 20)
/* Streams in flight on the connection by default (-j). */
#define JG_CP_DEFAULT_STREAMS 32

enum jg_cp_kind {
	JG_CP_PUT_FILE,
	JG_CP_PUT_DIR, /* create (or fix the mode and mtime of) a directory */
	JG_CP_PUT_LINK,
	JG_CP_GET,
};

struct jg_cp_item {
	enum jg_cp_kind kind;
	unsigned phase;
	char *local;	    /* source (PUT) or destination (GET) path; owned */
	char *remote;	    /* the remote path: absolute, or relative beneath ROOT; owned */
	char *root;	    /* x-jumpgate-root, or NULL; owned */
	const char *target; /* the target (borrowed from argv); unused for a fan-out */
	char *link;	    /* PUT_LINK: the link's text; owned */
	mode_t mode;	    /* the mode to send (already masked without -p) */
	struct timespec mtime;
	uint64_t size;
	int mkdirs; /* send x-jumpgate-mkdirs: 1 */
	int failed; /* the outcome, set by xfer.c */
	size_t seq; /* order of planning: phases keep it */
};

/* One target's outcome in a fan-out. */
struct jg_cp_tstat {
	char *name;
	size_t ok, failed, reported;
	uint64_t bytes;
	char *first_reason;
};

struct jg_cp {
	struct jg_client *c;
	struct jg_batch *batch;
	struct jg_progress progress;
	/* Options. */
	int recursive, preserve, mkdirs, quiet, checksum;
	int agent; /* -A given this many times (client/agentrelay.h) */
	unsigned streams;
	mode_t umask;
	/* Fan-out: the encoded ?targets= value, and what each target did. */
	char *fanout_query; /* NULL: one target */
	const char *fanout_label;
	struct jg_cp_tstat *tstats;
	size_t ntstats;
	/* The plan. */
	struct jg_cp_item *items;
	size_t nitems, cap, next;
	unsigned phase;
	unsigned active;	/* items started and not yet closed */
	int feeding;		/* inside jg_cp_feed: a close during a start must not recurse */
	size_t printed;		/* failure lines printed so far (bounded) */
	struct jg_argv targets; /* the targets named on the command line */
	/* Outcome. */
	size_t nok, nfailed, nlost, fanout_errors;
	uint64_t bytes_sent;
	int interrupted;
};

/* Start ITEM as a stream on CP's connection: 1 when it was queued (its end calls
 * jg_cp_feed()), 0 when it failed at once (reported already). */
int jg_cp_start(struct jg_cp *cp, struct jg_cp_item *item);
/* Report that ITEM failed (on TARGET, NULL when there is only one), with REASON: one line on
 * stderr, counted.  Used by xfer.c and by the planner. */
void jg_cp_fail(struct jg_cp *cp, struct jg_cp_item *item, const char *target, const char *reason);
/* One target of a fan-out did ITEM (OK, else REASON). */
void jg_cp_target_result(struct jg_cp *cp, struct jg_cp_item *item, const char *target, int ok,
			 uint64_t bytes, const char *reason);
/* A message on stderr ("jumpgate: ..."), the progress bar cleared first (cpout.c). */
void jg_cp_print(struct jg_cp *cp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The progress bar's last state, the fan-out table (stdout), what was not done (cpout.c). */
void jg_cp_summary(struct jg_cp *cp);
/* cprelay.c: copy SRC_PATH on SRC_TARGET to DST_PATHS[i] on DST_TARGETS[i] through the
 * gateway, target to target.  The exit status (0, 1 when a destination failed, a usage
 * or connection error's), every failure printed. */
int jg_cp_relay(struct jg_cp *cp, const char *src_target, const char *src_path, size_t ndst,
		char *const *dst_targets, const char *const *dst_paths);
/* The next items may start (a stream ended). */
void jg_cp_feed(struct jg_cp *cp);

#endif
