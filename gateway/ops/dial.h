/* Resolving the host of a tunnel the gateway dials itself, without blocking the
 * event loop, bounded in time.
 *
 * A numeric address (IPv4, IPv6, with or without brackets) is answered at once
 * by jg_dial_numeric.  A name goes to libevent's evdns (evdns_getaddrinfo: the
 * hosts file, then the nameservers of /etc/resolv.conf), through jg_dial_resolve:
 * its callback runs exactly once, from the event loop (never from inside
 * jg_dial_resolve), unless jg_dial_cancel came first.  Policy then judges the
 * addresses the name resolved to, not the name (gateway/ops/tunnel.c). */
#ifndef JG_GATEWAY_OPS_DIAL_H
#define JG_GATEWAY_OPS_DIAL_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define JG_DIAL_MAX_ADDRS 8

struct event_base;

/* One address to dial: the socket address (port set) and its text ("127.0.1.5", "::1"). */
struct jg_dial_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
};

struct jg_dial_addrs {
	size_t n;
	struct jg_dial_addr a[JG_DIAL_MAX_ADDRS];
};

/* HOST as a numeric address with PORT into OUT (one address): 0, or -1 when HOST is not
 * numeric (then a name: jg_dial_resolve). */
int jg_dial_numeric(const char *host, uint16_t port, struct jg_dial_addrs *out);

/* Is NAME a host name a resolver can be asked for (dot-separated labels of 1-63 letters,
 * digits, '-' or '_', 253 characters at most, one trailing dot allowed)?  0, or -1 with
 * the reason in WHY ("db..x: an empty label"). */
int jg_dial_check_name(const char *name, char *why, size_t whylen);

/* The answer: ADDRS (n >= 1) on success, else ADDRS NULL and ERROR a line a person
 * can act on ("cannot resolve db7: name not known", "... timed out after 10000 ms"). */
typedef void (*jg_dial_cb)(void *arg, const struct jg_dial_addrs *addrs, const char *error);

struct jg_dial;

/* Start resolving HOST (a name) for PORT, at most TIMEOUT_MS, with the nameservers and
 * options of RESOLV_CONF (NULL: /etc/resolv.conf) and the hosts file.  The request, or
 * NULL with the reason in WHY (out of memory, RESOLV_CONF unreadable).  The request
 * frees itself after calling CB. */
struct jg_dial *jg_dial_resolve(struct event_base *base, const char *host, uint16_t port,
				unsigned timeout_ms, const char *resolv_conf, jg_dial_cb cb,
				void *arg, char *why, size_t whylen);

/* Forget a pending request D (NULL is fine): CB will not be called. */
void jg_dial_cancel(struct jg_dial *d);

#endif
