/* The progress bar of `jumpgate cp`; see progress.h. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/progress.h"
#include "relay/err.h"

/* 10 redraws a second at most: faster only costs terminal bandwidth. */
#define PROGRESS_TICK_MS 100
/* Weight of the newest sample in the smoothed rate: about a second of memory. */
#define PROGRESS_ALPHA 0.2

static double elapsed_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void jg_progress_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void format_eta(char *buf, size_t len, double secs)
{
	long s;

	if (secs < 0 || secs > 99.0 * 3600) {
		snprintf(buf, len, "--:--");
		return;
	}
	s = (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

void jg_progress_format(char *buf, size_t len, unsigned width, uint64_t done, uint64_t total,
			size_t files_done, size_t files_total, double rate, double elapsed)
{
	char d[32], t[32], r[32], eta[32], files[48] = "", tail[160];
	unsigned pct = total > 0 ? (unsigned)(done >= total ? 100 : done * 100 / total) : 0;
	int n, bar;

	jg_progress_bytes(d, sizeof(d), done);
	jg_progress_bytes(t, sizeof(t), total);
	if (rate > 0) {
		jg_progress_bytes(r, sizeof(r), (uint64_t)rate);
		strcat(r, "/s");
	} else {
		snprintf(r, sizeof(r), "--");
	}
	if (done >= total && total > 0)
		format_eta(eta, sizeof(eta), elapsed); /* finished: how long it took */
	else
		format_eta(eta, sizeof(eta), rate > 0 ? (double)(total - done) / rate : -1);
	if (files_total > 1)
		snprintf(files, sizeof(files), "  %zu/%zu files", files_done, files_total);
	n = snprintf(tail, sizeof(tail), "%3u%%  %s / %s  %s  %s %s%s", pct, d, t, r,
		     done >= total && total > 0 ? "in" : "ETA", eta, files);
	if (n < 0)
		n = 0;
	/* A bar in what is left of the line, when at least 10 columns are. */
	bar = (int)width - 1 - n - 3;
	if (bar >= 10) {
		int fill = total > 0 ? (int)((double)bar * (double)pct / 100.0) : 0;

		if (len < (size_t)bar + 3)
			bar = 0;
		else {
			buf[0] = '[';
			memset(buf + 1, '#', (size_t)fill);
			memset(buf + 1 + fill, ' ', (size_t)(bar - fill));
			buf[bar + 1] = ']';
			buf[bar + 2] = ' ';
			buf[bar + 3] = '\0';
			snprintf(buf + bar + 3, len - (size_t)bar - 3, "%s", tail);
			return;
		}
	}
	snprintf(buf, len, "%s", tail);
}

static unsigned term_width(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void progress_draw(struct jg_progress *p)
{
	struct timespec now;
	char line[512];
	unsigned width = term_width();

	clock_gettime(CLOCK_MONOTONIC, &now);
	jg_progress_format(line, sizeof(line) < width ? sizeof(line) : width, width, p->done,
			   p->total, p->files_done, p->files_total, p->rate,
			   elapsed_since(&p->start, &now));
	/* \r, the line, then clear to the end: a shorter line leaves no debris. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_progress *p = arg;
	struct timespec now;
	double dt, inst;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = elapsed_since(&p->last_sample, &now);
	if (dt > 0) {
		inst = (double)(p->done - p->last_done) / dt;
		p->rate =
		    p->rate == 0 ? inst : PROGRESS_ALPHA * inst + (1 - PROGRESS_ALPHA) * p->rate;
	}
	p->last_sample = now;
	p->last_done = p->done;
	progress_draw(p);
}

int jg_progress_init(struct jg_progress *p, struct event_base *base, int enabled)
{
	struct timeval tv = {0, PROGRESS_TICK_MS * 1000};

	memset(p, 0, sizeof(*p));
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last_sample = p->start;
	p->enabled = enabled && isatty(2);
	if (!p->enabled)
		return 0;
	if ((p->tick = event_new(base, -1, EV_PERSIST, tick_cb, p)) == NULL)
		return JG_ERR_NOMEM;
	event_add(p->tick, &tv);
	return 0;
}

void jg_progress_expect(struct jg_progress *p, uint64_t bytes, size_t files)
{
	p->total += bytes;
	p->files_total += files;
}

void jg_progress_add(struct jg_progress *p, uint64_t bytes)
{
	p->done += bytes;
}

void jg_progress_file_done(struct jg_progress *p)
{
	p->files_done++;
}

void jg_progress_clear(struct jg_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = 0;
}

void jg_progress_finish(struct jg_progress *p)
{
	struct timespec now;
	double secs;

	if (!p->enabled)
		return;
	if (p->tick != NULL)
		event_del(p->tick);
	/* The final rate is the average: the smoothed one describes only the end. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = elapsed_since(&p->start, &now);
	p->rate = secs > 0 ? (double)p->done / secs : 0;
	progress_draw(p);
	fputc('\n', stderr);
	p->drawn = 0;
	p->enabled = 0;
}

void jg_progress_free(struct jg_progress *p)
{
	if (p->tick != NULL)
		event_free(p->tick);
	p->tick = NULL;
}
