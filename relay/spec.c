/* OPEN exec specs (see spec.h and docs/protocol.md).
 *
 * Decoding copies every string out of the payload: the payload belongs to the
 * frame decoder and dies with the next frame, the spec lives until the
 * program has been spawned. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/spec.h"
#include "relay/wire.h"

#define FIELD_HEADER_LEN 5u
#define PTY_LEN 4u
#define TAG_MAX JG_SPEC_TERM

static const char *const tag_names[] = {
    "?",     "ARGV",  "ENV",   "CWD",	 "PTY",	  "TERM", "HOST", "PORT", "PATH", "MODE",
    "OWNER", "GROUP", "MTIME", "SHA256", "FLAGS", "LINK", "SIZE", "ROOT", "RULES"};

const char *jg_spec_tag_name(unsigned tag)
{
	return tag < sizeof(tag_names) / sizeof(tag_names[0]) ? tag_names[tag] : "?";
}

/* ---- encoding ---- */

static size_t strings_len(char *const *v, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	return len;
}

int jg_spec_put_field(struct evbuffer *out, uint8_t tag, const void *v, size_t len)
{
	uint8_t h[FIELD_HEADER_LEN];

	h[0] = tag;
	jg_put_u32(h + 1, (uint32_t)len);
	if (evbuffer_add(out, h, sizeof(h)) != 0 || (len > 0 && evbuffer_add(out, v, len) != 0))
		return JG_ERR_NOMEM;
	return 0;
}

static int put_field_header(struct evbuffer *out, uint8_t tag, size_t len)
{
	uint8_t h[FIELD_HEADER_LEN];

	h[0] = tag;
	jg_put_u32(h + 1, (uint32_t)len);
	return evbuffer_add(out, h, sizeof(h)) == 0 ? 0 : JG_ERR_NOMEM;
}

static int put_strings(struct evbuffer *out, uint8_t tag, char *const *v, size_t n)
{
	int r;

	if ((r = put_field_header(out, tag, strings_len(v, n))) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (evbuffer_add(out, v[i], strlen(v[i]) + 1) != 0)
			return JG_ERR_NOMEM;
	return 0;
}

static int put_bytes(struct evbuffer *out, uint8_t tag, const char *s)
{
	size_t len = strlen(s);
	int r;

	if ((r = put_field_header(out, tag, len)) != 0)
		return r;
	return evbuffer_add(out, s, len) == 0 ? 0 : JG_ERR_NOMEM;
}

/* Size of the encoding, or 0 when SPEC cannot be encoded at all. */
static size_t encoded_len(const struct jg_exec_spec *spec)
{
	size_t len = FIELD_HEADER_LEN + strings_len(spec->argv, spec->argc);

	if (spec->env != NULL)
		len += FIELD_HEADER_LEN + strings_len(spec->env, spec->envc);
	if (spec->cwd != NULL)
		len += FIELD_HEADER_LEN + strlen(spec->cwd);
	if (spec->pty)
		len += FIELD_HEADER_LEN + PTY_LEN;
	if (spec->term != NULL)
		len += FIELD_HEADER_LEN + strlen(spec->term);
	return len;
}

int jg_exec_spec_encode(const struct jg_exec_spec *spec, struct evbuffer *out)
{
	uint8_t pty[PTY_LEN];
	struct evbuffer *tmp = NULL;
	size_t len;
	int r;

	if (spec->argc < 1 || spec->argv == NULL)
		return JG_ERR_INVAL;
	for (size_t i = 0; i < spec->envc && spec->env != NULL; i++)
		if (strchr(spec->env[i], '=') == NULL)
			return JG_ERR_INVAL;
	if ((len = encoded_len(spec)) > JG_FRAME_MAX_PAYLOAD)
		return JG_ERR_TOOBIG;
	/* Build aside and move in whole: OUT never holds half a spec. */
	if ((tmp = evbuffer_new()) == NULL)
		return JG_ERR_NOMEM;
	if ((r = put_strings(tmp, JG_SPEC_ARGV, spec->argv, spec->argc)) != 0)
		goto out;
	if (spec->env != NULL && (r = put_strings(tmp, JG_SPEC_ENV, spec->env, spec->envc)) != 0)
		goto out;
	if (spec->cwd != NULL && (r = put_bytes(tmp, JG_SPEC_CWD, spec->cwd)) != 0)
		goto out;
	if (spec->pty) {
		jg_put_u16(pty, spec->rows);
		jg_put_u16(pty + 2, spec->cols);
		if ((r = put_field_header(tmp, JG_SPEC_PTY, PTY_LEN)) != 0)
			goto out;
		if (evbuffer_add(tmp, pty, PTY_LEN) != 0) {
			r = JG_ERR_NOMEM;
			goto out;
		}
	}
	if (spec->term != NULL && (r = put_bytes(tmp, JG_SPEC_TERM, spec->term)) != 0)
		goto out;
	r = evbuffer_add_buffer(out, tmp) == 0 ? 0 : JG_ERR_NOMEM;
out:
	evbuffer_free(tmp);
	return r;
}

/* ---- decoding ---- */

__attribute__((format(printf, 3, 4))) static int reason(char *err, size_t errlen, const char *fmt,
							...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return JG_ERR_PROTO;
}

/* Split a field of NUL-terminated strings into a NULL-terminated vector of copies. */
static int take_strings(const uint8_t *v, size_t len, char ***out, size_t *count, int need_eq,
			const char *name, char *err, size_t errlen)
{
	size_t n = 0, i, start;
	char **vec;

	if (len > 0 && v[len - 1] != '\0')
		return reason(err, errlen, "%s field: last string not NUL-terminated", name);
	for (i = 0; i < len; i++)
		n += v[i] == '\0';
	if ((vec = calloc(n + 1, sizeof(*vec))) == NULL)
		return JG_ERR_NOMEM;
	*out = vec;
	*count = 0;
	for (i = 0, start = 0; i < n; i++) {
		const char *s = (const char *)v + start;
		size_t slen = strlen(s);

		if (need_eq && strchr(s, '=') == NULL)
			return reason(err, errlen, "%s field: string %zu has no '='", name, i);
		if ((vec[i] = malloc(slen + 1)) == NULL)
			return JG_ERR_NOMEM;
		memcpy(vec[i], s, slen + 1);
		*count = i + 1;
		start += slen + 1;
	}
	return 0;
}

/* A byte string field that is used as a C string: a NUL inside would silently cut it. */
static int take_text(const uint8_t *v, size_t len, char **out, const char *name, char *err,
		     size_t errlen)
{
	if (memchr(v, '\0', len) != NULL)
		return reason(err, errlen, "%s field: contains a NUL byte", name);
	if ((*out = malloc(len + 1)) == NULL)
		return JG_ERR_NOMEM;
	memcpy(*out, v, len);
	(*out)[len] = '\0';
	return 0;
}

static int take_field(uint8_t tag, const uint8_t *v, size_t len, struct jg_exec_spec *spec,
		      char *err, size_t errlen)
{
	switch ((enum jg_spec_tag)tag) {
	case JG_SPEC_ARGV:
		if (len == 0)
			return reason(err, errlen, "ARGV field: empty (argc must be at least 1)");
		return take_strings(v, len, &spec->argv, &spec->argc, 0, "ARGV", err, errlen);
	case JG_SPEC_ENV:
		return take_strings(v, len, &spec->env, &spec->envc, 1, "ENV", err, errlen);
	case JG_SPEC_CWD:
		return take_text(v, len, &spec->cwd, "CWD", err, errlen);
	case JG_SPEC_PTY:
		if (len != PTY_LEN)
			return reason(err, errlen, "PTY field: length %zu, expected 4", len);
		spec->pty = 1;
		spec->rows = jg_get_u16(v);
		spec->cols = jg_get_u16(v + 2);
		return 0;
	case JG_SPEC_TERM:
		return take_text(v, len, &spec->term, "TERM", err, errlen);
	default:
		/* Tags of the other kinds' specs (relay/opspec.h); the walk already refuses them.
		 */
		break;
	}
	return reason(err, errlen, "unknown field tag %u", tag);
}

int jg_spec_walk(const uint8_t *payload, size_t len, uint8_t tag_min, uint8_t tag_max,
		 jg_spec_field_cb cb, void *ctx, char *err, size_t errlen)
{
	uint32_t seen = 0;
	size_t off = 0;
	int r;

	while (off < len) {
		uint8_t tag;
		uint32_t flen;

		if (len - off < FIELD_HEADER_LEN)
			return reason(err, errlen,
				      "truncated field header at offset %zu (%zu bytes left)", off,
				      len - off);
		tag = payload[off];
		flen = jg_get_u32(payload + off + 1);
		if (tag < tag_min || tag > tag_max)
			return reason(err, errlen, "unknown field tag %u at offset %zu", tag, off);
		if (seen & (1u << tag))
			return reason(err, errlen, "%s field appears twice (offset %zu)",
				      jg_spec_tag_name(tag), off);
		seen |= 1u << tag;
		off += FIELD_HEADER_LEN;
		if (flen > len - off)
			return reason(err, errlen,
				      "%s field: length %u runs past the end (%zu bytes left)",
				      jg_spec_tag_name(tag), flen, len - off);
		if ((r = cb(tag, payload + off, flen, ctx, err, errlen)) != 0)
			return r;
		off += flen;
	}
	return 0;
}

static int exec_field(uint8_t tag, const uint8_t *v, size_t len, void *ctx, char *err,
		      size_t errlen)
{
	return take_field(tag, v, len, ctx, err, errlen);
}

int jg_exec_spec_decode(const uint8_t *payload, size_t len, struct jg_exec_spec *spec, char *err,
			size_t errlen)
{
	int r;

	memset(spec, 0, sizeof(*spec));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = jg_spec_walk(payload, len, JG_SPEC_ARGV, TAG_MAX, exec_field, spec, err, errlen);
	if (r == 0 && spec->argv == NULL)
		r = reason(err, errlen, "no ARGV field");
	if (r == JG_ERR_NOMEM)
		reason(err, errlen, "out of memory decoding the spec");
	if (r != 0)
		jg_exec_spec_clear(spec);
	return r;
}

static void free_vec(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void jg_exec_spec_clear(struct jg_exec_spec *spec)
{
	free_vec(spec->argv, spec->argc);
	free_vec(spec->env, spec->envc);
	free(spec->cwd);
	free(spec->term);
	memset(spec, 0, sizeof(*spec));
}
