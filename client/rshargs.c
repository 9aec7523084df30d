/* ssh's argv -> a jumpgate exec; see rshargs.h for the contract.
 *
 * The option letters are those of OpenSSH 9's ssh(1).  The parser is a small getopt of
 * its own rather than getopt(3): it keeps no global state (the unit tests call it many
 * times) and must restart after the host as ssh does, which GNU getopt's permutation
 * would get wrong ("ssh host -p 22 cmd -x": -p is an option, -x a command word). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/rshargs.h"
#include "config/target.h"
#include "relay/err.h"

/* Flags that take no value, and options that take one (ssh.c's getopt string). */
static const char rsh_flags[] = "246AaCfGgKkMNnqsTtVvXxYy";
static const char rsh_valued[] = "BbcDEeFIiJLlmOopPQRSWw";

/* Where sftp-server lives on the usual systems (Debian, Red Hat, Arch, BSDs, Homebrew);
 * ssh asks sshd for the subsystem, we have no sshd to ask. */
const char jg_rshargs_sftp_starter[] =
    "for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server "
    "/usr/libexec/sftp-server /usr/lib/ssh/sftp-server /usr/lib/sftp-server "
    "/usr/local/libexec/sftp-server; do [ -x \"$p\" ] && exec \"$p\"; done; "
    "echo 'jumpgate rsh: no sftp-server on this host' >&2; exit 127";

/* Words quoted for a message at most this long (bytes of the word), then "...". */
#define RSH_QUOTE_MAX 80
#define RSH_QUOTE_SIZE (RSH_QUOTE_MAX * 4 + 8)

/* The parser's working state: what the options said, before the target is built. */
struct rsh_state {
	struct jg_rshargs *a;
	char *err;
	size_t errlen;
	int tty_t;	       /* the number of -t */
	int tty_T;	       /* -T */
	int request_tty;       /* -o RequestTTY: -1 unset, else an enum jg_rshargs_tty */
	int config;	       /* -G */
	int subsystem;	       /* -s or SessionType=subsystem */
	int have_user;	       /* the first user given wins, as in ssh */
	int agent_set;	       /* -A, -a or ForwardAgent seen: later ForwardAgent is ignored */
	char hostname[300];    /* -o HostName, "" when none */
	char remote_cmd[4096]; /* -o RemoteCommand, "" when none or "none" */
	char ctl[16];	       /* -O command, "" when none */
	/* Quoted words for the message being built (rsh_q), used in turn: a message
	 * names at most this many. */
	char quoted[3][RSH_QUOTE_SIZE];
	int nquoted;
};

size_t jg_rshargs_quote(char *buf, size_t size, const char *w, size_t max)
{
	size_t o = 0, i;

	if (size == 0)
		return 0;
	for (i = 0; w[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)w[i];
		size_t need = c == '\\' ? 2 : (c < 0x20 || c >= 0x7f) ? 4 : 1;

		if (o + need + 4 > size) /* room for "..." and the NUL */
			break;
		if (c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\\\");
		else if (need == 4)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (w[i] != '\0' && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return o;
}

/* W quoted (jg_rshargs_quote) into the next of the state's buffers, for one message:
 * every word of ours that a refusal names goes through here, so a hostile host name
 * cannot put terminal escapes on the controller's stderr. */
static const char *rsh_q(struct rsh_state *s, const char *w)
{
	char *buf = s->quoted[s->nquoted++ % 3];

	jg_rshargs_quote(buf, RSH_QUOTE_SIZE, w, RSH_QUOTE_MAX);
	return buf;
}

/* The same for the first LEN bytes of W (fewer when its NUL comes first), at most MAX
 * (<= RSH_QUOTE_MAX) of them shown. */
static const char *rsh_qn(struct rsh_state *s, const char *w, size_t len, size_t max)
{
	char word[RSH_QUOTE_MAX + 2], *buf = s->quoted[s->nquoted++ % 3];

	len = strnlen(w, len);
	if (len > max + 1)
		len = max + 1; /* one more than shown: the quote adds "..." */
	memcpy(word, w, len);
	word[len] = '\0';
	jg_rshargs_quote(buf, RSH_QUOTE_SIZE, word, max);
	return buf;
}

static int rsh_fail(struct rsh_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rsh_fail(struct rsh_state *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return JG_ERR_INVAL;
}

/* Copy SRC into DST (SIZE bytes) or fail naming WHAT: our buffers are bounded by the
 * target grammar, so anything longer is wrong anyway. */
static int rsh_copy(struct rsh_state *s, char *dst, size_t size, const char *src, size_t len,
		    const char *what)
{
	if (len >= size)
		return rsh_fail(s, "%s '%s' is too long", what, rsh_qn(s, src, len, 40));
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Decimal 1..65535 only: ssh would also look up a service name, we do not. */
static int rsh_port(struct rsh_state *s, const char *opt, const char *v)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9' && n <= 65535; i++)
		n = n * 10 + (unsigned long)(v[i] - '0');
	if (i == 0 || v[i] != '\0' || n < 1 || n > 65535)
		return rsh_fail(s, "%s '%s': not a port number (1-65535)", opt, rsh_q(s, v));
	if (s->a->port == 0)
		s->a->port = (unsigned)n;
	return 0;
}

static int rsh_user(struct rsh_state *s, const char *v, size_t len)
{
	if (s->have_user)
		return 0;
	s->have_user = 1;
	return rsh_copy(s, s->a->user, sizeof(s->a->user), v, len, "user");
}

/* The first word of an -o value as ssh's argv_split reads it: double or single quotes
 * group (and are removed), a backslash outside single quotes takes the next character
 * literally.  *REST points after the word and any blanks behind it. */
static int rsh_word(struct rsh_state *s, const char *key, const char *v, char *out, size_t size,
		    const char **rest)
{
	size_t n = 0;
	char quote = 0, c;

	for (; (c = *v) != '\0'; v++) {
		if (quote == 0 && (c == ' ' || c == '\t'))
			break;
		if (quote == 0 && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		}
		if (quote != 0 && c == quote) {
			quote = 0;
			continue;
		}
		if (c == '\\' && quote != '\'' && v[1] != '\0')
			c = *++v;
		if (n + 1 >= size)
			return rsh_fail(s, "-o %s: value too long", rsh_q(s, key));
		out[n++] = c;
	}
	if (quote != 0)
		return rsh_fail(s, "-o %s: unterminated quote", rsh_q(s, key));
	out[n] = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	*rest = v;
	return 0;
}

/* Every word of V appended to LIST (SendEnv patterns, SetEnv NAME=VALUE). */
static int rsh_words(struct rsh_state *s, const char *key, const char *v, char **list,
		     size_t *count, int want_assign)
{
	char word[4096];
	int r;

	while (*v != '\0') {
		if ((r = rsh_word(s, key, v, word, sizeof(word), &v)) != 0)
			return r;
		if (want_assign && (word[0] == '=' || strchr(word, '=') == NULL))
			return rsh_fail(s, "-o %s: '%s' is not NAME=VALUE", rsh_q(s, key),
					rsh_q(s, word));
		if (*count >= JG_RSHARGS_ENV_MAX)
			return rsh_fail(s, "-o %s: more than %d entries", rsh_q(s, key),
					JG_RSHARGS_ENV_MAX);
		if ((list[*count] = strdup(word)) == NULL)
			return JG_ERR_NOMEM;
		(*count)++;
	}
	return 0;
}

/* yes/no/force/auto of RequestTTY, and yes/no of the boolean options we honour. */
static int rsh_choice(struct rsh_state *s, const char *key, const char *v, const char *const *names,
		      size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(v, names[i]) == 0)
			return (int)i;
	return rsh_fail(s, "-o %s: unsupported value '%s'", rsh_q(s, key), rsh_q(s, v));
}

/* One -o argument: "Key=Value", "Key Value", "Key = Value" (keys are case-insensitive). */
static int rsh_option(struct rsh_state *s, const char *arg)
{
	static const char *const yesno[] = {"no", "yes"};
	static const char *const reqtty[] = {"no", "auto", "yes", "force"};
	static const char *const session[] = {"default", "subsystem", "none"};
	char key[64], value[4096];
	const char *p = arg, *v, *rest;
	size_t klen;
	int r;

	while (*p == ' ' || *p == '\t')
		p++;
	klen = strcspn(p, " \t=");
	if (klen == 0 || klen >= sizeof(key))
		return rsh_fail(s, "-o '%s': expected KEY=VALUE or 'KEY VALUE'", rsh_q(s, arg));
	memcpy(key, p, klen);
	key[klen] = '\0';
	v = p + klen;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '=')
		v++;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0')
		return rsh_fail(s, "-o '%s': %s has no value", rsh_q(s, arg), rsh_q(s, key));

	if (strcasecmp(key, "SendEnv") == 0)
		return rsh_words(s, key, v, s->a->sendenv, &s->a->nsendenv, 0);
	if (strcasecmp(key, "SetEnv") == 0)
		return rsh_words(s, key, v, s->a->setenv, &s->a->nsetenv, 1);
	/* RemoteCommand is the rest of the line, as ssh takes it. */
	if (strcasecmp(key, "RemoteCommand") == 0) {
		if (strcasecmp(v, "none") == 0)
			s->remote_cmd[0] = '\0';
		else if (s->remote_cmd[0] == '\0')
			return rsh_copy(s, s->remote_cmd, sizeof(s->remote_cmd), v, strlen(v),
					"-o RemoteCommand");
		return 0;
	}
	/* Any other ssh option is accepted and ignored, whatever its value. */
	if (strcasecmp(key, "User") != 0 && strcasecmp(key, "Port") != 0 &&
	    strcasecmp(key, "HostName") != 0 && strcasecmp(key, "RequestTTY") != 0 &&
	    strcasecmp(key, "StdinNull") != 0 && strcasecmp(key, "SessionType") != 0 &&
	    strcasecmp(key, "ForwardAgent") != 0)
		return 0;
	if ((r = rsh_word(s, key, v, value, sizeof(value), &rest)) != 0)
		return r;
	if (strcasecmp(key, "User") == 0)
		r = rsh_user(s, value, strlen(value));
	else if (strcasecmp(key, "Port") == 0)
		r = rsh_port(s, "-o Port", value);
	else if (strcasecmp(key, "HostName") == 0) {
		if (strchr(value, '%') != NULL)
			return rsh_fail(s, "-o HostName '%s': %% tokens are not supported",
					rsh_q(s, value));
		if (s->hostname[0] == '\0')
			r = rsh_copy(s, s->hostname, sizeof(s->hostname), value, strlen(value),
				     "-o HostName");
	} else if (strcasecmp(key, "RequestTTY") == 0) {
		/* In the order of reqtty[]; auto means no terminal since a command is given. */
		static const enum jg_rshargs_tty map[] = {JG_RSHARGS_TTY_NO, JG_RSHARGS_TTY_NO,
							  JG_RSHARGS_TTY_IF_TERMINAL,
							  JG_RSHARGS_TTY_FORCE};

		if ((r = rsh_choice(s, key, value, reqtty, 4)) >= 0 && s->request_tty < 0)
			s->request_tty = (int)map[r];
		r = r < 0 ? r : 0;
	} else if (strcasecmp(key, "StdinNull") == 0) {
		if ((r = rsh_choice(s, key, value, yesno, 2)) > 0)
			s->a->stdin_null = 1;
		r = r < 0 ? r : 0;
	} else if (strcasecmp(key, "ForwardAgent") == 0) {
		/* yes: the gateway's onward ssh uses our agent (client/agentrelay.h); a socket
		 * path or $VARIABLE would name another agent, which we do not relay. */
		if ((r = rsh_choice(s, key, value, yesno, 2)) >= 0 && !s->agent_set) {
			s->a->forward_agent = r;
			s->agent_set = 1;
		}
		r = r < 0 ? r : 0;
	} else { /* SessionType */
		if ((r = rsh_choice(s, key, value, session, 3)) == 2)
			return rsh_fail(s, "-o SessionType=none (no remote command) is not "
					   "supported");
		if (r == 1)
			s->subsystem = 1;
		r = r < 0 ? r : 0;
	}
	if (r == 0 && *rest != '\0')
		return rsh_fail(s, "-o '%s': garbage after the value of %s", rsh_q(s, arg),
				rsh_q(s, key));
	return r;
}

/* One option letter OPT with its value V (NULL for a flag). */
static int rsh_letter(struct rsh_state *s, char opt, const char *v)
{
	switch (opt) {
	case 'l':
		return rsh_user(s, v, strlen(v));
	case 'p':
		return rsh_port(s, "-p", v);
	case 'o':
		return rsh_option(s, v);
	case 't':
		s->tty_t++;
		return 0;
	case 'T':
		s->tty_T = 1;
		return 0;
	case 'n':
	case 'f': /* we stay in the foreground, but like ssh -f we read no stdin */
		s->a->stdin_null = 1;
		return 0;
	case 's':
		s->subsystem = 1;
		return 0;
	case 'v':
		s->a->verbose++;
		return 0;
	case 'q':
		s->a->quiet = 1;
		return 0;
	case 'A': /* the last of -A and -a wins, as in ssh; either beats -o ForwardAgent */
	case 'a':
		s->a->forward_agent = opt == 'A';
		s->agent_set = 1;
		return 0;
	case 'O':
		if (strcmp(v, "check") != 0 && strcmp(v, "exit") != 0 && strcmp(v, "stop") != 0)
			return rsh_fail(s,
					"-O %s: jumpgate rsh keeps no control master "
					"(only check, exit and stop are understood)",
					rsh_q(s, v));
		return rsh_copy(s, s->ctl, sizeof(s->ctl), v, strlen(v), "-O");
	case 'G':
		s->config = 1;
		return 0;
	case 'Q':
		return rsh_fail(s, "-Q %s (query ssh's algorithms) is not supported", rsh_q(s, v));
	case 'N':
		return rsh_fail(s, "-N (no remote command, forwarding only) is not supported");
	case 'W':
		return rsh_fail(s,
				"-W %s is not supported: use 'jumpgate connect HOST PORT' as "
				"the ProxyCommand instead",
				rsh_q(s, v));
	default:
		return 0; /* the rest of ssh's options: accepted and ignored */
	}
}

/* Parse the options starting at *I up to the first word that is not one (or "--",
 * consumed; *DASHDASH set).  0, 1 for -V or --help (A->action set), or an error. */
static int rsh_options(struct rsh_state *s, int argc, char *const *argv, int *i, int *dashdash)
{
	int r;

	for (; *i < argc; (*i)++) {
		const char *w = argv[*i];

		if (strcmp(w, "--") == 0) {
			(*i)++;
			*dashdash = 1;
			return 0;
		}
		if (strcmp(w, "--help") == 0) {
			s->a->action = JG_RSHARGS_HELP;
			return 1;
		}
		if (w[0] != '-' || w[1] == '\0')
			return 0;
		if (w[1] == '-')
			return rsh_fail(s, "unknown option '%s'", rsh_q(s, w));
		for (const char *p = w + 1; *p != '\0'; p++) {
			const char *v;

			if (*p == 'V') {
				s->a->action = JG_RSHARGS_VERSION;
				return 1;
			}
			if (strchr(rsh_flags, *p) != NULL) {
				if ((r = rsh_letter(s, *p, NULL)) != 0)
					return r;
				continue;
			}
			if (strchr(rsh_valued, *p) == NULL)
				return rsh_fail(s, "unknown option -%s (in '%s')",
						rsh_qn(s, p, 1, 1), rsh_q(s, w));
			if (p[1] != '\0') {
				v = p + 1;
			} else if (*i + 1 < argc) {
				v = argv[++(*i)];
			} else {
				return rsh_fail(s, "option -%c needs a value", *p);
			}
			if ((r = rsh_letter(s, *p, v)) != 0)
				return r;
			break; /* the value took the rest of the word */
		}
	}
	return 0;
}

/* An IPv6 address as ssh takes it: hex digits, ':' and '.', two colons at least. */
static int rsh_is_ipv6(const char *h)
{
	size_t colons = 0;

	for (; *h != '\0'; h++) {
		if (*h == ':')
			colons++;
		else if (strchr("0123456789abcdefABCDEF.", *h) == NULL)
			return 0;
	}
	return colons >= 2;
}

/* "ssh://[user@]host[:port]" (ssh(1) takes this URI form since OpenSSH 7.7). */
static int rsh_uri(struct rsh_state *s, const char *uri)
{
	const char *p = uri + 6, *at = strchr(p, '@'), *colon;
	char port[8];
	int r;

	if (at != NULL) {
		if ((r = rsh_user(s, p, (size_t)(at - p))) != 0)
			return r;
		p = at + 1;
	}
	if (p[0] == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return rsh_fail(s, "'%s': bad IPv6 address in the URI", rsh_q(s, uri));
		if ((r = rsh_copy(s, s->a->host, sizeof(s->a->host), p + 1, (size_t)(rb - p - 1),
				  "host")) != 0)
			return r;
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strchr(p, ':');
		if ((r = rsh_copy(s, s->a->host, sizeof(s->a->host), p,
				  colon != NULL ? (size_t)(colon - p) : strlen(p), "host")) != 0)
			return r;
	}
	if (colon == NULL)
		return 0;
	if ((r = rsh_copy(s, port, sizeof(port), colon + 1, strlen(colon + 1), "port")) != 0)
		return r;
	return rsh_port(s, "ssh:// port", port);
}

/* The host word: "[user@]host" or an ssh:// URI.  User and port go to A. */
static int rsh_host(struct rsh_state *s, const char *w)
{
	const char *at, *colon;
	int r;

	if (w[0] == '\0')
		return rsh_fail(s, "empty host");
	if (strncmp(w, "ssh://", 6) == 0)
		return rsh_uri(s, w);
	/* A spec of ours ("ssh:deploy@db7", "a/b") is whole: its '@' is not ssh's. */
	colon = strchr(w, ':');
	at = strchr(w, '@');
	if (strchr(w, '/') != NULL ||
	    (colon != NULL && (at == NULL || colon < at) && !rsh_is_ipv6(w)))
		return rsh_copy(s, s->a->host, sizeof(s->a->host), w, strlen(w), "host");
	/* The last '@' splits, as in ssh: a user name may not hold one, but why guess. */
	if ((at = strrchr(w, '@')) != NULL) {
		if (at == w)
			return rsh_fail(s, "'%s': empty user before '@'", rsh_q(s, w));
		if ((r = rsh_user(s, w, (size_t)(at - w))) != 0)
			return r;
		w = at + 1;
	}
	if (w[0] == '[' && w[strlen(w) - 1] == ']') /* ssh takes [::1] too */
		return rsh_copy(s, s->a->host, sizeof(s->a->host), w + 1, strlen(w) - 2, "host");
	return rsh_copy(s, s->a->host, sizeof(s->a->host), w, strlen(w), "host");
}

/* A->target from the host, user and port (the rule in rshargs.h). */
static int rsh_target(struct rsh_state *s)
{
	struct jg_rshargs *a = s->a;
	const char *host = s->hostname[0] != '\0' ? s->hostname : a->host;
	int v6 = rsh_is_ipv6(host), n;
	char why[256], port[8] = "";

	/* A spec of ours: "local", "ssh:...", a chain "a/b", or some method "m:x".  The
	 * gateway validates it whole, but two things are refused here already: a leading
	 * '-' (never a target; an option to whatever reads it) and bytes that are not
	 * printable ASCII (no target has them, and our own messages print the target). */
	if (!v6 && (strcmp(host, "local") == 0 || strchr(host, ':') != NULL ||
		    strchr(host, '/') != NULL)) {
		if (host[0] == '-')
			return rsh_fail(s, "bad host '%s': a target may not start with '-'",
					rsh_q(s, host));
		/* Name the byte refused: "whitespace, control characters..." for a ';'
		 * sends a person looking for the wrong thing.  Shell characters are no
		 * part of any spec either (the gateway would refuse them too). */
		for (const char *p = host; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
			    strchr(";&|`$<>'\"\\(){}*?!~^#", *p) != NULL) {
				jg_target_bad_char(why, sizeof(why), (unsigned char)*p);
				return rsh_fail(s, "bad host '%s': %s in a target", rsh_q(s, host),
						why);
			}
		if (a->user[0] != '\0' || a->port != 0)
			return rsh_fail(s,
					"'%s' is a jumpgate target spec: put the user and port "
					"in it (ssh:USER@HOST:PORT) instead of giving %s",
					rsh_q(s, host),
					a->user[0] != '\0' ? "a user (-l, -o User, USER@)"
							   : "a port (-p, -o Port)");
		return rsh_copy(s, a->target, sizeof(a->target), host, strlen(host), "host");
	}
	/* Checked here, on the client, so that the error names the word as given. */
	if (!v6 && jg_target_check_host(host, why, sizeof(why)) != 0)
		return rsh_fail(s, "bad host: %s", why);
	if (a->user[0] != '\0' && jg_target_check_user(a->user, why, sizeof(why)) != 0)
		return rsh_fail(s, "bad user: %s", why);
	if (a->user[0] == '\0' && a->port == 0) {
		n = snprintf(a->target, sizeof(a->target), v6 ? "[%s]" : "%s", host);
	} else {
		if (a->port != 0)
			snprintf(port, sizeof(port), ":%u", a->port);
		n = snprintf(a->target, sizeof(a->target), v6 ? "ssh:%s%s[%s]%s" : "ssh:%s%s%s%s",
			     a->user, a->user[0] != '\0' ? "@" : "", host, port);
	}
	if (n < 0 || (size_t)n >= sizeof(a->target))
		return rsh_fail(s, "host '%s' is too long", rsh_qn(s, host, strlen(host), 40));
	return 0;
}

/* The command words joined with single spaces, as ssh joins them (no quoting added). */
static int rsh_join(struct rsh_state *s, int argc, char *const *argv, int i)
{
	size_t len = 0, off = 0;

	if (i >= argc && s->remote_cmd[0] != '\0') {
		if ((s->a->command = strdup(s->remote_cmd)) == NULL)
			return JG_ERR_NOMEM;
		return 0;
	}
	if (i < argc && s->remote_cmd[0] != '\0')
		return rsh_fail(s, "a command and -o RemoteCommand were both given");
	for (int j = i; j < argc; j++)
		len += strlen(argv[j]) + 1;
	if (len == 0 || (len == 1 && argv[i][0] == '\0'))
		return rsh_fail(s, "no command given: jumpgate rsh needs one; for an interactive "
				   "shell use jumpgate exec -t TARGET -- $SHELL -l");
	if ((s->a->command = malloc(len)) == NULL)
		return JG_ERR_NOMEM;
	for (int j = i; j < argc; j++) {
		size_t n = strlen(argv[j]);

		if (j > i)
			s->a->command[off++] = ' ';
		memcpy(s->a->command + off, argv[j], n);
		off += n;
	}
	s->a->command[off] = '\0';
	return 0;
}

/* -t, -tt, -T and RequestTTY into one decision; the command-line flags beat -o, as in
 * ssh (whose -t and -T set RequestTTY before the configuration is read). */
static enum jg_rshargs_tty rsh_tty(const struct rsh_state *s)
{
	if (s->tty_T)
		return JG_RSHARGS_TTY_NO;
	if (s->tty_t >= 2)
		return JG_RSHARGS_TTY_FORCE;
	if (s->tty_t == 1)
		return JG_RSHARGS_TTY_IF_TERMINAL;
	if (s->request_tty >= 0)
		return (enum jg_rshargs_tty)s->request_tty;
	return JG_RSHARGS_TTY_NO; /* auto: a command is given, so no terminal */
}

int jg_rshargs_parse(struct jg_rshargs *a, int argc, char *const *argv, char *err, size_t errlen)
{
	struct rsh_state s = {.a = a, .err = err, .errlen = errlen, .request_tty = -1};
	int i = 0, dashdash = 0, r;

	memset(a, 0, sizeof(*a));
	if (errlen > 0)
		err[0] = '\0';
	if ((r = rsh_options(&s, argc, argv, &i, &dashdash)) != 0)
		goto out;
	if (i >= argc) {
		r = rsh_fail(&s, "no host given (jumpgate rsh [ssh options] HOST COMMAND...)");
		goto out;
	}
	if ((r = rsh_host(&s, argv[i++])) != 0)
		goto out;
	/* ssh reads options again after the host, unless "--" came before it. */
	if (!dashdash && (r = rsh_options(&s, argc, argv, &i, &dashdash)) != 0)
		goto out;
	if ((r = rsh_target(&s)) != 0)
		goto out;
	a->tty = rsh_tty(&s);
	if (s.config) {
		a->action = JG_RSHARGS_CONFIG;
		goto out;
	}
	if (s.ctl[0] != '\0') {
		a->action =
		    strcmp(s.ctl, "check") == 0 ? JG_RSHARGS_CTL_NONE : JG_RSHARGS_CTL_STOPPED;
		goto out;
	}
	if (s.subsystem) {
		if (i + 1 != argc || strcmp(argv[i], "sftp") != 0) {
			r = rsh_fail(&s, "-s: only the sftp subsystem is supported, not '%s'",
				     rsh_q(&s, i < argc ? argv[i] : ""));
			goto out;
		}
		a->argv[2] = (char *)jg_rshargs_sftp_starter;
	} else {
		if ((r = rsh_join(&s, argc, argv, i)) != 0)
			goto out;
		a->argv[2] = a->command;
	}
	a->argv[0] = "/bin/sh";
	a->argv[1] = "-c";
	a->argv[3] = NULL;
out:
	if (r == 1) /* -V, --help: an action, not an error */
		r = 0;
	if (r == JG_ERR_NOMEM && errlen > 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

void jg_rshargs_clear(struct jg_rshargs *a)
{
	for (size_t i = 0; i < a->nsetenv; i++)
		free(a->setenv[i]);
	for (size_t i = 0; i < a->nsendenv; i++)
		free(a->sendenv[i]);
	free(a->command);
	memset(a, 0, sizeof(*a));
}
