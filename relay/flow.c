/* Per-channel credit flow control (see flow.h).
 *
 * Invariant on the receive side: recv_window + (bytes received and not yet
 * consumed) + recv_owed == recv_max.  Credit goes back to the peer only as
 * the consumer takes bytes, so what is buffered on our side for one channel
 * never exceeds recv_max. */
#include "relay/err.h"
#include "relay/flow.h"
#include "relay/frame.h"

void jg_flow_init(struct jg_flow *f, uint32_t send_initial, uint32_t recv_initial)
{
	f->send_window = send_initial;
	f->recv_window = recv_initial;
	f->recv_max = recv_initial;
	f->recv_owed = 0;
}

size_t jg_flow_sendable(const struct jg_flow *f, size_t want)
{
	return want < f->send_window ? want : f->send_window;
}

int jg_flow_sent(struct jg_flow *f, size_t n)
{
	if (n > f->send_window)
		return JG_ERR_FLOW;
	f->send_window -= (uint32_t)n;
	return 0;
}

int jg_flow_on_window(struct jg_flow *f, uint32_t inc)
{
	if (inc == 0 || (uint64_t)f->send_window + inc > JG_FRAME_MAX_WINDOW)
		return JG_ERR_PROTO;
	f->send_window += inc;
	return 0;
}

int jg_flow_on_data(struct jg_flow *f, size_t n)
{
	if (n > f->recv_window)
		return JG_ERR_FLOW;
	f->recv_window -= (uint32_t)n;
	return 0;
}

uint32_t jg_flow_consumed(struct jg_flow *f, size_t n)
{
	/* Never owe more than was received: a consumer that over-reports must not
	 * let the peer's window grow past what we advertised. */
	uint32_t unconsumed = f->recv_max - f->recv_window - f->recv_owed;

	f->recv_owed += n < unconsumed ? (uint32_t)n : unconsumed;
	if (f->recv_owed == 0 || f->recv_owed < f->recv_max / 2)
		return 0;
	return jg_flow_flush(f);
}

uint32_t jg_flow_flush(struct jg_flow *f)
{
	uint32_t inc = f->recv_owed;

	f->recv_window += inc;
	f->recv_owed = 0;
	return inc;
}
