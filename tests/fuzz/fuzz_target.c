/* libFuzzer harness for the target-spec parser (config/target.c): the
 * {target} of every request, percent-decoded, straight from the controller.
 *
 * A small inventory is loaded once (a fixed configuration written to a
 * temporary file at start): ssh targets (one with an IPv6 host), local ones,
 * a tunnel target, groups and a tunnels.allow list.
 *
 * Input: byte 0 picks the entry point, the rest is text (cut at the first NUL,
 * as a C string from the request would be):
 *   even: jg_target_resolve(text), then the ssh argv of each resolved hop;
 *   odd:  jg_target_tunnel_allowed(target, host, port) with TEXT split at the
 *         first '\n' into target and host (none: NULL), the port from bytes 1-2.
 * Besides "no crash, no leak, no UB" it checks, aborting when they break:
 *   - a refusal comes with a reason, and the reason is one printable line (a
 *     refused value is quoted, never copied raw into a log line);
 *   - every resolved ssh hop has a host and a user (if any) that pass
 *     jg_target_check_host/user: no leading '-', no whitespace, no shell or
 *     control characters; a port of 1-65535 or none;
 *   - jg_ssh_argv() accepts every resolved hop, puts "--" before the host,
 *     and the host is the second-to-last word (the remote command last);
 *   - every name of the other methods (users, containers, pods, namespaces)
 *     passes the same checks, and jg_chain_argv() accepts every resolved
 *     chain (jg_chain_check ran when it was resolved);
 *   - resolving a chain's key gives a chain with the same key (keys name
 *     the onward connection: two spellings of one target share it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/ssh.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
    "ssh_defaults = { user = \"ops\"; check_host_keys = \"ignore\";\n"
    "  known_hosts = \"/dev/null\"; ssh_args = [ \"-4\" ]; connect_timeout = 3; };\n"
    "targets = (\n"
    "  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; user = \"deploy\"; port = 2222; "
    "},\n"
    "  { name = \"web2\"; method = \"ssh\"; host = \"web2.example.com\"; },\n"
    "  { name = \"v6\"; method = \"ssh\"; host = \"[::1]\"; },\n"
    "  { name = \"db7\"; method = \"local\"; },\n"
    "  { name = \"office\"; method = \"tunnel\"; host = \"10.0.0.7\"; }\n"
    ");\n"
    "groups = { web = [ \"web*\" ]; all = [ \"*\" ]; db = [ \"db7\", \"local\" ]; };\n"
    "tunnels = { allow = [ \"web*:22\", \"db?:5432\", \"web1:10.0.0.7:80\",\n"
    "  \"v6:[::1]:8080\", \"ssh:*:localhost:2[0-9]\", \"office:*\" ]; };\n";

static struct jg_config *cfg;

static void check(int ok)
{
	if (!ok)
		abort();
}

static int one_printable_line(const char *s)
{
	if (s[0] == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz-target-XXXXXX", path[64], err[512];
	FILE *f;

	(void)argc;
	(void)argv;
	jg_log_init("fuzz_target", JG_LOG_ERROR);
	check(mkdtemp(dir) != NULL);
	setenv("JUMPGATE_HOME", dir, 1); /* state_dir: never created by loading */
	snprintf(path, sizeof(path), "%s/jumpgated.conf", dir);
	check((f = fopen(path, "w")) != NULL);
	check(fputs(conf_text, f) >= 0 && fclose(f) == 0);
	if (jg_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_target: %s\n", err);
		abort();
	}
	unlink(path);
	rmdir(dir);
	return 0;
}

static void check_hop(const struct jg_hop *h)
{
	const struct jg_ssh_opts *o = &h->ssh;
	char err[512], br[300];
	char **argv = NULL;
	size_t n = 0;

	if (h->method == JG_METHOD_LOCAL)
		return;
	if (h->method != JG_METHOD_SSH && h->method != JG_METHOD_TUNNEL) {
		const struct jg_hop_opts *p = &h->o;

		check(p->user == NULL || jg_target_check_user(p->user, err, sizeof(err)) == 0);
		check(p->name == NULL || jg_target_check_name("n", p->name, err, sizeof(err)) == 0);
		check(p->container == NULL ||
		      jg_target_check_name("c", p->container, err, sizeof(err)) == 0);
		check(p->kube_ns == NULL ||
		      jg_target_check_name("n", p->kube_ns, err, sizeof(err)) == 0);
		check(h->method != JG_METHOD_SETNS ||
		      (p->setns_kind == JG_SETNS_PID ? p->pid > 0 : p->name != NULL));
		return;
	}
	check(o->host != NULL && o->host[0] != '-');
	if (strchr(o->host, ':') != NULL) {
		snprintf(br, sizeof(br), "[%s]", o->host); /* bare in the hop, bracketed in specs */
		check(jg_target_check_host(br, err, sizeof(err)) == 0);
	} else {
		check(jg_target_check_host(o->host, err, sizeof(err)) == 0);
	}
	if (h->method == JG_METHOD_TUNNEL)
		return;
	check(o->user == NULL || jg_target_check_user(o->user, err, sizeof(err)) == 0);
	if (jg_ssh_argv(o, "exec jumpgate-agent", &argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "jg_ssh_argv refused a resolved hop: %s\n", err);
		abort();
	}
	while (argv[n] != NULL)
		n++;
	check(n >= 4);
	check(strcmp(argv[n - 1], "exec jumpgate-agent") == 0);
	check(strcmp(argv[n - 2], o->host) == 0);
	check(strcmp(argv[n - 3], "--") == 0);
	jg_argv_free(argv);
}

static void resolve(const char *text)
{
	struct jg_chain *c = NULL, *again = NULL;
	char err[512] = "";
	int r;

	r = jg_target_resolve(cfg, text, &c, err, sizeof(err));
	if (r != 0) {
		check(c == NULL);
		check(r == JG_ERR_INVAL || r == JG_ERR_NOTFOUND || r == JG_ERR_NOMEM);
		check(one_printable_line(err));
		return;
	}
	check(c != NULL && c->nhops >= 1 && c->key != NULL && c->display != NULL);
	check(one_printable_line(c->key) && one_printable_line(c->display));
	for (size_t i = 0; i < c->nhops; i++)
		check_hop(&c->hops[i]);
	if (c->hops[c->nhops - 1].method != JG_METHOD_TUNNEL) {
		struct jg_chain_cmd cmd;

		if (jg_chain_argv(c->hops, c->nhops, "/agent", "true", &cmd, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "jg_chain_argv refused resolved \"%s\": %s\n", text, err);
			abort();
		}
		check(cmd.argv != NULL && cmd.argv[0] != NULL);
		jg_argv_free(cmd.argv);
	}
	/* The key is itself a target, and names the same connection. */
	err[0] = '\0';
	if (jg_target_resolve(cfg, c->key, &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "key \"%s\" of \"%s\" does not resolve: %s\n", c->key, text, err);
		abort();
	}
	if (strcmp(again->key, c->key) != 0) {
		fprintf(stderr, "key \"%s\" resolves to key \"%s\"\n", c->key, again->key);
		abort();
	}
	jg_chain_free(again);
	jg_chain_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *host = NULL, why[512] = "";
	uint16_t port;

	if (size < 1 || size > 4096)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if ((data[0] & 1) == 0) {
		resolve(text);
	} else {
		port = size >= 3 ? (uint16_t)(data[1] << 8 | data[2]) : 22;
		if ((host = strchr(text, '\n')) != NULL)
			*host++ = '\0';
		if (jg_target_tunnel_allowed(cfg, text, host, port, why, sizeof(why)) == 0)
			check(why[0] != '\0');
	}
	free(text);
	return 0;
}
