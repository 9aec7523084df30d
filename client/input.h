/* stdin as a stream of DATA frames (channel 0), read ahead into a bounded queue.
 *
 * Pipes, terminals and sockets are watched by the event loop; regular files and
 * character devices such as /dev/null cannot be (epoll refuses them) and never
 * block, so those are read directly whenever the queue has room.  Reading stops
 * while the queue holds LIMIT bytes or more, which is the backpressure that
 * reaches the local writer.  At end of input an EOF frame is queued. */
#ifndef JG_CLIENT_INPUT_H
#define JG_CLIENT_INPUT_H

#include <stddef.h>

struct event;
struct event_base;
struct evbuffer;

struct jg_input {
	int fd;
	int direct;  /* read synchronously in jg_input_pump(): epoll cannot watch FD */
	int done;    /* the EOF frame is queued; nothing more is read */
	int stopped; /* jg_input_stop() was called */
	struct event *ev;
	struct evbuffer *q; /* borrowed: the frame queue shared with other senders */
	size_t limit;
	void (*ready)(void *arg); /* Q gained bytes from the event loop (not from pump) */
	void *arg;
	size_t nread; /* bytes read from FD so far (a run again cannot send them twice) */
};

/* Set up reading FD into Q. 0 or JG_ERR_NOMEM. */
int jg_input_init(struct jg_input *in, struct event_base *base, int fd, struct evbuffer *q,
		  size_t limit, void (*ready)(void *arg), void *arg);
/* Q has room again (or reading may start): read directly now, or watch FD.  Never calls
 * READY, so it is safe from inside the consumer of Q. */
void jg_input_pump(struct jg_input *in);
/* Read no more (the operation is over). */
void jg_input_stop(struct jg_input *in);
void jg_input_clear(struct jg_input *in);

#endif
