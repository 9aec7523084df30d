/* Tests for config/config.c: defaults, every validation error with the line it must
 * name, the shipped example, @include, references.  Groups, tunnels and limits are in
 * tests/unit/test_config_access.c; targets, ssh options, the pool and agents in
 * tests/unit/test_config_targets.c; config/paths.c in tests/unit/test_paths.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/parse.h"
#include "config/paths.h"
#include "relay/err.h"
#include "relay/log.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

static void check_defaults(const struct jg_config *c, const char *state_dir)
{
	char want[PATH_MAX];

	CU_ASSERT_STRING_EQUAL(c->listen_host, "127.0.0.1");
	CU_ASSERT_EQUAL(c->listen_port, 4443);
	CU_ASSERT_STRING_EQUAL(c->state_dir, state_dir);
	snprintf(want, sizeof(want), "%s/ca.pem", state_dir);
	CU_ASSERT_STRING_EQUAL(c->ca_file, want);
	snprintf(want, sizeof(want), "%s/server.pem", state_dir);
	CU_ASSERT_STRING_EQUAL(c->cert_file, want);
	snprintf(want, sizeof(want), "%s/server.key", state_dir);
	CU_ASSERT_STRING_EQUAL(c->key_file, want);
	CU_ASSERT_EQUAL(c->generate_certs, 1);
	CU_ASSERT_EQUAL(c->log_level, JG_LOG_INFO);
	CU_ASSERT_EQUAL(c->drain_timeout_ms, 10000);
	CU_ASSERT_EQUAL(c->handshake_timeout_ms, 10000);
	CU_ASSERT_EQUAL(c->idle_timeout_ms, 300000);
	CU_ASSERT_EQUAL(c->max_streams, 256);
	CU_ASSERT_EQUAL(c->stream_window, 1048576);
	CU_ASSERT_EQUAL(c->stream_window_max, 8388608);
	CU_ASSERT_EQUAL(c->window_budget, 33554432);
	CU_ASSERT_PTR_NULL(c->agent_path);
	CU_ASSERT_EQUAL_FATAL(c->ntargets, 1);
	CU_ASSERT_STRING_EQUAL(c->targets[0].name, "local");
	CU_ASSERT_EQUAL(c->targets[0].hop.method, JG_METHOD_LOCAL);
	CU_ASSERT_EQUAL(c->pool_idle_timeout_ms, 300000);
	CU_ASSERT_EQUAL(c->connect_timeout_ms, 15000);
	CU_ASSERT_EQUAL(c->keepalive_interval_ms, 15000);
	CU_ASSERT_EQUAL(c->child_nofile, 1024);
	CU_ASSERT_EQUAL(c->nagent_paths, 0);
	CU_ASSERT_PTR_NULL(c->agent_paths);
	CU_ASSERT_EQUAL(c->ssh_defaults.method, JG_METHOD_SSH);
	CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.host);
	CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.user);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.port, 0);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.check_host_keys, JG_HOSTKEYS_ENFORCE);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.connect_timeout_s, 10);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.keepalive_count, 3);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.compression, 0);
	CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.ssh_args);
	CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.password);
	CU_ASSERT_EQUAL(c->ssh_defaults.ssh.raw, 0);
	/* ciphers "auto": AES-GCM first exactly when this CPU has AES instructions. */
	if (jg_ssh_ciphers_auto() == NULL) {
		CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.ciphers);
	} else {
		CU_ASSERT_STRING_EQUAL(c->ssh_defaults.ssh.ciphers,
				       "^aes128-gcm@openssh.com,aes256-gcm@openssh.com");
	}
}

/* A reload's old configuration is freed by its last holder, not before (gateway/main.c,
 * sitelink.c); ASan (build-asan) says whether it was freed once and only once. */
static void test_refs_last_unref_frees(void)
{
	char path[32];
	struct jg_config *c = tu_load_ok("# nothing\n", path);
	const struct jg_config *held;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->refs, 1);
	held = jg_config_ref(c);
	CU_ASSERT_PTR_EQUAL(held, c);
	CU_ASSERT_EQUAL(jg_config_ref(c)->refs, 3);
	jg_config_unref(c);
	jg_config_unref(c);
	CU_ASSERT_EQUAL(held->refs, 1); /* still there for its last holder */
	CU_ASSERT_STRING_EQUAL(held->path, path);
	jg_config_unref(held);
	jg_config_unref(NULL);
	unlink(path);
}

static void test_default(void)
{
	char *saved = tu_swap_env("JUMPGATE_HOME", "/tmp/jg-test-home");
	char err[256], path[32];
	struct jg_config *c = NULL;

	CU_ASSERT_EQUAL(jg_config_default(&c, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->path);
	check_defaults(c, "/tmp/jg-test-home");
	jg_config_free(c);

	/* An empty file is the built-in default too, except for its path. */
	c = tu_load_ok("# nothing\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->path, path);
	check_defaults(c, "/tmp/jg-test-home");
	jg_config_free(c);
	unlink(path);
	tu_restore_env("JUMPGATE_HOME", saved);
}

static void test_full(void)
{
	char path[32];
	struct jg_config *c;

	c = tu_load_ok("listen = \"[::1]:8443\";\n"
		       "state_dir = \"/srv/jg\";\n"
		       "log_level = \"debug\";\n"
		       "drain_timeout = 2.5;\n"
		       "handshake_timeout = 3;\n"
		       "idle_timeout = 0.0001;\n"
		       "max_streams = 10000;\n"
		       "stream_window = 65535;\n"
		       "stream_window_max = 0;\n"
		       "window_budget = 2147483647;\n"
		       "agent_path = \"/opt/jg/agent\";\n"
		       "targets = (\n"
		       "  { name = \"web1\"; method = \"local\"; },\n"
		       "  { name = \"db_2.x-y\"; method = \"local\"; }\n"
		       ");\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->listen_host, "::1");
	CU_ASSERT_EQUAL(c->listen_port, 8443);
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/srv/jg");
	CU_ASSERT_STRING_EQUAL(c->ca_file, "/srv/jg/ca.pem");
	CU_ASSERT_STRING_EQUAL(c->key_file, "/srv/jg/server.key");
	CU_ASSERT_EQUAL(c->generate_certs, 1);
	CU_ASSERT_EQUAL(c->log_level, JG_LOG_DEBUG);
	CU_ASSERT_EQUAL(c->drain_timeout_ms, 2500);
	CU_ASSERT_EQUAL(c->handshake_timeout_ms, 3000);
	CU_ASSERT_EQUAL(c->idle_timeout_ms, 1); /* rounded up, never 0 */
	CU_ASSERT_EQUAL(c->max_streams, 10000);
	CU_ASSERT_EQUAL(c->stream_window, 65535);
	CU_ASSERT_EQUAL(c->stream_window_max, 0);
	CU_ASSERT_EQUAL(c->window_budget, 2147483647);
	CU_ASSERT_STRING_EQUAL(c->agent_path, "/opt/jg/agent");
	CU_ASSERT_EQUAL_FATAL(c->ntargets, 3);
	CU_ASSERT_STRING_EQUAL(c->targets[0].name, "web1");
	CU_ASSERT_STRING_EQUAL(c->targets[1].name, "db_2.x-y");
	CU_ASSERT_STRING_EQUAL(c->targets[2].name, "local");

	/* find_target: exact names only. */
	CU_ASSERT_PTR_EQUAL(jg_config_find_target(c, "web1"), &c->targets[0]);
	CU_ASSERT_PTR_EQUAL(jg_config_find_target(c, "local"), &c->targets[2]);
	CU_ASSERT_EQUAL(jg_config_find_target(c, "db_2.x-y")->hop.method, JG_METHOD_LOCAL);
	CU_ASSERT_PTR_NULL(jg_config_find_target(c, "web"));
	CU_ASSERT_PTR_NULL(jg_config_find_target(c, "WEB1"));
	CU_ASSERT_PTR_NULL(jg_config_find_target(c, ""));
	jg_config_free(c);
	unlink(path);

	/* "local" named in the file is not added twice; "localhost" is a name. */
	c = tu_load_ok("listen = \"localhost:1\";\n"
		       "targets = ( { name = \"local\"; method = \"local\"; } );\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->listen_host, "localhost");
	CU_ASSERT_EQUAL(c->listen_port, 1);
	CU_ASSERT_EQUAL(c->ntargets, 1);
	jg_config_free(c);
	unlink(path);

	/* An empty list and a wildcard address are fine. */
	c = tu_load_ok("listen = \"0.0.0.0:65535\";\ntargets = ();\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->listen_port, 65535);
	CU_ASSERT_EQUAL(c->ntargets, 1);
	jg_config_free(c);
	unlink(path);
}

static void test_listen_errors(void)
{
	tu_expect_error("log_level = \"info\";\nlisten = \"127.0.0.1:70000\";\n", JG_ERR_CONFIG, 2,
			"listen: port 70000 out of range 1-65535");
	tu_expect_error("listen = \"127.0.0.1:0\";\n", JG_ERR_CONFIG, 1,
			"listen: port 0 out of range 1-65535");
	tu_expect_error("listen = \"127.0.0.1:99999999999999999999\";\n", JG_ERR_CONFIG, 1,
			"listen: port 99999999999999999999 out of range 1-65535");
	tu_expect_error("\n\nlisten = \"127.0.0.1\";\n", JG_ERR_CONFIG, 3,
			"listen: \"127.0.0.1\" is not host:port");
	tu_expect_error("listen = \":4443\";\n", JG_ERR_CONFIG, 1,
			"listen: \":4443\" is not host:port");
	tu_expect_error("listen = \"[::1]4443\";\n", JG_ERR_CONFIG, 1,
			"listen: \"[::1]4443\" is not host:port");
	tu_expect_error("listen = \"127.0.0.1:\";\n", JG_ERR_CONFIG, 1,
			"listen: \"127.0.0.1:\": port missing");
	tu_expect_error("listen = \"127.0.0.1:http\";\n", JG_ERR_CONFIG, 1,
			"listen: port \"http\" is not a number");
	tu_expect_error("listen = \"::1:4443\";\n", JG_ERR_CONFIG, 1,
			"listen: \"::1:4443\": an IPv6 address goes in brackets");
	tu_expect_error("listen = \"example.com:4443\";\n", JG_ERR_CONFIG, 1,
			"listen: host \"example.com\" must be a numeric IPv4 address or localhost");
	tu_expect_error("listen = \"[127.0.0.1]:4443\";\n", JG_ERR_CONFIG, 1,
			"listen: host \"127.0.0.1\" must be a numeric IPv6 address");
	tu_expect_error("listen = 4443;\n", JG_ERR_CONFIG, 1,
			"listen: must be a string, not an integer");
}

static void test_key_errors(void)
{
	/* Typos must not pass silently, at the top level or inside a group. */
	tu_expect_error("max_streams = 5;\n\nidle_timout = 3.0;\n", JG_ERR_CONFIG, 3,
			"idle_timout: unknown key");
	tu_expect_error("tls = {\n  ca = \"a\";\n  certs = \"b\";\n};\n", JG_ERR_CONFIG, 3,
			"tls.certs: unknown key");
	tu_expect_error(
	    "targets = (\n  { name = \"a\";\n    user = \"x\"; method = \"local\"; }\n);\n",
	    JG_ERR_CONFIG, 3, "targets[0].user: unknown key");
	/* Wrong types. */
	tu_expect_error("max_streams = \"256\";\n", JG_ERR_CONFIG, 1,
			"max_streams: must be an integer, not a string");
	tu_expect_error("stream_window = 262144.0;\n", JG_ERR_CONFIG, 1,
			"stream_window: must be an integer, not a float");
	tu_expect_error("stream_window_max = 268435457;\n", JG_ERR_CONFIG, 1,
			"stream_window_max: 268435457 out of range 0-268435456");
	tu_expect_error("window_budget = -1;\n", JG_ERR_CONFIG, 1,
			"window_budget: -1 out of range 0-2147483647");
	tu_expect_error("drain_timeout = \"10\";\n", JG_ERR_CONFIG, 1,
			"drain_timeout: must be a number of seconds, not a string");
	tu_expect_error("handshake_timeout = true;\n", JG_ERR_CONFIG, 1,
			"handshake_timeout: must be a number of seconds, not a boolean");
	tu_expect_error("tls = \"/etc/ca.pem\";\n", JG_ERR_CONFIG, 1, "tls: must be a group");
	tu_expect_error("state_dir = [ \"a\" ];\n", JG_ERR_CONFIG, 1,
			"state_dir: must be a string, not an array");
	tu_expect_error("agent_path = \"\";\n", JG_ERR_CONFIG, 1, "agent_path: must not be empty");
	tu_expect_error("targets = { name = \"a\"; };\n", JG_ERR_CONFIG, 1,
			"targets: must be a list");
	tu_expect_error("targets = ( \"web1\" );\n", JG_ERR_CONFIG, 1,
			"targets[0]: must be a group");
	/* Values out of range. */
	tu_expect_error("log_level = \"verbose\";\n", JG_ERR_CONFIG, 1,
			"log_level: \"verbose\" is not one of error, warn, info, debug");
	tu_expect_error("\nidle_timeout = 0;\n", JG_ERR_CONFIG, 2,
			"idle_timeout: 0 seconds out of range: must be > 0 and <= 3600");
	tu_expect_error("drain_timeout = 3600.5;\n", JG_ERR_CONFIG, 1,
			"drain_timeout: 3600.5 seconds out of range");
	tu_expect_error("handshake_timeout = -1.0;\n", JG_ERR_CONFIG, 1,
			"handshake_timeout: -1 seconds out of range");
	tu_expect_error("max_streams = 0;\n", JG_ERR_CONFIG, 1,
			"max_streams: 0 out of range 1-10000");
	tu_expect_error("max_streams = 10001;\n", JG_ERR_CONFIG, 1,
			"max_streams: 10001 out of range 1-10000");
	tu_expect_error("stream_window = 65534;\n", JG_ERR_CONFIG, 1,
			"stream_window: 65534 out of range 65535-16777216");
	tu_expect_error("stream_window = 16777217L;\n", JG_ERR_CONFIG, 1,
			"stream_window: 16777217 out of range 65535-16777216");
}

static void test_tls(void)
{
	char dir[] = "/tmp/jgconf-dir-XXXXXX", real[PATH_MAX], path[PATH_MAX], want[PATH_MAX * 2];
	const char *text = "tls = {\n"
			   "  ca = \"certs/ca.pem\";\n"
			   "  cert = \"/etc/jg/server.pem\";\n"
			   "  key = \"server.key\";\n"
			   "};\n"
			   "state_dir = \"state\";\n";
	char err[512];
	struct jg_config *c = NULL;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(dir, real));
	snprintf(path, sizeof(path), "%s/jumpgated.conf", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL(jg_config_load(path, &c, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Relative to the file's directory, absolute ones kept, nothing generated. */
	snprintf(want, sizeof(want), "%s/certs/ca.pem", real);
	CU_ASSERT_STRING_EQUAL(c->ca_file, want);
	CU_ASSERT_STRING_EQUAL(c->cert_file, "/etc/jg/server.pem");
	snprintf(want, sizeof(want), "%s/server.key", real);
	CU_ASSERT_STRING_EQUAL(c->key_file, want);
	snprintf(want, sizeof(want), "%s/state", real);
	CU_ASSERT_STRING_EQUAL(c->state_dir, want);
	CU_ASSERT_EQUAL(c->generate_certs, 0);
	jg_config_free(c);
	unlink(path);
	rmdir(dir);

	/* An empty group is "none given": generated in state_dir. */
	c = tu_load_ok("state_dir = \"/srv/x\";\ntls = { };\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->generate_certs, 1);
	CU_ASSERT_STRING_EQUAL(c->cert_file, "/srv/x/server.pem");
	jg_config_free(c);
	unlink(path);

	/* Half given: the group's line, and what is missing. */
	tu_expect_error("\ntls = {\n  ca = \"ca.pem\";\n  cert = \"s.pem\";\n};\n", JG_ERR_CONFIG,
			2, "tls: ca, cert and key go together: key missing");
	tu_expect_error("tls = {\n  key = \"k.pem\";\n};\n", JG_ERR_CONFIG, 1,
			"tls: ca, cert and key go together: ca missing");
	tu_expect_error("tls = {\n  ca = \"\";\n};\n", JG_ERR_CONFIG, 2,
			"tls.ca: must not be empty");
}

static void test_syntax_and_io(void)
{
	char err[512], path[32];
	struct jg_config *c = NULL;

	tu_expect_error("listen = \"127.0.0.1:4443\";\nmax_streams = 3;\nlog_level = ;\n",
			JG_ERR_CONFIG, 3, "syntax error");
	tu_expect_error("max_streams = 1;\nmax_streams = 2;\n", JG_ERR_CONFIG, 2,
			"duplicate setting name");

	CU_ASSERT_EQUAL(jg_config_load("/nonexistent/jumpgated.conf", &c, err, sizeof(err)),
			JG_ERR_IO);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/jumpgated.conf: cannot read: No such file or "
				    "directory");
	CU_ASSERT_EQUAL(jg_config_load("/tmp", &c, err, sizeof(err)), JG_ERR_IO);
	CU_ASSERT_STRING_EQUAL(err, "/tmp: cannot read: Is a directory");

	/* A NULL or zero-length error buffer is allowed. */
	tu_write_tmp(path, "max_streams = 0;\n");
	CU_ASSERT_EQUAL(jg_config_load(path, &c, NULL, 0), JG_ERR_CONFIG);
	unlink(path);
}

/* Errors inside an @include'd file name that file, with its full path. */
static void test_include(void)
{
	char dir[] = "/tmp/jgconf-inc-XXXXXX", real[PATH_MAX], main_conf[PATH_MAX], inc[PATH_MAX],
	     want[PATH_MAX * 2], err[512];
	struct jg_config *c = NULL;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(dir, real));
	snprintf(main_conf, sizeof(main_conf), "%s/main.conf", dir);
	snprintf(inc, sizeof(inc), "%s/inc.conf", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(main_conf, "w"));
	fputs("max_streams = 5;\n@include \"inc.conf\"\n", f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(inc, "w"));
	fputs("\n\nlisten = \"x\";\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(jg_config_load(main_conf, &c, err, sizeof(err)), JG_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s/inc.conf:3: listen: \"x\" is not host:port", real);
	CU_ASSERT_NSTRING_EQUAL(err, want, strlen(want));

	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(inc, "w"));
	fputs("\nlisten = ;\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(jg_config_load(main_conf, &c, err, sizeof(err)), JG_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s/inc.conf:2: syntax error", real);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(c);
	unlink(inc);
	unlink(main_conf);
	rmdir(dir);
}

/* The example's commented-out settings ("#key = ...", "#\t..."; prose is
 * "# ...") must parse too once enabled: they are what operators copy. */
static void test_example_uncommented(const char *example)
{
	char *home = tu_swap_env("HOME", "/home/gw");
	char line[1024], out[32], err[512];
	struct jg_config *c = NULL;
	const struct jg_target *t;
	FILE *in, *o;
	int fd, enabled = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in = fopen(example, "r"));
	strcpy(out, "/tmp/jgconf-XXXXXX");
	CU_ASSERT_FATAL((fd = mkstemp(out)) >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = fdopen(fd, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		char *hash = line + strspn(line, "\t");

		if (hash[0] == '#' && hash[1] != ' ' && hash[1] != '\n' && hash[1] != '#') {
			memmove(hash, hash + 1, strlen(hash));
			enabled++;
		}
		fputs(line, o);
	}
	fclose(in);
	fclose(o);
	if (jg_config_load(out, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT(enabled > 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->nagent_paths, 1);
	CU_ASSERT_STRING_EQUAL(c->ssh_defaults.ssh.user, "deploy");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "web1"));
	CU_ASSERT_EQUAL(t->hop.method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(t->hop.ssh.host, "127.0.0.2");
	CU_ASSERT_EQUAL(t->hop.ssh.port, 2222);
	CU_ASSERT_STRING_EQUAL(t->hop.ssh.identity_file, "/home/gw/.ssh/id_ed25519");
	CU_ASSERT_EQUAL(t->hop.ssh.check_host_keys, JG_HOSTKEYS_ACCEPT);
	CU_ASSERT_PTR_NOT_NULL(jg_config_find_group(c, "web"));
	jg_config_free(c);
	unlink(out);
	tu_restore_env("HOME", home);
}

/* The shipped example must parse and must say what the defaults are. */
static void test_example(void)
{
	char here[PATH_MAX], path[PATH_MAX * 2], err[512];
	const char *dirs[3];
	struct jg_config *c = NULL, *d = NULL;
	char *slash;
	size_t n = 0;

	/* "srcdir" is set by make check; __FILE__ finds the tree when run by hand. */
	if (getenv("srcdir") != NULL)
		dirs[n++] = getenv("srcdir");
	snprintf(here, sizeof(here), "%s", __FILE__);
	if ((slash = strstr(here, "tests/unit/test_config.c")) != NULL) {
		*slash = '\0';
		dirs[n++] = here[0] != '\0' ? here : ".";
	}
	dirs[n++] = ".";
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/config/jumpgated.conf.example", dirs[i]);
		if (access(path, R_OK) == 0)
			break;
	}
	if (jg_config_load(path, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(jg_config_default(&d, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(c->listen_host, d->listen_host);
	CU_ASSERT_EQUAL(c->listen_port, d->listen_port);
	CU_ASSERT_STRING_EQUAL(c->state_dir, d->state_dir);
	CU_ASSERT_STRING_EQUAL(c->ca_file, d->ca_file);
	CU_ASSERT_EQUAL(c->generate_certs, d->generate_certs);
	CU_ASSERT_EQUAL(c->log_level, d->log_level);
	CU_ASSERT_EQUAL(c->drain_timeout_ms, d->drain_timeout_ms);
	CU_ASSERT_EQUAL(c->handshake_timeout_ms, d->handshake_timeout_ms);
	CU_ASSERT_EQUAL(c->idle_timeout_ms, d->idle_timeout_ms);
	CU_ASSERT_EQUAL(c->max_streams, d->max_streams);
	CU_ASSERT_EQUAL(c->stream_window, d->stream_window);
	CU_ASSERT_PTR_NULL(c->agent_path);
	CU_ASSERT_EQUAL(c->ntargets, d->ntargets);
	CU_ASSERT_EQUAL(c->pool_idle_timeout_ms, d->pool_idle_timeout_ms);
	CU_ASSERT_EQUAL(c->connect_timeout_ms, d->connect_timeout_ms);
	CU_ASSERT_EQUAL(c->keepalive_interval_ms, d->keepalive_interval_ms);
	CU_ASSERT_EQUAL(c->child_nofile, d->child_nofile);
	CU_ASSERT_EQUAL(c->nagent_paths, d->nagent_paths);
	CU_ASSERT_EQUAL(c->ngroups, d->ngroups);
	/* ciphers is a string (its default depends on the CPU): equal text, then the rest
	 * byte for byte. */
	{
		char *cc = c->ssh_defaults.ssh.ciphers, *dc = d->ssh_defaults.ssh.ciphers;

		CU_ASSERT_EQUAL(cc == NULL, dc == NULL);
		if (cc != NULL && dc != NULL) {
			CU_ASSERT_STRING_EQUAL(cc, dc);
		}
		d->ssh_defaults.ssh.ciphers = cc;
		CU_ASSERT_EQUAL(memcmp(&c->ssh_defaults, &d->ssh_defaults, sizeof(d->ssh_defaults)),
				0);
		d->ssh_defaults.ssh.ciphers = dc;
	}
	jg_config_free(c);
	jg_config_free(d);
	test_example_uncommented(path);
}

/* The audit path TEXT loads to ("(stderr)" for none), for the asserts below. */
static void audit_of(const char *text, char *buf, size_t len)
{
	char path[64];
	struct jg_config *c = tu_load_ok(text, path);

	snprintf(buf, len, "%s", c->audit_path != NULL ? c->audit_path : "(stderr)");
	jg_config_free(c);
	unlink(path);
}

/* No `audit` key: a file, never stderr; "stderr" and "-" keep stderr.  metrics_listen
 * reads as listen does, with its own name in the errors. */
static void test_audit_default_and_metrics_listen(void)
{
	char *logs = tu_swap_env("LOGS_DIRECTORY", NULL);
	char path[64], buf[256];
	struct jg_config *c;

	audit_of("state_dir = \"/srv/st\";\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "/srv/st/audit.log");
	audit_of("state_dir = \"/var/lib/jumpgate\";\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "/var/log/jumpgate/audit.log");
	setenv("LOGS_DIRECTORY", "/var/log/jg-unit:/var/log/other", 1);
	audit_of("state_dir = \"/srv/st\";\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "/var/log/jg-unit/audit.log");
	CU_ASSERT_EQUAL(jg_paths_audit_default("/srv/st", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/var/log/jg-unit/audit.log");
	unsetenv("LOGS_DIRECTORY");
	audit_of("state_dir = \"/srv/st\";\naudit = \"stderr\";\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "(stderr)");
	audit_of("state_dir = \"/srv/st\";\naudit = \"-\";\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "(stderr)");
	c = tu_load_ok("state_dir = \"/srv/st\";\nmetrics_listen = \"[::1]:9105\";\n", path);
	CU_ASSERT_STRING_EQUAL(c->metrics_host, "::1");
	CU_ASSERT_EQUAL(c->metrics_port, 9105);
	jg_config_free(c);
	unlink(path);
	tu_expect_error("\nmetrics_listen = \"127.0.0.1\";\n", JG_ERR_CONFIG, 2,
			"metrics_listen: \"127.0.0.1\" is not host:port");
	tu_expect_error("metrics_listen = \"0.0.0.0:0\";\n", JG_ERR_CONFIG, 1,
			"metrics_listen: port 0 out of range 1-65535");
	tu_restore_env("LOGS_DIRECTORY", logs);
}

int jg_test_register_config(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	if (s == NULL || CU_add_test(s, "built-in default", test_default) == NULL ||
	    CU_add_test(s, "every key set", test_full) == NULL ||
	    CU_add_test(s, "listen errors", test_listen_errors) == NULL ||
	    CU_add_test(s, "audit default, metrics_listen",
			test_audit_default_and_metrics_listen) == NULL ||
	    CU_add_test(s, "unknown keys, types, ranges", test_key_errors) == NULL ||
	    CU_add_test(s, "tls paths", test_tls) == NULL ||
	    CU_add_test(s, "syntax and I/O errors", test_syntax_and_io) == NULL ||
	    CU_add_test(s, "@include", test_include) == NULL ||
	    CU_add_test(s, "example file", test_example) == NULL ||
	    CU_add_test(s, "references: the last unref frees", test_refs_last_unref_frees) == NULL)
		return -1;
	return 0;
}
