/* libFuzzer harness for the HTTP/2 request path: bytes from a controller into
 * a server session of the real gateway (gateway/edge/h2.c, h2session.c, h2stream.c, api.c and
 * every operation: exec, raw exec (whose ssh never starts), files, fan-out,
 * tunnels, reset, stats, targets), with the real policy and audit (auth/),
 * over an in-memory agent.
 *
 * Wiring.  The gateway is built as jumpgated is, minus main.c and
 * gateway/onward/onward.c.  Each input is one connection: one end of a
 * bufferevent_pair goes to jg_h2conn_accept_plain() (the Unix-socket h2c path:
 * the session starts at once with identity "unix:fuzz", no TLS), the harness
 * writes the client's bytes into the other end and runs the event loop
 * (EVLOOP_NONBLOCK, a bounded number of turns), then closes the client end,
 * closes every connection and agent link, and checks that nothing is left.
 *
 * The in-memory agent.  This file replaces gateway/onward/onward.c (how the pool
 * starts a target's process): jg_onward_spawn() makes a socketpair and runs
 * an ACCEPTOR jg_link on the far end, in this process, on the same event
 * base.  It answers like an agent with scripted behaviour: exec channels
 * accept (argv[0] containing "fail" is refused), write "out"/"err", echo
 * stdin, and EXIT on EOF or SIGNAL; PUT collects and answers a file spec;
 * GET and STAT answer a file spec and a few bytes; TUNNEL echoes.  Nothing is
 * ever spawned: relay/spawn.c and relay/reaper.c are replaced too (jg_spawn
 * fails, so a raw target cannot start ssh; pids are 0, so no kill(2) reaches
 * a real process).  Targets of method "tunnel" (the gateway connects itself)
 * are left out of the configuration, so no socket leaves the process.
 *
 * Input: byte 0 bit 0 picks the form of the rest.
 *   0 (raw): the bytes follow the client preface and an empty SETTINGS frame.
 *   1 (requests): records, each "HEADER-LINES\n\n" then a body length (u16,
 *     big-endian) and the body.  A header line is "name value" (":method POST",
 *     ":path /v1/targets/local/exec", "content-type ..."); the harness encodes
 *     them with an nghttp2 client session (HPACK and framing done right, so the
 *     fuzzer spends its time on the handlers).  Lines starting with '!' are for
 *     the harness: "!open" leaves the request body open (no END_STREAM), "!rst"
 *     resets the stream after its body.  At most 32 records.
 * Besides "no crash, no leak, no UB", after each input: no connection, stream,
 * agent link or exec is left counted in the gateway's statistics, and the
 * buffer budget is back to 0. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/onward/agentlink_impl.h"
#include "gateway/admission/admit.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/edge/edge.h"
#include "gateway/onward/agentlink.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"
#include "relay/reaper.h"
#include "relay/spawn.h"
#include "relay/spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks a string token on a parse error (see fuzz_config.c); the
 * configuration here is fixed and valid, but keep the two harnesses alike. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define LOOP_TURNS 48
#define MAX_RECORDS 32

static const char conf_text[] =
    "log_level = \"error\";\n"
    "audit = \"/dev/null\";\n"
    "max_streams = 16;\n"
    "stream_window = 65535;\n"
    "max_header_list_size = 4096;\n"
    "buffer_budget = 1048576;\n"
    "ssh_defaults = { user = \"ops\"; check_host_keys = \"ignore\"; known_hosts = \"/dev/null\"; "
    "};\n"
    "targets = (\n"
    "  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; user = \"deploy\"; port = 2222; "
    "},\n"
    "  { name = \"web2\"; method = \"ssh\"; host = \"[::1]\"; },\n"
    "  { name = \"raw1\"; method = \"ssh\"; host = \"127.0.0.3\"; raw = true; },\n"
    "  { name = \"db7\"; method = \"local\"; }\n"
    ");\n"
    "groups = { web = [ \"web*\" ]; };\n"
    "tunnels = { allow = [ \"local:22\", \"web*:*\", \"*:127.0.0.1:80\" ]; };\n"
    "policy = (\n"
    "  { name = \"no-db-exec\"; targets = [ \"db*\" ]; actions = [ \"exec\" ]; allow = false; },\n"
    "  { name = \"files\"; identities = [ \"unix:fuzz\" ]; actions = [ \"put\", \"get\" ];\n"
    "    paths = [ \"/tmp/\", \"/srv/\" ]; allow = true; },\n"
    "  { name = \"fuzz\"; identities = [ \"unix:fuzz\" ]; actions = [ \"exec\", \"tunnel\", "
    "\"reset\", \"admin\" ];\n"
    "    allow = true; }\n"
    ");\n";

static struct jg_gateway gw;
static struct jg_config *cfg;

static void check(int ok)
{
	if (!ok)
		abort();
}

/* ---- relay/spawn.c and relay/reaper.c, replaced: nothing is ever spawned ---- */

int jg_spawn(const struct jg_spawn_opts *opts, struct jg_child *child, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot run %s: the fuzzer spawns nothing",
		 opts->argv != NULL && opts->argv[0] != NULL ? opts->argv[0] : "?");
	return JG_ERR_IO;
}

int jg_fd_prepare(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return JG_ERR_IO;
	return 0;
}

/* The fuzzer's agent link is in memory: no pipe to grow. */
int jg_pipe_grow(int fd)
{
	(void)fd;
	return 0;
}

/* relay/spawn.c's reader, without FIONREAD sizing: the fuzzer's descriptors are its own. */
ssize_t jg_fd_read_evbuffer(int fd, struct evbuffer *dst, size_t max)
{
	char buf[65536];
	ssize_t n = read(fd, buf, max < sizeof(buf) ? max : sizeof(buf));

	if (n > 0 && evbuffer_add(dst, buf, (size_t)n) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return n;
}

struct jg_reaper {
	struct watch {
		jg_reaper_cb cb;
		void *ud;
		struct watch *next;
	} * watches;
	unsigned count;
};

struct jg_reaper *jg_reaper_new(struct event_base *base)
{
	return calloc(1, sizeof(struct jg_reaper));
}

void jg_reaper_free(struct jg_reaper *r)
{
	while (r != NULL && r->watches != NULL) {
		struct watch *w = r->watches;

		r->watches = w->next;
		free(w);
	}
	free(r);
}

/* Every fake child has pid 0: the watch is found by its user data instead. */
int jg_reaper_watch(struct jg_reaper *r, pid_t pid, jg_reaper_cb cb, void *ud)
{
	struct watch *w = calloc(1, sizeof(*w));

	check(pid == 0);
	if (w == NULL)
		return JG_ERR_NOMEM;
	w->cb = cb;
	w->ud = ud;
	w->next = r->watches;
	r->watches = w;
	r->count++;
	return 0;
}

static struct watch *reaper_take(struct jg_reaper *r, void *ud)
{
	for (struct watch **p = &r->watches; *p != NULL; p = &(*p)->next) {
		if ((*p)->ud == ud) {
			struct watch *w = *p;

			*p = w->next;
			r->count--;
			return w;
		}
	}
	return NULL;
}

void jg_reaper_forget(struct jg_reaper *r, pid_t pid)
{
	check(0); /* only for pids > 0, which the fuzzer never hands out */
}

void jg_reaper_poll(struct jg_reaper *r)
{
}

unsigned jg_reaper_count(const struct jg_reaper *r)
{
	return r->count;
}

/* ---- the in-memory agent ---- */

struct fake_agent {
	struct jg_onward *al;
	int fd;
	struct event *rev, *wev;
	struct jg_link *link;
	struct fake_agent *next;
};

struct fake_chan {
	uint32_t kind;
	uint64_t bytes;
};

static struct fake_agent *agents;

static void agent_flush(struct fake_agent *a)
{
	struct evbuffer *out = jg_link_output(a->link);

	while (evbuffer_get_length(out) > 0) {
		int n = evbuffer_write(out, a->fd);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			event_add(a->wev, NULL);
			return;
		}
		evbuffer_drain(out, evbuffer_get_length(out)); /* the gateway closed its end */
		return;
	}
}

/* The agent "exits": its socket closes and the gateway's reaper callback runs. */
static void agent_exit(struct fake_agent *a, int status)
{
	struct watch *w = reaper_take(gw.reaper, a->al);

	event_del(a->rev);
	event_del(a->wev);
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	if (w != NULL) {
		jg_reaper_cb cb = w->cb;
		void *ud = w->ud;

		free(w);
		cb(0, status, ud);
	}
}

static void file_result(struct evbuffer *b, uint64_t size, int dir)
{
	struct jg_file_spec fs = {0};

	fs.flags = JG_FILE_HAS_SIZE | JG_FILE_HAS_MODE | JG_FILE_HAS_MTIME | JG_FILE_HAS_SHA256 |
		   (dir ? JG_FILE_DIR : 0);
	fs.size = size;
	fs.mode = 0644;
	fs.mtime = 1700000000;
	memset(fs.sha256, 0x5a, sizeof(fs.sha256));
	check(jg_file_spec_encode(&fs, b) == 0);
}

static void ag_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct fake_chan *fc;
	struct evbuffer *b;
	char err[256] = "refused";
	int ok = 0;

	switch (f->aux) {
	case JG_OPEN_EXEC: {
		struct jg_exec_spec s;

		if (jg_exec_spec_decode(f->payload, f->length, &s, err, sizeof(err)) == 0) {
			ok = strstr(s.argv[0], "fail") == NULL;
			if (!ok)
				snprintf(err, sizeof(err),
					 "cannot run %s: No such file or directory", s.argv[0]);
			jg_exec_spec_clear(&s);
		}
		break;
	}
	case JG_OPEN_TUNNEL: {
		struct jg_tunnel_spec t;

		if (jg_tunnel_spec_decode(f->payload, f->length, &t, err, sizeof(err)) == 0) {
			ok = t.port != 9; /* "discard" refuses: connection refused */
			if (!ok)
				snprintf(err, sizeof(err),
					 "connect to %s port 9: Connection refused", t.host);
			jg_tunnel_spec_clear(&t);
		}
		break;
	}
	case JG_OPEN_PUT:
	case JG_OPEN_GET:
	case JG_OPEN_STAT: {
		struct jg_file_spec s;

		if (jg_file_spec_decode(f->payload, f->length, &s, err, sizeof(err)) == 0) {
			ok = s.path != NULL && strstr(s.path, "enoent") == NULL;
			if (!ok)
				snprintf(err, sizeof(err), "%s: No such file or directory",
					 s.path ? s.path : "(no path)");
			jg_file_spec_clear(&s);
		}
		break;
	}
	default:
		snprintf(err, sizeof(err), "unknown channel kind %u", (unsigned)f->aux);
	}
	if (!ok || (fc = calloc(1, sizeof(*fc))) == NULL) {
		jg_link_reject(l, ch, err);
		return;
	}
	fc->kind = f->aux;
	switch (f->aux) {
	case JG_OPEN_EXEC:
		jg_link_accept(l, ch, fc);
		jg_link_send_data(l, ch, 0, "out\n", 4);
		jg_link_send_data(l, ch, JG_DATA_STDERR, "err\n", 4);
		break;
	case JG_OPEN_GET:
	case JG_OPEN_STAT:
		b = evbuffer_new();
		check(b != NULL);
		file_result(b, f->aux == JG_OPEN_GET ? 5 : 0, 0);
		jg_link_accept_with(l, ch, fc, evbuffer_pullup(b, -1), evbuffer_get_length(b));
		evbuffer_free(b);
		if (f->aux == JG_OPEN_GET) {
			jg_link_send_data(l, ch, 0, "hello", 5);
			jg_link_send_eof(l, ch, 0);
		}
		jg_link_send_exit(l, ch, 0, 0);
		free(fc); /* EXIT sent: the link forgets the channel */
		break;
	default:
		jg_link_accept(l, ch, fc);
	}
}

static void ag_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct fake_chan *fc = cud;
	struct evbuffer *b;

	if (fc == NULL)
		return;
	switch (f->type) {
	case JG_FRAME_DATA:
		fc->bytes += f->length;
		if (fc->kind != JG_OPEN_PUT)
			jg_link_send_data(l, ch, 0, f->payload, f->length); /* echo, as cat */
		jg_link_consumed(l, ch, f->length);
		break;
	case JG_FRAME_EOF:
		if (fc->kind == JG_OPEN_PUT) {
			b = evbuffer_new();
			check(b != NULL);
			file_result(b, fc->bytes, 0);
			jg_link_send_data(l, ch, 0, evbuffer_pullup(b, -1), evbuffer_get_length(b));
			evbuffer_free(b);
		} else {
			jg_link_send_eof(l, ch, 0);
			if (fc->kind == JG_OPEN_EXEC)
				jg_link_send_eof(l, ch, JG_DATA_STDERR);
		}
		jg_link_send_exit(l, ch, 0, fc->bytes % 3 == 2 ? 1 : 0);
		free(fc);
		break;
	case JG_FRAME_SIGNAL:
		jg_link_send_exit(l, ch, JG_EXIT_SIGNALED, f->aux);
		free(fc);
		break;
	case JG_FRAME_CLOSE:
		free(fc);
		break;
	}
}

static void ag_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	free(cud);
}

static const struct jg_link_cbs agent_cbs = {
    .on_open = ag_open, .on_frame = ag_frame, .on_dead = ag_dead};

static void agent_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake_agent *a = arg;
	uint8_t buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || jg_link_feed(a->link, buf, (size_t)n) != 0) {
		/* The gateway hung up or broke the protocol: exit as an agent would. */
		agent_exit(a, n <= 0 ? 0 : 2 << 8);
		return;
	}
	agent_flush(a);
}

static void agent_on_write(evutil_socket_t fd, short what, void *arg)
{
	agent_flush(arg);
}

int jg_onward_spawn(struct jg_onward *al, struct jg_child *child, char *err, size_t errlen)
{
	const struct jg_hop *hop = &al->chain->hops[0];
	struct fake_agent *a;
	int sv[2];

	if (al->chain->nhops != 1) {
		snprintf(err, errlen, "chains of several hops are not supported yet");
		return JG_ERR_INVAL;
	}
	if (hop->method == JG_METHOD_TUNNEL) {
		snprintf(err, errlen, "%s is a tunnel target: it carries tunnels only",
			 al->chain->display);
		return JG_ERR_INVAL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return JG_ERR_IO;
	}
	a = calloc(1, sizeof(*a));
	check(a != NULL);
	a->al = al;
	a->fd = sv[1];
	a->link = jg_link_new(JG_LINK_ACCEPTOR, &agent_cbs, a);
	a->rev = event_new(al->gw->base, sv[1], EV_READ | EV_PERSIST, agent_on_read, a);
	a->wev = event_new(al->gw->base, sv[1], EV_WRITE, agent_on_write, a);
	check(a->link != NULL && a->rev != NULL && a->wev != NULL);
	check(event_add(a->rev, NULL) == 0);
	jg_link_send_hello(a->link, "x86_64");
	agent_flush(a);
	a->next = agents;
	agents = a;
	child->pid = 0;
	child->in_fd = sv[0];
	child->out_fd = dup(sv[0]);
	child->err_fd = -1;
	child->tty_fd = -1;
	check(child->out_fd >= 0);
	return 0;
}

int jg_onward_watch(struct jg_onward *al)
{
	return 0;
}

void jg_onward_boot_input(struct jg_onward *al, const uint8_t *data, size_t len)
{
	check(0); /* no bootstrap: al->boot stays NULL */
}

void jg_onward_drain_stderr(struct jg_onward *al)
{
	(void)al; /* the fake agent has no stderr */
}

void jg_onward_reason(const struct jg_onward *al, char *buf, size_t len)
{
	snprintf(buf, len, "in-memory agent for %s %s (wait status %d)", al->chain->display,
		 al->exited ? "exited" : "stopped", al->wstatus);
}

void jg_onward_last_words(const struct jg_onward *al, char *buf, size_t len)
{
	snprintf(buf, len, "%s", "");
}

/* Called from al_free(): the agent goes with its link. */
void jg_onward_clear(struct jg_onward *al)
{
	for (struct fake_agent **p = &agents; *p != NULL; p = &(*p)->next) {
		struct fake_agent *a = *p;
		struct watch *w;

		if (a->al != al)
			continue;
		*p = a->next;
		if ((w = reaper_take(gw.reaper, al)) != NULL)
			free(w);
		event_free(a->rev);
		event_free(a->wev);
		if (a->fd >= 0)
			close(a->fd);
		jg_link_free(a->link); /* its channels' fake_chan go through ag_dead */
		free(a);
		return;
	}
}

/* ---- the client side ---- */

struct body {
	const uint8_t *p;
	size_t len, off;
	int keep_open;
};

static ssize_t client_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	evbuffer_add(ud, data, len);
	return (ssize_t)len;
}

static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *ud)
{
	struct body *b = src->ptr;
	size_t n = b->len - b->off < len ? b->len - b->off : len;

	memcpy(buf, b->p + b->off, n);
	b->off += n;
	if (b->off == b->len) {
		if (b->keep_open)
			return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

/* Encode the records of P into OUT with an nghttp2 client session. */
static void encode_requests(const uint8_t *p, size_t size, struct evbuffer *out)
{
	struct body bodies[MAX_RECORDS];
	int32_t ids[MAX_RECORDS];
	int rst[MAX_RECORDS];
	nghttp2_session_callbacks *cbs;
	nghttp2_session *s;
	nghttp2_option *opt;
	size_t nrec = 0;

	check(nghttp2_session_callbacks_new(&cbs) == 0);
	nghttp2_session_callbacks_set_send_callback(cbs, client_send);
	check(nghttp2_option_new(&opt) == 0);
	/* The fuzzer may send what a polite client would not. */
	nghttp2_option_set_no_http_messaging(opt, 1);
	check(nghttp2_session_client_new2(&s, cbs, out, opt) == 0);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);

	while (size > 0 && nrec < MAX_RECORDS) {
		nghttp2_nv nva[32];
		size_t nnv = 0, hlen, blen;
		const uint8_t *end = NULL, *line = p;
		nghttp2_data_provider prd;
		struct body *b = &bodies[nrec];

		for (size_t i = 0; i + 1 < size; i++)
			if (p[i] == '\n' && p[i + 1] == '\n') {
				end = p + i;
				break;
			}
		hlen = end != NULL ? (size_t)(end - p) : size;
		memset(b, 0, sizeof(*b));
		rst[nrec] = 0;
		while (line < p + hlen && nnv < 32) {
			const uint8_t *eol = memchr(line, '\n', (size_t)(p + hlen - line));
			size_t llen =
			    eol != NULL ? (size_t)(eol - line) : (size_t)(p + hlen - line);
			const uint8_t *sp = memchr(line + (llen > 0), ' ', llen > 0 ? llen - 1 : 0);

			if (llen == 5 && memcmp(line, "!open", 5) == 0)
				b->keep_open = 1;
			else if (llen == 4 && memcmp(line, "!rst", 4) == 0)
				rst[nrec] = 1;
			else if (llen > 0) {
				nva[nnv].name = (uint8_t *)line;
				nva[nnv].namelen = sp != NULL ? (size_t)(sp - line) : llen;
				nva[nnv].value = sp != NULL ? (uint8_t *)sp + 1 : (uint8_t *)"";
				nva[nnv].valuelen = sp != NULL ? llen - (size_t)(sp - line) - 1 : 0;
				nva[nnv].flags = NGHTTP2_NV_FLAG_NONE;
				nnv++;
			}
			line += llen + 1;
		}
		if (end == NULL) {
			size = 0;
		} else {
			p = end + 2;
			size -= hlen + 2;
		}
		blen = size >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
		if (size >= 2) {
			p += 2;
			size -= 2;
		}
		if (blen > size)
			blen = size;
		b->p = p;
		b->len = blen;
		p += blen;
		size -= blen;
		prd.source.ptr = b;
		prd.read_callback = body_read;
		ids[nrec] = nghttp2_submit_request(s, NULL, nva, nnv,
						   blen > 0 || b->keep_open ? &prd : NULL, NULL);
		nrec++;
		if (nghttp2_session_send(s) != 0)
			break;
	}
	for (size_t i = 0; i < nrec; i++)
		if (rst[i] && ids[i] > 0)
			nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, ids[i], NGHTTP2_CANCEL);
	nghttp2_session_send(s);
	nghttp2_session_del(s);
}

static void client_on_read(struct bufferevent *bev, void *arg)
{
	/* A client that reads everything (and never grants more window). */
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void run_loop(int turns)
{
	for (int i = 0; i < turns; i++)
		event_base_loop(gw.base, EVLOOP_NONBLOCK);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz-h2-XXXXXX", path[64], err[512];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	jg_log_init("fuzz_h2", JG_LOG_ERROR);
	check(mkdtemp(dir) != NULL);
	setenv("JUMPGATE_HOME", dir, 1);
	snprintf(path, sizeof(path), "%s/jumpgated.conf", dir);
	check((f = fopen(path, "w")) != NULL);
	check(fputs(conf_text, f) >= 0 && fclose(f) == 0);
	if (jg_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_h2: %s\n", err);
		abort();
	}
	unlink(path);
	rmdir(dir);
	/* FUZZ_H2_LOG=1: the gateway's debug log, to see what a reproducer does. */
	jg_log_set_level(getenv("FUZZ_H2_LOG") != NULL ? JG_LOG_DEBUG : JG_LOG_ERROR);
	gw.cfg = cfg;
	gw.admission = &jg_admit_cbs;
	gw.started = time(NULL);
	snprintf(gw.agent_path, sizeof(gw.agent_path), "/nonexistent/jumpgate-agent");
	check((gw.base = event_base_new()) != NULL);
	check((gw.reaper = jg_reaper_new(gw.base)) != NULL);
	/* As main.c: every gateway has its counters (GET /metrics renders them). */
	check((gw.metrics = jg_metrics_new()) != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static const uint8_t settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
	struct bufferevent *pair[2];
	struct evbuffer *in;

	if (size < 1 || size > 65536)
		return 0;
	in = evbuffer_new();
	check(in != NULL);
	if (data[0] & 1) {
		encode_requests(data + 1, size - 1, in);
	} else {
		evbuffer_add(in, preface, sizeof(preface) - 1);
		evbuffer_add(in, settings, sizeof(settings));
		evbuffer_add(in, data + 1, size - 1);
	}
	check(bufferevent_pair_new(gw.base, 0, pair) == 0);
	bufferevent_setcb(pair[1], client_on_read, NULL, NULL, NULL);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	jg_h2conn_accept_plain(&gw, pair[0], "fuzz-peer", "unix:fuzz");
	bufferevent_write_buffer(pair[1], in);
	evbuffer_free(in);
	run_loop(LOOP_TURNS);
	/* The client goes away (EOF on the gateway's end); then everything else. */
	bufferevent_flush(pair[1], EV_WRITE, BEV_FINISHED);
	bufferevent_free(pair[1]);
	run_loop(8);
	jg_h2conn_close_all(&gw);
	jg_onward_shutdown_all(&gw, "fuzz input done");
	run_loop(8);
	check(gw.conns == NULL && gw.links == NULL && agents == NULL);
	check(gw.stats.conns_current == 0 && gw.stats.streams_current == 0 &&
	      gw.stats.exec_current == 0);
	check(gw.buffered == 0);
	check(jg_reaper_count(gw.reaper) == 0);
	return 0;
}
