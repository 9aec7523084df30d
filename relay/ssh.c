/* The ssh onward method: the OpenSSH client's argv, and a watcher of what
 * ssh prints.
 *
 * The argv is built so that nothing taken from a target spec can become an
 * ssh option: "--" ends ssh's options before the host, and ssh parses options
 * after the host otherwise (ssh host -oProxyCommand=... would run a command
 * here).  The config validates host and user first; the checks here are the
 * second line of defence, and the ssh_args checks mostly catch an admin's
 * mistakes.
 *
 * The watcher is sans-I/O: the pool feeds it the bytes of ssh's terminal and
 * stderr and asks what they mean.  OpenSSH has no machine-readable errors, so
 * failures are recognised by the texts of its messages (OpenSSH 8 and 9). */
#include "config.h" /* _GNU_SOURCE: strcasestr */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "relay/argv.h"
#include "relay/err.h"
#include "relay/ssh.h"

/* ---- argv ---- */

/* ERR gets S made printable: it is refused input and may hold anything. */
static void __attribute__((format(printf, 4, 5)))
refuse(char *err, size_t errlen, const char *s, const char *fmt, ...)
{
	char shown[64];
	size_t i;
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	for (i = 0; s != NULL && s[i] != '\0' && i < sizeof(shown) - 4; i++)
		shown[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	strcpy(shown + i, s != NULL && s[i] != '\0' ? "..." : "");
	snprintf(err, errlen, "\"%s\": ", shown);
	va_start(ap, fmt);
	vsnprintf(err + strlen(err), errlen - strlen(err), fmt, ap);
	va_end(ap);
}

/* Host and user: a word that neither ssh nor any shell on the way reads as
 * something else. */
static const char *bad_word(const char *s)
{
	if (s[0] == '\0')
		return "empty";
	if (s[0] == '-')
		return "starts with '-'";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return "contains whitespace or a control character";
		if (strchr("'\"`$\\;&|<>()*?[]{}!#~", *p) != NULL)
			return "contains a shell metacharacter";
	}
	return NULL;
}

/* A path ssh expands (tilde, %-tokens, ${VAR}): what it would expand or, for a
 * config-line value (PREFIX set), split is refused, not escaped: ssh stat()s
 * an -i path before expanding it, so no escape works for both. */
static char *ssh_path_arg(const char *prefix, const char *path, const char **why)
{
	char *out;

	*why = NULL;
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		if (*p < ' ' || *p == 0x7f || *p == '%' ||
		    (*prefix != '\0' && strchr(" \t'\"\\", *p) != NULL))
			*why = "contains a character ssh would expand, split or misread";
	if (path[0] == '\0')
		*why = "empty";
	if (strstr(path, "${") != NULL)
		*why = "contains \"${\", which ssh expands";
	if (*why != NULL || asprintf(&out, "%s%s", prefix, path) < 0)
		return NULL;
	return out;
}

/* ssh options that take a value as the next argument (from ssh's getopt string). */
static int takes_value(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0' &&
	       strchr("bceilmopBDEFIJLOPQRSWw", arg[1]) != NULL;
}

/* Options that run local commands are configuration-time only: an admin who
 * needs a ProxyCommand puts it in the gateway user's ~/.ssh/config. */
static const char *const forbidden_options[] = {
    "ProxyCommand", "LocalCommand", "PermitLocalCommand", "KnownHostsCommand", NULL,
};

/* Whether ssh_args choose the ciphers themselves (-c LIST, -c, or -o Ciphers=...): then
 * they win over the ciphers key. */
static int args_set_ciphers(char *const *args)
{
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		const char *a = args[i];

		if (strncmp(a, "-c", 2) == 0 || strncasecmp(a, "ciphers", 7) == 0 ||
		    strncasecmp(a, "-ociphers", 9) == 0)
			return 1;
	}
	return 0;
}

static int check_ssh_args(char *const *args, char *err, size_t errlen)
{
	const char *prev = NULL;

	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		const char *a = args[i];

		for (const char *const *f = forbidden_options; *f != NULL; f++)
			if (strcasestr(a, *f) != NULL) {
				refuse(err, errlen, a,
				       "ssh_args may not set %s (put it in ~/.ssh/config)", *f);
				return JG_ERR_INVAL;
			}
		if (strcmp(a, "--") == 0) {
			refuse(err, errlen, a, "ssh_args may not end ssh's options");
			return JG_ERR_INVAL;
		}
		if (a[0] != '-' && (prev == NULL || !takes_value(prev))) {
			refuse(err, errlen, a,
			       "ssh_args element is neither an option nor its value");
			return JG_ERR_INVAL;
		}
		/* A value is taken verbatim even when it starts with '-' ("-l -x"). */
		prev = prev != NULL && takes_value(prev) ? NULL : a;
	}
	if (prev != NULL && takes_value(prev)) {
		refuse(err, errlen, prev, "ssh_args ends with an option that needs a value");
		return JG_ERR_INVAL;
	}
	return 0;
}

int jg_ssh_argv(const struct jg_ssh_opts *o, const char *remote_command, char ***argv, char *err,
		size_t errlen)
{
	struct jg_argv b = {0};
	const char *why;
	char *arg;
	int r = JG_ERR_INVAL;

	*argv = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (o->host == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no ssh host");
		goto out;
	}
	if ((why = bad_word(o->host)) != NULL) {
		refuse(err, errlen, o->host, "ssh host refused: %s", why);
		goto out;
	}
	if (strchr(o->host, '@') != NULL) {
		refuse(err, errlen, o->host,
		       "ssh host refused: contains '@' (give the user apart)");
		goto out;
	}
	if (strchr(o->host, '/') != NULL) { /* "ssh://user@host:port" is a URI to ssh */
		refuse(err, errlen, o->host, "ssh host refused: contains '/'");
		goto out;
	}
	if (o->user != NULL && (why = bad_word(o->user)) != NULL) {
		refuse(err, errlen, o->user, "ssh user refused: %s", why);
		goto out;
	}
	if (remote_command == NULL || remote_command[0] == '\0') {
		/* Without one ssh starts a login shell, which nobody here wants. */
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no remote command for ssh");
		goto out;
	}
	if ((r = check_ssh_args(o->ssh_args, err, errlen)) != 0)
		goto out;
	r = JG_ERR_INVAL;

	jg_argv_push(&b, o->ssh_path != NULL ? o->ssh_path : "ssh");
	jg_argv_push(&b, "-T");
	jg_argv_push(&b, "-e");
	jg_argv_push(&b, "none");
	if (o->password == NULL) {
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "BatchMode=yes");
	} else {
		/* One prompt: a wrong password fails at once instead of asking again,
		 * and a key that works still wins. */
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "BatchMode=no");
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "NumberOfPasswordPrompts=1");
		jg_argv_push(&b, "-o");
		jg_argv_push(&b,
			     "PreferredAuthentications=publickey,keyboard-interactive,password");
	}
	if (o->user != NULL) {
		jg_argv_push(&b, "-l");
		jg_argv_push(&b, o->user);
	}
	if (o->port != 0) {
		jg_argv_push(&b, "-p");
		jg_argv_pushf(&b, "%u", (unsigned)o->port);
	}
	if (o->identity_file != NULL) {
		if ((arg = ssh_path_arg("", o->identity_file, &why)) == NULL && why != NULL) {
			refuse(err, errlen, o->identity_file, "identity_file refused: %s", why);
			goto out;
		}
		jg_argv_push(&b, "-i");
		jg_argv_push_take(&b, arg);
	}
	if (o->identities_only) {
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "IdentitiesOnly=yes");
	}
	switch (o->check_host_keys) {
	case JG_HOSTKEYS_IGNORE:
		/* Nothing read, nothing recorded; LogLevel=ERROR drops the
		 * "Permanently added" line that would otherwise end every stderr. */
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "StrictHostKeyChecking=no");
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "UserKnownHostsFile=/dev/null");
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "GlobalKnownHostsFile=/dev/null");
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "LogLevel=ERROR");
		break;
	case JG_HOSTKEYS_ACCEPT:
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "StrictHostKeyChecking=accept-new");
		break;
	case JG_HOSTKEYS_ENFORCE:
	default:
		/* Unset (0) is the safe choice, not ssh's "ask". */
		jg_argv_push(&b, "-o");
		jg_argv_push(&b, "StrictHostKeyChecking=yes");
		break;
	}
	if (o->known_hosts != NULL && o->check_host_keys != JG_HOSTKEYS_IGNORE) {
		if ((arg = ssh_path_arg("UserKnownHostsFile=", o->known_hosts, &why)) == NULL &&
		    why != NULL) {
			refuse(err, errlen, o->known_hosts, "known_hosts refused: %s", why);
			goto out;
		}
		jg_argv_push(&b, "-o");
		jg_argv_push_take(&b, arg);
	}
	if (o->connect_timeout_s != 0) {
		jg_argv_push(&b, "-o");
		jg_argv_pushf(&b, "ConnectTimeout=%u", (unsigned)o->connect_timeout_s);
	}
	if (o->keepalive_interval_s != 0) {
		jg_argv_push(&b, "-o");
		jg_argv_pushf(&b, "ServerAliveInterval=%u", (unsigned)o->keepalive_interval_s);
	}
	if (o->keepalive_count != 0) {
		jg_argv_push(&b, "-o");
		jg_argv_pushf(&b, "ServerAliveCountMax=%u", (unsigned)o->keepalive_count);
	}
	if (o->compression)
		jg_argv_push(&b, "-C");
	if (o->ciphers != NULL && !args_set_ciphers(o->ssh_args)) {
		jg_argv_push(&b, "-o");
		jg_argv_pushf(&b, "Ciphers=%s", o->ciphers);
	}
	for (size_t i = 0; o->ssh_args != NULL && o->ssh_args[i] != NULL; i++)
		jg_argv_push(&b, o->ssh_args[i]);
	for (int i = 0; i < o->debug_level && i < 3; i++)
		jg_argv_push(&b, "-v");
	/* "--": neither the host nor the command is read as an option. */
	jg_argv_push(&b, "--");
	jg_argv_push(&b, o->host);
	jg_argv_push(&b, remote_command);
	if (b.nomem) {
		r = JG_ERR_NOMEM;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory building the ssh command");
		goto out;
	}
	*argv = b.v;
	b.v = NULL;
	r = 0;
out:
	jg_argv_free(b.v);
	return r;
}

/* ---- watcher ---- */

void jg_ssh_watch_init(struct jg_ssh_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->failure = JG_SSH_FAIL_NONE;
}

/* Message texts, matched case-insensitively anywhere in a line. */
static const struct {
	const char *text;
	enum jg_ssh_failure failure;
} failure_texts[] = {
    {"Permission denied (", JG_SSH_FAIL_AUTH}, /* "user@host: Permission denied (publickey)." */
    {"Permission denied, please try again", JG_SSH_FAIL_AUTH},
    {"Too many authentication failures", JG_SSH_FAIL_AUTH},
    {"REMOTE HOST IDENTIFICATION HAS CHANGED", JG_SSH_FAIL_HOSTKEY_CHANGED},
    {"Host key verification failed", JG_SSH_FAIL_HOSTKEY_UNKNOWN},
    {"no matching host key type", JG_SSH_FAIL_REFUSED},
    {"Connection refused", JG_SSH_FAIL_REFUSED},
    {"Connection timed out", JG_SSH_FAIL_TIMEOUT}, /* also "... during banner exchange" */
    {"Operation timed out", JG_SSH_FAIL_TIMEOUT},
    {"Could not resolve hostname", JG_SSH_FAIL_RESOLVE},
    {"No route to host", JG_SSH_FAIL_UNREACHABLE},
    {"Network is unreachable", JG_SSH_FAIL_UNREACHABLE},
};

/* Chatter that must not hide the line that explains a failure. */
static int is_noise(const char *line)
{
	return strncmp(line, "Warning: Permanently added", 26) == 0 ||
	       strncmp(line, "debug1:", 7) == 0 || strncmp(line, "debug2:", 7) == 0 ||
	       strncmp(line, "debug3:", 7) == 0;
}

/* One complete line (NUL-terminated, no line end) from either stream. */
static void watch_line(struct jg_ssh_watch *w, char *line)
{
	size_t len = strlen(line);

	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	if (len == 0)
		return;
	for (size_t i = 0; i < sizeof(failure_texts) / sizeof(failure_texts[0]); i++) {
		enum jg_ssh_failure f = failure_texts[i].failure;

		/* The enum is in order of precedence: a changed host key stays the
		 * reason though "Host key verification failed." follows it. */
		if (strcasestr(line, failure_texts[i].text) != NULL &&
		    (w->failure == JG_SSH_FAIL_NONE || f < w->failure))
			w->failure = f;
	}
	if (!is_noise(line))
		snprintf(w->last_line, sizeof(w->last_line), "%s", line);
}

/* Append to the terminal tail, keeping its last bytes; NUL becomes '?' so the
 * tail stays a string. */
static void tty_append(struct jg_ssh_watch *w, const char *p, size_t n)
{
	const size_t cap = sizeof(w->tty_tail) - 1;

	if (n >= cap) {
		p += n - cap;
		n = cap;
		w->tty_len = 0;
	} else if (w->tty_len + n > cap) {
		size_t drop = w->tty_len + n - cap;

		memmove(w->tty_tail, w->tty_tail + drop, w->tty_len - drop);
		w->tty_len -= drop;
	}
	for (size_t i = 0; i < n; i++)
		w->tty_tail[w->tty_len++] = p[i] == '\0' ? '?' : p[i];
	w->tty_tail[w->tty_len] = '\0';
}

/* Start of the tail's last line: after the last '\n' or '\r' before END. */
static size_t tty_line_start(const struct jg_ssh_watch *w, size_t end)
{
	while (end > 0 && w->tty_tail[end - 1] != '\n' && w->tty_tail[end - 1] != '\r')
		end--;
	return end;
}

static int ends_with_nocase(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

static enum jg_ssh_prompt tty_prompt(const struct jg_ssh_watch *w)
{
	size_t start = tty_line_start(w, w->tty_len), len = w->tty_len - start;
	const char *line = w->tty_tail + start;

	/* ssh ends its prompts with a space; the answer is due when nothing
	 * follows them.  A banner line that mentions a password ends with a line
	 * end, or at least not with a colon. */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	/* "deploy@host's password:", "(deploy@host) Password:" (keyboard-interactive) */
	if (ends_with_nocase(line, len, "password:"))
		return JG_SSH_PROMPT_PASSWORD;
	/* PAM's "Password for deploy@host:", "Enter passphrase for key '/h/.ssh/id':" */
	if (ends_with_nocase(line, len, ":") && (strcasestr(line, "password for ") != NULL ||
						 strcasestr(line, "passphrase for key '") != NULL))
		return JG_SSH_PROMPT_PASSWORD;
	if (ends_with_nocase(line, len, "(yes/no)?") ||
	    ends_with_nocase(line, len, "(yes/no/[fingerprint])?"))
		return JG_SSH_PROMPT_HOSTKEY;
	return JG_SSH_PROMPT_NONE;
}

enum jg_ssh_prompt jg_ssh_watch_tty(struct jg_ssh_watch *w, const void *data, size_t len)
{
	const char *p = data, *end = p + len;

	while (p < end) {
		const char *nl = p;
		char line[sizeof(w->tty_tail)];
		size_t start;

		while (nl < end && *nl != '\n' && *nl != '\r')
			nl++;
		if (nl == end) {
			tty_append(w, p, (size_t)(end - p));
			break;
		}
		/* A complete line: it may carry a failure (ssh writes some to the tty). */
		tty_append(w, p, (size_t)(nl - p + 1));
		start = tty_line_start(w, w->tty_len - 1);
		memcpy(line, w->tty_tail + start, w->tty_len - 1 - start);
		line[w->tty_len - 1 - start] = '\0';
		watch_line(w, line);
		p = nl + 1;
	}
	return tty_prompt(w);
}

void jg_ssh_watch_answered(struct jg_ssh_watch *w)
{
	w->tty_len = 0;
	w->tty_tail[0] = '\0';
	w->prompts_answered++;
}

void jg_ssh_watch_stderr(struct jg_ssh_watch *w, const void *data, size_t len)
{
	const char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n') {
			w->err_partial[w->err_len] = '\0';
			watch_line(w, w->err_partial);
			w->err_len = 0;
		} else if (p[i] != '\r' && w->err_len + 1 < sizeof(w->err_partial)) {
			/* A line longer than the buffer keeps its start: messages put
			 * what identifies them first. */
			w->err_partial[w->err_len++] = p[i] == '\0' ? '?' : p[i];
		}
	}
}

const char *jg_ssh_failure_name(enum jg_ssh_failure f)
{
	switch (f) {
	case JG_SSH_FAIL_NONE:
		return "no failure";
	case JG_SSH_FAIL_AUTH:
		return "authentication failed";
	case JG_SSH_FAIL_HOSTKEY_CHANGED:
		return "host key changed";
	case JG_SSH_FAIL_HOSTKEY_UNKNOWN:
		return "host key not known";
	case JG_SSH_FAIL_REFUSED:
		return "connection refused";
	case JG_SSH_FAIL_TIMEOUT:
		return "connection timed out";
	case JG_SSH_FAIL_RESOLVE:
		return "host name not resolved";
	case JG_SSH_FAIL_UNREACHABLE:
		return "host unreachable";
	case JG_SSH_FAIL_OTHER:
		return "ssh failed";
	}
	return "ssh failed";
}

void jg_ssh_watch_reason(const struct jg_ssh_watch *w, int wstatus, char *buf, size_t len)
{
	const char *last = w->last_line, *sep = last[0] != '\0' ? ": " : "";
	const char *what = NULL;

	if (buf == NULL || len == 0)
		return;
	switch (w->failure) {
	case JG_SSH_FAIL_HOSTKEY_CHANGED:
		what =
		    "host key of the target changed (possible man-in-the-middle; fix known_hosts)";
		break;
	case JG_SSH_FAIL_HOSTKEY_UNKNOWN:
		what = "host key not known and check_host_keys = enforce";
		break;
	case JG_SSH_FAIL_AUTH:
	case JG_SSH_FAIL_REFUSED:
	case JG_SSH_FAIL_TIMEOUT:
	case JG_SSH_FAIL_RESOLVE:
	case JG_SSH_FAIL_UNREACHABLE:
		what = jg_ssh_failure_name(w->failure);
		break;
	case JG_SSH_FAIL_NONE:
	case JG_SSH_FAIL_OTHER:
		break;
	}
	if (what != NULL)
		snprintf(buf, len, "%s%s%s", what, sep, last);
	else if (wstatus < 0)
		snprintf(buf, len, "ssh still running%s%s", sep, last);
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "ssh killed by signal %d%s%s", WTERMSIG(wstatus), sep, last);
	else
		snprintf(buf, len, "ssh exited with status %d%s%s", WEXITSTATUS(wstatus), sep,
			 last);
}
