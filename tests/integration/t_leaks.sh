#!/bin/bash
# 2,000 sequential execs leave the gateway flat: open fds (within 2), child
# processes back to the baseline, RSS growth under 10 % or 2 MiB (8 MiB
# under the sanitizers, whose allocator keeps a quarantine), and no zombies
# among its descendants.  The baseline is taken after a 200-exec warm-up.
# Under the sanitizers: 500 execs, the baseline after 100 (LeakSanitizer
# checks the gateway's memory at its exit).
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki

BUDGET=${JG_LEAK_BUDGET:-600}
slack_kb=2048
total=2000 warmup=200
if jg_sanitized; then
	# Fewer execs: LeakSanitizer checks every allocation of the gateway when
	# it exits (a leak makes SIGTERM's exit status non-zero), and a leak of
	# one fd or child per exec still shows as 400 after the warm-up.  Each
	# exec costs about 0.14 s of CPU here (every process is instrumented).
	total=500 warmup=100
	# ASan holds freed memory in a quarantine (256 MiB by default) that
	# would read as growth: keep it small for this gateway.
	slack_kb=8192
	jg_asan_quarantine 1
fi
TOTAL=${JG_LEAK_EXECS:-$total}
WARMUP=${JG_LEAK_WARMUP:-$warmup}

sample() { # sample NAME: NAME_fd NAME_children NAME_rss
	# Let the last exec's teardown settle; no exec runs meanwhile.
	sleep 0.5
	eval "$1_fd=$(jg_fd_count "$JG_GW_PID")"
	eval "$1_children=$(jg_child_count "$JG_GW_PID")"
	eval "$1_rss=$(jg_rss_kb "$JG_GW_PID")"
	eval "$1_desc=$(jg_descendants "$JG_GW_PID" | wc -l)"
}

jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

run=0
failed=0
deadline=$((SECONDS + BUDGET))
start=$SECONDS
while [ $run -lt "$TOTAL" ]; do
	if [ $SECONDS -ge $deadline ]; then
		jg_notok "$TOTAL sequential execs within ${BUDGET} s (only $run done)"
		break
	fi
	if ! JG_TIMEOUT=30 jg_exec true </dev/null 2>"$JG_T/exec.err"; then
		failed=$((failed + 1))
		[ $failed -gt 3 ] || { jg_log "exec #$run failed:"; jg_show "$JG_T/exec.err" 3; }
		[ $failed -lt 20 ] || break
	fi
	run=$((run + 1))
	[ $run -ne "$WARMUP" ] || sample base
	if ! jg_alive "$JG_GW_PID"; then
		jg_notok "gateway alive through the execs (died after $run)"
		jg_done
	fi
done
took=$((SECONDS - start))
sample end

if [ $failed = 0 ] && [ $run = "$TOTAL" ]; then
	jg_ok "$TOTAL sequential 'jumpgate exec local -- true' all exit 0 (${took} s, $((took * 1000 / TOTAL)) ms each)"
else
	jg_notok "$TOTAL sequential 'jumpgate exec local -- true' all exit 0 ($failed of $run failed)"
fi

jg_log "after $WARMUP execs: fds $base_fd, children $base_children, descendants $base_desc, RSS $base_rss kB"
jg_log "after $run execs: fds $end_fd, children $end_children, descendants $end_desc, RSS $end_rss kB"

d=$((end_fd - base_fd))
if [ ${d#-} -le 2 ]; then
	jg_ok "open fds flat: $base_fd -> $end_fd"
else
	jg_notok "open fds flat: $base_fd -> $end_fd"
	ls -l "/proc/$JG_GW_PID/fd" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
fi

if [ "$end_children" -le "$base_children" ]; then
	jg_ok "child processes back to the baseline: $base_children -> $end_children"
else
	jg_notok "child processes back to the baseline: $base_children -> $end_children"
	for c in $(jg_child_pids "$JG_GW_PID"); do jg_log "child $c $(jg_comm "$c") $(jg_proc_state "$c")"; done
fi

growth=$((end_rss - base_rss))
limit=$((base_rss / 10))
[ $limit -ge $slack_kb ] || limit=$slack_kb
if [ $growth -le $limit ]; then
	jg_ok "RSS flat: $base_rss kB -> $end_rss kB (growth $growth kB, limit $limit kB)"
else
	jg_notok "RSS flat: $base_rss kB -> $end_rss kB (growth $growth kB, limit $limit kB)"
fi

# A zombie may exist for an instant between exit and reaping: only one that
# stays for 2 s counts.
z=$(jg_zombies "$JG_GW_PID")
if [ -n "$z" ]; then
	sleep 2
	z=$(jg_zombies "$JG_GW_PID")
fi
if [ -z "$z" ]; then
	jg_ok "no zombies among the gateway's descendants ($end_desc descendants)"
else
	jg_notok "no zombies among the gateway's descendants: $(echo $z)"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
