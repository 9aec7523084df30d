#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"

/* The only mutable globals outside main(): logging is process-wide by nature. */
static const char *log_progname = "jumpgate";
static enum jg_log_level log_level = JG_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void jg_log_init(const char *progname, enum jg_log_level level)
{
	if (progname != NULL)
		log_progname = progname;
	log_level = level;
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

void jg_log(enum jg_log_level level, const char *fmt, ...)
{
	char line[2048];
	int n;
	va_list ap;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_progname, (long)getpid(),
		     level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers never interleave within a line. */
	n = (int)strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
