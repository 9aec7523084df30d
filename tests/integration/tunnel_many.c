/* tunnel_many: N extended CONNECT tunnels (RFC 8441) on ONE HTTP/2 connection
 * to the gateway, for t_tunnel.sh ("100 concurrent tunnels on one controller
 * connection": the jumpgate CLI opens one stream per process).
 *
 *   tunnel_many HOST PORT CA CERT KEY TARGET TPORT [N [BYTES [SECONDS]]]
 *
 * TLS 1.3, ALPN h2, our client certificate.  Once the gateway's SETTINGS
 * allow extended CONNECT, every stream is submitted at once:
 * :method CONNECT, :protocol jumpgate-tunnel, :path
 * /v1/targets/TARGET/tunnel?port=TPORT.  Each sends BYTES of its own pattern,
 * then END_STREAM, and expects exactly those bytes back (an echo server) and
 * then the response's end.  Exit 0 only if every stream got 200 and its exact
 * bytes; one line per failed stream and a summary on stdout; 1 on a failed
 * stream, 2 on a setup error or when SECONDS (default 60) pass.
 *
 * TUNNEL_MANY_HOLD=FILE (tests/bench/bench_scale.sh): every stream stays open, idle,
 * once its bytes came back; FILE is created when all have, and the streams end (as
 * above) once someone removes it. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define OUTPUT_HIGH (64 * 1024)
#define STREAM_WINDOW (1024 * 1024)
#define SESSION_WINDOW (64 * 1024 * 1024)

struct tstream {
	int k;		/* index, 0..N-1: chooses the pattern */
	int32_t id;	/* HTTP/2 stream id */
	int status;	/* :status, 0 until the response */
	size_t sent;	/* pattern bytes handed to nghttp2 */
	size_t got;	/* bytes received */
	long bad_at;	/* first offset that differs, -1: none */
	int closed;	/* the stream is closed */
	uint32_t error; /* its close error code */
};

static struct {
	struct event_base *base;
	struct bufferevent *bev;
	nghttp2_session *session;
	struct tstream *st;
	struct event *timer;
	int n, closed, settings, done, closing, rc;
	size_t bytes;
	const char *host, *target, *tport;
	const char *hold;   /* TUNNEL_MANY_HOLD, or NULL */
	int held, released; /* streams whose bytes came back; FILE was removed */
	struct event *poll; /* hold: is FILE still there? */
	struct timespec t0;
} g = {.rc = 2};

static void pump(void);

static unsigned char pattern(int k, size_t i)
{
	return (unsigned char)(i * 31 + (size_t)k * 97 + (i >> 9) + (i >> 17));
}

static void finish(int rc)
{
	if (g.done)
		return;
	g.done = 1;
	g.rc = rc;
	event_base_loopexit(g.base, NULL);
}

/* Every stream is closed: GOAWAY, then leave once it is written (write_cb), 2 s at most. */
static void goodbye(void)
{
	struct timeval tv = {2, 0};

	g.closing = 1;
	nghttp2_session_terminate_session(g.session, NGHTTP2_NO_ERROR);
	evtimer_add(g.timer, &tv);
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *u)
{
	if (evbuffer_get_length(bufferevent_get_output(g.bev)) >= OUTPUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(g.bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static ssize_t body_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
		       nghttp2_data_source *src, void *u)
{
	struct tstream *t = src->ptr;
	size_t i, n = g.bytes - t->sent < len ? g.bytes - t->sent : len;

	for (i = 0; i < n; i++)
		buf[i] = pattern(t->k, t->sent + i);
	t->sent += n;
	if (t->sent == g.bytes && g.hold != NULL && !g.released)
		return n == 0 ? NGHTTP2_ERR_DEFERRED : (ssize_t)n; /* idle until released */
	if (t->sent == g.bytes)
		*flags |= NGHTTP2_DATA_FLAG_EOF; /* END_STREAM: the echo server sees EOF */
	return (ssize_t)n;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *u)
{
	struct tstream *t = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);

	if (t != NULL && f->hd.type == NGHTTP2_HEADERS &&
	    strcmp((const char *)name, ":status") == 0)
		t->status = atoi((const char *)value);
	return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *u)
{
	struct tstream *t = nghttp2_session_get_stream_user_data(s, id);
	size_t i;

	if (t == NULL)
		return 0;
	for (i = 0; i < len && t->bad_at < 0; i++)
		if (t->got + i >= g.bytes || data[i] != pattern(t->k, t->got + i))
			t->bad_at = (long)(t->got + i);
	if (g.hold != NULL && t->got < g.bytes && t->got + len >= g.bytes && ++g.held == g.n) {
		FILE *f = fopen(g.hold, "w");
		struct timeval tv = {0, 100000};

		if (f != NULL)
			fclose(f);
		evtimer_add(g.poll, &tv);
	}
	t->got += len;
	return 0;
}

/* Hold: FILE gone, every stream sends its END_STREAM. */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {0, 100000};

	if (access(g.hold, F_OK) == 0) {
		evtimer_add(g.poll, &tv);
		return;
	}
	g.released = 1;
	for (int i = 0; i < g.n; i++)
		nghttp2_session_resume_data(g.session, g.st[i].id);
	pump();
}

static void submit_all(void)
{
	char path[512];
	nghttp2_nv nva[5];
	const char *hv[5][2] = {{":method", "CONNECT"},
				{":protocol", "jumpgate-tunnel"},
				{":scheme", "https"},
				{":authority", g.host},
				{":path", path}};
	int i, j;

	snprintf(path, sizeof(path), "/v1/targets/%s/tunnel?port=%s", g.target, g.tport);
	for (j = 0; j < 5; j++) {
		nva[j].name = (uint8_t *)(uintptr_t)hv[j][0];
		nva[j].namelen = strlen(hv[j][0]);
		nva[j].value = (uint8_t *)(uintptr_t)hv[j][1];
		nva[j].valuelen = strlen(hv[j][1]);
		nva[j].flags = NGHTTP2_NV_FLAG_NONE;
	}
	for (i = 0; i < g.n; i++) {
		nghttp2_data_provider prd = {.source.ptr = &g.st[i], .read_callback = body_cb};

		g.st[i].id = nghttp2_submit_request(g.session, NULL, nva, 5, &prd, &g.st[i]);
		if (g.st[i].id < 0) {
			fprintf(stderr, "tunnel_many: stream %d: submit: %s\n", i,
				nghttp2_strerror(g.st[i].id));
			finish(2);
			return;
		}
	}
}

static int frame_cb(nghttp2_session *s, const nghttp2_frame *f, void *u)
{
	if (f->hd.type != NGHTTP2_SETTINGS || (f->hd.flags & NGHTTP2_FLAG_ACK) || g.settings)
		return 0;
	g.settings = 1;
	if (nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) != 1) {
		fprintf(stderr,
			"tunnel_many: the gateway's SETTINGS lack ENABLE_CONNECT_PROTOCOL\n");
		finish(2);
		return 0;
	}
	submit_all();
	return 0;
}

static int close_cb(nghttp2_session *s, int32_t id, uint32_t error, void *u)
{
	struct tstream *t = nghttp2_session_get_stream_user_data(s, id);

	if (t == NULL || t->closed)
		return 0;
	t->closed = 1;
	t->error = error;
	if (++g.closed == g.n)
		goodbye();
	return 0;
}

static void pump(void)
{
	int rv;

	if (!g.done && (rv = nghttp2_session_send(g.session)) != 0) {
		fprintf(stderr, "tunnel_many: HTTP/2 send: %s\n", nghttp2_strerror(rv));
		finish(2);
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n = nghttp2_session_mem_recv(g.session, evbuffer_pullup(in, -1), len);

	if (n < 0) {
		fprintf(stderr, "tunnel_many: HTTP/2 receive: %s\n", nghttp2_strerror((int)n));
		finish(2);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	pump();
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	pump();
	if (g.closing && !nghttp2_session_want_write(g.session) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		SSL_shutdown(bufferevent_openssl_get_ssl(bev)); /* close_notify: a deliberate end */
		finish(0);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	unsigned long e;
	const unsigned char *proto = NULL;
	unsigned int plen = 0;

	if (what & BEV_EVENT_CONNECTED) {
		SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(bev), &proto, &plen);
		if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
			fprintf(stderr, "tunnel_many: no ALPN h2\n");
			finish(2);
		}
		pump(); /* our preface and SETTINGS */
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0) /* libevent also queues bare SSL_get_error() codes */
			fprintf(stderr, "tunnel_many: TLS: %s\n", ERR_error_string(e, NULL));
	if (g.closing) {
		finish(0); /* the gateway hung up after our GOAWAY */
		return;
	}
	fprintf(stderr, "tunnel_many: the connection to the gateway ended (%s%s%s)\n",
		what & BEV_EVENT_EOF ? "EOF" : "error", errno != 0 ? ": " : "",
		errno != 0 ? strerror(errno) : "");
	finish(2);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	if (g.closing) {
		finish(0); /* the goodbye did not drain: the results stand */
		return;
	}
	fprintf(stderr, "tunnel_many: timed out (settings %s, %d of %d streams closed)\n",
		g.settings ? "seen" : "not seen", g.closed, g.n);
	finish(2);
}

static SSL *tls_new(const char *ca, const char *cert, const char *key)
{
	static const unsigned char alpn[] = {2, 'h', '2'};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ssl = SSL_new(ctx)) == NULL)
		goto out;
	/* The gateway's certificate must name the address we dial. */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), g.host) != 1 &&
	    X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), g.host, 0) != 1) {
		SSL_free(ssl);
		ssl = NULL;
	}
out:
	if (ssl == NULL)
		fprintf(stderr, "tunnel_many: TLS setup: %s\n",
			ERR_error_string(ERR_get_error(), NULL));
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	return ssl;
}

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd, one = 1, rv;

	if ((rv = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "tunnel_many: %s: %s\n", host, gai_strerror(rv));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		fprintf(stderr, "tunnel_many: connect %s:%s: %s\n", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		evutil_make_socket_nonblocking(fd);
	}
	return fd;
}

static int h2_new(void)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
	};
	int rv;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
	rv = nghttp2_session_client_new(&g.session, cbs, NULL);
	nghttp2_session_callbacks_del(cbs);
	if (rv == 0)
		rv = nghttp2_submit_settings(g.session, NGHTTP2_FLAG_NONE, iv, 2);
	if (rv == 0)
		rv = nghttp2_session_set_local_window_size(g.session, NGHTTP2_FLAG_NONE, 0,
							   SESSION_WINDOW);
	return rv == 0 ? 0 : -1;
}

/* One line per failed stream; the number that failed. */
static int report(void)
{
	int i, bad = 0;

	for (i = 0; i < g.n; i++) {
		struct tstream *t = &g.st[i];

		if (t->closed && t->status == 200 && t->got == g.bytes && t->bad_at < 0 &&
		    t->error == NGHTTP2_NO_ERROR)
			continue;
		bad++;
		printf("stream %d (id %d): status %d, %zu/%zu bytes sent, %zu/%zu back, "
		       "first difference at %ld, %s (error %u)\n",
		       i, t->id, t->status, t->sent, g.bytes, t->got, g.bytes, t->bad_at,
		       t->closed ? "closed" : "still open", t->error);
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct timeval tv = {60, 0};
	struct timespec t1;
	SSL *ssl;
	int i, fd, bad;

	if (argc < 8 || argc > 11) {
		fprintf(stderr, "usage: tunnel_many HOST PORT CA CERT KEY TARGET TPORT "
				"[N [BYTES [SECONDS]]]\n");
		return 2;
	}
	g.host = argv[1];
	g.target = argv[6];
	g.tport = argv[7];
	g.n = argc > 8 ? atoi(argv[8]) : 100;
	g.bytes = argc > 9 ? strtoul(argv[9], NULL, 10) : 65536;
	tv.tv_sec = argc > 10 ? atoi(argv[10]) : 60;
	if (g.n < 1 || tv.tv_sec < 1)
		return 2;
	alarm((unsigned)tv.tv_sec + 10); /* a backstop should the loop itself hang */
	if ((g.st = calloc((size_t)g.n, sizeof(*g.st))) == NULL)
		return 2;
	for (i = 0; i < g.n; i++) {
		g.st[i].k = i;
		g.st[i].bad_at = -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &g.t0);
	g.base = event_base_new();
	if (g.base == NULL || (ssl = tls_new(argv[3], argv[4], argv[5])) == NULL ||
	    (fd = dial(argv[1], argv[2])) < 0 || h2_new() != 0)
		return 2;
	g.bev = bufferevent_openssl_socket_new(g.base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
					       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	g.timer = evtimer_new(g.base, timeout_cb, NULL);
	g.hold = getenv("TUNNEL_MANY_HOLD");
	g.poll = evtimer_new(g.base, poll_cb, NULL);
	if (g.bev == NULL || g.timer == NULL || g.poll == NULL)
		return 2;
	bufferevent_openssl_set_allow_dirty_shutdown(g.bev, 1);
	bufferevent_setcb(g.bev, read_cb, write_cb, event_cb, NULL);
	bufferevent_enable(g.bev, EV_READ | EV_WRITE);
	evtimer_add(g.timer, &tv);
	event_base_dispatch(g.base);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	bad = report();
	if (g.rc == 0 && bad > 0)
		g.rc = 1;
	printf("tunnel_many: %d streams x %zu bytes on one connection: %d intact, %d failed, "
	       "%d not closed, %ld ms%s\n",
	       g.n, g.bytes, g.n - bad, bad, g.n - g.closed,
	       (long)((t1.tv_sec - g.t0.tv_sec) * 1000 + (t1.tv_nsec - g.t0.tv_nsec) / 1000000),
	       g.rc == 2 ? " (aborted)" : "");
	nghttp2_session_del(g.session);
	bufferevent_free(g.bev);
	event_free(g.timer);
	event_free(g.poll);
	event_base_free(g.base);
	free(g.st);
	return g.rc;
}
