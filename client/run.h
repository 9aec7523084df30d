/* `jumpgate run`, shared between the streams (run.c) and the output (runout.c).
 *
 * Each target's outcome is one of: ok (exit 0), failed (exit non-zero, a
 * signal, or the program could not be started: the target was reached), or
 * unreachable (the gateway could not reach it, lost it, or the stream died). */
#ifndef JG_CLIENT_RUN_H
#define JG_CLIENT_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "client/batch.h"

struct evbuffer;
struct event;
struct event_base;
struct jg_frame_decoder;

/* Default number of exec streams in flight (--fanout). */
#define JG_RUN_DEFAULT_FANOUT 64
/* Output kept per target with -b or --json; beyond it is dropped, and that is said. */
#define JG_RUN_GATHER_MAX (16u << 20)
/* A line longer than this is cut (prefix mode): memory stays bounded. */
#define JG_RUN_LINE_MAX (64u * 1024)

enum jg_run_mode { JG_RUN_PREFIX, JG_RUN_GATHER, JG_RUN_JSON };
/* DENIED: the gateway's policy refused the command on that target (403). */
enum jg_run_outcome { JG_RUN_PENDING, JG_RUN_OK, JG_RUN_FAILED, JG_RUN_UNREACHABLE, JG_RUN_DENIED };

struct jg_run_target {
	char *name;
	struct jg_batch_req req;
	struct jg_run *run;
	enum jg_run_outcome outcome;
	int http_status;
	int exited, code, signaled, signo; /* from EXIT */
	char *error;			   /* why failed or unreachable, when not an exit status */
	struct evbuffer *body;		   /* the request: OPEN, EOF */
	struct jg_frame_decoder *dec;
	struct evbuffer *errbody;
	/* Prefix mode: the partial last line of stdout [0] and stderr [1]. */
	struct evbuffer *line[2];
	/* -b: stdout and stderr together [0]; --json: stdout [0], stderr [1]. */
	struct evbuffer *keep[2];
	int truncated;
};

struct jg_run {
	struct jg_batch *batch;
	enum jg_run_mode mode;
	unsigned fanout;
	char **argv;
	size_t argc;
	/* The TARGETS operand, element by element, then the expanded list. */
	char **elems;
	size_t nelems, pending_lookups;
	char ***expanded; /* per element: NULL-terminated names, or NULL (use the element) */
	int expand_failed;
	struct jg_run_target *t;
	size_t nt;
	size_t nok, nfailed, nunreachable, ndenied;
	int out_broken; /* stdout went away (EPIPE) */
	int interrupted;
	int agent;	     /* -A given this many times (client/agentrelay.h) */
	const char *operand; /* TARGETS as given (borrowed from argv) */
	int merge_stderr;    /* -B: stderr gathered with stdout (-b keeps it apart) */
	/* The pending line on a terminal (runprogress.c); drawn: it is on screen. */
	struct event_base *base;
	struct event *tick;
	int progress_drawn;
};

/* Exit status bits of `jumpgate run` (summed): some command failed, some target was
 * unreachable, some was denied.  0: every target ran the command and it exited 0. */
#define JG_RUN_EXIT_FAILED 1
#define JG_RUN_EXIT_UNREACHABLE 4
#define JG_RUN_EXIT_DENIED 8

/* runprogress.c: while -b or --json hold the output back and stderr is a terminal, one
 * line on stderr says how many targets are done and folds the names of those pending.
 * Start it once the targets are known (0 or JG_ERR_NOMEM; nothing when not a terminal);
 * clear it before anything else goes to stderr; stop it before the report. */
int jg_run_progress_start(struct jg_run *run, struct event_base *base);
void jg_run_progress_clear(struct jg_run *run);
void jg_run_progress_stop(struct jg_run *run);
/* The line for a terminal WIDTH columns wide into BUF (pure, for the timer). */
void jg_run_progress_format(const struct jg_run *run, unsigned width, char *buf, size_t len);

/* Output bytes of target T (STDERR or stdout) as they arrive. */
void jg_run_output(struct jg_run *run, struct jg_run_target *t, int is_stderr, const uint8_t *p,
		   size_t len);
/* T is finished: flush its partial lines (prefix mode). */
void jg_run_flush(struct jg_run *run, struct jg_run_target *t);
/* Everything is finished: print the gathered blocks (-b) or the JSON document. */
void jg_run_report(struct jg_run *run);
/* The closing summary on stderr. */
void jg_run_summary(struct jg_run *run);

#endif
