/* jumpgate: global options, defaults, and dispatch to a command.
 *
 * Options come from the command line, then the environment, then the
 * defaults shared with the gateway (config/paths.h), in that order. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/client.h"
#include "client/failover.h"
#include "client/help.h"
#include "client/mux.h"
#include "client/standin.h"
#include "config/paths.h"
#include "relay/err.h"
#include "relay/heap.h"
#include "relay/log.h"

/* The prefix of error lines: "jumpgate", or "jumpgate rsh" when run as an ssh stand-in.
 * Set once by the command, like the logging module's program name. */
static const char *fail_prefix = "jumpgate";

void jg_client_set_prog(const char *prog)
{
	fail_prefix = prog;
}

void jg_client_fail(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", fail_prefix, line);
	fflush(stderr);
}

int jg_client_usage(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "jumpgate: %s; try 'jumpgate --help'\n", line);
	fflush(stderr);
	return JG_EXIT_USAGE;
}

/* unix:PATH, HOST:PORT, [V6]:PORT, [V6], HOST, or a bare IPv6 address (port 4443).
 * 0 or -1.  One entry of a -g list (client/failover.c). */
int jg_client_parse_gateway(struct jg_client *c, const char *spec)
{
	const char *host = spec, *port = NULL, *colon;
	size_t hlen, plen = strlen(JG_GATEWAY_UNIX_PREFIX);
	char *end;
	long n;

	if (strlen(spec) >= sizeof(c->gateway) || spec[0] == '\0')
		return -1;
	if (strncmp(spec, JG_GATEWAY_UNIX_PREFIX, plen) == 0) {
		/* The socket's path, as connect(2) takes it (sun_path holds the NUL too). */
		if (spec[plen] == '\0' || strlen(spec + plen) >= sizeof(c->unix_path))
			return -1;
		snprintf(c->unix_path, sizeof(c->unix_path), "%s", spec + plen);
		snprintf(c->gateway, sizeof(c->gateway), "%s", spec);
		return 0;
	}
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close == spec + 1)
			return -1;
		host = spec + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - spec);
		port = colon + 1;
	} else {
		hlen = strlen(spec); /* a bare host name, or an IPv6 address without brackets */
	}
	if (hlen == 0 || hlen >= sizeof(c->host))
		return -1;
	if (port != NULL) {
		errno = 0;
		n = strtol(port, &end, 10);
		if (errno != 0 || end == port || *end != '\0' || n < 1 || n > 65535)
			return -1;
	} else {
		port = JG_DEFAULT_PORT;
	}
	memcpy(c->host, host, hlen);
	c->host[hlen] = '\0';
	snprintf(c->port, sizeof(c->port), "%s", port);
	/* Messages name the gateway in one canonical form, brackets around IPv6. */
	if (strchr(c->host, ':') != NULL)
		snprintf(c->gateway, sizeof(c->gateway), "[%s]:%s", c->host, c->port);
	else
		snprintf(c->gateway, sizeof(c->gateway), "%s:%s", c->host, c->port);
	return 0;
}

/* One certificate path: the option, else the environment variable, else NAME in the
 * state directory (marking it a default with BIT). 0 or -1 (message printed). */
static int pick_file(struct jg_client *c, char *dst, size_t len, const char *opt, const char *env,
		     const char *name, unsigned bit)
{
	const char *v = opt;

	if (v == NULL || v[0] == '\0')
		v = getenv(env);
	if (v != NULL && v[0] != '\0') {
		if (strlen(v) >= len) {
			jg_client_fail("%s: path too long", v);
			return -1;
		}
		snprintf(dst, len, "%s", v);
		return 0;
	}
	if (c->state_dir[0] == '\0') {
		jg_client_fail("cannot find %s: neither JUMPGATE_HOME nor HOME is set (set %s)",
			       name, env);
		return -1;
	}
	if (jg_paths_join(dst, len, c->state_dir, name) != 0) {
		jg_client_fail("%s/%s: path too long", c->state_dir, name);
		return -1;
	}
	c->defaults |= bit;
	return 0;
}

/* Seconds in V (MIN-3600) into *OUT; DEF when V is unset or empty.  0 or -1. */
static int parse_seconds(const char *v, int min, int def, int *out)
{
	char *end;
	long n;

	*out = def;
	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > 3600)
		return -1;
	*out = (int)n;
	return 0;
}

int jg_client_setup(struct jg_client *c)
{
	const char *gw = c->opt_gateway;

	if (gw == NULL || gw[0] == '\0')
		gw = getenv("JUMPGATE_GATEWAY");
	if (gw == NULL || gw[0] == '\0')
		gw = JG_DEFAULT_GATEWAY;
	if (jg_failover_setup(c, gw) != 0)
		return JG_EXIT_USAGE;
	if (getenv("JUMPGATE_RETRY") != NULL && strcmp(getenv("JUMPGATE_RETRY"), "1") == 0)
		c->retry = 1;
	if (parse_seconds(getenv("JUMPGATE_CONNECT_TIMEOUT"), 1, JG_DEFAULT_CONNECT_TIMEOUT,
			  &c->connect_timeout) != 0)
		return jg_client_usage("JUMPGATE_CONNECT_TIMEOUT='%s' is not a number of seconds "
				       "between 1 and 3600",
				       getenv("JUMPGATE_CONNECT_TIMEOUT"));
	if (c->opt_timeout == NULL)
		c->opt_timeout = getenv("JUMPGATE_TIMEOUT");
	if (parse_seconds(c->opt_timeout, 0, JG_DEFAULT_TIMEOUT, &c->timeout) != 0)
		return jg_client_usage("timeout '%s' (--timeout, JUMPGATE_TIMEOUT) is not a number "
				       "of seconds between 0 (none) and 3600",
				       c->opt_timeout);
	if (c->opt_persist == NULL)
		c->opt_persist = getenv("JUMPGATE_PERSIST");
	if (c->opt_persist != NULL && strcmp(c->opt_persist, "no") == 0)
		c->persist = 0;
	else if (parse_seconds(c->opt_persist, 0, JG_DEFAULT_PERSIST, &c->persist) != 0)
		return jg_client_usage("persist time '%s' (--persist, JUMPGATE_PERSIST) is not a "
				       "number of seconds between 0 (off) and 3600, or 'no'",
				       c->opt_persist);
	/* The Unix socket has no TLS: the kernel tells the gateway who we are. */
	if (c->unix_path[0] != '\0') {
		c->persist = 0; /* and it is local already: nothing to keep open */
		return 0;
	}
	if (jg_paths_state_dir(c->state_dir, sizeof(c->state_dir)) != 0)
		c->state_dir[0] = '\0';
	if (pick_file(c, c->cert, sizeof(c->cert), c->opt_cert, "JUMPGATE_CERT", JG_CLIENT_CERT,
		      JG_CLIENT_DEFAULT_CERT) != 0 ||
	    pick_file(c, c->key, sizeof(c->key), c->opt_key, "JUMPGATE_KEY", JG_CLIENT_KEY,
		      JG_CLIENT_DEFAULT_KEY) != 0 ||
	    pick_file(c, c->ca, sizeof(c->ca), c->opt_ca, "JUMPGATE_CA", JG_CA_CERT,
		      JG_CLIENT_DEFAULT_CA) != 0)
		return JG_EXIT_FAILURE;
	return 0;
}

/* A closed stdin, stdout or stderr would be reused by the first socket we open, and the
 * program's output would go down the wire: put /dev/null there instead. */
static void guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(JG_EXIT_FAILURE);
	}
}

enum { OPT_CERT = 256, OPT_KEY, OPT_CA, OPT_VERSION, OPT_TIMEOUT, OPT_PERSIST };

typedef int (*jg_command_fn)(struct jg_client *c, int argc, char **argv);

static jg_command_fn find_command(const char *name)
{
	static const struct {
		const char *name;
		jg_command_fn run;
	} commands[] = {
	    {"exec", jg_cmd_exec},
	    {"reset", jg_cmd_reset},
	    {"stats", jg_cmd_stats},
	    {"cp", jg_cmd_cp},
	    {"run", jg_cmd_run},
	    {"rsh", jg_cmd_rsh},
	    {"connect", jg_cmd_connect},
	    {"routes", jg_cmd_routes},
	    {JG_MUX_MASTER_CMD, jg_cmd_master},
	    {"targets", jg_cmd_targets},
	    {"whoami", jg_cmd_whoami},
	};

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run;
	return NULL;
}

/* RUN with the event loop it needs; its exit status. */
static int run_command(struct jg_client *c, jg_command_fn run, int argc, char **argv)
{
	int status;

	/* A gateway that goes away must not kill us with SIGPIPE: we report it instead. */
	signal(SIGPIPE, SIG_IGN);
	if ((c->base = event_base_new()) == NULL) {
		jg_client_fail("cannot create the event loop: %s", strerror(errno));
		return JG_EXIT_FAILURE;
	}
	/* Commands that read no stdin can be run again as they were (failover.h). */
	c->rerun_unheard = run == jg_cmd_cp || run == jg_cmd_run;
	status = run(c, argc, argv);
	while (jg_failover_rerun(c, status))
		status = run(c, argc, argv);
	/* A bufferevent freed with a deferred callback still queued (the TLS filter
	 * queues them as the socket drains) is destroyed only when that callback has
	 * run: one last turn of the loop, which never blocks, lets them finish. */
	event_base_loop(c->base, EVLOOP_NONBLOCK);
	event_base_free(c->base);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"gateway", required_argument, NULL, 'g'},
	    {"cert", required_argument, NULL, OPT_CERT},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"persist", required_argument, NULL, OPT_PERSIST},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	struct jg_client c;
	const char *cmd;
	jg_command_fn run;
	int ch;

	guard_std_fds();
	memset(&c, 0, sizeof(c));
	/* A bulk transfer allocates and frees megabyte buffers all the time (relay/heap.h; a
	 * 256 MiB cp made 2,240 brk calls, most of the client's system time): a short-lived
	 * process keeps up to 32 MiB free. */
	jg_heap_tune(32 << 20, 4 << 20);
	jg_log_init("jumpgate", JG_LOG_WARN);
	/* Called by a stand-in's name (a symlink to us): ssh's, scp's or sftp's argv, no
	 * global options of ours; the environment names the gateway and the certificate. */
	switch (jg_standin_kind(argv[0])) {
	case JG_STANDIN_SSH:
		return run_command(&c, jg_cmd_rsh, argc, argv);
	case JG_STANDIN_SCP:
	case JG_STANDIN_SFTP:
		return jg_standin_exec(jg_standin_kind(argv[0]), argc, argv);
	case JG_STANDIN_NONE:
		break;
	}
	opterr = 0; /* we word the messages ourselves, on one line */
	while ((ch = getopt_long(argc, argv, "+:g:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			c.opt_gateway = optarg;
			break;
		case OPT_CERT:
			c.opt_cert = optarg;
			break;
		case OPT_KEY:
			c.opt_key = optarg;
			break;
		case OPT_CA:
			c.opt_ca = optarg;
			break;
		case OPT_TIMEOUT:
			c.opt_timeout = optarg;
			break;
		case OPT_PERSIST:
			c.opt_persist = optarg;
			break;
		case 'v':
			c.verbose++;
			break;
		case 'h':
			jg_help_main();
			return 0;
		case OPT_VERSION:
			printf("jumpgate %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			return jg_client_usage("option %s needs an argument", argv[optind - 1]);
		default:
			if (optopt != 0)
				return jg_client_usage("unknown option -%c", optopt);
			return jg_client_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return jg_client_usage("no command given");
	cmd = argv[optind];
	if (strcmp(cmd, "help") == 0) {
		if (optind + 2 < argc)
			return jg_client_usage("help takes one COMMAND at most");
		return jg_help_show(optind + 1 < argc ? argv[optind + 1] : NULL);
	}
	if ((run = find_command(cmd)) == NULL)
		return jg_client_usage("unknown command '%s'", cmd);
	if (c.verbose > 0)
		jg_log_set_level(c.verbose > 1 ? JG_LOG_DEBUG : JG_LOG_INFO);
	return run_command(&c, run, argc - optind, argv + optind);
}
