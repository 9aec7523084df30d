/* Error codes shared by every module.
 *
 * Functions return 0 (or a non-negative count) on success and a negative
 * JG_ERR_* on failure.  jg_strerror() names a code for people.  The caller
 * that handles an error logs it once, with context; nobody else logs it. */
#ifndef JG_ERR_H
#define JG_ERR_H

/* The codes lie far from -1 (what system calls and many small helpers return), from
 * -errno (-1 to -133) and from nghttp2's codes (-500 to -999), so a bare -1 or a foreign
 * code is never read as one of ours: jg_strerror(-1) is "unknown error", not "out of
 * memory".  Compare with the names, never with the numbers. */
enum jg_err {
	JG_OK = 0,
	JG_ERR_NOMEM = -1001,	 /* allocation failed */
	JG_ERR_INVAL = -1002,	 /* invalid argument or input */
	JG_ERR_PROTO = -1003,	 /* the peer broke the frame protocol */
	JG_ERR_FLOW = -1004,	 /* the peer sent more than its window allowed */
	JG_ERR_TOOBIG = -1005,	 /* a length above a configured limit */
	JG_ERR_NOCHAN = -1006,	 /* no such channel */
	JG_ERR_STATE = -1007,	 /* operation not valid in the current state */
	JG_ERR_IO = -1008,	 /* a system call failed (errno says which) */
	JG_ERR_CONFIG = -1009,	 /* the configuration is invalid */
	JG_ERR_TLS = -1010,	 /* TLS or certificate failure */
	JG_ERR_NOTFOUND = -1011, /* no such target, file or program */
	JG_ERR_AGAIN = -1012,	 /* not now: no window, no buffer space */
	JG_ERR_CLOSED = -1013,	 /* the link or channel is closed */
};
/* Every code is in [JG_ERR_LAST, JG_ERR_NOMEM]; a new one goes below the last. */
#define JG_ERR_LAST JG_ERR_CLOSED

/* Human name of a JG_ERR_* code; never NULL. */
const char *jg_strerror(int err);

#endif
