/* The persistent client's process, the master (see client/mux.h), inside: what its two
 * files share.  client/master.c runs the process (the gateway connection, the listening
 * socket, when to leave); client/masterrelay.c relays each client's streams onto the
 * gateway connection.
 *
 * Flow control: neither session acknowledges DATA as it arrives
 * (no_auto_window_update).  Request bytes from a client wait in its stream's up buffer
 * and are acknowledged to the client only when the gateway connection takes them (body
 * callback); response bytes wait in the down buffer and are acknowledged to the gateway
 * only when the client's session sends them on.  So a stream holds at most one window
 * each way, and a stalled reader stalls its own stream only.
 *
 * A relayed stream lives while either side is open: the client's (mc != NULL) and the
 * gateway's (up_open); it is freed when both are done. */
#ifndef JG_CLIENT_MASTER_H
#define JG_CLIENT_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

struct event;
struct evbuffer;
struct bufferevent;
struct jg_client;
struct jg_conn;

/* Per client stream and connection: what a client may send before we pass it on. */
#define MASTER_STREAM_WINDOW (1024 * 1024)
#define MASTER_CONN_WINDOW (64 * 1024 * 1024)
/* Stop handing a session's output to a client's socket above this. */
#define MASTER_OUTPUT_HIGH (64 * 1024)
/* Header fields kept per block (a request's or a response's), pseudo-headers included. */
#define MASTER_MAX_FIELDS 24
/* How long the clients get to read a GOAWAY before we leave. */
#define MASTER_DRAIN_S 2

struct master;
struct mclient;

struct fields {
	size_t n;
	char *nv[MASTER_MAX_FIELDS][2];
	int overflow;
};

struct mstream {
	struct master *m;
	struct mclient *mc;	  /* NULL once the client's side is gone */
	struct mstream *next;	  /* in mc->streams */
	struct mstream *all_next; /* in m->all, until freed */
	int32_t down_id, up_id;	  /* the client's stream id, the gateway stream's (0: none yet) */
	int up_open;		  /* the gateway stream exists and has not closed */
	struct fields req, resp;
	int resp_sent, trailers; /* response HEADERS submitted; resp holds trailers to send */
	int up_eof, down_eof;	 /* the request's end / the response's end arrived */
	int up_cut;		 /* the response ended first: the rest of the request is dropped */
	uint32_t rst_pending;	 /* the gateway reset the stream: reset after the buffer */
	struct evbuffer *up, *down;
};

struct mclient {
	struct master *m;
	struct mclient *next;
	struct bufferevent *bev;
	nghttp2_session *session;
	struct event *send_ev;
	struct mstream *streams;
	int closing; /* GOAWAY sent: freed once the output drained */
};

struct master {
	struct jg_client *c;
	struct jg_conn *up;
	int up_ok;   /* the gateway connection is open and its SETTINGS arrived */
	int leaving; /* the socket is gone: exit when the clients are */
	const char *path;
	dev_t dev;
	ino_t ino;
	int lfd;
	struct event *accept_ev, *idle_ev, *drain_ev;
	struct mclient *clients;
	struct mstream *all; /* every stream, so none outlives us unfreed */
	int persist;	     /* seconds without a client before we leave */
	int status;
};

/* Serve the client connected on FD (ours now).  0, or -1 (FD closed). */
int jg_master_client_new(struct master *m, int fd);
/* Drop a client connection, cancelling what it still had going at the gateway. */
void jg_master_client_free(struct mclient *mc);
/* The gateway connection failed with MSG: every stream is over; each client gets a GOAWAY
 * carrying MSG and is dropped once it is sent. */
void jg_master_clients_fail(struct master *m, const char *msg);
/* At exit, after the clients: free the streams still waiting for the gateway. */
void jg_master_streams_free(struct master *m);
/* (master.c) A client went away: leave, or arm the idle timer, when it was the last. */
void jg_master_check_exit(struct master *m);

#endif
