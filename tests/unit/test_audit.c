/* auth/audit: the line format (parsed back with jansson), op ids, O_APPEND writes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "auth/audit.h"
#include "suites.h"

static json_t *parse_line(const char *line)
{
	json_error_t e;
	size_t n = strlen(line);
	json_t *j;

	CU_ASSERT(n > 0 && line[n - 1] == '\n');
	CU_ASSERT_PTR_NULL(memchr(line, '\n', n - 1)); /* one line, whatever the content */
	j = json_loads(line, 0, &e);
	if (j == NULL)
		fprintf(stderr, "\n  bad JSON (%s): %s", e.text, line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	return j;
}

static void test_format_exec(void)
{
	char *argv[] = {"sh", "-c", "echo \"hi\"\nexit 3", NULL};
	struct timespec now = {.tv_sec = 1714564800, .tv_nsec = 123456789};
	struct jg_audit_op *op =
	    jg_audit_begin(NULL, "ops-ann", "127.0.0.1:5000", "exec", "ssh:deploy@db1:22");
	json_t *j;
	char *line;

	CU_ASSERT_PTR_NOT_NULL_FATAL(op);
	CU_ASSERT_EQUAL(jg_audit_set_argv(op, argv, 3), 0);
	line = jg_audit_format(op, "start", NULL, NULL, &now, 0);
	j = parse_line(line);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "time")),
			       "2024-05-01T12:00:00.123Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "event")), "start");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "identity")), "ops-ann");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "peer")), "127.0.0.1:5000");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "target")),
			       "ssh:deploy@db1:22");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "argv")), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(j, "argv"), 2)),
			       "echo \"hi\"\nexit 3");
	CU_ASSERT_PTR_NULL(json_object_get(j, "outcome")); /* end-only keys */
	json_decref(j);
	free(line);

	op->bytes_in = 5;
	op->bytes_out = 7;
	op->have_exit = 1;
	op->exit_code = 3;
	line = jg_audit_format(op, "end", "failed", "exit 3", &now, 42);
	j = parse_line(line);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "event")), "end");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "bytes_in")), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "bytes_out")), 7);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "exit")), 3);
	CU_ASSERT_PTR_NULL(json_object_get(j, "signal"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "duration_ms")), 42);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "outcome")), "failed");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "reason")), "exit 3");
	json_decref(j);
	free(line);

	op->signo = 9;
	line = jg_audit_format(op, "end", "failed", "signal 9", &now, 1);
	j = parse_line(line);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "signal")), 9);
	CU_ASSERT_PTR_NULL(json_object_get(j, "exit"));
	json_decref(j);
	free(line);
	jg_audit_op_free(op);
}

static void test_format_path_port_and_bad_bytes(void)
{
	struct timespec now = {.tv_sec = 0, .tv_nsec = 0};
	struct jg_audit_op *op = jg_audit_begin(NULL, "x", "", "put", "web1");
	json_t *j;
	char *line;

	CU_ASSERT_EQUAL(jg_audit_set_path(op, "/srv/caf\xe9\xff"), 0); /* not UTF-8 */
	op->port = 22;
	line = jg_audit_format(op, "end", "denied", "no rule matched", &now, 0);
	j = parse_line(line);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "time")),
			       "1970-01-01T00:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "path")), "/srv/caf\\xe9\\xff");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "port")), 22);
	CU_ASSERT_PTR_NULL(json_object_get(j, "argv"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "outcome")), "denied");
	json_decref(j);
	free(line);
	jg_audit_op_free(op);
}

/* Where it went and why it was refused: typed and resolved target, destination, next
 * hop, tunnel host, x-jumpgate-root, and a refusal's request line and status. */
static void test_format_destination_and_refusal(void)
{
	struct timespec now = {.tv_sec = 0, .tv_nsec = 0};
	struct jg_audit_op *op = jg_audit_begin(NULL, "x", "", "tunnel", "ssh:root@db1:22");
	json_t *j;
	char *line;

	snprintf(op->typed, sizeof(op->typed), "db1");
	snprintf(op->dest, sizeof(op->dest), "db1 (ssh 10.0.0.5:22)");
	snprintf(op->next_hop, sizeof(op->next_hop), "site-b");
	snprintf(op->host, sizeof(op->host), "127.0.0.1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(op->root = strdup("/srv"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(op->request = strdup("CONNECT /v1/targets/db1/tunnel?port=9"));
	op->status = 403;
	line = jg_audit_format(op, "end", "refused", "not allowed", &now, 0);
	j = parse_line(line);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "target")), "ssh:root@db1:22");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "target_typed")), "db1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "destination")),
			       "db1 (ssh 10.0.0.5:22)");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "next_hop")), "site-b");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "host")), "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "root")), "/srv");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "request")),
			       "CONNECT /v1/targets/db1/tunnel?port=9");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "status")), 403);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "outcome")), "refused");
	json_decref(j);
	free(line);
	jg_audit_op_free(op);
	/* none of them when unknown (target_typed always) */
	op = jg_audit_begin(NULL, "x", "", "exec", "web1");
	line = jg_audit_format(op, "start", NULL, NULL, &now, 0);
	j = parse_line(line);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "target_typed")), "web1");
	CU_ASSERT_PTR_NULL(json_object_get(j, "destination"));
	CU_ASSERT_PTR_NULL(json_object_get(j, "next_hop"));
	CU_ASSERT_PTR_NULL(json_object_get(j, "request"));
	json_decref(j);
	free(line);
	jg_audit_op_free(op);
}

/* Through a file: ids count up, start and end pair, every line whole. */
static void test_file_lines(void)
{
	char path[] = "/tmp/jgaudit-XXXXXX", err[256], buf[8192];
	int fd = mkstemp(path);
	struct jg_audit *a;
	struct jg_audit_op *op1, *op2;
	FILE *f;
	int lines = 0;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	a = jg_audit_new(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	op1 = jg_audit_begin(a, "a", "p", "exec", "t");
	op2 = jg_audit_begin(a, "b", "p", "get", "t");
	CU_ASSERT_EQUAL(op2->id, op1->id + 1);
	jg_audit_start(a, op1);
	jg_audit_start(a, op2);
	jg_audit_end(a, op2, "ok", "");
	unlink(path); /* logrotate moved it: reopen creates a new one */
	jg_audit_reopen(a);
	jg_audit_end(a, op1, "failed", "exit 1");
	jg_audit_free(a);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		json_t *j = parse_line(buf);

		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "event")), "end");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "identity")), "a");
		json_decref(j);
		lines++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(lines, 1);
	unlink(path);
	CU_ASSERT_PTR_NULL(jg_audit_new("/nonexistent/dir/audit.log", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

/* Lines in the file at PATH that contain WHAT. */
static int count_lines(const char *path, const char *what)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (strstr(buf, what) != NULL)
			n++;
	fclose(f);
	return n;
}

/* A reload's new path: lines move there; a path that cannot be opened keeps the old file. */
static void test_reopen_at_a_changed_path(void)
{
	char dir[] = "/tmp/jgaudit-dir-XXXXXX", a_path[128], b_path[128], bad[160], err[256];
	struct jg_audit *a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(a_path, sizeof(a_path), "%s/a.log", dir);
	snprintf(b_path, sizeof(b_path), "%s/b.log", dir);
	snprintf(bad, sizeof(bad), "%s/missing/c.log", dir);
	a = jg_audit_new(a_path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	jg_audit_end(a, jg_audit_begin(a, "one", "p", "exec", "t"), "ok", "");
	CU_ASSERT_EQUAL(jg_audit_reopen_at(a, b_path), 0);
	CU_ASSERT_STRING_EQUAL(jg_audit_path(a), b_path);
	jg_audit_end(a, jg_audit_begin(a, "two", "p", "exec", "t"), "ok", "");
	CU_ASSERT_NOT_EQUAL(jg_audit_reopen_at(a, bad), 0);
	CU_ASSERT_STRING_EQUAL(jg_audit_path(a), b_path);
	jg_audit_end(a, jg_audit_begin(a, "three", "p", "exec", "t"), "ok", "");
	CU_ASSERT_EQUAL(count_lines(a_path, "\"one\""), 1);
	CU_ASSERT_EQUAL(count_lines(a_path, "\"two\""), 0);
	CU_ASSERT_EQUAL(count_lines(b_path, "\"two\""), 1);
	CU_ASSERT_EQUAL(count_lines(b_path, "\"three\""), 1);
	CU_ASSERT_EQUAL(jg_audit_reopen_at(a, "stderr"), 0);
	CU_ASSERT_PTR_NULL(jg_audit_path(a));
	CU_ASSERT_EQUAL(jg_audit_reopen_at(a, a_path), 0); /* and back from stderr */
	CU_ASSERT_STRING_EQUAL(jg_audit_path(a), a_path);
	jg_audit_free(a);
	unlink(a_path);
	unlink(b_path);
	rmdir(dir);
}

struct seen {
	int calls;
	char action[8], outcome[16];
	uint64_t bytes_in;
};

static void observe(void *ud, const struct jg_audit_op *op, const char *outcome,
		    uint64_t duration_ms)
{
	struct seen *s = ud;

	(void)duration_ms;
	s->calls++;
	snprintf(s->action, sizeof(s->action), "%s", op->action);
	snprintf(s->outcome, sizeof(s->outcome), "%s", outcome);
	s->bytes_in = op->bytes_in;
}

/* The observer (what /metrics counts) sees each end once, with its outcome and bytes;
 * starts and a NULL op are not ends. */
static void test_observer_sees_each_end_once(void)
{
	char err[256];
	struct jg_audit *a = jg_audit_new(NULL, err, sizeof(err));
	struct seen s = {0};
	struct jg_audit_op *op;
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_FATAL(saved >= 0 && devnull >= 0);
	dup2(devnull, STDERR_FILENO); /* the lines go to stderr: not into the test output */
	jg_audit_set_observer(a, observe, &s);
	op = jg_audit_begin(a, "ann", "p", "put", "web1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(op);
	op->bytes_in = 1234;
	jg_audit_start(a, op);
	CU_ASSERT_EQUAL(s.calls, 0);
	jg_audit_end(a, op, "denied", "no rule matched");
	jg_audit_end(a, NULL, "ok", "");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);
	CU_ASSERT_EQUAL(s.calls, 1);
	CU_ASSERT_STRING_EQUAL(s.action, "put");
	CU_ASSERT_STRING_EQUAL(s.outcome, "denied");
	CU_ASSERT_EQUAL(s.bytes_in, 1234);
	jg_audit_free(a);
}

int jg_test_register_audit(void)
{
	CU_pSuite s = CU_add_suite("audit", NULL, NULL);

	if (s == NULL || CU_add_test(s, "exec lines parse back", test_format_exec) == NULL ||
	    CU_add_test(s, "path, port, non-UTF-8 bytes", test_format_path_port_and_bad_bytes) ==
		NULL ||
	    CU_add_test(s, "destination, next hop, host, root; a refusal's request and status",
			test_format_destination_and_refusal) == NULL ||
	    CU_add_test(s, "file: ids, whole lines, reopen", test_file_lines) == NULL ||
	    CU_add_test(s, "reopen at a changed path; a bad one keeps the old",
			test_reopen_at_a_changed_path) == NULL ||
	    CU_add_test(s, "the observer sees each end once", test_observer_sees_each_end_once) ==
		NULL)
		return -1;
	return 0;
}
