#!/bin/bash
# An Ansible playbook on 15 targets, forks = 15, four ways in one run (issue
# 14; make bench-ansible; figures, not pass/fail):
#   1. the ssh plugin through an OpenSSH bastion (ProxyCommand ssh -W, with
#      Ansible's default ControlMaster/ControlPersist);
#   2. mitogen_linear through that bastion;
#   3. the ssh plugin through jumpgate: the stand-ins jumpgate-ssh,
#      jumpgate-sftp, jumpgate-scp, default ("smart") transfer method;
#   4. mitogen_linear through jumpgate (Mitogen's ssh is jumpgate-ssh).
# The playbook (tests/bench/ansible/bench.yml): ping, a directory, copy, five
# commands, a delegate_to task, a synchronize of a small tree (20 files).
# Loopback sshds this script starts: the bastion on 127.0.0.2, the targets
# on 127.0.0.10-24 (one sshd, an sftp subsystem for the bastion runs); the
# gateway's inventory names the targets t10..t24, and the bastion runs reach
# the same names through an ssh_config (ConnectTimeout 30: the banner
# exchange through a busy bastion can take longer than the tests' 5 s).  Each way runs once from cold (no
# ControlMaster, no Mitogen context, a fresh gateway), then its wall time is
# taken on JG_BENCH_ANSIBLE_ROUNDS (1) further runs; every run must end
# with no host failed.  Processes are stopped by PID (lib.sh).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup
jg_require ansible-playbook rsync
ROUNDS=${JG_BENCH_ANSIBLE_ROUNDS:-1}
N=15
FIRST=10
T=$JG_T
die() { echo "bench_ansible: $*" >&2; exit 1; }

# Ansible through the bastion uses sftp, which the test sshd offers only here.
JG_SSHD_EXTRA='Subsystem sftp internal-sftp'
jg_sshd_start jump 127.0.0.2 || die "sshd on 127.0.0.2 does not start"
PJ=${JG_SSHD_PORT[jump]}
sshd_range fan $FIRST "$N" || die "the sshds on 127.0.0.$FIRST-$((FIRST + N - 1)) do not start"
unset JG_SSHD_EXTRA

HOSTS=''
for i in $(seq $FIRST $((FIRST + N - 1))); do HOSTS="$HOSTS        t$i:
"; done
JG_SSH_KEEPALIVE=15
JG_CONF_EXTRA=$(range_conf $FIRST $N)
jg_gateway_start || die "gateway does not start"

# The bastion's ssh_config: each tN by name, through 127.0.0.2 with ssh -W.
BASE=$(jg_ssh_client_config)
{
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		printf 'Host t%s\n  HostName 127.0.0.%s\n  Port %s\n' "$i" "$i" "${port_of[$i]}"
		printf '  ConnectTimeout 30\n'
		printf '  ProxyCommand ssh -F %s -o ConnectTimeout=30 -W %%h:%%p -p %s 127.0.0.2\n' "$BASE" "$PJ"
	done
	cat "$BASE"
} >"$T/bastion_config"
# -F first: Ansible's ssh_args, its default ControlMaster settings kept.
BASTION_ARGS="-F $T/bastion_config -C -o ControlMaster=auto -o ControlPersist=60s"

mkdir -p "$T/bin" "$T/root/tree/d" "$T/cp"
ln -s "$JUMPGATE" "$T/bin/jumpgate"
for s in ssh scp sftp; do ln -s jumpgate "$T/bin/jumpgate-$s"; done
export PATH="$T/bin:$PATH"
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
for f in $(seq 1 10); do head -c $((f * 400)) /dev/urandom >"$T/root/tree/f$f"; done
for f in $(seq 1 10); do head -c $((f * 300)) /dev/urandom >"$T/root/tree/d/g$f"; done
echo "payload of the bench" >"$T/root/payload.txt"
printf 'all:\n  children:\n    targets:\n      hosts:\n%s' "$HOSTS" >"$T/inventory.yml"
export LC_ALL=C.UTF-8 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=0
# ANSIBLE_TIMEOUT: the connect timeout (10 s by default) is short for 15 logins at once
# through a bastion on a loaded machine.
export ANSIBLE_FORKS=$N ANSIBLE_TIMEOUT=60 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_LOCAL_TEMP=$T/ansible-local
printf "[defaults]\n" >"$T/ansible.cfg"
export ANSIBLE_SSH_CONTROL_PATH_DIR=$T/cp ANSIBLE_CONFIG=$T/ansible.cfg

# way NAME RSH ENV...: bench.yml once from cold (a fresh gateway, no
# ControlMaster), then ROUNDS warm runs; COLD[NAME] and WALL[NAME] (the warm
# median) in seconds, "-" when a run failed.  RSH: synchronize's --rsh.
declare -A WALL COLD NOTE
ms_now() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
med() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
stop_masters() {
	local s
	for s in "$T/cp"/*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit t$FIRST >/dev/null 2>&1
	done
	rm -rf "${T:?}/cp"/*
}
way() {
	local name=$1 rsh=$2 i t0 rc ms='' n
	shift 2
	stop_masters
	jg_gateway_stop 20 >/dev/null || true
	jg_gateway_start || die "gateway does not restart"
	export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT # a new port each start
	for i in $(seq 0 "$ROUNDS"); do
		rm -rf "$T/root"/t[0-9]* "$T/root"/fanin-*
		t0=$(ms_now)
		rc=0
		env "$@" timeout 900 ansible-playbook -i "$T/inventory.yml" \
			-e "{\"bench_root\": \"$T/root\", \"bench_rsh\": \"$rsh\"}" \
			"$srcdir/tests/bench/ansible/bench.yml" </dev/null >"$T/$name.$i.out" 2>&1 || rc=$?
		ms=$(($(ms_now) - t0))
		if [ $rc != 0 ] || grep -Eq 'failed=[1-9]|unreachable=[1-9]' "$T/$name.$i.out"; then
			echo "WARNING: $name: run $i failed (exit $rc):" >&2
			grep -E 'fatal|ERROR' "$T/$name.$i.out" | head -n 3 | cut -c1-300 >&2
			WALL[$name]=- COLD[$name]=${COLD[$name]:--}
			return 0
		fi
		n=$(find "$T/root"/t[0-9]* -path "*/tree/*" -type f | wc -l)
		[ "$n" = $((N * 20)) ] || echo "WARNING: $name: run $i: $n of $((N * 20)) synchronized files arrived" >&2
		n=$(find "$T/root" -maxdepth 1 -name 'fanin-*' | wc -l)
		[ "$n" = $N ] || echo "WARNING: $name: run $i: $n of $N delegated tasks left their file" >&2
		n=$(grep -c 'WARNING' "$T/$name.$i.out" || true)
		[ "$n" = 0 ] || NOTE[$name]="$n warnings ($(grep -m1 WARNING "$T/$name.$i.out" | cut -c1-70))"
		if [ "$i" = 0 ]; then COLD[$name]=$ms; else WALL[$name]="${WALL[$name]:-} $ms"; fi
	done
	COLD[$name]=$(awk -v m="${COLD[$name]}" 'BEGIN { printf "%.1f", m / 1000 }')
	WALL[$name]=$(echo "${WALL[$name]}" | med | awk '{ printf "%.1f", $1 / 1000 }')
}

JG_RSH=jumpgate-ssh
B_RSH="ssh -F $T/bastion_config"
B_RSH="'$B_RSH'"
BASTION=(ANSIBLE_SSH_ARGS="$BASTION_ARGS" ANSIBLE_SSH_EXECUTABLE=ssh ANSIBLE_SFTP_EXECUTABLE=sftp
	ANSIBLE_SCP_EXECUTABLE=scp)
JUMPGATE_WAY=(ANSIBLE_SSH_EXECUTABLE=jumpgate-ssh ANSIBLE_SFTP_EXECUTABLE=jumpgate-sftp
	ANSIBLE_SCP_EXECUTABLE=jumpgate-scp)
way bastion-ssh "$B_RSH" "${BASTION[@]}" ANSIBLE_STRATEGY=linear
way bastion-mitogen "$B_RSH" "${BASTION[@]}" ANSIBLE_STRATEGY=mitogen_linear
way jumpgate-ssh "$JG_RSH" "${JUMPGATE_WAY[@]}" ANSIBLE_STRATEGY=linear
way jumpgate-mitogen "$JG_RSH" "${JUMPGATE_WAY[@]}" ANSIBLE_STRATEGY=mitogen_linear
stop_masters

echo "Ansible playbook on $N targets, forks=$N (ping, copy, 5 commands, delegate_to, synchronize of 20 files)"
echo "ansible-core $(ansible --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p'), $(dpkg-query -W -f='ansible-mitogen ${Version}' ansible-mitogen 2>/dev/null)"
printf '  %-46s %10s %12s   %s\n' "way" "cold (s)" "warm (s)" "ratio warm / mitogen via bastion"
row() {
	printf '  %-46s %10s %12s   %s %s\n' "$2" "${COLD[$1]}" "${WALL[$1]}" \
		"$(ratio "${WALL[$1]}" "${WALL[bastion-mitogen]}")" "${NOTE[$1]:+  [${NOTE[$1]}]}"
}
row bastion-ssh "ssh plugin via bastion (ProxyCommand ssh -W)"
row bastion-mitogen "mitogen_linear via bastion"
row jumpgate-ssh "ssh plugin via jumpgate stand-ins (smart)"
row jumpgate-mitogen "mitogen_linear via jumpgate-ssh"
echo "  targets (issue 14): ssh plugin via jumpgate <= 0.80, mitogen via jumpgate <= 0.35 of mitogen via bastion"
