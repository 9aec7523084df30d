/* The agent-link session (sans-I/O): frame codec + channel table + flow control.
 *
 * One jg_link is one end of a frame-protocol connection (gateway <-> agent).
 * The owner feeds received bytes with jg_link_feed() and writes whatever
 * accumulates in jg_link_output() to its transport.  Events arrive through
 * callbacks, always from inside jg_link_feed(); a callback may call any
 * jg_link_* function except jg_link_free().
 *
 * Roles: the OPENER (gateway) allocates channel ids (1, 2, 3, ... never
 * reused on a link) and sends OPEN; the ACCEPTOR (agent) answers OPEN_OK or
 * OPEN_FAIL.  Frames for a channel id that was used and is now forgotten are
 * dropped silently (they crossed a CLOSE on the wire); frames for an id never
 * opened are a protocol error.
 *
 * Flow control: jg_link_send_data() sends at most the peer's window and
 * returns how much it took; when a WINDOW frame later grants credit,
 * on_writable fires.  Received DATA is charged to our window; the owner calls
 * jg_link_consumed() when its consumer (a pipe, an HTTP/2 stream) has taken
 * the bytes, and credit flows back to the peer.  A peer overrunning the
 * window, bad magic, an unknown type or an oversize length fail the link:
 * jg_link_feed() returns the error, on_dead fires once for every channel and
 * the link accepts nothing more. */
#ifndef JG_LINK_H
#define JG_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "relay/frame.h"

struct evbuffer;
struct jg_link;

enum jg_link_role {
	JG_LINK_OPENER = 1,   /* gateway side */
	JG_LINK_ACCEPTOR = 2, /* agent side */
};

struct jg_link_cbs {
	/* The peer's HELLO arrived and was accepted. */
	void (*on_hello)(struct jg_link *l, const struct jg_hello *h, void *link_ud);
	/* ACCEPTOR only: the peer asks to open channel CH. Answer (now or later) with
	 * jg_link_accept() or jg_link_reject(). f->payload is valid only during the call. */
	void (*on_open)(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *link_ud);
	/* A frame for a live channel: OPEN_OK, OPEN_FAIL, DATA, EOF, EXIT, SIGNAL, RESIZE, CLOSE.
	 * DATA has already been charged to the window. After OPEN_FAIL, EXIT or CLOSE the
	 * channel is forgotten by the link when the callback returns. */
	void (*on_frame)(struct jg_link *l, uint32_t ch, void *chan_ud, const struct jg_frame *f,
			 void *link_ud);
	/* The peer granted credit on CH: more DATA may be sent. */
	void (*on_writable)(struct jg_link *l, uint32_t ch, void *chan_ud, void *link_ud);
	/* Channel CH is dead with REASON (link failure or DEAD frame); it is forgotten after. */
	void (*on_dead)(struct jg_link *l, uint32_t ch, void *chan_ud, const char *reason,
			void *link_ud);
	/* A PONG answered our PING with AUX. May be NULL. */
	void (*on_pong)(struct jg_link *l, uint32_t aux, void *link_ud);
};

/* New link. CB is copied; LINK_UD is passed to every callback. NULL on ENOMEM. */
struct jg_link *jg_link_new(enum jg_link_role role, const struct jg_link_cbs *cb, void *link_ud);
/* Free the link and its table (channel user data is not touched). */
void jg_link_free(struct jg_link *l);
/* Queue our HELLO (version, max payload, window, capabilities, arch). */
int jg_link_send_hello(struct jg_link *l, const char *arch);
/* Decode and dispatch BYTES. 0, or a negative JG_ERR_* when the link failed (see jg_link_error). */
int jg_link_feed(struct jg_link *l, const void *data, size_t len);
/* As jg_link_feed, with the bytes of SRC, which is left empty: its memory
 * moves to the decoder without a copy. */
int jg_link_feed_evbuffer(struct jg_link *l, struct evbuffer *src);
/* The peer closed the transport: every live channel gets on_dead(REASON); later feeds fail. */
void jg_link_fail(struct jg_link *l, const char *reason);
/* Why the link failed, or NULL while it is healthy. */
const char *jg_link_error(const struct jg_link *l);
/* Bytes waiting to go to the peer. Borrowed; the owner drains it. */
struct evbuffer *jg_link_output(struct jg_link *l);
/* Number of live channels. */
size_t jg_link_channel_count(const struct jg_link *l);

/* OPENER: allocate a channel, queue OPEN(KIND, PAYLOAD) and remember CHAN_UD. Returns the
 * channel id (> 0) or a negative JG_ERR_*.  When the peer's HELLO has arrived, DATA and EOF
 * may be sent at once, before OPEN_OK (jg_link_window tells how much); only do so for kinds
 * the acceptor accepts or rejects synchronously (PUT), since an ACCEPTOR receiving DATA for a
 * channel it has not accepted yet fails the link.  After OPEN_FAIL those frames are dropped. */
int64_t jg_link_open(struct jg_link *l, uint32_t kind, const void *payload, size_t len,
		     void *chan_ud);
/* ACCEPTOR: accept channel CH (queue OPEN_OK) and remember CHAN_UD. */
int jg_link_accept(struct jg_link *l, uint32_t ch, void *chan_ud);
/* The same with fields in the OPEN_OK (GET and STAT answer with a file spec).
 * JG_ERR_TOOBIG when LEN is over the peer's max payload. */
int jg_link_accept_with(struct jg_link *l, uint32_t ch, void *chan_ud, const void *payload,
			size_t len);
/* ACCEPTOR: refuse channel CH with REASON (queue OPEN_FAIL); the id is forgotten. */
int jg_link_reject(struct jg_link *l, uint32_t ch, const char *reason);

/* Queue up to LEN bytes of DATA on CH (split into frames of at most the max payload),
 * limited by the peer's window. Returns bytes taken (maybe 0), or a negative JG_ERR_*. */
int64_t jg_link_send_data(struct jg_link *l, uint32_t ch, uint8_t flags, const void *data,
			  size_t len);
/* The same from SRC: up to LEN bytes are moved out of SRC (its chains handed to the
 * output behind each frame header, no copy). Returns bytes taken or a negative JG_ERR_*. */
int64_t jg_link_send_data_buf(struct jg_link *l, uint32_t ch, uint8_t flags, struct evbuffer *src,
			      size_t len);
/* Bytes the peer's window allows on CH now (0 for an unknown channel). */
size_t jg_link_window(const struct jg_link *l, uint32_t ch);
/* Our consumer took N DATA bytes of CH: queue WINDOW credit when due. 0 (nothing to do)
 * when CH was already forgotten, e.g. after EXIT while the consumer still drains. */
int jg_link_consumed(struct jg_link *l, uint32_t ch, size_t n);
/* Queue EOF (half-close of one direction; FLAGS JG_DATA_STDERR selects stderr). */
int jg_link_send_eof(struct jg_link *l, uint32_t ch, uint8_t flags);
/* Queue EXIT and forget CH (ACCEPTOR). */
int jg_link_send_exit(struct jg_link *l, uint32_t ch, uint8_t flags, uint32_t code);
/* Queue SIGNAL(SIGNO) on CH (OPENER). */
int jg_link_send_signal(struct jg_link *l, uint32_t ch, uint32_t signo);
/* Queue RESIZE on CH (OPENER). */
int jg_link_send_resize(struct jg_link *l, uint32_t ch, uint16_t rows, uint16_t cols);
/* Queue CLOSE and forget CH (either side abandons the channel). */
int jg_link_close(struct jg_link *l, uint32_t ch);
/* Queue DEAD(REASON) for CH and forget it. */
int jg_link_send_dead(struct jg_link *l, uint32_t ch, const char *reason);
/* Queue a PING with AUX (answered by PONG). */
int jg_link_ping(struct jg_link *l, uint32_t aux);
/* Change the user data of a live channel. */
int jg_link_set_channel_ud(struct jg_link *l, uint32_t ch, void *chan_ud);

#endif
