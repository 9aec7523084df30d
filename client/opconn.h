/* What the single-stream operations (exec.c, connect.c) and the commands that parse
 * options (exec, connect, run, cp) share: blocking writes to our stdout, reading a
 * refusal's JSON body, the messages of a stream that closed before its answer, and the
 * getopt error messages. */
#ifndef JG_CLIENT_OPCONN_H
#define JG_CLIENT_OPCONN_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* Keep at most this much of an error response body. */
#define JG_OP_ERRBODY_MAX (64 * 1024)

/* Write all of P to FD, waiting (poll) when someone made it non-blocking. 0, or -1 with
 * errno set. */
int jg_op_write_all(int fd, const uint8_t *p, size_t len);

/* Replace control characters in MSG by spaces: text from the far side goes to a terminal. */
void jg_op_blank_controls(char *msg);

/* The ":status" header.  -1: NAME is another header; otherwise *HTTP_STATUS is set (and
 * logged) and the result is 1 for 200, 0 for a refusal. */
int jg_op_status(const char *name, const char *value, int *http_status);

/* Keep DATA of a refusal's body in ERRBODY, up to JG_OP_ERRBODY_MAX in all. */
void jg_op_errbody_add(struct evbuffer *errbody, const uint8_t *data, size_t len);

/* What a refusal says: the JSON body's "reason", else its "error", else the status;
 * written into BUF (for "%s").  ERRBODY may be NULL.  1 when the body gave a reason, 0
 * when BUF names the status. */
int jg_op_refusal(struct evbuffer *errbody, int http_status, char *buf, size_t len);

/* Why a stream closed before its answer (H2_ERROR), written into BUF (for "%s"). */
void jg_op_early_close(uint32_t h2_error, char *buf, size_t len);

/* The getopt_long error cases ':' and '?' of command CMD ("exec"): the usage error, as
 * jg_client_usage returns it. */
int jg_op_getopt_error(const char *cmd, int ch, char **argv);

#endif
