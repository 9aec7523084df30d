/* Logging: one vocabulary for every program, to stderr, with levels.
 *
 * Lines look like "jumpgated[1234]: warn: message".  Debug lines carry the
 * function name.  The level and program name are set once from main().  When
 * stderr is the systemd journal (JOURNAL_STREAM names it), each line starts with
 * its syslog priority, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug, which
 * journald stores as PRIORITY (journalctl -p warning shows errors and warnings). */
#ifndef JG_LOG_H
#define JG_LOG_H

#include <stddef.h>

enum jg_log_level {
	JG_LOG_ERROR = 0,
	JG_LOG_WARN = 1,
	JG_LOG_INFO = 2,
	JG_LOG_DEBUG = 3,
};

/* Set the program name shown in each line (borrowed: must outlive logging) and the level. */
void jg_log_init(const char *progname, enum jg_log_level level);
/* 1 when stderr is the stream $JOURNAL_STREAM names (systemd's journal), else 0.
 * jg_log_init decides the prefix with it once. */
int jg_log_stderr_is_journal(void);
/* Change the level only. */
void jg_log_set_level(enum jg_log_level level);
/* Current level. */
enum jg_log_level jg_log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns -1 when unknown. */
int jg_log_level_parse(const char *name);
/* SRC into DST (LEN bytes, NUL included) with control bytes escaped: \n \r \t, others
 * and DEL as \xNN; truncated at a whole character.  The length written. */
size_t jg_log_escape(char *dst, size_t len, const char *src);
/* Write one line at LEVEL when LEVEL is enabled; control bytes in the formatted message
 * are escaped (jg_log_escape), so no caller can write a second line or a terminal
 * escape sequence. */
void jg_log(enum jg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define jg_log_error(...) jg_log(JG_LOG_ERROR, __VA_ARGS__)
#define jg_log_warn(...) jg_log(JG_LOG_WARN, __VA_ARGS__)
#define jg_log_info(...) jg_log(JG_LOG_INFO, __VA_ARGS__)
/* Debug lines name the function they come from. */
#define jg_log_debug(fmt, ...) jg_log(JG_LOG_DEBUG, "%s: " fmt, __func__, ##__VA_ARGS__)

#endif
