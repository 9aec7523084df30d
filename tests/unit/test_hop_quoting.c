/* Tests for the quoting a chain of hops stacks up (relay/sh.c's jg_sh_join, as
 * relay/hop.c uses it): the words it writes, and a property test run through a real
 * /bin/sh: whatever bytes an argument holds, it arrives unchanged after any number of
 * shell layers (JG_HOP_SEED repeats a run). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/argv.h"
#include "relay/sh.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* ---- jg_sh_join ---- */

static void join_is(char *const *argv, const char *want)
{
	char *s = jg_sh_join(argv);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	if (strcmp(s, want) != 0)
		fprintf(stderr, "\njg_sh_join: [%s]\n      want [%s]\n", s, want);
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
}

#define JOIN_IS(want, ...) join_is((char *const[]){__VA_ARGS__, NULL}, want)

static void t_sh_join_words(void)
{
	/* Words only of characters no shell treats specially stay as they are. */
	JOIN_IS("sudo -n -H -u jgx1 -- sh", "sudo", "-n", "-H", "-u", "jgx1", "--", "sh");
	JOIN_IS("--setns=pid:42 u@h:22 /a/b_c.d +x,y%z", "--setns=pid:42", "u@h:22", "/a/b_c.d",
		"+x,y%z");
	/* Anything else is single-quoted; an empty word is ''. */
	JOIN_IS("'' a ''", "", "a", "");
	JOIN_IS("'a b' '$x' '`id`' '~' '*' 'a;b' 'a\nb' '\\'", "a b", "$x", "`id`", "~", "*", "a;b",
		"a\nb", "\\");
	JOIN_IS("'\xc3\xa9t\xc3\xa9'", "\xc3\xa9t\xc3\xa9");
	/* A quote: close, an escaped quote, reopen. */
	JOIN_IS("'it'\\''s'", "it's");
	JOIN_IS("''\\'''", "'");
	JOIN_IS("''\\'''\\'''", "''");
	join_is((char *const[]){NULL}, "");
}

/* ---- property: quoting at depth, through a real /bin/sh ---- */

static uint64_t rng;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* 0-30 bytes from 1..255, the characters shells care about weighted in. */
static char *rand_word(void)
{
	static const char special[] = "'\"$`\\!\n *?~#;&|<>(){}";
	size_t len = rnd() % 31;
	char *w = malloc(len + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (size_t i = 0; i < len; i++)
		w[i] = rnd() % 2 ? special[rnd() % (sizeof(special) - 1)] : (char)(1 + rnd() % 255);
	w[len] = '\0';
	return w;
}

static void show_bytes(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "  %s (%zu):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, " %02x", (unsigned char)s[i]);
	fprintf(stderr, "\n");
}

/* WORDS wrapped DEPTH times (each layer is one string given to `sh -c`, as ssh and su
 * give it to the far side's shell) and run: the innermost program prints each word
 * NUL-terminated.  STUB_FORM: the innermost is `sh -c '<script>' jumpgate-stub WORDS`,
 * the shape the chain's stubs have.  1 when the output is the words, byte for byte. */
static int round_trip(char **words, size_t n, int depth, int stub_form)
{
	struct jg_argv b = {0};
	char **cur, out[8192], want[8192];
	size_t wlen = 0;
	ssize_t len;
	int ok;

	if (stub_form) {
		jg_argv_push(&b, "sh");
		jg_argv_push(&b, "-c");
		jg_argv_push(&b, "exec /usr/bin/printf \"%s\\0\" \"$@\"");
		jg_argv_push(&b, "jumpgate-stub");
	} else {
		jg_argv_push(&b, "/usr/bin/printf");
		jg_argv_push(&b, "%s\\0");
	}
	for (size_t i = 0; i < n; i++) {
		jg_argv_push(&b, words[i]);
		memcpy(want + wlen, words[i], strlen(words[i]) + 1);
		wlen += strlen(words[i]) + 1;
	}
	cur = jg_argv_take(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
	for (int d = 0; d < depth; d++) {
		char *s = jg_sh_join(cur);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		jg_argv_free(cur);
		jg_argv_push(&b, d == depth - 1 ? "/bin/sh" : "sh");
		jg_argv_push(&b, "-c");
		jg_argv_push_take(&b, s);
		cur = jg_argv_take(&b);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
	}
	len = tu_run_capture(cur, NULL, out, sizeof(out));
	ok = len == (ssize_t)wlen && memcmp(out, want, wlen) == 0;
	if (!ok) {
		fprintf(stderr, "\nquoting at depth %d (%s form) lost bytes:\n", depth,
			stub_form ? "stub" : "printf");
		for (size_t i = 0; i < n; i++)
			show_bytes("word", words[i], strlen(words[i]));
		show_bytes("got", out, len < 0 ? 0 : (size_t)len);
		fprintf(stderr, "  command: %s\n", cur[2]);
	}
	jg_argv_free(cur);
	return ok;
}

static void t_quoting_property_at_depth(void)
{
	const char *env = getenv("JG_HOP_SEED");
	uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : 0x6a756d7067617465ULL;
	int failures = 0;

	rng = seed != 0 ? seed : 1;
	fprintf(stderr, "\n  quoting property: seed 0x%llx (JG_HOP_SEED to repeat)... ",
		(unsigned long long)seed);
	for (int i = 0; i < 300 && failures < 3; i++) {
		char *words[5];
		size_t n = 1 + rnd() % 5;

		for (size_t k = 0; k < n; k++)
			words[k] = rand_word();
		for (int depth = 1; depth <= 3; depth++)
			if (!round_trip(words, n, depth, i % 2)) {
				fprintf(stderr, "  (case %d, seed 0x%llx)\n", i,
					(unsigned long long)seed);
				failures++;
				CU_FAIL("an argument changed on its way through the shells");
			}
		for (size_t k = 0; k < n; k++)
			free(words[k]);
	}
}

int jg_test_register_hop_quoting(void)
{
	static const struct tu_test tests[] = {
	    {"sh_join: plain words bare, '' for empty, '\\'' for a quote", t_sh_join_words},
	    {"property: 300 random argvs survive 1-3 shell layers byte for byte",
	     t_quoting_property_at_depth},
	};

	return tu_add_suite("hop_quoting", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
