/* Tests for config/target.c: every form of the target grammar resolves to
 * the expected hop, pool key and display name, and every injection attempt
 * is refused, before any argv exists, with a reason that names the part; the
 * tunnels policy (jg_target_tunnel_allowed).  Chains of several hops, their
 * canonical form and accounts are in tests/unit/test_chain.c; both resolve
 * against tu_target_cfg (tests/unit/testutil.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

static void test_inventory(void)
{
	struct jg_chain *c;
	const struct jg_ssh_opts *o;

	c = tu_resolve_ok("web1", "web1", "web1 (ssh deploy@127.0.0.2:2222)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	o = &c->hops[0].ssh;
	CU_ASSERT_STRING_EQUAL(o->host, "127.0.0.2");
	CU_ASSERT_STRING_EQUAL(o->user, "deploy");
	CU_ASSERT_EQUAL(o->port, 2222);
	tu_check_ssh_defaults(o); /* inherited by the inventory entry */
	CU_ASSERT_PTR_NOT_EQUAL(o->host,
				jg_config_find_target(tu_target_cfg, "web1")->hop.ssh.host);
	jg_chain_free(c);

	c = tu_resolve_ok("v6", "v6", "v6 (ssh ops@[::1])");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "::1");
	CU_ASSERT_EQUAL(c->hops[0].ssh.port, 0);
	jg_chain_free(c);

	c = tu_resolve_ok("local", "local", "local");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	CU_ASSERT_PTR_NULL(c->hops[0].ssh.host);
	jg_chain_free(c);

	c = tu_resolve_ok("here", "here", "here (local)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	jg_chain_free(c);

	/* An inventory name wins over a host of the same name. */
	c = tu_resolve_ok("db7", "db7", "db7 (local)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	jg_chain_free(c);
	/* Names are exact: another case is a host, not the entry. */
	c = tu_resolve_ok("WEB1", "ssh:WEB1", "WEB1");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	jg_chain_free(c);
}

static void test_ssh_specs(void)
{
	static const struct {
		const char *text, *key, *host, *user;
		unsigned port;
	} cases[] = {
	    {"ssh:h", "ssh:h", "h", "ops", 0},
	    {"ssh:deploy@h", "ssh:deploy@h", "h", "deploy", 0},
	    {"ssh:h:2222", "ssh:h:2222", "h", "ops", 2222},
	    {"ssh:deploy@127.0.0.2:2222", "ssh:deploy@127.0.0.2:2222", "127.0.0.2", "deploy", 2222},
	    {"ssh:_svc.x-1@db-7.example.com.", "ssh:_svc.x-1@db-7.example.com.",
	     "db-7.example.com.", "_svc.x-1", 0},
	    {"ssh:10.0.0.5", "ssh:10.0.0.5", "10.0.0.5", "ops", 0},
	    {"ssh:h:1", "ssh:h:1", "h", "ops", 1},
	    {"ssh:h:65535", "ssh:h:65535", "h", "ops", 65535},
	    {"ssh:h:0022", "ssh:h:22", "h", "ops",
	     22}, /* one connection per port, however written */
	    /* IPv6: in brackets in the spec and the key, bare for ssh. */
	    {"ssh:[::1]", "ssh:[::1]", "::1", "ops", 0},
	    {"ssh:[::1]:22", "ssh:[::1]:22", "::1", "ops", 22},
	    {"ssh:u@[2001:db8::5]:2222", "ssh:u@[2001:db8::5]:2222", "2001:db8::5", "u", 2222},
	    {"ssh:[::ffff:127.0.0.1]", "ssh:[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "ops", 0},
	    {"ssh:[FE80::1]", "ssh:[FE80::1]", "FE80::1", "ops", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_chain *c = tu_resolve_ok(cases[i].text, cases[i].key, cases[i].text);
		const struct jg_ssh_opts *o = &c->hops[0].ssh;

		CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
		CU_ASSERT_STRING_EQUAL(o->host, cases[i].host);
		CU_ASSERT_STRING_EQUAL(o->user, cases[i].user);
		CU_ASSERT_EQUAL(o->port, cases[i].port);
		tu_check_ssh_defaults(o);
		jg_chain_free(c);
	}
}

/* A bare name not in the inventory means ssh to that host, as ssh would. */
static void test_bare_host(void)
{
	struct jg_chain *c;

	c = tu_resolve_ok("db8", "ssh:db8", "db8");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "db8");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.user, "ops");
	tu_check_ssh_defaults(&c->hops[0].ssh);
	jg_chain_free(c);

	c = tu_resolve_ok("192.168.1.20", "ssh:192.168.1.20", "192.168.1.20");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "192.168.1.20");
	jg_chain_free(c);

	c = tu_resolve_ok("[::1]", "ssh:[::1]", "[::1]");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "::1");
	jg_chain_free(c);

	/* A bare spec is a host only: user and port need "ssh:". */
	tu_resolve_err("u@db8", JG_ERR_INVAL, "host \"u@db8\": character '@' is not allowed");
	tu_resolve_err("[::1]:22", JG_ERR_INVAL,
		       "host \"[::1]:22\": an IPv6 address in brackets must end with ']'");
	tu_resolve_err("::1", JG_ERR_INVAL,
		       "host \"::1\": an IPv6 address goes in brackets, as in \"[::1]\"");
}

/* The attempts of the issue, and their cousins, through every form. */
static void test_injection(void)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"-oProxyCommand=x",
	     "host \"-oProxyCommand=x\": must not start with '-' (it would be read as an option)"},
	    {"ssh:-oProxyCommand=x",
	     "host \"-oProxyCommand=x\": must not start with '-' (it would be read as an option)"},
	    {"ssh:-oProxyCommand=x@h",
	     "user \"-oProxyCommand=x\": must not start with '-' (it would be read as an option)"},
	    {"ssh:u@-p", "host \"-p\": must not start with '-' (it would be read as an option)"},
	    {"ssh:a b@h", "user \"a b\": whitespace is not allowed"},
	    {"ssh:x;y@h", "user \"x;y\": character ';' is not allowed"},
	    {"ssh:a\tb@h", "user \"a\\x09b\": whitespace is not allowed"},
	    {"a b", "host \"a b\": whitespace is not allowed"},
	    {"x;y", "host \"x;y\": character ';' is not allowed"},
	    {"ssh:x;y", "host \"x;y\": character ';' is not allowed"},
	    {"$(id)", "host \"$(id)\": character '$' is not allowed"},
	    {"ssh:$(id)@h", "user \"$(id)\": character '$' is not allowed"},
	    {"`id`", "host \"`id`\": character '`' is not allowed"},
	    {"a'b", "host \"a'b\": character \"'\" is not allowed"},
	    {"a\"b", "host \"a\\\"b\": character '\"' is not allowed"},
	    {"a\\b", "host \"a\\\\b\": character '\\' is not allowed"},
	    {"host\n", "host \"host\\x0a\": control character \\x0a is not allowed"},
	    {"ssh:h\r", "host \"h\\x0d\": control character \\x0d is not allowed"},
	    {"ssh:u\x1b[2J@h", "user \"u\\x1b[2J\": control character \\x1b is not allowed"},
	    {"h\x7f", "host \"h\\x7f\": control character \\x7f is not allowed"},
	    {"h\xc3\xa9", "host \"h\\xc3\\xa9\": non-ASCII byte \\xc3 is not allowed"},
	    {"ssh:\xc3\xa9@h", "user \"\\xc3\\xa9\": non-ASCII byte \\xc3 is not allowed"},
	    {"a|b", "host \"a|b\": character '|' is not allowed"},
	    {"a&b", "host \"a&b\": character '&' is not allowed"},
	    {"a>b", "host \"a>b\": character '>' is not allowed"},
	    {"a*", "host \"a*\": character '*' is not allowed"},
	    {"~root", "host \"~root\": character '~' is not allowed"},
	    {"ssh:u@h@x", "host \"h@x\": character '@' is not allowed"},
	    {"ssh:h:22:33", "host \"h:22:33\": character ':' is not allowed"},
	    {"ssh:.h", "host \".h\": must start with a letter or a digit"},
	    {"_h", "host \"_h\": must start with a letter or a digit"},
	    {"ssh:.u@h", "user \".u\": must start with a letter, a digit or '_'"},
	    {"ssh:", "host \"\": must not be empty"},
	    {"ssh:@h", "user \"\": must not be empty"},
	    {"ssh:u@", "host \"\": must not be empty"},
	    {"ssh:u@:22", "host \"\": must not be empty"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tu_resolve_err(cases[i].text, JG_ERR_INVAL, cases[i].why);
}

static void test_ports(void)
{
	tu_resolve_err("ssh:h:0", JG_ERR_INVAL, "port \"0\": out of range 1-65535");
	tu_resolve_err("ssh:h:65536", JG_ERR_INVAL, "port \"65536\": out of range 1-65535");
	tu_resolve_err("ssh:h:99999999999999999999999", JG_ERR_INVAL,
		       "port \"99999999999999999999999\": out of range 1-65535");
	tu_resolve_err("ssh:h:", JG_ERR_INVAL, "port \"\": must not be empty");
	tu_resolve_err("ssh:h:+22", JG_ERR_INVAL, "port \"+22\": must be a number 1-65535");
	tu_resolve_err("ssh:h:-1", JG_ERR_INVAL, "port \"-1\": must be a number 1-65535");
	tu_resolve_err("ssh:h:22 ", JG_ERR_INVAL, "port \"22 \": must be a number 1-65535");
	tu_resolve_err("ssh:h:0x16", JG_ERR_INVAL, "port \"0x16\": must be a number 1-65535");
	tu_resolve_err("ssh:[::1]:", JG_ERR_INVAL, "port \"\": must not be empty");
	tu_resolve_err("ssh:[::1]:0", JG_ERR_INVAL, "port \"0\": out of range 1-65535");
}

static void test_ipv6(void)
{
	tu_resolve_err("ssh:::1", JG_ERR_INVAL,
		       "host \"::1\": an IPv6 address goes in brackets, as in \"[::1]\"");
	tu_resolve_err("ssh:u@2001:db8::5", JG_ERR_INVAL,
		       "host \"2001:db8::5\": an IPv6 address goes in brackets, as in \"[::1]\"");
	tu_resolve_err("ssh:[::1", JG_ERR_INVAL,
		       "host \"[::1\": an IPv6 address in brackets must end with ']'");
	tu_resolve_err("ssh:[", JG_ERR_INVAL,
		       "host \"[\": an IPv6 address in brackets must end with ']'");
	tu_resolve_err("ssh:[::1]x", JG_ERR_INVAL,
		       "host \"[::1]x\": an IPv6 address in brackets must end with ']'");
	tu_resolve_err("ssh:[fe80::1%eth0]", JG_ERR_INVAL,
		       "host \"[fe80::1%eth0]\": character '%' is not allowed");
	tu_resolve_err("ssh:[::g]", JG_ERR_INVAL, "host \"[::g]\": character 'g' is not allowed");
	tu_resolve_err("ssh:[-1::]", JG_ERR_INVAL, "host \"[-1::]\": character '-' is not allowed");
	tu_resolve_err("ssh:[1.2.3.4]", JG_ERR_INVAL, "host \"[1.2.3.4]\": not an IPv6 address");
	tu_resolve_err("ssh:[]", JG_ERR_INVAL, "host \"[]\": not an IPv6 address");
	tu_resolve_err("ssh:[1:2:3:4:5:6:7:8:9]", JG_ERR_INVAL,
		       "host \"[1:2:3:4:5:6:7:8:9]\": not an IPv6 address");
	tu_resolve_err(
	    "ssh:[0000:0000:0000:0000:0000:ffff:127.000.000.001]", JG_ERR_INVAL,
	    "host \"[0000:0000:0000:0000:0000:ffff:127.000.000.001]\": not an IPv6 address");
}

static void test_methods_and_chains(void)
{
	tu_resolve_err("foo:bar", JG_ERR_NOTFOUND,
		       "unknown method \"foo\" "
		       "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	tu_resolve_err("SSH:h", JG_ERR_NOTFOUND,
		       "unknown method \"SSH\" "
		       "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	tu_resolve_err("tunnel:x", JG_ERR_NOTFOUND,
		       "unknown method \"tunnel\" "
		       "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	/* A "method" that is not a word is a host, checked as one. */
	tu_resolve_err("a;b:c", JG_ERR_INVAL, "host \"a;b:c\": character ';' is not allowed");
	tu_resolve_err("local:x", JG_ERR_INVAL, "target \"local:x\": \"local\" takes no options");
	tu_resolve_err("ssh:h/local", JG_ERR_INVAL,
		       "\"local\" can only be the first hop of a chain");
	tu_resolve_err("a/b/c/d/e/f/g/h/i", JG_ERR_INVAL,
		       "target \"a/b/c/d/e/f/g/h/i\": a chain has at most 8 hops");
	tu_resolve_err("web1/sudo:-u", JG_ERR_INVAL,
		       "user \"-u\": must not start with '-' (it would be read as an option)");
	tu_resolve_err("web1/docker:a b", JG_ERR_INVAL,
		       "container \"a b\": whitespace is not allowed");
	tu_resolve_err("local/kubectl:ns:pod;x", JG_ERR_INVAL,
		       "pod \"pod;x\": character ';' is not allowed");
	tu_resolve_err("local/setns:pid:0", JG_ERR_INVAL,
		       "pid \"0\": must be a process ID (1-4194304)");
	tu_resolve_err("local/setns:foo:x", JG_ERR_INVAL,
		       "setns \"foo:x\": expected a PID, pid:N, docker:NAME, lxc:NAME or "
		       "machinectl:NAME");
	/* The first hop is checked first: its own fault is the better reason. */
	tu_resolve_err("/", JG_ERR_INVAL, "empty target");
	tu_resolve_err("-oProxyCommand=x/y", JG_ERR_INVAL,
		       "host \"-oProxyCommand=x\": must not start with '-' (it would be read as an "
		       "option)");
	tu_resolve_err("", JG_ERR_INVAL, "empty target");
}

static void test_lengths(void)
{
	char host[300], user[80], text[400], want[400];
	struct jg_chain *c;

	memset(host, 'a', 253);
	host[253] = '\0';
	memset(user, 'u', 64);
	user[64] = '\0';
	snprintf(text, sizeof(text), "ssh:%s@%s", user, host);
	c = tu_resolve_ok(text, text, text);
	jg_chain_free(c);
	CU_ASSERT_EQUAL(jg_target_check_host(host, NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_target_check_user(user, NULL, 0), 0);

	/* One more is refused; the value is cut short in the message. */
	strcat(host, "a");
	strcat(user, "u");
	snprintf(want, sizeof(want), "host \"%.48s...\": longer than 253 characters", host);
	tu_resolve_err(host, JG_ERR_INVAL, want);
	snprintf(text, sizeof(text), "ssh:%s@h", user);
	snprintf(want, sizeof(want), "user \"%.48s...\": longer than 64 characters", user);
	tu_resolve_err(text, JG_ERR_INVAL, want);
}

static void test_check_functions(void)
{
	char err[64], tiny[8];

	CU_ASSERT_EQUAL(jg_target_check_host("127.0.0.1", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_host("[::1]", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_host("web-1.example.com", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_host("1host", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_user("_apt", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_user("9", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(jg_target_check_user("a b", err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err, "user \"a b\": whitespace is not allowed");
	CU_ASSERT_EQUAL(jg_target_check_user("a@b", err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err, "user \"a@b\": character '@' is not allowed");
	CU_ASSERT_EQUAL(jg_target_check_host("", err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err, "host \"\": must not be empty");
	/* Short and absent buffers are cut or skipped, never overrun. */
	CU_ASSERT_EQUAL(jg_target_check_host("-x", tiny, sizeof(tiny)), JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(tiny, "host \"-");
	CU_ASSERT_EQUAL(jg_target_check_host("-x", NULL, 0), JG_ERR_INVAL);
}

/* A hop copy owns everything: it outlives its source. */
static void test_hop_copy(void)
{
	struct jg_hop a = {0}, b;
	char *args[] = {"-o", "Ciphers=aes128-ctr", NULL};

	a.method = JG_METHOD_SSH;
	a.ssh.host = strdup("h");
	a.ssh.user = strdup("u");
	a.ssh.password = strdup("pw");
	a.ssh.port = 22;
	a.ssh.ssh_args = calloc(3, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.ssh.ssh_args);
	for (int i = 0; i < 2; i++)
		a.ssh.ssh_args[i] = strdup(args[i]);
	CU_ASSERT_EQUAL_FATAL(jg_hop_copy(&b, &a), 0);
	jg_hop_clear(&a);
	CU_ASSERT_EQUAL(a.method, 0);
	CU_ASSERT_PTR_NULL(a.ssh.host);
	CU_ASSERT_EQUAL(b.method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(b.ssh.host, "h");
	CU_ASSERT_STRING_EQUAL(b.ssh.user, "u");
	CU_ASSERT_STRING_EQUAL(b.ssh.password, "pw");
	CU_ASSERT_EQUAL(b.ssh.port, 22);
	CU_ASSERT_STRING_EQUAL(b.ssh.ssh_args[1], "Ciphers=aes128-ctr");
	CU_ASSERT_PTR_NULL(b.ssh.ssh_args[2]);
	CU_ASSERT_PTR_NULL(b.ssh.identity_file);
	jg_hop_clear(&b);
	jg_hop_clear(&b); /* cleared twice: harmless */
	jg_chain_free(NULL);
}

/* The built-in default resolves specs with its own ssh_defaults. */
static void test_default_config(void)
{
	struct jg_config *d = NULL;
	struct jg_chain *c = NULL;
	char err[256];

	const char *old = getenv("JUMPGATE_HOME");
	char *saved = old != NULL ? strdup(old) : NULL;
	int r;

	setenv("JUMPGATE_HOME", "/tmp/jg-target-test", 1);
	r = jg_config_default(&d, err, sizeof(err));
	if (saved != NULL)
		setenv("JUMPGATE_HOME", saved, 1);
	else
		unsetenv("JUMPGATE_HOME");
	free(saved);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_EQUAL_FATAL(jg_target_resolve(d, "ssh:u@h:2", &c, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(c->key, "ssh:u@h:2");
	CU_ASSERT_EQUAL(c->hops[0].ssh.check_host_keys, JG_HOSTKEYS_ENFORCE);
	CU_ASSERT_EQUAL(c->hops[0].ssh.connect_timeout_s, 10);
	CU_ASSERT_EQUAL(c->hops[0].ssh.keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(c->hops[0].ssh.keepalive_count, 3);
	CU_ASSERT_PTR_NULL(c->hops[0].ssh.identity_file);
	CU_ASSERT_PTR_NULL(c->hops[0].ssh.ssh_args);
	jg_chain_free(c);
	CU_ASSERT_EQUAL_FATAL(jg_target_resolve(d, "local", &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	jg_chain_free(c);
	/* DESIGN.md: no file, our own identity may tunnel anywhere. */
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(d, "db9", "10.0.0.1", 80, err, sizeof(err)), 1);
	jg_config_free(d);
}

/* A configuration from TEXT (NULL on error, reported). */
static struct jg_config *load_text(const char *text)
{
	char path[] = "/tmp/jgtarget-XXXXXX", err[512];
	struct jg_config *c = NULL;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
	    jg_config_load(path, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  tunnel policy: %s\n", err);
	close(fd);
	unlink(path);
	return c;
}

static void test_tunnel_policy(void)
{
	struct jg_config *c;
	char why[512] = "";

	/* No `tunnels` key: port 22 of inventory targets, their own localhost only. */
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(tu_target_cfg, "web1", NULL, 22, why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(
	    jg_target_tunnel_allowed(tu_target_cfg, "here", "localhost", 22, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(tu_target_cfg, "web1", NULL, 80, why, sizeof(why)),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "a tunnel to web1 port 80 is not allowed"));
	CU_ASSERT_EQUAL(
	    jg_target_tunnel_allowed(tu_target_cfg, "web1", "10.0.0.1", 22, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "web1 host 10.0.0.1 port 22"));
	CU_ASSERT_EQUAL(
	    jg_target_tunnel_allowed(tu_target_cfg, "nothere", NULL, 22, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(
	    jg_target_tunnel_allowed(tu_target_cfg, "ssh:h", NULL, 22, why, sizeof(why)), 0);

	c = load_text("targets = ( { name = \"web1\"; method = \"local\"; },\n"
		      "  { name = \"db2\"; method = \"local\"; } );\n"
		      "tunnels = { allow = [ \"web1:22\", \"db*:5432\", \"web1:10.0.0.[1-5]:80\",\n"
		      "  \"*:[::1]:9*\", \"ssh:*:localhost:22\" ]; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "web1", NULL, 22, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "web1", "localhost", 22, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "web1", NULL, 2222, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no tunnels.allow entry matches \"web1:2222\""));
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "db2", NULL, 5432, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "db2", NULL, 22, why, sizeof(why)), 0);
	/* "*:22"-style entries never open other hosts: the host is its own field. */
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "db2", "10.0.0.1", 5432, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "\"db2:10.0.0.1:5432\""));
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "web1", "10.0.0.3", 80, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "web1", "10.0.0.6", 80, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "any", "[::1]", 9000, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "any", "::1", 9000, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "ssh:db7", NULL, 22, why, sizeof(why)), 1);
	jg_config_free(c);

	/* An empty allow list: nothing at all. */
	c = load_text("tunnels = { allow = [ ]; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "local", NULL, 22, why, sizeof(why)), 0);
	jg_config_free(c);
}

static void test_tunnel_target(void)
{
	struct jg_config *c = load_text(
	    "targets = ( { name = \"office\"; method = \"tunnel\"; host = \"127.0.0.5\"; } );\n");
	struct jg_chain *ch = NULL;
	char err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(jg_target_resolve(c, "office", &ch, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ch->hops[0].method, JG_METHOD_TUNNEL);
	CU_ASSERT_STRING_EQUAL(ch->hops[0].ssh.host, "127.0.0.5");
	CU_ASSERT_STRING_EQUAL(ch->display, "office (tunnel 127.0.0.5)");
	CU_ASSERT_STRING_EQUAL(ch->key, "office");
	/* Default policy: port 22 of it, as of any inventory target. */
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(c, "office", NULL, 22, err, sizeof(err)), 1);
	jg_chain_free(ch);
	jg_config_free(c);
}

int jg_test_register_target(void)
{
	CU_pSuite s = CU_add_suite("target", tu_target_setup, tu_target_teardown);

	if (s == NULL || CU_add_test(s, "inventory names", test_inventory) == NULL ||
	    CU_add_test(s, "ssh: specs, ssh_defaults applied", test_ssh_specs) == NULL ||
	    CU_add_test(s, "bare host means ssh", test_bare_host) == NULL ||
	    CU_add_test(s, "injection attempts refused", test_injection) == NULL ||
	    CU_add_test(s, "port bounds", test_ports) == NULL ||
	    CU_add_test(s, "IPv6 forms", test_ipv6) == NULL ||
	    CU_add_test(s, "unknown methods, chains", test_methods_and_chains) == NULL ||
	    CU_add_test(s, "length limits", test_lengths) == NULL ||
	    CU_add_test(s, "check_host, check_user", test_check_functions) == NULL ||
	    CU_add_test(s, "hop copy and clear", test_hop_copy) == NULL ||
	    CU_add_test(s, "built-in default config", test_default_config) == NULL ||
	    CU_add_test(s, "tunnel policy", test_tunnel_policy) == NULL ||
	    CU_add_test(s, "tunnel targets", test_tunnel_target) == NULL)
		return -1;
	return 0;
}
