/* The audit log: see audit.h for the line format and the contracts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/audit.h"
#include "relay/err.h"
#include "relay/log.h"

struct jg_audit {
	char *path; /* NULL: stderr */
	int fd;
	uint64_t next_id;
	jg_audit_observer_fn observer;
	void *observer_ud;
};

void jg_audit_set_observer(struct jg_audit *a, jg_audit_observer_fn fn, void *ud)
{
	a->observer = fn;
	a->observer_ud = ud;
}

/* Milliseconds since OP began (CLOCK_MONOTONIC). */
static uint64_t elapsed_ms(const struct jg_audit_op *op)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint64_t)(mono.tv_sec - op->t0.tv_sec) * 1000 +
	       (uint64_t)((mono.tv_nsec - op->t0.tv_nsec) / 1000000);
}

static int open_log(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		snprintf(err, errlen, "audit log %s: %s", path, strerror(errno));
	return fd;
}

struct jg_audit *jg_audit_new(const char *path, char *err, size_t errlen)
{
	struct jg_audit *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->fd = STDERR_FILENO;
	a->next_id = 1;
	if (path == NULL || strcmp(path, "stderr") == 0)
		return a;
	if ((a->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((a->fd = open_log(path, err, errlen)) < 0)
		goto fail;
	return a;
fail:
	free(a->path);
	free(a);
	return NULL;
}

void jg_audit_free(struct jg_audit *a)
{
	if (a == NULL)
		return;
	if (a->path != NULL && a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

void jg_audit_reopen(struct jg_audit *a)
{
	if (a == NULL || a->path == NULL)
		return;
	jg_audit_reopen_at(a, a->path);
}

int jg_audit_reopen_at(struct jg_audit *a, const char *path)
{
	char err[300], *copy = NULL;
	int fd = STDERR_FILENO;

	if (a == NULL)
		return 0;
	if (path != NULL && strcmp(path, "stderr") == 0)
		path = NULL;
	if (path != NULL) {
		if ((copy = strdup(path)) == NULL) {
			jg_log_error("audit log %s: out of memory (keeping %s)", path,
				     a->path != NULL ? a->path : "stderr");
			return JG_ERR_NOMEM;
		}
		if ((fd = open_log(path, err, sizeof(err))) < 0) {
			jg_log_error("%s (keeping %s)", err, a->path != NULL ? a->path : "stderr");
			free(copy);
			return JG_ERR_IO;
		}
	}
	/* Only now is the old one let go: no line is ever lost between the two. */
	if (a->path != NULL)
		close(a->fd);
	if (path != NULL && (a->path == NULL || strcmp(a->path, path) != 0))
		jg_log_info("audit log: now %s (was %s)", path,
			    a->path != NULL ? a->path : "stderr");
	else if (path == NULL && a->path != NULL)
		jg_log_info("audit log: now stderr (was %s)", a->path);
	free(a->path);
	a->path = copy;
	a->fd = fd;
	return 0;
}

const char *jg_audit_path(const struct jg_audit *a)
{
	return a != NULL ? a->path : NULL;
}

void jg_audit_op_free(struct jg_audit_op *op)
{
	if (op == NULL)
		return;
	for (size_t i = 0; op->argv != NULL && op->argv[i] != NULL; i++)
		free(op->argv[i]);
	free(op->argv);
	free(op->path);
	free(op->opened);
	free(op->root);
	free(op->request);
	free(op);
}

struct jg_audit_op *jg_audit_begin(struct jg_audit *a, const char *identity, const char *peer,
				   const char *action, const char *target)
{
	struct jg_audit_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->id = a != NULL ? a->next_id++ : 0;
	clock_gettime(CLOCK_MONOTONIC, &op->t0);
	snprintf(op->identity, sizeof(op->identity), "%s", identity ? identity : "");
	snprintf(op->peer, sizeof(op->peer), "%s", peer ? peer : "");
	snprintf(op->action, sizeof(op->action), "%s", action ? action : "");
	snprintf(op->target, sizeof(op->target), "%s", target ? target : "");
	snprintf(op->typed, sizeof(op->typed), "%s", target ? target : "");
	return op;
}

int jg_audit_set_argv(struct jg_audit_op *op, char *const *argv, size_t argc)
{
	if ((op->argv = calloc(argc + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < argc; i++)
		if ((op->argv[i] = strdup(argv[i])) == NULL)
			return -1;
	return 0;
}

int jg_audit_set_path(struct jg_audit_op *op, const char *path)
{
	free(op->path);
	op->path = strdup(path);
	return op->path == NULL ? -1 : 0;
}

int jg_audit_set_opened(struct jg_audit_op *op, const char *path)
{
	free(op->opened);
	op->opened = strdup(path);
	return op->opened == NULL ? -1 : 0;
}

/* A JSON string for bytes that may not be UTF-8 (a path, an argv element may hold any):
 * such bytes become "\\xNN" so the line stays valid JSON and nothing is lost. */
static json_t *any_string(const char *v)
{
	json_t *j = json_string(v);
	char *esc;
	size_t o = 0;

	if (j != NULL || (esc = malloc(strlen(v) * 4 + 1)) == NULL)
		return j;
	for (const unsigned char *c = (const unsigned char *)v; *c != '\0'; c++) {
		if (*c < 0x80)
			esc[o++] = (char)*c;
		else
			o += (size_t)sprintf(esc + o, "\\x%02x", *c);
	}
	esc[o] = '\0';
	j = json_string(esc);
	free(esc);
	return j;
}

char *jg_audit_format(const struct jg_audit_op *op, const char *event, const char *outcome,
		      const char *reason, const struct timespec *now, uint64_t duration_ms)
{
	char when[40], *text = NULL, *line = NULL;
	json_t *o = json_object(), *argv;
	struct tm tm;
	size_t n;

	if (o == NULL)
		return NULL;
	gmtime_r(&now->tv_sec, &tm);
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", now->tv_nsec / 1000000);
#define PUT_STR(k, v) json_object_set_new(o, k, any_string(v))
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "op", json_integer((json_int_t)op->id));
	PUT_STR("identity", op->identity);
	PUT_STR("peer", op->peer);
	PUT_STR("target", op->target);
	PUT_STR("target_typed", op->typed);
	if (op->dest[0] != '\0')
		PUT_STR("destination", op->dest);
	if (op->next_hop[0] != '\0')
		PUT_STR("next_hop", op->next_hop);
	json_object_set_new(o, "action", json_string(op->action));
	if (op->argv != NULL && (argv = json_array()) != NULL) {
		for (size_t i = 0; op->argv[i] != NULL; i++) {
			json_array_append_new(argv, any_string(op->argv[i]));
		}
		json_object_set_new(o, "argv", argv);
	}
	if (op->path != NULL)
		PUT_STR("path", op->path);
	if (op->opened != NULL && strcmp(event, "end") == 0)
		PUT_STR("opened", op->opened);
	if (op->root != NULL)
		PUT_STR("root", op->root);
	if (op->port != 0)
		json_object_set_new(o, "port", json_integer(op->port));
	if (op->host[0] != '\0')
		PUT_STR("host", op->host);
	if (op->agent != NULL)
		PUT_STR("forward_agent", op->agent);
	if (op->request != NULL) {
		PUT_STR("request", op->request);
		json_object_set_new(o, "status", json_integer(op->status));
	}
	if (strcmp(event, "end") == 0) {
		json_object_set_new(o, "bytes_in", json_integer((json_int_t)op->bytes_in));
		json_object_set_new(o, "bytes_out", json_integer((json_int_t)op->bytes_out));
		if (op->have_exit && op->signo > 0)
			json_object_set_new(o, "signal", json_integer(op->signo));
		else if (op->have_exit)
			json_object_set_new(o, "exit", json_integer(op->exit_code));
		json_object_set_new(o, "duration_ms", json_integer((json_int_t)duration_ms));
		json_object_set_new(o, "outcome", json_string(outcome ? outcome : "ok"));
		PUT_STR("reason", reason ? reason : "");
	}
#undef PUT_STR
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((line = malloc(n + 2)) != NULL) {
		memcpy(line, text, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
	free(text);
	return line;
}

/* One write(2) for the whole line: O_APPEND makes it atomic with respect to other
 * writers of regular files; a short write is logged, never continued. */
static void emit(struct jg_audit *a, const struct jg_audit_op *op, const char *event,
		 const char *outcome, const char *reason)
{
	struct timespec now;
	uint64_t ms;
	char *line;
	ssize_t w;

	if (a == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	ms = elapsed_ms(op);
	if ((line = jg_audit_format(op, event, outcome, reason, &now, ms)) == NULL) {
		jg_log_error("audit: op %llu %s: out of memory", (unsigned long long)op->id, event);
		return;
	}
	do
		w = write(a->fd, line, strlen(line));
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t)w != strlen(line))
		jg_log_error("audit: op %llu %s: write to %s failed: %s",
			     (unsigned long long)op->id, event, a->path ? a->path : "stderr",
			     w < 0 ? strerror(errno) : "short write");
	free(line);
}

void jg_audit_start(struct jg_audit *a, const struct jg_audit_op *op)
{
	emit(a, op, "start", NULL, NULL);
}

void jg_audit_end(struct jg_audit *a, struct jg_audit_op *op, const char *outcome,
		  const char *reason)
{
	if (op == NULL)
		return;
	emit(a, op, "end", outcome, reason);
	if (a != NULL && a->observer != NULL)
		a->observer(a->observer_ud, op, outcome, elapsed_ms(op));
	jg_audit_op_free(op);
}
