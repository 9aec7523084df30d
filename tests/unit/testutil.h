/* Small helpers shared by the unit tests: registering a suite, and running processes. */
#ifndef JG_TESTUTIL_H
#define JG_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

#include <CUnit/CUnit.h>

#include "relay/hop.h"
#include "relay/spawn.h"

struct evbuffer;
struct jg_link;

/* ---- registering a suite ---- */

/* One test: what behaviour it pins, and its function. */
struct tu_test {
	const char *name;
	void (*fn)(void);
};
/* Add the suite NAME (SETUP and TEARDOWN may be NULL) holding the N TESTS, in order.  0, or
 * -1 with CUnit's error set (the runner reports it). */
int tu_add_suite(const char *name, CU_InitializeFunc setup, CU_CleanupFunc teardown,
		 const struct tu_test *tests, size_t n);

/* Monotonic milliseconds. */
long tu_now_ms(void);
/* Set or unset (VALUE NULL) an environment variable; the old value (malloc'd, or NULL)
 * for tu_restore_env. */
char *tu_swap_env(const char *name, const char *value);
/* Put back what tu_swap_env returned (SAVED, freed). */
void tu_restore_env(const char *name, char *saved);
/* Read FD (non-blocking) until EOF (or EIO, a pty's EOF) or 5 s into BUF; returns the length. */
size_t tu_read_all(int fd, char *buf, size_t cap);
/* waitpid(PID) retrying on EINTR; returns the wait status. */
int tu_wait_child(pid_t pid);
/* Close the parent-side fds of C that are open. */
void tu_close_child(struct jg_child *c);

/* ---- the agent driver: ./jumpgate-agent over its stdio, an OPENER jg_link on our side ---- */

#define TU_AGENT_PATH "./jumpgate-agent"
#define TU_NCH 8

/* One channel slot's record; everything from UNACKED on is plain data (see tu_drv_slot_reset). */
struct tu_chan {
	struct evbuffer *out; /* DATA received (stdout) */
	struct evbuffer *err; /* DATA received with JG_DATA_STDERR */
	struct evbuffer *ok;  /* OPEN_OK's payload */
	size_t unacked;	      /* received, not yet returned as credit (acked once per pump round) */
	int opened, failed, exited, out_eof, err_eof, eof, dead;
	uint8_t exit_flags;
	uint32_t exit_code;
	char reason[1024]; /* OPEN_FAIL's payload or DEAD's reason */
};

struct tu_drv {
	struct jg_child agent;
	struct jg_link *link;
	int hello;
	int poll_ms; /* poll() granularity of tu_drv_pump */
	struct tu_chan ch[TU_NCH];
	int64_t id[TU_NCH];
};

/* Start the agent (polling every POLL_MS) and do HELLO; false (after a failed assertion)
 * without a binary, in which case D->link is NULL. */
int tu_drv_ready(struct tu_drv *d, int poll_ms);
/* Move bytes both ways until DONE(d) or TIMEOUT_MS; STEP (may be NULL) runs each round. */
int tu_drv_pump(struct tu_drv *d, int (*done)(struct tu_drv *), void (*step)(struct tu_drv *),
		long timeout_ms);
/* The agent's log goes to a pipe (tests expect some errors); shown with JG_AGENT_LOG set. */
void tu_drv_show_log(struct tu_drv *d);
/* Close the agent's stdin (or SIGKILL it with KILL_IT) and reap it; its exit status (-1 on
 * timeout).  Frees the link and the channel buffers. */
int tu_drv_end(struct tu_drv *d, int kill_it);
/* tu_drv_end without the kill. */
int tu_drv_stop(struct tu_drv *d);
/* Empty slot I's record for a new channel. */
void tu_drv_slot_reset(struct tu_drv *d, int i);
/* Slot 0's channel has exited, failed or died. */
int tu_drv_ch0_over(struct tu_drv *d);

/* Live descriptors of PID, from /proc. */
int tu_count_fds(pid_t pid);

/* ---- file channels (PUT, GET, STAT) over the driver ---- */

struct jg_file_spec;
/* OPEN(KIND, SPEC) on slot I. */
int tu_drv_open_file(struct tu_drv *d, int i, uint32_t kind, const struct jg_file_spec *spec);
/* Decode slot I's result (the DATA of a PUT, or OPEN_OK's payload with OK). */
int tu_drv_file_result(struct tu_drv *d, int i, int ok, struct jg_file_spec *out);
/* SHA-256 of BUF into OUT. */
void tu_sha256(const void *buf, size_t len, uint8_t out[32]);
/* LEN bytes (malloc'd) of a pattern that depends on SEED. */
uint8_t *tu_pattern(size_t len, unsigned seed);

/* ---- the file system around a test ---- */

/* A fresh directory under /tmp (malloc'd), or NULL. */
char *tu_tmpdir_new(void);
/* Remove DIR and all below it, and free it (NULL is fine). */
void tu_tmpdir_free(char *dir);
/* "DIR/NAME", malloc'd. */
char *tu_join(const char *dir, const char *name);
/* Create or truncate PATH (0644) holding TEXT; fatal assertion if it cannot be opened. */
void tu_write_file(const char *path, const char *text);
/* The whole file at PATH, NUL-terminated; *len its size.  NULL when missing. */
char *tu_read_file(const char *path, size_t *len);
/* PATH holds exactly TEXT. */
int tu_file_is(const char *path, const char *text);

/* ---- configuration files ---- */

struct jg_config;
/* Write TEXT to a new file under /tmp; its name into PATH (>= 32 bytes). */
void tu_write_tmp(char *path, const char *text);
/* Loading TEXT must fail with CODE and a message starting "FILE:LINE: WHAT". */
void tu_expect_error(const char *text, int code, int line, const char *what);
/* Load TEXT (written to PATH, which the caller unlinks), asserting success. */
struct jg_config *tu_load_ok(const char *text, char *path);

/* ---- target specs (test_target.c, test_chain.c) ---- */

struct jg_chain;
struct jg_ssh_opts;
/* The inventory the target and chain tests resolve against, loaded by tu_target_setup (a
 * suite's setup: 0, or -1 with the reason on stderr) and freed by tu_target_teardown: ssh
 * targets (one with an IPv6 host, one with a password, a raw one), local ones, entries of
 * other methods used as later hops, a tunnel target; ssh_defaults with user "ops". */
extern struct jg_config *tu_target_cfg;
int tu_target_setup(void);
int tu_target_teardown(void);
/* TEXT must resolve to one hop with KEY and DISPLAY; the chain is returned. */
struct jg_chain *tu_resolve_ok(const char *text, const char *key, const char *display);
/* TEXT must be refused with CODE and exactly WHY. */
void tu_resolve_err(const char *text, int code, const char *why);
/* O has the options every non-inventory ssh spec gets from ssh_defaults (copies). */
void tu_check_ssh_defaults(const struct jg_ssh_opts *o);

/* ---- hops and shell runs (test_hop.c, test_hop_check.c, test_hop_quoting.c) ---- */

/* strdup, a fatal assertion when out of memory. */
char *tu_xdup(const char *s);
/* A hop of method M; USER and NAME (either may be NULL) into o.user and o.name. */
void tu_hop_mk(struct jg_hop *h, enum jg_method m, const char *user, const char *name);
/* An ssh hop to HOST, host keys enforced. */
void tu_hop_mk_ssh(struct jg_hop *h, const char *host);
/* jg_hop_clear on each of HOPS[0..N-1]. */
void tu_hops_clear(struct jg_hop *hops, size_t n);
#define TU_RUN_MS 10000 /* bound of one tu_run_capture */
/* Run ARGV (stdin at EOF, ENVP NULL: ours) and put its stdout in OUT (NUL-terminated, at
 * most CAP - 1 bytes).  Bounded by TU_RUN_MS: past it the whole process group is killed.
 * Returns the length, or -1 when the run timed out or did not exit with status 0. */
ssize_t tu_run_capture(char *const *argv, char *const *envp, char *out, size_t cap);

#endif
