/* `jumpgate run TARGETS -- ARGV...`: one command on many targets, every exec
 * stream on one connection, at most --fanout of them in flight.
 *
 * TARGETS is a comma list.  An element with ':' or two '/' is a target spec and
 * used as is; any other element (a name, a glob, a group, each maybe behind a
 * site: "site-c/web*") is expanded by the gateway (GET
 * /v1/targets?match=ELEMENT, all asked at once; a site's are listed there): an answer of
 * several names, or of one other name, replaces the element; no answer (or an
 * empty one) leaves a plain name as it is (a host name) but is an error for a
 * glob, which must match something.  Duplicates run once, in first-seen order.
 *
 * Each exec is the stream client/exec.c makes, with stdin at its end at once:
 * the request body is OPEN then EOF.  States of a target: PENDING (queued or
 * running), then one outcome. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>

#include "client/agentrelay.h"
#include "client/batch.h"
#include "client/client.h"
#include "client/help.h"
#include "client/opconn.h"
#include "client/run.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/pct.h"
#include "relay/spec.h"

/* Room for /v1/targets/<encoded target>/exec. */
#define RUN_PATH_MAX 4096

static void target_end(struct jg_run *run, struct jg_run_target *t, enum jg_run_outcome o,
		       const char *why)
{
	if (t->outcome != JG_RUN_PENDING)
		return;
	t->outcome = o;
	if (why != NULL && t->error == NULL)
		t->error = strdup(why);
	if (o == JG_RUN_OK)
		run->nok++;
	else if (o == JG_RUN_FAILED)
		run->nfailed++;
	else if (o == JG_RUN_DENIED)
		run->ndenied++;
	else
		run->nunreachable++;
	jg_run_flush(run, t);
	if (t->dec != NULL) {
		jg_frame_decoder_free(t->dec);
		t->dec = NULL;
	}
}

/* ------------------------------------------------------------------ one exec stream */

static int t_header(void *arg, const char *name, const char *value)
{
	struct jg_run_target *t = arg;

	if (strcmp(name, ":status") == 0 && t->http_status == 0)
		t->http_status = atoi(value);
	return 0;
}

static int t_frame(struct jg_run *run, struct jg_run_target *t, const struct jg_frame *f)
{
	char why[1024];

	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_DATA:
		jg_run_output(run, t, (f->flags & JG_DATA_STDERR) != 0, f->payload, f->length);
		return run->out_broken ? -1 : 0;
	case JG_FRAME_EXIT:
		t->exited = 1;
		if (f->flags & JG_EXIT_SIGNALED) {
			t->signaled = 1;
			t->signo = (int)(f->aux & 0x7f);
		} else {
			t->code = (int)f->aux;
		}
		target_end(run, t, !t->signaled && t->code == 0 ? JG_RUN_OK : JG_RUN_FAILED, NULL);
		return 0;
	case JG_FRAME_DEAD:
		snprintf(why, sizeof(why), "%.*s", (int)f->length, (const char *)f->payload);
		jg_op_blank_controls(why);
		target_end(run, t, JG_RUN_UNREACHABLE, why);
		return 0;
	case JG_FRAME_EOF:
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_OPEN_OK:
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_WINDOW:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
	case JG_FRAME_CLOSE:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
		return 0; /* output EOFs need nothing; the rest is not for a client */
	}
	return 0;
}

static int t_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_run_target *t = arg;
	struct jg_run *run = t->run;
	struct jg_frame f;
	int r;

	if (t->http_status != 200) {
		jg_op_errbody_add(t->errbody, data, len);
		return 0;
	}
	if (t->outcome != JG_RUN_PENDING || t->dec == NULL)
		return 0;
	if (jg_frame_decoder_feed(t->dec, data, len) != 0) {
		target_end(run, t, JG_RUN_UNREACHABLE, "out of memory decoding the response");
		return -1;
	}
	while (t->outcome == JG_RUN_PENDING && (r = jg_frame_decoder_next(t->dec, &f)) != 0) {
		if (r < 0) {
			char why[600];

			snprintf(why, sizeof(why), "bad response from the gateway: %s",
				 jg_frame_decoder_error(t->dec));
			target_end(run, t, JG_RUN_UNREACHABLE, why);
			return -1;
		}
		if (t_frame(run, t, &f) != 0)
			return -1;
	}
	return 0;
}

static ssize_t t_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct jg_run_target *t = arg;
	int n;

	if (evbuffer_get_length(t->body) == 0) {
		*eof = 1;
		return 0;
	}
	n = evbuffer_remove(t->body, buf, len);
	return n < 0 ? JG_ERR_NOMEM : n;
}

static void t_close(void *arg, uint32_t h2_error)
{
	struct jg_run_target *t = arg;
	struct jg_run *run = t->run;
	char why[600];

	if (t->outcome != JG_RUN_PENDING)
		goto out;
	if (run->out_broken) {
		target_end(run, t, JG_RUN_UNREACHABLE, "abandoned: stdout was closed");
	} else if (h2_error == JG_BATCH_LOST) {
		snprintf(why, sizeof(why), "%s", jg_batch_error(run->batch));
		target_end(run, t, JG_RUN_UNREACHABLE, why);
	} else if (t->http_status != 200 && t->http_status != 0) {
		jg_batch_reason(t->errbody, t->http_status, why, sizeof(why));
		/* 422: the target was reached, the program could not start: a failure of the
		 * command, not of the target.  403: the policy said no; nothing was dialled. */
		target_end(run, t,
			   t->http_status == 422   ? JG_RUN_FAILED
			   : t->http_status == 403 ? JG_RUN_DENIED
						   : JG_RUN_UNREACHABLE,
			   why);
	} else if (h2_error != 0) {
		snprintf(why, sizeof(why), "the gateway reset the stream (%s)",
			 nghttp2_http2_strerror(h2_error));
		target_end(run, t, JG_RUN_UNREACHABLE, why);
	} else {
		target_end(run, t, JG_RUN_UNREACHABLE,
			   "the gateway ended the stream without an exit status");
	}
out:
	if (run->out_broken)
		jg_batch_abort(run->batch, "stdout was closed");
}

static const struct jg_h2client_stream_cbs run_stream_cbs = {
    .header = t_header,
    .data = t_data,
    .body = t_body,
    .close = t_close,
};

/* Queue target T's exec stream. 0, or -1 (T is then unreachable, with the reason). */
static int target_queue(struct jg_run *run, struct jg_run_target *t, struct evbuffer *open)
{
	const char *why = "out of memory";

	t->run = run;
	t->body = evbuffer_new();
	t->errbody = evbuffer_new();
	t->dec = jg_frame_decoder_new(0);
	t->req.path = malloc(RUN_PATH_MAX);
	if (t->body == NULL || t->errbody == NULL || t->dec == NULL || t->req.path == NULL)
		goto fail;
	if (jg_client_target_path(t->req.path, RUN_PATH_MAX, t->name, "exec") != 0) {
		why = "the target name is too long";
		goto fail;
	}
	if (evbuffer_add(t->body, evbuffer_pullup(open, -1), evbuffer_get_length(open)) != 0 ||
	    jg_frame_put(t->body, JG_FRAME_EOF, 0, 0, 0, NULL, 0) != 0)
		goto fail;
	t->req.method = "POST";
	t->req.cbs = &run_stream_cbs;
	t->req.arg = t;
	jg_batch_header(&t->req, "content-type", "application/x-jumpgate-frames");
	jg_batch_header(&t->req, "user-agent", "jumpgate/" PACKAGE_VERSION);
	t->req.agent = run->agent > 0;
	jg_batch_add(run->batch, &t->req);
	return 0;
fail:
	target_end(run, t, JG_RUN_UNREACHABLE, why);
	return -1;
}

/* ------------------------------------------------------------------ targets */

/* A target spec used as written: a ':' (ssh:..., a chain's sudo:app) or more than one
 * '/'.  A name, glob or group -- here or at a site ("site-c/web*") -- is looked up. */
static int is_spec(const char *e)
{
	const char *slash = strchr(e, '/');

	return strchr(e, ':') != NULL || (slash != NULL && strchr(slash + 1, '/') != NULL);
}

static int is_glob(const char *e)
{
	return strpbrk(e, "*?[") != NULL;
}

/* The expanded list: every element's names in order, each name once. */
static int run_build_targets(struct jg_run *run)
{
	size_t cap = 0;

	for (size_t i = 0; i < run->nelems; i++) {
		char *single[2] = {run->elems[i], NULL};
		char **names = run->expanded[i] != NULL ? run->expanded[i] : single;

		for (char **n = names; *n != NULL; n++) {
			size_t j;

			for (j = 0; j < run->nt && strcmp(run->t[j].name, *n) != 0; j++)
				;
			if (j < run->nt)
				continue;
			if (run->nt == cap) {
				struct jg_run_target *v;

				cap = cap ? cap * 2 : 16;
				if ((v = realloc(run->t, cap * sizeof(*v))) == NULL)
					return -1;
				run->t = v;
			}
			memset(&run->t[run->nt], 0, sizeof(run->t[0]));
			if ((run->t[run->nt].name = strdup(*n)) == NULL)
				return -1;
			run->nt++;
		}
	}
	return 0;
}

/* Every lookup answered: build the list and queue one exec per target. */
static void run_start(struct jg_run *run)
{
	struct jg_exec_spec spec = {.argv = run->argv, .argc = run->argc};
	struct evbuffer *specbuf = evbuffer_new(), *open = evbuffer_new();
	int r;

	if (run->expand_failed)
		goto out;
	if (specbuf == NULL || open == NULL || run_build_targets(run) != 0) {
		jg_client_fail("out of memory");
		run->expand_failed = 1;
		goto out;
	}
	if ((r = jg_exec_spec_encode(&spec, specbuf)) != 0 ||
	    (r = jg_frame_put(open, JG_FRAME_OPEN, 0, 0, JG_OPEN_EXEC, evbuffer_pullup(specbuf, -1),
			      (uint32_t)evbuffer_get_length(specbuf))) != 0) {
		jg_client_fail("cannot encode the command: %s",
			       r == JG_ERR_TOOBIG ? "it is too long" : jg_strerror(r));
		run->expand_failed = 1;
		goto out;
	}
	if (jg_run_progress_start(run, run->base) != 0)
		jg_client_fail("out of memory for the progress line (going on without)");
	for (size_t i = 0; i < run->nt; i++)
		target_queue(run, &run->t[i], open);
out:
	if (specbuf != NULL)
		evbuffer_free(specbuf);
	if (open != NULL)
		evbuffer_free(open);
}

struct lookup {
	struct jg_run *run;
	size_t elem;
};

static void run_expanded(void *arg, int status, struct evbuffer *body)
{
	struct lookup *lk = arg;
	struct jg_run *run = lk->run;
	const char *e = run->elems[lk->elem];
	json_t *root = NULL, *v;
	size_t i, n = 0;
	char why[600];

	if (status == 200)
		root = json_loadb((const char *)evbuffer_pullup(body, -1),
				  evbuffer_get_length(body), 0, NULL);
	if (json_is_array(root))
		n = json_array_size(root);
	if (n > 0 && (run->expanded[lk->elem] = calloc(n + 1, sizeof(char *))) != NULL) {
		json_array_foreach(root, i, v)
		{
			const char *s = json_string_value(v);

			if (s == NULL || (run->expanded[lk->elem][i] = strdup(s)) == NULL) {
				run->expanded[lk->elem][i] = NULL;
				break;
			}
		}
	} else if (is_glob(e)) {
		if (status == 200)
			snprintf(why, sizeof(why), "'%s' matches no target", e);
		else
			jg_batch_reason(body, status, why, sizeof(why));
		jg_client_fail("run: cannot expand '%s': %s", e, why);
		run->expand_failed = 1;
	}
	json_decref(root);
	free(lk);
	if (--run->pending_lookups == 0)
		run_start(run);
}

static void run_ready(void *arg)
{
	struct jg_run *run = arg;
	char path[1200], enc[1024];

	run->pending_lookups = 1; /* held while queueing: the last answer starts the run */
	for (size_t i = 0; i < run->nelems; i++) {
		struct lookup *lk;

		if (is_spec(run->elems[i]))
			continue;
		if (jg_pct_encode(enc, sizeof(enc), run->elems[i], NULL) != 0 ||
		    (lk = malloc(sizeof(*lk))) == NULL) {
			jg_client_fail("run: cannot look up '%s'", run->elems[i]);
			run->expand_failed = 1;
			continue;
		}
		lk->run = run;
		lk->elem = i;
		snprintf(path, sizeof(path), "/v1/targets?match=%s", enc);
		run->pending_lookups++;
		if (jg_batch_get(run->batch, path, run_expanded, lk) != 0) {
			run->pending_lookups--;
			free(lk);
			run->expand_failed = 1;
		}
	}
	if (--run->pending_lookups == 0)
		run_start(run);
}

static void run_idle(void *arg)
{
	/* Every exec has ended: the batch says goodbye. */
}

static const struct jg_batch_cbs run_batch_cbs = {
    .ready = run_ready,
    .idle = run_idle,
};

static void on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct jg_run *run = arg;

	/* A second signal: the user insists, and the abort may be stuck behind a stalled
	 * gateway (the keepalive would take --timeout to notice): exit now. */
	if (run->interrupted != 0)
		_exit(128 + (int)signo);
	run->interrupted = (int)signo;
	jg_batch_abort(run->batch, "interrupted");
}

/* ------------------------------------------------------------------ the command */

/* Parse `run [--fanout N] [-b | -B | --json] TARGETS -- ARGV...`.
 * 0, -1 (help), or an exit status. */
static int run_parse(struct jg_run *run, int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option longopts[] = {
	    {"fanout", required_argument, NULL, 'f'},
	    {"gather", no_argument, NULL, 'b'},
	    {"gather-all", no_argument, NULL, 'B'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"forward-agent", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end, *dup, *save = NULL, *e;
	long n;
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:bBAh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			run->agent++;
			break;
		case 'f':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || n < 1 || n > 1024)
				return jg_client_usage("run: --fanout wants a number, 1-1024");
			run->fanout = (unsigned)n;
			break;
		case 'b':
		case 'B': /* clush -B: stderr gathered with stdout */
			run->mode = JG_RUN_GATHER;
			run->merge_stderr = ch == 'B';
			break;
		case OPT_JSON:
			run->mode = JG_RUN_JSON;
			break;
		case 'h':
			jg_help_run();
			return -1;
		default:
			return jg_op_getopt_error("run", ch, argv);
		}
	}
	if (optind >= argc || argv[optind][0] == '\0')
		return jg_client_usage("run: no TARGETS given");
	run->operand = dup = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return jg_client_usage("run: no command given after TARGETS --");
	run->argv = argv + optind;
	run->argc = (size_t)(argc - optind);
	if ((dup = strdup(dup)) == NULL ||
	    (run->elems = calloc(strlen(dup) / 2 + 2, sizeof(char *))) == NULL) {
		free(dup);
		return JG_EXIT_FAILURE;
	}
	for (e = strtok_r(dup, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save))
		if ((run->elems[run->nelems++] = strdup(e)) == NULL)
			break;
	free(dup);
	if (run->nelems == 0)
		return jg_client_usage("run: no target in TARGETS");
	if ((run->expanded = calloc(run->nelems, sizeof(char **))) == NULL)
		return JG_EXIT_FAILURE;
	return 0;
}

static void run_free(struct jg_run *run)
{
	for (size_t i = 0; i < run->nt; i++) {
		struct jg_run_target *t = &run->t[i];

		free(t->name);
		free(t->error);
		free(t->req.path);
		if (t->dec != NULL)
			jg_frame_decoder_free(t->dec);
		if (t->body != NULL)
			evbuffer_free(t->body);
		if (t->errbody != NULL)
			evbuffer_free(t->errbody);
		for (int k = 0; k < 2; k++) {
			if (t->line[k] != NULL)
				evbuffer_free(t->line[k]);
			if (t->keep[k] != NULL)
				evbuffer_free(t->keep[k]);
		}
	}
	free(run->t);
	for (size_t i = 0; i < run->nelems; i++) {
		for (char **n = run->expanded ? run->expanded[i] : NULL; n != NULL && *n != NULL;
		     n++)
			free(*n);
		if (run->expanded != NULL)
			free(run->expanded[i]);
		free(run->elems[i]);
	}
	free(run->expanded);
	free(run->elems);
}

/* The exit status bits (run.h): which outcomes there were.  Targets still pending when the
 * connection died count as unreachable (the summary names them "not run"). */
static int run_status(const struct jg_run *run)
{
	int r = 0;

	if (run->nfailed > 0)
		r |= JG_RUN_EXIT_FAILED;
	if (run->nunreachable > 0 ||
	    run->nok + run->nfailed + run->nunreachable + run->ndenied < run->nt)
		r |= JG_RUN_EXIT_UNREACHABLE;
	if (run->ndenied > 0)
		r |= JG_RUN_EXIT_DENIED;
	return r;
}

int jg_cmd_run(struct jg_client *c, int argc, char **argv)
{
	struct jg_run run;
	struct event *sig[3] = {NULL, NULL, NULL};
	const int signos[3] = {SIGINT, SIGTERM, SIGHUP};
	struct jg_agentrelay *agent = NULL;
	int r;

	memset(&run, 0, sizeof(run));
	run.fanout = JG_RUN_DEFAULT_FANOUT;
	run.base = c->base;
	if ((r = run_parse(&run, argc, argv)) != 0) {
		r = r < 0 ? 0 : r;
		goto out;
	}
	if ((r = jg_client_setup(c)) != 0)
		goto out;
	r = JG_EXIT_FAILURE;
	for (int i = 0; i < 3; i++) {
		sig[i] = evsignal_new(c->base, signos[i], on_signal, &run);
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) != 0) {
			jg_client_fail("cannot watch signals: %s", strerror(errno));
			goto out;
		}
	}
	if (run.agent > 0) {
		/* One check of the agent, named after the TARGETS operand. */
		if ((agent = jg_agentrelay_new(c, run.operand, run.agent > 1 ? 2 : 1)) == NULL)
			goto out;
		/* Each request holds an agent stream too (client/batch.h). */
		run.fanout = run.fanout > 1 ? run.fanout / 2 : 1;
	}
	if ((run.batch = jg_batch_new(c, run.fanout, &run_batch_cbs, &run)) == NULL)
		goto out;
	jg_batch_set_agent(run.batch, agent);
	r = jg_batch_run(run.batch);
	jg_run_progress_stop(&run);
	if (run.expand_failed || (r != 0 && run.nt == 0)) {
		r = run.expand_failed ? 1 : r;
		goto out;
	}
	jg_run_report(&run);
	/* No summary once stdout is gone (`| head`): exit quietly, as a local program would. */
	if (run.mode != JG_RUN_JSON && !run.out_broken)
		jg_run_summary(&run);
	if (run.out_broken)
		r = 128 + SIGPIPE;
	else if (run.interrupted)
		r = 128 + run.interrupted;
	else
		r = run_status(&run);
out:
	for (int i = 0; i < 3; i++)
		if (sig[i] != NULL)
			event_free(sig[i]);
	jg_batch_free(run.batch);
	jg_agentrelay_free(agent);
	run_free(&run);
	return r;
}
