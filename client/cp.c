/* `jumpgate cp`: the command line, the plan, the schedule and the summary.
 *
 * Operands: TARGET:/ABSOLUTE/PATH is remote, split at the FIRST ":/" (a
 * target spec such as ssh:deploy@10.0.0.5:2222 has ':' in it but never ":/",
 * while a path may); anything starting with '/' or '.' is local, as is
 * anything without ':'.  A ':' without ":/" is refused: remote paths must be
 * absolute (the gateway does no ~ expansion), and ./a:b names a local file.
 *
 * Where things land never depends on what is already at the destination on
 * the target (there is no stat round trip): a DST ending in '/' (or several
 * SRCs) means "into this directory", and a SRC directory ending in '/' means
 * "its contents" (rsync's rule), so `cp -r site/ web1:/srv/site` and
 * `cp -r site web1:/srv/` both fill /srv/site.
 *
 * One connection carries every transfer, JG_CP_DEFAULT_STREAMS streams at a
 * time; a fan-out (several targets, a glob, a group) sends each file once to
 * the gateway, which writes it on every target (PUT /v1/files/...). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "client/agentrelay.h"
#include "client/batch.h"
#include "client/client.h"
#include "client/cp.h"
#include "client/help.h"
#include "client/opconn.h"
#include "client/walk.h"
#include "relay/err.h"
#include "relay/pct.h"

struct operand {
	const char *arg;
	char *target; /* NULL: local */
	const char *path;
};

/* ------------------------------------------------------------------ operands */

/* 0, or a usage error (printed) for an operand that looks remote without an absolute path. */
static int split_operand(const char *arg, struct operand *op)
{
	const char *sep = strstr(arg, ":/");
	const char *colon = strchr(arg, ':');

	op->arg = arg;
	op->target = NULL;
	op->path = arg;
	if (arg[0] == '/' || arg[0] == '.' || colon == NULL)
		return 0;
	if (sep == NULL || sep == arg)
		return jg_client_usage("cp: '%s': remote paths must be absolute (TARGET:/PATH); "
				       "write ./%s for a local file",
				       arg, arg);
	if ((op->target = strndup(arg, (size_t)(sep - arg))) == NULL)
		return jg_client_usage("out of memory");
	op->path = sep + 1;
	return 0;
}

static int ends_with_slash(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '/';
}

/* The last component of PATH, without trailing slashes, into BUF ("" for "/"). */
static void base_name(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);
	const char *s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (s = path + n; s > path && s[-1] != '/'; s--)
		;
	snprintf(buf, len, "%.*s", (int)(path + n - s), s);
	if (strcmp(buf, "/") == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		buf[0] = '\0';
}

/* DIR joined with NAME (DIR's trailing slashes folded); malloc'd. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *s;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (name[0] == '\0')
		return strndup(dir, n);
	if ((s = malloc(n + strlen(name) + 2)) == NULL)
		return NULL;
	sprintf(s, "%.*s%s%s", (int)n, dir, (n == 1 && dir[0] == '/') ? "" : "/", name);
	return s;
}

/* ------------------------------------------------------------------ the plan */

static struct jg_cp_item *plan_add(struct jg_cp *cp, enum jg_cp_kind kind, unsigned phase)
{
	struct jg_cp_item *it;

	if (cp->nitems == cp->cap) {
		size_t cap = cp->cap ? cp->cap * 2 : 64;
		struct jg_cp_item *v = realloc(cp->items, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		cp->items = v;
		cp->cap = cap;
	}
	it = &cp->items[cp->nitems];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->phase = phase;
	it->seq = cp->nitems++;
	return it;
}

static int cmp_items(const void *a, const void *b)
{
	const struct jg_cp_item *x = a, *y = b;

	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Phases: directories by depth (0: the roots), then files and symlinks, then the fixes of
 * directory modes and mtimes, deepest first (a parent made read-only last). */
#define PHASE_FILES(maxdepth) ((maxdepth) + 1)
#define PHASE_FIXUP(maxdepth, depth) ((maxdepth) + 2 + ((maxdepth) - (depth)))

static enum jg_cp_kind item_kind(enum jg_walk_kind k)
{
	switch (k) {
	case JG_WALK_DIR:
		return JG_CP_PUT_DIR;
	case JG_WALK_SYMLINK:
		return JG_CP_PUT_LINK;
	case JG_WALK_FILE:
	case JG_WALK_ERROR:
		break;
	}
	return JG_CP_PUT_FILE;
}

static int plan_tree(struct jg_cp *cp, const char *src, const char *dest, const char *target,
		     const struct jg_walk *w, unsigned maxdepth)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct jg_walk_entry *e = &w->v[i];
		mode_t mode = cp->preserve ? e->mode : e->mode & ~cp->umask & 0777;
		struct jg_cp_item *it;
		char *local;

		if (e->kind == JG_WALK_ERROR) {
			if ((local = join(src, e->rel)) == NULL)
				return JG_ERR_NOMEM;
			jg_cp_print(cp, "%s: %s", local, e->link);
			cp->nfailed++;
			free(local);
			continue;
		}
		/* A directory is created writable by us; its real mode (and with -p its mtime,
		 * which the files going in would change) is set in a last pass, the fix. */
		int need_fix = e->kind == JG_WALK_DIR && (cp->preserve || (mode & 0700) != 0700);

		for (int fix = 0; fix <= need_fix; fix++) {
			unsigned phase = e->depth;

			if (e->kind != JG_WALK_DIR)
				phase = PHASE_FILES(maxdepth);
			else if (fix)
				phase = PHASE_FIXUP(maxdepth, e->depth);
			it = plan_add(cp, item_kind(e->kind), phase);
			if (it == NULL)
				return JG_ERR_NOMEM;
			it->target = target;
			it->mode = e->kind == JG_WALK_DIR && !fix ? mode | 0700 : mode;
			it->mtime = e->mtime;
			it->size = (uint64_t)e->size;
			/* The root of the tree by its absolute path (parents made with --mkdirs);
			 * all beneath it relative to it, so nothing at the destination can turn a
			 * write aside (x-jumpgate-root). */
			if (e->depth == 0) {
				it->remote = strdup(dest);
				it->mkdirs = cp->mkdirs;
			} else {
				it->remote = strdup(e->rel);
				it->root = strdup(dest);
			}
			it->local = join(src, e->rel);
			if (e->link != NULL)
				it->link = strdup(e->link);
			if (it->remote == NULL || it->local == NULL ||
			    (e->depth > 0 && it->root == NULL) ||
			    (e->link != NULL && it->link == NULL))
				return JG_ERR_NOMEM;
			if (it->kind == JG_CP_PUT_FILE)
				jg_progress_expect(&cp->progress, it->size, 1);
		}
	}
	return 0;
}

/* Uploads: every SRC local, DST remote. 0, or an exit status. */
static int plan_upload(struct jg_cp *cp, struct operand *src, size_t nsrc, struct operand *dst)
{
	int into = ends_with_slash(dst->path) || nsrc > 1;
	struct jg_walk *walks = calloc(nsrc, sizeof(*walks));
	unsigned maxdepth = 0;
	char base[NAME_MAX + 1];
	int r = 0;

	if (walks == NULL)
		return JG_EXIT_FAILURE;
	/* Walk first: the phases depend on the deepest directory of all the trees. */
	for (size_t i = 0; i < nsrc; i++) {
		struct stat st;

		if (stat(src[i].path, &st) != 0) {
			jg_cp_print(cp, "%s: %s", src[i].path, strerror(errno));
			cp->nfailed++;
			src[i].path = NULL;
			continue;
		}
		if (S_ISDIR(st.st_mode) && !cp->recursive) {
			jg_cp_print(cp, "%s: is a directory (use -r)", src[i].path);
			cp->nfailed++;
			src[i].path = NULL;
			continue;
		}
		if (jg_walk(src[i].path, &walks[i]) != 0) {
			r = JG_EXIT_FAILURE;
			goto out;
		}
		for (size_t j = 0; j < walks[i].n; j++)
			if (walks[i].v[j].depth > maxdepth)
				maxdepth = walks[i].v[j].depth;
	}
	for (size_t i = 0; i < nsrc; i++) {
		int contents;
		char *dest;

		if (src[i].path == NULL || walks[i].n == 0)
			continue;
		contents = walks[i].v[0].kind == JG_WALK_DIR && ends_with_slash(src[i].path);
		base_name(src[i].path, base, sizeof(base));
		if (into && !contents && base[0] == '\0') {
			jg_cp_print(cp, "%s: cannot tell what to name it on the target",
				    src[i].path);
			cp->nfailed++;
			continue;
		}
		dest = into && !contents ? join(dst->path, base) : join(dst->path, "");
		if (dest == NULL ||
		    plan_tree(cp, src[i].path, dest, dst->target, &walks[i], maxdepth) != 0) {
			free(dest);
			r = JG_EXIT_FAILURE;
			goto out;
		}
		free(dest);
	}
	qsort(cp->items, cp->nitems, sizeof(*cp->items), cmp_items);
out:
	if (r != 0)
		jg_client_fail("out of memory");
	for (size_t i = 0; i < nsrc; i++)
		jg_walk_clear(&walks[i]);
	free(walks);
	return r;
}

/* Downloads: every SRC remote, DST local. 0, or an exit status. */
static int plan_download(struct jg_cp *cp, struct operand *src, size_t nsrc, struct operand *dst)
{
	struct stat st;
	int isdir = stat(dst->path, &st) == 0 && S_ISDIR(st.st_mode);
	char base[NAME_MAX + 1];

	if (cp->recursive)
		return jg_client_usage("cp: -r downloads are not supported; use "
				       "jumpgate exec TARGET -- tar cf - DIR | tar xf -");
	if (!isdir && (nsrc > 1 || ends_with_slash(dst->path)))
		return jg_client_usage("cp: %s: not a directory", dst->path);
	for (size_t i = 0; i < nsrc; i++) {
		struct jg_cp_item *it = plan_add(cp, JG_CP_GET, 0);

		base_name(src[i].path, base, sizeof(base));
		if (it == NULL)
			return JG_EXIT_FAILURE;
		it->target = src[i].target;
		if ((it->remote = strdup(src[i].path)) == NULL)
			return JG_EXIT_FAILURE;
		if (isdir && base[0] == '\0') {
			jg_cp_print(cp, "%s:%s: cannot tell what to name it here", it->target,
				    it->remote);
			it->failed = 1;
			cp->nfailed++;
			continue;
		}
		if ((it->local = isdir ? join(dst->path, base) : strdup(dst->path)) == NULL)
			return JG_EXIT_FAILURE;
		jg_progress_expect(&cp->progress, 0, 1);
	}
	return 0;
}

/* ------------------------------------------------------------------ the schedule */

void jg_cp_feed(struct jg_cp *cp)
{
	unsigned window = cp->streams * 2; /* queued beyond the streams: no gap between files */

	if (cp->feeding)
		return;
	cp->feeding = 1;
	for (;;) {
		while (cp->next < cp->nitems && cp->items[cp->next].phase == cp->phase &&
		       cp->active < window) {
			struct jg_cp_item *it = &cp->items[cp->next++];

			if (it->failed)
				continue;
			if (jg_batch_error(cp->batch)[0] != '\0') {
				/* The connection is gone or we were interrupted: count, do not
				 * start. */
				it->failed = 1;
				cp->nlost++;
				continue;
			}
			jg_cp_start(cp, it);
		}
		/* Nothing of this phase is left running or waiting: the next phase may start
		 * (its directories exist now). */
		if (cp->active > 0 || cp->next >= cp->nitems)
			break;
		cp->phase = cp->items[cp->next].phase;
	}
	cp->feeding = 0;
}

static void cp_idle(void *arg)
{
	jg_cp_feed(arg);
}

/* Does the plain name the upload goes to stand for a group?  The gateway knows. */
static void cp_resolved(void *arg, int status, struct evbuffer *body)
{
	struct jg_cp *cp = arg;
	const char *name = cp->fanout_label;
	json_t *root = NULL;

	if (status == 200)
		root = json_loadb((const char *)evbuffer_pullup(body, -1),
				  evbuffer_get_length(body), 0, NULL);
	if (json_is_array(root) &&
	    (json_array_size(root) > 1 ||
	     (json_array_size(root) == 1 &&
	      strcmp(json_string_value(json_array_get(root, 0)) ?: "", name) != 0))) {
		char enc[1024];

		if (jg_pct_encode(enc, sizeof(enc), name, NULL) == 0)
			cp->fanout_query = strdup(enc);
	}
	json_decref(root);
	jg_cp_feed(cp);
}

static void cp_ready(void *arg)
{
	struct jg_cp *cp = arg;
	const char *name = cp->fanout_label;
	char path[1200], enc[1024];

	/* A name that could be a group, here or at a site ("site-c/web"): ask before
	 * choosing one target or a fan-out. */
	if (name != NULL && cp->fanout_query == NULL && strchr(name, ':') == NULL &&
	    (strchr(name, '/') == NULL || strchr(strchr(name, '/') + 1, '/') == NULL) &&
	    jg_pct_encode(enc, sizeof(enc), name, NULL) == 0) {
		snprintf(path, sizeof(path), "/v1/targets?match=%s", enc);
		if (jg_batch_get(cp->batch, path, cp_resolved, cp) == 0)
			return;
	}
	jg_cp_feed(cp);
}

static const struct jg_batch_cbs cp_batch_cbs = {
    .ready = cp_ready,
    .idle = cp_idle,
};

static void on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct jg_cp *cp = arg;

	/* A second signal: the user insists, and the abort may be stuck behind a stalled
	 * gateway (the keepalive would take --timeout to notice): exit now. */
	if (cp->interrupted != 0)
		_exit(128 + (int)signo);
	cp->interrupted = (int)signo;
	jg_progress_clear(&cp->progress);
	jg_batch_abort(cp->batch, "interrupted");
}

/* ------------------------------------------------------------------ the command */

static int cp_parse(struct jg_cp *cp, int argc, char **argv)
{
	enum { OPT_MKDIRS = 256, OPT_CHECKSUM, OPT_RETRY };
	static const struct option longopts[] = {
	    {"recursive", no_argument, NULL, 'r'},
	    {"preserve", no_argument, NULL, 'p'},
	    {"mkdirs", no_argument, NULL, OPT_MKDIRS},
	    {"checksum", no_argument, NULL, OPT_CHECKSUM},
	    {"quiet", no_argument, NULL, 'q'},
	    {"streams", required_argument, NULL, 'j'},
	    {"forward-agent", no_argument, NULL, 'A'},
	    {"retry", no_argument, NULL, OPT_RETRY},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long n;
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":rpqj:Ah", longopts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			cp->agent++;
			break;
		case 'r':
			cp->recursive = 1;
			break;
		case 'p':
			cp->preserve = 1;
			break;
		case 'q':
			cp->quiet = 1;
			break;
		case OPT_MKDIRS:
			cp->mkdirs = 1;
			break;
		case OPT_CHECKSUM:
			cp->checksum = 1;
			break;
		case OPT_RETRY: /* writes are atomic: copying again is safe (failover.h) */
			cp->c->retry = 1;
			break;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 256)
				return jg_client_usage("cp: -j wants a number of streams, 1-256");
			cp->streams = (unsigned)n;
			break;
		case 'h':
			jg_help_cp();
			return -1;
		default:
			return jg_op_getopt_error("cp", ch, argv);
		}
	}
	if (argc - optind < 2)
		return jg_client_usage("cp: wants SRC... DST");
	return 0;
}

/* Classify the operands and plan.  0, or an exit status. */
static int cp_plan(struct jg_cp *cp, int argc, char **argv)
{
	size_t n = (size_t)(argc - optind), nsrc = n - 1, i, nremote = 0;
	struct operand *ops = calloc(n, sizeof(*ops));
	int r = 0;

	if (ops == NULL)
		return JG_EXIT_FAILURE;
	for (i = 0; i < n && r == 0; i++)
		r = split_operand(argv[optind + (int)i], &ops[i]);
	for (i = 0; i < nsrc; i++)
		nremote += ops[i].target != NULL;
	if (r != 0)
		goto out;
	if (ops[nsrc].target != NULL && nremote == 0) {
		const char *t = ops[nsrc].target;

		cp->fanout_label = t;
		/* Several targets or a glob: a fan-out for sure.  A plain name may be a group:
		 * cp_ready asks the gateway. */
		if (strpbrk(t, ",*?[") != NULL) {
			char *q = malloc(strlen(t) * 3 + 1), *o = q;
			char *dup = strdup(t), *save = NULL, *e;

			for (e = dup ? strtok_r(dup, ",", &save) : NULL; e != NULL && q != NULL;
			     e = strtok_r(NULL, ",", &save)) {
				if (o != q)
					*o++ = ',';
				jg_pct_encode(o, strlen(e) * 3 + 1, e, NULL);
				o += strlen(o);
			}
			free(dup);
			cp->fanout_query = q;
			if (q == NULL || o == q) {
				r = jg_client_usage("cp: no target in '%s'", t);
				goto out;
			}
		}
		r = plan_upload(cp, ops, nsrc, &ops[nsrc]);
	} else if (ops[nsrc].target == NULL && nremote == nsrc) {
		r = plan_download(cp, ops, nsrc, &ops[nsrc]);
	} else if (ops[nsrc].target != NULL && nremote == nsrc && nsrc >= 1) {
		/* Every operand remote: the first is the source, the others destinations. */
		char **dt = calloc(n - 1, sizeof(*dt));
		const char **dp = calloc(n - 1, sizeof(*dp));

		for (i = 1; dt != NULL && dp != NULL && i < n; i++) {
			dt[i - 1] = ops[i].target;
			dp[i - 1] = ops[i].path;
		}
		r = dt != NULL && dp != NULL
			? jg_cp_relay(cp, ops[0].target, ops[0].path, n - 1, dt, dp)
			: JG_EXIT_FAILURE;
		free(dt);
		free(dp);
		/* Done: nothing left for the batch (0 leaves an empty plan: exit 0). */
	} else if (ops[nsrc].target == NULL && nremote == 0) {
		r = jg_client_usage(
		    "cp: no remote operand (TARGET:/PATH); for local copies use cp");
	} else {
		r = jg_client_usage(
		    "cp: copies go from here to targets, from targets to here, or "
		    "between targets (every operand TARGET:/PATH), not both ways at once");
	}
out:
	/* The items borrow the targets: they are freed with the plan. */
	for (i = 0; i < n; i++) {
		if (ops[i].target == NULL)
			continue;
		if (r != 0) {
			free(ops[i].target);
			continue;
		}
		jg_argv_push_take(&cp->targets, ops[i].target);
		if (cp->targets.nomem)
			r = JG_EXIT_FAILURE;
	}
	free(ops);
	return r;
}

int jg_cmd_cp(struct jg_client *c, int argc, char **argv)
{
	struct jg_cp cp;
	struct event *sig[2] = {NULL, NULL};
	const int signos[2] = {SIGINT, SIGTERM};
	struct jg_agentrelay *agent = NULL;
	int r;

	memset(&cp, 0, sizeof(cp));
	cp.c = c;
	cp.streams = JG_CP_DEFAULT_STREAMS;
	cp.umask = umask(0);
	umask(cp.umask);
	if ((r = cp_parse(&cp, argc, argv)) != 0) {
		r = r < 0 ? 0 : r; /* -1: help was printed */
		goto out;
	}
	if ((r = jg_client_setup(c)) != 0)
		goto out;
	if (jg_progress_init(&cp.progress, c->base, !cp.quiet) != 0) {
		r = JG_EXIT_FAILURE;
		goto out;
	}
	if ((r = cp_plan(&cp, argc, argv)) != 0)
		goto out;
	r = JG_EXIT_FAILURE;
	for (int i = 0; i < 2; i++) {
		sig[i] = evsignal_new(c->base, signos[i], on_signal, &cp);
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) != 0) {
			jg_client_fail("cannot watch signals: %s", strerror(errno));
			goto out;
		}
	}
	if (cp.nitems == 0) {
		r = cp.nfailed > 0 ? 1 : 0;
		goto out;
	}
	if (cp.agent > 0) {
		if (cp.fanout_query != NULL) {
			r = jg_client_usage("cp: -A copies to one target at a time (a fan-out "
					    "upload does not forward the agent)");
			goto out;
		}
		if ((agent = jg_agentrelay_new(c, cp.items[0].target, cp.agent > 1 ? 2 : 1)) ==
		    NULL)
			goto out;
		/* Each request holds an agent stream too (client/batch.h). */
		cp.streams = cp.streams > 1 ? cp.streams / 2 : 1;
	}
	if ((cp.batch = jg_batch_new(c, cp.streams, &cp_batch_cbs, &cp)) == NULL)
		goto out;
	jg_batch_set_agent(cp.batch, agent);
	r = jg_batch_run(cp.batch);
	jg_cp_summary(&cp);
	if (cp.interrupted)
		r = 128 + cp.interrupted;
	else if (r == 0 && (cp.nfailed > 0 || cp.nlost > 0))
		r = 1;
	for (size_t i = 0; i < cp.ntstats && r == 0; i++)
		if (cp.tstats[i].failed > 0)
			r = 1;
out:
	jg_progress_free(&cp.progress);
	for (int i = 0; i < 2; i++)
		if (sig[i] != NULL)
			event_free(sig[i]);
	jg_batch_free(cp.batch);
	jg_agentrelay_free(agent);
	for (size_t i = 0; i < cp.nitems; i++) {
		free(cp.items[i].local);
		free(cp.items[i].remote);
		free(cp.items[i].root);
		free(cp.items[i].link);
	}
	free(cp.items);
	for (size_t i = 0; i < cp.ntstats; i++) {
		free(cp.tstats[i].name);
		free(cp.tstats[i].first_reason);
	}
	free(cp.tstats);
	jg_argv_clear(&cp.targets);
	free(cp.fanout_query);
	return r;
}
