/* Tests for relay/sha256.c: the NIST vectors, and random messages fed in
 * random pieces checked against OpenSSL (which the test binary links). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "relay/sha256.h"
#include "tests/unit/suites.h"

static void digest_hex(const void *msg, size_t len, char hex[JG_SHA256_HEX_LEN])
{
	struct jg_sha256 s;
	uint8_t d[JG_SHA256_LEN];

	jg_sha256_init(&s);
	jg_sha256_update(&s, msg, len);
	jg_sha256_final(&s, d);
	jg_sha256_hex(d, hex);
}

static void test_sha256_nist_empty_abc_and_448_bit_vectors(void)
{
	char hex[JG_SHA256_HEX_LEN];

	digest_hex("", 0, hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_hex("abc", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* The 896-bit vector: padding spills into a second block. */
	digest_hex(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	    "klmnopqrlmnopqrsmnopqrstnopqrstu",
	    112, hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_one_million_a_fed_in_odd_pieces(void)
{
	char hex[JG_SHA256_HEX_LEN], a[997];
	struct jg_sha256 s;
	uint8_t d[JG_SHA256_LEN];
	size_t left = 1000000;

	memset(a, 'a', sizeof(a));
	jg_sha256_init(&s);
	while (left > 0) {
		size_t n = left < sizeof(a) ? left : sizeof(a);

		jg_sha256_update(&s, a, n);
		left -= n;
	}
	jg_sha256_final(&s, d);
	CU_ASSERT_STRING_EQUAL(jg_sha256_hex(d, hex),
			       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length around the padding boundaries (55, 56, 63, 64, ...) against OpenSSL. */
static void test_sha256_lengths_0_to_300_match_openssl(void)
{
	uint8_t msg[300], want[32], got[32];
	unsigned int wlen;
	struct jg_sha256 s;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		EVP_Digest(msg, len, want, &wlen, EVP_sha256(), NULL);
		jg_sha256_init(&s);
		jg_sha256_update(&s, msg, len);
		jg_sha256_final(&s, got);
		CU_ASSERT_EQUAL(memcmp(want, got, 32), 0);
	}
}

static void test_sha256_random_buffers_split_at_random_points_match_openssl(void)
{
	uint8_t want[32], got[32];
	unsigned int wlen;
	struct jg_sha256 s;
	uint8_t *buf;
	unsigned seed = 12345;

	srand(seed);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)rand() % 70000, off = 0;

		buf = malloc(len + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		EVP_Digest(buf, len, want, &wlen, EVP_sha256(), NULL);
		jg_sha256_init(&s);
		while (off < len) {
			/* Pieces from 0 bytes (a no-op update) to a few blocks. */
			size_t n = (size_t)rand() % (round % 2 ? 200 : 5000);

			if (n > len - off)
				n = len - off;
			jg_sha256_update(&s, buf + off, n);
			off += n;
		}
		jg_sha256_final(&s, got);
		CU_ASSERT_EQUAL(memcmp(want, got, 32), 0);
		free(buf);
	}
}

static int select_portable(void)
{
	return jg_sha256_select(JG_SHA256_PORTABLE);
}

static int select_ni(void)
{
	return jg_sha256_select(JG_SHA256_NI);
}

static int select_lazy(void)
{
	return jg_sha256_select(JG_SHA256_LAZY);
}

static int select_best(void)
{
	return jg_sha256_select(JG_SHA256_BEST);
}

/* The same vectors through each block function this CPU has: the portable
 * one always, the SHA-extensions one where cpuid says so (then its suite is
 * there and named; on other CPUs it is left out, which the run's list shows). */
int jg_test_register_sha256(void)
{
	static const struct {
		const char *name;
		int (*init)(void);
	} impl[] = {{"sha256 (portable)", select_portable},
		    {"sha256 (x86-64 SHA extensions)", select_ni},
		    /* portable for the first 1 KiB, then the best, mid-digest */
		    {"sha256 (lazy default)", select_lazy}};
	CU_pSuite s;

	for (size_t i = 0; i < sizeof(impl) / sizeof(impl[0]); i++) {
		if (impl[i].init() != 0)
			continue;
		if ((s = CU_add_suite(impl[i].name, impl[i].init, select_best)) == NULL ||
		    !CU_ADD_TEST(s, test_sha256_nist_empty_abc_and_448_bit_vectors) ||
		    !CU_ADD_TEST(s, test_sha256_one_million_a_fed_in_odd_pieces) ||
		    !CU_ADD_TEST(s, test_sha256_lengths_0_to_300_match_openssl) ||
		    !CU_ADD_TEST(s,
				 test_sha256_random_buffers_split_at_random_points_match_openssl))
			return -1;
	}
	select_best();
	return 0;
}
