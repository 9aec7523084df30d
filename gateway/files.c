/* PUT and GET of files on one target: not implemented yet (being written). */
#include "gateway/gateway.h"

struct jg_op *jg_files_start(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			     const char *target, const char *path, const char *query)
{
	jg_stream_reply_error(s, 501, "not implemented", "file transfer is not implemented yet");
	return NULL;
}

void jg_targets_list(struct jg_gateway *gw, struct jg_stream *s, const char *query)
{
	jg_stream_reply_error(s, 501, "not implemented", "target listing is not implemented yet");
}
