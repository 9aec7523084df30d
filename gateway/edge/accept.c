/* Listener back-off (accept.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "gateway/edge/accept.h"
#include "relay/clock.h"
#include "relay/log.h"

/* How long a listener sleeps after running out of descriptors: long enough that a flood
 * costs no CPU, short enough that a freed descriptor is used soon. */
#define PAUSE_MS 200
/* At most one log line per this interval, whatever the failures in between. */
#define LOG_INTERVAL_MS 10000

struct jg_accept_guard {
	struct evconnlistener *lst;
	struct event *resume;
	char what[120];
	uint64_t failures;  /* since the last line */
	uint64_t logged_ms; /* CLOCK_MONOTONIC of the last line, 0: never */
};

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct jg_accept_guard *g = arg;

	evconnlistener_enable(g->lst);
}

struct jg_accept_guard *jg_accept_guard_new(struct event_base *base, struct evconnlistener *lst,
					    const char *what)
{
	struct jg_accept_guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->lst = lst;
	snprintf(g->what, sizeof(g->what), "%s", what);
	if ((g->resume = evtimer_new(base, on_resume, g)) == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

void jg_accept_guard_error(struct jg_accept_guard *g, int err)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = PAUSE_MS * 1000};
	int exhausted = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	uint64_t now = jg_clock_ms();

	g->failures++;
	if (exhausted) {
		evconnlistener_disable(g->lst);
		evtimer_add(g->resume, &tv);
	}
	if (g->logged_ms != 0 && now - g->logged_ms < LOG_INTERVAL_MS)
		return;
	if (exhausted)
		jg_log_error("%s: accept failed: %s (%llu time(s) in the last %u s): pausing "
			     "new connections %u ms at a time until descriptors are free",
			     g->what, strerror(err), (unsigned long long)g->failures,
			     LOG_INTERVAL_MS / 1000, PAUSE_MS);
	else
		jg_log_error("%s: accept failed: %s (%llu time(s) in the last %u s)", g->what,
			     strerror(err), (unsigned long long)g->failures,
			     LOG_INTERVAL_MS / 1000);
	g->failures = 0;
	g->logged_ms = now;
}

void jg_accept_guard_free(struct jg_accept_guard *g)
{
	if (g == NULL)
		return;
	event_free(g->resume);
	free(g);
}
