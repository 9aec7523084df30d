/* One item of `jumpgate cp` as one HTTP/2 stream: PUT a file, a directory or a
 * symlink (to one target, or fanned out), or GET a file into a local temporary
 * file that is renamed into place only once it is whole.
 *
 * sha256: files up to JG_CP_PREHASH_MAX (and every file with --checksum) are
 * read twice, once to hash, once to send; the hash goes in x-jumpgate-sha256
 * and the target replaces nothing when the bytes it got differ.  Larger files
 * are hashed as they are sent (the header must precede the body) and the hash
 * the target reports is compared at the end: a mismatch is a failure, loudly.
 * Either way a file that changes while it is read (size or mtime moved) is
 * reported as a failure. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>

#include "client/client.h"
#include "client/cp.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/pct.h"
#include "relay/syncbehind.h"

/* A response body (JSON) above this is refused. */
#define XFER_RESP_MAX (1u << 20)
/* Read-ahead when hashing a file before sending it. */
#define XFER_HASH_CHUNK (256 * 1024)
/* A download is flushed to disk in the background every this many bytes
 * (relay/syncbehind.h), so the fsync before its rename is short. */
#define XFER_SYNC_STEP (16u << 20)

struct xfer {
	struct jg_batch_req req;
	struct jg_cp *cp;
	struct jg_cp_item *item;
	int fd; /* PUT: the source; GET: the temporary file */
	struct stat st0;
	uint64_t size, moved; /* bytes to send / sent, or announced / received */
	int have_len;
	EVP_MD_CTX *md; /* hashing as bytes move (not when prehashed) */
	char sha[65];	/* ours, hex: prehashed, or final once the body ended */
	int prehashed;
	int status;
	struct evbuffer *resp;
	char why[512]; /* a local failure found while streaming */
	/* GET */
	char *tmp;
	struct jg_syncbehind sync; /* of fd, once tmp is open */
	mode_t rmode;
	long long rmtime;
	int have_mode, have_mtime;
	/* Header values. */
	char h_len[24], h_mode[16], h_mtime[24];
};

static void hex32(char *out, const unsigned char *md)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static void md_final(struct xfer *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (x->md == NULL)
		return;
	EVP_DigestFinal_ex(x->md, md, &n);
	hex32(x->sha, md);
	EVP_MD_CTX_free(x->md);
	x->md = NULL;
}

static void xfer_free(struct xfer *x)
{
	jg_syncbehind_finish(&x->sync); /* its aiocb is in x; nothing when none is in flight */
	if (x->fd >= 0)
		close(x->fd);
	if (x->tmp != NULL) {
		unlink(x->tmp); /* still here: the download did not complete */
		free(x->tmp);
	}
	EVP_MD_CTX_free(x->md);
	if (x->resp != NULL)
		evbuffer_free(x->resp);
	free(x->req.path);
	free(x);
}

/* ------------------------------------------------------------------ callbacks */

static int x_header(void *arg, const char *name, const char *value)
{
	struct xfer *x = arg;
	char *end;

	if (strcmp(name, ":status") == 0) {
		x->status = atoi(value);
		return 0;
	}
	if (x->item->kind != JG_CP_GET || x->status != 200)
		return 0;
	if (strcmp(name, "content-length") == 0) {
		x->size = strtoull(value, &end, 10);
		x->have_len = *end == '\0' && end != value;
		if (x->have_len)
			jg_progress_expect(&x->cp->progress, x->size, 0);
	} else if (strcmp(name, "x-jumpgate-mode") == 0) {
		x->rmode = (mode_t)strtoul(value, &end, 8) & 07777;
		x->have_mode = *end == '\0' && end != value;
	} else if (strcmp(name, "x-jumpgate-mtime") == 0) {
		x->rmtime = strtoll(value, &end, 10);
		x->have_mtime = *end == '\0' && end != value;
	} else if (strcmp(name, "x-jumpgate-reason") == 0) {
		/* A trailer: the download broke after the 200 (docs/api.md); the stream then
		 * closes short of its length, and this is why. */
		snprintf(x->why, sizeof(x->why), "the download broke: %s", value);
	}
	return 0;
}

/* The temporary file of a download, beside the destination (same filesystem: rename). */
static int get_open_tmp(struct xfer *x)
{
	const char *dst = x->item->local, *slash = strrchr(dst, '/');
	size_t dlen = slash ? (size_t)(slash - dst + 1) : 0;

	if ((x->tmp = malloc(strlen(dst) + 16)) == NULL)
		return -1;
	sprintf(x->tmp, "%.*s.%s.jg-XXXXXX", (int)dlen, dst, slash ? slash + 1 : dst);
	if ((x->fd = mkostemp(x->tmp, O_CLOEXEC)) < 0) {
		snprintf(x->why, sizeof(x->why), "cannot create a temporary file beside %s: %s",
			 dst, strerror(errno));
		free(x->tmp);
		x->tmp = NULL;
		return -1;
	}
	jg_syncbehind_init(&x->sync, x->fd, XFER_SYNC_STEP);
	return 0;
}

static int x_data(void *arg, const uint8_t *data, size_t len)
{
	struct xfer *x = arg;

	if (x->item->kind != JG_CP_GET || x->status != 200) {
		if (evbuffer_get_length(x->resp) + len > XFER_RESP_MAX)
			return -1;
		return evbuffer_add(x->resp, data, len);
	}
	if (x->fd < 0 && get_open_tmp(x) != 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(x->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(x->why, sizeof(x->why), "cannot write %s: %s", x->tmp,
				 strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
		x->moved += (uint64_t)n;
		jg_progress_add(&x->cp->progress, (uint64_t)n);
	}
	jg_syncbehind_wrote(&x->sync, x->moved);
	return 0;
}

/* Changed while we read it?  Compared with what fstat said at open. */
static int put_changed(struct xfer *x)
{
	struct stat st;

	if (fstat(x->fd, &st) != 0)
		return 0;
	return st.st_size != x->st0.st_size || st.st_mtim.tv_sec != x->st0.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != x->st0.st_mtim.tv_nsec;
}

static ssize_t x_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct xfer *x = arg;
	uint64_t left = x->size - x->moved;
	ssize_t n;

	if (x->item->kind != JG_CP_PUT_FILE || left == 0) {
		*eof = 1;
		if (x->item->kind == JG_CP_PUT_FILE && put_changed(x))
			snprintf(x->why, sizeof(x->why),
				 "the file changed while it was being sent; copy it again");
		md_final(x);
		return 0;
	}
	if (len > left)
		len = (size_t)left;
	do
		n = read(x->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* The length is promised in content-length: the stream must die, and the target
		 * then keeps its old file. */
		snprintf(x->why, sizeof(x->why), "%s",
			 n == 0 ? "the file shrank while it was being sent" : strerror(errno));
		return JG_ERR_IO;
	}
	if (x->md != NULL)
		EVP_DigestUpdate(x->md, buf, (size_t)n);
	x->moved += (uint64_t)n;
	x->cp->bytes_sent += (uint64_t)n;
	jg_progress_add(&x->cp->progress, (uint64_t)n);
	return n;
}

/* A successful download: mode, mtime, flush, rename into place, flush the directory. */
static int get_commit(struct xfer *x, char *why, size_t len)
{
	struct jg_cp *cp = x->cp;
	mode_t mode = x->have_mode ? x->rmode : 0666;
	char dir[PATH_MAX];
	const char *slash;
	int dfd;

	if (x->have_len && x->moved != x->size) {
		snprintf(why, len, "the download ended after %llu of %llu bytes",
			 (unsigned long long)x->moved, (unsigned long long)x->size);
		return -1;
	}
	if (x->fd < 0 && get_open_tmp(x) != 0) { /* an empty file: no data ever came */
		snprintf(why, len, "%s", x->why);
		return -1;
	}
	if (!cp->preserve)
		mode &= ~cp->umask & 0777;
	jg_syncbehind_finish(&x->sync);
	if (fchmod(x->fd, mode) != 0 || fsync(x->fd) != 0) {
		snprintf(why, len, "cannot finish %s: %s", x->tmp, strerror(errno));
		return -1;
	}
	if (cp->preserve && x->have_mtime) {
		struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)x->rmtime, 0}};

		futimens(x->fd, ts);
	}
	if (rename(x->tmp, x->item->local) != 0) {
		snprintf(why, len, "cannot rename %s to %s: %s", x->tmp, x->item->local,
			 strerror(errno));
		return -1;
	}
	free(x->tmp);
	x->tmp = NULL;
	slash = strrchr(x->item->local, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - x->item->local + 1) : 1,
		 slash ? x->item->local : ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the rename itself survives a crash */
		close(dfd);
	}
	return 0;
}

/* Compare the sha256 and size the target reports with ours. 0, or -1 with WHY. */
static int put_verify(struct xfer *x, json_t *o, char *why, size_t len)
{
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	json_t *size = json_object_get(o, "size");

	if (x->item->kind != JG_CP_PUT_FILE)
		return 0;
	if (sha != NULL && x->sha[0] != '\0' && strcasecmp(sha, x->sha) != 0) {
		snprintf(why, len, "sha256 mismatch: sent %.16s..., the target wrote %.16s...",
			 x->sha, sha);
		return -1;
	}
	if (json_is_integer(size) && (uint64_t)json_integer_value(size) != x->size) {
		snprintf(why, len, "size mismatch: sent %llu bytes, the target wrote %lld",
			 (unsigned long long)x->size, (long long)json_integer_value(size));
		return -1;
	}
	return 0;
}

/* The JSON array of a fan-out: one outcome per target. */
static void fanout_results(struct xfer *x)
{
	size_t n = evbuffer_get_length(x->resp), i;
	json_t *root = json_loadb((const char *)evbuffer_pullup(x->resp, -1), n, 0, NULL), *o;
	char why[512];

	if (!json_is_array(root)) {
		jg_cp_fail(x->cp, x->item, NULL,
			   "the gateway's fan-out answer is not a JSON array");
		json_decref(root);
		return;
	}
	json_array_foreach(root, i, o)
	{
		const char *t = json_string_value(json_object_get(o, "target"));

		if (t == NULL)
			t = "?";
		if (json_is_true(json_object_get(o, "ok"))) {
			if (put_verify(x, o, why, sizeof(why)) == 0)
				jg_cp_target_result(x->cp, x->item, t, 1, x->size, NULL);
			else
				jg_cp_target_result(x->cp, x->item, t, 0, 0, why);
			continue;
		}
		const char *r = json_string_value(json_object_get(o, "reason"));

		if (r == NULL || r[0] == '\0')
			r = json_string_value(json_object_get(o, "error"));
		jg_cp_target_result(x->cp, x->item, t, 0, 0, r ? r : "failed (no reason given)");
	}
	if (json_array_size(root) == 0)
		jg_cp_fail(x->cp, x->item, NULL, "the fan-out reached no target");
	json_decref(root);
}

static void x_close(void *arg, uint32_t h2_error)
{
	struct xfer *x = arg;
	struct jg_cp *cp = x->cp;
	struct jg_cp_item *it = x->item;
	char why[600];
	json_t *o;

	if (h2_error == JG_BATCH_LOST) {
		it->failed = 1;
		cp->nlost++;
		goto out;
	}
	if (x->why[0] != '\0') {
		jg_cp_fail(cp, it, NULL, x->why);
		goto out;
	}
	if (h2_error != 0 || x->status == 0) {
		snprintf(why, sizeof(why), "the gateway reset the stream (%s)",
			 nghttp2_http2_strerror(h2_error));
		jg_cp_fail(cp, it, NULL, why);
		goto out;
	}
	if (x->status != 200) {
		jg_batch_reason(x->resp, x->status, why, sizeof(why));
		jg_cp_fail(cp, it, NULL, why);
		goto out;
	}
	if (it->kind == JG_CP_GET) {
		if (get_commit(x, why, sizeof(why)) != 0)
			jg_cp_fail(cp, it, NULL, why);
		else
			cp->nok++;
		goto out;
	}
	md_final(x);
	if (cp->fanout_query != NULL) {
		fanout_results(x);
		goto out;
	}
	o = json_loadb((const char *)evbuffer_pullup(x->resp, -1), evbuffer_get_length(x->resp), 0,
		       NULL);
	if (put_verify(x, o, why, sizeof(why)) != 0)
		jg_cp_fail(cp, it, NULL, why);
	else
		cp->nok++;
	json_decref(o);
out:
	if (it->kind == JG_CP_PUT_FILE || it->kind == JG_CP_GET)
		jg_progress_file_done(&cp->progress);
	xfer_free(x);
	cp->active--;
	jg_cp_feed(cp);
}

static const struct jg_h2client_stream_cbs xfer_cbs = {
    .header = x_header,
    .data = x_data,
    .body = x_body,
    .close = x_close,
};

/* ------------------------------------------------------------------ starting */

/* Open the source of a PUT_FILE and, when small enough (or --checksum), hash it first. */
static int put_open(struct xfer *x, char *why, size_t len)
{
	struct jg_cp_item *it = x->item;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	uint8_t *buf = NULL;
	ssize_t n;
	int r = -1;

	/* Inside a tree (ROOT set) the last component must not be a symlink swapped in since
	 * the walk; a file named on the command line is followed, as cp and scp do. */
	x->fd = open(it->local, O_RDONLY | O_CLOEXEC | (it->root != NULL ? O_NOFOLLOW : 0));
	if (x->fd < 0 || fstat(x->fd, &x->st0) != 0) {
		snprintf(why, len, "cannot open %s: %s", it->local, strerror(errno));
		return -1;
	}
	if (!S_ISREG(x->st0.st_mode)) {
		snprintf(why, len, "%s is not a regular file", it->local);
		return -1;
	}
	x->size = (uint64_t)x->st0.st_size;
	jg_progress_expect(&x->cp->progress, x->size > it->size ? x->size - it->size : 0, 0);
	if ((x->md = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(x->md, EVP_sha256(), NULL))
		goto nomem;
	if (x->size > JG_CP_PREHASH_MAX && !x->cp->checksum)
		return 0;
	if ((buf = malloc(XFER_HASH_CHUNK)) == NULL)
		goto nomem;
	while ((n = read(x->fd, buf, XFER_HASH_CHUNK)) > 0)
		EVP_DigestUpdate(x->md, buf, (size_t)n);
	if (n < 0 || lseek(x->fd, 0, SEEK_SET) != 0) {
		snprintf(why, len, "cannot read %s: %s", it->local, strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(x->md, md, &mdlen);
	hex32(x->sha, md);
	EVP_MD_CTX_free(x->md);
	x->md = NULL;
	x->prehashed = 1;
	r = 0;
	goto out;
nomem:
	snprintf(why, len, "out of memory");
out:
	free(buf);
	return r;
}

/* The request path: /v1/targets/T/files/PATH, or /v1/files/PATH?targets=... */
static int xfer_path(struct xfer *x)
{
	struct jg_cp *cp = x->cp;
	const char *remote = x->item->remote;
	size_t elen = strlen(remote) * 3 + 16;
	size_t len = elen + 600 + (cp->fanout_query ? strlen(cp->fanout_query) : 0);
	char *enc = malloc(elen), *path = malloc(len);
	int r = -1;

	if (enc == NULL || path == NULL)
		goto out;
	/* "files/" then the path without its leading '/': the gateway puts one back. */
	while (*remote == '/')
		remote++;
	if (jg_pct_encode(enc, elen, remote, "/") != 0)
		goto out;
	if (cp->fanout_query != NULL) {
		snprintf(path, len, "/v1/files/%s?targets=%s", enc, cp->fanout_query);
	} else {
		char *rest = malloc(elen + 8);

		if (rest == NULL)
			goto out;
		snprintf(rest, elen + 8, "files/%s", enc);
		r = jg_client_target_path(path, len, x->item->target, rest);
		free(rest);
		if (r != 0)
			goto out;
	}
	x->req.path = path;
	path = NULL;
	r = 0;
out:
	free(enc);
	free(path);
	return r;
}

/* A header value must not carry CR, LF or NUL (and nothing else invisible, to be safe). */
static int header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int xfer_headers(struct xfer *x, char *why, size_t len)
{
	struct jg_batch_req *rq = &x->req;
	struct jg_cp_item *it = x->item;
	static const char *const kinds[] = {"file", "dir", "symlink"};

	rq->method = it->kind == JG_CP_GET ? "GET" : "PUT";
	rq->agent = x->cp->agent > 0;
	jg_batch_header(rq, "user-agent", "jumpgate/" PACKAGE_VERSION);
	if (it->kind == JG_CP_GET)
		return 0;
	snprintf(x->h_len, sizeof(x->h_len), "%llu",
		 (unsigned long long)(it->kind == JG_CP_PUT_FILE ? x->size : 0));
	snprintf(x->h_mode, sizeof(x->h_mode), "%04o", (unsigned)(it->mode & 07777));
	jg_batch_header(rq, "content-length", x->h_len);
	jg_batch_header(rq, "content-type", "application/octet-stream");
	jg_batch_header(rq, "x-jumpgate-kind", kinds[it->kind]);
	if (it->kind != JG_CP_PUT_LINK)
		jg_batch_header(rq, "x-jumpgate-mode", x->h_mode);
	if (x->cp->preserve && it->kind != JG_CP_PUT_LINK) {
		snprintf(x->h_mtime, sizeof(x->h_mtime), "%lld", (long long)it->mtime.tv_sec);
		jg_batch_header(rq, "x-jumpgate-mtime", x->h_mtime);
	}
	if (x->prehashed)
		jg_batch_header(rq, "x-jumpgate-sha256", x->sha);
	if (it->mkdirs)
		jg_batch_header(rq, "x-jumpgate-mkdirs", "1");
	if (it->root != NULL) {
		if (!header_safe(it->root)) {
			snprintf(why, len, "the destination has control characters in its name");
			return -1;
		}
		jg_batch_header(rq, "x-jumpgate-root", it->root);
	}
	if (it->kind == JG_CP_PUT_LINK) {
		if (!header_safe(it->link)) {
			snprintf(why, len, "the symlink's target has control characters");
			return -1;
		}
		jg_batch_header(rq, "x-jumpgate-link", it->link);
	}
	return 0;
}

int jg_cp_start(struct jg_cp *cp, struct jg_cp_item *item)
{
	struct xfer *x = calloc(1, sizeof(*x));
	char why[PATH_MAX + 128] = "";

	if (x == NULL || (x->resp = evbuffer_new()) == NULL) {
		free(x);
		jg_cp_fail(cp, item, NULL, "out of memory");
		return 0;
	}
	x->cp = cp;
	x->item = item;
	x->fd = -1;
	x->req.cbs = &xfer_cbs;
	x->req.arg = x;
	if (item->kind == JG_CP_PUT_FILE && put_open(x, why, sizeof(why)) != 0)
		goto fail;
	if (xfer_path(x) != 0) {
		snprintf(why, sizeof(why), "the path is too long");
		goto fail;
	}
	if (xfer_headers(x, why, sizeof(why)) != 0)
		goto fail;
	cp->active++;
	jg_batch_add(cp->batch, &x->req);
	return 1;
fail:
	jg_cp_fail(cp, item, NULL, why);
	if (item->kind == JG_CP_PUT_FILE)
		jg_progress_file_done(&cp->progress);
	xfer_free(x);
	return 0;
}
