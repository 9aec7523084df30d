/* The onward setup queue: how many onward connections may be in their setup
 * (spawned, not yet answered by their agent) at once.
 *
 * One fan-out naming hundreds of targets would otherwise start hundreds of ssh
 * processes in one go and take the descriptors everyone else needs.  At most
 * cfg->max_onward_setups run gateway-wide and cfg->max_onward_setups_per_identity
 * for the identity whose request asked for the connection; the rest wait, in
 * order of arrival (an entry whose identity is at its limit lets later ones of
 * other identities pass).  A setup also waits while fewer than a reserve of
 * descriptors are free (an eighth of the limit, at least 64), so that running
 * operations and new controller connections keep going.
 *
 * The identity is the one the gateway is acting for when the setup is asked for
 * (jg_setupq_acting, set by the HTTP/2 layer around each request's callbacks);
 * a setup asked for outside them counts against the gateway-wide limit only. */
#ifndef JG_SETUPQ_H
#define JG_SETUPQ_H

#include <stddef.h>

struct jg_gateway;
struct jg_setupq_entry;

/* Called from the event loop when the entry may start (it is counted as running from
 * then until jg_setupq_leave). */
typedef void (*jg_setupq_start_fn)(struct jg_setupq_entry *e);

/* Embedded in what is set up (an agent link); zeroed before jg_setupq_enter. */
struct jg_setupq_entry {
	jg_setupq_start_fn start;
	char identity[256]; /* "" when unknown */
	int state;	    /* 0: out, 1: waiting, 2: running */
	struct jg_setupq_entry *next, *prev;
};

/* Ask to start E for the identity being acted for: 1 when it may start now (counted
 * as running; the caller starts it), 0 when queued (START is called later), or a
 * negative JG_ERR_* (no memory for the queue's event). */
int jg_setupq_enter(struct jg_gateway *gw, struct jg_setupq_entry *e, jg_setupq_start_fn start);
/* E's setup is over (up, failed, or abandoned while waiting): free its place and
 * start whoever may go next (from the loop).  Idempotent. */
void jg_setupq_leave(struct jg_gateway *gw, struct jg_setupq_entry *e);
/* The identity requests are being handled for, NULL outside them (h2session.c). */
void jg_setupq_acting(struct jg_gateway *gw, const char *identity);
/* Setups waiting, and running (for /v1/stats and tests). */
size_t jg_setupq_waiting(const struct jg_gateway *gw);
size_t jg_setupq_running(const struct jg_gateway *gw);
/* Free the queue's state at exit (entries are their owners'). */
void jg_setupq_free(struct jg_gateway *gw);

#endif
