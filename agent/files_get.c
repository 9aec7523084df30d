/* GET channels: a regular file streamed to the gateway (relay/opspec.h).
 *
 * OPEN_OK carries a file spec (SIZE, MODE, MTIME as at open time); then the
 * bytes as DATA, EOF, EXIT 0.  A pump (agent/pump.h) reads the file only as
 * the channel's window allows and only while the link output is below
 * JG_AGENT_OUT_HIGH: the file is never held in memory.  Regular files are
 * always readable, so there is no event to wait for: the pump runs when the
 * channel opens, when the gateway grants credit and when the output drains. */
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
	struct jg_apump *pump;	/* it owns the file's fd */
	char *shown;
};

static void get_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void get_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void get_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_cbs get_cbs = {
    .frame = get_frame,
    .writable = get_writable,
    .dead = get_dead,
};

static void get_free(struct get *x)
{
	jg_agent_files_untrack(&x->fc);
	jg_apump_free(x->pump);
	free(x->shown);
	free(x);
}

/* End of file: EOF went out, EXIT follows.  A read error: DEAD. */
static void get_on_pump(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which,
			int err, void *ud)
{
	struct get *x = ud;
	struct jg_link *l = x->fc.a->link;
	char reason[1024];
	int r;

	if (ev == JG_APUMP_OUT_EOF) {
		jg_log_debug("channel %u: sent %s", x->fc.ch, x->shown);
		if ((r = jg_link_send_exit(l, x->fc.ch, 0, 0)) != 0)
			jg_log_warn("channel %u: cannot end the GET: %s", x->fc.ch, jg_strerror(r));
	} else if (ev == JG_APUMP_READ_FAILED) {
		snprintf(reason, sizeof(reason), "reading %s: %s", x->shown, strerror(err));
		jg_log_info("channel %u: %s", x->fc.ch, reason);
		if ((r = jg_link_send_dead(l, x->fc.ch, reason)) != 0)
			jg_log_warn("channel %u: cannot send DEAD: %s", x->fc.ch, jg_strerror(r));
	} else {
		return; /* no IN */
	}
	get_free(x);
}

static void get_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f)
{
	struct get *x = (struct get *)c;

	/* DATA (nothing is expected: its credit goes back) and EOF are the pump's. */
	if (jg_apump_frame(x->pump, f))
		return;
	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_CLOSE:
		jg_log_debug("channel %u: GET of %s closed by the gateway", x->fc.ch, x->shown);
		get_free(x);
		return;
	case JG_FRAME_DATA:
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
	jg_apump_writable(((struct get *)c)->pump);
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
	struct jg_apump_opts o = {.fd = {-1, -1, -1}, .cb = get_on_pump};
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
	if ((payload = evbuffer_new()) == NULL ||
	    jg_agent_files_describe(&st, NULL, &p, payload) != 0 ||
	    (x = calloc(1, sizeof(*x))) == NULL || (x->shown = strdup(p.shown)) == NULL) {
		snprintf(reason, sizeof(reason), "GET %s: out of memory", p.shown);
		goto reject;
	}
	o.fd[JG_APUMP_OUT] = fd;
	o.ud = x;
	x->fc.chan.cbs = &get_cbs;
	x->fc.a = a;
	x->fc.ch = ch;
	if ((x->pump = jg_apump_new(&a->pumps, ch, &o)) == NULL) {
		snprintf(reason, sizeof(reason), "GET %s: out of memory", p.shown);
		goto reject;
	}
	fd = -1; /* the pump's now */
	jg_agent_files_track(&x->fc);
	if ((r = jg_agent_files_accept(a, ch, x, payload)) != 0) {
		jg_log_error("channel %u: cannot accept the GET of %s: %s", ch, p.shown,
			     jg_strerror(r));
		/* Accepted but without its spec (or not at all): end it rather than lie. */
		jg_link_send_dead(a->link, ch, "the agent could not answer the GET");
		get_free(x);
		goto out;
	}
	jg_apump_start(x->pump); /* may finish and free X */
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
