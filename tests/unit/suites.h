/* Each tests/unit/test_<module>.c registers its CUnit suites with one function. */
#ifndef JG_TEST_SUITES_H
#define JG_TEST_SUITES_H

#include <CUnit/CUnit.h>

int jg_test_register_frame(void);
int jg_test_register_spec(void);
int jg_test_register_flow(void);
int jg_test_register_link(void);
int jg_test_register_config(void);
int jg_test_register_config_access(void);
/* tests/unit/test_config_targets.c: the inventory's keys, ssh options, pool, agents. */
int jg_test_register_config_targets(void);
/* tests/unit/test_paths.c: the state directory and path helpers (config/paths.c). */
int jg_test_register_paths(void);
int jg_test_register_certs(void);
int jg_test_register_spawn(void);
int jg_test_register_agent(void);
/* tests/unit/test_apump.c: the agent's channel <-> fd pump (agent/pump.c). */
int jg_test_register_apump(void);
int jg_test_register_ssh(void);
/* tests/unit/test_sh.c: quoting for a POSIX shell (relay/sh.c). */
int jg_test_register_sh(void);
/* tests/unit/test_pct.c: percent-encoding (relay/pct.c). */
int jg_test_register_pct(void);
/* tests/unit/test_json.c: JSON text and error bodies (relay/json.c). */
int jg_test_register_json(void);
/* tests/unit/test_sshtty.c: ssh's password prompt answered (gateway/onward/sshtty.c). */
int jg_test_register_sshtty(void);
/* tests/unit/test_argv.c: the growable string vector (relay/argv.c). */
int jg_test_register_argv(void);
int jg_test_register_bootstrap(void);
/* tests/unit/test_bootstrap_run.c: the real stub run by /bin/sh (relay/bootstrap.c). */
int jg_test_register_bootstrap_run(void);
int jg_test_register_target(void);
/* tests/unit/test_chain.c: chains of hops, their accounts and canonical form. */
int jg_test_register_chain(void);
int jg_test_register_rshargs(void);
int jg_test_register_sha256(void);
int jg_test_register_files(void);
/* tests/unit/test_files_get.c: the GET and STAT tests, added to the "files" suite S. */
int jg_test_add_files_get(CU_pSuite s);
int jg_test_register_opspec(void);
int jg_test_register_policy(void);
int jg_test_register_audit(void);
int jg_test_register_hop(void);
/* tests/unit/test_hop_check.c: chain refusals, method names, hop copies (relay/hop.c). */
int jg_test_register_hop_check(void);
/* tests/unit/test_hop_quoting.c: quoting at depth through /bin/sh (relay/sh.c). */
int jg_test_register_hop_quoting(void);
int jg_test_register_hopwatch(void);
/* tests/unit/test_routes.c: the path-vector route table (relay/rtable.c). */
int jg_test_register_routes(void);
/* tests/unit/test_log.c: escaping in relay/log.c. */
int jg_test_register_log(void);
/* tests/unit/test_identity.c: identities from client certificates (auth/identity.c). */
int jg_test_register_identity(void);
/* tests/unit/test_h2field.c: the oversized-header-field filter (gateway/edge/h2field.c). */
int jg_test_register_h2field(void);
/* tests/unit/test_pump.c: the channel <-> stream pump (gateway/pump/pump.c). */
int jg_test_register_pump(void);
/* tests/unit/test_dial.c: resolving a tunnel's host without blocking (gateway/ops/dial.c). */
int jg_test_register_dial(void);
/* tests/unit/test_keymap.c: the onward connections by chain key (relay/keymap.c). */
int jg_test_register_keymap(void);
/* tests/unit/test_autowin.c: receive-window growth (relay/autowin.c). */
int jg_test_register_autowin(void);
/* tests/unit/test_keepalive.c: the links' keepalive rule (relay/keepalive.c). */
int jg_test_register_keepalive(void);
/* tests/unit/test_syncbehind.c: background flushes of a file being written (relay/syncbehind.c). */
int jg_test_register_syncbehind(void);
/* tests/unit/test_standin.c: the one-word stand-ins (client/standin.c). */
int jg_test_register_standin(void);
/* tests/unit/test_nodeset.c: host lists folded as ClusterShell does (client/nodeset.c). */
int jg_test_register_nodeset(void);
/* tests/unit/test_err.c: the JG_ERR_* codes and their names (relay/err.c). */
int jg_test_register_err(void);
/* tests/unit/test_h2client.c: the shared HTTP/2 client (h2/client.c). */
int jg_test_register_h2client(void);

#endif
