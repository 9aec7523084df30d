/* Byte tunnels over extended CONNECT: not implemented yet (being written). */
#include "gateway/gateway.h"

struct jg_op *jg_tunnel_start(struct jg_gateway *gw, struct jg_stream *s, const char *target,
			      const char *protocol, const char *query)
{
	jg_stream_reply_error(s, 501, "not implemented", "tunnels are not implemented yet");
	return NULL;
}
