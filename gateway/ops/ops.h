/* The operations' entry points: what admission's router (gateway/admission/api.c)
 * starts once a request is admitted (gateway/admission/admit.h), and the listings it
 * answers with.  Each returns the operation serving the stream (gateway/stream.h), or
 * NULL when it answered already. */
#ifndef JG_GATEWAY_OPS_OPS_H
#define JG_GATEWAY_OPS_OPS_H

#include <stddef.h>

struct jg_admit;
struct jg_config;
struct jg_gateway;
struct jg_op;
struct jg_stream;

/* --- exec.c: the exec operation ------------------------------------------ */

/* Run the admitted request ADM (gateway/admission/admit.h, taken: closed on every path); its policy
 * decision is taken at OPEN, when argv is known.  NULL when it answered already. */
struct jg_op *jg_exec_op_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm);

/* --- tunnel.c: extended CONNECT to a TCP port on (or from) a target ------- */

/* CONNECT :protocol QUERY ("port=22") for ADM (gateway/admission/admit.h, action tunnel; taken:
 * closed on every path), decided here once the query says what is asked. */
struct jg_op *jg_tunnel_op_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
				 const char *protocol, const char *query);

/* --- files.c, fanout.c: PUT/GET of files -------------------------------- */

/* PUT or GET /v1/targets/{target}/files/{PATH} (PATH percent-decoded, absolute) for ADM
 * (gateway/admission/admit.h, action put or get; taken: closed on every path), decided once the
 * path is normalised. */
struct jg_op *jg_files_start(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			     struct jg_admit *adm, const char *path, const char *query);
/* PUT /v1/files/{PATH}?targets=a,b,c: one upload to many targets; with COPY, PUT
 * /v1/copy/{PATH}?targets=...&from=TARGET:/SRC: the bytes read from SRC on TARGET. */
struct jg_op *jg_fanout_start(struct jg_gateway *gw, struct jg_stream *s, const char *path,
			      const char *query, int copy);
/* GET /v1/targets?match=GLOB: inventory names and groups expanded (JSON array). */
void jg_targets_list(struct jg_gateway *gw, struct jg_stream *s, const char *query);
/* GET /v1/targets for a caller without the admin action: the inventory entries it may
 * act on (each with its "actions"), the others left out. */
void jg_targets_list_mine(struct jg_gateway *gw, struct jg_stream *s);
/* GET /v1/whoami: the identity the gateway acts for on S, and how it knows (whoami.c). */
void jg_whoami_reply(struct jg_gateway *gw, struct jg_stream *s);
/* Expand PATTERN, a comma list of names/specs, groups and globs over inventory names, into
 * *NAMES (N strings, first appearance order, no duplicates; the caller frees each and the
 * array).  0, or JG_ERR_INVAL / JG_ERR_NOTFOUND (a glob or the whole list matching nothing)
 * / JG_ERR_TOOBIG / JG_ERR_NOMEM with the reason in ERR. */
int jg_targets_expand(const struct jg_config *cfg, const char *pattern, char ***names, size_t *n,
		      char *err, size_t errlen);

/* --- raw.c: exec without an agent (targets with `raw = true`) ------------ */

/* The exec contract over one `ssh host 'command'` per operation (no pty, signals kill
 * the local ssh), for ADM (admitted, its chain resolved; taken: closed on every path).
 * NULL when it answered already. */
struct jg_op *jg_raw_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm);

#endif
