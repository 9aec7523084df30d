/* Onward connections (the pool): one agent link per target chain, shared by every
 * operation on it (agentlink.c; spawning and bootstrap in onward.c; the private
 * fields in agentlink_impl.h).  The pool knows no operation kinds: a channel's user
 * registers a jg_chan_cbs table, and the link calls up only through it. */
#ifndef JG_GATEWAY_ONWARD_AGENTLINK_H
#define JG_GATEWAY_ONWARD_AGENTLINK_H

#include <stddef.h>
#include <stdint.h>

#include "relay/frame.h"

struct jg_chain;
struct jg_gateway;
struct jg_link;

/* --- agentlink.c: links to agents ---------------------------------------- */

/* An operation using an agent channel embeds a pump (gateway/pump/pump.h), which embeds
 * this as its first member; the link's channel user data points at it.  The hooks are called from
 * inside the link's input processing; they may send on the channel or close it. */
struct jg_chan_user;
struct jg_chan_cbs {
	/* OPEN_OK, OPEN_FAIL, DATA, EOF, EXIT, CLOSE for this channel. After OPEN_FAIL, EXIT
	 * and CLOSE the channel is gone. */
	void (*on_frame)(struct jg_chan_user *u, const struct jg_frame *f);
	/* The agent granted window: more DATA may be sent. */
	void (*on_writable)(struct jg_chan_user *u);
	/* The channel died with REASON (agent gone, protocol error); it is gone. */
	void (*on_dead)(struct jg_chan_user *u, const char *reason);
};
struct jg_chan_user {
	const struct jg_chan_cbs *cbs;
};
struct jg_chain;
/* The onward connection for CHAIN (by its key), starting one when there is none: an
 * operation on a target that is still connecting waits for it (its OPEN is queued),
 * bounded by the connect timeout. CHAIN is copied. NULL with ERR filled. */
struct jg_onward *jg_onward_get(struct jg_gateway *gw, const struct jg_chain *chain, char *err,
				size_t errlen);
/* Close the onward connections with KEY now (its channels die with REASON): the shared
 * one and those opened with controllers' agents.  1 when there was one, 0 when not. */
int jg_onward_reset(struct jg_gateway *gw, const char *key, const char *reason);
/* Open a channel of KIND with PAYLOAD for U. Channel id > 0, or a negative JG_ERR_*. */
int64_t jg_onward_open(struct jg_onward *al, uint32_t kind, const void *payload, size_t len,
		       struct jg_chan_user *u);
/* The underlying sans-I/O link (for a pump, gateway/pump/pump.h, and SIGNAL/RESIZE).  What
 * is queued on it is written once per event-loop turn without being asked (the link's
 * output buffer schedules the write): nobody flushes by hand. */
struct jg_link *jg_onward_link(struct jg_onward *al);
/* Stop every agent: every channel dies with REASON, the links close (agents kill their
 * children and exit). */
void jg_onward_shutdown_all(struct jg_gateway *gw, const char *reason);
/* Every link reads again (the buffer budget is no longer exceeded). */
void jg_onward_resume_all(struct jg_gateway *gw);
/* Append one JSON object per link (target, pid, state, channels, bytes, since) to the
 * jansson array JSON_ARRAY (a json_t *, untyped here to keep jansson out of this header). */
void jg_onward_stats(const struct jg_gateway *gw, void *json_array);

/* The live onward connections by state: connecting (spawned, no HELLO yet) and up
 * (metrics.c's gauge). */
void jg_onward_count(const struct jg_gateway *gw, uint64_t *connecting, uint64_t *up);

#endif
