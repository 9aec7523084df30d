/* SHA-256 as specified by FIPS 180-4, section 6.2 (see sha256.h).
 *
 * Two block functions: the portable one, and on x86-64 CPUs with the SHA
 * extensions (cpuid 7.EBX bit 29, with SSSE3 and SSE4.1) one built on
 * sha256rnds2/msg1/msg2.  The agent hashes every file it receives; the
 * portable code ran at about 200 MB/s and was 60% of the agent's CPU time in
 * a profile of a 128 MiB upload, the instructions run several times faster.
 * The choice is made once, when LAZY_BLOCKS blocks have been hashed: short
 * messages (the client's socket name, of a hundred bytes) are hashed
 * by the portable code, which costs less than the cpuid instructions asked
 * to choose -- in a virtual machine each traps to the hypervisor, and the
 * choice was 5% of a warm `jumpgate exec`'s CPU in a profile. */
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define JG_SHA256_HAVE_NI 1
#endif

#include "relay/sha256.h"
#include "relay/wire.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

/* One 64-byte block into the state (FIPS 180-4 6.2.2). */
static void block_portable(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = jg_get_u32(p + 4 * i);
	for (; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3;
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10;

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (i = 0; i < 64; i++) {
		t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		block_portable(h, p);
}

#ifdef JG_SHA256_HAVE_NI
/* N blocks with the SHA extensions.  The instructions keep the state as two
 * registers ABEF and CDGH, and take four message words plus constants per
 * pair of rounds; the message schedule for words 16..63 is built four at a
 * time: W[t..t+3] = msg2(msg1(W[t-16..], W[t-12..]) + W[t-7..t-4], W[t-4..]). */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[8], const uint8_t *p,
								  size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i abef, cdgh, t, m[4];

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);	 /* CDAB */
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b); /* EFGH */
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);
	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh;

#pragma GCC unroll 16
		for (int j = 0; j < 16; j++) {
			__m128i w;

			if (j < 4)
				m[j] = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(p + 16 * j)), bswap);
			else
				m[j & 3] = _mm_sha256msg2_epu32(
				    _mm_add_epi32(
					_mm_sha256msg1_epu32(m[j & 3], m[(j + 1) & 3]),
					_mm_alignr_epi8(m[(j + 3) & 3], m[(j + 2) & 3], 4)),
				    m[(j + 3) & 3]);
			w = _mm_add_epi32(m[j & 3], _mm_loadu_si128((const __m128i *)&K[4 * j]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, w);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(w, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1b);				    /* FEBA */
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);				    /* DCHG */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xf0)); /* DCBA */
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));    /* HGFE */
}

static int cpu_has_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & (1u << 29)) != 0; /* SHA */
}
#endif

typedef void (*blocks_fn)(uint32_t h[8], const uint8_t *p, size_t n);
static void blocks_unchosen(uint32_t h[8], const uint8_t *p, size_t n);
/* chosen by jg_sha256_select, or by blocks_unchosen at the first long run */
static blocks_fn blocks = blocks_unchosen;
#define LAZY_BLOCKS 16u	   /* 1 KiB */
static size_t lazy_hashed; /* blocks hashed before the choice */

int jg_sha256_select(enum jg_sha256_impl impl)
{
	switch (impl) {
	case JG_SHA256_LAZY:
		blocks = blocks_unchosen;
		lazy_hashed = 0;
		return 0;
	case JG_SHA256_PORTABLE:
		blocks = blocks_portable;
		return 0;
	case JG_SHA256_NI:
#ifdef JG_SHA256_HAVE_NI
		if (cpu_has_ni()) {
			blocks = blocks_ni;
			return 0;
		}
#endif
		return -1;
	case JG_SHA256_BEST:
	default:
		if (jg_sha256_select(JG_SHA256_NI) != 0)
			blocks = blocks_portable;
		return 0;
	}
}

static void blocks_unchosen(uint32_t h[8], const uint8_t *p, size_t n)
{
	lazy_hashed += n;
	if (lazy_hashed < LAZY_BLOCKS) {
		blocks_portable(h, p, n);
		return;
	}
	jg_sha256_select(JG_SHA256_BEST);
	blocks(h, p, n);
}

void jg_sha256_init(struct jg_sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, iv, sizeof(iv));
	s->bytes = 0;
	s->used = 0;
}

void jg_sha256_update(struct jg_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	s->bytes += len;
	if (s->used > 0) {
		n = 64 - s->used < len ? 64 - s->used : len;
		memcpy(s->block + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used < 64)
			return;
		blocks(s->h, s->block, 1);
		s->used = 0;
	}
	/* Whole blocks straight from the caller's buffer: no copy on the hot path. */
	if (len >= 64) {
		blocks(s->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	if (len > 0) {
		memcpy(s->block, p, len);
		s->used = len;
	}
}

void jg_sha256_final(struct jg_sha256 *s, uint8_t out[JG_SHA256_LEN])
{
	uint64_t bits = s->bytes * 8;

	/* Padding (5.1.1): 0x80, zeros up to 56 mod 64, then the bit length big-endian. */
	s->block[s->used++] = 0x80;
	if (s->used > 56) {
		memset(s->block + s->used, 0, 64 - s->used);
		blocks(s->h, s->block, 1);
		s->used = 0;
	}
	memset(s->block + s->used, 0, 56 - s->used);
	jg_put_u32(s->block + 56, (uint32_t)(bits >> 32));
	jg_put_u32(s->block + 60, (uint32_t)bits);
	blocks(s->h, s->block, 1);
	for (int i = 0; i < 8; i++)
		jg_put_u32(out + 4 * i, s->h[i]);
	memset(s, 0, sizeof(*s));
}

char *jg_sha256_hex(const uint8_t digest[JG_SHA256_LEN], char hex[JG_SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < JG_SHA256_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[2 * JG_SHA256_LEN] = '\0';
	return hex;
}
