/* Private to the file operations: gateway/ops/files.c (PUT and GET on one target),
 * gateway/ops/fanout.c (one PUT to many), gateway/ops/fileput.c (the PUT channel both use)
 * and gateway/ops/targets.c (target lists and groups).
 *
 * A PUT channel (struct jg_fput) is one agent channel of kind PUT seen from the
 * gateway (over a pump, gateway/pump/pump.h): the owner feeds it body bytes as far as
 * jg_fput_window() allows and learns through two hooks when it may send more and
 * when it has finished. */
#ifndef JG_GATEWAY_OPS_FILES_H
#define JG_GATEWAY_OPS_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "relay/opspec.h"

struct jg_gateway;
struct jg_stream;
struct jg_chain;
struct jg_fput;

/* --- files.c: paths, headers, policy, error mapping ----------------------- */

/* The PUT request's x-jumpgate-* headers as a file spec (the path not set). */
struct jg_put_req {
	struct jg_file_spec spec; /* owner, group, link and root owned; path NULL */
	int kind_file;		  /* kind file (a body); dir and symlink take none */
};

/* Normalise the absolute request PATH into a new string: "//" and "/./" collapse, a
 * trailing '/' goes; any ".." component is refused (we never resolve it, so nothing can
 * climb out of a root or past a symlink's parent).  With ROOT_REL the result is relative
 * (no leading '/'; "." for the root itself).  0, or -1 with the reason in WHY. */
int jg_files_normalise(const char *path, int root_rel, char **out, char *why, size_t len);
/* Parse the x-jumpgate-* headers of S into REQ (zeroed first).  0, or -1 with the reason
 * (for a 400) in WHY; jg_put_req_clear() in both cases. */
int jg_put_req_parse(struct jg_stream *s, struct jg_put_req *req, char *why, size_t len);
void jg_put_req_clear(struct jg_put_req *req);
/* The setuid/setgid/sticky bits REQ's x-jumpgate-mode asks for (policy `setid`), or 0. */
unsigned jg_put_req_setid(const struct jg_put_req *req);
/* Decide the admission ADM (gateway/admission/admit.h; "put" or "get" on its target) for the client
 * on S with PATH (relative beneath ROOT when ROOT is not NULL; the two joined are judged)
 * and MODE's setuid/setgid/sticky bits (a put's x-jumpgate-mode; 0 for none), after
 * applying its x-jumpgate-agent.  1 yes: adm->audit is the open record, and when RULES_TO
 * is not NULL its rules/rules_len are set to the path rules the agent must judge what it
 * really opens by (left NULL for an identity without path limits); 0 no with the reason
 * in WHY (answered 403; the denial is audited). */
struct jg_admit;
int jg_files_admit(struct jg_admit *adm, struct jg_stream *s, const char *root, const char *path,
		   unsigned mode, struct jg_file_spec *rules_to, char *why, size_t len);
/* Does CHAIN lead to an agent (not `raw = true`, not a tunnel target)?  1 yes; 0 with the
 * reason in WHY (answered 501). */
int jg_files_chain_usable(const struct jg_chain *chain, char *why, size_t len);
/* The HTTP status and short error for a failure reason from the agent (OPEN_FAIL or DEAD
 * text) or the pool; LINK_LOST when the onward connection itself died (always 502). */
int jg_files_status(const char *reason, int link_lost, const char **error);

/* --- fileput.c: one PUT channel -------------------------------------------- */

struct jg_fput_cbs {
	/* The channel may take more bytes now (OPEN_OK or WINDOW). Not called once done. */
	void (*on_writable)(void *owner, struct jg_fput *p);
	/* The PUT finished, well or not (jg_fput_result says how); called once.  The owner
	 * may not free P from inside this hook. */
	void (*on_done)(void *owner, struct jg_fput *p);
};

/* What a finished PUT came to. */
struct jg_fput_result {
	int ok;
	int status;	   /* HTTP status: 200, or the failure's */
	const char *error; /* short error (static), "" when ok */
	char reason[512];  /* what went wrong, for people */
	char sha256[65];   /* hex of what the agent wrote, "" when unknown */
	uint64_t size;	   /* bytes the agent wrote */
	char opened[4096]; /* the real path written (path-restricted identities), or "" */
};

/* Start a PUT of PATH on ADM's target (admitted: its chain is copied; ADM stays the
 * caller's), with SPEC's other fields (ROOT included), for OWNER; the controller's
 * forwarded agent (x-jumpgate-agent, applied by admission) is used only when S is the
 * request's stream (NULL: not).  The hooks are only ever called from the event loop,
 * never from inside this call.  A failure found here (bad target, no connection) leaves
 * P finished at return, without on_done: the owner checks jg_fput_done().  NULL when out
 * of memory. */
struct jg_fput *jg_fput_start(struct jg_gateway *gw, struct jg_stream *s,
			      const struct jg_admit *adm, const char *path,
			      const struct jg_file_spec *spec, const struct jg_fput_cbs *cbs,
			      void *owner);
/* Bytes the channel takes now (0 before the link is up or after it finished). */
size_t jg_fput_window(const struct jg_fput *p);
/* Send up to LEN bytes; returns how many the channel took (maybe 0). */
size_t jg_fput_send(struct jg_fput *p, const void *data, size_t len);
/* The body is complete: EOF goes out (now, or at OPEN_OK when the link was not up). */
void jg_fput_eof(struct jg_fput *p);
/* Finished (on_done called or due)? */
int jg_fput_done(const struct jg_fput *p);
const struct jg_fput_result *jg_fput_result(const struct jg_fput *p);
/* The target as the client named it. */
const char *jg_fput_target(const struct jg_fput *p);
/* Give up now without on_done (the owner has answered already): CLOSE goes to the agent,
 * which removes its temporary file, and P is done. */
void jg_fput_abort(struct jg_fput *p);
/* Abandon as jg_fput_abort when not done, and free. */
void jg_fput_free(struct jg_fput *p);

/* --- fileget.c ------------------------------------------------------------ */

/* GET of PATH (absolute, not normalised yet) for ADM (action get; taken: closed on every
 * path): the file's bytes as the body. */
struct jg_op *jg_fget_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
			    const char *path);

#endif
