/* Bulk transfer settings shared by every HTTP/2 endpoint of jumpgate: the
 * gateway's server sessions (gateway/h2.c), its links to peer gateways
 * (gateway/linksession.c) and the client (client/conn.c).
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
 * Not done, on purpose: OpenSSL's read-ahead.  libevent's TLS bufferevent asks
 * SSL_pending(), which does not count records read ahead but not yet decrypted,
 * so a connection stalls with bytes inside OpenSSL (seen here: every transfer
 * hung at its first window). */
#ifndef JG_H2_BULK_H
#define JG_H2_BULK_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

struct bufferevent;

/* SETTINGS_MAX_FRAME_SIZE every endpoint announces (RFC 9113 allows up to 2^24-1). */
#define JG_H2_MAX_FRAME (256u * 1024u)
/* Most bytes one read or write callback of a connection's bufferevent moves. */
#define JG_H2_MAX_IO (1024u * 1024u)

/* Large single reads and writes on a connection's bufferevent (TLS or plain). */
void jg_h2bulk_tune_bev(struct bufferevent *bev);
/* Let nghttp2 send DATA frames up to the peer's SETTINGS_MAX_FRAME_SIZE (and
 * JG_H2_MAX_FRAME), instead of its fixed 16 KiB. */
void jg_h2bulk_tune_callbacks(nghttp2_session_callbacks *cbs);

#endif
