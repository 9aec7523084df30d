/* Error codes shared by every module.
 *
 * Functions return 0 (or a non-negative count) on success and a negative
 * JG_ERR_* on failure.  jg_strerror() names a code for people.  The caller
 * that handles an error logs it once, with context; nobody else logs it. */
#ifndef JG_ERR_H
#define JG_ERR_H

enum jg_err {
	JG_OK = 0,
	JG_ERR_NOMEM = -1,     /* allocation failed */
	JG_ERR_INVAL = -2,     /* invalid argument or input */
	JG_ERR_PROTO = -3,     /* the peer broke the frame protocol */
	JG_ERR_FLOW = -4,      /* the peer sent more than its window allowed */
	JG_ERR_TOOBIG = -5,    /* a length above a configured limit */
	JG_ERR_NOCHAN = -6,    /* no such channel */
	JG_ERR_STATE = -7,     /* operation not valid in the current state */
	JG_ERR_IO = -8,        /* a system call failed (errno says which) */
	JG_ERR_CONFIG = -9,    /* the configuration is invalid */
	JG_ERR_TLS = -10,      /* TLS or certificate failure */
	JG_ERR_NOTFOUND = -11, /* no such target, file or program */
	JG_ERR_AGAIN = -12,    /* not now: no window, no buffer space */
	JG_ERR_CLOSED = -13,   /* the link or channel is closed */
};

/* Human name of a JG_ERR_* code; never NULL. */
const char *jg_strerror(int err);

#endif
