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

# The data path against OpenSSH alone (issue 12); JG_BENCH_MIB, JG_BENCH_REPEAT,
# JG_BENCH_SKIP="fanout rsync ..." as the script's header says.
bench-datapath: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_datapath.sh'

.PHONY: bench bench-datapath

# Ansible on 15 targets, four ways (issue 14): the ssh plugin and mitogen_linear,
# through an OpenSSH bastion and through jumpgate's stand-ins.
EXTRA_DIST += tests/bench/bench_ansible.sh tests/bench/ansible/bench.yml
bench-ansible: $(bin_PROGRAMS) $(pkglibexec_PROGRAMS)
	@builddir='$(abs_top_builddir)' srcdir='$(abs_top_srcdir)' \
	JUMPGATED='$(abs_top_builddir)/jumpgated' \
	JUMPGATE='$(abs_top_builddir)/jumpgate' \
	JUMPGATE_AGENT='$(abs_top_builddir)/jumpgate-agent' \
	bash '$(abs_top_srcdir)/tests/bench/bench_ansible.sh'
.PHONY: bench-ansible
