/* Raw mode for `exec -t`.  The saved settings live in the caller's struct, not
 * in a global, so the command that set raw mode is the one that restores it. */
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client/tty.h"

int jg_tty_raw(struct jg_tty *t, int fd)
{
	struct termios raw;

	t->fd = fd;
	t->raw = 0;
	if (tcgetattr(fd, &t->saved) != 0)
		return -1;
	raw = t->saved;
	cfmakeraw(&raw);
	/* TCSADRAIN: output already queued keeps the old settings. */
	if (tcsetattr(fd, TCSADRAIN, &raw) != 0)
		return -1;
	t->raw = 1;
	return 0;
}

void jg_tty_restore(struct jg_tty *t)
{
	int saved_errno = errno;

	if (t->raw) {
		tcsetattr(t->fd, TCSADRAIN, &t->saved);
		t->raw = 0;
	}
	errno = saved_errno;
}

int jg_tty_size(int fd, uint16_t *rows, uint16_t *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return -1;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}
