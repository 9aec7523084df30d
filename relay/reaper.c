/* The reaper: SIGCHLD through the event loop, waitpid(-1, WNOHANG) until
 * nothing is left, a callback for each watched pid.
 *
 * Watched pids live in a small chained hash table (hundreds of children at
 * most).  An entry is unlinked before its callback runs, so a callback may
 * watch, forget or spawn freely. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "relay/err.h"
#include "relay/reaper.h"

#define REAPER_BUCKETS 64u

struct reaper_entry {
	struct reaper_entry *next;
	pid_t pid;
	jg_reaper_cb cb;
	void *ud;
};

struct jg_reaper {
	struct event *ev_chld;
	struct reaper_entry *buckets[REAPER_BUCKETS];
	unsigned count;
};

static struct reaper_entry **reaper_slot(struct jg_reaper *r, pid_t pid)
{
	struct reaper_entry **pp = &r->buckets[(unsigned)pid % REAPER_BUCKETS];

	while (*pp != NULL && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static void reaper_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	jg_reaper_poll(arg);
}

struct jg_reaper *jg_reaper_new(struct event_base *base)
{
	struct jg_reaper *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->ev_chld = evsignal_new(base, SIGCHLD, reaper_on_sigchld, r)) == NULL ||
	    evsignal_add(r->ev_chld, NULL) != 0) {
		if (r->ev_chld != NULL)
			event_free(r->ev_chld);
		free(r);
		return NULL;
	}
	return r;
}

void jg_reaper_free(struct jg_reaper *r)
{
	if (r == NULL)
		return;
	event_free(r->ev_chld);
	for (unsigned i = 0; i < REAPER_BUCKETS; i++) {
		while (r->buckets[i] != NULL) {
			struct reaper_entry *e = r->buckets[i];

			r->buckets[i] = e->next;
			free(e);
		}
	}
	free(r);
}

int jg_reaper_watch(struct jg_reaper *r, pid_t pid, jg_reaper_cb cb, void *ud)
{
	struct reaper_entry **pp = reaper_slot(r, pid), *e;

	if (*pp != NULL) {
		/* The pid was reused after an unnoticed exit: the newest owner wins. */
		(*pp)->cb = cb;
		(*pp)->ud = ud;
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return JG_ERR_NOMEM;
	e->pid = pid;
	e->cb = cb;
	e->ud = ud;
	*pp = e;
	r->count++;
	return 0;
}

void jg_reaper_forget(struct jg_reaper *r, pid_t pid)
{
	struct reaper_entry **pp = reaper_slot(r, pid), *e = *pp;

	if (e == NULL)
		return;
	*pp = e->next;
	r->count--;
	free(e);
}

void jg_reaper_poll(struct jg_reaper *r)
{
	for (;;) {
		struct reaper_entry **pp, *e;
		jg_reaper_cb cb;
		void *ud;
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		/* 0: children remain but none has exited; ECHILD: no children at all. */
		if (pid <= 0)
			return;
		pp = reaper_slot(r, pid);
		if ((e = *pp) == NULL)
			continue; /* nobody asked: reaped silently so it cannot linger */
		*pp = e->next;
		r->count--;
		cb = e->cb;
		ud = e->ud;
		free(e);
		cb(pid, wstatus, ud);
	}
}

unsigned jg_reaper_count(const struct jg_reaper *r)
{
	return r->count;
}
