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
};

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
