/* The path-vector route table (relay/rtable.c), fed route-stream lines as
 * the links would: best path, loop refusal, recursive withdrawal across
 * chained tables, tie-breaking, removal of peers, and the lines it refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "config/config.h"
#include "relay/rtable.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* What a table reported, and where its adverts go (another table, as a link would
 * carry them: the subscriber's peer name for us is our own name). */
struct recorder {
	struct jg_rtable *t;
	const char *self;
	int up, moved, lost, gone;
	char last_site[64], last_reason[300];
	struct recorder *downstream; /* a table linked to us: it learns our adverts */
};

static void on_change(void *ud, enum jg_rtable_change what, const struct jg_route *r)
{
	struct recorder *rec = ud;
	char err[300];

	switch (what) {
	case JG_RTABLE_UP:
		rec->up++;
		break;
	case JG_RTABLE_MOVED:
		rec->moved++;
		break;
	case JG_RTABLE_LOST:
		rec->lost++;
		break;
	case JG_RTABLE_GONE:
		rec->gone++;
		break;
	}
	snprintf(rec->last_site, sizeof(rec->last_site), "%s", r->site);
	snprintf(rec->last_reason, sizeof(rec->last_reason), "%s", r->reason);
	if (rec->downstream != NULL && what != JG_RTABLE_GONE) {
		char *line = jg_rtable_advert(rec->t, r);

		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_EQUAL(jg_rtable_learn(rec->downstream->t, rec->self, line, strlen(line),
						err, sizeof(err)),
				0);
		free(line);
	}
}

static void rec_init(struct recorder *rec, const char *self)
{
	memset(rec, 0, sizeof(*rec));
	rec->self = self;
	rec->t = jg_rtable_new(self, on_change, rec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec->t);
}

/* Feed LINE as PEER's; returns what jg_rtable_learn returned, the error in ERR. */
static int feed(struct recorder *rec, const char *peer, const char *line, char *err, size_t len)
{
	return jg_rtable_learn(rec->t, peer, line, strlen(line), err, len);
}

static void feed_ok(struct recorder *rec, const char *peer, const char *line)
{
	char err[300] = "";

	CU_ASSERT_EQUAL(feed(rec, peer, line, err, sizeof(err)), 0);
	if (err[0] != '\0')
		fprintf(stderr, "\n  unexpected error: %s ", err);
}

/* "up NEXT a,b,c" or "lost REASON" or "unknown": SITE's entry, in words. */
static const char *route_of(struct recorder *rec, const char *site)
{
	static char buf[512];
	const struct jg_route *r = NULL;
	size_t off;
	int up = jg_rtable_lookup(rec->t, site, &r);

	if (up < 0)
		return "unknown";
	if (up == 0) {
		snprintf(buf, sizeof(buf), "lost %s", r->reason);
		return buf;
	}
	off = (size_t)snprintf(buf, sizeof(buf), "up %s ", r->next_hop);
	for (size_t i = 0; i < r->npath && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					r->path[i]);
	return buf;
}

static void t_learns_paths_and_lookup(void)
{
	struct recorder a;
	const struct jg_route *r = NULL;

	rec_init(&a, "site-a");
	CU_ASSERT_EQUAL(jg_rtable_peer(a.t, "site-b", 0), 0);
	/* A configured peer is known before it says anything: lost, not unknown. */
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-b"), "lost not linked yet");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "unknown");
	feed_ok(&a, "site-b", "{\"site\":\"site-b\",\"path\":[\"site-b\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-c\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-b"), "up site-b site-b");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	CU_ASSERT_EQUAL(a.up, 2);
	CU_ASSERT_EQUAL(jg_rtable_lookup(a.t, "site-c", &r), 1);
	CU_ASSERT_EQUAL(r->npath, 2); /* not direct: the next hop forwards once more */
	/* The same advert again changes nothing and reports nothing. */
	feed_ok(&a, "site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-c\"]}");
	CU_ASSERT_EQUAL(a.up + a.moved + a.lost, 2);
	jg_rtable_free(a.t);
}

static void t_shortest_path_wins(void)
{
	struct recorder a;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	jg_rtable_peer(a.t, "site-c", 1);
	feed_ok(&a, "site-b", "{\"site\":\"site-d\",\"path\":[\"site-b\",\"site-x\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-x,site-d");
	/* A shorter path from the lower-ranked peer still wins: length first. */
	feed_ok(&a, "site-c", "{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-c site-c,site-d");
	CU_ASSERT_EQUAL(a.moved, 1);
	/* The peer of the shorter path changes its path to a longer one: back to b. */
	feed_ok(&a, "site-c",
		"{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-y\",\"site-z\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-x,site-d");
	jg_rtable_free(a.t);
}

static void t_ties_keep_the_current_hop_then_rank(void)
{
	struct recorder a;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	jg_rtable_peer(a.t, "site-c", 1);
	/* c (rank 1) first: it is the route. */
	feed_ok(&a, "site-c", "{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-c site-c,site-d");
	/* b (rank 0) offers as short a path: no flapping, c stays. */
	feed_ok(&a, "site-b", "{\"site\":\"site-d\",\"path\":[\"site-b\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-c site-c,site-d");
	CU_ASSERT_EQUAL(a.moved, 0);
	/* c goes: b takes over at once. */
	jg_rtable_peer_down(a.t, "site-c", "route to site-c lost: test");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-d");
	CU_ASSERT_EQUAL(a.moved, 1);
	CU_ASSERT_EQUAL(a.lost, 0);
	/* c comes back with the same length: b stays. */
	feed_ok(&a, "site-c", "{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-d");
	/* The current hop goes and two equal paths remain: the lower rank wins. */
	jg_rtable_peer(a.t, "site-e", 2);
	jg_rtable_peer_down(a.t, "site-b", "x");
	jg_rtable_peer_down(a.t, "site-c", "y");
	feed_ok(&a, "site-e", "{\"site\":\"site-d\",\"path\":[\"site-e\",\"site-d\"]}");
	feed_ok(&a, "site-c", "{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-d\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"site-d\",\"path\":[\"site-b\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-e site-e,site-d");
	jg_rtable_peer_down(a.t, "site-e", "z");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-d");
	/* Re-ranked by a reload (c first now): b is current and stays on a tie; when it
	 * goes, c (now rank 0) is taken over e. */
	jg_rtable_peer(a.t, "site-c", 0);
	jg_rtable_peer(a.t, "site-b", 1);
	feed_ok(&a, "site-e", "{\"site\":\"site-d\",\"path\":[\"site-e\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-d");
	jg_rtable_peer_down(a.t, "site-b", "w");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-c site-c,site-d");
	jg_rtable_free(a.t);
}

static void t_loops_are_refused(void)
{
	struct recorder a;
	char err[300];

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	feed_ok(&a, "site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-c\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	/* b now reaches c through us: refused (not an error), and b's old route is gone. */
	CU_ASSERT_EQUAL(feed(&a, "site-b",
			     "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-a\",\"site-c\"]}",
			     err, sizeof(err)),
			0);
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"),
			       "lost site-b now reaches site-c only through us");
	CU_ASSERT_EQUAL(a.lost, 1);
	/* Our own name as the site: a loop as well, never a route to ourselves. */
	feed_ok(&a, "site-b", "{\"site\":\"site-a\",\"path\":[\"site-b\",\"site-a\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-a"), "unknown");
	jg_rtable_free(a.t);
}

/* C <- B <- A, each table fed the adverts of the one before as a link would. */
static void t_withdrawal_travels_recursively(void)
{
	struct recorder a, b;

	rec_init(&a, "site-a");
	rec_init(&b, "site-b");
	b.downstream = &a;
	jg_rtable_peer(a.t, "site-b", 0);
	jg_rtable_peer(b.t, "site-c", 0);
	/* What B serves A first: itself (a new subscriber's first line). */
	{
		char *self = jg_rtable_advert_self(b.t);

		CU_ASSERT_STRING_EQUAL(self, "{\"site\":\"site-b\",\"path\":[\"site-b\"]}");
		feed_ok(&a, "site-b", self);
		free(self);
	}
	/* C advertises itself and site-d behind it to B; B passes both on to A. */
	feed_ok(&b, "site-c", "{\"site\":\"site-c\",\"path\":[\"site-c\"]}");
	feed_ok(&b, "site-c", "{\"site\":\"site-d\",\"path\":[\"site-c\",\"site-d\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-b site-b,site-c,site-d");
	/* C withdraws d: B withdraws it from A, with C's reason. */
	feed_ok(
	    &b, "site-c",
	    "{\"site\":\"site-d\",\"withdrawn\":true,\"reason\":\"route to site-d lost: cut\"}");
	CU_ASSERT_STRING_EQUAL(route_of(&b, "site-d"), "lost route to site-d lost: cut");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "lost route to site-d lost: cut");
	/* B's link to C dies: c goes at B and, through B's advert, at A. */
	jg_rtable_peer_down(b.t, "site-c", "route to site-c lost: no answer to PING within 1.0 s");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"),
			       "lost route to site-c lost: no answer to PING within 1.0 s");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-b"), "up site-b site-b");
	/* A's link to B dies: everything through B goes, with A's own reason. */
	feed_ok(&b, "site-c", "{\"site\":\"site-c\",\"path\":[\"site-c\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	jg_rtable_peer_down(a.t, "site-b", "route to site-b lost: connection closed by the peer");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-b"),
			       "lost route to site-b lost: connection closed by the peer");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"),
			       "lost route to site-b lost: connection closed by the peer");
	jg_rtable_free(a.t);
	jg_rtable_free(b.t);
}

/* A ring a<->b, b<->c, c<->a seen from a: direct c first, then through b when the a-c
 * link is cut, and back when it returns. */
static void t_ring_takes_the_other_way(void)
{
	struct recorder a;

	rec_init(&a, "ring-a");
	jg_rtable_peer(a.t, "ring-b", 0);
	jg_rtable_peer(a.t, "ring-c", 1);
	feed_ok(&a, "ring-b", "{\"site\":\"ring-b\",\"path\":[\"ring-b\"]}");
	feed_ok(&a, "ring-b", "{\"site\":\"ring-c\",\"path\":[\"ring-b\",\"ring-c\"]}");
	feed_ok(&a, "ring-c", "{\"site\":\"ring-c\",\"path\":[\"ring-c\"]}");
	/* c's view of b goes through a: refused. */
	feed_ok(&a, "ring-c", "{\"site\":\"ring-b\",\"path\":[\"ring-c\",\"ring-a\",\"ring-b\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "ring-c"), "up ring-c ring-c");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "ring-b"), "up ring-b ring-b");
	jg_rtable_peer_down(a.t, "ring-c", "route to ring-c lost: cut");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "ring-c"), "up ring-b ring-b,ring-c");
	feed_ok(&a, "ring-c", "{\"site\":\"ring-c\",\"path\":[\"ring-c\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "ring-c"), "up ring-c ring-c");
	jg_rtable_free(a.t);
}

static void t_bad_lines_are_protocol_errors(void)
{
	static const struct {
		const char *peer, *line, *want;
	} bad[] = {
	    {"site-b", "not json", "bad line"},
	    {"site-b", "{\"path\":[\"site-b\"]}", "bad line"},
	    {"site-b", "{\"site\":\"-x\",\"path\":[\"site-b\"]}", "bad site name"},
	    {"site-b", "{\"site\":\"site-c\"}", "path must be 1-32 names"},
	    {"site-b", "{\"site\":\"site-c\",\"path\":[]}", "path must be 1-32 names"},
	    {"site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",7]}", "bad path element 1"},
	    {"site-b", "{\"site\":\"site-c\",\"path\":[\"gw-x\",\"site-c\"]}",
	     "its path starts with \"gw-x\""},
	    {"site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-d\"]}", "ends elsewhere"},
	    {"site-z", "{\"site\":\"site-z\",\"path\":[\"site-z\"]}", "not a peer of ours"},
	};
	struct recorder a;
	char err[300], line[1024];
	size_t off;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(feed(&a, bad[i].peer, bad[i].line, err, sizeof(err)), JG_ERR_PROTO);
		if (strstr(err, bad[i].want) == NULL) {
			fprintf(stderr, "\n  line %zu: '%s' lacks '%s' ", i, err, bad[i].want);
			CU_FAIL("error text");
		}
	}
	/* 32 names is the longest path taken, 33 is refused. */
	for (int n = 32; n <= 33; n++) {
		off = (size_t)snprintf(line, sizeof(line), "{\"site\":\"s%d\",\"path\":[\"site-b\"",
				       n);
		for (int i = 1; i < n - 1; i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, ",\"h%d\"", i);
		snprintf(line + off, sizeof(line) - off, ",\"s%d\"]}", n);
		CU_ASSERT_EQUAL(feed(&a, "site-b", line, err, sizeof(err)),
				n == 32 ? 0 : JG_ERR_PROTO);
	}
	CU_ASSERT_EQUAL(strncmp(route_of(&a, "s32"), "up site-b site-b,h1,", 20), 0);
	CU_ASSERT_STRING_EQUAL(route_of(&a, "s33"), "unknown");
	jg_rtable_free(a.t);
}

static void t_removed_peer_leaves_the_table(void)
{
	struct recorder a;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	jg_rtable_peer(a.t, "site-c", 1);
	feed_ok(&a, "site-b", "{\"site\":\"site-b\",\"path\":[\"site-b\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"site-x\",\"path\":[\"site-b\",\"site-x\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"site-y\",\"path\":[\"site-b\",\"site-y\"]}");
	feed_ok(&a, "site-c", "{\"site\":\"site-y\",\"path\":[\"site-c\",\"site-q\",\"site-y\"]}");
	jg_rtable_peer_remove(a.t, "site-b", "route to site-b lost: removed");
	/* b and x were known through b only: gone.  y had another way: it moved. */
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-b"), "unknown");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-x"), "unknown");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-y"), "up site-c site-c,site-q,site-y");
	CU_ASSERT_EQUAL(a.gone, 2);
	/* A line from the removed peer is refused. */
	{
		char err[300];

		CU_ASSERT_EQUAL(feed(&a, "site-b", "{\"site\":\"site-b\",\"path\":[\"site-b\"]}",
				     err, sizeof(err)),
				JG_ERR_PROTO);
	}
	/* The configured peer c stays known even when lost. */
	jg_rtable_peer_down(a.t, "site-c", "route to site-c lost: down");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "lost route to site-c lost: down");
	jg_rtable_free(a.t);
}

static void t_adverts_prefix_our_name(void)
{
	struct recorder a;
	const struct jg_route *r = NULL;
	char *line;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	feed_ok(&a, "site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-c\"]}");
	CU_ASSERT_EQUAL_FATAL(jg_rtable_lookup(a.t, "site-c", &r), 1);
	line = jg_rtable_advert(a.t, r);
	CU_ASSERT_STRING_EQUAL(line,
			       "{\"site\":\"site-c\",\"path\":[\"site-a\",\"site-b\",\"site-c\"]}");
	free(line);
	jg_rtable_peer_down(a.t, "site-b", "route to site-b lost: \"quoted\"");
	CU_ASSERT_EQUAL_FATAL(jg_rtable_lookup(a.t, "site-c", &r), 0);
	line = jg_rtable_advert(a.t, r);
	CU_ASSERT_STRING_EQUAL(line,
			       "{\"site\":\"site-c\",\"withdrawn\":true,\"reason\":\"route to "
			       "site-b lost: \\\"quoted\\\"\"}");
	free(line);
	jg_rtable_free(a.t);
}

/* The table holds at most 4096 learned routes: the next is dropped (JG_ERR_TOOBIG, not a
 * protocol error: the link stays), and a withdrawal makes room again. */
static void t_a_full_table_drops_routes(void)
{
	struct recorder a;
	char line[128], err[300];
	int n;

	rec_init(&a, "site-a");
	jg_rtable_peer(a.t, "site-b", 0);
	for (n = 0; n < 4096; n++) {
		snprintf(line, sizeof(line), "{\"site\":\"s%d\",\"path\":[\"site-b\",\"s%d\"]}", n,
			 n);
		if (feed(&a, "site-b", line, err, sizeof(err)) != 0)
			break;
	}
	CU_ASSERT_EQUAL(n, 4096);
	CU_ASSERT_EQUAL(
	    feed(&a, "site-b", "{\"site\":\"sx\",\"path\":[\"site-b\",\"sx\"]}", err, sizeof(err)),
	    JG_ERR_TOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "over 4096 routes"));
	CU_ASSERT_STRING_EQUAL(route_of(&a, "sx"), "unknown");
	feed_ok(&a, "site-b", "{\"site\":\"s7\",\"withdrawn\":true}");
	feed_ok(&a, "site-b", "{\"site\":\"sx\",\"path\":[\"site-b\",\"sx\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "sx"), "up site-b site-b,sx");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "s7"), "lost withdrawn");
	jg_rtable_free(a.t);
}

/* The filter routes.c installs, over a configuration of the test's. */
static int may_learn(void *ud, const char *peer, const char *site, char *why, size_t whylen)
{
	return jg_config_site_may_learn(ud, peer, site, why, whylen);
}

/* A peer names itself (or advertises) an inventory target, group or "local" of ours:
 * refused whatever `learn` says, so "dep/sudo:root" stays the inventory's dep.  A name
 * outside an entry's `learn` (default: the configured sites) is refused too, counted,
 * and the link stays. */
static void t_peer_routes_cannot_shadow_the_inventory(void)
{
	char path[64], err[300];
	struct jg_config *c;
	struct recorder a;

	c = tu_load_ok("gateway_name = \"site-a\";\n"
		       "targets = ( { name = \"dep\"; method = \"local\"; } );\n"
		       "groups = { web = [ \"dep\" ]; };\n"
		       "sites = ( { name = \"site-b\"; identity = \"gw-b\"; },\n"
		       "  { name = \"site-c\"; identity = \"gw-c\"; },\n"
		       "  { name = \"site-d\"; identity = \"gw-d\"; learn = [ \"far-*\" ]; },\n"
		       "  { name = \"site-e\"; identity = \"gw-e\"; learn = [ \"*\" ]; } );\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rec_init(&a, "site-a");
	jg_rtable_set_filter(a.t, may_learn, c);
	for (size_t i = 0; i < 4; i++)
		jg_rtable_peer(a.t, (const char *[]){"site-b", "site-c", "site-d", "site-e"}[i], i);
	/* inventory names: never, through any peer, "*" included */
	feed_ok(&a, "site-e", "{\"site\":\"dep\",\"path\":[\"site-e\",\"dep\"]}");
	feed_ok(&a, "site-e", "{\"site\":\"web\",\"path\":[\"site-e\",\"web\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"local\",\"path\":[\"site-b\",\"local\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "dep"), "unknown");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "web"), "unknown");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "local"), "unknown");
	CU_ASSERT_EQUAL(jg_rtable_refused(a.t, "site-e"), 2);
	CU_ASSERT_EQUAL(jg_rtable_refused(a.t, "site-b"), 1);
	CU_ASSERT(!jg_config_site_may_learn(c, "site-e", "dep", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"dep\" is an inventory target here"));
	/* default: the configured sites only; site-b may not carry an unlisted name */
	feed_ok(&a, "site-b", "{\"site\":\"site-c\",\"path\":[\"site-b\",\"site-c\"]}");
	feed_ok(&a, "site-b", "{\"site\":\"far-1\",\"path\":[\"site-b\",\"far-1\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "far-1"), "unknown");
	CU_ASSERT(!jg_config_site_may_learn(c, "site-b", "far-1", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "learn = [ \"far-1\" ]"));
	/* a learn list: its globs, the peer itself, nothing else */
	feed_ok(&a, "site-d", "{\"site\":\"site-d\",\"path\":[\"site-d\"]}");
	feed_ok(&a, "site-d", "{\"site\":\"far-1\",\"path\":[\"site-d\",\"far-1\"]}");
	feed_ok(&a, "site-d", "{\"site\":\"site-c\",\"path\":[\"site-d\",\"site-c\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-d"), "up site-d site-d");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "far-1"), "up site-d site-d,far-1");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-c"), "up site-b site-b,site-c");
	CU_ASSERT_EQUAL(jg_rtable_refused(a.t, "site-d"), 1);
	/* our own name is a loop, refused before the filter */
	feed_ok(&a, "site-e", "{\"site\":\"site-a\",\"path\":[\"site-e\",\"site-a\"]}");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "site-a"), "unknown");
	/* with no filter (a table's default) the refused ones come back; with it, they go */
	jg_rtable_set_filter(a.t, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(route_of(&a, "dep"), "up site-e site-e,dep");
	jg_rtable_set_filter(a.t, may_learn, c);
	CU_ASSERT_STRING_EQUAL(route_of(&a, "dep"), "unknown");
	CU_ASSERT_STRING_EQUAL(route_of(&a, "far-1"), "up site-d site-d,far-1");
	jg_rtable_free(a.t);
	jg_config_free(c);
	unlink(path);
}

int jg_test_register_routes(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
	    {"learns paths; a configured peer is lost, not unknown", t_learns_paths_and_lookup},
	    {"the shortest path wins over rank", t_shortest_path_wins},
	    {"ties: the current hop stays, then the lower rank",
	     t_ties_keep_the_current_hop_then_rank},
	    {"a path through ourselves is refused and replaces the old one", t_loops_are_refused},
	    {"withdrawals travel through chained tables with their reason",
	     t_withdrawal_travels_recursively},
	    {"a ring: the direct link, the other way when cut, back again",
	     t_ring_takes_the_other_way},
	    {"bad lines are protocol errors naming the fault", t_bad_lines_are_protocol_errors},
	    {"a removed peer and what only it reached leave the table",
	     t_removed_peer_leaves_the_table},
	    {"adverts put our name in front; withdrawals carry the reason",
	     t_adverts_prefix_our_name},
	    {"a full table drops the next route, not the link", t_a_full_table_drops_routes},
	    {"peers cannot shadow inventory names; learn lists what each may carry",
	     t_peer_routes_cannot_shadow_the_inventory},
	};
	CU_pSuite s = CU_add_suite("routes", NULL, NULL);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
