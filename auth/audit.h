/* The audit log: one JSON line when an operation starts and one when it ends.
 *
 * Line (keys always present except where noted):
 *   {"time":"2024-05-01T12:00:00.123Z","event":"start"|"end","op":17,
 *    "identity":"ops-ann","peer":"127.0.0.1:50312","target":"ssh:deploy@db1:22",
 *    "target_typed":"db1","action":"exec","argv":["ls","-l"] | "path":"/srv/x" | "port":22,
 *    when known: "destination":"db1 (ssh 10.0.0.5:22)", "next_hop":"site-b",
 *    "host":"127.0.0.1" (tunnels), "root":"/srv" (x-jumpgate-root),
 *    "request":"POST /v1/..." and "status":400 (a request refused before policy),
 *    end only: "opened":"/real/path" (a path-restricted file operation: what the
 *    agent really opened, symlinks resolved), "bytes_in":N,"bytes_out":N,
 *    "exit":N | "signal":N (when known),
 *    "duration_ms":N,"outcome":"ok"|"failed"|"denied"|"refused","reason":"..."}
 * "op" is unique per gateway process; start and end carry the same one.  A denial
 * is a start and an end with outcome "denied" and the policy's reason; a request
 * answered with an error before any policy question (a bad target, path or body) a
 * start and an end with outcome "refused", its request line, status and reason.
 *
 * Each line goes out in one write(2) on an O_APPEND descriptor, so lines from
 * concurrent writers never interleave and a crash never leaves half a line that a
 * later line continues. */
#ifndef JG_AUTH_AUDIT_H
#define JG_AUTH_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct jg_audit;

/* One operation's record, owned by the operation from jg_audit_begin to jg_audit_end. */
struct jg_audit_op {
	uint64_t id;
	struct timespec t0; /* CLOCK_MONOTONIC at begin, for duration_ms */
	char identity[256];
	char peer[80];
	char target[256];  /* the resolved chain key (or the name given, before resolution) */
	char typed[256];   /* the target as the client named it */
	char dest[256];	   /* where it goes: the chain's display, or "" */
	char next_hop[64]; /* forwarded: the peer gateway it went to, or "" */
	char host[256];	   /* a tunnel's destination host, or "" */
	char *root;	   /* x-jumpgate-root (path is beneath it), or NULL */
	char *request;	   /* "METHOD :path" of a request refused before policy, or NULL */
	int status;	   /* with request: the HTTP status it was answered */
	char action[8];
	char **argv;	   /* owned copy, NULL-terminated; or NULL */
	char *path;	   /* owned copy, or NULL */
	char *opened;	   /* owned copy, or NULL: the real path the agent opened */
	unsigned port;	   /* 0: none */
	const char *agent; /* "gateway", "target": the controller's ssh-agent forwarded; NULL */
	uint64_t bytes_in, bytes_out;
	int have_exit, exit_code, signo; /* signo > 0: killed by it */
};

/* An audit log writing to PATH (created 0640, O_APPEND), or to stderr when PATH is NULL
 * or "stderr".  NULL with the reason in ERR when the file cannot be opened. */
struct jg_audit *jg_audit_new(const char *path, char *err, size_t errlen);
void jg_audit_free(struct jg_audit *a);
/* Reopen the file (SIGHUP, after logrotate moved it); on failure the old descriptor is
 * kept and the reason logged. */
void jg_audit_reopen(struct jg_audit *a);
/* Switch to PATH (NULL or "stderr": stderr) -- a reload's `audit` -- or reopen the same
 * file when PATH names it.  The new file is opened before the old descriptor is closed:
 * on failure A keeps writing where it did, and the reason is logged (with "keeping"
 * and the path still in use).  0, or JG_ERR_IO / JG_ERR_NOMEM. */
int jg_audit_reopen_at(struct jg_audit *a, const char *path);
/* Called at each jg_audit_end with the record, its outcome and duration: the one
 * place every operation ends, so counters fed here (gateway/metrics.h) agree with
 * the log.  FN NULL: none. */
typedef void (*jg_audit_observer_fn)(void *ud, const struct jg_audit_op *op, const char *outcome,
				     uint64_t duration_ms);
void jg_audit_set_observer(struct jg_audit *a, jg_audit_observer_fn fn, void *ud);
/* The file A writes to, or NULL for stderr. */
const char *jg_audit_path(const struct jg_audit *a);

/* A new record with the next op id (A may be NULL: id 0, nothing written).  NULL when out of
 * memory.  The strings are copied (clipped to the record's sizes). */
struct jg_audit_op *jg_audit_begin(struct jg_audit *a, const char *identity, const char *peer,
				   const char *action, const char *target);
/* Copy ARGV (ARGC strings) or PATH into OP.  0 or -1 when out of memory. */
int jg_audit_set_argv(struct jg_audit_op *op, char *const *argv, size_t argc);
int jg_audit_set_path(struct jg_audit_op *op, const char *path);
/* The real path a file operation opened (the agent's answer), for the end line. */
int jg_audit_set_opened(struct jg_audit_op *op, const char *path);
/* Write OP's start line. */
void jg_audit_start(struct jg_audit *a, const struct jg_audit_op *op);
/* Write OP's end line with OUTCOME ("ok", "failed", "denied") and REASON (may be NULL),
 * then free OP (NULL is fine: nothing happens). */
void jg_audit_end(struct jg_audit *a, struct jg_audit_op *op, const char *outcome,
		  const char *reason);
void jg_audit_op_free(struct jg_audit_op *op);

/* The line for OP (EVENT "start" or "end"; OUTCOME and REASON for "end"), at wall time
 * NOW, with DURATION_MS; newline-terminated, the caller frees.  NULL when out of memory.
 * Sans-I/O: the unit tests parse it back. */
char *jg_audit_format(const struct jg_audit_op *op, const char *event, const char *outcome,
		      const char *reason, const struct timespec *now, uint64_t duration_ms);

#endif
