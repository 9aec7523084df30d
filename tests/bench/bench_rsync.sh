#!/bin/bash
# rsync of one 1 GiB file (make bench-rsync), median of JG_BENCH_REPEAT runs
# (default 3) into an emptied destination each time, in MB/s (10^6 bytes/s):
#   rsync locally (no transport: rsync's own pipe)        the ceiling
#   rsync -e 'jumpgate rsh' to local                      gateway + agent
# and, with OpenSSH's sshd (tests/integration/sshd.sh) on 127.0.0.2, .3 and .1:
#   rsync -e 'ssh -p P' straight to it                    plain ssh
#   rsync -e 'ssh -J root@127.0.0.3:P -p P'               ssh through a jump host
#     (the same sshd listens on .3 as well: ssh refuses a jump host equal to the
#     destination)
#   rsync -e 'jumpgate rsh' to web1 (inventory, ssh)      gateway + ssh + agent
#   rsync -e "ssh -o ProxyCommand='jumpgate connect %h %p' -p P" to web1
#                                                         ssh inside a tunnel: gateway ->
#     ssh (agent link) -> agent on web1 -> web1's localhost:P, which is why the
#     sshd listens on 127.0.0.1 too (on one machine "web1's localhost" is ours)
# then the ratios.  Loopback only; a 2-core machine shares it between
# rsync, ssh, the gateway and the agent, so read the ratios, not the MB/s.
#   JG_BENCH_RSYNC_MIB (default 1024), JG_BENCH_REPEAT (default 3).
. "$(dirname "$0")/../integration/lib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
HAVE_SSHD=0
if [ -r "$(dirname "$0")/../integration/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ]; then
	. "$(dirname "$0")/../integration/sshd.sh"
	HAVE_SSHD=1
	jg_ssh_setup
else
	jg_setup
	jg_init_pki
fi
jg_require rsync

MIB=${JG_BENCH_RSYNC_MIB:-1024}
REPEAT=${JG_BENCH_REPEAT:-3}
BYTES=$((MIB * 1048576))
T=$JG_T

HAVE_CONNECT=0
if [ $HAVE_SSHD = 1 ]; then
	jg_sshd_start a 127.0.0.2 127.0.0.3 127.0.0.1 || { echo "sshd does not start: ssh rows skipped"; HAVE_SSHD=0; }
fi
if [ $HAVE_SSHD = 1 ]; then
	PA=${JG_SSHD_PORT[a]}
	U=$JG_SSH_USER
	# `jumpgate connect` (an older build may lack it: the row then says so).
	if "$JUMPGATE" connect --help 2>/dev/null | grep -q ProxyCommand; then
		HAVE_CONNECT=1
	fi
	JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = ( $(jg_ssh_target web1 127.0.0.2 "$PA") );"
	[ $HAVE_CONNECT = 0 ] || JG_CONF_EXTRA="$JG_CONF_EXTRA
tunnels = { allow = [ \"web1:$PA\" ]; };"
	# One client config for ssh and for the ssh that -J starts (it is given -F).
	cat >"$T/ssh_config" <<-EOF
		Host *
		  IdentityFile $JG_SSH_KEY
		  IdentitiesOnly yes
		  BatchMode yes
		  StrictHostKeyChecking no
		  UserKnownHostsFile /dev/null
		  LogLevel ERROR
		  ConnectTimeout 5
	EOF
fi
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA

mkdir -p "$T/src"
head -c "$BYTES" /dev/urandom >"$T/src/big"
cat "$T/src/big" >/dev/null
now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mbps() { awk -v b="$BYTES" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# run NAME DEST RSYNC-ARGS...: REPEAT timed runs; prints the median ns, or
# nothing when a run failed or the copy differs.
run() {
	local name=$1 dest=$2 i t0 ok=1
	shift 2
	for i in $(seq 1 "$REPEAT"); do
		rm -rf "$T/dst"
		mkdir -p "$T/dst"
		t0=$(now)
		if ! timeout 900 rsync -a "$@" "$T/src/big" "$dest" </dev/null >/dev/null 2>"$T/$name.err"; then
			ok=0
			break
		fi
		echo $(($(now) - t0)) >>"$T/$name.times"
	done
	if [ $ok = 1 ] && cmp -s "$T/src/big" "$T/dst/big"; then
		median <"$T/$name.times"
	else
		echo "  $name failed: $(tail -n 2 "$T/$name.err" | tr '\n' ' ')" >&2
	fi
}

echo "== rsync -a of one $MIB MiB file, median of $REPEAT (MB/s = 10^6 bytes/s)"
declare -A NS
NS[local]=$(run local "$T/dst/")
NS[rsh_local]=$(run rsh_local "local:$T/dst/" -e "$JUMPGATE rsh")
if [ $HAVE_SSHD = 1 ]; then
	NS[ssh]=$(run ssh "$U@127.0.0.2:$T/dst/" -e "ssh -F $T/ssh_config -p $PA")
	NS[ssh_j]=$(run ssh_j "$U@127.0.0.2:$T/dst/" -e "ssh -F $T/ssh_config -J $U@127.0.0.3:$PA -p $PA")
	NS[rsh_web1]=$(run rsh_web1 "web1:$T/dst/" -e "$JUMPGATE rsh")
	if [ $HAVE_CONNECT = 1 ]; then
		NS[connect]=$(run connect "$U@web1:$T/dst/" \
			-e "ssh -F $T/ssh_config -o ProxyCommand='$JUMPGATE connect %h %p' -p $PA")
	fi
fi
row() { # row KEY LABEL
	local ns=${NS[$1]:-}
	if [ -n "$ns" ]; then
		MB[$1]=$(mbps "$ns")
		printf '  %-52s %8s MB/s  (%d ms)\n' "$2" "${MB[$1]}" $((ns / 1000000))
	else
		printf '  %-52s %8s\n' "$2" "-"
	fi
}
declare -A MB
row local "rsync locally (no transport)"
row rsh_local "jumpgate rsh -> local"
if [ $HAVE_SSHD = 1 ]; then
	row ssh "ssh straight to sshd"
	row ssh_j "ssh -J (jump through sshd)"
	row rsh_web1 "jumpgate rsh -> web1 (gateway + ssh + agent)"
	if [ $HAVE_CONNECT = 1 ]; then
		row connect "ssh -o ProxyCommand='jumpgate connect ...'"
	else
		printf '  %-52s %8s\n' "ssh -o ProxyCommand='jumpgate connect ...'" "(jumpgate connect not available)"
	fi
fi
echo "== ratios (throughput)"
printf '  jumpgate rsh local / rsync locally      %s\n' "$(ratio "${MB[rsh_local]:-0}" "${MB[local]:-0}")"
if [ $HAVE_SSHD = 1 ]; then
	printf '  jumpgate rsh local / ssh                %s\n' "$(ratio "${MB[rsh_local]:-0}" "${MB[ssh]:-0}")"
	printf '  jumpgate rsh web1  / ssh -J             %s\n' "$(ratio "${MB[rsh_web1]:-0}" "${MB[ssh_j]:-0}")"
	printf '  jumpgate rsh web1  / ssh                %s\n' "$(ratio "${MB[rsh_web1]:-0}" "${MB[ssh]:-0}")"
	printf '  ssh -J / ssh                            %s\n' "$(ratio "${MB[ssh_j]:-0}" "${MB[ssh]:-0}")"
	if [ $HAVE_CONNECT = 1 ]; then
		printf '  ssh via jumpgate connect / ssh -J       %s\n' "$(ratio "${MB[connect]:-0}" "${MB[ssh_j]:-0}")"
		printf '  ssh via jumpgate connect / ssh          %s\n' "$(ratio "${MB[connect]:-0}" "${MB[ssh]:-0}")"
		printf '  jumpgate rsh web1 / ssh via connect     %s\n' "$(ratio "${MB[rsh_web1]:-0}" "${MB[connect]:-0}")"
	fi
fi

jg_gateway_stop 10 || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
