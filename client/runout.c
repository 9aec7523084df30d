/* The output of `jumpgate run`: lines prefixed with their target as they
 * arrive, or gathered per target and grouped when identical (-b, as clush -b
 * does), or one JSON document (--json); then the closing summary.
 *
 * Prefix mode keeps only each target's unfinished last line (bounded by
 * JG_RUN_LINE_MAX: a longer line is cut there); -b and --json keep up to
 * JG_RUN_GATHER_MAX per target, and say when they dropped the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/nodeset.h"
#include "client/run.h"
#include "relay/json.h"

/* Write to OUT; a stdout that went away (`| head`) ends the run. */
static void out_write(struct jg_run *run, FILE *out, const void *p, size_t len)
{
	if (out == stderr)
		jg_run_progress_clear(run); /* our lines start on a clean one */
	if (len > 0 && fwrite(p, 1, len, out) != len && out == stdout && errno == EPIPE)
		run->out_broken = 1;
}

static void out_flush(struct jg_run *run, FILE *out)
{
	if (fflush(out) != 0 && out == stdout && errno == EPIPE)
		run->out_broken = 1;
}

/* One line (without its '\n') of T, prefixed. */
static void out_line(struct jg_run *run, struct jg_run_target *t, FILE *out, const uint8_t *p,
		     size_t len)
{
	out_write(run, out, t->name, strlen(t->name));
	out_write(run, out, ": ", 2);
	out_write(run, out, p, len);
	out_write(run, out, "\n", 1);
}

static int keep(struct jg_run_target *t, int k, const uint8_t *p, size_t len)
{
	size_t have;

	if (t->keep[k] == NULL && (t->keep[k] = evbuffer_new()) == NULL)
		return -1;
	have = (t->keep[0] ? evbuffer_get_length(t->keep[0]) : 0) +
	       (t->keep[1] ? evbuffer_get_length(t->keep[1]) : 0);
	if (have + len > JG_RUN_GATHER_MAX) {
		t->truncated = 1;
		len = have < JG_RUN_GATHER_MAX ? JG_RUN_GATHER_MAX - have : 0;
	}
	return evbuffer_add(t->keep[k], p, len);
}

void jg_run_output(struct jg_run *run, struct jg_run_target *t, int is_stderr, const uint8_t *p,
		   size_t len)
{
	int k = is_stderr ? 1 : 0;
	FILE *out = is_stderr ? stderr : stdout;
	struct evbuffer *b;

	switch (run->mode) {
	case JG_RUN_GATHER:
		/* -b keeps stderr apart, prefixed lines as they come, as clush -b does; -B
		 * gathers it with stdout. */
		if (!is_stderr || run->merge_stderr) {
			keep(t, 0, p, len);
			return;
		}
		break;
	case JG_RUN_JSON:
		keep(t, k, p, len);
		return;
	case JG_RUN_PREFIX:
		break;
	}
	if (t->line[k] == NULL && (t->line[k] = evbuffer_new()) == NULL)
		return;
	b = t->line[k];
	evbuffer_add(b, p, len);
	for (;;) {
		size_t n = evbuffer_get_length(b);
		const uint8_t *s = n ? evbuffer_pullup(b, -1) : NULL;
		const uint8_t *nl = s ? memchr(s, '\n', n) : NULL;

		if (nl != NULL) {
			out_line(run, t, out, s, (size_t)(nl - s));
			evbuffer_drain(b, (size_t)(nl - s) + 1);
		} else if (n >= JG_RUN_LINE_MAX) {
			out_line(run, t, out, s, JG_RUN_LINE_MAX);
			evbuffer_drain(b, JG_RUN_LINE_MAX);
		} else {
			break;
		}
	}
	out_flush(run, out);
}

void jg_run_flush(struct jg_run *run, struct jg_run_target *t)
{
	for (int k = 0; k < 2; k++) {
		struct evbuffer *b = t->line[k];
		FILE *out = k ? stderr : stdout;

		if (b == NULL || evbuffer_get_length(b) == 0)
			continue;
		/* The partial last line, ended for it. */
		out_line(run, t, out, evbuffer_pullup(b, -1), evbuffer_get_length(b));
		evbuffer_drain(b, evbuffer_get_length(b));
		out_flush(run, out);
	}
}

/* ------------------------------------------------------------------ -b */

static int same_output(struct jg_run_target *a, struct jg_run_target *b)
{
	size_t la = a->keep[0] ? evbuffer_get_length(a->keep[0]) : 0;
	size_t lb = b->keep[0] ? evbuffer_get_length(b->keep[0]) : 0;

	if (la != lb || a->truncated != b->truncated)
		return 0;
	return la == 0 ||
	       memcmp(evbuffer_pullup(a->keep[0], -1), evbuffer_pullup(b->keep[0], -1), la) == 0;
}

static void report_gathered(struct jg_run *run)
{
	/* group[i]: the first target with the same output as target i. */
	size_t *group = calloc(run->nt, sizeof(*group));
	const char **names = calloc(run->nt, sizeof(*names));
	static const char rule[] = "---------------\n";

	if (group == NULL || names == NULL) {
		free(group);
		free(names);
		return;
	}
	for (size_t i = 0; i < run->nt; i++) {
		group[i] = i;
		for (size_t j = 0; j < i; j++) {
			if (group[j] == j && same_output(&run->t[j], &run->t[i])) {
				group[i] = j;
				break;
			}
		}
	}
	for (size_t i = 0; i < run->nt && !run->out_broken; i++) {
		struct jg_run_target *t = &run->t[i];
		size_t len = t->keep[0] ? evbuffer_get_length(t->keep[0]) : 0, n = 0;
		const uint8_t *s;
		char count[32], *folded;

		if (group[i] != i || len == 0)
			continue; /* printed with its group; nothing printed: nothing to show */
		out_write(run, stdout, rule, sizeof(rule) - 1);
		for (size_t j = i; j < run->nt; j++)
			if (group[j] == i)
				names[n++] = run->t[j].name;
		/* web[1-15], as clush -b heads its blocks. */
		if ((folded = jg_nodeset_fold(names, n)) != NULL)
			out_write(run, stdout, folded, strlen(folded));
		free(folded);
		snprintf(count, sizeof(count), " (%zu)\n", n);
		out_write(run, stdout, count, strlen(count));
		out_write(run, stdout, rule, sizeof(rule) - 1);
		s = evbuffer_pullup(t->keep[0], -1);
		out_write(run, stdout, s, len);
		if (s[len - 1] != '\n')
			out_write(run, stdout, "\n", 1);
		if (t->truncated)
			fprintf(stdout, "[output cut at %u MiB]\n", JG_RUN_GATHER_MAX >> 20);
	}
	out_flush(run, stdout);
	free(group);
	free(names);
}

/* ------------------------------------------------------------------ --json */

/* B's bytes as a JSON string (JSON wants text: relay/json.h). */
static json_t *json_text(struct evbuffer *b)
{
	size_t n = b ? evbuffer_get_length(b) : 0;

	return jg_json_text(n ? evbuffer_pullup(b, -1) : (const void *)"", n);
}

static const char *outcome_name(enum jg_run_outcome o)
{
	switch (o) {
	case JG_RUN_OK:
		return "ok";
	case JG_RUN_FAILED:
		return "failed";
	case JG_RUN_UNREACHABLE:
		return "unreachable";
	case JG_RUN_DENIED:
		return "denied";
	case JG_RUN_PENDING:
		break;
	}
	return "unknown";
}

static void report_json(struct jg_run *run)
{
	json_t *all = json_array();

	for (size_t i = 0; i < run->nt && all != NULL; i++) {
		struct jg_run_target *t = &run->t[i];
		json_t *o = json_object();

		if (o == NULL)
			break;
		json_object_set_new(o, "target", json_string(t->name));
		json_object_set_new(o, "outcome", json_string(outcome_name(t->outcome)));
		json_object_set_new(
		    o, "exit", t->exited && !t->signaled ? json_integer(t->code) : json_null());
		json_object_set_new(
		    o, "signal", t->exited && t->signaled ? json_integer(t->signo) : json_null());
		json_object_set_new(o, "stdout", json_text(t->keep[0]));
		json_object_set_new(o, "stderr", json_text(t->keep[1]));
		json_object_set_new(o, "truncated", json_boolean(t->truncated));
		json_object_set_new(o, "error", t->error ? json_string(t->error) : json_null());
		json_array_append_new(all, o);
	}
	if (all == NULL || json_dumpf(all, stdout, JSON_INDENT(2)) != 0)
		fprintf(stderr, "jumpgate: cannot write the JSON document\n");
	out_write(run, stdout, "\n", 1);
	out_flush(run, stdout);
	json_decref(all);
}

void jg_run_report(struct jg_run *run)
{
	switch (run->mode) {
	case JG_RUN_GATHER:
		report_gathered(run);
		break;
	case JG_RUN_JSON:
		report_json(run);
		break;
	case JG_RUN_PREFIX:
		break;
	}
}

void jg_run_summary(struct jg_run *run)
{
	char denied[48] = "";

	/* Said only when some were: the usual three counts keep their shape for scripts. */
	if (run->ndenied > 0)
		snprintf(denied, sizeof(denied), ", %zu denied", run->ndenied);
	fprintf(stderr, "jumpgate: run: %zu target%s: %zu ok, %zu failed, %zu unreachable%s\n",
		run->nt, run->nt == 1 ? "" : "s", run->nok, run->nfailed, run->nunreachable,
		denied);
	for (size_t i = 0; i < run->nt; i++) {
		struct jg_run_target *t = &run->t[i];

		switch (t->outcome) {
		case JG_RUN_OK:
			break;
		case JG_RUN_FAILED:
			if (t->exited && t->signaled)
				fprintf(stderr, "jumpgate: failed: %s: killed by signal %d\n",
					t->name, t->signo);
			else if (t->exited)
				fprintf(stderr, "jumpgate: failed: %s: exit status %d\n", t->name,
					t->code);
			else
				fprintf(stderr, "jumpgate: failed: %s: %s\n", t->name,
					t->error ? t->error : "?");
			break;
		case JG_RUN_UNREACHABLE:
			fprintf(stderr, "jumpgate: unreachable: %s: %s\n", t->name,
				t->error ? t->error : "?");
			break;
		case JG_RUN_DENIED:
			fprintf(stderr, "jumpgate: denied: %s: %s\n", t->name,
				t->error ? t->error : "?");
			break;
		case JG_RUN_PENDING:
			fprintf(stderr, "jumpgate: not run: %s\n", t->name);
			break;
		}
	}
	fflush(stderr);
}
