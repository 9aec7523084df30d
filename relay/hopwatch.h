/* What the tools of a chain's hops print on its stderr, read sans-I/O: the
 * password prompts of sudo and su (answered on stdin by the gateway), and
 * the failure texts of sudo, su, doas, lxc-attach, lxc (LXD), docker and
 * kubectl, turned into a reason naming the hop and a hint where the tool
 * gives none (lxc-attach often fails without saying why).
 *
 * The ssh hop's own prompts and failures are relay/ssh.h's watcher; the
 * gateway feeds the same stderr to both. */
#ifndef JG_HOPWATCH_H
#define JG_HOPWATCH_H

#include <stddef.h>

#include "relay/hop.h"

struct jg_hop_watch {
	enum jg_method method[JG_CHAIN_MAX_HOPS];
	int has_password[JG_CHAIN_MAX_HOPS];
	int tty_prompt[JG_CHAIN_MAX_HOPS]; /* prompts on a PTY the agent answers, not stderr */
	unsigned answered[JG_CHAIN_MAX_HOPS];
	size_t n;
	char tail[512]; /* the current stderr line, not yet ended */
	size_t len;
	int fail_hop;	       /* -1: no failure recognised */
	const char *fail_hint; /* static text */
	char fail_line[256];   /* the tool's own words */
	int refused_hop;       /* a prompt came again: its password was refused (-1 none) */
	int unanswerable_hop;  /* a prompt for a hop without a password (-1 none) */
	char label[JG_CHAIN_MAX_HOPS][96]; /* "hop 2 (sudo to root)" */
};

/* For HOPS[0..N-1]. */
void jg_hop_watch_init(struct jg_hop_watch *w, const struct jg_hop *hops, size_t n);
/* Stderr bytes.  Returns the hop whose password the output now asks for (the caller
 * writes it and "\n" to stdin and calls jg_hop_watch_answered), or -1.  A prompt asked
 * again, or for a hop with no password, sets refused_hop / unanswerable_hop instead (the
 * caller ends the connection with jg_hop_watch_reason). */
int jg_hop_watch_stderr(struct jg_hop_watch *w, const void *data, size_t len);
void jg_hop_watch_answered(struct jg_hop_watch *w, int hop);
/* 1 and a reason in BUF when a hop failure was recognised ("hop 2 (sudo to root): the
 * password was refused"), else 0. */
int jg_hop_watch_reason(const struct jg_hop_watch *w, char *buf, size_t len);

#endif
