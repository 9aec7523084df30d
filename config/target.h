/* Target specs: what `{target}` in a request names, resolved against the
 * inventory into a chain of hops, with strict validation before any argv
 * exists.
 *
 * Grammar (DESIGN.md):
 *   target  = inventory-name | spec | inventory-name "/" spec-chain
 *   spec    = "local" | "ssh:" [user "@"] host [":" port]
 *   host    = name | IPv4 | "[" IPv6 "]"
 *             (IPv4 as four decimal numbers without leading zeros: "127.1",
 *             "0x7f.0.0.1", "0177.0.0.1" or "2130706433" are refused, since
 *             policy could not tell them from a name)
 *   name    = [A-Za-z0-9] [A-Za-z0-9._-]*   (max 253; no leading '-')
 *   user    = [A-Za-z0-9_] [A-Za-z0-9._-]*  (max 64; no leading '-')
 *   port    = 1..65535
 * A bare name that is not in the inventory means "ssh:<name>" with the
 * ssh_defaults of the configuration.  Whitespace, control characters and
 * shell metacharacters are refused everywhere: argument injection into ssh
 * ("-oProxyCommand=...") is the classic hole of this kind of tool.
 * Chains of several hops ("a/b") arrive with the onward-methods work; until
 * then they are refused with a clear error. */
#ifndef JG_TARGET_H
#define JG_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "config/chain.h"

struct jg_config;

/* Resolve TEXT (already percent-decoded). 0 and *out, or JG_ERR_INVAL with a reason
 * that names the offending part ("user \"a b\": whitespace is not allowed"),
 * JG_ERR_NOTFOUND for an unknown method ("unknown method \"foo\" (known: local, ssh)"). */
int jg_target_resolve(const struct jg_config *cfg, const char *text, struct jg_chain **out,
		      char *err, size_t errlen);
/* Validate one host or user name per the grammar. 0 or JG_ERR_INVAL with the reason. */
int jg_target_check_host(const char *host, char *err, size_t errlen);
/* Why byte C is refused in a name, into BUF: "whitespace is not allowed", "character ';'
 * is not allowed", "control character \x1b is not allowed"... */
void jg_target_bad_char(char *buf, size_t size, unsigned char c);
int jg_target_check_user(const char *user, char *err, size_t errlen);
/* A container, pod, namespace or label named PART in the reason: [A-Za-z0-9_][A-Za-z0-9._-]*,
 * at most 253 bytes. */
int jg_target_check_name(const char *part, const char *name, char *err, size_t errlen);
/* May a tunnel go to PORT of HOST as seen from TARGET (as the client named it)?  HOST
 * NULL means the target itself (its own localhost, or a tunnel target's host).  The
 * configuration's `tunnels` policy (config.h) decides.  1 when allowed; 0 with the
 * reason in WHY ("tunnels to web1 port 80 are not allowed by ..."). */
int jg_target_tunnel_allowed(const struct jg_config *cfg, const char *target, const char *host,
			     uint16_t port, char *why, size_t whylen);

#endif
