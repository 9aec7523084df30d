/* Tests for config/target.c: every form of the target grammar resolves to
 * the expected hop, pool key and display name, and every injection attempt
 * is refused, before any argv exists, with a reason that names the part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "tests/unit/suites.h"

/* The inventory every test resolves against. */
static const char inventory[] =
    "ssh_defaults = { user = \"ops\"; identity_file = \"/k/id\"; check_host_keys = \"ignore\";\n"
    "  known_hosts = \"/dev/null\"; ssh_args = [ \"-4\" ]; connect_timeout = 3; };\n"
    "targets = (\n"
    "  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; user = \"deploy\";\n"
    "    port = 2222; },\n"
    "  { name = \"v6\"; method = \"ssh\"; host = \"[::1]\"; },\n"
    "  { name = \"here\"; method = \"local\"; },\n"
    "  { name = \"db7\"; method = \"local\"; },\n"
    /* Entries of other methods, used as later hops of chains. */
    "  { name = \"asroot\"; method = \"su\"; user = \"root\"; password = \"s3cret\";\n"
    "    login = true; },\n"
    "  { name = \"pgct\"; method = \"lxc\"; container = \"pg\"; lxc_path = \"/srv/lxc\"; },\n"
    "  { name = \"kpod\"; method = \"kubectl\"; pod = \"api-0\"; namespace = \"shop\";\n"
    "    container = \"app\"; kubectl_args = [ \"--kubeconfig=/k/config\" ]; },\n"
    "  { name = \"office\"; method = \"tunnel\"; host = \"127.0.0.5\"; },\n"
    "  { name = \"pwhost\"; method = \"ssh\"; host = \"10.0.0.9\"; password = \"pw\"; },\n"
    "  { name = \"rawhost\"; method = \"ssh\"; host = \"10.0.0.8\"; raw = true; }\n"
    ");\n";

static struct jg_config *cfg;

static int setup(void)
{
	char path[] = "/tmp/jgtarget-XXXXXX", err[512];
	int fd = mkstemp(path), r;

	if (fd < 0)
		return -1;
	r = write(fd, inventory, strlen(inventory)) == (ssize_t)strlen(inventory) ? 0 : -1;
	close(fd);
	if (r == 0 && jg_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "target tests: %s\n", err);
		r = -1;
	}
	unlink(path);
	return r;
}

static int teardown(void)
{
	jg_config_free(cfg);
	cfg = NULL;
	return 0;
}

/* TEXT must resolve to one hop with KEY and DISPLAY; the chain is returned. */
static struct jg_chain *resolve_ok(const char *text, const char *key, const char *display)
{
	char err[256] = "";
	struct jg_chain *c = NULL;
	int r = jg_target_resolve(cfg, text, &c, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "\n  %s: unexpected error %d: %s\n", text, r, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->nhops, 1);
	if (strcmp(c->key, key) != 0 || strcmp(c->display, display) != 0)
		fprintf(stderr, "\n  %s: key %s display %s\n", text, c->key, c->display);
	CU_ASSERT_STRING_EQUAL(c->key, key);
	CU_ASSERT_STRING_EQUAL(c->display, display);
	return c;
}

/* TEXT must be refused with CODE and exactly WHY. */
static void resolve_err(const char *text, int code, const char *why)
{
	char err[256] = "";
	struct jg_chain *c = (struct jg_chain *)&c; /* must be reset to NULL */
	int r = jg_target_resolve(cfg, text, &c, err, sizeof(err));

	if (r != code || strcmp(err, why) != 0)
		fprintf(stderr, "\n  target: %s\n  got:  %d %s\n  want: %d %s\n", text, r, err,
			code, why);
	CU_ASSERT_EQUAL(r, code);
	CU_ASSERT_STRING_EQUAL(err, why);
	CU_ASSERT_PTR_NULL(c);
}

/* Options every non-inventory ssh spec gets from ssh_defaults. */
static void check_defaults(const struct jg_ssh_opts *o)
{
	CU_ASSERT_STRING_EQUAL(o->identity_file, "/k/id");
	CU_ASSERT_EQUAL(o->check_host_keys, JG_HOSTKEYS_IGNORE);
	CU_ASSERT_STRING_EQUAL(o->known_hosts, "/dev/null");
	CU_ASSERT_EQUAL(o->connect_timeout_s, 3);
	CU_ASSERT_EQUAL(o->keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(o->keepalive_count, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->ssh_args);
	CU_ASSERT_STRING_EQUAL(o->ssh_args[0], "-4");
	CU_ASSERT_PTR_NULL(o->ssh_args[1]);
	/* A copy, not the configuration's own strings. */
	CU_ASSERT_PTR_NOT_EQUAL(o->ssh_args, cfg->ssh_defaults.ssh.ssh_args);
	CU_ASSERT_PTR_NOT_EQUAL(o->identity_file, cfg->ssh_defaults.ssh.identity_file);
}

static void test_inventory(void)
{
	struct jg_chain *c;
	const struct jg_ssh_opts *o;

	c = resolve_ok("web1", "web1", "web1 (ssh deploy@127.0.0.2:2222)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	o = &c->hops[0].ssh;
	CU_ASSERT_STRING_EQUAL(o->host, "127.0.0.2");
	CU_ASSERT_STRING_EQUAL(o->user, "deploy");
	CU_ASSERT_EQUAL(o->port, 2222);
	check_defaults(o); /* inherited by the inventory entry */
	CU_ASSERT_PTR_NOT_EQUAL(o->host, jg_config_find_target(cfg, "web1")->hop.ssh.host);
	jg_chain_free(c);

	c = resolve_ok("v6", "v6", "v6 (ssh ops@[::1])");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "::1");
	CU_ASSERT_EQUAL(c->hops[0].ssh.port, 0);
	jg_chain_free(c);

	c = resolve_ok("local", "local", "local");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	CU_ASSERT_PTR_NULL(c->hops[0].ssh.host);
	jg_chain_free(c);

	c = resolve_ok("here", "here", "here (local)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	jg_chain_free(c);

	/* An inventory name wins over a host of the same name. */
	c = resolve_ok("db7", "db7", "db7 (local)");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	jg_chain_free(c);
	/* Names are exact: another case is a host, not the entry. */
	c = resolve_ok("WEB1", "ssh:WEB1", "WEB1");
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
		struct jg_chain *c = resolve_ok(cases[i].text, cases[i].key, cases[i].text);
		const struct jg_ssh_opts *o = &c->hops[0].ssh;

		CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
		CU_ASSERT_STRING_EQUAL(o->host, cases[i].host);
		CU_ASSERT_STRING_EQUAL(o->user, cases[i].user);
		CU_ASSERT_EQUAL(o->port, cases[i].port);
		check_defaults(o);
		jg_chain_free(c);
	}
}

/* A bare name not in the inventory means ssh to that host, as ssh would. */
static void test_bare_host(void)
{
	struct jg_chain *c;

	c = resolve_ok("db8", "ssh:db8", "db8");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "db8");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.user, "ops");
	check_defaults(&c->hops[0].ssh);
	jg_chain_free(c);

	c = resolve_ok("192.168.1.20", "ssh:192.168.1.20", "192.168.1.20");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "192.168.1.20");
	jg_chain_free(c);

	c = resolve_ok("[::1]", "ssh:[::1]", "[::1]");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "::1");
	jg_chain_free(c);

	/* A bare spec is a host only: user and port need "ssh:". */
	resolve_err("u@db8", JG_ERR_INVAL, "host \"u@db8\": character '@' is not allowed");
	resolve_err("[::1]:22", JG_ERR_INVAL,
		    "host \"[::1]:22\": an IPv6 address in brackets must end with ']'");
	resolve_err("::1", JG_ERR_INVAL,
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
		resolve_err(cases[i].text, JG_ERR_INVAL, cases[i].why);
}

static void test_ports(void)
{
	resolve_err("ssh:h:0", JG_ERR_INVAL, "port \"0\": out of range 1-65535");
	resolve_err("ssh:h:65536", JG_ERR_INVAL, "port \"65536\": out of range 1-65535");
	resolve_err("ssh:h:99999999999999999999999", JG_ERR_INVAL,
		    "port \"99999999999999999999999\": out of range 1-65535");
	resolve_err("ssh:h:", JG_ERR_INVAL, "port \"\": must not be empty");
	resolve_err("ssh:h:+22", JG_ERR_INVAL, "port \"+22\": must be a number 1-65535");
	resolve_err("ssh:h:-1", JG_ERR_INVAL, "port \"-1\": must be a number 1-65535");
	resolve_err("ssh:h:22 ", JG_ERR_INVAL, "port \"22 \": must be a number 1-65535");
	resolve_err("ssh:h:0x16", JG_ERR_INVAL, "port \"0x16\": must be a number 1-65535");
	resolve_err("ssh:[::1]:", JG_ERR_INVAL, "port \"\": must not be empty");
	resolve_err("ssh:[::1]:0", JG_ERR_INVAL, "port \"0\": out of range 1-65535");
}

static void test_ipv6(void)
{
	resolve_err("ssh:::1", JG_ERR_INVAL,
		    "host \"::1\": an IPv6 address goes in brackets, as in \"[::1]\"");
	resolve_err("ssh:u@2001:db8::5", JG_ERR_INVAL,
		    "host \"2001:db8::5\": an IPv6 address goes in brackets, as in \"[::1]\"");
	resolve_err("ssh:[::1", JG_ERR_INVAL,
		    "host \"[::1\": an IPv6 address in brackets must end with ']'");
	resolve_err("ssh:[", JG_ERR_INVAL,
		    "host \"[\": an IPv6 address in brackets must end with ']'");
	resolve_err("ssh:[::1]x", JG_ERR_INVAL,
		    "host \"[::1]x\": an IPv6 address in brackets must end with ']'");
	resolve_err("ssh:[fe80::1%eth0]", JG_ERR_INVAL,
		    "host \"[fe80::1%eth0]\": character '%' is not allowed");
	resolve_err("ssh:[::g]", JG_ERR_INVAL, "host \"[::g]\": character 'g' is not allowed");
	resolve_err("ssh:[-1::]", JG_ERR_INVAL, "host \"[-1::]\": character '-' is not allowed");
	resolve_err("ssh:[1.2.3.4]", JG_ERR_INVAL, "host \"[1.2.3.4]\": not an IPv6 address");
	resolve_err("ssh:[]", JG_ERR_INVAL, "host \"[]\": not an IPv6 address");
	resolve_err("ssh:[1:2:3:4:5:6:7:8:9]", JG_ERR_INVAL,
		    "host \"[1:2:3:4:5:6:7:8:9]\": not an IPv6 address");
	resolve_err(
	    "ssh:[0000:0000:0000:0000:0000:ffff:127.000.000.001]", JG_ERR_INVAL,
	    "host \"[0000:0000:0000:0000:0000:ffff:127.000.000.001]\": not an IPv6 address");
}

static void test_methods_and_chains(void)
{
	resolve_err("foo:bar", JG_ERR_NOTFOUND,
		    "unknown method \"foo\" "
		    "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	resolve_err("SSH:h", JG_ERR_NOTFOUND,
		    "unknown method \"SSH\" "
		    "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	resolve_err("tunnel:x", JG_ERR_NOTFOUND,
		    "unknown method \"tunnel\" "
		    "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	/* A "method" that is not a word is a host, checked as one. */
	resolve_err("a;b:c", JG_ERR_INVAL, "host \"a;b:c\": character ';' is not allowed");
	resolve_err("local:x", JG_ERR_INVAL, "target \"local:x\": \"local\" takes no options");
	resolve_err("ssh:h/local", JG_ERR_INVAL, "\"local\" can only be the first hop of a chain");
	resolve_err("a/b/c/d/e/f/g/h/i", JG_ERR_INVAL,
		    "target \"a/b/c/d/e/f/g/h/i\": a chain has at most 8 hops");
	resolve_err("web1/sudo:-u", JG_ERR_INVAL,
		    "user \"-u\": must not start with '-' (it would be read as an option)");
	resolve_err("web1/docker:a b", JG_ERR_INVAL,
		    "container \"a b\": whitespace is not allowed");
	resolve_err("local/kubectl:ns:pod;x", JG_ERR_INVAL,
		    "pod \"pod;x\": character ';' is not allowed");
	resolve_err("local/setns:pid:0", JG_ERR_INVAL,
		    "pid \"0\": must be a process ID (1-4194304)");
	resolve_err("local/setns:foo:x", JG_ERR_INVAL,
		    "setns \"foo:x\": expected a PID, pid:N, docker:NAME, lxc:NAME or "
		    "machinectl:NAME");
	/* The first hop is checked first: its own fault is the better reason. */
	resolve_err("/", JG_ERR_INVAL, "empty target");
	resolve_err("-oProxyCommand=x/y", JG_ERR_INVAL,
		    "host \"-oProxyCommand=x\": must not start with '-' (it would be read as an "
		    "option)");
	resolve_err("", JG_ERR_INVAL, "empty target");
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
	c = resolve_ok(text, text, text);
	jg_chain_free(c);
	CU_ASSERT_EQUAL(jg_target_check_host(host, NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_target_check_user(user, NULL, 0), 0);

	/* One more is refused; the value is cut short in the message. */
	strcat(host, "a");
	strcat(user, "u");
	snprintf(want, sizeof(want), "host \"%.48s...\": longer than 253 characters", host);
	resolve_err(host, JG_ERR_INVAL, want);
	snprintf(text, sizeof(text), "ssh:%s@h", user);
	snprintf(want, sizeof(want), "user \"%.48s...\": longer than 64 characters", user);
	resolve_err(text, JG_ERR_INVAL, want);
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
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "web1", NULL, 22, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "here", "localhost", 22, why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "web1", NULL, 80, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "a tunnel to web1 port 80 is not allowed"));
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "web1", "10.0.0.1", 22, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "web1 host 10.0.0.1 port 22"));
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "nothere", NULL, 22, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_target_tunnel_allowed(cfg, "ssh:h", NULL, 22, why, sizeof(why)), 0);

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

/* ---- chains ---- */

/* TEXT must resolve to a chain of N hops with KEY and DISPLAY. */
static struct jg_chain *chain_ok(const char *text, size_t n, const char *key, const char *display)
{
	char err[256] = "";
	struct jg_chain *c = NULL;
	int r = jg_target_resolve(cfg, text, &c, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "\n  %s: unexpected error %d: %s\n", text, r, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (c->nhops != n || strcmp(c->key, key) != 0 || strcmp(c->display, display) != 0)
		fprintf(stderr, "\n  %s: %zu hops, key %s, display %s\n", text, c->nhops, c->key,
			c->display);
	CU_ASSERT_EQUAL_FATAL(c->nhops, n);
	CU_ASSERT_STRING_EQUAL(c->key, key);
	CU_ASSERT_STRING_EQUAL(c->display, display);
	return c;
}

#define STR_OR_NULL(a, b)                                                                          \
	do {                                                                                       \
		if ((b) == NULL)                                                                   \
			CU_ASSERT_PTR_NULL(a)                                                      \
		else if ((a) == NULL)                                                              \
			CU_FAIL(#a " is NULL")                                                     \
		else                                                                               \
			CU_ASSERT_STRING_EQUAL(a, b)                                               \
	} while (0)

/* Hop H is METHOD with USER and NAME (NULL: unset). */
static void hop_is(const struct jg_hop *h, enum jg_method m, const char *user, const char *name)
{
	CU_ASSERT_EQUAL(h->method, m);
	STR_OR_NULL(h->o.user, user);
	STR_OR_NULL(h->o.name, name);
}

static void test_chain_specs(void)
{
	struct jg_chain *c;

	c = chain_ok("local/sudo:jgx1", 2, "local/sudo:jgx1", "local/sudo:jgx1");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	hop_is(&c->hops[1], JG_METHOD_SUDO, "jgx1", NULL);
	CU_ASSERT_PTR_NULL(c->hops[1].o.password);
	CU_ASSERT_EQUAL(c->hops[1].o.login, 0);
	jg_chain_free(c);

	c = chain_ok("web1/docker:app@ct", 2, "web1/docker:app@ct",
		     "web1 (ssh deploy@127.0.0.2:2222)/docker:app@ct");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "127.0.0.2");
	CU_ASSERT_EQUAL(c->hops[0].ssh.port, 2222);
	hop_is(&c->hops[1], JG_METHOD_DOCKER, "app", "ct");
	jg_chain_free(c);
	c = chain_ok("local/docker:ct", 2, "local/docker:ct", "local/docker:ct");
	hop_is(&c->hops[1], JG_METHOD_DOCKER, NULL, "ct");
	jg_chain_free(c);

	c = chain_ok("ssh:u@h/lxc:pg/sudo:postgres", 3, "ssh:u@h/lxc:pg/sudo:postgres",
		     "ssh:u@h/lxc:pg/sudo:postgres");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "h");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.user, "u");
	check_defaults(&c->hops[0].ssh);
	hop_is(&c->hops[1], JG_METHOD_LXC, NULL, "pg");
	CU_ASSERT_PTR_NULL(c->hops[1].o.lxc_dir);
	hop_is(&c->hops[2], JG_METHOD_SUDO, "postgres", NULL);
	jg_chain_free(c);

	c = chain_ok("db8/lxd:c1/su:www-data/doas:_svc", 4, "ssh:db8/lxd:c1/su:www-data/doas:_svc",
		     "db8/lxd:c1/su:www-data/doas:_svc");
	hop_is(&c->hops[1], JG_METHOD_LXD, NULL, "c1");
	hop_is(&c->hops[2], JG_METHOD_SU, "www-data", NULL);
	hop_is(&c->hops[3], JG_METHOD_DOAS, "_svc", NULL);
	jg_chain_free(c);

	/* kubectl: [namespace:]pod[:container] */
	c = chain_ok("local/kubectl:ns:pod:c", 2, "local/kubectl:ns:pod:c",
		     "local/kubectl:ns:pod:c");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	STR_OR_NULL(c->hops[1].o.kube_ns, "ns");
	STR_OR_NULL(c->hops[1].o.container, "c");
	jg_chain_free(c);
	c = chain_ok("local/kubectl:ns:pod", 2, "local/kubectl:ns:pod", "local/kubectl:ns:pod");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	STR_OR_NULL(c->hops[1].o.kube_ns, "ns");
	CU_ASSERT_PTR_NULL(c->hops[1].o.container);
	jg_chain_free(c);
	c = chain_ok("local/kubectl:pod", 2, "local/kubectl:pod", "local/kubectl:pod");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	CU_ASSERT_PTR_NULL(c->hops[1].o.kube_ns);
	jg_chain_free(c);

	/* setns: a PID, pid:N, or a container by kind; as a user. */
	c = chain_ok("local/setns:42", 2, "local/setns:42", "local/setns:42");
	hop_is(&c->hops[1], JG_METHOD_SETNS, NULL, NULL);
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_PID);
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 42);
	jg_chain_free(c);
	c = chain_ok("local/setns:root@pid:42", 2, "local/setns:root@pid:42",
		     "local/setns:root@pid:42");
	hop_is(&c->hops[1], JG_METHOD_SETNS, "root", NULL);
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_PID);
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 42);
	jg_chain_free(c);
	c = chain_ok("local/setns:docker:web", 2, "local/setns:docker:web",
		     "local/setns:docker:web");
	hop_is(&c->hops[1], JG_METHOD_SETNS, NULL, "web");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_DOCKER);
	jg_chain_free(c);
	c = chain_ok("local/setns:www@lxc:pg", 2, "local/setns:www@lxc:pg",
		     "local/setns:www@lxc:pg");
	hop_is(&c->hops[1], JG_METHOD_SETNS, "www", "pg");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_LXC);
	jg_chain_free(c);
	c = chain_ok("local/setns:machinectl:m1", 2, "local/setns:machinectl:m1",
		     "local/setns:machinectl:m1");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_MACHINECTL);
	jg_chain_free(c);
	c = chain_ok("ssh:h/setns:4194304", 2, "ssh:h/setns:4194304", "ssh:h/setns:4194304");
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 4194304);
	jg_chain_free(c);

	/* A method hop alone is a chain of one (run from the gateway). */
	c = resolve_ok("sudo:jgx1", "sudo:jgx1", "sudo:jgx1");
	hop_is(&c->hops[0], JG_METHOD_SUDO, "jgx1", NULL);
	jg_chain_free(c);

	/* Eight hops is the most. */
	c = chain_ok("local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g", 8,
		     "local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g",
		     "local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g");
	hop_is(&c->hops[7], JG_METHOD_SUDO, "g", NULL);
	jg_chain_free(c);
}

/* Inventory entries of any method as later hops, with the options a spec cannot carry. */
static void test_chain_inventory_hops(void)
{
	const struct jg_target *t = jg_config_find_target(cfg, "asroot");
	struct jg_chain *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	c = chain_ok("web1/asroot", 2, "web1/asroot",
		     "web1 (ssh deploy@127.0.0.2:2222)/asroot (su)");
	hop_is(&c->hops[1], JG_METHOD_SU, "root", NULL);
	STR_OR_NULL(c->hops[1].o.password, "s3cret");
	CU_ASSERT_EQUAL(c->hops[1].o.login, 1);
	/* A copy: freeing the chain leaves the configuration's entry alone. */
	CU_ASSERT_PTR_NOT_EQUAL(c->hops[1].o.password, t->hop.o.password);
	jg_chain_free(c);
	CU_ASSERT_STRING_EQUAL(t->hop.o.password, "s3cret");

	c = chain_ok("local/pgct/asroot", 3, "local/pgct/asroot", "local/pgct (lxc)/asroot (su)");
	hop_is(&c->hops[1], JG_METHOD_LXC, NULL, "pg");
	STR_OR_NULL(c->hops[1].o.lxc_dir, "/srv/lxc");
	hop_is(&c->hops[2], JG_METHOD_SU, "root", NULL);
	jg_chain_free(c);

	c = chain_ok("ssh:h/kpod/sudo:x", 3, "ssh:h/kpod/sudo:x", "ssh:h/kpod (kubectl)/sudo:x");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "api-0");
	STR_OR_NULL(c->hops[1].o.kube_ns, "shop");
	STR_OR_NULL(c->hops[1].o.container, "app");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->hops[1].o.args);
	CU_ASSERT_STRING_EQUAL(c->hops[1].o.args[0], "--kubeconfig=/k/config");
	CU_ASSERT_PTR_NULL(c->hops[1].o.args[1]);
	jg_chain_free(c);

	/* An entry of another method can start a chain too. */
	c = chain_ok("kpod/asroot", 2, "kpod/asroot", "kpod (kubectl)/asroot (su)");
	jg_chain_free(c);
	c = resolve_ok("pgct", "pgct", "pgct (lxc)");
	STR_OR_NULL(c->hops[0].o.lxc_dir, "/srv/lxc");
	jg_chain_free(c);

	/* ssh with a password: the first hop, or the first after local, only. */
	c = chain_ok("local/pwhost", 2, "local/pwhost", "local/pwhost (ssh ops@10.0.0.9)");
	jg_chain_free(c);
	resolve_err("web1/pwhost", JG_ERR_INVAL,
		    "hop 2 (ssh to 10.0.0.9): ssh passwords work on the first hop only (ssh reads "
		    "them from a terminal); use a key");
	/* Tunnel targets and raw ssh run no agent: never in a chain. */
	resolve_err("local/office", JG_ERR_INVAL,
		    "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	resolve_err("office/sudo:x", JG_ERR_INVAL,
		    "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	resolve_err("rawhost/sudo:x", JG_ERR_INVAL,
		    "hop 1 (ssh to 10.0.0.8): raw mode runs no agent, so it works for a target of "
		    "one ssh hop only");
	c = resolve_ok("rawhost", "rawhost", "rawhost (ssh ops@10.0.0.8)");
	CU_ASSERT_EQUAL(c->hops[0].ssh.raw, 1);
	jg_chain_free(c);
}

/* Every part of every new method refuses what could become an option or shell text. */
static void test_chain_injection(void)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    /* sudo, su, doas: the user */
	    {"local/sudo:-u",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/sudo:a;b", "user \"a;b\": character ';' is not allowed"},
	    {"local/su:$(id)", "user \"$(id)\": character '$' is not allowed"},
	    {"local/doas:`id`", "user \"`id`\": character '`' is not allowed"},
	    {"local/sudo:a b", "user \"a b\": whitespace is not allowed"},
	    {"local/su:x\ny", "user \"x\\x0ay\": control character \\x0a is not allowed"},
	    {"local/doas:r\xc3\xb6t", "user \"r\\xc3\\xb6t\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/sudo:", "user \"\": must not be empty"},
	    {"local/su:.x", "user \".x\": must start with a letter, a digit or '_'"},
	    {"local/sudo:a@b", "user \"a@b\": character '@' is not allowed"},
	    /* lxc, lxd: the container */
	    {"local/lxc:-n",
	     "container \"-n\": must not start with '-' (it would be read as an option)"},
	    {"local/lxd:a;b", "container \"a;b\": character ';' is not allowed"},
	    {"local/lxc:$(id)", "container \"$(id)\": character '$' is not allowed"},
	    {"local/lxd:c\n", "container \"c\\x0a\": control character \\x0a is not allowed"},
	    {"local/lxc:p\xc3\xa9",
	     "container \"p\\xc3\\xa9\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/lxd:", "container \"\": must not be empty"},
	    /* docker: user and container */
	    {"local/docker:-u@ct",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/docker:a b@ct", "user \"a b\": whitespace is not allowed"},
	    {"local/docker:app@-ct",
	     "container \"-ct\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/docker:app@`id`", "container \"`id`\": character '`' is not allowed"},
	    {"local/docker:app@ct@x", "container \"ct@x\": character '@' is not allowed"},
	    {"local/docker:--privileged", "container \"--privileged\": must not start with '-' (it "
					  "would be read as an option)"},
	    /* kubectl: namespace, pod, container */
	    {"local/kubectl:-n:pod",
	     "namespace \"-n\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/kubectl:ns:$(id)", "pod \"$(id)\": character '$' is not allowed"},
	    {"local/kubectl:ns:pod:c;d", "container \"c;d\": character ';' is not allowed"},
	    {"local/kubectl:ns:pod:c\n",
	     "container \"c\\x0a\": control character \\x0a is not allowed"},
	    {"local/kubectl:n s:pod", "namespace \"n s\": whitespace is not allowed"},
	    {"local/kubectl:ns:p\xc3\xb6"
	     "d",
	     "pod \"p\\xc3\\xb6d\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/kubectl:ns::c", "pod \"\": must not be empty"},
	    {"local/kubectl:-it",
	     "pod \"-it\": must not start with '-' (it would be read as an option)"},
	    {"local/kubectl:a:b:c:d", "kubectl \"a:b:c:d\": expected [namespace:]pod[:container]"},
	    /* setns: user, pid, container */
	    {"local/setns:-1", "pid \"-1\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:42;x", "pid \"42;x\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:$(id)", "pid \"$(id)\": must be a process ID (1-4194304)"},
	    {"local/setns:pid: 42", "pid \" 42\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:+42", "pid \"+42\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:042", "pid \"042\": must be a process ID (1-4194304)"},
	    {"local/setns:4194305", "pid \"4194305\": must be a process ID (1-4194304)"},
	    {"local/setns:99999999999999999999",
	     "pid \"99999999999999999999\": must be a process ID "
	     "(1-4194304)"},
	    {"local/setns:", "pid \"\": must be a process ID (1-4194304)"},
	    {"local/setns:r;t@pid:1", "user \"r;t\": character ';' is not allowed"},
	    {"local/setns:-u@1",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/setns:docker:-x",
	     "container \"-x\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/setns:lxc:a`b`", "container \"a`b`\": character '`' is not allowed"},
	    {"local/setns:machinectl:m 1", "container \"m 1\": whitespace is not allowed"},
	    {"local/setns:docker:w\xc3\xa9",
	     "container \"w\\xc3\\xa9\": non-ASCII byte \\xc3 is not "
	     "allowed"},
	    /* the chain itself */
	    {"local/", "empty target"},
	    {"local//sudo:x", "empty target"},
	    {"local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g/sudo:h",
	     "target \"local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/...\": a chain has at "
	     "most 8 hops"},
	    {"sudo:x/local", "\"local\" can only be the first hop of a chain"},
	    {"local/ssh:-oProxyCommand=x", "host \"-oProxyCommand=x\": must not start with '-' (it "
					   "would be read as an option)"},
	    {"local/sudo:x/b;c", "host \"b;c\": character ';' is not allowed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		resolve_err(cases[i].text, JG_ERR_INVAL, cases[i].why);
	resolve_err("local/podman:x", JG_ERR_NOTFOUND,
		    "unknown method \"podman\" "
		    "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
}

static void test_chain_become(void)
{
	struct jg_chain *c =
	    chain_ok("ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot", 7,
		     "ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot",
		     "ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot (su)");
	const char *who[8];

	CU_ASSERT_EQUAL_FATAL(jg_chain_become(c, who, 8), 6);
	CU_ASSERT_STRING_EQUAL(who[0], "pg");
	CU_ASSERT_STRING_EQUAL(who[1], "app");
	CU_ASSERT_STRING_EQUAL(who[2], "root"); /* docker:ct2, no user: the image's, root */
	CU_ASSERT_STRING_EQUAL(who[3], "root"); /* setns:42 */
	CU_ASSERT_STRING_EQUAL(who[4], "x");
	CU_ASSERT_STRING_EQUAL(who[5], "root");
	CU_ASSERT_EQUAL(jg_chain_become(c, who, 2), 2);
	jg_chain_free(c);
	/* container hops land as root (issue 19): lxc, lxd, kubectl, an inventory lxc hop */
	c = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    jg_target_resolve(cfg, "ssh:u@h/sudo:eve/lxc:ct/lxd:c2/kubectl:p/pgct", &c, NULL, 0),
	    0);
	CU_ASSERT_EQUAL_FATAL(jg_chain_become(c, who, 8), 5);
	CU_ASSERT_STRING_EQUAL(who[0], "eve");
	for (size_t i = 1; i < 5; i++)
		CU_ASSERT_STRING_EQUAL(who[i], "root");
	jg_chain_free(c);
}

/* TEXT resolves to a chain whose canonical form is CANON. */
static void canon_is(const char *text, const char *canon)
{
	char err[256] = "";
	struct jg_chain *c = NULL;

	if (jg_target_resolve(cfg, text, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  %s: unexpected error: %s\n", text, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (c->canon == NULL || strcmp(c->canon, canon) != 0)
		fprintf(stderr, "\n  %s: canon %s, want %s\n", text, c->canon, canon);
	CU_ASSERT_STRING_EQUAL(c->canon, canon);
	jg_chain_free(c);
}

/* Every destination has one spelling for policy, and numeric hosts that the C library
 * reads differently from how they look are refused (issue 13, H1). */
static void test_canonical(void)
{
	const char *v4why = "a numeric IPv4 address must be four decimal numbers without "
			    "leading zeros (this one means 127.0.1.3: write that)";
	static const char *const aliases[] = {"127.0.259",  "2130706691", "0x7f.0.1.3",
					      "0177.0.1.3", "127.0.1.03", "127.0.0x1.3",
					      "0x7f000103"};
	char text[128], want[256];

	canon_is("web1", "ssh:deploy@127.0.0.2:2222");
	canon_is("ssh:deploy@127.0.0.2:2222", "ssh:deploy@127.0.0.2:2222");
	canon_is("web1/sudo:root", "ssh:deploy@127.0.0.2:2222/sudo:root");
	canon_is("web1/asroot/pgct", "ssh:deploy@127.0.0.2:2222/su:root/lxc:pg");
	canon_is("ssh:DB7.Example.COM", "ssh:ops@db7.example.com:22");
	canon_is("ssh:u@[::FFFF:127.0.1.3]:2222", "ssh:u@127.0.1.3:2222");
	canon_is("ssh:u@[0:0::1]", "ssh:u@[::1]:22");
	canon_is("v6", "ssh:ops@[::1]:22");
	canon_is("here", "local");
	canon_is("local/docker:app", "local/docker:app");
	canon_is("local/kpod", "local/kubectl:shop:api-0:app");
	canon_is("office", "tunnel:127.0.0.5");
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		snprintf(text, sizeof(text), "ssh:root@%s:2222", aliases[i]);
		snprintf(want, sizeof(want), "host \"%s\": %s", aliases[i], v4why);
		resolve_err(text, JG_ERR_INVAL, want);
		snprintf(text, sizeof(text), "%s/sudo:root", aliases[i]);
		resolve_err(text, JG_ERR_INVAL, want);
	}
	resolve_err("ssh:1.2.3.4.5", JG_ERR_INVAL, "host \"1.2.3.4.5\": not an IPv4 address");
	resolve_err("256.0.0.1", JG_ERR_INVAL, "host \"256.0.0.1\": not an IPv4 address");
	CU_ASSERT_EQUAL(jg_target_check_host("0x7f.0.0.1", NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_target_check_host("10.0.0.5", NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_target_check_host("cafe", NULL, 0), 0);
}

int jg_test_register_target(void)
{
	CU_pSuite s = CU_add_suite("target", setup, teardown);

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
	    CU_add_test(s, "tunnel targets", test_tunnel_target) == NULL ||
	    CU_add_test(s, "chains: every method's spec, fields", test_chain_specs) == NULL ||
	    CU_add_test(s,
			"chains: inventory entries as hops; no tunnel, raw or late ssh "
			"password",
			test_chain_inventory_hops) == NULL ||
	    CU_add_test(s, "chains: injection in every part refused, naming it",
			test_chain_injection) == NULL ||
	    CU_add_test(s, "chains: the accounts a chain becomes", test_chain_become) == NULL ||
	    CU_add_test(s, "canonical chains; numeric aliases refused", test_canonical) == NULL)
		return -1;
	return 0;
}
