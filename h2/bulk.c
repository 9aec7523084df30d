/* Bulk transfer settings for HTTP/2 endpoints (h2/bulk.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "h2/bulk.h"
#include "relay/spawn.h"

void jg_h2bulk_tune_bev(struct bufferevent *bev)
{
	/* Failure leaves libevent's default (16 KiB): slower, not wrong. */
	(void)bufferevent_set_max_single_read(bev, JG_H2_MAX_IO);
	(void)bufferevent_set_max_single_write(bev, JG_H2_MAX_IO);
}

/* The socket under a TLS filter.  libevent 2.1 reads a socket bufferevent at
 * most 4 KiB per read(2) (EVBUFFER_MAX_READ), whatever its max_single_read:
 * a 128 MiB upload took 32,839 reads, each after its own epoll_wait and
 * FIONREAD.  So the socket bufferevent only writes; this reads, as much as
 * the kernel holds (up to JG_H2_READ_MAX), into the socket bufferevent's input,
 * and runs the filter's callbacks as the bufferevent would have. */
struct bulk_sock {
	struct bufferevent *sock; /* under the filter (which owns it) */
	struct bufferevent *top;  /* the filter: TLS, or a pass-through for plain sockets */
	struct event *rd;	  /* the socket readable */
	int done;		  /* EOF or an error was passed on: read no more */
};

/* Every live bulk_sock by its descriptor (a process holds a few thousand at
 * most): how jg_h2bulk_free and friends find the reader of a bufferevent. */
static struct bulk_sock **by_fd;
static size_t n_by_fd;

static int registry_put(evutil_socket_t fd, struct bulk_sock *b)
{
	if (fd < 0)
		return -1;
	if ((size_t)fd >= n_by_fd) {
		size_t n = n_by_fd ? n_by_fd : 64;
		struct bulk_sock **p;

		while (n <= (size_t)fd)
			n *= 2;
		if ((p = realloc(by_fd, n * sizeof(*p))) == NULL)
			return -1;
		memset(p + n_by_fd, 0, (n - n_by_fd) * sizeof(*p));
		by_fd = p;
		n_by_fd = n;
	}
	by_fd[fd] = b;
	return 0;
}

static struct bulk_sock *bulk_sock_of(struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	struct bulk_sock *b = fd >= 0 && (size_t)fd < n_by_fd ? by_fd[fd] : NULL;

	return b != NULL && b->top == bev ? b : NULL;
}

/* Most bytes left unread by the filter before reading stops (the filter
 * suspends reading itself only through the socket bufferevent, which no
 * longer reads); reading resumes below it. */
#define SOCK_INPUT_MAX (4u * JG_H2_READ_MAX)

/* One read(2) of what the kernel holds into the socket bufferevent's input. */
ssize_t jg_h2bulk_read_into(struct bufferevent *sock, size_t max)
{
	struct evbuffer *in = bufferevent_get_input(sock);
	ssize_t r;
	int e;

	/* A socket bufferevent freezes its input's end; it thaws it to read, as we do. */
	evbuffer_unfreeze(in, 0);
	r = jg_fd_read_evbuffer(bufferevent_getfd(sock), in, max);
	e = errno;
	evbuffer_freeze(in, 0);
	errno = e;
	return r;
}

static ssize_t sock_read(struct bulk_sock *b)
{
	return jg_h2bulk_read_into(b->sock, JG_H2_READ_MAX);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct bulk_sock *b = arg;
	ssize_t r = sock_read(b);

	(void)fd;
	(void)what;
	if (r < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOMEM))
		return; /* ENOMEM: the next readiness tries again */
	if (r <= 0) {
		b->done = 1;
		event_del(b->rd);
		/* As bufferevent_socket reports it: the filter turns it into its own event. */
		bufferevent_trigger_event(
		    b->sock, BEV_EVENT_READING | (r == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), 0);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(b->sock)) >= SOCK_INPUT_MAX)
		event_del(b->rd);
	bufferevent_trigger(b->sock, EV_READ, 0); /* the filter decrypts what came */
}

/* The filter took bytes from the socket's input: read again once below the bound. */
static void on_input_taken(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct bulk_sock *b = arg;

	if (info->n_deleted > 0 && !b->done && evbuffer_get_length(buf) < SOCK_INPUT_MAX &&
	    !event_pending(b->rd, EV_READ, NULL))
		event_add(b->rd, NULL);
}

/* The socket drained: the filter's write callback runs, as it would have had
 * the filter's own output been the last to drain. */
static void on_output_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct bulk_sock *b = arg;

	if (info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		bufferevent_trigger(b->top, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

static void bulk_sock_free(struct bulk_sock *b)
{
	evutil_socket_t fd = event_get_fd(b->rd);

	if (fd >= 0 && (size_t)fd < n_by_fd && by_fd[fd] == b)
		by_fd[fd] = NULL;
	evbuffer_remove_cb(bufferevent_get_input(b->sock), on_input_taken, b);
	evbuffer_remove_cb(bufferevent_get_output(b->sock), on_output_sent, b);
	event_free(b->rd);
	free(b);
}

/* The socket bufferevent for FD, to go under a filter, with its reader; NULL
 * when out of memory (FD untouched). */
static struct bulk_sock *bulk_sock_new(struct event_base *base, evutil_socket_t fd)
{
	struct bulk_sock *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	if ((b->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, b)) == NULL ||
	    (b->sock = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (b->rd != NULL)
			event_free(b->rd);
		free(b);
		return NULL;
	}
	jg_h2bulk_tune_bev(b->sock);
	/* The filter stops at JG_H2_MAX_IO unsent and resumes below a quarter of
	 * it, so the socket always has a large write ready. */
	bufferevent_setwatermark(b->sock, EV_WRITE, JG_H2_MAX_IO / 4, JG_H2_MAX_IO);
	return b;
}

/* The filter B->top was made over B->sock: start reading.  0, or -1 when out of
 * memory (then the caller frees B->top, having taken back what it lends). */
static int bulk_sock_start(struct bulk_sock *b)
{
	bufferevent_disable(b->sock, EV_READ); /* on_readable reads instead */
	if (evbuffer_add_cb(bufferevent_get_input(b->sock), on_input_taken, b) == NULL ||
	    evbuffer_add_cb(bufferevent_get_output(b->sock), on_output_sent, b) == NULL ||
	    event_add(b->rd, NULL) != 0 || registry_put(event_get_fd(b->rd), b) != 0)
		return -1;
	jg_h2bulk_tune_bev(b->top);
	return 0;
}

/* The filter could not be made: FD goes back to the caller. */
static void bulk_sock_abandon(struct bulk_sock *b)
{
	bufferevent_setfd(b->sock, -1);
	bufferevent_free(b->sock);
	event_free(b->rd);
	free(b);
}

/* bulk_sock_start failed: free the filter without closing FD. */
static void bulk_sock_unwind(struct bulk_sock *b)
{
	struct bufferevent *top = b->top;

	bulk_sock_free(b);
	bufferevent_setfd(bufferevent_get_underlying(top), -1);
	bufferevent_free(top);
}

struct bufferevent *jg_h2bulk_tls_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				      enum bufferevent_ssl_state state)
{
	struct bulk_sock *b = bulk_sock_new(base, fd);

	if (b == NULL)
		return NULL;
	/* No deferred callbacks below: the filter defers its own. */
	b->top = bufferevent_openssl_filter_new(base, b->sock, ssl, state,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (b->top == NULL) {
		bulk_sock_abandon(b); /* the caller keeps FD and SSL */
		return NULL;
	}
	/* With a read high-water mark the filter decrypts into one large reservation
	 * (up to JG_H2_READ_MAX) instead of 4 KiB pieces: records land contiguous, and
	 * nghttp2 hands out DATA in pieces as large as its frames, not one per 16 KiB
	 * chain (which became one 16 KiB link frame, and one write(2) on the target,
	 * each: 16,954 writes for a 256 MiB upload). */
	bufferevent_setwatermark(b->top, EV_READ, 0, JG_H2_READ_MAX);
	if (bulk_sock_start(b) != 0) {
		/* The filter owns SSL now: keep it alive and quiet for the caller. */
		SSL_up_ref(ssl);
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		bulk_sock_unwind(b);
		return NULL;
	}
	return b->top;
}

struct bufferevent *jg_h2bulk_plain_new(struct event_base *base, evutil_socket_t fd, int options)
{
	struct bulk_sock *b = bulk_sock_new(base, fd);

	if (b == NULL)
		return NULL;
	/* A filter with no filter functions moves the socket's chains up and down
	 * (evbuffer_remove_buffer): no copy, and the same reader as TLS. */
	b->top = bufferevent_filter_new(b->sock, NULL, NULL, BEV_OPT_CLOSE_ON_FREE | options, NULL,
					NULL);
	if (b->top == NULL) {
		bulk_sock_abandon(b);
		return NULL;
	}
	if (bulk_sock_start(b) != 0) {
		bulk_sock_unwind(b);
		return NULL;
	}
	return b->top;
}

void jg_h2bulk_read_pending(struct bufferevent *bev)
{
	struct bulk_sock *b = bulk_sock_of(bev);

	/* Bounded: a peer that keeps sending is not waited for. */
	for (int i = 0; b != NULL && !b->done && i < 4; i++)
		if (sock_read(b) <= 0)
			break;
}

void jg_h2bulk_send_now(struct bufferevent *bev)
{
	struct bulk_sock *b = bulk_sock_of(bev);
	struct evbuffer *out;

	if (b == NULL)
		return;
	out = bufferevent_get_output(b->sock);
	if (evbuffer_get_length(out) == 0)
		return;
	/* A socket bufferevent freezes its output's start; it thaws it to write. */
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, event_get_fd(b->rd)); /* best effort: one try */
	evbuffer_freeze(out, 1);
}

size_t jg_h2bulk_unsent(struct bufferevent *bev)
{
	struct bufferevent *sock = bufferevent_get_underlying(bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(bev));

	if (sock != NULL)
		n += evbuffer_get_length(bufferevent_get_output(sock));
	return n;
}

void jg_h2bulk_free(struct bufferevent *bev)
{
	struct bulk_sock *b = bulk_sock_of(bev);

	if (b != NULL) {
		jg_h2bulk_send_now(bev);
		bulk_sock_free(b);
	}
	bufferevent_free(bev);
}

/* nghttp2 asks how long the next DATA frame may be: as long as the window, the
 * peer's max frame size and our own cap allow. */
static ssize_t data_length(nghttp2_session *session, uint8_t frame_type, int32_t stream_id,
			   int32_t session_window, int32_t stream_window,
			   uint32_t remote_max_frame_size, void *user_data)
{
	int32_t n = session_window < stream_window ? session_window : stream_window;
	uint32_t cap =
	    remote_max_frame_size < JG_H2_MAX_FRAME ? remote_max_frame_size : JG_H2_MAX_FRAME;

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
