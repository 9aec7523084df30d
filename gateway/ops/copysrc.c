/* The source of a relayed copy (see copysrc.h): fileget.c's GET channel with the fan-out
 * as its consumer instead of an HTTP/2 response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/audit.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/copysrc.h"
#include "gateway/ops/files.h"
#include "gateway/gateway.h"
#include "gateway/onward/agentlink.h"
#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"

struct jg_copysrc {
	struct jg_pump pump; /* first: the link's channel user data points here */
	struct jg_gateway *gw;
	const struct jg_copysrc_cbs *cbs;
	void *owner;
	struct jg_admit *adm;	      /* the get's admission (owned) */
	const struct jg_chain *chain; /* adm's */
	struct jg_audit_op *audit;    /* adm's record, ended when the download ends */
	int over;		      /* on_end or on_fail was called */
	char target[256];
	char *path;
};

int jg_copysrc_split(const char *from, char **target, char **path, char *why, size_t len)
{
	const char *sep = strstr(from, ":/");

	*target = *path = NULL;
	if (sep == NULL || sep == from) {
		snprintf(why, len, "from=\"%.200s\": expected TARGET:/ABSOLUTE/PATH", from);
		return -1;
	}
	if ((*target = strndup(from, (size_t)(sep - from))) == NULL ||
	    (*path = strdup(sep + 1)) == NULL) {
		free(*target);
		*target = NULL;
		snprintf(why, len, "out of memory");
		return -1;
	}
	return 0;
}

/* The end, once: the audit record and the owner's hook. */
static void src_over(struct jg_copysrc *c, int status, const char *error, const char *reason)
{
	if (c->over)
		return;
	c->over = 1;
	if (c->audit != NULL) {
		c->audit->bytes_out = c->pump.down_bytes;
		jg_admit_end(c->adm, status == 0 ? "ok" : "failed", reason);
		c->audit = NULL;
	}
	if (status == 0) {
		c->cbs->on_end(c->owner);
		return;
	}
	jg_log_info("relayed copy from %s:%s failed after %llu bytes: %s", c->target, c->path,
		    (unsigned long long)c->pump.down_bytes, reason);
	c->cbs->on_fail(c->owner, status, error, reason);
}

static void src_opened(struct jg_copysrc *c, const struct jg_frame *f)
{
	struct jg_file_spec spec;
	char why[200], reason[300];

	if (jg_file_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "the agent's answer is malformed: %s", why);
		jg_pump_abandon(&c->pump);
		src_over(c, 502, "bad agent answer", reason);
		return;
	}
	if (spec.flags & JG_FILE_DIR) {
		jg_pump_abandon(&c->pump);
		snprintf(reason, sizeof(reason),
			 "%s on %s is a directory (relayed copies take files)", c->path, c->target);
		src_over(c, 409, "conflict", reason);
	} else {
		if (spec.path != NULL && c->audit != NULL)
			jg_audit_set_opened(c->audit, spec.path);
		jg_pump_down_open(&c->pump);
		c->cbs->on_open(c->owner, &spec);
	}
	jg_file_spec_clear(&spec);
}

/* Contract (jg_pump_cbs, raw mode): as fileget.c's get_frame. */
static void src_frame(void *ud, const struct jg_frame *f)
{
	struct jg_copysrc *c = ud;
	const char *error;
	char reason[400];
	int status;

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		src_opened(c, f);
		return;
	case JG_FRAME_OPEN_FAIL:
		snprintf(reason, sizeof(reason), "%s:%s: %.*s", c->target, c->path, (int)f->length,
			 (const char *)f->payload);
		/* Not in one call: the order arguments are evaluated in is unspecified. */
		status = jg_files_status(reason, 0, &error);
		src_over(c, status, error, reason);
		return;
	case JG_FRAME_EOF:
		return;
	case JG_FRAME_EXIT:
		if (f->aux != 0 || (f->flags & JG_EXIT_SIGNALED)) {
			snprintf(reason, sizeof(reason),
				 "the agent on %s ended the read of %s with %s %u", c->target,
				 c->path, (f->flags & JG_EXIT_SIGNALED) ? "signal" : "status",
				 f->aux);
			src_over(c, 500, "download failed", reason);
			return;
		}
		src_over(c, 0, NULL, "");
		return;
	case JG_FRAME_CLOSE:
		snprintf(reason, sizeof(reason), "the agent on %s abandoned the read of %s",
			 c->target, c->path);
		src_over(c, 502, "agent closed the channel", reason);
		return;
	default:
		return;
	}
}

static void src_dead(void *ud, const char *reason, int link_lost)
{
	struct jg_copysrc *c = ud;
	const char *error;
	int status = jg_files_status(reason, link_lost, &error);

	src_over(c, status, error, reason);
}

static const struct jg_pump_cbs src_pump_cbs = {
    .on_frame = src_frame,
    .on_dead = src_dead,
};

/* The pump's "stream" is the owner: no request body to credit, bytes to the hook. */
static void src_consume(void *s, size_t n)
{
	(void)s;
	(void)n;
}

static void src_append(void *s, struct evbuffer *buf)
{
	struct jg_copysrc *c = s;

	c->cbs->on_data(c->owner, buf);
}

static const struct jg_pump_stream_cbs src_stream_cbs = {
    .consume = src_consume,
    .append = src_append,
};

struct jg_copysrc *jg_copysrc_start(struct jg_gateway *gw, struct jg_stream *s, const char *target,
				    const char *path, const struct jg_copysrc_cbs *cbs, void *owner,
				    int *status, const char **error, char *why, size_t len)
{
	struct jg_file_spec spec = {0};
	struct evbuffer *payload = NULL;
	struct jg_onward *al;
	struct jg_copysrc *c;
	char reason[300];
	int64_t ch;
	int r;

	*status = 500;
	*error = "internal error";
	snprintf(why, len, "out of memory");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->gw = gw;
	c->cbs = cbs;
	c->owner = owner;
	snprintf(c->target, sizeof(c->target), "%s", target);
	if (jg_pump_init(&c->pump, &src_pump_cbs, c, &src_stream_cbs, c) != 0 ||
	    (payload = evbuffer_new()) == NULL ||
	    (c->adm = jg_admit_new(gw, s, "get", target, 0)) == NULL)
		goto fail;
	if (jg_files_normalise(path, 0, &c->path, why, len) != 0) {
		*status = 400;
		*error = "bad path";
		goto fail;
	}
	if (!jg_files_admit(c->adm, s, NULL, c->path, 0, &spec, why, len)) {
		*status = 403;
		*error = "forbidden";
		goto fail;
	}
	c->audit = c->adm->audit;
	if ((c->chain = c->adm->chain) == NULL) {
		r = c->adm->resolve_err;
		snprintf(why, len, "%s", c->adm->resolve_why);
		*status = r == JG_ERR_NOMEM ? 500 : 400;
		*error = "bad target";
		goto fail;
	}
	if (!jg_files_chain_usable(c->chain, why, len)) {
		*status = 501;
		*error = "not supported";
		goto fail;
	}
	spec.path = c->path;
	if (jg_file_spec_encode(&spec, payload) != 0) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	if ((al = jg_onward_get(gw, c->chain, reason, sizeof(reason))) == NULL) {
		snprintf(why, len, "cannot start a connection to %s: %s", c->chain->display,
			 reason);
		*status = 502;
		*error = "target unavailable";
		goto fail;
	}
	ch = jg_onward_open(al, JG_OPEN_GET, evbuffer_pullup(payload, -1),
			    evbuffer_get_length(payload), jg_pump_chan(&c->pump));
	if (ch <= 0) {
		snprintf(why, len, "cannot open a channel to %s: %s", c->chain->display,
			 jg_strerror((int)ch));
		*status = 502;
		*error = "agent unavailable";
		goto fail;
	}
	jg_pump_attach(&c->pump, jg_onward_link(al), (uint32_t)ch, 0);
	free(spec.rules);
	evbuffer_free(payload);
	return c;
fail:
	free(spec.rules);
	if (payload != NULL)
		evbuffer_free(payload);
	jg_admit_end(c->adm, "failed", why);
	c->audit = NULL;
	c->over = 1;
	jg_copysrc_free(c);
	return NULL;
}

void jg_copysrc_consumed(struct jg_copysrc *c, size_t n)
{
	jg_pump_sent(&c->pump, n);
}

unsigned long long jg_copysrc_bytes(const struct jg_copysrc *c)
{
	return (unsigned long long)c->pump.down_bytes;
}

void jg_copysrc_free(struct jg_copysrc *c)
{
	if (c == NULL)
		return;
	if (c->audit != NULL)
		c->audit->bytes_out = c->pump.down_bytes;
	jg_pump_clear(&c->pump);
	jg_admit_close(c->adm, "failed", "the relayed copy was abandoned");
	free(c->path);
	free(c);
}
