/* jumpgate-agent: the program the gateway runs on each target.
 *
 * The agent is the ACCEPTOR end of one frame-protocol link whose transport is
 * its own stdin (frames in) and stdout (frames out).  main.c owns the event
 * loop, the link transport and the shutdown; exec.c runs exec channels
 * (children on pipes or a pty).  One struct jg_agent, owned by main(), is
 * passed everywhere: no other mutable global. */
#ifndef JG_AGENT_H
#define JG_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "agent/pump.h"
#include "relay/frame.h"

struct event;
struct event_base;
struct jg_frame;
struct jg_link;
struct jg_reaper;
struct jg_agent_exec;

/* Above this many bytes queued for stdout, children's output is not read:
 * memory stays bounded when the gateway reads slowly. */
#define JG_AGENT_OUT_HIGH (1u << 20)
/* Largest single read from a child (one link frame's payload). */
#define JG_AGENT_READ_MAX JG_FRAME_LINK_PAYLOAD

LIST_HEAD(jg_agent_exec_list, jg_agent_exec);
struct jg_file_chan;
LIST_HEAD(jg_file_chan_list, jg_file_chan);

/* Directories whose stale temporary files this agent has removed (a ring). */
#define JG_AGENT_SWEPT_MAX 64
struct jg_agent_swept {
	dev_t dev;
	ino_t ino;
};

struct jg_agent;
struct jg_agent_chan;
/* What main.c calls for a live channel of any kind. */
struct jg_agent_chan_cbs {
	/* A frame from the gateway (DATA, EOF, SIGNAL, RESIZE, CLOSE). */
	void (*frame)(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
	/* The gateway granted credit: resume producing DATA. */
	void (*writable)(struct jg_agent *a, struct jg_agent_chan *c);
	/* The channel died on the link: stop, send nothing more, free when done. */
	void (*dead)(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);
};
/* The first member of every channel object; the link's channel user data points at it. */
struct jg_agent_chan {
	const struct jg_agent_chan_cbs *cbs;
};

struct jg_agent {
	struct event_base *base;
	struct jg_link *link;
	struct jg_reaper *reaper;
	struct event *ev_in;	   /* fd 0 readable: frames from the gateway */
	struct evbuffer *in;	   /* what was read from fd 0, moved to the link (no copy) */
	struct event *ev_out;	   /* fd 1 writable; pending only while output is queued */
	struct event *ev_kill;	   /* shutdown: SIGKILL what SIGHUP did not stop */
	struct event *ev_deadline; /* shutdown: exit even if children linger */
	struct event *ev_term;	   /* SIGTERM: shut down like on stdin EOF */
	struct jg_agent_exec_list execs;
	size_t nexecs;
	struct jg_file_chan_list files; /* live PUT and GET channels (files.c) */
	struct jg_agent_swept swept[JG_AGENT_SWEPT_MAX];
	unsigned nswept;
	/* Every channel's pump (agent/pump.h): reads stop while the link output is above
	 * JG_AGENT_OUT_HIGH; pumps.dead once stdout failed (queued output is dropped). */
	struct jg_apump_host pumps;
	int out_grown;	   /* growing the stdout pipe was tried */
	int journal_tried; /* the put journal (files_journal.c) was looked for */
	int journal_fd;	   /* its descriptor, locked; -1 none */
	char *journal_name;
	unsigned journal_live; /* temporary files it names that may still exist */
	int shutting_down;     /* stdin is no longer read; exit once every child is reaped */
	int exit_code;
};

/* main.c */
/* Exit the loop if shutting down and nothing is left to wait for. */
void jg_agent_check_done(struct jg_agent *a);

/* exec.c */
/* Handle OPEN(exec) on CH: decode the spec, spawn, answer OPEN_OK or OPEN_FAIL. */
void jg_agent_exec_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f);
/* Shutdown: abandon every channel (nothing more is sent) and signal each child's
 * process group with SIG; channels are freed as their children are reaped. */
void jg_agent_exec_abandon_all(struct jg_agent *a, int sig);
/* Shutdown: send SIG to every child not yet reaped. */
void jg_agent_exec_signal_all(struct jg_agent *a, int sig);
/* Free every channel (at exit; children are not waited for). */
void jg_agent_exec_free_all(struct jg_agent *a);

/* tunnel.c: TUNNEL channels (a TCP connection from the target; relay/opspec.h). */
void jg_agent_tunnel_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f);
/* Shutdown or exit: close every tunnel (nothing more is sent) and free it. */
void jg_agent_tunnel_free_all(struct jg_agent *a);

/* files.c: PUT, GET and STAT channels (relay/opspec.h). */
void jg_agent_file_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f);
/* Shutdown or exit: abandon every transfer (temporary files removed) and free it. */
void jg_agent_file_free_all(struct jg_agent *a);
/* At start: remove temporary files of agents that were killed mid-PUT (files_journal.c). */
void jg_agent_file_sweep_dead(void);

#endif
