/* Background fsync while a file is written: see syncbehind.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "relay/syncbehind.h"

void jg_syncbehind_init(struct jg_syncbehind *s, int fd, uint64_t step)
{
	memset(s, 0, sizeof(*s));
	s->cb.aio_fildes = fd;
	s->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	s->step = step;
}

/* The flush in flight has finished (its result is not ours to report). */
static int settled(struct jg_syncbehind *s)
{
	if (!s->pending)
		return 1;
	if (aio_error(&s->cb) == EINPROGRESS)
		return 0;
	(void)aio_return(&s->cb);
	s->pending = 0;
	s->done++;
	return 1;
}

void jg_syncbehind_wrote(struct jg_syncbehind *s, uint64_t total)
{
	if (s->step == 0 || total - s->asked_at < s->step || !settled(s))
		return;
	s->asked_at = total;
	/* O_DSYNC: the data and what is needed to read it back (fdatasync). */
	if (aio_fsync(O_DSYNC, &s->cb) == 0)
		s->pending = 1;
	else
		s->step = 0; /* no AIO here (ENOSYS, EAGAIN...): the final fsync does it all */
}

void jg_syncbehind_finish(struct jg_syncbehind *s)
{
	const struct aiocb *list[1] = {&s->cb};

	while (!settled(s))
		(void)aio_suspend(list, 1, NULL); /* EINTR: ask again */
}
