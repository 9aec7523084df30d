/* The exec frame stream: the HTTP/2 side of an exec operation, shared by
 * gateway/ops/exec.c (bridged to an agent channel) and gateway/ops/raw.c (bridged to
 * a local ssh).  The contract is docs/api.md's:
 *  - request body: frames on channel 0, OPEN (an exec spec) first, then DATA
 *    (stdin), EOF, SIGNAL and RESIZE; anything else fails the exec with 400;
 *  - response: 200 and DATA (stdout, JG_DATA_STDERR), EOF, EXIT frames.  A
 *    failure before the 200 is a JSON error; after it, a DEAD frame with the
 *    reason ends the stream.
 *
 * The module decodes the body and calls the op back for what each frame
 * means.  HTTP/2 credit for frame headers and control payloads is given back
 * at once (jg_stream_consume); a DATA payload's credit is the op's to give
 * back once the bytes moved on, so a program that does not read its stdin
 * stalls its own stream and nothing else.
 *
 * States (enum jg_execstream_state), moved only by this module:
 *   WAIT_OPEN --OPEN frame--> OPENING --jg_execstream_reply_ok--> RUNNING
 *   any --jg_execstream_fail / jg_execstream_exit / a failed reply--> DONE
 * An op may answer inside its on_open hook (WAIT_OPEN straight to RUNNING). */
#ifndef JG_GATEWAY_OPS_EXECSTREAM_H
#define JG_GATEWAY_OPS_EXECSTREAM_H

#include <stddef.h>
#include <stdint.h>

struct jg_gateway;
struct jg_stream;
struct jg_frame;
struct jg_exec_spec;
struct jg_execstream;

enum jg_execstream_state {
	JG_EXECSTREAM_WAIT_OPEN, /* no OPEN frame from the client yet */
	JG_EXECSTREAM_OPENING,	 /* OPEN taken, the program is starting; no response yet */
	JG_EXECSTREAM_RUNNING,	 /* 200 sent; frames flow both ways */
	JG_EXECSTREAM_DONE, /* the response is complete or failed; waiting for the stream to close
			     */
};

/* What the op does with the client's frames.  UD is the op, as given to
 * jg_execstream_new.  A hook may fail the stream (jg_execstream_fail); it must
 * not free it. */
struct jg_execstream_cbs {
	/* The OPEN frame, its kind checked and its exec spec decoded (both borrowed for
	 * the call).  The op starts the program and, once it runs, answers with
	 * jg_execstream_reply_ok (now or later); or fails the stream. */
	void (*on_open)(void *ud, const struct jg_exec_spec *spec, const struct jg_frame *f);
	/* Stdin bytes (a DATA payload, borrowed for the call).  Their HTTP/2 credit is
	 * the op's to give back (jg_stream_consume) once they moved on. */
	void (*on_stdin)(void *ud, const uint8_t *data, size_t len);
	/* Stdin is over: an EOF frame or END_STREAM (so it may come twice). */
	void (*on_stdin_eof)(void *ud);
	/* A SIGNAL frame: deliver signal SIGNO. */
	void (*on_signal)(void *ud, uint32_t signo);
	/* A RESIZE frame.  NULL: RESIZE is accepted and ignored. */
	void (*on_resize)(void *ud, uint16_t rows, uint16_t cols);
	/* The request body fails the exec (a bad frame, a truncated body, out of
	 * memory): stop the program.  The failure is reported right after. */
	void (*on_abort)(void *ud);
};

/* A stream for stream S, in state WAIT_OPEN; NULL when out of memory.  WHAT
 * ("exec", "raw exec") and NAME (the target) label the failure log line and must
 * outlive the stream.  Counts one exec in GW's stats (exec_current, exec_total). */
struct jg_execstream *jg_execstream_new(struct jg_gateway *gw, struct jg_stream *s,
					const char *what, const char *name,
					const struct jg_execstream_cbs *cbs, void *ud);
/* Decide ADM (gateway/admission/admit.h; action exec) with the argv of the OPEN frame, before the
 * op's on_open, and keep its audit record from there to the exec's end.  ADM is
 * borrowed and must outlive ES.  A denial fails the stream with 403 forbidden; the op's
 * on_open is never called. */
struct jg_admit;
void jg_execstream_admit(struct jg_execstream *es, struct jg_admit *adm);
/* Free ES (NULL is fine) and count its exec as no longer current. */
void jg_execstream_free(struct jg_execstream *es);

enum jg_execstream_state jg_execstream_state(const struct jg_execstream *es);
/* 1 once the client ended stdin (EOF frame or END_STREAM). */
int jg_execstream_stdin_eof(const struct jg_execstream *es);

/* Request body bytes (the op's on_body): decoded, and the hooks called frame by frame. */
void jg_execstream_body(struct jg_execstream *es, const uint8_t *data, size_t len);
/* The request body ended (the op's on_body_end). */
void jg_execstream_body_end(struct jg_execstream *es);

/* The program runs: send 200 and go RUNNING.  0; or -1 when the stream cannot take
 * the response (the state is DONE: the op stops its program, nothing is reported). */
int jg_execstream_reply_ok(struct jg_execstream *es);
/* Append one response frame (DATA or EOF) on channel 0. */
void jg_execstream_put(struct jg_execstream *es, uint8_t type, uint8_t flags, uint32_t aux,
		       const void *payload, uint32_t len);
/* The program ended: append EXIT (FLAGS, CODE as in JG_FRAME_EXIT), end the response, DONE. */
void jg_execstream_exit(struct jg_execstream *es, uint8_t flags, uint32_t code);
/* Fail the exec, once: counted and logged here, then answered with STATUS, ERROR and
 * REASON before the 200, or a DEAD frame with REASON after it.  DONE afterwards;
 * nothing happens when it already was. */
void jg_execstream_fail(struct jg_execstream *es, int status, const char *error,
			const char *reason);

#endif
