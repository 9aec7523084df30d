/* SHA-256 (FIPS 180-4), incremental.
 *
 * Our own because the agent is a static binary linking only libc and
 * libevent_core: no OpenSSL on the target.  Not constant-time in any sense
 * that matters for secrets; it hashes file contents. */
#ifndef JG_SHA256_H
#define JG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define JG_SHA256_LEN 32u
/* Hex digest plus the terminating NUL. */
#define JG_SHA256_HEX_LEN (2u * JG_SHA256_LEN + 1u)

struct jg_sha256 {
	uint32_t h[8];
	uint64_t bytes;	   /* message length so far */
	uint8_t block[64]; /* partial block */
	size_t used;	   /* bytes in block, < 64 */
};

/* Which block function hashes: the fastest this CPU has, the portable C one,
 * the x86-64 SHA extensions, or LAZY (the default): the portable one until
 * 1 KiB has been hashed, then the fastest.  0, or -1 when the CPU (or the build) lacks the one
 * asked for. For tests and benchmarks; not thread-safe with digests in progress. */
enum jg_sha256_impl { JG_SHA256_BEST, JG_SHA256_PORTABLE, JG_SHA256_NI, JG_SHA256_LAZY };
int jg_sha256_select(enum jg_sha256_impl impl);

/* Start a new digest. */
void jg_sha256_init(struct jg_sha256 *s);
/* Hash LEN more bytes of the message (LEN may be 0). */
void jg_sha256_update(struct jg_sha256 *s, const void *data, size_t len);
/* Finish: write the 32-byte digest to OUT.  S must be re-initialised before reuse. */
void jg_sha256_final(struct jg_sha256 *s, uint8_t out[JG_SHA256_LEN]);
/* Lower-case hex of DIGEST into HEX (JG_SHA256_HEX_LEN bytes, NUL-terminated); returns HEX. */
char *jg_sha256_hex(const uint8_t digest[JG_SHA256_LEN], char hex[JG_SHA256_HEX_LEN]);

#endif
