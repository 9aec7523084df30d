/* `jumpgate cp`: what happened -- one line per failure as it happens (bounded),
 * the per-target outcome of a fan-out, and the closing table and counts. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/cp.h"

/* Failure lines printed in full; beyond, they are counted in the closing line. */
#define CP_PRINT_MAX 100
/* Per target of a fan-out: the rest is in the summary table. */
#define CP_PRINT_PER_TARGET 3

void jg_cp_print(struct jg_cp *cp, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	jg_progress_clear(&cp->progress);
	jg_client_fail("%s", line);
}

/* The remote path of ITEM as a person reads it: ROOT/REL. */
static void item_path(const struct jg_cp_item *it, char *buf, size_t len)
{
	if (it->kind == JG_CP_GET)
		snprintf(buf, len, "%s", it->remote);
	else if (it->root != NULL)
		snprintf(buf, len, "%s%s%s", it->root, it->remote[0] ? "/" : "", it->remote);
	else
		snprintf(buf, len, "%s", it->remote);
}

void jg_cp_fail(struct jg_cp *cp, struct jg_cp_item *item, const char *target, const char *reason)
{
	char path[PATH_MAX * 2];

	cp->nfailed++;
	if (item != NULL)
		item->failed = 1;
	if (cp->printed++ >= CP_PRINT_MAX)
		return;
	if (item == NULL) {
		jg_cp_print(cp, "%s", reason);
		return;
	}
	item_path(item, path, sizeof(path));
	if (target == NULL)
		target = cp->fanout_query != NULL ? cp->fanout_label : item->target;
	jg_cp_print(cp, "%s:%s: %s", target, path, reason);
}

void jg_cp_target_result(struct jg_cp *cp, struct jg_cp_item *item, const char *target, int ok,
			 uint64_t bytes, const char *reason)
{
	struct jg_cp_tstat *t = NULL;
	char path[PATH_MAX * 2];

	for (size_t i = 0; i < cp->ntstats && t == NULL; i++)
		if (strcmp(cp->tstats[i].name, target) == 0)
			t = &cp->tstats[i];
	if (t == NULL) {
		struct jg_cp_tstat *v = realloc(cp->tstats, (cp->ntstats + 1) * sizeof(*v));

		if (v == NULL)
			return;
		cp->tstats = v;
		t = &v[cp->ntstats];
		memset(t, 0, sizeof(*t));
		if ((t->name = strdup(target)) == NULL)
			return;
		cp->ntstats++;
	}
	if (ok) {
		t->ok++;
		t->bytes += bytes;
		return;
	}
	t->failed++;
	item->failed = 1;
	if (t->first_reason == NULL)
		t->first_reason = strdup(reason);
	if (t->reported++ < CP_PRINT_PER_TARGET && cp->printed++ < CP_PRINT_MAX) {
		item_path(item, path, sizeof(path));
		jg_cp_print(cp, "%s:%s: %s", target, path, reason);
	}
}

/* ------------------------------------------------------------------ summary */

void jg_cp_summary(struct jg_cp *cp)
{
	char b[32];
	int w = 6; /* "TARGET" */

	jg_progress_finish(&cp->progress);
	if (cp->fanout_query != NULL && !cp->quiet && cp->ntstats > 0) {
		/* Columns: the targets' names as wide as the widest; OK and FAILED count entries
		 * (files, directories, symlinks); RESULT ends the line, with the first reason. */
		for (size_t i = 0; i < cp->ntstats; i++)
			if ((int)strlen(cp->tstats[i].name) > w)
				w = (int)strlen(cp->tstats[i].name);
		printf("%-*s %8s %8s %12s  %s\n", w, "TARGET", "OK", "FAILED", "BYTES", "RESULT");
		for (size_t i = 0; i < cp->ntstats; i++) {
			struct jg_cp_tstat *t = &cp->tstats[i];

			jg_progress_bytes(b, sizeof(b), t->bytes);
			printf("%-*s %8zu %8zu %12s  %s%s\n", w, t->name, t->ok, t->failed, b,
			       t->failed ? "failed: " : "ok",
			       t->failed && t->first_reason ? t->first_reason : "");
		}
		fflush(stdout);
	}
	if (cp->printed > CP_PRINT_MAX)
		jg_client_fail("... %zu more failures not shown", cp->printed - CP_PRINT_MAX);
	if (cp->nlost > 0)
		jg_client_fail("%zu transfer%s not done: %s", cp->nlost, cp->nlost == 1 ? "" : "s",
			       jg_batch_error(cp->batch));
}
