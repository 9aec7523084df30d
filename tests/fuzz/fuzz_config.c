/* libFuzzer harness for the configuration loader (config/config.c, parse.c,
 * ssh_opts.c over libconfig).  The configuration is trusted (the operator
 * writes it), but a reload must never take a running gateway down: whatever
 * the file holds, jg_config_load() either returns a complete configuration or
 * an error naming the file, and leaks nothing either way.
 *
 * Input: the file's bytes, at most 64 KiB, written to a new file under
 * /dev/shm (libconfig reads files; /tmp without /dev/shm), loaded, removed.
 * Inputs containing "@include" (in any case) are skipped: an include names
 * any file of the machine (/dev/zero, /dev/stdin), which an operator may do
 * and a fuzzer must not.
 * Besides "no crash, no leak, no UB" it checks, aborting when they break:
 *   - an error names the file it is about ("PATH:LINE: ..." or "PATH: ...");
 *   - a loaded configuration has the "local" target, a listen port, TLS file
 *     names, and every inventory ssh or tunnel host passes
 *     jg_target_check_host (the same check as a request's host), every user
 *     jg_target_check_user;
 *   - every group member that is not a glob names an inventory target. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "relay/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks the text of a string token on which its
 * parser fails (bison without %destructor): a file holding just "" loses one
 * byte, `a = 1; "x"` 64.  Not ours, and bounded by the file's size per failed
 * load (a rejected reload); seen in corpus/config/libconfig-string-leak.conf. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define MAX_INPUT 65536

static char dir[16], path[64];

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	jg_log_init("fuzz_config", JG_LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	/* Only ever names: loading a configuration creates nothing. */
	setenv("JUMPGATE_HOME", "/nonexistent/jumpgate-fuzz", 1);
	setenv("HOME", "/nonexistent/home", 1);
	return 0;
}

static int has_include(const uint8_t *p, size_t n)
{
	static const char w[] = "include";

	for (size_t i = 0; i + 8 <= n; i++)
		if (p[i] == '@' && strncasecmp((const char *)p + i + 1, w, 7) == 0)
			return 1;
	return 0;
}

static int is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void check_config(const struct jg_config *c)
{
	char err[512];

	check(c->path != NULL && strcmp(c->path, path) == 0);
	check(c->listen_host != NULL && c->listen_port != 0);
	check(c->state_dir != NULL && c->ca_file != NULL && c->cert_file != NULL &&
	      c->key_file != NULL);
	check(c->max_streams >= 1 && c->stream_window >= 65535);
	check(jg_config_find_target(c, "local") != NULL);
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct jg_hop *h = &c->targets[i].hop;
		const char *host = h->ssh.host;
		char br[300];

		check(c->targets[i].name != NULL && c->targets[i].name[0] != '-');
		if (h->method == JG_METHOD_LOCAL)
			continue;
		check(h->method == JG_METHOD_SSH || h->method == JG_METHOD_TUNNEL);
		check(host != NULL);
		if (strchr(host, ':') != NULL) {
			snprintf(br, sizeof(br), "[%s]", host);
			host = br;
		}
		if (jg_target_check_host(host, err, sizeof(err)) != 0 ||
		    (h->ssh.user != NULL &&
		     jg_target_check_user(h->ssh.user, err, sizeof(err)) != 0)) {
			fprintf(stderr, "target %s: %s\n", c->targets[i].name, err);
			abort();
		}
	}
	for (size_t i = 0; i < c->ngroups; i++) {
		check(jg_config_find_target(c, c->groups[i].name) == NULL);
		for (size_t j = 0; j < c->groups[i].nmembers; j++)
			check(is_glob(c->groups[i].members[j]) ||
			      jg_config_find_target(c, c->groups[i].members[j]) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jg_config *c = NULL;
	char err[1024] = "";
	int fd, r;

	if (size > MAX_INPUT || has_include(data, size))
		return 0;
	snprintf(path, sizeof(path), "%s/fuzz-config-XXXXXX", dir);
	check((fd = mkstemp(path)) >= 0);
	check(size == 0 || write(fd, data, size) == (ssize_t)size);
	check(close(fd) == 0);
	r = jg_config_load(path, &c, err, sizeof(err));
	unlink(path);
	if (r != 0) {
		check(c == NULL);
		check(r == JG_ERR_CONFIG || r == JG_ERR_IO || r == JG_ERR_NOMEM);
		if (strncmp(err, path, strlen(path)) != 0) {
			fprintf(stderr, "error does not name the file: %s\n", err);
			abort();
		}
		return 0;
	}
	check_config(c);
	jg_config_free(c);
	return 0;
}
