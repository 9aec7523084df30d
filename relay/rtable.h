/* The path-vector route table between gateways, sans I/O (docs/protocol.md §9).
 *
 * It eats the lines of the route streams its peers serve (jg_rtable_learn)
 * and the news that a peer's link went down or that a peer was configured
 * away, and it reports every change of its best routes through one callback.
 * It never touches a socket, a timer or the event loop: gateway/sites/routes.c
 * wires it to the links and to the route streams this gateway serves, and
 * tests/unit/test_routes.c feeds it lines.
 *
 * Peers are known by name (their `sites` entry) and a rank (their place in
 * `sites`: lower wins a tie).  A peer is a site in its own right: it is in
 * the table from jg_rtable_peer on, "lost" until it advertises itself.
 *
 * Best route per site: the shortest path learned from any peer; on a tie the
 * current next hop stays (no flapping), else the peer of lowest rank.  A
 * path holding our own name is refused (no loops) and removes what that peer
 * advertised for the site before.  A site whose last route goes stays in the
 * table as lost, with the reason, so that operations on it are answered 503
 * rather than taken for host names.
 *
 * A filter (jg_rtable_set_filter) judges every advertisement before it is
 * learned: a peer may name only the sites it is trusted to carry, never a
 * name of ours.  A refused advertisement is counted per peer and removes what
 * that peer advertised for the site before; the link stays. */
#ifndef JG_RELAY_RTABLE_H
#define JG_RELAY_RTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

struct jg_rtable;

/* One entry of the table as its users see it.  Borrowed: valid until the next call
 * that changes the table. */
struct jg_route {
	const char *site;
	const char *next_hop;	 /* the peer it goes through; NULL when lost */
	const char *const *path; /* NPATH gateway names, next hop first, SITE last */
	size_t npath;		 /* 0 when lost */
	const char *reason;	 /* why it is lost; "" when up */
	time_t since;		 /* when it last changed */
};

enum jg_rtable_change {
	JG_RTABLE_UP,	 /* a route to a site that had none */
	JG_RTABLE_MOVED, /* another path (or next hop) */
	JG_RTABLE_LOST,	 /* its last route went: next_hop is NULL, reason says why */
	JG_RTABLE_GONE,	 /* removed from the table (its peer was configured away) */
};

/* Called for every change, after the table changed; must not change the table. */
typedef void (*jg_rtable_change_fn)(void *ud, enum jg_rtable_change what, const struct jg_route *r);

/* 1 when V is a valid site name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 63 (a site name
 * travels in paths and headers).  Inline, so that config/sites.c validates the
 * configuration with the same rule without linking the table. */
static inline int jg_rtable_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return 0;
	}
	return 1;
}
/* A table for the gateway named SELF (copied).  NULL when out of memory. */
struct jg_rtable *jg_rtable_new(const char *self, jg_rtable_change_fn on_change, void *ud);
void jg_rtable_free(struct jg_rtable *t);

/* Know peer PEER with RANK (add it, or re-rank it).  0 or JG_ERR_NOMEM. */
int jg_rtable_peer(struct jg_rtable *t, const char *peer, size_t rank);
/* PEER's link went down (REASON: why): every route learned from it is withdrawn;
 * sites left without a route become lost with REASON. */
void jg_rtable_peer_down(struct jg_rtable *t, const char *peer, const char *reason);
/* PEER is no longer configured: as jg_rtable_peer_down, then its own entry and every
 * lost entry no peer knows any more leave the table (JG_RTABLE_GONE). */
void jg_rtable_peer_remove(struct jg_rtable *t, const char *peer, const char *reason);
/* One line of PEER's route stream (without its newline).  0, or JG_ERR_PROTO with the
 * reason in ERR (the line is bad: the caller drops the link), JG_ERR_TOOBIG (the table
 * is full: the route is dropped, the link may stay) or JG_ERR_NOMEM.  A looped path is
 * not an error: it is refused, and 0 returned. */
int jg_rtable_learn(struct jg_rtable *t, const char *peer, const char *line, size_t len, char *err,
		    size_t errlen);

/* May PEER teach us a route to SITE?  1 yes; 0 no, with why not in WHY (the filter
 * is where a refusal is logged). */
typedef int (*jg_rtable_filter_fn)(void *ud, const char *peer, const char *site, char *why,
				   size_t whylen);
/* Judge advertisements with FN from now on (NULL: accept all); what was learned
 * before and FN now refuses is withdrawn at once (a reload narrowing the rules). */
void jg_rtable_set_filter(struct jg_rtable *t, jg_rtable_filter_fn fn, void *ud);
/* How many of PEER's advertisements the filter refused; 0 for an unknown peer. */
uint64_t jg_rtable_refused(const struct jg_rtable *t, const char *peer);

/* SITE's entry in *R: 1 when it is up, 0 when lost, -1 (R untouched) when unknown. */
int jg_rtable_lookup(const struct jg_rtable *t, const char *site, const struct jg_route **r);
/* Every entry, up or lost, in no particular order. */
void jg_rtable_foreach(const struct jg_rtable *t, void (*fn)(void *ud, const struct jg_route *r),
		       void *ud);
/* The route-stream line (no newline) that passes R on to our own subscribers: our name
 * in front of its path, or its withdrawal with the reason.  Caller frees; NULL when out
 * of memory. */
char *jg_rtable_advert(const struct jg_rtable *t, const struct jg_route *r);
/* The first line of the stream we serve: ourselves, a path of one. */
char *jg_rtable_advert_self(const struct jg_rtable *t);

#endif
