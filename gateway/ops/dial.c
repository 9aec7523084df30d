/* Resolving a tunnel's host without blocking the loop (gateway/ops/dial.h).
 *
 * One request owns its evdns base (so /etc/resolv.conf and the hosts file are read
 * as they are now) and one event, used twice: as the deadline while the answer is
 * awaited, and made active to hand the answer over from the loop.  evdns answers
 * from inside evdns_getaddrinfo (numeric, hosts file) or later, and a cancelled
 * request still calls back later (EVUTIL_EAI_CANCEL): so the request lives until
 * evdns is done with it, whatever the caller did, and is freed from our own event,
 * never from inside an evdns callback.
 *
 * States: WAITING (evdns asked, deadline armed) -> ANSWERED (addresses or error
 * kept, the event made active) -> handed to the caller, freed; or WAITING ->
 * FORGOTTEN (cancelled, or timed out and the caller told) -> freed once evdns
 * called back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>

#include "gateway/ops/dial.h"

enum dial_state { DIAL_WAITING, DIAL_ANSWERED, DIAL_FORGOTTEN };

struct jg_dial {
	enum dial_state state;
	struct evdns_base *dns;
	struct evdns_getaddrinfo_request *req; /* NULL once evdns called back */
	struct event *ev;
	jg_dial_cb cb;
	void *arg;
	unsigned timeout_ms;
	char host[256];
	struct jg_dial_addrs addrs;
	char error[400];
};

/* SA (LEN bytes) as the next address of OUT; 0, or -1 when it is no IPv4/IPv6 or OUT is full. */
static int addr_add(struct jg_dial_addrs *out, const struct sockaddr *sa, socklen_t len)
{
	struct jg_dial_addr *a;
	const void *bin;

	if (out->n >= JG_DIAL_MAX_ADDRS || len > sizeof(a->ss))
		return -1;
	if (sa->sa_family == AF_INET)
		bin = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		bin = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	a = &out->a[out->n];
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, sa, len);
	a->len = len;
	if (evutil_inet_ntop(sa->sa_family, bin, a->text, sizeof(a->text)) == NULL)
		return -1;
	out->n++;
	return 0;
}

int jg_dial_numeric(const char *host, uint16_t port, struct jg_dial_addrs *out)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	char bare[64];
	size_t n = strlen(host);

	out->n = 0;
	/* "[::1]" as ssh and our target specs write it, "::1" as ssh's %h gives it. */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(bare)) {
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
		host = bare;
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1)
		return addr_add(out, (struct sockaddr *)&sin, sizeof(sin));
	if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1)
		return addr_add(out, (struct sockaddr *)&sin6, sizeof(sin6));
	return -1;
}

int jg_dial_check_name(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name), label = 0;

	if (n == 0 || n > 254 || (n == 254 && name[253] != '.')) {
		snprintf(why, whylen, "\"%.64s\" is not a host name (1-253 characters)", name);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0) {
				snprintf(why, whylen,
					 "\"%.64s\" is not a host name (an empty label)", name);
				return -1;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63) {
				snprintf(why, whylen,
					 "\"%.64s...\" is not a host name (a label over 63 "
					 "characters)",
					 name);
				return -1;
			}
		} else {
			snprintf(why, whylen,
				 "\"%.64s\" is not a host name (letters, digits, '-', '_' and dots "
				 "only)",
				 name);
			return -1;
		}
	}
	return 0;
}

static void dial_free(struct jg_dial *d)
{
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->dns != NULL)
		evdns_base_free(d->dns, 0);
	free(d);
}

/* evdns is done with the request: keep the answer and hand it over from the loop. */
static void dial_on_answer(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct jg_dial *d = arg;

	d->req = NULL;
	if (d->state == DIAL_WAITING) {
		d->addrs.n = 0;
		for (struct evutil_addrinfo *p = ai; result == 0 && p != NULL; p = p->ai_next)
			(void)addr_add(&d->addrs, p->ai_addr, (socklen_t)p->ai_addrlen);
		if (result == EVUTIL_EAI_NONAME)
			snprintf(d->error, sizeof(d->error), "cannot resolve %s: no such name",
				 d->host);
		else if (result == EVUTIL_EAI_FAIL || result == EVUTIL_EAI_AGAIN)
			snprintf(d->error, sizeof(d->error),
				 "cannot resolve %s: the nameservers did not answer (%s)", d->host,
				 evutil_gai_strerror(result));
		else if (result != 0)
			snprintf(d->error, sizeof(d->error), "cannot resolve %s: %s", d->host,
				 evutil_gai_strerror(result));
		else if (d->addrs.n == 0)
			snprintf(d->error, sizeof(d->error),
				 "cannot resolve %s: no IPv4 or IPv6 address", d->host);
		d->state = DIAL_ANSWERED;
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	event_del(d->ev);
	event_active(d->ev, EV_TIMEOUT, 0);
}

static void dial_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct jg_dial *d = arg;
	struct jg_dial_addrs addrs;
	char error[400];
	jg_dial_cb cb = d->cb;
	void *cbarg = d->arg;

	(void)fd;
	(void)what;
	switch (d->state) {
	case DIAL_WAITING:
		/* The deadline: the caller hears now; evdns will call back, then we go. */
		snprintf(error, sizeof(error), "cannot resolve %s: no answer within %u ms", d->host,
			 d->timeout_ms);
		d->state = DIAL_FORGOTTEN;
		if (d->req != NULL)
			evdns_getaddrinfo_cancel(d->req);
		else
			dial_free(d);
		cb(cbarg, NULL, error);
		return;
	case DIAL_ANSWERED:
		addrs = d->addrs;
		snprintf(error, sizeof(error), "%s", d->error);
		dial_free(d);
		cb(cbarg, error[0] == '\0' ? &addrs : NULL, error[0] == '\0' ? NULL : error);
		return;
	case DIAL_FORGOTTEN:
		if (d->req == NULL)
			dial_free(d);
		return;
	}
}

struct jg_dial *jg_dial_resolve(struct event_base *base, const char *host, uint16_t port,
				unsigned timeout_ms, const char *resolv_conf, jg_dial_cb cb,
				void *arg, char *why, size_t whylen)
{
	struct evutil_addrinfo hints;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct jg_dial *d = calloc(1, sizeof(*d));
	char service[8];
	int r;

	if (d == NULL || (d->ev = event_new(base, -1, 0, dial_on_event, d)) == NULL) {
		snprintf(why, whylen, "cannot resolve %s: out of memory", host);
		goto fail;
	}
	/* The resolver as configured now: resolv.conf's nameservers and the hosts file
	 * ("localhost" resolves without any nameserver). */
	d->dns = evdns_base_new(base, resolv_conf == NULL ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0);
	if (d->dns == NULL) {
		snprintf(why, whylen,
			 "cannot resolve %s: no resolver (is /etc/resolv.conf readable?)", host);
		goto fail;
	}
	/* 6 is "no nameserver listed": evdns then asks 127.0.0.1, as the C library would. */
	if (resolv_conf != NULL &&
	    (r = evdns_base_resolv_conf_parse(d->dns, DNS_OPTIONS_ALL, resolv_conf)) != 0 &&
	    r != 6) {
		snprintf(why, whylen, "cannot resolve %s: cannot read resolv_conf %s", host,
			 resolv_conf);
		goto fail;
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->cb = cb;
	d->arg = arg;
	d->timeout_ms = timeout_ms;
	d->state = DIAL_WAITING;
	if (evtimer_add(d->ev, &tv) != 0) {
		snprintf(why, whylen, "cannot resolve %s: cannot arm the deadline", host);
		goto fail;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	/* Answered at once (the hosts file): dial_on_answer already ran and made d->ev active. */
	d->req = evdns_getaddrinfo(d->dns, host, service, &hints, dial_on_answer, d);
	return d;
fail:
	if (d != NULL)
		dial_free(d);
	return NULL;
}

void jg_dial_cancel(struct jg_dial *d)
{
	if (d == NULL)
		return;
	switch (d->state) {
	case DIAL_WAITING:
		d->state = DIAL_FORGOTTEN;
		event_del(d->ev);
		if (d->req != NULL)
			evdns_getaddrinfo_cancel(
			    d->req); /* dial_on_answer comes later, then we go */
		else
			dial_free(d);
		return;
	case DIAL_ANSWERED:
		dial_free(d); /* evdns is done; our event is only active */
		return;
	case DIAL_FORGOTTEN:
		return; /* already the caller's no more */
	}
}
