/* `jumpgated cert ...` (certcmd.c) and the running gateway's watch over its CRL
 * and generated certificates (certwatch.c). */
#ifndef JG_CERTCMD_H
#define JG_CERTCMD_H

struct jg_gateway;
struct jg_config;

/* Run `cert ARGV[1] ...` (ARGV[0] is "cert") with CONFIG (-c, or NULL for the
 * built-in default).  Returns the exit status: 0, 1 (failed, said on stderr), 2 (usage). */
int jg_certcmd_main(const char *config, int argc, char **argv);

/* Look at CFG's CRL and generated certificates now (WHEN: "start", "SIGHUP"): renew
 * what the gateway may renew itself (its generated CA's CRL and certificates), warn
 * about a CRL that is close to expiry or expired otherwise.  Returns 1 when a file was
 * rewritten (the TLS context should be rebuilt), else 0. */
int jg_certwatch_check(const struct jg_config *cfg, const char *when);
/* Start watching: every 2 s the CRL file's identity and mtime (a change rebuilds the
 * TLS context for new connections), every hour jg_certwatch_check.  0 or -1. */
int jg_certwatch_start(struct jg_gateway *gw);
/* SIGHUP rebuilt the TLS context: take the CRL file as it is now as seen. */
void jg_certwatch_reset(struct jg_gateway *gw);
void jg_certwatch_stop(struct jg_gateway *gw);

#endif
