/* Tunnel and file specs (relay/opspec.h): the field layer of relay/spec.c with
 * the tags 6..17.  Every string is copied out of the payload. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/opspec.h"
#include "relay/pathrule.h"
#include "relay/spec.h"
#include "relay/wire.h"

__attribute__((format(printf, 3, 4))) static int why(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return JG_ERR_PROTO;
}

static int put_text(struct evbuffer *out, uint8_t tag, const char *s)
{
	return s == NULL ? 0 : jg_spec_put_field(out, tag, s, strlen(s));
}

static int put_u32(struct evbuffer *out, uint8_t tag, uint32_t v)
{
	uint8_t b[4];

	jg_put_u32(b, v);
	return jg_spec_put_field(out, tag, b, sizeof(b));
}

static int put_u64(struct evbuffer *out, uint8_t tag, uint64_t v)
{
	uint8_t b[8];

	jg_put_u32(b, (uint32_t)(v >> 32));
	jg_put_u32(b + 4, (uint32_t)v);
	return jg_spec_put_field(out, tag, b, sizeof(b));
}

static int take_text(const uint8_t *v, size_t len, char **out, uint8_t tag, char *err,
		     size_t errlen)
{
	if (memchr(v, '\0', len) != NULL)
		return why(err, errlen, "%s field: contains a NUL byte", jg_spec_tag_name(tag));
	if ((*out = malloc(len + 1)) == NULL)
		return JG_ERR_NOMEM;
	memcpy(*out, v, len);
	(*out)[len] = '\0';
	return 0;
}

static int want_len(uint8_t tag, size_t len, size_t want, char *err, size_t errlen)
{
	if (len != want)
		return why(err, errlen, "%s field: length %zu, expected %zu", jg_spec_tag_name(tag),
			   len, want);
	return 0;
}

static uint64_t get_u64(const uint8_t *v)
{
	return (uint64_t)jg_get_u32(v) << 32 | jg_get_u32(v + 4);
}

/* ---- tunnel ---- */

int jg_tunnel_spec_encode(const struct jg_tunnel_spec *spec, struct evbuffer *out)
{
	uint8_t port[2];
	int r;

	if (spec->host == NULL || spec->host[0] == '\0' || spec->port == 0)
		return JG_ERR_INVAL;
	jg_put_u16(port, spec->port);
	if ((r = put_text(out, JG_SPEC_HOST, spec->host)) != 0)
		return r;
	return jg_spec_put_field(out, JG_SPEC_PORT, port, sizeof(port));
}

static int tunnel_field(uint8_t tag, const uint8_t *v, size_t len, void *ctx, char *err,
			size_t errlen)
{
	struct jg_tunnel_spec *t = ctx;
	int r;

	switch (tag) {
	case JG_SPEC_HOST:
		if (len == 0)
			return why(err, errlen, "HOST field: empty");
		return take_text(v, len, &t->host, tag, err, errlen);
	case JG_SPEC_PORT:
		if ((r = want_len(tag, len, 2, err, errlen)) != 0)
			return r;
		t->port = jg_get_u16(v);
		return t->port == 0 ? why(err, errlen, "PORT field: port 0") : 0;
	}
	return why(err, errlen, "%s field: not valid in a tunnel spec", jg_spec_tag_name(tag));
}

int jg_tunnel_spec_decode(const uint8_t *p, size_t len, struct jg_tunnel_spec *spec, char *err,
			  size_t errlen)
{
	int r;

	memset(spec, 0, sizeof(*spec));
	r = jg_spec_walk(p, len, JG_SPEC_HOST, JG_SPEC_TAG_MAX, tunnel_field, spec, err, errlen);
	if (r == 0 && (spec->host == NULL || spec->port == 0))
		r = why(err, errlen, "tunnel spec needs HOST and PORT");
	if (r == JG_ERR_NOMEM)
		why(err, errlen, "out of memory decoding the spec");
	if (r != 0)
		jg_tunnel_spec_clear(spec);
	return r;
}

void jg_tunnel_spec_clear(struct jg_tunnel_spec *spec)
{
	free(spec->host);
	memset(spec, 0, sizeof(*spec));
}

/* ---- files ---- */

int jg_file_spec_encode(const struct jg_file_spec *s, struct evbuffer *out)
{
	uint32_t flags = s->flags & JG_FILE_KNOWN_FLAGS;
	int r;

	if ((s->flags & JG_FILE_SYMLINK) && s->link == NULL)
		return JG_ERR_INVAL;
	if ((r = put_text(out, JG_SPEC_PATH, s->path)) != 0 ||
	    (r = put_text(out, JG_SPEC_ROOT, s->root)) != 0 ||
	    (r = put_u32(out, JG_SPEC_FLAGS, flags)) != 0)
		return r;
	if ((flags & JG_FILE_HAS_MODE) && (r = put_u32(out, JG_SPEC_MODE, s->mode & 07777)) != 0)
		return r;
	if ((r = put_text(out, JG_SPEC_OWNER, s->owner)) != 0 ||
	    (r = put_text(out, JG_SPEC_GROUP, s->group)) != 0 ||
	    (r = put_text(out, JG_SPEC_LINK, s->link)) != 0)
		return r;
	if ((flags & JG_FILE_HAS_MTIME) &&
	    (r = put_u64(out, JG_SPEC_MTIME, (uint64_t)s->mtime)) != 0)
		return r;
	if ((flags & JG_FILE_HAS_SHA256) &&
	    (r = jg_spec_put_field(out, JG_SPEC_SHA256, s->sha256, sizeof(s->sha256))) != 0)
		return r;
	if ((flags & JG_FILE_HAS_SIZE) && (r = put_u64(out, JG_SPEC_SIZE, s->size)) != 0)
		return r;
	if (s->rules != NULL &&
	    (r = jg_spec_put_field(out, JG_SPEC_RULES, s->rules, s->rules_len)) != 0)
		return r;
	return 0;
}

static int file_field(uint8_t tag, const uint8_t *v, size_t len, void *ctx, char *err,
		      size_t errlen)
{
	struct jg_file_spec *s = ctx;
	int r;

	switch (tag) {
	case JG_SPEC_PATH:
		return take_text(v, len, &s->path, tag, err, errlen);
	case JG_SPEC_ROOT:
		return take_text(v, len, &s->root, tag, err, errlen);
	case JG_SPEC_OWNER:
		return take_text(v, len, &s->owner, tag, err, errlen);
	case JG_SPEC_GROUP:
		return take_text(v, len, &s->group, tag, err, errlen);
	case JG_SPEC_LINK:
		return take_text(v, len, &s->link, tag, err, errlen);
	case JG_SPEC_FLAGS:
		if ((r = want_len(tag, len, 4, err, errlen)) != 0)
			return r;
		/* HAS_* bits follow the fields actually present, not the sender's claim. */
		s->flags |= jg_get_u32(v) & (JG_FILE_MKDIRS | JG_FILE_DIR | JG_FILE_SYMLINK);
		if (jg_get_u32(v) & ~JG_FILE_KNOWN_FLAGS)
			return why(err, errlen, "FLAGS field: unknown bits 0x%x",
				   jg_get_u32(v) & ~JG_FILE_KNOWN_FLAGS);
		return 0;
	case JG_SPEC_MODE:
		if ((r = want_len(tag, len, 4, err, errlen)) != 0)
			return r;
		if (jg_get_u32(v) & ~07777u)
			return why(err, errlen, "MODE field: 0%o has bits beyond 07777",
				   jg_get_u32(v));
		s->mode = jg_get_u32(v);
		s->flags |= JG_FILE_HAS_MODE;
		return 0;
	case JG_SPEC_MTIME:
		if ((r = want_len(tag, len, 8, err, errlen)) != 0)
			return r;
		s->mtime = (int64_t)get_u64(v);
		s->flags |= JG_FILE_HAS_MTIME;
		return 0;
	case JG_SPEC_SHA256:
		if ((r = want_len(tag, len, 32, err, errlen)) != 0)
			return r;
		memcpy(s->sha256, v, 32);
		s->flags |= JG_FILE_HAS_SHA256;
		return 0;
	case JG_SPEC_SIZE:
		if ((r = want_len(tag, len, 8, err, errlen)) != 0)
			return r;
		s->size = get_u64(v);
		s->flags |= JG_FILE_HAS_SIZE;
		return 0;
	case JG_SPEC_RULES:
		if ((r = jg_pathrule_valid((const char *)v, len, err, errlen)) != 0)
			return r;
		if ((s->rules = malloc(len)) == NULL)
			return JG_ERR_NOMEM;
		memcpy(s->rules, v, len);
		s->rules_len = len;
		return 0;
	}
	return why(err, errlen, "%s field: not valid in a file spec", jg_spec_tag_name(tag));
}

int jg_file_spec_decode(const uint8_t *p, size_t len, struct jg_file_spec *spec, char *err,
			size_t errlen)
{
	int r;

	memset(spec, 0, sizeof(*spec));
	r = jg_spec_walk(p, len, JG_SPEC_HOST, JG_SPEC_TAG_MAX, file_field, spec, err, errlen);
	if (r == 0 && (spec->flags & JG_FILE_SYMLINK) && spec->link == NULL)
		r = why(err, errlen, "SYMLINK flag without a LINK field");
	if (r == JG_ERR_NOMEM)
		why(err, errlen, "out of memory decoding the spec");
	if (r != 0)
		jg_file_spec_clear(spec);
	return r;
}

void jg_file_spec_clear(struct jg_file_spec *s)
{
	free(s->path);
	free(s->root);
	free(s->owner);
	free(s->group);
	free(s->link);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}
