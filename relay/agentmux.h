/* The channels of an agent stream (docs/api.md, "POST /v1/agent"), as both ends keep
 * them: each channel is one connection to an ssh-agent socket -- on the gateway, the
 * onward ssh's connection to its private socket (gateway/onward/agentfwd.c); on the
 * controller, our connection to $SSH_AUTH_SOCK (client/agentrelay.c) -- and its bytes
 * travel as DATA frames of that channel.  Who opens channels (OPEN, OPEN_OK,
 * OPEN_FAIL) is each end's business; DATA, EOF and CLOSE are handled here the same way
 * on both.
 *
 * Bounds: a socket that does not take what was sent to it (more than JG_AGENTMUX_QUEUE
 * bytes waiting) is closed and its channel CLOSEd; reading the sockets can be paused
 * (jg_agentmux_reading) when the stream carrying the frames is full. */
#ifndef JG_RELAY_AGENTMUX_H
#define JG_RELAY_AGENTMUX_H

#include <stdint.h>

struct event_base;
struct jg_frame;
struct jg_agentmux;

#define JG_AGENTMUX_QUEUE (256 * 1024)

/* Send one frame of TYPE on channel CH (DATA with P, LEN; CLOSE without). */
typedef void (*jg_agentmux_send_fn)(void *arg, uint8_t type, uint32_t ch, const void *p,
				    uint32_t len);

/* An empty set of channels on BASE whose frames go out through SEND.  NULL: no memory. */
struct jg_agentmux *jg_agentmux_new(struct event_base *base, jg_agentmux_send_fn send, void *arg);
/* Close every channel (nothing is sent) and free M.  NULL is fine. */
void jg_agentmux_free(struct jg_agentmux *m);
/* The connected socket FD (taken: closed on failure too) becomes channel ID.  0, or -1. */
int jg_agentmux_add(struct jg_agentmux *m, uint32_t id, int fd);
/* 1 when channel ID is open. */
int jg_agentmux_has(const struct jg_agentmux *m, uint32_t id);
/* Close channel ID now, sending nothing (the far end said it failed).  */
void jg_agentmux_drop(struct jg_agentmux *m, uint32_t id);
/* Close every channel, sending nothing. */
void jg_agentmux_drop_all(struct jg_agentmux *m);
/* DATA, EOF or CLOSE from the far end for F's channel: its bytes are written to the
 * socket; at EOF or CLOSE the socket is closed once what it holds is written.  1 when F
 * was one of those (an unknown channel's are dropped), 0 for any other type. */
int jg_agentmux_frame(struct jg_agentmux *m, const struct jg_frame *f);
/* Stop (0) or resume (1) reading every channel's socket. */
void jg_agentmux_reading(struct jg_agentmux *m, int on);

#endif
