/* Agent bootstrap: describing agent builds, the POSIX sh stub, and the sans-I/O
 * parser of what the target prints until the agent speaks (see bootstrap.h).
 *
 * Only the gateway calls this module; it is the one part of librelay that uses
 * libcrypto (sha256), and the static agent never pulls it in. */
#include "config.h" /* _GNU_SOURCE */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "relay/bootstrap.h"
#include "relay/err.h"
#include "relay/sh.h"

#define BOOT_LINE_MAX 512	    /* longest stub line after hello */
#define BOOT_PREFIX_MAX (64 * 1024) /* bytes discarded before hello, at most */
#define BOOT_QUOTE_MAX 96	    /* bytes of offending text quoted in a reason */
#define BOOT_NEED_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ "

static const char boot_hello[] = "jumpgate-stub: hello";
static const char boot_need[] = "jumpgate-stub: need ";
static const char boot_error[] = "jumpgate-stub: error ";
static const char boot_exec[] = "jumpgate-stub: exec";
static const char boot_prefix_too_long[] = "the target printed more than 64 KiB before the "
					   "bootstrap stub started (a login script writing "
					   "to stdout?)";

/* ---- describing an agent build ---- */

/* e_machine (and class, byte order) to the `uname -m` spelling of targets that run it. */
static const char *elf_arch(unsigned machine, int is64, int little)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64";
	case EM_AARCH64:
		return little ? "aarch64" : "aarch64_be";
	case EM_386:
		return "i686";
	case EM_ARM:
		return "armv7l";
	case EM_RISCV:
		return is64 ? "riscv64" : "riscv32";
	case EM_PPC64:
		return little ? "ppc64le" : "ppc64";
	case EM_S390:
		return is64 ? "s390x" : "s390";
	}
	return NULL;
}

int jg_agent_build_load(const char *path, struct jg_agent_build *out, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned char hdr[20]; /* e_ident[16], e_type, e_machine */
	unsigned mdlen = 0, machine;
	EVP_MD_CTX *ctx = NULL;
	const char *arch;
	uint64_t size = 0;
	struct stat st;
	ssize_t n;
	int fd, r = JG_ERR_IO;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = JG_ERR_INVAL;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, ELFMAG, SELFMAG) != 0 ||
	    (hdr[EI_DATA] != ELFDATA2LSB && hdr[EI_DATA] != ELFDATA2MSB)) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		goto out;
	}
	machine = hdr[EI_DATA] == ELFDATA2LSB ? hdr[18] | hdr[19] << 8 : hdr[18] << 8 | hdr[19];
	arch = elf_arch(machine, hdr[EI_CLASS] == ELFCLASS64, hdr[EI_DATA] == ELFDATA2LSB);
	if (arch == NULL) {
		snprintf(err, errlen, "%s: ELF machine %u is not one jumpgate knows", path,
			 machine);
		goto out;
	}

	r = JG_ERR_NOMEM;
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	/* Size is what was hashed, so the two always describe the same bytes. */
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			r = JG_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
		size += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (unsigned i = 0; i < mdlen; i++) {
		out->sha256[2 * i] = hex[md[i] >> 4];
		out->sha256[2 * i + 1] = hex[md[i] & 15];
	}
	snprintf(out->arch, sizeof(out->arch), "%s", arch);
	out->size = size;
	out->path = path;
	r = 0;
out:
	if (r == JG_ERR_NOMEM)
		snprintf(err, errlen, "%s: cannot compute its sha256 (out of memory?)", path);
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- the stub ---- */

/* Names that go into the stub unquoted: arch [A-Za-z0-9_], sha256 lowercase hex. */
static int stub_word_ok(const char *s, size_t want_len, int hex)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (hex ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			: !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '_'))
			return 0;
	}
	return i > 0 && (want_len == 0 || i == want_len);
}

/* `uname -m` spellings other systems use for the same agent. */
static const char *stub_alias(const char *arch)
{
	if (strcmp(arch, "x86_64") == 0)
		return "amd64";
	if (strcmp(arch, "aarch64") == 0)
		return "arm64";
	if (strcmp(arch, "armv7l") == 0)
		return "armv8l"; /* a 32-bit userland on a 64-bit ARM kernel */
	return NULL;
}

/* Append to a growing string; on ENOMEM frees it and returns -1 (later calls are no-ops). */
static int str_addf(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	if (*s == NULL)
		return -1;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*s + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			goto fail;
		if ((size_t)n < *cap - *len)
			break;
		if ((p = realloc(*s, *cap * 2 + (size_t)n)) == NULL)
			goto fail;
		*s = p;
		*cap = *cap * 2 + (size_t)n;
	}
	*len += (size_t)n;
	return 0;
fail:
	free(*s);
	*s = NULL;
	return -1;
}

/* The stub is ONE line with no single quote, '!' or newline: the user's login
 * shell (sh, bash, csh, fish) parses `sh -c '<stub>'` before sh sees it, and
 * csh rejects newlines inside quotes and may expand '!' even there.  Variables:
 * a = arch, h = sha256, s = size, u = uid, d = cache dir, f = cached agent,
 * t = temp file (with $$: two gateways may bootstrap the same target at once),
 * P = a per-run directory to remove at the end, n = bytes received, c =
 * checksum line; m and o = mode and owner that L read, r q k = S's walk; z = the
 * PATH to give the agent (the stub's own tools come from /usr/bin and /bin first:
 * behind su, PATH may still be the lower account's).
 * Reading uses `head -c`, which GNU coreutils, busybox and the BSDs have; the
 * gateway sends nothing after the binary until the agent's HELLO, so a head
 * that reads ahead cannot eat frames.  The exec'd agent inherits the stub's
 * stdin and stdout: they are the link.
 *
 * Other users of the target (a shared /tmp; an invoker's HOME after su) must
 * not be able to choose what runs.  So nothing is done through a path unless
 * every component of it is a real directory (ls -ldn: never through a
 * symlink) owned by root or by the account, that no one else may change (not
 * group/other-writable, or sticky: then they cannot rename our entries), and
 * the cache directory itself is the account's own with mode 0700.  Such a
 * path cannot change under us, so what was hashed is what runs.  The checks
 * run every time, for a cached agent too.  When the predictable TMPDIR name
 * is taken by someone else, a per-run mktemp -d directory is used and removed
 * when the agent exits. */
char *jg_bootstrap_stub(const struct jg_agent_build *builds, size_t n)
{
	size_t len = 0, cap = 1024;
	char *s = malloc(cap);

	if (s != NULL)
		s[0] = '\0';
	str_addf(&s, &len, &cap,
		 "umask 077;set -f;t=;P=;z=${PATH-/usr/bin:/bin};PATH=/usr/bin:/bin:$z;"
		 "echo jumpgate-stub: hello;"
		 "fail(){ printf \"%%s\\n\" \"jumpgate-stub: error $1 $2\";"
		 "[ -z \"$t\" ]||rm -f \"$t\";[ -z \"$P\" ]||rm -rf \"$P\";exit 1;};"
		 "a=$(uname -m);case \"$a\" in ");
	for (size_t i = 0; i < n; i++) {
		const struct jg_agent_build *b = &builds[i];
		const char *alias = stub_alias(b->arch);

		/* Load made these; anything else cannot be pasted into a script safely. */
		if (!stub_word_ok(b->arch, 0, 0) || !stub_word_ok(b->sha256, 64, 1))
			continue;
		str_addf(&s, &len, &cap, "%s%s%s)a=%s h=%s s=%llu;;", b->arch, alias ? "|" : "",
			 alias ? alias : "", b->arch, b->sha256, (unsigned long long)b->size);
	}
	str_addf(
	    &s, &len, &cap,
	    "*)fail unknown-arch \"$a\";;esac;u=$(id -u);"
	    /* L: mode and owner of the path itself (a symlink shows as l...) */
	    "L(){ m=;o=;set -- $(ls -ldn -- \"$1\" 2>/dev/null);m=$1;o=$3;};"
	    /* S: every component of an absolute path is a real directory of root or
	     * ours that no one else can change (ACLs refused) */
	    "S(){ r=$1;q=;case \"$r\" in /*);;*)return 1;;esac;while [ -n \"$r\" ];do "
	    "r=${r#/};k=${r%%%%/*};r=${r#\"$k\"};case \"$k\" in .|..)return 1;;\"\")continue;;esac;"
	    "q=$q/$k;L \"$q\";case \"$o\" in 0|\"$u\");;*)return 1;;esac;case \"$m\" in "
	    "*+|d????w????*|d???????w?*)case \"$m\" in d????????[tT]|d????????[tT].);;"
	    "*)return 1;;esac;;d*);;*)return 1;;esac;done;};"
	    /* D: S, and the directory is ours with mode 0700 (made so if ours) */
	    "D(){ S \"$1\"||return 1;L \"$1\";[ \"$o\" = \"$u\" ]||return 1;case \"$m\" in "
	    "drwx------|drwx------.);;*)chmod 700 \"$1\"||return 1;L \"$1\";case \"$m\" in "
	    "drwx------|drwx------.);;*)return 1;;esac;;esac;};"
	    /* M: make the directory if missing (mkdir never follows a symlink), then D */
	    "M(){ S \"${1%%/*}\"||return 1;[ -d \"$1\" ]||mkdir \"$1\" 2>/dev/null;D \"$1\";};"
	    /* the cache: in HOME, else a directory of our own in TMPDIR, else one
	     * made for this run only */
	    "T=${TMPDIR:-/tmp};d=$T/.jumpgate-$u;"
	    "if [ -n \"$HOME\" ]&&S \"$HOME\"&&{ [ -d \"$HOME/.cache\" ]||"
	    "mkdir \"$HOME/.cache\" 2>/dev/null;}&&M \"$HOME/.cache/jumpgate\";then "
	    "d=$HOME/.cache/jumpgate;elif M \"$d\";then :;else "
	    "S \"$T\"&&P=$(mktemp -d \"$d.XXXXXXXXXX\" 2>/dev/null)&&D \"$P\"||fail mkdir \"$d\";"
	    "d=$P;fi;"
	    /* cached (checked every time): no round trip */
	    "f=\"$d/agent-$h\";L \"$f\";case \"$m\" in -rwx------|-rwx------.)"
	    "if [ \"$o\" = \"$u\" ];then echo jumpgate-stub: exec;PATH=$z;exec \"$f\" "
	    "\"$@\";fi;;esac;"
	    "t=\"$d/.agent-$h.$$\";rm -f \"$t\";"
	    "printf \"%%s\\n\" \"jumpgate-stub: need $a $h $s\";"
	    /* set -C: created, never opened through anything already there;
	     * head fails on a write error; a short read shows in the count */
	    "set -C;head -c \"$s\" >\"$t\"||fail write \"$t\";set +C;"
	    "n=$(wc -c <\"$t\");[ $n -eq $s ] 2>/dev/null||fail short-read \"$n/$s\";"
	    "chmod 700 \"$t\"||fail write \"$t\";"
	    /* hashed after the last write, in a directory only we can change */
	    "if command -v sha256sum >/dev/null 2>&1;then c=$(sha256sum <\"$t\");"
	    "elif command -v shasum >/dev/null 2>&1;then c=$(shasum -a 256 <\"$t\");"
	    "else c=$h;fi;[ \"${c%%%% *}\" = \"$h\" ]||fail checksum \"${c%%%% *}\";"
	    /* prove exec works before caching: a noexec home caches nothing */
	    "\"$t\" --version </dev/null >/dev/null 2>&1||fail noexec \"$d\";"
	    "mv -f \"$t\" \"$f\"||fail write \"$f\";t=;"
	    /* a per-run directory: the stub waits for the agent to remove it */
	    "if [ -n \"$P\" ];then echo jumpgate-stub: exec;PATH=$z \"$f\" \"$@\";n=$?;"
	    "rm -rf \"$P\";"
	    "exit $n;fi;"
	    "echo jumpgate-stub: exec;PATH=$z;exec \"$f\" \"$@\";fail exec \"$f\"");
	return s;
}

char *jg_bootstrap_command(const struct jg_agent_build *builds, size_t n)
{
	char *stub = jg_bootstrap_stub(builds, n), *q = NULL, *cmd = NULL;

	if (stub == NULL || (q = jg_sh_quote(stub)) == NULL)
		goto out;
	if ((cmd = malloc(strlen(q) + sizeof("sh -c "))) != NULL)
		sprintf(cmd, "sh -c %s", q);
out:
	free(q);
	free(stub);
	return cmd;
}

/* ---- the parser ---- */

enum boot_state {
	BOOT_PREFIX, /* before the hello line: discard */
	BOOT_LINES,  /* after hello: stub lines, or the agent's "JG" at a line start */
	BOOT_AGENT,  /* every byte is the agent's */
	BOOT_FAILED,
};

struct jg_boot {
	enum boot_state state;
	int asked;	  /* a need line was seen (in this stage) */
	size_t stages;	  /* stubs that will run, one after the other */
	size_t done;	  /* stubs that exec'd their agent */
	size_t discarded; /* whole prefix lines, and bytes before hello */
	size_t line_len;  /* bytes of the current line (may exceed what is kept) */
	size_t kept;	  /* bytes of it in line[] */
	char line[BOOT_LINE_MAX + 1];
	char head[BOOT_LINE_MAX]; /* the start of a line before hello (an error line?) */
	size_t head_len;
	char need_arch[32], need_sha256[65];
	char reason[512];
	struct evbuffer *rest;
};

struct jg_boot *jg_boot_new(void)
{
	struct jg_boot *b = calloc(1, sizeof(*b));

	if (b != NULL && (b->rest = evbuffer_new()) == NULL) {
		free(b);
		b = NULL;
	}
	if (b != NULL)
		b->stages = 1;
	return b;
}

void jg_boot_set_stages(struct jg_boot *b, size_t n)
{
	b->stages = n;
	/* No stub at all: the agent was started directly (a trampoline on the gateway);
	 * its error lines and its HELLO are all that can come. */
	if (n == 0)
		b->state = BOOT_LINES;
}

size_t jg_boot_stages_done(const struct jg_boot *b)
{
	return b->done;
}

void jg_boot_free(struct jg_boot *b)
{
	if (b == NULL)
		return;
	evbuffer_free(b->rest);
	free(b);
}

/* Copy untrusted text for a reason: non-printables as \xNN, truncated with "...". */
static void boot_quote(char *dst, size_t cap, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < BOOT_QUOTE_MAX && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
	}
	if (len > BOOT_QUOTE_MAX && o + 4 < cap)
		o += (size_t)snprintf(dst + o, cap - o, "...");
	dst[o < cap ? o : cap - 1] = '\0';
}

static enum jg_boot_event boot_fail(struct jg_boot *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum jg_boot_event boot_fail(struct jg_boot *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
	va_end(ap);
	b->state = BOOT_FAILED;
	return JG_BOOT_FAILED;
}

static enum jg_boot_event boot_unexpected(struct jg_boot *b, const char *text, size_t len)
{
	char q[BOOT_QUOTE_MAX * 4 + 8];

	boot_quote(q, sizeof(q), text, len);
	return boot_fail(b, "unexpected output from the bootstrap stub: \"%s\"", q);
}

/* "jumpgate-stub: error <word> <detail>": a reason a person can act on. */
static enum jg_boot_event boot_stub_error(struct jg_boot *b, const char *text, size_t len)
{
	static const struct {
		const char *word, *before, *after;
	} why[] = {
	    {"unknown-arch", "no agent for architecture ", " on the gateway; use raw mode"},
	    {"mkdir", "cannot create the agent cache directory ", " on the target"},
	    {"write", "cannot write the agent to ", " on the target (disk full, read-only home?)"},
	    {"short-read", "the agent upload was cut short (received/expected bytes: ",
	     "); the target needs a head that supports -c"},
	    {"checksum", "the agent arrived corrupted on the target (its sha256 is ", ")"},
	    {"noexec", "cannot execute the agent in ", " (mounted noexec?); use raw mode"},
	    {"exec", "cannot execute the agent ", " on the target"},
	    {"setns", "cannot enter the namespaces: ", ""},
	    {"password", "", ""},
	};
	char q[BOOT_QUOTE_MAX * 4 + 8];
	const char *sp = memchr(text, ' ', len);
	size_t wlen = sp != NULL ? (size_t)(sp - text) : len;

	boot_quote(q, sizeof(q), sp != NULL ? sp + 1 : "", sp != NULL ? len - wlen - 1 : 0);
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		if (strlen(why[i].word) == wlen && memcmp(why[i].word, text, wlen) == 0)
			return boot_fail(b, "%s%s%s", why[i].before, q, why[i].after);
	boot_quote(q, sizeof(q), text, len);
	return boot_fail(b, "the bootstrap stub failed: %s", q);
}

/* "jumpgate-stub: need <arch> <sha256> <size>". */
static enum jg_boot_event boot_need_line(struct jg_boot *b, const char *text, size_t len)
{
	char buf[BOOT_LINE_MAX + 1], arch[32], sha[65];
	unsigned long long size;
	int end = -1;

	memcpy(buf, text, len);
	buf[len] = '\0';
	/* The charset check keeps sscanf from accepting "-1" or tabs as a size. */
	if (b->asked || strspn(buf, BOOT_NEED_CHARS) != len ||
	    sscanf(buf, "%31[A-Za-z0-9_] %64[0-9a-f] %llu%n", arch, sha, &size, &end) != 3 ||
	    (size_t)end != len || strlen(sha) != 64)
		return boot_unexpected(b, b->line, b->kept);
	memcpy(b->need_arch, arch, sizeof(arch));
	memcpy(b->need_sha256, sha, sizeof(sha));
	b->asked = 1;
	return JG_BOOT_NEED;
}

/* A complete line after hello, without its newline (and without a PTY's \r). */
static enum jg_boot_event boot_line(struct jg_boot *b)
{
	size_t len = b->kept, nl = sizeof(boot_need) - 1, el = sizeof(boot_error) - 1;

	if (len > 0 && b->line[len - 1] == '\r')
		len--;
	if (len > nl && memcmp(b->line, boot_need, nl) == 0)
		return boot_need_line(b, b->line + nl, len - nl);
	if (len > el && memcmp(b->line, boot_error, el) == 0)
		return boot_stub_error(b, b->line + el, len - el);
	if (len == sizeof(boot_exec) - 1 && memcmp(b->line, boot_exec, len) == 0) {
		/* A stub exec'd its agent: the next stub (after whatever the hop in between
		 * prints), or the agent's HELLO. */
		if (++b->done < b->stages) {
			b->state = BOOT_PREFIX;
			b->asked = 0;
		}
		return JG_BOOT_MORE;
	}
	return boot_unexpected(b, b->line, len);
}

/* A complete line before hello: is it (or does it end with) the hello? */
static int boot_prefix_line(struct jg_boot *b)
{
	size_t hl = sizeof(boot_hello) - 1, kept = b->kept, len = b->line_len;

	if (kept > 0 && b->line[kept - 1] == '\r') {
		kept--;
		len--;
	}
	if (kept >= hl && memcmp(b->line + kept - hl, boot_hello, hl) == 0) {
		/* "motdjumpgate-stub: hello": a banner without a newline still counts */
		b->discarded += len - hl;
		return 1;
	}
	b->discarded += b->line_len + 1;
	return 0;
}

enum jg_boot_event jg_boot_feed(struct jg_boot *b, const void *data, size_t len)
{
	const char *p = data;
	enum jg_boot_event ev = JG_BOOT_MORE;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = p[i];

		switch (b->state) {
		case BOOT_PREFIX:
			if (c == '\n') {
				size_t el = sizeof(boot_error) - 1, hlen = b->head_len;

				/* A trampoline between two stubs reports its errors so too. */
				if (hlen > 0 && b->head[hlen - 1] == '\r')
					hlen--;
				b->head_len = 0;
				if (hlen > el && memcmp(b->head, boot_error, el) == 0)
					return boot_stub_error(b, b->head + el, hlen - el);
				if (boot_prefix_line(b))
					b->state = BOOT_LINES;
				b->kept = b->line_len = 0;
				if (b->discarded > BOOT_PREFIX_MAX)
					return boot_fail(b, "%s", boot_prefix_too_long);
				break;
			}
			if (b->head_len < sizeof(b->head))
				b->head[b->head_len++] = c;
			/* Keep only the tail a hello could end in; count the rest as discarded. */
			if (b->kept == sizeof(boot_hello)) {
				memmove(b->line, b->line + 1, b->kept - 1);
				b->kept--;
			}
			b->line[b->kept++] = c;
			b->line_len++;
			if (b->discarded + b->line_len - b->kept > BOOT_PREFIX_MAX)
				return boot_fail(b, "%s", boot_prefix_too_long);
			break;
		case BOOT_LINES:
			if (c == '\n') {
				/* Only a need line passes; errors and anything else fail. */
				if ((ev = boot_line(b)) == JG_BOOT_FAILED)
					return JG_BOOT_FAILED;
				b->kept = b->line_len = 0;
				break;
			}
			if (b->kept == BOOT_LINE_MAX) {
				char q[BOOT_QUOTE_MAX * 4 + 8];

				boot_quote(q, sizeof(q), b->line, b->kept);
				return boot_fail(b,
						 "a line of more than %d bytes from the bootstrap "
						 "stub: \"%s\"",
						 BOOT_LINE_MAX, q);
			}
			b->line[b->kept++] = c;
			b->line_len++;
			/* The stub's lines start with 'j'; the agent's HELLO with "JG". */
			if (b->kept == 2 && b->line[0] == 'J' && b->line[1] == 'G') {
				b->state = BOOT_AGENT;
				if (evbuffer_add(b->rest, "JG", 2) != 0)
					return boot_fail(b, "out of memory buffering the agent's "
							    "first frames");
				i++;
				goto agent;
			}
			break;
		case BOOT_AGENT:
			goto agent;
		case BOOT_FAILED:
			return JG_BOOT_FAILED;
		}
	}
	switch (b->state) {
	case BOOT_PREFIX:
	case BOOT_LINES:
		return ev;
	case BOOT_AGENT:
		return JG_BOOT_AGENT; /* reached in an earlier feed */
	case BOOT_FAILED:
		break;
	}
	return JG_BOOT_FAILED;
agent:
	if (i < len && evbuffer_add(b->rest, p + i, len - i) != 0)
		return boot_fail(b, "out of memory buffering the agent's first frames");
	return JG_BOOT_AGENT;
}

const char *jg_boot_need_arch(const struct jg_boot *b)
{
	return b->need_arch;
}

const char *jg_boot_need_sha256(const struct jg_boot *b)
{
	return b->need_sha256;
}

struct evbuffer *jg_boot_rest(struct jg_boot *b)
{
	return b->rest;
}

const char *jg_boot_reason(const struct jg_boot *b)
{
	return b->reason;
}

size_t jg_boot_discarded(const struct jg_boot *b)
{
	return b->discarded;
}
