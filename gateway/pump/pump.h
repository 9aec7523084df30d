/* The pump: one agent channel bridged to one HTTP/2 stream (DESIGN.md, "the
 * gateway's layers").  Every operation that moves bytes over an agent channel
 * (exec, files get/put, a fan-out element, an agent-side tunnel) embeds one and
 * keeps only what is its own: headers, trailers, framing, audit fields.
 *
 * Sans-I/O core: the pump talks to a struct jg_link (relay/link.h) and to a
 * stream through struct jg_pump_stream (jg_stream_pump_cbs in h2stream.c for a
 * real HTTP/2 stream; a fake in tests/unit/test_pump.c).  Flushing the link is
 * not its business: the agent link writes whatever lands in jg_link_output()
 * once per event-loop turn (agentlink.c watches that buffer).
 *
 * Contract:
 * - Up (stream -> channel): jg_pump_up() takes request-body bytes; they go out
 *   as channel DATA as far as the channel window allows, the rest waits in the
 *   pump.  HTTP/2 credit (consume) is given back only for bytes the channel
 *   took, so a consumer that stops reading stalls its own stream, and the pump
 *   holds at most one stream window.  jg_pump_up_end() half-closes: EOF goes to
 *   the channel once the queue is empty.
 * - Down (channel -> stream): channel DATA is either re-framed by the op
 *   (hooks->on_down, exec streams) or, in raw mode (on_down NULL), appended as
 *   bytes once the op called jg_pump_down_open() (after its headers); bytes that
 *   arrive while the down side is not open are dropped and credited at once.
 *   Channel credit (jg_link_consumed) goes back only as the stream's consumer
 *   takes bytes (jg_pump_sent, from the op's on_sent), so the pump holds at most
 *   one channel window.  A channel EOF reaches the op through hooks->on_frame
 *   (raw mode) or hooks->on_down (framed mode).
 * - Lifetime: the channel is "gone" after OPEN_FAIL, EXIT, CLOSE or DEAD, or after
 *   jg_pump_abandon() (which sends CLOSE: the agent kills what runs there);
 *   jg_pump_link() is NULL from then on and nothing more goes to the channel.
 *   Hooks are called from inside the link's input processing.  The op frees the
 *   pump with jg_pump_clear (from its stream's on_close); a hook may do so only for
 *   what ends the channel (OPEN_FAIL, EXIT, CLOSE, on_dead: the pump touches
 *   nothing after those), e.g. a tunnel that lingered past its stream.
 * - The buffer budget (h2stream.c) needs nothing here: the agent link stops
 *   reading as a whole while it is exceeded. */
#ifndef JG_PUMP_H
#define JG_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/onward/agentlink.h"
#include "relay/frame.h"

struct evbuffer;
struct jg_link;
struct jg_pump;

/* The stream side.  S is the stream given to jg_pump_init. */
struct jg_pump_stream_cbs {
	/* Give back N bytes of request-body flow-control credit. */
	void (*consume)(void *s, size_t n);
	/* Move BUF's bytes to the end of the response body. */
	void (*append)(void *s, struct evbuffer *buf);
};

/* A real HTTP/2 stream (struct jg_stream, h2stream.c). */
extern const struct jg_pump_stream_cbs jg_stream_pump_cbs;

/* What the op sees.  UD is the op. */
struct jg_pump_cbs {
	/* Framed mode: channel DATA and EOF for the op to frame onto the stream itself.
	 * Return 1 when DATA was queued on the stream (credit goes back as it is sent),
	 * 0 when it was dropped (credit goes back now).  NULL: raw mode. */
	int (*on_down)(void *ud, const struct jg_frame *f);
	/* Every other frame of the channel: OPEN_OK, OPEN_FAIL, EXIT, CLOSE, and EOF in
	 * raw mode.  After OPEN_FAIL, EXIT and CLOSE the channel is already gone. */
	void (*on_frame)(void *ud, const struct jg_frame *f);
	/* The channel died with REASON; LINK_LOST when the whole link failed. Gone. */
	void (*on_dead)(void *ud, const char *reason, int link_lost);
	/* Optional: the channel window grew (after the pump's own queue moved), for an op
	 * that offers bytes itself (jg_pump_offer). */
	void (*on_writable)(void *ud);
};

enum jg_pump_state {
	JG_PUMP_IDLE,	 /* no channel yet: up bytes wait */
	JG_PUMP_OPENING, /* OPEN sent */
	JG_PUMP_OPEN,	 /* OPEN_OK seen */
	JG_PUMP_GONE,	 /* the channel ended or was abandoned */
};

struct jg_pump {
	struct jg_chan_user chan; /* first: the link's channel user data points here */
	const struct jg_pump_cbs *cbs;
	void *ud;
	const struct jg_pump_stream_cbs *sops;
	void *stream; /* NULL once the stream is gone */
	struct jg_link *link;
	uint32_t ch;
	enum jg_pump_state state;
	int early;	       /* DATA may go before OPEN_OK (PUT channels) */
	struct evbuffer *up;   /* request bytes waiting for channel window */
	struct evbuffer *down; /* scratch: channel DATA on its way to the stream */
	int up_end, up_eof_sent;
	int down_open; /* raw mode: DATA goes to the stream */
	uint64_t owed; /* channel bytes on the stream, not yet credited */
	uint64_t up_bytes, down_bytes;
};

/* Set up P for op UD (HOOKS) on stream S (SOPS). 0 or JG_ERR_NOMEM. */
int jg_pump_init(struct jg_pump *p, const struct jg_pump_cbs *cbs, void *ud,
		 const struct jg_pump_stream_cbs *sops, void *s);
/* Abandon the channel if it still lives and free P's buffers (the op's on_close). */
void jg_pump_clear(struct jg_pump *p);
/* The user data to open the channel with (jg_onward_open(..., jg_pump_chan(p)) or
 * jg_link_open(..., jg_pump_chan(p))); the link calls back through it. */
struct jg_chan_user *jg_pump_chan(struct jg_pump *p);
/* The channel CH on L was opened for P.  EARLY: up bytes may go before OPEN_OK. */
void jg_pump_attach(struct jg_pump *p, struct jg_link *l, uint32_t ch, int early);
/* Opening failed before any channel existed: gone. */
void jg_pump_gone(struct jg_pump *p);
/* Request-body bytes (copied or sent at once). */
void jg_pump_up(struct jg_pump *p, const void *data, size_t len);
/* For an op whose body source is shared (a fan-out) and credits its stream itself:
 * send what the channel window takes of DATA now, queue nothing, credit nothing.
 * Returns the bytes taken. */
size_t jg_pump_offer(struct jg_pump *p, const void *data, size_t len);
/* What jg_pump_offer would take now (0 after jg_pump_up_end or once gone). */
size_t jg_pump_window(const struct jg_pump *p);
/* The request body ended: EOF follows the queued bytes. */
void jg_pump_up_end(struct jg_pump *p);
/* Raw mode: channel DATA goes to the stream from now on. */
void jg_pump_down_open(struct jg_pump *p);
/* The stream's consumer took N response bytes (the op's on_sent). */
void jg_pump_sent(struct jg_pump *p, size_t n);
/* Send CLOSE (the agent abandons the channel) unless gone; gone after. */
void jg_pump_abandon(struct jg_pump *p);
/* The stream went away: nothing more goes to it (credit stops too). */
void jg_pump_stream_gone(struct jg_pump *p);
/* The link and channel for other frames (SIGNAL, RESIZE), or NULL once gone. */
struct jg_link *jg_pump_link(const struct jg_pump *p);
uint32_t jg_pump_channel(const struct jg_pump *p);
/* Request bytes waiting for channel window. */
size_t jg_pump_queued(const struct jg_pump *p);

#endif
