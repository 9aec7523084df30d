/* The set of links to peer gateways, as the configuration says
 * (gateway/sites/sites.h): one link (sitelink.c) per `sites` entry with an
 * address, made at start, changed by SIGHUP, drained by SIGTERM.
 *
 * Links are allocated one by one and kept in a list: a SIGHUP adds and
 * removes some while the route table, forwarded streams and timers hold
 * pointers to the others.  A link holds a reference to the configuration
 * its entry is in (sitelink.h), so that one stays alive while the link
 * uses it and is freed after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/sites/sitelink.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"

struct jg_sites {
	struct jg_sitelink *links;
	size_t nlinks;
};

struct jg_sitelink *jg_sitelink_find(struct jg_gateway *gw, const char *site)
{
	struct jg_sites *ss = gw->sites;

	for (struct jg_sitelink *l = ss != NULL ? ss->links : NULL; l != NULL; l = l->next)
		if (strcmp(jg_sitelink_name(l), site) == 0)
			return l;
	return NULL;
}

int jg_sites_start(struct jg_gateway *gw, char *err, size_t errlen)
{
	const struct jg_config *cfg = gw->cfg;
	struct jg_sites *ss;
	struct jg_sitelink **tail;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	srandom((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ getpid())); /* backoff jitter */
	if ((ss = calloc(1, sizeof(*ss))) == NULL || jg_routes_init(gw) != 0) {
		free(ss);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gw->sites = ss;
	tail = &ss->links;
	for (size_t i = 0; i < cfg->nsites; i++) {
		struct jg_sitelink *l;

		if (cfg->sites[i].address == NULL)
			continue;
		if (jg_routes_peer(gw, cfg->sites[i].name, i) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if ((l = jg_sitelink_new(gw, &cfg->sites[i], err, errlen)) == NULL)
			return -1;
		*tail = l;
		tail = &l->next;
		ss->nlinks++;
	}
	return 0;
}

/* CFG's entry for the site NAME when it has an address (we link to it), else NULL. */
static const struct jg_site *find_linked(const struct jg_config *cfg, const char *name,
					 size_t *rank)
{
	for (size_t i = 0; i < cfg->nsites; i++) {
		if (strcmp(cfg->sites[i].name, name) != 0)
			continue;
		*rank = i;
		return cfg->sites[i].address != NULL ? &cfg->sites[i] : NULL;
	}
	return NULL;
}

void jg_sites_reload(struct jg_gateway *gw)
{
	const struct jg_config *cfg = gw->cfg;
	struct jg_sites *ss = gw->sites;
	struct jg_sitelink **pp, *l;
	char err[512], lost[400];
	size_t rank = 0;

	if (ss == NULL || gw->draining)
		return;
	jg_routes_reconfigure(gw);
	/* Links the new configuration no longer has go; the others follow their entry. */
	pp = &ss->links;
	while ((l = *pp) != NULL) {
		const struct jg_site *s = find_linked(cfg, jg_sitelink_name(l), &rank);

		if (s == NULL) {
			const char *name = jg_sitelink_name(l); /* in the old configuration */

			jg_log_info(
			    "SIGHUP: site %s left sites (or lost its address): link closed, "
			    "its routes withdrawn",
			    name);
			*pp = l->next;
			ss->nlinks--;
			jg_sitelink_stop(l, "the site was removed from the configuration");
			snprintf(lost, sizeof(lost),
				 "route to %s lost: the site was removed from the configuration",
				 name);
			jg_routes_peer_remove(gw, name, lost);
			jg_sitelink_free(l);
			continue;
		}
		/* Renewed certificates take effect at the next connection, as for the
		 * listener; an unusable file keeps the running link as it was. */
		if (jg_sitelink_reconfigure(l, s, err, sizeof(err)) < 0)
			jg_log_error("SIGHUP: %s; the link to %s keeps its running settings", err,
				     s->name);
		if (jg_routes_peer(gw, s->name, rank) != 0)
			jg_log_error("SIGHUP: site %s: out of memory re-ranking it", s->name);
		pp = &l->next;
	}
	/* New links, at the end of the list. */
	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct jg_site *s = &cfg->sites[i];

		if (s->address == NULL || jg_sitelink_find(gw, s->name) != NULL)
			continue;
		if (jg_routes_peer(gw, s->name, i) != 0) {
			jg_log_error("SIGHUP: cannot link to the new site %s: out of memory",
				     s->name);
			continue;
		}
		if ((l = jg_sitelink_new(gw, s, err, sizeof(err))) == NULL) {
			jg_log_error("SIGHUP: cannot link to the new site %s: %s", s->name, err);
			snprintf(lost, sizeof(lost), "no link to %s: %s", s->name, err);
			jg_routes_peer_remove(gw, s->name, lost);
			continue;
		}
		jg_log_info("SIGHUP: new site %s (%s): linking", s->name, s->address);
		*pp = l;
		pp = &l->next;
		ss->nlinks++;
	}
}

void jg_sites_drain(struct jg_gateway *gw)
{
	struct jg_sites *ss = gw->sites;

	jg_routes_drain(gw);
	for (struct jg_sitelink *l = ss != NULL ? ss->links : NULL; l != NULL; l = l->next)
		jg_sitelink_drain(l);
}

void jg_sites_free(struct jg_gateway *gw)
{
	struct jg_sites *ss = gw->sites;
	struct jg_sitelink *l;

	while (ss != NULL && (l = ss->links) != NULL) {
		ss->links = l->next;
		jg_sitelink_stop(l, "the gateway is shutting down");
		jg_sitelink_free(l);
	}
	jg_routes_free(gw);
	free(ss);
	gw->sites = NULL;
}

void jg_sites_stats(const struct jg_gateway *gw, void *json_array)
{
	const struct jg_sites *ss = gw->sites;

	for (const struct jg_sitelink *l = ss != NULL ? ss->links : NULL; l != NULL; l = l->next)
		jg_sitelink_stats(l, json_array);
}
