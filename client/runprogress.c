/* The pending line of `jumpgate run -b` on a terminal: with the output held back until
 * every target is done, a long wait for an unreachable host would otherwise show nothing.
 * Redrawn from a timer (4 times a second), never when stderr is not a terminal, so that
 * logs and pipes get no carriage returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/nodeset.h"
#include "client/run.h"
#include "relay/err.h"

#define TICK_MS 250

void jg_run_progress_format(const struct jg_run *run, unsigned width, char *buf, size_t len)
{
	const char **names = calloc(run->nt ? run->nt : 1, sizeof(*names));
	size_t n = 0, done;
	char *folded;
	int w;

	for (size_t i = 0; names != NULL && i < run->nt; i++)
		if (run->t[i].outcome == JG_RUN_PENDING)
			names[n++] = run->t[i].name;
	done = run->nt - n;
	folded = names != NULL ? jg_nodeset_fold(names, n) : NULL;
	w = snprintf(buf, len, "jumpgate: run: %zu/%zu done, waiting for %s", done, run->nt,
		     folded != NULL ? folded : "?");
	/* One terminal line: cut with an ellipsis rather than wrap (a wrapped line cannot be
	 * erased with one carriage return). */
	if (width > 4 && w > 0 && (size_t)w >= width && width < len)
		snprintf(buf + width - 4, len - (width - 4), "...");
	free(folded);
	free(names);
}

static void draw(struct jg_run *run)
{
	struct winsize ws;
	unsigned width = 80;
	char line[1024];

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	jg_run_progress_format(run, width, line, sizeof(line));
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	run->progress_drawn = 1;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	draw(arg);
}

int jg_run_progress_start(struct jg_run *run, struct event_base *base)
{
	struct timeval tv = {0, TICK_MS * 1000};

	if (run->tick != NULL || run->mode == JG_RUN_PREFIX || !isatty(STDERR_FILENO))
		return 0;
	if ((run->tick = event_new(base, -1, EV_PERSIST, on_tick, run)) == NULL ||
	    event_add(run->tick, &tv) != 0)
		return JG_ERR_NOMEM;
	return 0;
}

void jg_run_progress_clear(struct jg_run *run)
{
	if (!run->progress_drawn)
		return;
	fputs("\r\033[K", stderr);
	run->progress_drawn = 0;
}

void jg_run_progress_stop(struct jg_run *run)
{
	jg_run_progress_clear(run);
	fflush(stderr);
	if (run->tick != NULL)
		event_free(run->tick);
	run->tick = NULL;
}
