/* The source of a relayed copy: PUT /v1/copy/{path}?targets=LIST&from=TARGET:/PATH
 * (`jumpgate cp web1:/path web2:/path ...`).  One agent channel of kind GET on the
 * source target whose bytes feed the fan-out (gateway/ops/fanout.c) instead of a response
 * body, so the file goes target -> gateway -> targets and never touches the controller.
 *
 * The policy judges `get` on the source here (and the fan-out `put` on each
 * destination); the download has its own audit record.  Flow control is the GET's: the
 * pump (gateway/pump/pump.h, raw mode) gives the source agent credit back only as the owner
 * reports bytes consumed (jg_copysrc_consumed, when every destination took them), so
 * the gateway holds at most one channel window of the source.
 *
 * Hooks are called from the link's input (never from jg_copysrc_start).  After on_end
 * or on_fail nothing more is called; the owner frees the source with jg_copysrc_free. */
#ifndef JG_GATEWAY_OPS_COPYSRC_H
#define JG_GATEWAY_OPS_COPYSRC_H

#include <stddef.h>

#include "relay/opspec.h"

struct evbuffer;
struct jg_gateway;
struct jg_stream;
struct jg_copysrc;

struct jg_copysrc_cbs {
	/* The source file is open; SPEC says its size, mode and mtime (borrowed). */
	void (*on_open)(void *owner, const struct jg_file_spec *spec);
	/* File bytes: the owner moves them all out of BUF and reports them consumed later. */
	void (*on_data)(void *owner, struct evbuffer *buf);
	/* The whole file came (the agent's EOF and exit status 0). */
	void (*on_end)(void *owner);
	/* The copy cannot go on: STATUS, ERROR and REASON as a GET would have answered. */
	void (*on_fail)(void *owner, int status, const char *error, const char *reason);
};

/* Split "TARGET:/PATH" at its first ":/" (a target spec never holds ":/", a path may)
 * into new strings.  0, or -1 with the reason in WHY. */
int jg_copysrc_split(const char *from, char **target, char **path, char *why, size_t len);

/* Open the source PATH on TARGET for the client of S (its identity is judged).  The new
 * source, or NULL with an HTTP *STATUS and ERROR/WHY to answer (policy 403, bad target
 * 400, no connection 502, no memory 500). */
struct jg_copysrc *jg_copysrc_start(struct jg_gateway *gw, struct jg_stream *s, const char *target,
				    const char *path, const struct jg_copysrc_cbs *cbs, void *owner,
				    int *status, const char **error, char *why, size_t len);

/* The owner passed N more bytes on: that much credit goes back to the source agent. */
void jg_copysrc_consumed(struct jg_copysrc *c, size_t n);

/* Bytes read from the source so far. */
unsigned long long jg_copysrc_bytes(const struct jg_copysrc *c);

/* Abandon the channel if it still lives, end the audit record, free C (NULL is fine). */
void jg_copysrc_free(struct jg_copysrc *c);

#endif
