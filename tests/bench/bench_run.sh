#!/bin/bash
# jumpgate run on 20 targets against pdsh-style parallel ssh -J (make bench;
# figures, not pass/fail).  Loopback sshds this script starts
# (tests/integration/sshd.sh): the jump host on 127.0.0.2, the 20 targets on
# 127.0.0.10-29 (two sshds: one listens on at most 16 addresses).
#   `jumpgate run t10,...,t29 -- true` and `-- uname -a`:
#     cold  a fresh gateway (no link up; the agent already cached on the
#           targets), so 20 ssh logins inside the command;
#     warm  the same gateway again (the pool's links are up);
#     cold with the agent upload (empty cache), once, for `true`;
#   against pdsh's way: 20 background `ssh -J jump tN CMD` and wait (each
#   output into a file of its own, as pdsh gathers them), every one a full
#   login through the jump host.
# Wall time from start to the last exit, median of JG_BENCH_RUN_ROUNDS (5)
# rounds; then the ratios.  Every output is checked (20 targets, 20 lines).
# Processes are stopped by PID (lib.sh); everything lives in one temp dir.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup

ROUNDS=${JG_BENCH_RUN_ROUNDS:-5}
N=20
FIRST=10

die() { echo "bench_run: $*" >&2; exit 1; }

jg_sshd_start jump 127.0.0.2 || die "sshd on 127.0.0.2 does not start"
PJ=${JG_SSHD_PORT[jump]}
sshd_range fan $FIRST "$N" || die "the sshds on 127.0.0.$FIRST-$((FIRST + N - 1)) do not start"
FAN_GROUPS=$RANGE_GROUPS

LIST=''
for i in $(seq $FIRST $((FIRST + N - 1))); do LIST="$LIST${LIST:+,}t$i"; done
JG_SSH_KEEPALIVE=15
JG_CONF_EXTRA=$(range_conf $FIRST $N)
jg_gateway_start || die "gateway does not start"
CFG=$(jg_ssh_client_config)
# ConnectTimeout also bounds the banner exchange, which through a busy jump
# host can take more than the 5 s of the tests' config.
SSH=(ssh -F "$CFG" -o ConnectTimeout=30)

med() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
ms_now() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

restart_gw() {
	jg_gateway_stop 20 >/dev/null || echo "WARNING: gateway exit status $JG_GW_STATUS"
	jg_gateway_start || die "gateway does not restart"
}
clear_cache() {
	local g
	for g in $(seq 0 $((FAN_GROUPS - 1))); do rm -rf "${JG_SSHD_HOME[fan$g]}/.cache"; done
}

# gw_run LINES ARGV...: jumpgate run over the 20; wall ms in WALL_MS; checks
# that the summary says 20 ok and that LINES lines came out.
gw_run() {
	local t0 rc lines=$1
	shift
	t0=$(ms_now)
	if jg_cli run "$LIST" -- "$@" </dev/null >"$JG_T/run.out" 2>"$JG_T/run.err"; then rc=0; else rc=$?; fi
	WALL_MS=$(($(ms_now) - t0))
	if [ $rc != 0 ] || ! grep -q "^jumpgate: run: $N targets: $N ok" "$JG_T/run.err" ||
		[ "$(wc -l <"$JG_T/run.out")" != "$lines" ]; then
		echo "WARNING: jumpgate run $* (exit $rc): $(head -n 3 "$JG_T/run.err" | tr '\n' ' ')"
	fi
}

# jump_run LINES ARGV...: 20 background ssh -J, then wait; wall ms in WALL_MS.
jump_run() {
	local i pids='' pid t0 fail=0 lines=$1
	shift
	t0=$(ms_now)
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		"${SSH[@]}" -J "$JG_SSH_USER@127.0.0.2:$PJ" -p "${port_of[$i]}" "127.0.0.$i" "$@" \
			</dev/null >"$JG_T/jump.$i.out" 2>"$JG_T/jump.$i.err" &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid" || fail=$((fail + 1)); done
	WALL_MS=$(($(ms_now) - t0))
	if [ $fail != 0 ] || [ "$(cat "$JG_T"/jump.*.out | wc -l)" != "$lines" ]; then
		echo "WARNING: ssh -J $*: $fail of $N failed: $(cat "$JG_T"/jump.*.err | sort | uniq -c | sort -rn | head -n 2 | tr '\n' ' ')"
	fi
}

# Sanity: the commands run on the right machines.
jg_cli run -b "$LIST" -- sh -c 'set -- $SSH_CONNECTION; echo $3' </dev/null >"$JG_T/where.out" 2>&1 ||
	die "jumpgate run fails: $(tail -n 3 "$JG_T/where.out")"
[ "$(grep -c '^127\.0\.0\.' "$JG_T/where.out")" = "$N" ] || die "jumpgate run: not $N addresses: $(cat "$JG_T/where.out")"
jump_run $N 'set -- $SSH_CONNECTION; echo $3' # ssh: one string for the remote shell
[ "$(cat "$JG_T"/jump.*.out | sort -u | wc -l)" = "$N" ] || die "ssh -J: not $N addresses"

echo "== one command on $N targets (ssh, 127.0.0.$FIRST-$((FIRST + N - 1))), wall time, median of $ROUNDS rounds"
clear_cache
restart_gw
gw_run 0 true
upload_ms=$WALL_MS
declare -A R
for _ in $(seq 1 "$ROUNDS"); do
	for cmd in true uname; do
		argv=(true) lines=0
		[ $cmd = true ] || argv=(uname -a) lines=$N
		restart_gw
		gw_run $lines "${argv[@]}"
		R[cold_$cmd]="${R[cold_$cmd]:-} $WALL_MS"
		gw_run $lines "${argv[@]}"
		R[warm_$cmd]="${R[warm_$cmd]:-} $WALL_MS"
		jump_run $lines "${argv[@]}"
		R[jump_$cmd]="${R[jump_$cmd]:-} $WALL_MS"
	done
done
rss=$(jg_rss_kb "$JG_GW_PID")
# the last outputs of `uname -a`: the same line everywhere, prefixed
[ "$(sed 's/^t[0-9]*: //' "$JG_T/run.out" | sort -u)" = "$(uname -a)" ] || echo "WARNING: jumpgate run uname -a printed $(head -n 2 "$JG_T/run.out")"
[ "$(cat "$JG_T"/jump.*.out | sort -u)" = "$(uname -a)" ] || echo "WARNING: ssh -J uname -a printed $(cat "$JG_T"/jump.*.out | head -n 2)"
declare -A M
for k in "${!R[@]}"; do M[$k]=$(echo ${R[$k]} | med); done
printf '  %-52s %9s %9s\n' "" true "uname -a"
printf '  %-52s %6s ms %6s ms\n' "jumpgate run, cold (fresh gateway, agent cached)" "${M[cold_true]}" "${M[cold_uname]}"
printf '  %-52s %6s ms %9s\n' "jumpgate run, cold with the agent upload (once)" "$upload_ms" "-"
printf '  %-52s %6s ms %6s ms\n' "jumpgate run, warm (pool)" "${M[warm_true]}" "${M[warm_uname]}"
printf '  %-52s %6s ms %6s ms\n' "20 x ssh -J in parallel (pdsh-style)" "${M[jump_true]}" "${M[jump_uname]}"
printf '  ratios ssh -J / jumpgate:  cold %s / %s   warm %s / %s   (true / uname -a)\n' \
	"$(ratio "${M[jump_true]}" "${M[cold_true]}")" "$(ratio "${M[jump_uname]}" "${M[cold_uname]}")" \
	"$(ratio "${M[jump_true]}" "${M[warm_true]}")" "$(ratio "${M[jump_uname]}" "${M[warm_uname]}")"
for k in cold_true warm_true jump_true cold_uname warm_uname jump_uname; do
	printf '  rounds %-11s %s\n' "$k:" "${R[$k]}"
done
printf '  gateway RSS with %d ssh links up: %s kB;  %d CPUs (sshd and ssh run here too)\n' "$N" "$rss" "$(nproc)"

jg_gateway_stop 20 >/dev/null || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
