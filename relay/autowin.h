/* Receive-window growth for a bulk stream, as a decision with no I/O: the caller
 * owns the HTTP/2 session, counts what arrives and what it passed on, and asks
 * at each hand-over whether the stream's window should grow.  Used by the
 * gateway's HTTP/2 edge (gateway/edge/h2stream.c) for request bodies whose next
 * hop is a socket with no window of its own: the tunnels the gateway dials.  A
 * next hop with a window (an agent's channel) would only have the larger window
 * held in the gateway: exec's stdin through a grown window cost the gateway 40 %
 * more CPU and ran no faster.
 *
 * Why: the gateway returns credit only as the next hop takes the bytes, and
 * nghttp2 returns it in halves of the window.  With a fast next hop the sender
 * then spends a whole window, waits while the gateway passes it on, and starts
 * again: the two take turns instead of working at once (a 1 GiB tunnel through
 * a 1 MiB window left both CPUs idle 30 % of the time).  A larger window lets
 * them overlap; a larger window for every stream would let a slow next hop
 * hold that much more memory per stream.
 *
 * The rule: the window doubles, up to MAX, when the next hop keeps up (the
 * consumer has passed on everything that arrived) and the stream moved a whole
 * window within the last JG_AUTOWIN_PERIOD_MS.  So a stream's window grows
 * until it covers that period of its own traffic: the bandwidth-delay product
 * for round trips up to the period.  A stream whose next hop is slow always
 * holds bytes, and never grows; one whose sender is slow (a shell, a trickle)
 * never moves a window that fast, and never grows either.
 * for round trips up to the period.  Growth comes from a budget shared by every
 * stream of the process, returned when a stream ends, so memory stays bounded:
 * at most one window per stream, and all growth together at most the budget. */
#ifndef JG_AUTOWIN_H
#define JG_AUTOWIN_H

#include <stddef.h>
#include <stdint.h>

/* Shared by every stream: what growth all of them hold together. */
struct jg_autowin_budget {
	uint64_t used; /* bytes of growth held by live streams */
};

/* How fast a stream must move a window to grow (ms per window). */
#define JG_AUTOWIN_PERIOD_MS 250

/* One stream's; a new stream's is all zero. */
struct jg_autowin {
	uint64_t held;	   /* received and not yet passed on */
	uint32_t grown;	   /* bytes of window this stream took from the budget */
	uint64_t since_ms; /* start of the current period (0: none yet) */
	uint64_t moved;	   /* bytes passed on since then */
};

/* N bytes arrived on the stream. */
void jg_autowin_received(struct jg_autowin *w, size_t n);

/* The consumer passed N bytes on at NOW_MS (a monotonic clock).  WINDOW is the
 * stream's receive window now, MAX the largest window a stream may reach, LIMIT
 * the most growth all streams may hold together (MAX at or below WINDOW, or
 * LIMIT 0: no growth).  Returns the window to grow the stream to, the growth
 * taken from B; 0 to keep the window. */
uint32_t jg_autowin_consumed(struct jg_autowin *w, struct jg_autowin_budget *b, size_t n,
			     uint64_t now_ms, uint32_t window, uint32_t max, uint64_t limit);

/* The stream ended: its growth goes back to B. */
void jg_autowin_release(struct jg_autowin *w, struct jg_autowin_budget *b);

#endif
