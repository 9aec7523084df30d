/* The onward setup queue (setupq.h). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/onward/setupq.h"
#include "relay/err.h"
#include "relay/clock.h"
#include "relay/log.h"

/* Descriptors short: look again this often (a setup leaving looks at once). */
#define RETRY_MS 200
/* At most one line per this interval about setups waiting for descriptors. */
#define LOG_INTERVAL_MS 10000

struct jg_setupq {
	struct jg_setupq_entry *wait_head, *wait_tail;
	struct jg_setupq_entry *running; /* a list, at most max_onward_setups long */
	size_t nwaiting, nrunning;
	const char *acting; /* borrowed for the duration of a request callback */
	struct event *kick; /* runs the queue from the loop */
	uint64_t logged_ms;
};

/* Descriptors open in this process (-1 when /proc is not there). */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* Enough descriptors free to start one more setup, keeping the reserve. */
static int fds_allow(struct jg_gateway *gw, struct jg_setupq *q)
{
	uint64_t reserve = gw->nofile / 8 > 64 ? gw->nofile / 8 : 64;
	long open = gw->nofile > 0 ? open_fds() : -1;
	uint64_t now;

	if (open < 0 || (uint64_t)open + reserve < gw->nofile)
		return 1;
	now = jg_clock_ms();
	if (q->logged_ms == 0 || now - q->logged_ms >= LOG_INTERVAL_MS) {
		jg_log_warn("%ld of %llu descriptors in use: %zu onward connection setup(s) wait "
			    "until %llu are free",
			    open, (unsigned long long)gw->nofile, q->nwaiting,
			    (unsigned long long)reserve);
		q->logged_ms = now;
	}
	return 0;
}

static size_t running_for(const struct jg_setupq *q, const char *identity)
{
	size_t n = 0;

	for (const struct jg_setupq_entry *e = q->running; e != NULL; e = e->next)
		if (strcmp(e->identity, identity) == 0)
			n++;
	return n;
}

/* May an entry of IDENTITY start now (limits only)? */
static int may_start(const struct jg_gateway *gw, const struct jg_setupq *q, const char *identity)
{
	uint32_t max = gw->cfg->max_onward_setups, per = gw->cfg->max_onward_setups_per_identity;

	if (max > 0 && q->nrunning >= max)
		return 0;
	return per == 0 || identity[0] == '\0' || running_for(q, identity) < per;
}

static void wait_unlink(struct jg_setupq *q, struct jg_setupq_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		q->wait_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->wait_tail = e->prev;
	q->nwaiting--;
}

static void run_push(struct jg_setupq *q, struct jg_setupq_entry *e)
{
	e->state = 2;
	e->prev = NULL;
	e->next = q->running;
	if (q->running)
		q->running->prev = e;
	q->running = e;
	q->nrunning++;
}

/* Start what may start, in order; while descriptors are short, look again later. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct jg_gateway *gw = arg;
	struct jg_setupq *q = gw->setupq;
	struct jg_setupq_entry *e = q->wait_head, *next;

	for (; e != NULL &&
	       (gw->cfg->max_onward_setups == 0 || q->nrunning < gw->cfg->max_onward_setups);
	     e = next) {
		next = e->next;
		if (!may_start(gw, q, e->identity))
			continue;
		if (!fds_allow(gw, q)) {
			struct timeval tv = {0, RETRY_MS * 1000};

			evtimer_add(q->kick, &tv);
			return;
		}
		wait_unlink(q, e);
		run_push(q, e);
		/* It may leave at once (a failed spawn): NEXT stays valid, leaving only
		 * reschedules this function. */
		e->start(e);
	}
}

static struct jg_setupq *queue(struct jg_gateway *gw)
{
	struct jg_setupq *q = gw->setupq;

	if (q != NULL)
		return q;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->kick = evtimer_new(gw->base, on_kick, gw)) == NULL) {
		free(q);
		return NULL;
	}
	gw->setupq = q;
	return q;
}

int jg_setupq_enter(struct jg_gateway *gw, struct jg_setupq_entry *e, jg_setupq_start_fn start)
{
	struct jg_setupq *q = queue(gw);

	if (q == NULL)
		return JG_ERR_NOMEM;
	e->start = start;
	snprintf(e->identity, sizeof(e->identity), "%s", q->acting != NULL ? q->acting : "");
	if (q->nwaiting == 0 && may_start(gw, q, e->identity) && fds_allow(gw, q)) {
		run_push(q, e);
		return 1;
	}
	e->state = 1;
	e->next = NULL;
	e->prev = q->wait_tail;
	if (q->wait_tail)
		q->wait_tail->next = e;
	else
		q->wait_head = e;
	q->wait_tail = e;
	q->nwaiting++;
	if (q->nwaiting == 1 || q->nwaiting % 100 == 0)
		jg_log_info("onward connection setups: %zu running, %zu waiting (max_onward_setups "
			    "%u, per identity %u)",
			    q->nrunning, q->nwaiting, gw->cfg->max_onward_setups,
			    gw->cfg->max_onward_setups_per_identity);
	if (!evtimer_pending(q->kick, NULL)) {
		struct timeval tv = {0, RETRY_MS * 1000};

		evtimer_add(q->kick, &tv);
	}
	return 0;
}

void jg_setupq_leave(struct jg_gateway *gw, struct jg_setupq_entry *e)
{
	struct jg_setupq *q = gw->setupq;
	struct timeval now = {0, 0};

	if (q == NULL || e->state == 0)
		return;
	if (e->state == 1) {
		wait_unlink(q, e);
	} else {
		if (e->prev)
			e->prev->next = e->next;
		else
			q->running = e->next;
		if (e->next)
			e->next->prev = e->prev;
		q->nrunning--;
		if (q->nwaiting > 0)
			evtimer_add(q->kick, &now);
	}
	e->state = 0;
	e->next = e->prev = NULL;
}

void jg_setupq_acting(struct jg_gateway *gw, const char *identity)
{
	struct jg_setupq *q = queue(gw);

	if (q != NULL)
		q->acting = identity;
}

size_t jg_setupq_waiting(const struct jg_gateway *gw)
{
	return gw->setupq != NULL ? gw->setupq->nwaiting : 0;
}

size_t jg_setupq_running(const struct jg_gateway *gw)
{
	return gw->setupq != NULL ? gw->setupq->nrunning : 0;
}

void jg_setupq_free(struct jg_gateway *gw)
{
	if (gw->setupq == NULL)
		return;
	event_free(gw->setupq->kick);
	free(gw->setupq);
	gw->setupq = NULL;
}
