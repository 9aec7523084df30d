/* One upload to many targets: not implemented yet (being written). */
#include "gateway/gateway.h"

struct jg_op *jg_fanout_start(struct jg_gateway *gw, struct jg_stream *s, const char *path,
			      const char *query)
{
	jg_stream_reply_error(s, 501, "not implemented", "fan-out is not implemented yet");
	return NULL;
}
