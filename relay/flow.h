/* Per-channel credit flow control (sans-I/O).
 *
 * Invariant: a sender never has more unacknowledged DATA payload bytes in
 * flight on a channel than the receiver's window.  The receiver returns credit
 * with WINDOW frames as its consumer takes bytes; it batches increments until
 * at least half of the window is owed, so a bulk transfer costs one WINDOW per
 * half-window, not one per DATA frame. */
#ifndef JG_FLOW_H
#define JG_FLOW_H

#include <stddef.h>
#include <stdint.h>

struct jg_flow {
	uint32_t send_window; /* bytes we may still send before the peer grants more */
	uint32_t recv_window; /* bytes the peer may still send us */
	uint32_t recv_max;    /* the window we advertise */
	uint32_t recv_owed;   /* bytes consumed locally and not yet returned by WINDOW */
};

/* Both windows start full: SEND_INITIAL is the peer's window, RECV_INITIAL ours. */
void jg_flow_init(struct jg_flow *f, uint32_t send_initial, uint32_t recv_initial);
/* How many of WANT bytes may be sent now (0 when the window is exhausted). */
size_t jg_flow_sendable(const struct jg_flow *f, size_t want);
/* Record N bytes sent; N must be <= jg_flow_sendable(). 0 or JG_ERR_FLOW. */
int jg_flow_sent(struct jg_flow *f, size_t n);
/* A WINDOW frame from the peer granted INC. 0, or JG_ERR_PROTO for INC 0 or a window above 2^31-1.
 */
int jg_flow_on_window(struct jg_flow *f, uint32_t inc);
/* N DATA bytes arrived from the peer. 0, or JG_ERR_FLOW if they overrun our window. */
int jg_flow_on_data(struct jg_flow *f, size_t n);
/* Our consumer took N received bytes. Returns the increment to send in a WINDOW frame now,
 * or 0 to keep batching (the credit is remembered). */
uint32_t jg_flow_consumed(struct jg_flow *f, size_t n);
/* Return all owed credit now regardless of batching (e.g. before idling). */
uint32_t jg_flow_flush(struct jg_flow *f);

#endif
