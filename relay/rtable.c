/* The path-vector route table, sans I/O (relay/rtable.h).
 *
 * Two lists: what each peer advertised (`learned`, one entry per peer and
 * site), and the best route per site (`best`), recomputed from `learned`
 * after every change: for the one site an advertisement names, or for every
 * site when a peer comes or goes.  The lists are plain scans (a few sites in
 * practice, MAX_ROUTES at most), so an advertisement costs time linear in the
 * table and a peer's whole table quadratic; what matters is that every change
 * is reported exactly once, after the table is consistent again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "relay/rtable.h"
#include "relay/err.h"

#define MAX_PATH_LEN 32
#define MAX_ROUTES 4096

struct path {
	char **v;
	size_t n;
};

struct peer {
	char *name;
	size_t rank;
	uint64_t refused; /* advertisements the filter refused */
	struct peer *next;
};

struct learned {
	struct peer *peer;
	char *site;
	int refused;	  /* the filter refuses it: kept (a reload may allow it), never used */
	struct path path; /* path.v[0] is the peer's name */
	struct learned *next;
};

struct best {
	struct jg_route pub; /* points into the fields below */
	char *site;
	struct peer *via; /* NULL when lost */
	struct path path;
	char reason[300];
	struct best *next;
};

struct jg_rtable {
	char *self;
	jg_rtable_change_fn on_change;
	void *ud;
	jg_rtable_filter_fn filter;
	void *filter_ud;
	struct peer *peers;
	struct learned *learned;
	size_t nlearned;
	struct best *best;
};

static void path_clear(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int path_copy(struct path *dst, const struct path *src)
{
	if ((dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
		return JG_ERR_NOMEM;
	for (dst->n = 0; dst->n < src->n; dst->n++)
		if ((dst->v[dst->n] = strdup(src->v[dst->n])) == NULL) {
			path_clear(dst);
			return JG_ERR_NOMEM;
		}
	return 0;
}

static int path_equal(const struct path *a, const struct path *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Keep the public view in line with the private fields. */
static void best_sync(struct best *b)
{
	b->pub.site = b->site;
	b->pub.next_hop = b->via != NULL ? b->via->name : NULL;
	b->pub.path = (const char *const *)b->path.v;
	b->pub.npath = b->path.n;
	b->pub.reason = b->reason;
}

static void notify(struct jg_rtable *t, enum jg_rtable_change what, struct best *b)
{
	best_sync(b);
	if (t->on_change != NULL)
		t->on_change(t->ud, what, &b->pub);
}

struct jg_rtable *jg_rtable_new(const char *self, jg_rtable_change_fn on_change, void *ud)
{
	struct jg_rtable *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->self = strdup(self)) == NULL) {
		free(t);
		return NULL;
	}
	t->on_change = on_change;
	t->ud = ud;
	return t;
}

static void learned_free(struct learned *e)
{
	free(e->site);
	path_clear(&e->path);
	free(e);
}

static void best_free(struct best *b)
{
	free(b->site);
	path_clear(&b->path);
	free(b);
}

void jg_rtable_free(struct jg_rtable *t)
{
	if (t == NULL)
		return;
	while (t->learned != NULL) {
		struct learned *e = t->learned;

		t->learned = e->next;
		learned_free(e);
	}
	while (t->best != NULL) {
		struct best *b = t->best;

		t->best = b->next;
		best_free(b);
	}
	while (t->peers != NULL) {
		struct peer *p = t->peers;

		t->peers = p->next;
		free(p->name);
		free(p);
	}
	free(t->self);
	free(t);
}

static struct peer *peer_find(const struct jg_rtable *t, const char *name)
{
	for (struct peer *p = t->peers; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct best *best_find(const struct jg_rtable *t, const char *site)
{
	for (struct best *b = t->best; b != NULL; b = b->next)
		if (strcmp(b->site, site) == 0)
			return b;
	return NULL;
}

static struct best *best_add(struct jg_rtable *t, const char *site, const char *reason)
{
	struct best *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->site = strdup(site)) == NULL) {
		free(b);
		return NULL;
	}
	b->pub.since = time(NULL);
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
	best_sync(b);
	b->next = t->best;
	t->best = b;
	return b;
}

/* ---------------------------------------------------------------- choosing */

/* Is E better than W for a site whose current next hop is CUR (NULL: none)?  Shorter
 * first; on a tie the current next hop, then the lower rank. */
static int better(const struct learned *e, const struct learned *w, const struct peer *cur)
{
	int ecur = cur != NULL && e->peer == cur, wcur = cur != NULL && w->peer == cur;

	if (e->path.n != w->path.n)
		return e->path.n < w->path.n;
	if (ecur != wcur)
		return ecur;
	return e->peer->rank < w->peer->rank;
}

static const struct learned *choose(const struct jg_rtable *t, const struct best *b)
{
	const struct learned *win = NULL;

	for (const struct learned *e = t->learned; e != NULL; e = e->next)
		if (!e->refused && strcmp(e->site, b->site) == 0 &&
		    (win == NULL || better(e, win, b->via)))
			win = e;
	return win;
}

/* Bring B in line with `learned`: its best route, or lost with REASON when it has none.
 * A change is reported once. */
static void settle(struct jg_rtable *t, struct best *b, const char *reason)
{
	const struct learned *w = choose(t, b);
	struct path copy = {0};
	int was_up = b->via != NULL;

	if (w != NULL) {
		if (b->via == w->peer && path_equal(&b->path, &w->path))
			return;
		if (path_copy(&copy, &w->path) != 0)
			return; /* out of memory: keep the old route */
		path_clear(&b->path);
		b->path = copy;
		b->via = w->peer;
		b->reason[0] = '\0';
		b->pub.since = time(NULL);
		notify(t, was_up ? JG_RTABLE_MOVED : JG_RTABLE_UP, b);
	} else if (was_up) {
		path_clear(&b->path);
		b->via = NULL;
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
		b->pub.since = time(NULL);
		notify(t, JG_RTABLE_LOST, b);
	}
}

/* Bring every entry of `best` in line with `learned` (a peer came or went, the filter
 * changed); entries losing their last route become lost with REASON.  Quadratic in the
 * table's size, so only for changes that can touch every site. */
static void recompute(struct jg_rtable *t, const char *reason)
{
	for (const struct learned *e = t->learned; e != NULL; e = e->next)
		if (!e->refused && best_find(t, e->site) == NULL)
			best_add(t, e->site, ""); /* out of memory: the site stays unknown */
	for (struct best *b = t->best; b != NULL; b = b->next)
		settle(t, b, reason);
}

/* The same for SITE alone, after an advertisement or withdrawal that named only SITE:
 * linear in the table's size, so a peer sending its whole table (MAX_ROUTES lines) costs
 * a quadratic amount of work in all, not a cubic one. */
static void recompute_site(struct jg_rtable *t, const char *site, const char *reason)
{
	struct best *b = best_find(t, site);

	if (b == NULL) {
		const struct learned *e = t->learned;

		while (e != NULL && (e->refused || strcmp(e->site, site) != 0))
			e = e->next;
		if (e == NULL || (b = best_add(t, site, "")) == NULL)
			return; /* nobody routes it (or out of memory): it stays unknown */
	}
	settle(t, b, reason);
}

/* Remove what PEER advertised for SITE (every site when SITE is NULL). */
static void forget(struct jg_rtable *t, const struct peer *peer, const char *site)
{
	struct learned **pp = &t->learned, *e;

	while ((e = *pp) != NULL) {
		if (e->peer == peer && (site == NULL || strcmp(e->site, site) == 0)) {
			*pp = e->next;
			t->nlearned--;
			learned_free(e);
		} else {
			pp = &e->next;
		}
	}
}

/* ---------------------------------------------------------------- peers */

int jg_rtable_peer(struct jg_rtable *t, const char *name, size_t rank)
{
	struct peer *p = peer_find(t, name);

	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL || (p->name = strdup(name)) == NULL) {
			free(p);
			return JG_ERR_NOMEM;
		}
		p->next = t->peers;
		t->peers = p;
	}
	p->rank = rank;
	/* A site we link to is known even before it advertises itself. */
	if (best_find(t, name) == NULL && best_add(t, name, "not linked yet") == NULL)
		return JG_ERR_NOMEM;
	return 0;
}

void jg_rtable_peer_down(struct jg_rtable *t, const char *name, const char *reason)
{
	struct peer *p = peer_find(t, name);

	if (p == NULL)
		return;
	forget(t, p, NULL);
	recompute(t, reason);
	/* A peer that never came up says why too. */
	{
		struct best *b = best_find(t, name);

		if (b != NULL && b->via == NULL)
			snprintf(b->reason, sizeof(b->reason), "%s", reason);
	}
}

/* Is SITE still known to anyone: a peer's own name, or learned? */
static int still_known(const struct jg_rtable *t, const char *site)
{
	if (peer_find(t, site) != NULL)
		return 1;
	for (const struct learned *e = t->learned; e != NULL; e = e->next)
		if (!e->refused && strcmp(e->site, site) == 0)
			return 1;
	return 0;
}

/* Is SITE named only by refused advertisements? */
static int only_refused(const struct jg_rtable *t, const char *site)
{
	for (const struct learned *e = t->learned; e != NULL; e = e->next)
		if (e->refused && strcmp(e->site, site) == 0)
			return !still_known(t, site);
	return 0;
}

/* Lost entries that nobody knows any more leave the table (ALL), or only those that
 * refused advertisements alone still name. */
static void prune(struct jg_rtable *t, int all)
{
	struct best **bp = &t->best, *b;

	while ((b = *bp) != NULL) {
		if (b->via == NULL && (all ? !still_known(t, b->site) : only_refused(t, b->site))) {
			*bp = b->next;
			notify(t, JG_RTABLE_GONE, b);
			best_free(b);
		} else {
			bp = &b->next;
		}
	}
}

void jg_rtable_peer_remove(struct jg_rtable *t, const char *name, const char *reason)
{
	struct peer **pp = &t->peers, *p;

	while ((p = *pp) != NULL && strcmp(p->name, name) != 0)
		pp = &p->next;
	if (p == NULL)
		return;
	forget(t, p, NULL);
	*pp = p->next; /* before recompute: nothing may choose it any more */
	recompute(t, reason);
	free(p->name);
	free(p);
	prune(t, 1);
}

/* ---------------------------------------------------------------- learning */

/* PATH (a JSON array) as names: 1-MAX_PATH_LEN site names, starting at PEER, ending at
 * SITE.  0, or JG_ERR_PROTO with the fault in ERR. */
static int parse_path(const json_t *path, const char *peer, const char *site, struct path *out,
		      char *err, size_t errlen)
{
	size_t n = json_array_size(path);

	if (!json_is_array(path) || n == 0 || n > MAX_PATH_LEN) {
		snprintf(err, errlen, "route stream from %s: site %s: path must be 1-%d names",
			 peer, site, MAX_PATH_LEN);
		return JG_ERR_PROTO;
	}
	for (size_t i = 0; i < n; i++) {
		const char *hop = json_string_value(json_array_get(path, i));

		if (hop == NULL || !jg_rtable_name_ok(hop)) {
			snprintf(err, errlen, "route stream from %s: site %s: bad path element %zu",
				 peer, site, i);
			return JG_ERR_PROTO;
		}
	}
	if (strcmp(json_string_value(json_array_get(path, 0)), peer) != 0) {
		snprintf(err, errlen,
			 "route stream from %s: its path starts with \"%.64s\": the peer calls "
			 "itself that (gateway_name), but our sites entry names it %s",
			 peer, json_string_value(json_array_get(path, 0)), peer);
		return JG_ERR_PROTO;
	}
	if (strcmp(json_string_value(json_array_get(path, n - 1)), site) != 0) {
		snprintf(err, errlen, "route stream from %s: the path to %s ends elsewhere", peer,
			 site);
		return JG_ERR_PROTO;
	}
	if ((out->v = calloc(n, sizeof(*out->v))) == NULL)
		return JG_ERR_NOMEM;
	for (out->n = 0; out->n < n; out->n++)
		if ((out->v[out->n] = strdup(json_string_value(json_array_get(path, out->n)))) ==
		    NULL) {
			path_clear(out);
			return JG_ERR_NOMEM;
		}
	return 0;
}

int jg_rtable_learn(struct jg_rtable *t, const char *name, const char *line, size_t len, char *err,
		    size_t errlen)
{
	struct peer *p = peer_find(t, name);
	const char *site = NULL, *reason = "";
	struct path path = {0};
	struct learned *e;
	json_error_t je;
	json_t *o, *jpath = NULL;
	int withdrawn = 0, r;
	char why[300];

	if (p == NULL) {
		snprintf(err, errlen, "route stream from %s: not a peer of ours", name);
		return JG_ERR_PROTO;
	}
	o = json_loadb(line, len, 0, &je);
	if (o == NULL || json_unpack_ex(o, &je, 0, "{s:s, s?o, s?b, s?s}", "site", &site, "path",
					&jpath, "withdrawn", &withdrawn, "reason", &reason) != 0) {
		snprintf(err, errlen, "route stream from %s: bad line: %s", name, je.text);
		r = JG_ERR_PROTO;
		goto out;
	}
	if (!jg_rtable_name_ok(site)) {
		snprintf(err, errlen, "route stream from %s: bad site name \"%.64s\"", name, site);
		r = JG_ERR_PROTO;
		goto out;
	}
	if (withdrawn) {
		snprintf(why, sizeof(why), "%s", reason[0] ? reason : "withdrawn");
		forget(t, p, site);
		recompute_site(t, site, why);
		r = 0;
		goto out;
	}
	if ((r = parse_path(jpath, name, site, &path, err, errlen)) != 0)
		goto out;
	forget(t, p, site);
	for (size_t i = 0; i < path.n; i++) {
		if (strcmp(path.v[i], t->self) == 0) {
			/* Through us: a loop.  Whatever it replaced is gone. */
			snprintf(why, sizeof(why), "%s now reaches %s only through us", name, site);
			recompute_site(t, site, why);
			goto out;
		}
	}
	if (t->nlearned >= MAX_ROUTES) {
		snprintf(err, errlen, "over %d routes learned: %s's route to %s dropped",
			 MAX_ROUTES, name, site);
		recompute_site(t, site, err);
		r = JG_ERR_TOOBIG;
		goto out;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->site = strdup(site)) == NULL) {
		free(e);
		snprintf(err, errlen, "out of memory");
		r = JG_ERR_NOMEM;
		goto out;
	}
	e->peer = p;
	e->path = path;
	path.v = NULL;
	path.n = 0;
	e->next = t->learned;
	t->learned = e;
	t->nlearned++;
	snprintf(why, sizeof(why), "withdrawn");
	/* Not a route this peer may carry: what it said before is gone all the same. */
	if (t->filter != NULL && !t->filter(t->filter_ud, name, site, why, sizeof(why))) {
		e->refused = 1;
		p->refused++;
	}
	recompute_site(t, site, why);
out:
	path_clear(&path);
	json_decref(o);
	return r;
}

void jg_rtable_set_filter(struct jg_rtable *t, jg_rtable_filter_fn fn, void *ud)
{
	char why[300] = "refused by the configuration";

	t->filter = fn;
	t->filter_ud = ud;
	for (struct learned *e = t->learned; e != NULL; e = e->next) {
		int was = e->refused;

		e->refused = fn != NULL && !fn(ud, e->peer->name, e->site, why, sizeof(why));
		e->peer->refused += e->refused && !was;
	}
	/* A site now refused goes (it may be an inventory name now); one now allowed comes. */
	recompute(t, why);
	prune(t, 0);
}

uint64_t jg_rtable_refused(const struct jg_rtable *t, const char *peer)
{
	const struct peer *p = peer_find(t, peer);

	return p != NULL ? p->refused : 0;
}

/* ---------------------------------------------------------------- using */

int jg_rtable_lookup(const struct jg_rtable *t, const char *site, const struct jg_route **r)
{
	struct best *b = best_find(t, site);

	if (b == NULL)
		return -1;
	best_sync(b);
	*r = &b->pub;
	return b->via != NULL;
}

void jg_rtable_foreach(const struct jg_rtable *t, void (*fn)(void *ud, const struct jg_route *r),
		       void *ud)
{
	for (struct best *b = t->best; b != NULL; b = b->next) {
		best_sync(b);
		fn(ud, &b->pub);
	}
}

static char *dump(json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

char *jg_rtable_advert(const struct jg_rtable *t, const struct jg_route *r)
{
	json_t *path;

	if (r->next_hop == NULL)
		return dump(json_pack("{s:s, s:b, s:s}", "site", r->site, "withdrawn", 1, "reason",
				      r->reason));
	if ((path = json_array()) == NULL)
		return NULL;
	json_array_append_new(path, json_string(t->self));
	for (size_t i = 0; i < r->npath; i++)
		json_array_append_new(path, json_string(r->path[i]));
	return dump(json_pack("{s:s, s:o}", "site", r->site, "path", path));
}

char *jg_rtable_advert_self(const struct jg_rtable *t)
{
	return dump(json_pack("{s:s, s:[s]}", "site", t->self, "path", t->self));
}
