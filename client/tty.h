/* The local terminal for `exec -t`: raw mode in, restored on every way out. */
#ifndef JG_CLIENT_TTY_H
#define JG_CLIENT_TTY_H

#include <stdint.h>
#include <termios.h>

struct jg_tty {
	int fd;
	int raw; /* non-zero while FD is in raw mode and SAVED must be put back */
	struct termios saved;
};

/* Put FD in raw mode (keystrokes, ^C included, go to the remote program). 0 or -1 (errno). */
int jg_tty_raw(struct jg_tty *t, int fd);
/* Put the saved settings back; harmless when not raw. */
void jg_tty_restore(struct jg_tty *t);
/* The window size of FD. 0, or -1 when FD is not a terminal or reports 0x0. */
int jg_tty_size(int fd, uint16_t *rows, uint16_t *cols);

#endif
