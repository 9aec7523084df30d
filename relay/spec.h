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
	JG_SPEC_ARGV = 1,
	JG_SPEC_ENV = 2,
	JG_SPEC_CWD = 3,
	JG_SPEC_PTY = 4,
	JG_SPEC_TERM = 5,
};

/* A decoded exec spec. Every pointer is owned by the struct (jg_exec_spec_clear frees). */
struct jg_exec_spec {
	char **argv;  /* NULL-terminated, argc >= 1 */
	size_t argc;
	char **env;   /* NULL-terminated "KEY=VALUE" list, or NULL to inherit the agent's environment */
	size_t envc;
	char *cwd;    /* NULL: the agent's home directory */
	int pty;      /* non-zero: run on a pseudo-terminal */
	uint16_t rows, cols;
	char *term;   /* TERM for the pty, or NULL */
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

#endif
