# Integration tests: real jumpgated, real agent, real TLS; see tests/integration/lib.sh.
# Each t_*.sh is an executable bash script printing "ok - ..." / "not ok - ..."
# lines and exiting non-zero on failure (77: a tool it needs is missing).
# They write only under $TMPDIR, so they run from a read-only srcdir
# (make distcheck).
#
# make -jN check runs them side by side: each draws its ports from one
# machine-wide registry (lib.sh jg_free_port) and keeps its files under its
# own $TMPDIR/jg-NAME.XXXXXX.  Every test runs under tests/integration/lock.sh:
# the tests in INTEGRATION_ALONE take the suite lock exclusive (they run with
# no other test of this build), the others shared.
LOG_COMPILER = $(SHELL) $(abs_top_srcdir)/tests/integration/lock.sh
EXTRA_DIST += tests/integration/lock.sh tests/integration/t_files_scale.sh
CLEANFILES += tests/integration/.lock-suite tests/integration/.lock-turnstile
# Their checks bound a time (a failover within 2 s, a handshake given up after
# 2 s, a flood answered within its budget): a busy neighbour fails them.  They
# come last in TESTS, so make -j starts them when the others are (nearly) done
# and they do not hold the other slots waiting for their turn.
INTEGRATION_ALONE = tests/integration/t_stall.sh tests/integration/t_ha_failover.sh \
	tests/integration/t_ha_haproxy.sh tests/integration/t_flood.sh tests/integration/t_setupq.sh \
	tests/integration/t_scale.sh

# The longest first (about 1.5 to 5 minutes each): make -j starts the tests in
# this order, so none of these starts last and keeps the whole suite waiting.
# t_files_scale.sh, the longest, runs as two halves side by side.
INTEGRATION_TESTS = tests/integration/t_files_scale_fan.sh tests/integration/t_files_scale_copy.sh \
	tests/integration/t_rsh.sh \
	tests/integration/t_package.sh tests/integration/t_leaks.sh tests/integration/t_sites.sh \
	tests/integration/t_ansible.sh tests/integration/t_ssh_leaks.sh tests/integration/t_ssh_raw.sh \
	tests/integration/t_cp.sh
INTEGRATION_TESTS += \
	tests/integration/t_config.sh \
	tests/integration/t_default_start.sh \
	tests/integration/t_exec_stdio.sh \
	tests/integration/t_concurrency.sh \
	tests/integration/t_tls_refusal.sh \
	tests/integration/t_malformed.sh \
	tests/integration/t_stats.sh \
	tests/integration/t_metrics.sh \
	tests/integration/t_conftest.sh \
	tests/integration/t_logprio.sh \
	tests/integration/t_sigterm.sh \
	tests/integration/t_ssh_basic.sh \
	tests/integration/t_ssh_password.sh \
	tests/integration/t_ssh_failure.sh \
	tests/integration/t_ssh_fanout.sh \
	tests/integration/t_files_api.sh \
	tests/integration/t_tunnel.sh \
	tests/integration/t_tunnel_gateway.sh

# jumpgate cp and run (client/cp.c, client/run.c).
INTEGRATION_TESTS += tests/integration/t_run.sh

# Path-restricted identities against symlinks, cp -r beneath a root (issue 13).
INTEGRATION_TESTS += tests/integration/t_files_paths.sh

# Limits, reload on SIGHUP, the Unix-socket listener (issue 7), with t_flood.sh,
# t_stall.sh and t_setupq.sh in INTEGRATION_ALONE; h2raw.py is the hostile
# HTTP/2 peer t_limits.sh uses.
INTEGRATION_TESTS += tests/integration/t_limits.sh tests/integration/t_reload.sh \
	tests/integration/t_unixsock.sh
# A reload frees the configuration it replaced once nothing refers to it (issue 16).
INTEGRATION_TESTS += tests/integration/t_reload_memory.sh
EXTRA_DIST += tests/integration/h2raw.py

# systemd units, sd_notify and socket activation (systemd/, gateway/sdnotify.c).
INTEGRATION_TESTS += tests/integration/t_systemd.sh

# Certificate lifecycle: jumpgated cert issue/revoke/list/crl (issue 17).
INTEGRATION_TESTS += tests/integration/t_cert.sh
# Man pages render cleanly and name every configuration key (issue 17).
INTEGRATION_TESTS += tests/integration/t_manpages.sh
# make install under DESTDIR/prefix; the Debian package built, linted, unpacked
# and checked (dpkg -i for real only with JG_PACKAGE_INSTALL=1) (issue 17).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/jumpgate.lintian-overrides

TESTS += $(INTEGRATION_TESTS) $(INTEGRATION_ALONE)
EXTRA_DIST += $(INTEGRATION_TESTS) $(INTEGRATION_ALONE) tests/integration/lib.sh tests/integration/sshd.sh \
	tests/integration/sites.sh

# What every test sees: where the build and the sources are, the binaries
# under test, and whether they carry the sanitizers.
AM_TESTS_ENVIRONMENT = \
	builddir='$(abs_top_builddir)'; srcdir='$(abs_top_srcdir)'; \
	JUMPGATED='$(abs_top_builddir)/jumpgated'; \
	JUMPGATE='$(abs_top_builddir)/jumpgate'; \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent'; \
	JG_SANITIZERS='$(SAN_CFLAGS)'; JG_ALONE='$(INTEGRATION_ALONE)'; \
	export builddir srcdir JUMPGATED JUMPGATE JUMPGATE_AGENT JG_SANITIZERS JG_ALONE;

# tunnel_many: N extended CONNECT tunnels on one connection (t_tunnel.sh).
check_PROGRAMS += tests/integration/tunnel_many
tests_integration_tunnel_many_SOURCES = tests/integration/tunnel_many.c
tests_integration_tunnel_many_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(OPENSSL_CFLAGS)
tests_integration_tunnel_many_LDADD = $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS)
AM_TESTS_ENVIRONMENT += JG_TUNNEL_MANY='$(abs_top_builddir)/tests/integration/tunnel_many'; \
	export JG_TUNNEL_MANY;
# Policy and audit log (auth/, issue 7).
INTEGRATION_TESTS += tests/integration/t_policy.sh tests/integration/t_audit.sh
# What a rule really grants: aliases, local, admin scope, commands, become (issues 13, 19).
INTEGRATION_TESTS += tests/integration/t_policy_alias.sh
INTEGRATION_TESTS += tests/integration/t_audit_complete.sh
INTEGRATION_TESTS += tests/integration/t_sites_trust.sh
INTEGRATION_TESTS += tests/integration/t_become.sh
EXTRA_DIST += tests/integration/users.sh
INTEGRATION_TESTS += tests/integration/t_lxc.sh tests/integration/t_methods_double.sh
EXTRA_DIST += tests/integration/doubles/common.sh tests/integration/doubles/docker tests/integration/doubles/kubectl tests/integration/doubles/lxc tests/integration/doubles/lxc-attach \
	tests/integration/doubles/su-tty
INTEGRATION_TESTS += tests/integration/t_agent_setns.sh tests/integration/t_agent_askpass.sh
# The persistent client (client/mux.c, client/master.c; issue 14).
INTEGRATION_TESTS += tests/integration/t_persist.sh
INTEGRATION_TESTS += tests/integration/t_persist_many.sh

# ssh-agent forwarding through the gateway: exec/cp/rsync -A with a real ssh-agent (issue 15).
INTEGRATION_TESTS += tests/integration/t_agentfwd.sh
# Several gateways: -g A,B failover, HAProxy in front of two (issue 18), and many
# onward connections and streams at once on one gateway, correctness only:
# t_ha_failover.sh, t_ha_haproxy.sh, t_scale.sh (in INTEGRATION_ALONE above).
EXTRA_DIST += tests/integration/ha.sh tests/integration/echo_many.py
# The one-word stand-ins jumpgate-ssh, -scp, -sftp (issue 14).
INTEGRATION_TESTS += tests/integration/t_standins.sh
# Ansible and ansible-mitogen through the stand-ins (issue 14); the playbook is docs/ansible.md's.
EXTRA_DIST += tests/integration/ansible/ansible.cfg tests/integration/ansible/inventory.yml \
	tests/integration/ansible/site.yml tests/integration/ansible/files/motd \
	tests/integration/ansible/files/tree/a.txt tests/integration/ansible/files/tree/sub/b.txt \
	tests/integration/ansible/templates/app.conf.j2
# Relayed copies between targets, jumpgate cp web1:/p web2:/p (issue 14 part 3).
INTEGRATION_TESTS += tests/integration/t_cp_relay.sh

# CLI completeness (issue 17): exit 127/126, targets/whoami/help/--json, run -b, completion.
INTEGRATION_TESTS += tests/integration/t_exec_status.sh tests/integration/t_cli_info.sh \
	tests/integration/t_run_gather.sh tests/integration/t_completion.sh
# What lets make -j check run the tests side by side: the ports registry, lock.sh.
INTEGRATION_TESTS += tests/integration/t_parallel.sh
