/* The keepalive decision (relay/keepalive.h). */
#include "relay/keepalive.h"

void jg_keepalive_start(struct jg_keepalive *k, uint32_t interval_ms, uint64_t now, uint64_t rx)
{
	k->interval_ms = interval_ms;
	k->due_ms = now + interval_ms;
	k->rx_at_tick = rx;
	k->outstanding = 0;
}

enum jg_keepalive_verdict jg_keepalive_tick(struct jg_keepalive *k, uint64_t now, uint64_t rx,
					    uint64_t *late_ms)
{
	uint64_t late = now > k->due_ms ? now - k->due_ms : 0;
	int ours = late >= k->interval_ms && late >= 1000;

	*late_ms = ours ? late : 0;
	if (!ours && k->outstanding && rx == k->rx_at_tick)
		return JG_KEEPALIVE_DEAD;
	k->rx_at_tick = rx;
	k->due_ms = now + k->interval_ms;
	return k->outstanding ? JG_KEEPALIVE_WAIT : JG_KEEPALIVE_PING;
}

void jg_keepalive_sent(struct jg_keepalive *k)
{
	k->outstanding = 1;
}

void jg_keepalive_answered(struct jg_keepalive *k)
{
	k->outstanding = 0;
}
