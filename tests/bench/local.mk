# Benchmarks: `make bench`; they print ratios against a local baseline.
# Not part of `make check`: figures, not pass/fail.
EXTRA_DIST += tests/bench/bench_exec.sh tests/bench/bench_ssh.sh
EXTRA_DIST += tests/bench/bench_tunnel.sh
EXTRA_DIST += tests/bench/bench_rsync.sh
EXTRA_DIST += tests/bench/bench_files.sh
EXTRA_DIST += tests/bench/bench_run.sh
EXTRA_DIST += tests/bench/bench_sites.sh
EXTRA_DIST += tests/bench/bench_methods.sh tests/bench/benchlib.sh
EXTRA_DIST += tests/bench/bench_datapath.sh
# The persistent client (issue 14).
EXTRA_DIST += tests/bench/bench_persist.sh
# Gateway-dialled ProxyCommand tunnels against ssh -J (issue 15): make bench-proxycommand.
EXTRA_DIST += tests/bench/bench_proxycommand.sh
# Soak under attack (issue 13): by hand, JG_SOAK_SECONDS=60 bash tests/bench/soak.sh.
EXTRA_DIST += tests/bench/soak.sh

bench: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_exec.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_ssh.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_tunnel.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_rsync.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_files.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_run.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_sites.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_methods.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_datapath.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_persist.sh'
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_proxycommand.sh'

# The data path against OpenSSH alone (issue 12); JG_BENCH_MIB, JG_BENCH_REPEAT,
# JG_BENCH_SKIP="fanout rsync ..." as the script's header says.
bench-datapath: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_datapath.sh'

# ssh -o ProxyCommand='jumpgate connect %h %p' against ssh -J, raw tunnel and scp
# throughput (issue 15); JG_BENCH_RUNS, JG_BENCH_MIB, JG_BENCH_SCP_MIB, JG_BENCH_REPEAT.
bench-proxycommand: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_proxycommand.sh'

# One gateway at scale (issue 18): 1,000 onward connections, 10,000 idle streams over 50
# connections; JG_SCALE_ONWARD, JG_SCALE_SSH, JG_SCALE_STREAMS, JG_SCALE_CONNS,
# JG_SCALE_RUNS as the script's header says.  Needs tunnel_many (built by make check).
EXTRA_DIST += tests/bench/bench_scale.sh
bench-scale: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS) tests/integration/tunnel_many
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	JG_TUNNEL_MANY='$(abs_top_builddir)/tests/integration/tunnel_many' \
	bash '$(abs_top_srcdir)/tests/bench/bench_scale.sh'

# Ansible on 15 targets, four ways (issue 14): the ssh plugin and mitogen_linear,
# through an OpenSSH bastion and through jumpgate's stand-ins.
EXTRA_DIST += tests/bench/bench_ansible.sh tests/bench/ansible/bench.yml
bench-ansible: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_ansible.sh'
# One process start through relay/spawn.c (vfork) against fork()+exec, small and
# 64 MiB parents (built on demand, not by make check).
EXTRA_PROGRAMS += tests/bench/bench_spawn
tests_bench_bench_spawn_SOURCES = tests/bench/bench_spawn.c
tests_bench_bench_spawn_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_bench_bench_spawn_LDADD = librelay.a $(LIBEVENT_LIBS)
CLEANFILES += tests/bench/bench_spawn
bench-spawn: tests/bench/bench_spawn
	@'$(abs_top_builddir)/tests/bench/bench_spawn' $(JG_BENCH_SPAWN_RUNS)
.PHONY: bench bench-datapath bench-proxycommand bench-scale bench-ansible bench-spawn
