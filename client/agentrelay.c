/* -A: relaying the controller's ssh-agent to the gateway (client/agentrelay.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client/agentrelay.h"
#include "client/client.h"
#include "client/conn.h"
#include "relay/agentmux.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/wire.h"

/* The check before the request: the agent must answer within this. */
#define PROBE_MS 5000
/* ssh-agent protocol (draft-miller-ssh-agent): list the keys, and its answers. */
#define SSH_AGENTC_REQUEST_IDENTITIES 11
#define SSH_AGENT_IDENTITIES_ANSWER 12
#define SSH_AGENT_FAILURE 5

struct ar_stream;

struct ar_stream {
	struct jg_agentrelay *r;
	struct jg_conn *conn;
	int32_t id;
	struct jg_frame_decoder *dec;
	struct evbuffer *outq;
	int status;		 /* the gateway's :status */
	struct jg_agentmux *mux; /* its channels: our connections to the agent */
	struct ar_stream *next, *prev;
};

struct jg_agentrelay {
	struct jg_client *c;
	char target[256];
	char sock[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	int how;
	int warned; /* the agent failed during a request: said once */
	struct ar_stream *streams;
};

static void relay_fail(const struct jg_agentrelay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void relay_fail(const struct jg_agentrelay *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: -A: %s\n", r->c->prog != NULL ? r->c->prog : "jumpgate", r->target,
		line);
	fflush(stderr);
}

/* A connected, non-blocking socket to the agent, or -1 with errno. */
static int agent_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EAGAIN) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Until LEN bytes moved or DEADLINE (CLOCK_MONOTONIC ms): 0, or -1 with errno. */
static int io_all(int fd, uint8_t *p, size_t len, int out, int64_t deadline)
{
	struct timespec ts;

	while (len > 0) {
		struct pollfd pfd = {.fd = fd, .events = out ? POLLOUT : POLLIN};
		ssize_t n;
		int64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -1;
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Does the agent answer, and hold a key?  0, or -1 after saying why. */
static int agent_probe(struct jg_agentrelay *r)
{
	uint8_t req[5] = {0, 0, 0, 1, SSH_AGENTC_REQUEST_IDENTITIES}, hdr[9];
	struct timespec ts;
	int64_t deadline;
	uint32_t len;
	int fd = agent_connect(r->sock);

	if (fd < 0) {
		relay_fail(r, "cannot reach the ssh-agent at %s (SSH_AUTH_SOCK): %s", r->sock,
			   strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + PROBE_MS;
	/* The answer: length, type, and for IDENTITIES_ANSWER the number of keys. */
	if (io_all(fd, req, sizeof(req), 1, deadline) != 0 ||
	    io_all(fd, hdr, 5, 0, deadline) != 0) {
		relay_fail(r, "the ssh-agent at %s (SSH_AUTH_SOCK) does not answer: %s", r->sock,
			   errno == ETIMEDOUT ? "no answer within 5 s" : strerror(errno));
		close(fd);
		return -1;
	}
	len = jg_get_u32(hdr);
	if (hdr[4] != SSH_AGENT_IDENTITIES_ANSWER || len < 5 ||
	    io_all(fd, hdr + 5, 4, 0, deadline) != 0) {
		relay_fail(r, "the ssh-agent at %s (SSH_AUTH_SOCK) refused to list its keys",
			   r->sock);
		close(fd);
		return -1;
	}
	close(fd);
	if (jg_get_u32(hdr + 5) == 0) {
		relay_fail(r,
			   "the ssh-agent at %s (SSH_AUTH_SOCK) holds no keys (add one with "
			   "ssh-add)",
			   r->sock);
		return -1;
	}
	return 0;
}

struct jg_agentrelay *jg_agentrelay_new(struct jg_client *c, const char *target, int how)
{
	struct jg_agentrelay *r = calloc(1, sizeof(*r));
	const char *sock = getenv("SSH_AUTH_SOCK");

	if (r == NULL) {
		jg_client_fail("out of memory");
		return NULL;
	}
	r->c = c;
	r->how = how;
	snprintf(r->target, sizeof(r->target), "%s", target);
	if (sock == NULL || sock[0] == '\0') {
		relay_fail(r, "no ssh-agent to forward: SSH_AUTH_SOCK is not set (start one with "
			      "eval $(ssh-agent) and add a key with ssh-add)");
		free(r);
		return NULL;
	}
	if (strlen(sock) >= sizeof(r->sock)) {
		relay_fail(r, "SSH_AUTH_SOCK is too long for a Unix socket path");
		free(r);
		return NULL;
	}
	snprintf(r->sock, sizeof(r->sock), "%s", sock);
	if (agent_probe(r) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void stream_free(struct ar_stream *st)
{
	struct jg_agentrelay *r = st->r;

	jg_agentmux_free(st->mux);
	if (st->prev)
		st->prev->next = st->next;
	else
		r->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	jg_frame_decoder_free(st->dec);
	evbuffer_free(st->outq);
	free(st);
}

/* A frame up to the gateway (the mux's sender). */
static void queue(void *arg, uint8_t type, uint32_t ch, const void *p, uint32_t len)
{
	struct ar_stream *st = arg;

	if (jg_frame_put(st->outq, type, 0, ch, 0, p, len) == 0 && st->id > 0)
		jg_conn_resume(st->conn, st->id);
}

/* The gateway's onward ssh connected to its agent socket: connect to ours. */
static void chan_open(struct ar_stream *st, uint32_t id)
{
	struct jg_agentrelay *r = st->r;
	char why[300];
	int fd = agent_connect(r->sock);

	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot reach the ssh-agent at %s: %s", r->sock,
			 strerror(errno));
		if (!r->warned++)
			relay_fail(r, "%s", why);
		queue(st, JG_FRAME_OPEN_FAIL, id, why, (uint32_t)strlen(why));
		return;
	}
	if (jg_agentmux_add(st->mux, id, fd) != 0) {
		queue(st, JG_FRAME_OPEN_FAIL, id, "out of memory", 13);
		return;
	}
	jg_log_debug("agent stream %d: channel %u to %s", st->id, id, r->sock);
	queue(st, JG_FRAME_OPEN_OK, id, NULL, 0);
}

static int on_header(void *arg, const char *name, const char *value)
{
	struct ar_stream *st = arg;

	if (strcmp(name, ":status") != 0)
		return 0;
	st->status = atoi(value);
	/* An older gateway (404) or a refusal: the request goes on without the agent. */
	if (st->status != 200 && !st->r->warned++)
		relay_fail(st->r,
			   "the gateway refused the agent stream (HTTP %d): the onward ssh "
			   "has no agent",
			   st->status);
	return 0;
}

static int on_data(void *arg, const uint8_t *data, size_t len)
{
	struct ar_stream *st = arg;
	struct jg_frame f;
	int r;

	if (st->status != 200)
		return 0; /* an error body: the request itself reports what went wrong */
	if (jg_frame_decoder_feed(st->dec, data, len) != 0)
		return -1;
	while ((r = jg_frame_decoder_next(st->dec, &f)) == 1) {
		if (jg_agentmux_frame(st->mux, &f))
			continue;
		if (f.type == JG_FRAME_OPEN && !jg_agentmux_has(st->mux, f.channel))
			chan_open(st, f.channel);
		else
			jg_log_debug("agent stream %d: ignoring %s", st->id,
				     jg_frame_type_name(f.type));
	}
	return r < 0 ? -1 : 0;
}

static ssize_t on_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct ar_stream *st = arg;
	int n;

	(void)eof;
	if (evbuffer_get_length(st->outq) == 0)
		return JG_ERR_AGAIN; /* the gateway ends the stream with its request */
	n = evbuffer_remove(st->outq, buf, len);
	return n < 0 ? JG_ERR_NOMEM : n;
}

static void on_close(void *arg, uint32_t h2_error)
{
	(void)h2_error;
	stream_free(arg);
}

static const struct jg_h2client_stream_cbs agent_stream_cbs = {
    .header = on_header,
    .data = on_data,
    .body = on_body,
    .close = on_close,
};

int jg_agentrelay_open(struct jg_agentrelay *r, struct jg_conn *conn, char *hdr, size_t len)
{
	const char *headers[][2] = {
	    {"content-type", "application/x-jumpgate-frames"},
	    {"user-agent", "jumpgate/" PACKAGE_VERSION},
	};
	struct ar_stream *st = calloc(1, sizeof(*st));
	int32_t id;

	if (st == NULL || (st->dec = jg_frame_decoder_new(0)) == NULL ||
	    (st->outq = evbuffer_new()) == NULL ||
	    (st->mux = jg_agentmux_new(r->c->base, queue, st)) == NULL) {
		if (st != NULL) {
			jg_frame_decoder_free(st->dec);
			if (st->outq != NULL)
				evbuffer_free(st->outq);
		}
		free(st);
		return JG_ERR_NOMEM;
	}
	st->r = r;
	st->conn = conn;
	st->next = r->streams;
	if (r->streams)
		r->streams->prev = st;
	r->streams = st;
	id = jg_conn_request(conn, "POST", "/v1/agent", headers, 2, &agent_stream_cbs, st);
	if (id < 0) {
		stream_free(st);
		return id;
	}
	st->id = id;
	snprintf(hdr, len, "%d%s", (int)id, r->how > 1 ? "; target" : "");
	return 0;
}

void jg_agentrelay_free(struct jg_agentrelay *r)
{
	if (r == NULL)
		return;
	while (r->streams != NULL)
		stream_free(r->streams);
	free(r);
}
