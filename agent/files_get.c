/* GET channels: a regular file streamed to the gateway (relay/opspec.h).
 *
 * OPEN_OK carries a file spec (SIZE, MODE, MTIME as at open time); then the
 * bytes as DATA, EOF, EXIT 0.  Bytes are read only as the channel's window
 * allows and only while the link output is below JG_AGENT_OUT_HIGH, one
 * frame's worth at a time: the file is never held in memory.  Regular files
 * are always readable, so there is no event to wait for: the pump runs when
 * the channel opens, when the gateway grants credit (writable) and when the
 * output drains (jg_agent_file_resume_all). */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "agent/agent.h"
#include "agent/files.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

struct get {
	struct jg_file_chan fc; /* first */
	int fd;
	char *shown;
	uint64_t sent;
};

static void get_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void get_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void get_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_ops get_ops = {
    .frame = get_frame,
    .writable = get_writable,
    .dead = get_dead,
};

static void get_free(struct get *x)
{
	jg_files_untrack(&x->fc);
	if (x->fd >= 0)
		close(x->fd);
	free(x->shown);
	free(x);
}

/* Send what the window and the output buffer allow; finish at end of file. */
static void get_pump(struct get *x)
{
	struct jg_agent *a = x->fc.a;
	uint8_t buf[JG_AGENT_READ_MAX];
	char reason[1024];
	size_t room;
	ssize_t n;
	int64_t sent;
	int r;

	for (;;) {
		if ((room = jg_link_window(a->link, x->fc.ch)) == 0)
			return; /* writable() brings us back */
		if (jg_agent_output_full(a)) {
			jg_log_debug("channel %u: output full, waiting", x->fc.ch);
			a->throttled = 1; /* the stdout writer calls resume_all */
			return;
		}
		n = read(x->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(reason, sizeof(reason), "reading %s: %s", x->shown,
				 strerror(errno));
			jg_log_info("channel %u: %s", x->fc.ch, reason);
			if ((r = jg_link_send_dead(a->link, x->fc.ch, reason)) != 0)
				jg_log_warn("channel %u: cannot send DEAD: %s", x->fc.ch,
					    jg_strerror(r));
			get_free(x);
			return;
		}
		if (n == 0) {
			jg_log_debug("channel %u: sent %s (%llu bytes)", x->fc.ch, x->shown,
				     (unsigned long long)x->sent);
			if ((r = jg_link_send_eof(a->link, x->fc.ch, 0)) != 0 ||
			    (r = jg_link_send_exit(a->link, x->fc.ch, 0, 0)) != 0)
				jg_log_warn("channel %u: cannot end the GET: %s", x->fc.ch,
					    jg_strerror(r));
			get_free(x);
			return;
		}
		sent = jg_link_send_data(a->link, x->fc.ch, 0, buf, (size_t)n);
		if (sent != n) {
			/* Cannot happen: we read no more than the window. */
			jg_log_error("channel %u: link took %lld of %zd bytes", x->fc.ch,
				     (long long)sent, n);
			get_free(x);
			return;
		}
		x->sent += (uint64_t)n;
	}
}

static void get_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f)
{
	struct get *x = (struct get *)c;

	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_DATA:
		/* Nothing is expected from the gateway; keep its window whole. */
		jg_link_consumed(a->link, x->fc.ch, f->length);
		return;
	case JG_FRAME_CLOSE:
		jg_log_debug("channel %u: GET of %s closed by the gateway", x->fc.ch, x->shown);
		get_free(x);
		return;
	case JG_FRAME_EOF:
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_OPEN_OK:
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_WINDOW:
	case JG_FRAME_EXIT:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
	case JG_FRAME_DEAD:
		break;
	}
}

static void get_writable(struct jg_agent *a, struct jg_agent_chan *c)
{
	get_pump((struct get *)c);
}

static void get_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason)
{
	struct get *x = (struct get *)c;

	jg_log_info("channel %u: GET of %s abandoned (%s)", x->fc.ch, x->shown, reason);
	get_free(x);
}

/* Open the file at P: a read follows a symlink, except beneath a root. O_NONBLOCK
 * so that a FIFO cannot hang the agent before it is refused. */
static int get_open_file(const struct jg_fpath *p, int *fd, struct stat *st, char *err,
			 size_t errlen)
{
	int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (p->beneath ? O_NOFOLLOW : 0);

	if ((*fd = openat(p->dirfd, p->name, flags)) < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "no such file: %s", p->shown);
		else if (errno == ELOOP && p->beneath)
			snprintf(err, errlen,
				 "refusing %s: it is a symbolic link (none is followed beneath the "
				 "root)",
				 p->shown);
		else
			snprintf(err, errlen, "%s: %s", p->shown, strerror(errno));
		return JG_ERR_IO;
	}
	if (fstat(*fd, st) != 0)
		snprintf(err, errlen, "%s: %s", p->shown, strerror(errno));
	else if (S_ISDIR(st->st_mode))
		snprintf(err, errlen, "%s is a directory", p->shown);
	else if (!S_ISREG(st->st_mode))
		snprintf(err, errlen, "%s is not a regular file", p->shown);
	else if (fcntl(*fd, F_SETFL, O_RDONLY) != 0)
		snprintf(err, errlen, "%s: %s", p->shown, strerror(errno));
	else
		return 0;
	close(*fd);
	*fd = -1;
	return JG_ERR_IO;
}

void jg_agent_get_open(struct jg_agent *a, uint32_t ch, const struct jg_file_spec *s)
{
	struct evbuffer *payload = NULL;
	struct get *x = NULL;
	char reason[1024];
	struct jg_fpath p;
	struct stat st;
	int fd = -1, r;

	if ((r = jg_fpath_open(s, JG_FPATH_READ, &p, reason, sizeof(reason))) != 0)
		goto reject;
	if ((r = get_open_file(&p, &fd, &st, reason, sizeof(reason))) != 0)
		goto reject;
	if ((payload = evbuffer_new()) == NULL || jg_files_describe(&st, NULL, &p, payload) != 0 ||
	    (x = calloc(1, sizeof(*x))) == NULL || (x->shown = strdup(p.shown)) == NULL) {
		snprintf(reason, sizeof(reason), "GET %s: out of memory", p.shown);
		goto reject;
	}
	x->fc.chan.ops = &get_ops;
	x->fc.a = a;
	x->fc.ch = ch;
	x->fd = fd;
	fd = -1;
	jg_files_track(&x->fc);
	if ((r = jg_files_accept(a, ch, x, payload)) != 0) {
		jg_log_error("channel %u: cannot accept the GET of %s: %s", ch, p.shown,
			     jg_strerror(r));
		/* Accepted but without its spec (or not at all): end it rather than lie. */
		jg_link_send_dead(a->link, ch, "the agent could not answer the GET");
		get_free(x);
		goto out;
	}
	get_pump(x);
	goto out;
reject:
	if (x != NULL) {
		free(x->shown);
		free(x);
	}
	jg_log_info("channel %u: %s", ch, reason);
	if ((r = jg_link_reject(a->link, ch, reason)) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
out:
	if (fd >= 0)
		close(fd);
	if (payload != NULL)
		evbuffer_free(payload);
	jg_fpath_clear(&p);
}
