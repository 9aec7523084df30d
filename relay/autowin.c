/* Receive-window growth for a bulk stream (relay/autowin.h). */
#include "relay/autowin.h"

void jg_autowin_received(struct jg_autowin *w, size_t n)
{
	w->held += n;
}

uint32_t jg_autowin_consumed(struct jg_autowin *w, struct jg_autowin_budget *b, size_t n,
			     uint64_t now_ms, uint32_t window, uint32_t max, uint64_t limit)
{
	uint64_t grow;

	w->held -= n < w->held ? n : w->held;
	if (w->since_ms == 0 || now_ms - w->since_ms > JG_AUTOWIN_PERIOD_MS) {
		w->since_ms = now_ms;
		w->moved = 0;
	}
	w->moved += n;
	/* Bytes still held: the next hop is the limit.  Less than a window a
	 * period: the window already covers it. */
	if (w->held > 0 || w->moved < window || window >= max || b->used >= limit)
		return 0;
	grow = (uint64_t)window * 2 > max ? max - window : window;
	if (grow > limit - b->used)
		grow = limit - b->used;
	b->used += grow;
	w->grown += (uint32_t)grow;
	w->since_ms = now_ms; /* the larger window must prove itself again */
	w->moved = 0;
	return window + (uint32_t)grow;
}

void jg_autowin_release(struct jg_autowin *w, struct jg_autowin_budget *b)
{
	b->used -= w->grown < b->used ? w->grown : b->used;
	w->grown = 0;
}
