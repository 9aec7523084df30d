#!/bin/bash
# 500 concurrent `jumpgate exec` from one identity, default limits: through the persistent
# client they all succeed (the gateway's max_connections_per_identity, 64, counts the one
# master), and the master and the gateway keep no fd or process per finished invocation.
# JG_MANY=N to try another count.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
# The audit records on the gateway's stderr (its log), where the peer count reads them.
JG_CONF_EXTRA='audit = "stderr";'
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }

export XDG_RUNTIME_DIR=$JG_T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export JUMPGATE_PERSIST=30
N=${JG_MANY:-500}

# Warm up: the master and the onward connection to local exist before the crowd.
jg_exec true </dev/null
mp=
for p in /proc/[0-9]*; do
	case $( (tr '\0' ' ' <"$p/cmdline") 2>/dev/null) in
	*" __master $XDG_RUNTIME_DIR/"*) mp=${p#/proc/} ;;
	esac
done
[ -n "$mp" ] && jg_track master "$mp"
[ -n "$mp" ] && jg_ok "the master runs (pid $mp)" || jg_notok "the master runs"
mfd0=$(jg_fd_count "$mp")
gfd0=$(jg_fd_count "$JG_GW_PID")

start=$SECONDS
pids=()
for i in $(seq "$N"); do
	jg_cli exec local -- echo "n$i" </dev/null >"$JG_T/o.$i" 2>"$JG_T/e.$i" &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
wrong=0
for i in $(seq "$N"); do [ "$(cat "$JG_T/o.$i")" = "n$i" ] || wrong=$((wrong + 1)); done
jg_log "$N invocations in $((SECONDS - start)) s"
if [ "$bad" = 0 ] && [ "$wrong" = 0 ]; then
	jg_ok "$N concurrent execs from one identity, default limits: all succeed with their own output"
else
	jg_notok "$N concurrent execs: $bad failed, $wrong with wrong output (e.g. '$(cat "$JG_T"/e.* | sort | uniq -c | sort -rn | head -n 2 | tr '\n' ' ')')"
fi

n=$(grep '"event":"start"' "$JG_GW_LOG" | grep -o '"peer":"[^"]*"' | sort -u | wc -l)
[ "$n" = 1 ] && jg_ok "the gateway saw them all on one connection" ||
	jg_notok "the gateway saw them all on one connection (audit: $n peers)"

# Finished invocations leave nothing behind (bounded wait: the last closes settle).
ok=0
for i in $(seq 50); do
	mfd1=$(jg_fd_count "$mp")
	gfd1=$(jg_fd_count "$JG_GW_PID")
	if [ "$mfd1" -le "$mfd0" ] && [ "$gfd1" -le "$((gfd0 + 2))" ]; then ok=1; break; fi
	sleep 0.1
done
[ $ok = 1 ] && [ -z "$(jg_zombies "$JG_GW_PID")" ] &&
	jg_ok "no fd growth (master $mfd0 -> $mfd1, gateway $gfd0 -> $gfd1), no zombies" ||
	jg_notok "no fd growth (master $mfd0 -> $mfd1, gateway $gfd0 -> $gfd1; zombies: $(jg_zombies "$JG_GW_PID"))"
jg_done
