#!/bin/bash
# jumpgate over ssh against plain OpenSSH, on loopback sshds this script
# starts (make bench; not part of make check: figures, not pass/fail).
#   1. latency of `true` on one target (sshd on 127.0.0.3), whole command
#      start to exit, median and p95:
#        jumpgate exec through the gateway, warm pool      (JG_BENCH_SSH_RUNS, 500)
#        ssh through a warm ControlMaster                  (500)
#        cold ssh -J through 127.0.0.2 (the same machine)  (JG_BENCH_SSH_COLD, 100:
#                                                           a full handshake each)
#        cold ssh, direct                                  (100, for reference)
#   2. wall time of `true` on 50 targets in parallel (sshd on 127.0.0.10-59):
#        jumpgate cold: a fresh gateway, agent cached on the targets
#        jumpgate cold with the agent upload (empty cache; one round)
#        jumpgate warm (the same gateway again)
#        ssh -J through 127.0.0.2, in parallel
#      each the median of JG_BENCH_FAN_ROUNDS (3) rounds.
# Times come from bash's $EPOCHREALTIME (no fork per sample).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup

RUNS=${JG_BENCH_SSH_RUNS:-500}
COLD_RUNS=${JG_BENCH_SSH_COLD:-100}
ROUNDS=${JG_BENCH_FAN_ROUNDS:-3}
N=${JG_BENCH_FAN:-50}
FIRST=10

die() { echo "bench_ssh: $*" >&2; exit 1; }

jg_sshd_start jump 127.0.0.2 || die "sshd on 127.0.0.2 does not start"
jg_sshd_start dest 127.0.0.3 || die "sshd on 127.0.0.3 does not start"
PJ=${JG_SSHD_PORT[jump]}
PD=${JG_SSHD_PORT[dest]}
sshd_range fan $FIRST "$N" || die "the sshds on 127.0.0.$FIRST-$((FIRST + N - 1)) do not start"
FAN_GROUPS=$RANGE_GROUPS

targets=
for i in $(seq $FIRST $((FIRST + N - 1))); do
	targets="$targets,
  $(jg_ssh_target "t$i" "127.0.0.$i" "${port_of[$i]}")"
done
JG_SSH_KEEPALIVE=15 # as the defaults: no PING traffic to speak of
JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore)
targets = (
  $(jg_ssh_target dest 127.0.0.3 "$PD")$targets
);"
jg_gateway_start || die "gateway does not start"
CFG=$(jg_ssh_client_config)
SSH=(ssh -F "$CFG")
GW=("$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")

# ---------------------------------------------------------------- 1. latency

# Sanity: every path runs the command on the right machine.
chk() {
	local out
	out=$("$@" </dev/null 2>&1) || die "$* failed: $out"
	[ "$out" = "$EXPECT" ] || die "$* printed '$out', not '$EXPECT'"
}
EXPECT="127.0.0.3 $PD"
chk "${GW[@]}" exec dest -- sh -c 'set -- $SSH_CONNECTION; echo $3 $4'
chk "${SSH[@]}" -p "$PD" 127.0.0.3 'set -- $SSH_CONNECTION; echo $3 $4'
chk "${SSH[@]}" -J "$JG_SSH_USER@127.0.0.2:$PJ" -p "$PD" 127.0.0.3 'set -- $SSH_CONNECTION; echo $3 $4'

CM=$JG_T/cm
cm_start "$CM" "$PD" 127.0.0.3 || die "the ControlMaster did not start: $(cat "$CM.log")"
chk "${SSH[@]}" -o ControlPath="$CM" -o ControlMaster=no -p "$PD" 127.0.0.3 'set -- $SSH_CONNECTION; echo $3 $4'

echo "== latency of 'true' on one target (sshd on 127.0.0.3), whole command start to exit"
lat gw "$RUNS" 20 "${GW[@]}" exec dest -- true
GW_FAILS=$FAILS
lat cm "$RUNS" 20 "${SSH[@]}" -o ControlPath="$CM" -o ControlMaster=no -p "$PD" 127.0.0.3 true
lat jump "$COLD_RUNS" 3 "${SSH[@]}" -J "$JG_SSH_USER@127.0.0.2:$PJ" -p "$PD" 127.0.0.3 true
lat direct "$COLD_RUNS" 3 "${SSH[@]}" -p "$PD" 127.0.0.3 true
read -r gw_med gw_p95 gw_mean < <(stats "$JG_T/gw.us")
read -r cm_med cm_p95 cm_mean < <(stats "$JG_T/cm.us")
read -r j_med j_p95 j_mean < <(stats "$JG_T/jump.us")
read -r d_med d_p95 d_mean < <(stats "$JG_T/direct.us")
printf '  %-46s %6s %10s %10s %10s\n' "" runs median p95 mean
printf '  %-46s %6s %7s ms %7s ms %7s ms\n' "jumpgate exec, through the gateway, warm pool" "$RUNS" "$gw_med" "$gw_p95" "$gw_mean"
printf '  %-46s %6s %7s ms %7s ms %7s ms\n' "ssh, warm ControlMaster" "$RUNS" "$cm_med" "$cm_p95" "$cm_mean"
printf '  %-46s %6s %7s ms %7s ms %7s ms\n' "ssh -J through 127.0.0.2, cold" "$COLD_RUNS" "$j_med" "$j_p95" "$j_mean"
printf '  %-46s %6s %7s ms %7s ms %7s ms\n' "ssh direct, cold (reference)" "$COLD_RUNS" "$d_med" "$d_p95" "$d_mean"
printf '  (cold ssh: %d runs, not %d: each is a full key exchange and login)\n' "$COLD_RUNS" "$RUNS"
printf '  ratios (median): jumpgate / ControlMaster %s;  ssh -J cold / jumpgate %s;  ssh cold / jumpgate %s\n' \
	"$(ratio "$gw_med" "$cm_med")" "$(ratio "$j_med" "$gw_med")" "$(ratio "$d_med" "$gw_med")"
printf '  ratios (p95):    jumpgate / ControlMaster %s;  ssh -J cold / jumpgate %s\n' \
	"$(ratio "$gw_p95" "$cm_p95")" "$(ratio "$j_p95" "$gw_p95")"
[ "$GW_FAILS" = 0 ] || echo "  WARNING: $GW_FAILS jumpgate runs failed"

# ---------------------------------------------------------------- 2. 50 in parallel

# par NAME COMMAND-PREFIX...: run PREFIX tI -- true (jumpgate) or the ssh
# form for every target at once; wall time in ms into WALL_MS, failures in PFAIL.
par_gw() {
	local i pids='' pid t0 t1
	PFAIL=0
	t0=${EPOCHREALTIME/./}
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		"${GW[@]}" exec "t$i" -- true </dev/null >/dev/null 2>"$JG_T/par.$i.err" &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid" || PFAIL=$((PFAIL + 1)); done
	t1=${EPOCHREALTIME/./}
	WALL_MS=$(((10#$t1 - 10#$t0) / 1000))
}
par_jump() {
	local i pids='' pid t0 t1
	PFAIL=0
	t0=${EPOCHREALTIME/./}
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		"${SSH[@]}" -J "$JG_SSH_USER@127.0.0.2:$PJ" -p "${port_of[$i]}" "127.0.0.$i" true \
			</dev/null >/dev/null 2>"$JG_T/par.$i.err" &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid" || PFAIL=$((PFAIL + 1)); done
	t1=${EPOCHREALTIME/./}
	WALL_MS=$(((10#$t1 - 10#$t0) / 1000))
}
med() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
restart_gw() {
	jg_gateway_stop 20 >/dev/null || echo "WARNING: gateway exit status $JG_GW_STATUS"
	jg_gateway_start || die "gateway does not restart"
	GW=("$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")
}
clear_cache() {
	local g
	for g in $(seq 0 $((FAN_GROUPS - 1))); do rm -rf "${JG_SSHD_HOME[fan$g]}/.cache"; done
}
note_fail() { [ "$PFAIL" = 0 ] || echo "  WARNING: $1: $PFAIL of $N failed: $(cat "$JG_T"/par.*.err | sort | uniq -c | sort -rn | head -n 2 | tr '\n' ' ')"; }

echo "== 'true' on $N targets in parallel (sshd on 127.0.0.$FIRST-127.0.0.$((FIRST + N - 1))), wall time, median of $ROUNDS rounds"
# Cold with the agent upload: an empty cache, a fresh gateway; one round.
clear_cache
restart_gw
par_gw
upload_ms=$WALL_MS
note_fail "jumpgate cold (upload)"
cold='' warm='' jump=''
for r in $(seq 1 "$ROUNDS"); do
	restart_gw
	par_gw
	note_fail "jumpgate cold"
	cold="$cold $WALL_MS"
	par_gw
	note_fail "jumpgate warm"
	warm="$warm $WALL_MS"
	rss=$(jg_rss_kb "$JG_GW_PID")
	par_jump
	note_fail "ssh -J"
	jump="$jump $WALL_MS"
done
cold_ms=$(echo $cold | med)
warm_ms=$(echo $warm | med)
jump_ms=$(echo $jump | med)
printf '  %-56s %8s\n' "" wall
printf '  %-56s %5s ms   (rounds:%s)\n' "jumpgate, cold (fresh gateway, agent cached on targets)" "$cold_ms" "$cold"
printf '  %-56s %5s ms   (one round)\n' "jumpgate, cold, with the agent upload (empty cache)" "$upload_ms"
printf '  %-56s %5s ms   (rounds:%s)\n' "jumpgate, warm (pool)" "$warm_ms" "$warm"
printf '  %-56s %5s ms   (rounds:%s)\n' "ssh -J through 127.0.0.2, in parallel" "$jump_ms" "$jump"
printf '  ratios: ssh -J / jumpgate cold %s;  ssh -J / jumpgate warm %s;  jumpgate cold / warm %s\n' \
	"$(ratio "$jump_ms" "$cold_ms")" "$(ratio "$jump_ms" "$warm_ms")" "$(ratio "$cold_ms" "$warm_ms")"
printf '  gateway RSS with %d ssh links up: %s kB\n' "$N" "$rss"
printf '  (%d CPUs; sshd and ssh run on this machine too)\n' "$(nproc)"

jg_gateway_stop 20 >/dev/null || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
