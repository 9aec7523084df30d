/* The chain's stderr watcher (relay/hopwatch.h).  Tools have no machine-readable
 * errors: failures are recognised by their texts (sudo 1.9, util-linux su 2.38,
 * opendoas 6.8, LXC 5, LXD 5, docker 20-28, kubectl 1.2x), English only. */
#include "config.h" /* _GNU_SOURCE: strcasestr */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay/hopwatch.h"

static const struct {
	enum jg_method method;
	const char *text; /* found anywhere in a line, case-insensitive */
	const char *hint;
	const char *also; /* must be in the line too (NULL: nothing), for generic texts */
} failures[] = {
    {JG_METHOD_SUDO, "a password is required",
     "sudo wants a password: set `password` in the inventory or allow NOPASSWD", NULL},
    {JG_METHOD_SUDO, "incorrect password attempt", "the password was refused", NULL},
    {JG_METHOD_SUDO, "is not in the sudoers file", "not allowed by sudoers", NULL},
    {JG_METHOD_SUDO, "is not allowed to execute", "not allowed by sudoers", NULL},
    {JG_METHOD_SUDO, "unknown user", "no such user", NULL},
    {JG_METHOD_SUDO, "a terminal is required", "sudo wants a terminal (requiretty?)", NULL},
    {JG_METHOD_SUDO, "you must have a tty", "sudo wants a terminal (requiretty)", NULL},
    {JG_METHOD_SU, "authentication failure", "the password was refused", NULL},
    {JG_METHOD_SU, "does not exist", "no such user", NULL},
    {JG_METHOD_SU, "must be run from a terminal", "this su reads passwords from a terminal only",
     NULL},
    {JG_METHOD_SU, "su: permission denied", "su refused (PAM, or wheel group?)", NULL},
    {JG_METHOD_DOAS, "authentication failed", "the password was refused", NULL},
    {JG_METHOD_DOAS, "operation not permitted", "not permitted by doas.conf", NULL},
    {JG_METHOD_DOAS, "authentication required",
     "doas wants a password: set `password` in the inventory or use a nopass rule", NULL},
    /* opendoas built without PAM (shadow), and OpenBSD's doas */
    {JG_METHOD_DOAS, "authorization required",
     "doas wants a password: set `password` in the inventory or use a nopass rule", NULL},
    {JG_METHOD_DOAS, "a password is required",
     "doas wants a password: set `password` in the inventory or use a nopass rule", NULL},
    {JG_METHOD_DOAS, "unknown user", "no such user", NULL},
    {JG_METHOD_LXC, "failed to get init pid", "the container is not running (or does not exist)",
     NULL},
    /* docker says "is not running" too: lxc-attach's lines name it */
    {JG_METHOD_LXC, "is not running", "the container is not running", "lxc-attach"},
    {JG_METHOD_LXC, "permission denied", "no permission (run as root, or check lxc_path)", "lxc"},
    {JG_METHOD_LXC, "operation not permitted", "no permission (run as root, or check lxc_path)",
     "lxc"},
    {JG_METHOD_LXD, "instance not found", "no such container", NULL},
    {JG_METHOD_LXD, "not running", "the container is not running", "Error:"},
    {JG_METHOD_LXD, "permission denied", "no permission (is the user in the lxd group?)", "Error:"},
    {JG_METHOD_LXD, "unix.socket", "cannot reach LXD (is the daemon running?)", NULL},
    {JG_METHOD_DOCKER, "no such container", "no such container", NULL},
    {JG_METHOD_DOCKER, "is not running", "the container is not running", NULL},
    {JG_METHOD_DOCKER, "cannot connect to the docker daemon", "the Docker daemon is not running",
     NULL},
    {JG_METHOD_DOCKER, "permission denied while trying to connect",
     "no permission to use Docker (docker group?)", NULL},
    {JG_METHOD_DOCKER, "unable to find user", "no such user in the container", NULL},
    {JG_METHOD_KUBECTL, "(notfound)", "no such pod", NULL},
    {JG_METHOD_KUBECTL, "container not found", "no such container in the pod", NULL},
    {JG_METHOD_KUBECTL, "(forbidden)", "not allowed by the cluster's RBAC", NULL},
    {JG_METHOD_KUBECTL, "unable to connect to the server", "cannot reach the Kubernetes API server",
     NULL},
    {JG_METHOD_KUBECTL, "connection to the server", "cannot reach the Kubernetes API server", NULL},
};

/* The tool named by a "command not found" line, per method. */
static const char *tool_word(enum jg_method m)
{
	switch (m) {
	case JG_METHOD_SUDO:
		return "sudo";
	case JG_METHOD_SU:
		return "su";
	case JG_METHOD_DOAS:
		return "doas";
	case JG_METHOD_LXC:
		return "lxc-attach";
	case JG_METHOD_LXD:
		return "lxc";
	case JG_METHOD_DOCKER:
		return "docker";
	case JG_METHOD_KUBECTL:
		return "kubectl";
	default:
		return NULL;
	}
}

static void label(char *buf, size_t len, size_t i, const struct jg_hop *h)
{
	const char *m = jg_method_name(h->method);
	const struct jg_hop_opts *o = &h->o;

	switch (h->method) {
	case JG_METHOD_SUDO:
	case JG_METHOD_SU:
	case JG_METHOD_DOAS:
		snprintf(buf, len, "hop %zu (%s to %s)", i + 1, m, o->user ? o->user : "root");
		break;
	case JG_METHOD_LXC:
	case JG_METHOD_LXD:
	case JG_METHOD_DOCKER:
	case JG_METHOD_KUBECTL:
		snprintf(buf, len, "hop %zu (%s %s)", i + 1, m, o->name ? o->name : "?");
		break;
	case JG_METHOD_SSH:
		snprintf(buf, len, "hop %zu (ssh to %s)", i + 1, h->ssh.host ? h->ssh.host : "?");
		break;
	default:
		snprintf(buf, len, "hop %zu (%s)", i + 1, m);
		break;
	}
}

void jg_hop_watch_init(struct jg_hop_watch *w, const struct jg_hop *hops, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->n = n < JG_CHAIN_MAX_HOPS ? n : JG_CHAIN_MAX_HOPS;
	for (size_t i = 0; i < w->n; i++) {
		w->method[i] = hops[i].method;
		w->has_password[i] = hops[i].method == JG_METHOD_SSH ? hops[i].ssh.password != NULL
								     : hops[i].o.password != NULL;
		/* A su that reads its password from a terminal is answered by the agent there:
		 * a prompt on stderr is never its. */
		w->tty_prompt[i] = hops[i].method == JG_METHOD_SU && hops[i].o.password_tty;
		label(w->label[i], sizeof(w->label[i]), i, &hops[i]);
	}
	w->fail_hop = w->refused_hop = w->unanswerable_hop = -1;
}

/* The first hop of method M, or -1. */
static int hop_of(const struct jg_hop_watch *w, enum jg_method m)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->method[i] == m)
			return (int)i;
	return -1;
}

static void fail(struct jg_hop_watch *w, int hop, const char *hint, const char *line)
{
	if (w->fail_hop >= 0)
		return; /* the first failure is the cause; later lines are consequences */
	w->fail_hop = hop;
	w->fail_hint = hint;
	snprintf(w->fail_line, sizeof(w->fail_line), "%s", line);
}

static void watch_line(struct jg_hop_watch *w, const char *line)
{
	for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
		int hop = hop_of(w, failures[i].method);

		if (hop >= 0 && strcasestr(line, failures[i].text) != NULL &&
		    (failures[i].also == NULL || strstr(line, failures[i].also) != NULL)) {
			fail(w, hop, failures[i].hint, line);
			return;
		}
	}
	/* "sh: 1: lxc-attach: not found", "bash: kubectl: command not found".  The last hop
	 * named wins: in "sudo: kubectl: command not found" sudo ran, kubectl is missing. */
	if (strstr(line, "not found") != NULL || strstr(line, "No such file or directory")) {
		for (size_t i = w->n; i-- > 0;) {
			const char *t = tool_word(w->method[i]);
			char needle[32];

			snprintf(needle, sizeof(needle), "%s: ", t != NULL ? t : "");
			if (t != NULL && strstr(line, needle) != NULL) {
				fail(w, (int)i,
				     "the tool is not installed (or its *_path is wrong)", line);
				return;
			}
		}
	}
}

/* The hop whose prompt the current line is, or -1. */
static int prompt_hop(struct jg_hop_watch *w)
{
	size_t len = w->len;
	const char *line = w->tail;
	unsigned n;
	int next, nopw, last;

	while (len > 0 && line[len - 1] == ' ')
		len--;
	if (len == 0 || line[len - 1] != ':')
		return -1;
	/* sudo's prompt is ours: "jumpgate-sudo-password-N:" (N the hop) */
	if (sscanf(line, "jumpgate-sudo-password-%u:", &n) == 1 && n < w->n &&
	    w->method[n] == JG_METHOD_SUDO)
		return (int)n;
	if (strcasestr(line, "password") == NULL && strcasestr(line, "passwort") == NULL &&
	    strcasestr(line, "mot de passe") == NULL && strcasestr(line, "contrase") == NULL)
		return -1;
	/* su (PAM): "Password: ".  Answered in chain order by the su hops that have a
	 * password: one without is not expected to ask (root runs it, or PAM lets it
	 * through).  None left: the first su hop without one asks (unanswerable), or, all
	 * answered, the last one answered asks again (refused). */
	next = nopw = last = -1;
	for (size_t i = 0; i < w->n; i++) {
		if (w->method[i] != JG_METHOD_SU || w->tty_prompt[i])
			continue;
		if (w->answered[i] > 0)
			last = (int)i;
		else if (w->has_password[i] && next < 0)
			next = (int)i;
		else if (!w->has_password[i] && nopw < 0)
			nopw = (int)i;
	}
	return next >= 0 ? next : last >= 0 ? last : nopw;
}

int jg_hop_watch_stderr(struct jg_hop_watch *w, const void *data, size_t len)
{
	const char *p = data;
	int hop;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			w->tail[w->len] = '\0';
			if (w->len > 0)
				watch_line(w, w->tail);
			w->len = 0;
		} else if (w->len + 1 < sizeof(w->tail)) {
			w->tail[w->len++] = p[i] == '\0' ? '?' : p[i];
		}
	}
	w->tail[w->len] = '\0';
	if ((hop = prompt_hop(w)) < 0)
		return -1;
	if (!w->has_password[hop]) {
		w->unanswerable_hop = hop;
		return -1;
	}
	if (w->answered[hop] > 0) {
		w->refused_hop = hop;
		return -1;
	}
	return hop;
}

void jg_hop_watch_answered(struct jg_hop_watch *w, int hop)
{
	if (hop >= 0 && (size_t)hop < w->n)
		w->answered[hop]++;
	w->len = 0;
	w->tail[0] = '\0';
}

int jg_hop_watch_reason(const struct jg_hop_watch *w, char *buf, size_t len)
{
	if (w->refused_hop >= 0) {
		snprintf(buf, len, "%s: the password was refused", w->label[w->refused_hop]);
		return 1;
	}
	if (w->unanswerable_hop >= 0) {
		snprintf(buf, len,
			 "%s: it asks for a password and none is configured (set "
			 "`password` in an inventory entry for this hop)",
			 w->label[w->unanswerable_hop]);
		return 1;
	}
	if (w->fail_hop >= 0) {
		snprintf(buf, len, "%s: %s: %s", w->label[w->fail_hop], w->fail_hint, w->fail_line);
		return 1;
	}
	return 0;
}
