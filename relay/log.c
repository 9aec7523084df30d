#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/log.h"

/* The only mutable globals outside main(): logging is process-wide by nature. */
static const char *log_progname = "jumpgate";
static enum jg_log_level log_level = JG_LOG_INFO;
static int log_journal; /* stderr is the journal: lines start with "<N>" */

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog(3) priorities of the levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int level_prio[] = {3, 4, 6, 7};

int jg_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	/* systemd sets "DEV:INODE" of the stream it connected stderr to; a child whose
	 * stderr was redirected elsewhere inherits the variable, hence the comparison. */
	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void jg_log_init(const char *progname, enum jg_log_level level)
{
	if (progname != NULL)
		log_progname = progname;
	log_level = level;
	log_journal = jg_log_stderr_is_journal();
}

void jg_log_set_level(enum jg_log_level level)
{
	log_level = level;
}

enum jg_log_level jg_log_get_level(void)
{
	return log_level;
}

int jg_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

size_t jg_log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (len == 0)
		return 0;
	for (; *src != '\0'; src++) {
		unsigned char ch = (unsigned char)*src;
		char esc[4];
		size_t k = 0;

		if (ch == '\n' || ch == '\r' || ch == '\t') {
			esc[k++] = '\\';
			esc[k++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = hex[ch >> 4];
			esc[k++] = hex[ch & 15];
		} else {
			esc[k++] = (char)ch;
		}
		if (o + k >= len)
			break; /* never half an escape */
		memcpy(dst + o, esc, k);
		o += k;
	}
	dst[o] = '\0';
	return o;
}

void jg_log(enum jg_log_level level, const char *fmt, ...)
{
	char msg[2048], line[4096];
	int n;
	va_list ap;

	if (level > log_level)
		return;
	/* journald reads the "<N>" prefix as the line's priority (journalctl -p warning). */
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>%s[%ld]: %s: ", level_prio[level],
			     log_progname, (long)getpid(), level_names[level]);
	else
		n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_progname, (long)getpid(),
			     level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages carry client-supplied text (paths, argv, certificate names): a newline
	 * or an escape sequence in it must not forge a line or reach a terminal.  Escaped
	 * here, once, for every caller. */
	n += (int)jg_log_escape(line + n, sizeof(line) - 1 - (size_t)n, msg);
	/* One write per line so concurrent writers never interleave within a line. */
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
