/* Bulk transfer settings shared by every HTTP/2 endpoint of jumpgate: the
 * gateway's server sessions (gateway/edge/h2.c, h2session.c), its links to peer gateways
 * (gateway/sites/linksession.c) and the client (client/conn.c).
 *
 * Why (tests/bench/bench_datapath.sh, and the profile in the closing note of
 * the data-path issue): by default libevent moves at most 16 KiB per read or
 * write callback, OpenSSL reads each TLS record with two read(2) calls (header,
 * then body) and nghttp2 cuts DATA frames at 16 KiB, so each 16 KiB record was
 * followed by a 9-byte record carrying the next frame header.  Per byte, the
 * number of system calls, wake-ups and records is what cost CPU, not AES-GCM.
 * These settings make reads and writes large and let DATA frames run to
 * JG_H2_MAX_FRAME so TLS records stay full.
 *
 * TLS runs as a filter over a plain socket bufferevent (jg_h2bulk_tls_new):
 * OpenSSL reads and writes records in memory, and the socket moves up to
 * JG_H2_MAX_IO per read(2) or writev(2).  With OpenSSL on the socket itself,
 * each 16 KiB record cost one write(2) and two read(2) calls (header, body),
 * and each write woke the reader: in a profile of a 128 MiB upload, wake-ups
 * and scheduling were 44% of the gateway's CPU, against 28% for copying.
 * The price is one memcpy per byte each way (records into and out of the
 * socket's evbuffers), and that a connection's unsent bytes are in two
 * buffers: callers ask jg_h2bulk_unsent(), never the TLS bufferevent's output
 * alone, before they close.
 *
 * Not done, on purpose: OpenSSL's read-ahead.  libevent's TLS bufferevent asks
 * SSL_pending(), which does not count records read ahead but not yet decrypted,
 * so a connection stalls with bytes inside OpenSSL (seen here: every transfer
 * hung at its first window). */
#ifndef JG_H2_BULK_H
#define JG_H2_BULK_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/* SETTINGS_MAX_FRAME_SIZE every endpoint announces (RFC 9113 allows up to 2^24-1). */
#define JG_H2_MAX_FRAME (256u * 1024u)
/* Most bytes one read or write callback of a connection's bufferevent moves. */
#define JG_H2_MAX_IO (1024u * 1024u)
/* Most bytes one read(2) of a connection's socket takes, and the most the TLS filter
 * decrypts ahead: larger reads cost memory per connection (each read reserves its
 * size: at 1 MiB, 15 concurrent uploads took the gateway's RSS to 72 MiB) and save
 * little more system time. */
#define JG_H2_READ_MAX (256u * 1024u)

/* A TLS bufferevent for the connected socket FD with SSL in STATE
 * (BUFFEREVENT_SSL_ACCEPTING or _CONNECTING): OpenSSL as a filter over a
 * socket bufferevent, both BEV_OPT_CLOSE_ON_FREE, tuned for bulk.  On success
 * it owns FD and SSL; free it with jg_h2bulk_free.  NULL when out of memory,
 * and then the caller still owns FD and SSL. */
struct bufferevent *jg_h2bulk_tls_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				      enum bufferevent_ssl_state state);
/* The same for a plain socket (a Unix socket: h2c): a pass-through filter over
 * a socket bufferevent, read in large pieces like the TLS one (libevent 2.1's
 * own socket reads are 4 KiB each).  BEV_OPT_CLOSE_ON_FREE plus OPTIONS
 * (BEV_OPT_DEFER_CALLBACKS or 0); NULL when out of memory (FD still the caller's). */
struct bufferevent *jg_h2bulk_plain_new(struct event_base *base, evutil_socket_t fd, int options);
/* One read(2) of up to MAX bytes (what the kernel holds) from the socket of SOCK,
 * a socket bufferevent whose own reading is disabled, into its input; for
 * callers that read a socket bufferevent themselves in large pieces.  As
 * read(2): bytes, 0 at EOF, -1 with errno. */
ssize_t jg_h2bulk_read_into(struct bufferevent *sock, size_t max);
/* Bytes written to BEV and not yet handed to the kernel: its output, plus the
 * output of the socket under a TLS filter.  0 means flushed.  When the socket
 * under a filter drains, BEV's write callback runs (as it does when its own
 * output drains), so a caller waiting for 0 is woken. */
size_t jg_h2bulk_unsent(struct bufferevent *bev);
/* Read what the kernel holds for BEV's socket into the buffer OpenSSL reads
 * from, without running callbacks: for an event callback that wants to read
 * an alert the peer sent before a reset (a TLS bufferevent from
 * jg_h2bulk_tls_new reads only when the loop sees the socket readable). */
void jg_h2bulk_read_pending(struct bufferevent *bev);
/* One non-blocking write of what the socket under BEV's TLS still holds: for
 * a connection about to close, whose last records (an alert, a GOAWAY) are
 * written by OpenSSL into memory, not to the socket.  Best effort; nothing
 * for other bufferevents. */
void jg_h2bulk_send_now(struct bufferevent *bev);
/* Free BEV (from jg_h2bulk_tls_new or _plain_new, or any other bufferevent), after
 * jg_h2bulk_send_now. */
void jg_h2bulk_free(struct bufferevent *bev);

/* Large single reads and writes on a connection's bufferevent (TLS or plain). */
void jg_h2bulk_tune_bev(struct bufferevent *bev);
/* Let nghttp2 send DATA frames up to the peer's SETTINGS_MAX_FRAME_SIZE (and
 * JG_H2_MAX_FRAME), instead of its fixed 16 KiB. */
void jg_h2bulk_tune_callbacks(nghttp2_session_callbacks *cbs);

#endif
