#!/bin/bash
# The persistent client (issue 14), figures beside the same work without it (make bench;
# not part of make check: figures, not pass/fail):
#   1. latency of `jumpgate exec dest -- true` (sshd on 127.0.0.3, warm onward
#      connection), whole command start to exit, median and p95 over JG_BENCH_PERSIST_RUNS
#      (300): through a warm persistent client (target: <= 3 ms median), without it
#      (JUMPGATE_PERSIST=0: a TLS connection each), ssh through a warm ControlMaster, and
#      `sh -c true` (process start, for reference);
#   2. JG_BENCH_PERSIST_MANY (500) concurrent `jumpgate exec dest -- true` from one
#      identity, default limits: how many succeed and the wall time, with and without it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup

RUNS=${JG_BENCH_PERSIST_RUNS:-300}
MANY=${JG_BENCH_PERSIST_MANY:-500}
die() { echo "bench_persist: $*" >&2; exit 1; }

jg_sshd_start dest 127.0.0.3 || die "sshd on 127.0.0.3 does not start"
PD=${JG_SSHD_PORT[dest]}
JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore)
targets = ( $(jg_ssh_target dest 127.0.0.3 "$PD") );"
jg_gateway_start || die "gateway does not start"
CFG=$(jg_ssh_client_config)
SSH=(ssh -F "$CFG")
GW=("$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")
export XDG_RUNTIME_DIR=$JG_T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"

out=$(JUMPGATE_PERSIST=60 "${GW[@]}" exec dest -- echo ready </dev/null 2>&1) || die "exec failed: $out"
for p in /proc/[0-9]*; do
	case $( (tr '\0' ' ' <"$p/cmdline") 2>/dev/null) in
	*" __master $XDG_RUNTIME_DIR/"*) jg_track "master-${p#/proc/}" "${p#/proc/}" ;;
	esac
done
CM=$JG_T/cm
cm_start "$CM" "$PD" 127.0.0.3 || die "the ControlMaster did not start: $(cat "$CM.log")"

echo "== latency of 'true' on one target (sshd on 127.0.0.3), whole command start to exit"
JUMPGATE_PERSIST=60 lat persist "$RUNS" 20 "${GW[@]}" exec dest -- true
P_FAILS=$FAILS
JUMPGATE_PERSIST=0 lat direct "$RUNS" 20 "${GW[@]}" exec dest -- true
lat cm "$RUNS" 20 "${SSH[@]}" -o ControlPath="$CM" -o ControlMaster=no -p "$PD" 127.0.0.3 true
lat sh "$RUNS" 20 sh -c true
read -r p_med p_p95 _ < <(stats "$JG_T/persist.us")
read -r d_med d_p95 _ < <(stats "$JG_T/direct.us")
read -r c_med c_p95 _ < <(stats "$JG_T/cm.us")
read -r s_med s_p95 _ < <(stats "$JG_T/sh.us")
printf '  %-52s %6s %10s %10s\n' "" runs median p95
printf '  %-52s %6s %7s ms %7s ms\n' "jumpgate exec, through the persistent client" "$RUNS" "$p_med" "$p_p95"
printf '  %-52s %6s %7s ms %7s ms\n' "jumpgate exec, JUMPGATE_PERSIST=0 (TLS each time)" "$RUNS" "$d_med" "$d_p95"
printf '  %-52s %6s %7s ms %7s ms\n' "ssh, warm ControlMaster" "$RUNS" "$c_med" "$c_p95"
printf '  %-52s %6s %7s ms %7s ms\n' "sh -c true (process start)" "$RUNS" "$s_med" "$s_p95"
printf '  target: persistent <= 3 ms median: %s;  persistent / without %s;  persistent / ControlMaster %s\n' \
	"$(awk -v m="$p_med" 'BEGIN { print (m <= 3) ? "met" : "NOT met" }')" \
	"$(ratio "$p_med" "$d_med")" "$(ratio "$p_med" "$c_med")"
[ "$P_FAILS" = 0 ] || echo "  WARNING: $P_FAILS runs through the persistent client failed"

# many PERSIST: MANY execs at once; SUCC and WALL_MS.
many() {
	local i pids=() p t0 t1
	SUCC=0
	t0=${EPOCHREALTIME/./}
	for i in $(seq "$MANY"); do
		JUMPGATE_PERSIST=$1 "${GW[@]}" exec dest -- true </dev/null >/dev/null 2>"$JG_T/many.$i.err" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" && SUCC=$((SUCC + 1)); done
	t1=${EPOCHREALTIME/./}
	WALL_MS=$(((10#$t1 - 10#$t0) / 1000))
}
echo "== $MANY concurrent 'jumpgate exec dest -- true' from one identity, default limits"
many 60
printf '  %-52s %4s of %4s ok  %7s ms\n' "through the persistent client" "$SUCC" "$MANY" "$WALL_MS"
[ "$SUCC" = "$MANY" ] || echo "  errors: $(cat "$JG_T"/many.*.err | sort | uniq -c | sort -rn | head -n 2 | tr '\n' ' ')"
many 0
printf '  %-52s %4s of %4s ok  %7s ms\n' "JUMPGATE_PERSIST=0" "$SUCC" "$MANY" "$WALL_MS"
[ "$SUCC" = "$MANY" ] || echo "  errors: $(cat "$JG_T"/many.*.err | sort | uniq -c | sort -rn | head -n 2 | tr '\n' ' ')"
