/* Bulk transfer settings for HTTP/2 endpoints (h2/bulk.h). */
#include <event2/bufferevent.h>

#include "h2/bulk.h"

void jg_h2bulk_tune_bev(struct bufferevent *bev)
{
	/* Failure leaves libevent's default (16 KiB): slower, not wrong. */
	(void)bufferevent_set_max_single_read(bev, JG_H2_MAX_IO);
	(void)bufferevent_set_max_single_write(bev, JG_H2_MAX_IO);
}


/* nghttp2 asks how long the next DATA frame may be: as long as the window, the
 * peer's max frame size and our own cap allow. */
static ssize_t data_length(nghttp2_session *session, uint8_t frame_type, int32_t stream_id,
			   int32_t session_window, int32_t stream_window,
			   uint32_t remote_max_frame_size, void *user_data)
{
	int32_t n = session_window < stream_window ? session_window : stream_window;
	uint32_t cap = remote_max_frame_size < JG_H2_MAX_FRAME ? remote_max_frame_size
							       : JG_H2_MAX_FRAME;

	(void)session;
	(void)frame_type;
	(void)stream_id;
	(void)user_data;
	if (n <= 0)
		return 1; /* nghttp2 never asks with no window; stay within the contract */
	return (uint32_t)n < cap ? n : (ssize_t)cap;
}

void jg_h2bulk_tune_callbacks(nghttp2_session_callbacks *cbs)
{
	nghttp2_session_callbacks_set_data_source_read_length_callback(cbs, data_length);
}
