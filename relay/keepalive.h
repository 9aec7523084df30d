/* The keepalive of a link whose peer answers PINGs, as a decision with no I/O:
 * the caller owns the timer, the clock and the PING itself, and asks at each
 * tick what to do.  Used by the links between gateways (gateway/sites/).
 *
 * The rule: a PING every interval, at most one unanswered.  A PING still
 * unanswered at the next tick drops the link only if nothing else came from
 * the peer in that interval either: on a busy link the answer waits behind
 * the DATA queued at either end, and the peer's other frames show it alive
 * (ssh's ServerAliveInterval likewise counts only silent intervals).  A tick
 * that comes an interval or more late (and at least a second) means our own
 * loop was stopped or starved: that silence was ours, and the count restarts.
 * A stalled peer is therefore noticed within two intervals of its last byte. */
#ifndef JG_KEEPALIVE_H
#define JG_KEEPALIVE_H

#include <stdint.h>

struct jg_keepalive {
	uint32_t interval_ms;
	uint64_t due_ms;     /* when the next tick should come */
	uint64_t rx_at_tick; /* the peer's byte count at the last tick */
	int outstanding;     /* a PING sent and not answered */
};

enum jg_keepalive_verdict {
	JG_KEEPALIVE_PING, /* send a PING now; tick again in an interval */
	JG_KEEPALIVE_WAIT, /* the PING is late but the peer talks: tick again */
	JG_KEEPALIVE_DEAD, /* an unanswered PING and a silent interval: drop the link */
};

/* A link just up at NOW (ms, any monotonic clock) with RX bytes received so far:
 * the first tick is due an interval from now. */
void jg_keepalive_start(struct jg_keepalive *k, uint32_t interval_ms, uint64_t now, uint64_t rx);

/* The tick at NOW, with RX bytes received from the peer so far.  *LATE_MS is how
 * late the tick came when our own loop was stalled (the count restarted), else 0. */
enum jg_keepalive_verdict jg_keepalive_tick(struct jg_keepalive *k, uint64_t now, uint64_t rx,
					    uint64_t *late_ms);

/* A PING went out (at a tick's PING, or any other: the first one, for the RTT). */
void jg_keepalive_sent(struct jg_keepalive *k);

/* The peer answered the PING. */
void jg_keepalive_answered(struct jg_keepalive *k);

#endif
