/* Agent bootstrap over an onward connection (sans-I/O).
 *
 * The gateway runs a short POSIX sh stub on the target (as the remote command
 * of ssh, and later of any method).  The stub:
 *   1. prints "jumpgate-stub: hello\n" (everything before it -- a chatty
 *      .bashrc, a banner -- is discarded by the gateway);
 *   2. picks the agent for `uname -m` from a table baked into the stub
 *      (arch -> sha256 and size; amd64 and arm64 are taken as x86_64 and
 *      aarch64); an unknown arch prints
 *      "jumpgate-stub: error unknown-arch <arch>\n" and exits 1;
 *   3. if ~/.cache/jumpgate/agent-<sha256> (or, for an account whose home
 *      cannot hold it, $TMPDIR/.jumpgate-<uid>/agent-<sha256>, or when that is
 *      someone else's, a per-run mktemp -d directory removed after the agent
 *      exits; every path component a real directory of root or the account
 *      that nobody else can change, the cache dir and file the account's own,
 *      0700: checked every time) is executable, prints
 *      "jumpgate-stub: exec\n" and execs it at once with the stub's own
 *      arguments (a cached agent costs no round trip);
 *   4. otherwise prints "jumpgate-stub: need <arch> <sha256> <size>\n", reads
 *      exactly <size> bytes from stdin into a new temporary file (set -C) in
 *      the cache directory, checks it (size; sha256sum or shasum when present), chmod
 *      700, runs it once with --version to prove the directory allows exec
 *      (else "jumpgate-stub: error noexec <dir>"), renames it into place (so
 *      a file that cannot run is never cached), then prints the exec line and
 *      execs it with the stub's arguments.
 *   Any other failure prints "jumpgate-stub: error <word> <detail>" (words:
 *   mkdir, write, short-read, checksum, exec) and exits 1.
 * The agent then speaks frames on the same stdin/stdout; its first bytes are
 * the HELLO magic "JG" (0x4A 0x47), which no stub line begins with.
 *
 * Stub lines are bounded (512 bytes); input before the hello line is bounded
 * (64 KiB) so a target that prints forever cannot grow gateway memory. */
#ifndef JG_BOOTSTRAP_H
#define JG_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* One agent binary the gateway can send. */
struct jg_agent_build {
	char arch[32];	  /* `uname -m` spelling: x86_64, aarch64, ... */
	char sha256[65];  /* lowercase hex of the file */
	uint64_t size;	  /* bytes */
	const char *path; /* file on the gateway (borrowed) */
};

/* Describe the agent at PATH: size, sha256 and arch (from the ELF header's e_machine).
 * 0 or a negative JG_ERR_* with ERR ("/x/jumpgate-agent: not an ELF file"). */
int jg_agent_build_load(const char *path, struct jg_agent_build *out, char *err, size_t errlen);

/* The stub script (no trailing newline needed) for the agents in BUILDS. Caller frees.
 * NULL on ENOMEM. */
char *jg_bootstrap_stub(const struct jg_agent_build *builds, size_t n);
/* The remote command that runs the stub with no agent arguments: "sh -c '<quoted stub>'"
 * (a chain's argv is relay/hop.h's job). Caller frees. */
char *jg_bootstrap_command(const struct jg_agent_build *builds, size_t n);

enum jg_boot_event {
	JG_BOOT_MORE = 0,   /* nothing decided yet: feed more bytes */
	JG_BOOT_NEED = 1,   /* the stub asks for an agent: send exactly its bytes, then nothing
			     * more until AGENT (see need_arch/need_sha256) */
	JG_BOOT_AGENT = 2,  /* the agent is running: the bytes from jg_boot_rest() are frames */
	JG_BOOT_FAILED = 3, /* the stub reported an error or the output made no sense: reason() */
};

struct jg_boot;

struct jg_boot *jg_boot_new(void);
/* A chain runs N stubs one after the other (relay/hop.h); each prints
 * "jumpgate-stub: exec" before it execs its agent, and after every one but the last the
 * parser discards output again until the next hello.  Default 1; 0 means no stub: the
 * agent was started directly and only its error lines or its HELLO can come. */
void jg_boot_set_stages(struct jg_boot *b, size_t n);
/* How many stubs have exec'd their agent so far (the caller compares after each feed:
 * an agent started by stage K may want its password line, hop.h's askpass). */
size_t jg_boot_stages_done(const struct jg_boot *b);
void jg_boot_free(struct jg_boot *b);
/* Feed output of the onward connection. Returns the event reached (sticky once AGENT or
 * FAILED). After NEED, the caller sends the binary and keeps feeding. */
enum jg_boot_event jg_boot_feed(struct jg_boot *b, const void *data, size_t len);
/* After JG_BOOT_NEED: the arch and sha256 asked for. */
const char *jg_boot_need_arch(const struct jg_boot *b);
const char *jg_boot_need_sha256(const struct jg_boot *b);
/* After JG_BOOT_AGENT: the bytes already received that belong to the agent (frames). */
struct evbuffer *jg_boot_rest(struct jg_boot *b);
/* After JG_BOOT_FAILED: why ("no agent for architecture riscv64 on the gateway; use raw
 * mode", "cannot execute the agent in /home/u/.cache/jumpgate (mounted noexec?); use raw
 * mode"); text from the target is quoted with non-printables as \xNN. */
const char *jg_boot_reason(const struct jg_boot *b);
/* Bytes discarded before the hello line (a chatty login script), for a debug log line. */
size_t jg_boot_discarded(const struct jg_boot *b);

#endif
