/* Specs of the channel kinds beyond exec: TUNNEL and the file kinds (PUT,
 * GET, STAT).  Same field encoding as exec specs (relay/spec.h), other tags.
 *
 * TUNNEL (aux of OPEN = JG_OPEN_TUNNEL): HOST and PORT.  The agent connects
 * to HOST:PORT from the target and answers OPEN_OK once connected (or
 * OPEN_FAIL with the reason); then DATA and EOF flow both ways; EXIT 0 when
 * both directions have ended, DEAD with a reason on a socket error.
 *
 * PUT: PATH (absolute, or relative beneath ROOT), FLAGS, and optional MODE,
 * OWNER, GROUP, MTIME, SHA256 (expected), LINK (with JG_FILE_SYMLINK).  The
 * agent accepts or refuses synchronously inside its OPEN handling, so the
 * opener may send DATA and EOF right behind the OPEN (one round trip for
 * small files).  Success: one DATA frame whose payload is a file spec
 * (SHA256 and SIZE of what was written), then EXIT 0.  Failure after the
 * OPEN_OK: DEAD with the reason; nothing is replaced.
 *
 * GET: PATH.  OPEN_OK's payload is a file spec (SIZE, MODE, MTIME, FLAGS with
 * JG_FILE_DIR for a directory, which is refused for now); then the bytes as
 * DATA, EOF, EXIT 0; DEAD with the reason on a read error.
 *
 * STAT: PATH; OPEN_OK carries the file spec, then EXIT 0.
 *
 * PUT, GET and STAT may carry RULES (relay/pathrule.h): the agent then follows
 * every symlink itself and refuses what resolves to a path the rules deny, and
 * a symlink PUT whose LINK points there.  Its answers (GET's OPEN_OK, PUT's
 * result) then carry PATH: what was really opened. */
#ifndef JG_OPSPEC_H
#define JG_OPSPEC_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

struct jg_tunnel_spec {
	char *host; /* owned */
	uint16_t port;
};

/* FLAGS bits. */
#define JG_FILE_MKDIRS 0x0001u /* PUT: create missing parent directories (mode 0755) */
#define JG_FILE_DIR 0x0002u    /* PUT: create the directory PATH itself; GET/STAT: is a directory */
#define JG_FILE_SYMLINK 0x0004u /* PUT: create a symlink to LINK */
#define JG_FILE_HAS_MODE 0x0100u
#define JG_FILE_HAS_MTIME 0x0200u
#define JG_FILE_HAS_SHA256 0x0400u
#define JG_FILE_HAS_SIZE 0x0800u
#define JG_FILE_KNOWN_FLAGS 0x0f07u

struct jg_file_spec {
	char *path; /* owned; no NUL inside */
	char *root; /* owned or NULL: path is relative and must stay beneath root */
	uint32_t flags;
	uint32_t mode;
	char *owner; /* owned or NULL */
	char *group; /* owned or NULL */
	int64_t mtime;
	uint8_t sha256[32];
	uint64_t size;
	char *link;  /* owned or NULL */
	char *rules; /* owned or NULL: the path rules the agent judges what it opens by
		      * (relay/pathrule.h); NULL: no path restriction */
	size_t rules_len;
};

/* Append the encoding of SPEC to OUT. JG_ERR_INVAL (empty host, port 0), JG_ERR_NOMEM. */
int jg_tunnel_spec_encode(const struct jg_tunnel_spec *spec, struct evbuffer *out);
/* Decode into *spec (zeroed first). JG_ERR_PROTO with a reason in ERR. */
int jg_tunnel_spec_decode(const uint8_t *p, size_t len, struct jg_tunnel_spec *spec, char *err,
			  size_t errlen);
void jg_tunnel_spec_clear(struct jg_tunnel_spec *spec);

/* Append the encoding of SPEC (only the fields its flags and pointers say are present). */
int jg_file_spec_encode(const struct jg_file_spec *spec, struct evbuffer *out);
/* Decode into *spec (zeroed first). PATH is optional here (results carry none); HAS_*
 * flags are set from the fields present. JG_ERR_PROTO with a reason in ERR. */
int jg_file_spec_decode(const uint8_t *p, size_t len, struct jg_file_spec *spec, char *err,
			size_t errlen);
void jg_file_spec_clear(struct jg_file_spec *spec);

#endif
