/* PUT and GET /v1/targets/{t}/files/{path}: entry point, the rules shared by
 * every file operation (path normalisation, the x-jumpgate-* request headers,
 * the per-path policy hook, failure reasons to HTTP statuses), and the
 * single-target PUT.  GET is in fileget.c, the PUT channel in fileput.c, the
 * fan-out in fanout.c.
 *
 * PUT flow control: request-body bytes wait in `body` until the PUT channel's
 * window takes them, and only then is their HTTP/2 credit given back
 * (jg_stream_consume), so `body` never holds more than the stream window and
 * a slow target slows its own upload only. */
#include "config.h" /* _GNU_SOURCE: strcasestr */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth/audit.h"
#include "auth/policy.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/files.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "relay/log.h"
#include "relay/opspec.h"

/* ---- paths --------------------------------------------------------------- */

int jg_files_normalise(const char *path, int root_rel, char **out, char *why, size_t len)
{
	size_t n = strlen(path), w = 0;
	const char *p = path;
	char *o;

	*out = NULL;
	if (path[0] != '/') {
		snprintf(why, len, "the path must be absolute");
		return -1;
	}
	if (n >= PATH_MAX) {
		snprintf(why, len, "the path is longer than %d bytes", PATH_MAX - 1);
		return -1;
	}
	if ((o = malloc(n + 2)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	while (*p != '\0') {
		size_t seg;

		p += strspn(p, "/");
		if ((seg = strcspn(p, "/")) == 0)
			break;
		if (seg == 1 && p[0] == '.') {
			p++;
			continue;
		}
		/* Refused even where it would stay inside ("/a/../b"): the gateway does not
		 * know the target's symlinks, so ".." cannot be resolved here safely, and a
		 * client has no need to send it. */
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			snprintf(why, len, "path escapes: \"..\" components are not allowed");
			free(o);
			return -1;
		}
		o[w++] = '/';
		memcpy(o + w, p, seg);
		w += seg;
		p += seg;
	}
	if (w == 0)
		o[w++] = '/';
	o[w] = '\0';
	if (root_rel) {
		/* Beneath x-jumpgate-root: "/a/b" -> "a/b", and the root itself -> ".". */
		if (w == 1)
			strcpy(o, ".");
		else
			memmove(o, o + 1, w);
	}
	*out = o;
	return 0;
}

/* ROOT (normalised, absolute) joined to PATH (normalised, relative: "." is ROOT itself). */
static char *files_join(const char *root, const char *path)
{
	char *out;

	if (strcmp(path, ".") == 0)
		return strdup(root);
	if (asprintf(&out, "%s%s%s", root, strcmp(root, "/") == 0 ? "" : "/", path) < 0)
		return NULL;
	return out;
}

/* Policy for paths: every file operation passes through here after the path is
 * normalised and before anything reaches a target.  The path judged (and audited) is
 * the absolute one: ROOT joined to PATH.  A target that did not resolve is matched by
 * name and refused later as a bad target. */
int jg_files_admit(struct jg_admit *adm, struct jg_stream *s, const char *root, const char *path,
		   unsigned mode, struct jg_file_spec *rules_to, char *why, size_t len)
{
	/* The record keeps x-jumpgate-root too (the path it holds is ROOT joined to PATH). */
	struct jg_admit_ask ask = {.root = jg_stream_header(s, "x-jumpgate-root"),
				   .setid = mode & 07000,
				   .rules_to = rules_to};
	char *full = root != NULL ? files_join(root, path) : NULL;
	int ok;

	if (root != NULL && full == NULL) {
		snprintf(why, len, "out of memory");
		return 0;
	}
	/* Policy judges agent forwarding with the rest (x-jumpgate-agent, agentfwd.h). */
	if (jg_admit_agent(adm, s, why, len) != 0) {
		free(full);
		return 0;
	}
	ask.path = full != NULL ? full : path;
	ok = jg_admit_decide(adm, s, &ask);
	if (!ok)
		snprintf(why, len, "%s", adm->reason);
	free(full);
	return ok;
}

int jg_files_chain_usable(const struct jg_chain *chain, char *why, size_t len)
{
	const struct jg_hop *h = chain->nhops > 0 ? &chain->hops[0] : NULL;

	if (h != NULL && h->method == JG_METHOD_SSH && h->ssh.raw) {
		snprintf(why, len, "%s has raw = true: file transfers need the agent",
			 chain->display);
		return 0;
	}
	if (h != NULL && h->method == JG_METHOD_TUNNEL) {
		snprintf(why, len, "%s is a tunnel target: it carries tunnels only",
			 chain->display);
		return 0;
	}
	return 1;
}

/* ---- failure reasons ----------------------------------------------------- */

/* Agent reasons are strerror(3) texts with context ("cannot create /srv/x: No space left on
 * device"), so a substring picks the status.  First match wins; the order puts the
 * specific before the general. */
static const struct {
	const char *needle;
	int status;
	const char *error;
} status_map[] = {
    {"sha256", 409, "checksum mismatch"},
    {"no space", 507, "insufficient storage"},
    {"quota", 507, "insufficient storage"},
    {"file too large", 507, "insufficient storage"},
    {"permission denied", 403, "permission denied"},
    {"not permitted", 403, "permission denied"},
    {"read-only file system", 403, "permission denied"},
    {"no such file", 404, "not found"},
    {"not found", 404, "not found"},
    {"does not exist", 404, "not found"},
    {"escapes", 400, "path escapes"},
    {"symbolic link", 403, "forbidden"},
    {"refusing", 403, "forbidden"},
    {"not supported", 501, "not supported"},
    {"is a directory", 409, "conflict"},
    {"not a directory", 409, "conflict"},
    {"exists", 409, "conflict"},
    {"not empty", 409, "conflict"},
};

int jg_files_status(const char *reason, int link_lost, const char **error)
{
	/* A lost link's reason can hold any of the words above ("Permission denied
	 * (publickey)" from ssh): the target is unreachable, whatever it says. */
	if (link_lost) {
		*error = "target unreachable";
		return 502;
	}
	for (size_t i = 0; i < sizeof(status_map) / sizeof(status_map[0]); i++) {
		if (strcasestr(reason, status_map[i].needle) != NULL) {
			*error = status_map[i].error;
			return status_map[i].status;
		}
	}
	*error = "file operation failed";
	return 500;
}

/* ---- request headers ----------------------------------------------------- */

/* A user or group name (or a numeric id) as the agent will look it up. */
static int good_account(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 || v[0] == '-')
		return 0;
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '_' || *v == '.' || *v == '-' || *v == '$'))
			return 0;
	return 1;
}

static int parse_mode(const char *v, uint32_t *mode)
{
	uint32_t m = 0;

	if (v[0] == '\0' || strlen(v) > 6)
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '7')
			return -1;
		m = m * 8 + (uint32_t)(*v - '0');
	}
	if (m > 07777)
		return -1;
	*mode = m;
	return 0;
}

static int parse_mtime(const char *v, int64_t *out)
{
	int neg = *v == '-';
	int64_t t = 0;

	if (neg)
		v++;
	if (*v == '\0' || strlen(v) > 18)
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		t = t * 10 + (*v - '0');
	}
	*out = neg ? -t : t;
	return 0;
}

static int parse_sha256(const char *v, uint8_t out[32])
{
	if (strlen(v) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1 ||
		    !strchr("0123456789abcdefABCDEF", v[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", v[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

unsigned jg_put_req_setid(const struct jg_put_req *req)
{
	return req->spec.flags & JG_FILE_HAS_MODE ? req->spec.mode & 07000 : 0;
}

void jg_put_req_clear(struct jg_put_req *req)
{
	jg_file_spec_clear(&req->spec);
	memset(req, 0, sizeof(*req));
}

int jg_put_req_parse(struct jg_stream *s, struct jg_put_req *req, char *why, size_t len)
{
	struct jg_file_spec *sp = &req->spec;
	const char *v, *kind = jg_stream_header(s, "x-jumpgate-kind");
	int b;

	memset(req, 0, sizeof(*req));
	req->kind_file = 1;
	if (kind != NULL && strcmp(kind, "dir") == 0) {
		sp->flags |= JG_FILE_DIR;
		req->kind_file = 0;
	} else if (kind != NULL && strcmp(kind, "symlink") == 0) {
		sp->flags |= JG_FILE_SYMLINK;
		req->kind_file = 0;
	} else if (kind != NULL && strcmp(kind, "file") != 0) {
		snprintf(why, len, "x-jumpgate-kind: \"%.40s\" is not file, dir or symlink", kind);
		goto bad;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-link")) != NULL) {
		if (!(sp->flags & JG_FILE_SYMLINK) || v[0] == '\0' || strlen(v) >= PATH_MAX) {
			snprintf(why, len,
				 "x-jumpgate-link: only with x-jumpgate-kind: symlink, "
				 "and not empty");
			goto bad;
		}
		if ((sp->link = strdup(v)) == NULL)
			goto nomem;
	} else if (sp->flags & JG_FILE_SYMLINK) {
		snprintf(why, len, "x-jumpgate-kind: symlink needs x-jumpgate-link");
		goto bad;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-mode")) != NULL) {
		if (parse_mode(v, &sp->mode) != 0) {
			snprintf(why, len, "x-jumpgate-mode: \"%.40s\" is not octal 0-7777", v);
			goto bad;
		}
		sp->flags |= JG_FILE_HAS_MODE;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-owner")) != NULL) {
		if (!good_account(v) || (sp->owner = strdup(v)) == NULL) {
			snprintf(why, len, "x-jumpgate-owner: \"%.64s\" is not a user name or uid",
				 v);
			goto bad;
		}
	}
	if ((v = jg_stream_header(s, "x-jumpgate-group")) != NULL) {
		if (!good_account(v) || (sp->group = strdup(v)) == NULL) {
			snprintf(why, len, "x-jumpgate-group: \"%.64s\" is not a group name or gid",
				 v);
			goto bad;
		}
	}
	if ((v = jg_stream_header(s, "x-jumpgate-mtime")) != NULL) {
		if (parse_mtime(v, &sp->mtime) != 0) {
			snprintf(why, len, "x-jumpgate-mtime: \"%.40s\" is not seconds since 1970",
				 v);
			goto bad;
		}
		sp->flags |= JG_FILE_HAS_MTIME;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-sha256")) != NULL) {
		if (!req->kind_file || parse_sha256(v, sp->sha256) != 0) {
			snprintf(why, len, "x-jumpgate-sha256: expected 64 hex digits, on a file");
			goto bad;
		}
		sp->flags |= JG_FILE_HAS_SHA256;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-mkdirs")) != NULL) {
		if (parse_bool(v, &b) != 0) {
			snprintf(why, len, "x-jumpgate-mkdirs: \"%.40s\" is not 1 or 0", v);
			goto bad;
		}
		if (b)
			sp->flags |= JG_FILE_MKDIRS;
	}
	if ((v = jg_stream_header(s, "x-jumpgate-root")) != NULL) {
		char reason[200];

		if (jg_files_normalise(v, 0, &sp->root, reason, sizeof(reason)) != 0) {
			snprintf(why, len, "x-jumpgate-root: %s", reason);
			goto bad;
		}
	}
	return 0;
nomem:
	snprintf(why, len, "out of memory");
bad:
	jg_put_req_clear(req);
	return -1;
}

/* ---- PUT on one target --------------------------------------------------- */

struct jg_put {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	struct jg_put_req req;	  /* the spec; a dir or symlink opens only at END_STREAM */
	struct jg_fput *fput;	  /* NULL until the channel is opened */
	struct evbuffer *body;	  /* received, not yet taken by the channel */
	int body_end;		  /* END_STREAM from the client */
	int body_seen;		  /* dir or symlink: a body came, which they do not take */
	int answered;
	char target[256];
	char *path;		   /* normalised, as sent to the agent */
	struct jg_admit *adm;	   /* its admission (owned) */
	struct jg_audit_op *audit; /* adm's record, ended with the answer */
};

static struct jg_put *op_put(struct jg_op *op)
{
	return (struct jg_put *)((char *)op - offsetof(struct jg_put, op));
}

static void put_free(struct jg_put *x)
{
	jg_fput_free(x->fput);
	jg_admit_close(x->adm, "failed", "the upload ended without an answer");
	jg_put_req_clear(&x->req);
	if (x->body != NULL)
		evbuffer_free(x->body);
	free(x->path);
	free(x);
}

/* The answer, once: JSON from the agent's result, or the error. */
static void put_answer(struct jg_put *x, const struct jg_fput_result *res)
{
	json_t *o;
	char *text;

	if (x->answered || x->stream == NULL)
		return;
	x->answered = 1;
	if (x->audit != NULL)
		x->audit->bytes_in = res->size;
	if (x->audit != NULL && res->opened[0] != '\0')
		jg_audit_set_opened(x->audit, res->opened); /* no memory: the record goes without */
	jg_admit_end(x->adm, res->ok ? "ok" : "failed", res->ok ? "" : res->reason);
	x->audit = NULL;
	if (!res->ok) {
		jg_log_info("put %s on %s by %s failed: %s", x->path, x->target,
			    jg_stream_identity(x->stream), res->reason);
		jg_stream_reply_error(x->stream, res->status, res->error, res->reason);
		return;
	}
	o = json_pack("{s:s, s:s, s:s, s:I}", "target", x->target, "path", x->path, "sha256",
		      res->sha256, "size", (json_int_t)res->size);
	if (o != NULL && x->req.spec.root != NULL)
		json_object_set_new(o, "root", json_string(x->req.spec.root));
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL) {
		jg_stream_reply_error(x->stream, 500, "internal error", "out of memory");
	} else {
		jg_log_info("put %s on %s by %s: %llu bytes", x->path, x->target,
			    jg_stream_identity(x->stream), (unsigned long long)res->size);
		jg_stream_reply(x->stream, 200, "application/json", text, strlen(text));
	}
	free(text);
	json_decref(o);
}

static void put_answer_error(struct jg_put *x, int status, const char *error, const char *reason)
{
	struct jg_fput_result res = {.status = status, .error = error};

	snprintf(res.reason, sizeof(res.reason), "%s", reason);
	if (x->fput != NULL)
		jg_fput_abort(x->fput);
	put_answer(x, &res);
}

/* Offer the buffered body to the channel as far as its window goes; credit HTTP/2 for what
 * it took; EOF once the body has ended and all of it went. */
static void put_pump(struct jg_put *x)
{
	struct evbuffer_iovec v;
	size_t win, n;

	if (x->fput == NULL || jg_fput_done(x->fput))
		return;
	while (evbuffer_peek(x->body, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		if ((win = jg_fput_window(x->fput)) == 0)
			return;
		n = jg_fput_send(x->fput, v.iov_base, v.iov_len < win ? v.iov_len : win);
		if (n == 0)
			return;
		evbuffer_drain(x->body, n);
		if (x->stream != NULL)
			jg_stream_consume(x->stream, n);
	}
	if (x->body_end)
		jg_fput_eof(x->fput);
}

static const struct jg_fput_cbs put_fput_cbs;

/* Open the channel.  A failure found at once (bad target, no connection) is answered. */
static void put_open(struct jg_put *x)
{
	x->fput = jg_fput_start(x->gw, x->stream, x->adm, x->path, &x->req.spec, &put_fput_cbs, x);
	if (x->fput == NULL)
		put_answer_error(x, 500, "internal error", "out of memory");
	else if (jg_fput_done(x->fput))
		put_answer(x, jg_fput_result(x->fput));
}

/* Contract (jg_op_cbs.on_body): request bytes, borrowed; credit is ours to give back. */
static void put_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_put *x = op_put(op);

	if (x->answered || !x->req.kind_file || jg_fput_done(x->fput)) {
		/* Answered already, or a dir/symlink (judged at END_STREAM): dropped. */
		x->body_seen = 1;
		jg_stream_consume(x->stream, len);
		return;
	}
	if (evbuffer_add(x->body, data, len) != 0) {
		jg_stream_consume(x->stream, len);
		put_answer_error(x, 500, "internal error", "out of memory");
		return;
	}
	put_pump(x);
}

/* Contract: END_STREAM.  A file's EOF follows its last byte; a dir or symlink opens now,
 * once it is known that no body came with it (so the answer never depends on timing). */
static void put_on_body_end(struct jg_op *op)
{
	struct jg_put *x = op_put(op);

	x->body_end = 1;
	if (x->req.kind_file) {
		put_pump(x);
	} else if (!x->answered && x->body_seen) {
		put_answer_error(x, 400, "bad request",
				 "a directory or symlink PUT takes no request body");
	} else if (!x->answered) {
		put_open(x);
		if (x->fput != NULL)
			jg_fput_eof(x->fput);
	}
}

/* Contract: the stream is gone; an unfinished PUT is abandoned (CLOSE: nothing replaced). */
static void put_on_close(struct jg_op *op, const char *why)
{
	struct jg_put *x = op_put(op);

	if (!x->answered)
		jg_log_info("put %s on %s: the client went away (%s); upload abandoned", x->path,
			    x->target, why);
	x->stream = NULL;
	put_free(x);
}

static const struct jg_op_cbs put_op_cbs = {
    .on_body = put_on_body,
    .on_body_end = put_on_body_end,
    .on_close = put_on_close,
};

/* Contract (jg_fput_cbs): from the event loop, never from inside jg_fput_start. */
static void put_fput_writable(void *owner, struct jg_fput *p)
{
	(void)p;
	put_pump(owner);
}

static void put_fput_done(void *owner, struct jg_fput *p)
{
	put_answer(owner, jg_fput_result(p));
}

static const struct jg_fput_cbs put_fput_cbs = {
    .on_writable = put_fput_writable,
    .on_done = put_fput_done,
};

static struct jg_op *put_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
			       const char *path)
{
	struct jg_put *x;
	char why[400];

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		jg_admit_close(adm, "failed", "");
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	x->adm = adm;
	if ((x->body = evbuffer_new()) == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		goto fail;
	}
	if (jg_put_req_parse(s, &x->req, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad request", why);
		goto fail;
	}
	if (jg_files_normalise(path, x->req.spec.root != NULL, &x->path, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad path", why);
		goto fail;
	}
	x->gw = gw;
	if (!jg_files_admit(adm, s, x->req.spec.root, x->path, jg_put_req_setid(&x->req),
			    &x->req.spec, why, sizeof(why))) {
		jg_stream_reply_error(s, 403, "forbidden", why);
		goto fail;
	}
	x->audit = adm->audit;
	x->op.cbs = &put_op_cbs;
	x->stream = s;
	snprintf(x->target, sizeof(x->target), "%s", adm->typed);
	if (!x->req.kind_file)
		return &x->op; /* opened at END_STREAM */
	put_open(x);
	if (x->answered)
		goto fail;
	return &x->op;
fail:
	if (x != NULL)
		put_free(x);
	return NULL;
}

struct jg_op *jg_files_start(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			     struct jg_admit *adm, const char *path, const char *query)
{
	(void)query;
	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
	} else if (strcmp(method, "PUT") == 0) {
		return put_start(gw, s, adm, path);
	} else if (strcmp(method, "GET") == 0) {
		return jg_fget_start(gw, s, adm, path);
	} else {
		jg_stream_reply_error(s, 405, "method not allowed", "files take PUT or GET");
	}
	jg_admit_close(adm, "failed", "");
	return NULL;
}
