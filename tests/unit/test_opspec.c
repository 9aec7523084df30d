/* Tests for relay/opspec.c: tunnel and file specs round trip, and every
 * decode error is refused with a reason that names the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/opspec.h"
#include "relay/spec.h"
#include "relay/wire.h"
#include "tests/unit/suites.h"

/* Hand-built payloads: FIELD(tag, len) then the value bytes. */
struct raw {
	uint8_t b[512];
	size_t len;
};

static void raw_field(struct raw *r, uint8_t tag, const void *v, size_t len)
{
	r->b[r->len] = tag;
	jg_put_u32(r->b + r->len + 1, (uint32_t)len);
	memcpy(r->b + r->len + 5, v, len);
	r->len += 5 + len;
}

static void raw_u32(struct raw *r, uint8_t tag, uint32_t v)
{
	uint8_t b[4];

	jg_put_u32(b, v);
	raw_field(r, tag, b, 4);
}

static int file_decode(const struct raw *r, struct jg_file_spec *s, char *err, size_t errlen)
{
	return jg_file_spec_decode(r->b, r->len, s, err, errlen);
}

/* Decoding R as a file spec fails with JG_ERR_PROTO and a reason containing WANT. */
static void file_refused(const struct raw *r, const char *want)
{
	struct jg_file_spec s;
	char err[256] = "";

	CU_ASSERT_EQUAL(file_decode(r, &s, err, sizeof(err)), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	if (strstr(err, want) == NULL)
		fprintf(stderr, "\n  got \"%s\", want \"%s\"\n", err, want);
	/* Cleared on failure: nothing to free, nothing dangling. */
	CU_ASSERT(s.path == NULL && s.root == NULL && s.owner == NULL && s.group == NULL &&
		  s.link == NULL && s.flags == 0);
}

static void tunnel_refused(const struct raw *r, const char *want)
{
	struct jg_tunnel_spec t;
	char err[256] = "";

	CU_ASSERT_EQUAL(jg_tunnel_spec_decode(r->b, r->len, &t, err, sizeof(err)), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	if (strstr(err, want) == NULL)
		fprintf(stderr, "\n  got \"%s\", want \"%s\"\n", err, want);
	CU_ASSERT(t.host == NULL && t.port == 0);
}

/* ---- tunnel ---- */

static void test_opspec_tunnel_round_trips(void)
{
	struct jg_tunnel_spec in = {.host = "db.internal", .port = 5432}, out;
	struct evbuffer *b = evbuffer_new();
	char err[128];

	CU_ASSERT_EQUAL_FATAL(jg_tunnel_spec_encode(&in, b), 0);
	CU_ASSERT_EQUAL_FATAL(jg_tunnel_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b),
						    &out, err, sizeof(err)),
			      0);
	CU_ASSERT_STRING_EQUAL(out.host, "db.internal");
	CU_ASSERT_EQUAL(out.port, 5432);
	jg_tunnel_spec_clear(&out);
	CU_ASSERT_PTR_NULL(out.host);
	evbuffer_free(b);
}

static void test_opspec_tunnel_encode_refuses_empty_host_and_port_0(void)
{
	struct jg_tunnel_spec t = {.host = "", .port = 22};
	struct evbuffer *b = evbuffer_new();

	CU_ASSERT_EQUAL(jg_tunnel_spec_encode(&t, b), JG_ERR_INVAL);
	t.host = NULL;
	CU_ASSERT_EQUAL(jg_tunnel_spec_encode(&t, b), JG_ERR_INVAL);
	t.host = "h";
	t.port = 0;
	CU_ASSERT_EQUAL(jg_tunnel_spec_encode(&t, b), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void test_opspec_tunnel_decode_errors_name_the_field(void)
{
	uint8_t port[2] = {0, 22}, zero[2] = {0, 0};
	struct raw r;

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PORT, port, 2);
	tunnel_refused(&r, "tunnel spec needs HOST and PORT");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	tunnel_refused(&r, "tunnel spec needs HOST and PORT");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "", 0);
	tunnel_refused(&r, "HOST field: empty");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "a\0b", 3);
	tunnel_refused(&r, "HOST field: contains a NUL byte");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	raw_field(&r, JG_SPEC_PORT, zero, 2);
	tunnel_refused(&r, "PORT field: port 0");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	raw_field(&r, JG_SPEC_PORT, port, 1);
	tunnel_refused(&r, "PORT field: length 1, expected 2");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	raw_field(&r, JG_SPEC_PORT, port, 2);
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	tunnel_refused(&r, "PATH field: not valid in a tunnel spec");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_ARGV, "sh\0", 3);
	tunnel_refused(&r, "unknown field tag 1");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	raw_field(&r, JG_SPEC_HOST, "i", 1);
	tunnel_refused(&r, "HOST field appears twice");
}

/* ---- files ---- */

static int file_round_trip(const struct jg_file_spec *in, struct jg_file_spec *out)
{
	struct evbuffer *b = evbuffer_new();
	char err[128];
	int r;

	if ((r = jg_file_spec_encode(in, b)) == 0)
		r = jg_file_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), out, err,
					sizeof(err));
	evbuffer_free(b);
	return r;
}

static void test_opspec_full_file_spec_round_trips(void)
{
	struct jg_file_spec in = {.path = "dir/f\xc3\xa9 \x01",
				  .root = "/srv/root",
				  .flags = JG_FILE_MKDIRS | JG_FILE_SYMLINK | JG_FILE_HAS_MODE |
					   JG_FILE_HAS_MTIME | JG_FILE_HAS_SHA256 |
					   JG_FILE_HAS_SIZE,
				  .mode = 04755,
				  .owner = "deploy",
				  .group = "1001",
				  .mtime = -86400, /* before the epoch: two's complement */
				  .size = 0x123456789abcULL,
				  .link = "../target",
				  .rules = "+/srv/root\0-/\0",
				  .rules_len = 14};
	struct jg_file_spec out;

	for (int i = 0; i < 32; i++)
		in.sha256[i] = (uint8_t)(i * 9);
	CU_ASSERT_EQUAL_FATAL(file_round_trip(&in, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.path, in.path);
	CU_ASSERT_STRING_EQUAL(out.root, in.root);
	CU_ASSERT_EQUAL(out.flags, in.flags);
	CU_ASSERT_EQUAL(out.mode, 04755);
	CU_ASSERT_STRING_EQUAL(out.owner, "deploy");
	CU_ASSERT_STRING_EQUAL(out.group, "1001");
	CU_ASSERT_EQUAL(out.mtime, -86400);
	CU_ASSERT_EQUAL(memcmp(out.sha256, in.sha256, 32), 0);
	CU_ASSERT_EQUAL(out.size, 0x123456789abcULL);
	CU_ASSERT_STRING_EQUAL(out.link, "../target");
	CU_ASSERT_EQUAL(out.rules_len, 14);
	CU_ASSERT(out.rules != NULL && memcmp(out.rules, in.rules, 14) == 0);
	jg_file_spec_clear(&out);
	CU_ASSERT_PTR_NULL(out.path);
}

static void test_opspec_minimal_and_result_specs_round_trip(void)
{
	struct jg_file_spec in = {.path = "/etc/motd"}, res = {0}, out;

	CU_ASSERT_EQUAL_FATAL(file_round_trip(&in, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.path, "/etc/motd");
	CU_ASSERT(out.root == NULL && out.owner == NULL && out.group == NULL && out.link == NULL);
	CU_ASSERT_EQUAL(out.flags, 0);
	jg_file_spec_clear(&out);

	/* A result: no PATH, a directory, zero mode and size still present. */
	res.flags = JG_FILE_DIR | JG_FILE_HAS_MODE | JG_FILE_HAS_SIZE;
	CU_ASSERT_EQUAL_FATAL(file_round_trip(&res, &out), 0);
	CU_ASSERT_PTR_NULL(out.path);
	CU_ASSERT_EQUAL(out.flags, res.flags);
	CU_ASSERT(out.mode == 0 && out.size == 0);
	jg_file_spec_clear(&out);
}

static void test_opspec_has_flags_follow_the_fields_not_the_claim(void)
{
	struct jg_file_spec s;
	char err[128];
	struct raw r;

	/* The sender claims MODE, MTIME, SHA256 and SIZE but sends none of them. */
	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	raw_u32(&r, JG_SPEC_FLAGS,
		JG_FILE_HAS_MODE | JG_FILE_HAS_MTIME | JG_FILE_HAS_SHA256 | JG_FILE_HAS_SIZE |
		    JG_FILE_MKDIRS);
	CU_ASSERT_EQUAL_FATAL(file_decode(&r, &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s.flags, JG_FILE_MKDIRS);
	jg_file_spec_clear(&s);

	/* A MODE field without the flag still counts. */
	memset(&r, 0, sizeof(r));
	raw_u32(&r, JG_SPEC_MODE, 0600);
	CU_ASSERT_EQUAL_FATAL(file_decode(&r, &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s.flags, JG_FILE_HAS_MODE);
	CU_ASSERT_EQUAL(s.mode, 0600);
	jg_file_spec_clear(&s);
}

static void test_opspec_file_encode_refuses_symlink_without_link(void)
{
	struct jg_file_spec s = {.path = "/l", .flags = JG_FILE_SYMLINK};
	struct evbuffer *b = evbuffer_new();

	CU_ASSERT_EQUAL(jg_file_spec_encode(&s, b), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void test_opspec_file_decode_errors_name_the_field(void)
{
	static const struct {
		uint8_t tag;
		size_t len;
		const char *want;
	} bad_len[] = {
	    {JG_SPEC_FLAGS, 3, "FLAGS field: length 3, expected 4"},
	    {JG_SPEC_MODE, 2, "MODE field: length 2, expected 4"},
	    {JG_SPEC_MTIME, 4, "MTIME field: length 4, expected 8"},
	    {JG_SPEC_SHA256, 31, "SHA256 field: length 31, expected 32"},
	    {JG_SPEC_SIZE, 9, "SIZE field: length 9, expected 8"},
	};
	static const uint8_t texts[] = {JG_SPEC_PATH, JG_SPEC_ROOT, JG_SPEC_OWNER, JG_SPEC_GROUP,
					JG_SPEC_LINK};
	uint8_t zeros[40] = {0}, port[2] = {0, 80};
	char want[64];
	struct raw r;

	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		memset(&r, 0, sizeof(r));
		raw_field(&r, bad_len[i].tag, zeros, bad_len[i].len);
		file_refused(&r, bad_len[i].want);
	}
	for (size_t i = 0; i < sizeof(texts); i++) {
		memset(&r, 0, sizeof(r));
		raw_field(&r, texts[i], "a\0b", 3);
		snprintf(want, sizeof(want), "%s field: contains a NUL byte",
			 jg_spec_tag_name(texts[i]));
		file_refused(&r, want);
	}

	memset(&r, 0, sizeof(r));
	raw_u32(&r, JG_SPEC_MODE, 010000);
	file_refused(&r, "MODE field: 010000 has bits beyond 07777");

	memset(&r, 0, sizeof(r));
	raw_u32(&r, JG_SPEC_FLAGS, 0x8000 | JG_FILE_DIR);
	file_refused(&r, "FLAGS field: unknown bits 0x8000");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/l", 2);
	raw_u32(&r, JG_SPEC_FLAGS, JG_FILE_SYMLINK);
	file_refused(&r, "SYMLINK flag without a LINK field");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_HOST, "h", 1);
	file_refused(&r, "HOST field: not valid in a file spec");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PORT, port, 2);
	file_refused(&r, "PORT field: not valid in a file spec");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_CWD, "/", 1);
	file_refused(&r, "unknown field tag 3 at offset 0");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	raw_field(&r, JG_SPEC_TAG_MAX + 1, "", 0);
	file_refused(&r, "unknown field tag 19 at offset 7");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_RULES, "/srv", 5); /* no sign */
	file_refused(&r, "RULES field: entry at offset 0");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_RULES, "+/srv", 5); /* no NUL */
	file_refused(&r, "RULES field: not NUL-terminated");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	raw_field(&r, JG_SPEC_PATH, "/y", 2);
	file_refused(&r, "PATH field appears twice (offset 7)");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	r.len -= 1;
	file_refused(&r, "PATH field: length 2 runs past the end (1 bytes left)");

	memset(&r, 0, sizeof(r));
	raw_field(&r, JG_SPEC_PATH, "/x", 2);
	r.len += 3; /* three bytes of a next header */
	file_refused(&r, "truncated field header at offset 7 (3 bytes left)");
}

static void test_opspec_empty_payload_is_an_empty_file_spec(void)
{
	struct jg_file_spec s;
	char err[64];

	CU_ASSERT_EQUAL(jg_file_spec_decode((const uint8_t *)"", 0, &s, err, sizeof(err)), 0);
	CU_ASSERT(s.path == NULL && s.flags == 0);
	jg_file_spec_clear(&s);
}

int jg_test_register_opspec(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("opspec", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_opspec_tunnel_round_trips) ||
	    !CU_ADD_TEST(s, test_opspec_tunnel_encode_refuses_empty_host_and_port_0) ||
	    !CU_ADD_TEST(s, test_opspec_tunnel_decode_errors_name_the_field) ||
	    !CU_ADD_TEST(s, test_opspec_full_file_spec_round_trips) ||
	    !CU_ADD_TEST(s, test_opspec_minimal_and_result_specs_round_trip) ||
	    !CU_ADD_TEST(s, test_opspec_has_flags_follow_the_fields_not_the_claim) ||
	    !CU_ADD_TEST(s, test_opspec_file_encode_refuses_symlink_without_link) ||
	    !CU_ADD_TEST(s, test_opspec_file_decode_errors_name_the_field) ||
	    !CU_ADD_TEST(s, test_opspec_empty_payload_is_an_empty_file_spec))
		return -1;
	return 0;
}
