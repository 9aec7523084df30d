/* stdin -> DATA frames; see input.h for the contract. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client/client.h"
#include "client/input.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"

/* Queue the EOF frame: the remote program's stdin ends. */
static void input_eof(struct jg_input *in)
{
	in->done = 1;
	if (in->ev != NULL)
		event_del(in->ev);
	if (jg_frame_put(in->q, JG_FRAME_EOF, 0, 0, 0, NULL, 0) != 0)
		jg_client_fail("out of memory queueing end of stdin");
}

/* Most bytes one read(2) takes: a few frames' worth, so that a file or a fast
 * pipe on stdin costs one system call per 256 KiB, not per 32 KiB frame.  Q
 * may exceed its limit by this much. */
#define INPUT_READ_MAX (8u * JG_FRAME_MAX_PAYLOAD)

/* One read(2) into DATA frames.  1 when bytes were queued, 0 at EOF or on error (EOF
 * queued), -1 when the read would block. */
static int input_read_once(struct jg_input *in)
{
	static char buf[INPUT_READ_MAX]; /* used within this call only */
	ssize_t n;

	do
		n = read(in->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0 && errno != EBADF)
		jg_client_fail("cannot read stdin: %s (the remote program sees end of input)",
			       strerror(errno));
	if (n <= 0) {
		input_eof(in);
		return 0;
	}
	for (ssize_t off = 0; off < n; off += JG_FRAME_MAX_PAYLOAD) {
		uint32_t len =
		    (uint32_t)(n - off < JG_FRAME_MAX_PAYLOAD ? n - off : JG_FRAME_MAX_PAYLOAD);

		if (jg_frame_put(in->q, JG_FRAME_DATA, 0, 0, 0, buf + off, len) != 0) {
			jg_client_fail("out of memory queueing stdin");
			input_eof(in);
			return 0;
		}
	}
	in->nread += (size_t)n;
	return 1;
}

static void input_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_input *in = arg;

	/* One read per wake-up: FD may be blocking (we never change a shared stdin's flags),
	 * and the loop wakes us again while there is more. */
	if (input_read_once(in) < 0)
		return;
	if (!in->done && evbuffer_get_length(in->q) >= in->limit)
		event_del(in->ev);
	in->ready(in->arg);
}

int jg_input_init(struct jg_input *in, struct event_base *base, int fd, struct evbuffer *q,
		  size_t limit, void (*ready)(void *arg), void *arg)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->q = q;
	in->limit = limit;
	in->ready = ready;
	in->arg = arg;
	if (fstat(fd, &st) != 0) {
		in->direct = 1; /* stdin closed: the first read says EOF */
		return 0;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(fd))) {
		in->direct = 1;
		return 0;
	}
	if ((in->ev = event_new(base, fd, EV_READ | EV_PERSIST, input_cb, in)) == NULL)
		return JG_ERR_NOMEM;
	return 0;
}

void jg_input_pump(struct jg_input *in)
{
	if (in->done || in->stopped || evbuffer_get_length(in->q) >= in->limit)
		return;
	if (!in->direct) {
		if (event_pending(in->ev, EV_READ, NULL))
			return;
		if (event_add(in->ev, NULL) == 0)
			return;
		/* epoll refused a kind of file we did not foresee: read it directly. */
		jg_log_debug("cannot watch stdin, reading it directly");
		in->direct = 1;
	}
	while (!in->done && evbuffer_get_length(in->q) < in->limit)
		if (input_read_once(in) < 0)
			break;
}

void jg_input_stop(struct jg_input *in)
{
	in->stopped = 1;
	if (in->ev != NULL)
		event_del(in->ev);
}

void jg_input_clear(struct jg_input *in)
{
	if (in->ev != NULL)
		event_free(in->ev);
	in->ev = NULL;
}
