/* ssh's controlling terminal during a password login (sshtty.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway/onward/sshtty.h"
#include "relay/log.h"
#include "relay/ssh.h"

#define TTY_POLL_MS 50

struct event *jg_sshtty_poll_new(struct event_base *base, event_callback_fn cb, void *arg)
{
	struct timeval tv = {0, TTY_POLL_MS * 1000};
	struct event *ev = event_new(base, -1, EV_PERSIST, cb, arg);

	if (ev != NULL && event_add(ev, &tv) != 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/* TEXT and a newline to the terminal, and W forgets the prompt it answers. */
static void tty_write(int fd, struct jg_ssh_watch *w, const char *text, const char *display)
{
	size_t len = strlen(text);

	/* The terminal is a PTY we own: a short answer always fits its buffer. */
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		jg_log_warn("%s: cannot answer ssh's prompt: %s", display, strerror(errno));
	jg_ssh_watch_answered(w);
}

int jg_sshtty_answer(int fd, struct jg_ssh_watch *w, const char *password, int *password_sent,
		     const char *display, char *reason, size_t len)
{
	char buf[1024];
	ssize_t n;

	/* While nobody has the terminal open reads fail with EIO: nothing to do yet. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		switch (jg_ssh_watch_tty(w, buf, (size_t)n)) {
		case JG_SSH_PROMPT_NONE:
			break;
		case JG_SSH_PROMPT_PASSWORD:
			if (*password_sent) {
				snprintf(reason, len,
					 "ssh to %s failed: authentication failed: the password "
					 "was refused",
					 display);
				return 1;
			}
			*password_sent = 1;
			tty_write(fd, w, password, display);
			break;
		case JG_SSH_PROMPT_HOSTKEY:
			/* Only reachable with check_host_keys = accept (ssh asks otherwise never):
			 * OpenSSH wants the word, "y" is not an answer. */
			tty_write(fd, w, "yes", display);
			break;
		}
	}
	return 0;
}
