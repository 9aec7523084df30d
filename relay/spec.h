/* OPEN specs: what a channel is opened to do, as length-prefixed fields.
 *
 * Payload of an OPEN frame: a sequence of fields, each
 *     tag u8 | length u32 | value (length bytes)
 * Nothing in it can expand: lengths are bounded by the frame payload.
 * Tags (docs/protocol.md): ARGV (NUL-terminated strings back to back), ENV
 * (NUL-terminated "KEY=VALUE" strings), CWD (bytes, no NUL), PTY (rows u16 |
 * cols u16), TERM (bytes).  A tag appearing twice or unknown is an error. */
#ifndef JG_SPEC_H
#define JG_SPEC_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum jg_spec_tag {
	/* exec (this file) */
	JG_SPEC_ARGV = 1,
	JG_SPEC_ENV = 2,
	JG_SPEC_CWD = 3,
	JG_SPEC_PTY = 4,
	JG_SPEC_TERM = 5,
	/* tunnel and file specs (relay/opspec.h) */
	JG_SPEC_HOST = 6,    /* bytes, no NUL */
	JG_SPEC_PORT = 7,    /* u16 */
	JG_SPEC_PATH = 8,    /* bytes, no NUL */
	JG_SPEC_MODE = 9,    /* u32 (permission bits, 07777) */
	JG_SPEC_OWNER = 10,  /* bytes: a user name or a numeric uid */
	JG_SPEC_GROUP = 11,  /* bytes: a group name or a numeric gid */
	JG_SPEC_MTIME = 12,  /* u64: seconds since the epoch (two's complement) */
	JG_SPEC_SHA256 = 13, /* 32 bytes */
	JG_SPEC_FLAGS = 14,  /* u32: JG_FILE_* */
	JG_SPEC_LINK = 15,   /* bytes: a symlink's target */
	JG_SPEC_SIZE = 16,   /* u64 */
	JG_SPEC_ROOT = 17,   /* bytes: PATH is relative and must resolve beneath ROOT */
	JG_SPEC_RULES = 18, /* "+/prefix" / "-/prefix" strings, NUL-terminated (relay/pathrule.h) */
};
#define JG_SPEC_TAG_MAX JG_SPEC_RULES

/* A decoded exec spec. Every pointer is owned by the struct (jg_exec_spec_clear frees). */
struct jg_exec_spec {
	char **argv; /* NULL-terminated, argc >= 1 */
	size_t argc;
	char *
	    *env; /* NULL-terminated "KEY=VALUE" list, or NULL to inherit the agent's environment */
	size_t envc;
	char *cwd; /* NULL: the agent's home directory */
	int pty;   /* non-zero: run on a pseudo-terminal */
	uint16_t rows, cols;
	char *term; /* TERM for the pty, or NULL */
};

/* Encode SPEC as OPEN payload bytes appended to OUT. JG_ERR_INVAL (argc 0, NUL inside a
 * string), JG_ERR_TOOBIG (more than JG_FRAME_MAX_PAYLOAD bytes), JG_ERR_NOMEM. */
int jg_exec_spec_encode(const struct jg_exec_spec *spec, struct evbuffer *out);
/* Decode an OPEN payload into *spec (zeroed first). On error returns JG_ERR_PROTO and writes
 * a reason such as "ARGV field: last string not NUL-terminated" into err. */
int jg_exec_spec_decode(const uint8_t *payload, size_t len, struct jg_exec_spec *spec, char *err,
			size_t errlen);
/* Free what *spec owns and zero it. */
void jg_exec_spec_clear(struct jg_exec_spec *spec);

/* The field layer shared by every kind of spec. */
/* Append one field (tag, length, V). 0 or JG_ERR_NOMEM. */
int jg_spec_put_field(struct evbuffer *out, uint8_t tag, const void *v, size_t len);
/* Called for each field; non-zero stops the walk and is returned. V is borrowed. */
typedef int (*jg_spec_field_cb)(uint8_t tag, const uint8_t *v, size_t len, void *ctx, char *err,
				size_t errlen);
/* Walk PAYLOAD's fields: tags outside [TAG_MIN, TAG_MAX], a tag twice, a truncated field are
 * JG_ERR_PROTO with a reason in ERR. */
int jg_spec_walk(const uint8_t *payload, size_t len, uint8_t tag_min, uint8_t tag_max,
		 jg_spec_field_cb cb, void *ctx, char *err, size_t errlen);
/* "ARGV", "PATH", ... or "?". */
const char *jg_spec_tag_name(unsigned tag);

#endif
