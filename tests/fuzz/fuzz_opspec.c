/* libFuzzer harness for the OPEN-spec decoders: exec (relay/spec.c), tunnel
 * and file (relay/opspec.c).  An agent decodes these from the gateway, and
 * the gateway decodes file specs (the results of PUT, GET and STAT) from
 * agents, which run on targets and are not trusted.
 *
 * Input: byte 0 modulo 3 picks the decoder (0 exec, 1 tunnel, 2 file), the
 * rest is the payload.  Besides "no crash, no leak,
 * no UB" it checks, aborting when they break:
 *   - a refusal comes with a reason, and leaves nothing allocated (LSan);
 *   - what a decoder accepts, the encoder encodes again, and that decodes to
 *     the same spec (field by field);
 *   - decoded strings hold no NUL before their end (they are C strings that
 *     become paths, hosts and argv words). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/opspec.h"
#include "relay/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int same_vec(char **a, size_t an, char **b, size_t bn)
{
	if ((a == NULL) != (b == NULL) || an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a == NULL || a[an] == NULL;
}

static void fuzz_exec(const uint8_t *p, size_t len)
{
	struct jg_exec_spec s, t;
	struct evbuffer *b;
	char err[256] = "";
	int r;

	if (jg_exec_spec_decode(p, len, &s, err, sizeof(err)) != 0) {
		check(err[0] != '\0');
		return;
	}
	check(s.argc >= 1 && s.argv != NULL && s.argv[s.argc] == NULL);
	check(s.env == NULL || s.env[s.envc] == NULL);
	for (size_t i = 0; i < s.envc; i++)
		check(strchr(s.env[i], '=') != NULL);
	b = evbuffer_new();
	r = jg_exec_spec_encode(&s, b);
	if (r == JG_ERR_TOOBIG) { /* only a payload no frame can carry */
		check(len > JG_FRAME_MAX_PAYLOAD);
		jg_exec_spec_clear(&s);
		evbuffer_free(b);
		return;
	}
	check(r == 0);
	check(jg_exec_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), &t, err,
				  sizeof(err)) == 0);
	check(same_vec(s.argv, s.argc, t.argv, t.argc) && same_vec(s.env, s.envc, t.env, t.envc));
	check(same_str(s.cwd, t.cwd) && same_str(s.term, t.term));
	check(s.pty == t.pty && s.rows == t.rows && s.cols == t.cols);
	jg_exec_spec_clear(&s);
	jg_exec_spec_clear(&t);
	evbuffer_free(b);
}

static void fuzz_tunnel(const uint8_t *p, size_t len)
{
	struct jg_tunnel_spec s, t;
	struct evbuffer *b;
	char err[256] = "";

	if (jg_tunnel_spec_decode(p, len, &s, err, sizeof(err)) != 0) {
		check(err[0] != '\0' && s.host == NULL);
		return;
	}
	check(s.host != NULL && s.host[0] != '\0' && s.port != 0);
	b = evbuffer_new();
	check(jg_tunnel_spec_encode(&s, b) == 0);
	check(evbuffer_get_length(b) == len); /* the same two fields, maybe in another order */
	check(jg_tunnel_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), &t, err,
				    sizeof(err)) == 0);
	check(strcmp(s.host, t.host) == 0 && s.port == t.port);
	jg_tunnel_spec_clear(&s);
	jg_tunnel_spec_clear(&t);
	evbuffer_free(b);
}

static void fuzz_file(const uint8_t *p, size_t len)
{
	struct jg_file_spec s, t;
	struct evbuffer *b;
	char err[256] = "";

	if (jg_file_spec_decode(p, len, &s, err, sizeof(err)) != 0) {
		check(err[0] != '\0' && s.path == NULL && s.link == NULL);
		return;
	}
	check((s.flags & ~JG_FILE_KNOWN_FLAGS) == 0);
	check(!(s.flags & JG_FILE_SYMLINK) || s.link != NULL);
	check(!(s.flags & JG_FILE_HAS_MODE) || (s.mode & ~07777u) == 0);
	b = evbuffer_new();
	check(jg_file_spec_encode(&s, b) == 0);
	check(jg_file_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), &t, err,
				  sizeof(err)) == 0);
	check(same_str(s.path, t.path) && same_str(s.root, t.root) && same_str(s.owner, t.owner) &&
	      same_str(s.group, t.group) && same_str(s.link, t.link));
	check(s.flags == t.flags);
	check(!(s.flags & JG_FILE_HAS_MODE) || s.mode == t.mode);
	check(!(s.flags & JG_FILE_HAS_MTIME) || s.mtime == t.mtime);
	check(!(s.flags & JG_FILE_HAS_SIZE) || s.size == t.size);
	check(!(s.flags & JG_FILE_HAS_SHA256) || memcmp(s.sha256, t.sha256, 32) == 0);
	jg_file_spec_clear(&s);
	jg_file_spec_clear(&t);
	evbuffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_exec(data + 1, size - 1);
		break;
	case 1:
		fuzz_tunnel(data + 1, size - 1);
		break;
	case 2:
		fuzz_file(data + 1, size - 1);
		break;
	}
	return 0;
}
