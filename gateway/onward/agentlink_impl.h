/* Private to gateway/onward/agentlink.c (the pool and its I/O) and gateway/onward/onward.c
 * (how each method starts its process and what its output means). */
#ifndef JG_GATEWAY_ONWARD_AGENTLINK_IMPL_H
#define JG_GATEWAY_ONWARD_AGENTLINK_IMPL_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "gateway/onward/setupq.h"
#include "relay/hop.h"
#include "relay/hopwatch.h"
#include "relay/log.h"
#include "relay/spawn.h"
#include "relay/ssh.h"

struct event;
struct evbuffer;
struct jg_boot;
struct jg_chain;
struct jg_gateway;
struct jg_link;

enum al_state {
	AL_CONNECTING, /* spawned; bootstrap or the agent's HELLO still to come */
	AL_UP,	       /* the agent's HELLO arrived */
	AL_DEAD,       /* failed or closed; freed from its own event */
};

struct jg_onward {
	struct jg_gateway *gw;
	struct jg_chain *chain; /* owned copy */
	pid_t pid;
	int exited, wstatus;
	int to_fd, from_fd, err_fd, tty_fd;
	struct event *rev, *wev, *errev, *flush_ev, *free_ev, *tick, *tty_poll, *deadline;
	struct jg_link *link;
	struct evbuffer *rbuf; /* bytes read from the agent, moved to the link (no copy) */
	enum al_state state;
	/* Bootstrap (methods that run the stub): bytes for the stub go through boot_out
	 * until the agent runs; the link's own output is held until then. */
	struct jg_boot *boot;
	struct evbuffer *boot_out;
	int booted;
	struct jg_ssh_watch watch;  /* ssh's stderr and terminal; last stderr line of any chain */
	struct jg_hop_watch hwatch; /* the other hops' prompts and failures on stderr */
	int plain_local;	    /* the chain is just "local": no stub, agent stderr is ours */
	int direct_agent;	    /* the gateway runs the agent itself (maybe a trampoline) */
	int askpass[JG_CHAIN_MAX_HOPS + 2]; /* per bootstrap stage, relay/hop.h */
	size_t stages_seen;		    /* stub stages whose exec line was handled */
	uint64_t started_ms, last_rx_ms, idle_since_ms, lost_at_ms;
	uint64_t tick_ms; /* the last on_tick: a late one means our own loop stalled */
	int ping_sent;
	int password_sent; /* a second password prompt means the first was refused */
	char lost_what[64];
	time_t since;
	uint64_t bytes_in, bytes_out;
	struct jg_setupq_entry sq;	/* its place in the onward setup queue (setupq.h) */
	struct jg_agentsock *agentsock; /* chain->agent: the onward ssh's SSH_AUTH_SOCK */
	struct jg_onward *next, *prev;
};

/* agentlink.c */
/* Fail the connection now with REASON (logged once at LEVEL); every channel gets it. */
void jg_onward_die(struct jg_onward *al, enum jg_log_level level, const char *reason);
/* Output ended or the process stopped reading: die once the exit status is known. */
void jg_onward_lost(struct jg_onward *al, const char *what);
/* Write pending bytes to the process. */
void jg_onward_write(struct jg_onward *al);
/* The stub exec'd the agent; REST holds its first bytes (frames). */
void jg_onward_booted(struct jg_onward *al, struct evbuffer *rest);

/* onward.c */
/* Start the process for al->chain: the agent for local, ssh + stub for ssh. */
int jg_onward_spawn(struct jg_onward *al, struct jg_child *child, char *err, size_t errlen);
/* Watch the process's stderr and terminal (after al->err_fd/tty_fd are set). */
int jg_onward_watch(struct jg_onward *al);
/* Output before the agent runs goes through the bootstrap parser. */
void jg_onward_boot_input(struct jg_onward *al, const uint8_t *data, size_t len);
/* After the process exited: read what is left of its stderr, so the reason has its last
 * words (the exit status can arrive before the stderr event runs). */
void jg_onward_drain_stderr(struct jg_onward *al);
/* Why the connection ended, for people (uses the exit status and what ssh said). */
void jg_onward_reason(const struct jg_onward *al, char *buf, size_t len);
/* The last thing the process said on stderr, or "". */
void jg_onward_last_words(const struct jg_onward *al, char *buf, size_t len);
/* Free what onward.c added to AL. */
void jg_onward_clear(struct jg_onward *al);

#endif
