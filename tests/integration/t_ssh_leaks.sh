#!/bin/bash
# 1,000 sequential execs over one ssh target leave everything flat, with the
# tolerances of t_leaks.sh: the gateway's open fds (within 2), its child
# processes back to the baseline, RSS growth under 10 % or 2 MiB (8 MiB under
# the sanitizers), no zombies among its descendants; and on the target side
# one sshd session throughout, the agent's fds flat, no zombies under the
# sshd.  The baseline is taken after a 100-exec warm-up.  Under the
# sanitizers: 500 execs (LeakSanitizer checks the gateway's memory at its exit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup

BUDGET=${JG_LEAK_BUDGET:-170}
slack_kb=2048
total=1000 warmup=100
if jg_sanitized; then
	# Fewer execs: LeakSanitizer checks every allocation of the gateway when
	# it exits (a leak makes SIGTERM's exit status non-zero), and a leak of
	# one fd or child per exec still shows as 400 after the warm-up.  Each
	# exec costs about 0.14 s of CPU here (every process is instrumented).
	total=500 warmup=100
	slack_kb=8192
	jg_asan_quarantine 1
fi
TOTAL=${JG_LEAK_EXECS:-$total}
WARMUP=${JG_LEAK_WARMUP:-$warmup}

jg_sshd_start a 127.0.0.2 || { jg_notok "sshd starts on 127.0.0.2"; jg_done; }
jg_ok "sshd listens on 127.0.0.2:${JG_SSHD_PORT[a]} (pid ${JG_SSHD_PID[a]})"
SSHD=${JG_SSHD_PID[a]}
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = ( $(jg_ssh_target web1 127.0.0.2 "${JG_SSHD_PORT[a]}") );"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

agent_pid() {
	local d
	for d in $(jg_descendants "$SSHD"); do
		case $(jg_comm "$d") in agent-*) echo "$d"; return 0 ;; esac
	done
}

sample() { # sample NAME
	sleep 0.5
	eval "$1_fd=$(jg_fd_count "$JG_GW_PID")"
	eval "$1_children=$(jg_child_count "$JG_GW_PID")"
	eval "$1_rss=$(jg_rss_kb "$JG_GW_PID")"
	eval "$1_desc=$(jg_descendants "$JG_GW_PID" | wc -l)"
	eval "$1_sessions=$(jg_sshd_sessions a | wc -l)"
	eval "$1_tdesc=$(jg_descendants "$SSHD" | wc -l)"
	local a
	a=$(agent_pid)
	eval "$1_agent=${a:-none}"
	eval "$1_afd=$([ -n "$a" ] && jg_fd_count "$a" || echo 0)"
	eval "$1_arss=$([ -n "$a" ] && jg_rss_kb "$a" || echo 0)"
	eval "$1_link=$(jg_json_val "$(jg_link web1)" pid)"
}

run=0
failed=0
deadline=$((SECONDS + BUDGET))
start=$SECONDS
while [ $run -lt "$TOTAL" ]; do
	if [ $SECONDS -ge $deadline ]; then
		jg_notok "$TOTAL sequential execs within ${BUDGET} s (only $run done)"
		break
	fi
	if ! JG_TIMEOUT=30 jg_cli exec web1 -- true </dev/null 2>"$JG_T/exec.err"; then
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
	jg_ok "$TOTAL sequential 'jumpgate exec web1 -- true' over ssh all exit 0 (${took} s, $((took * 1000 / TOTAL)) ms each)"
else
	jg_notok "$TOTAL sequential 'jumpgate exec web1 -- true' over ssh all exit 0 ($failed of $run failed)"
fi

jg_log "gateway after $WARMUP execs: fds $base_fd, children $base_children, descendants $base_desc, RSS $base_rss kB"
jg_log "gateway after $run execs: fds $end_fd, children $end_children, descendants $end_desc, RSS $end_rss kB"
jg_log "target after $WARMUP execs: sessions $base_sessions, sshd descendants $base_tdesc, agent $base_agent fds $base_afd RSS $base_arss kB"
jg_log "target after $run execs: sessions $end_sessions, sshd descendants $end_tdesc, agent $end_agent fds $end_afd RSS $end_arss kB"

if [ -n "$base_link" ] && [ "$base_link" = "$end_link" ]; then
	jg_ok "one onward connection throughout (ssh pid $base_link)"
else
	jg_notok "one onward connection throughout (ssh pid ${base_link:-none} -> ${end_link:-none})"
fi

d=$((end_fd - base_fd))
if [ ${d#-} -le 2 ]; then
	jg_ok "gateway open fds flat: $base_fd -> $end_fd"
else
	jg_notok "gateway open fds flat: $base_fd -> $end_fd"
	ls -l "/proc/$JG_GW_PID/fd" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
fi

if [ "$end_children" -le "$base_children" ]; then
	jg_ok "gateway child processes back to the baseline: $base_children -> $end_children"
else
	jg_notok "gateway child processes back to the baseline: $base_children -> $end_children"
	for c in $(jg_child_pids "$JG_GW_PID"); do jg_log "child $c $(jg_comm "$c") $(jg_proc_state "$c")"; done
fi

growth=$((end_rss - base_rss))
limit=$((base_rss / 10))
[ $limit -ge $slack_kb ] || limit=$slack_kb
if [ $growth -le $limit ]; then
	jg_ok "gateway RSS flat: $base_rss kB -> $end_rss kB (growth $growth kB, limit $limit kB)"
else
	jg_notok "gateway RSS flat: $base_rss kB -> $end_rss kB (growth $growth kB, limit $limit kB)"
fi

z=$(jg_zombies "$JG_GW_PID")
[ -z "$z" ] || { sleep 2; z=$(jg_zombies "$JG_GW_PID"); }
if [ -z "$z" ]; then
	jg_ok "no zombies among the gateway's descendants ($end_desc descendants)"
else
	jg_notok "no zombies among the gateway's descendants: $(echo $z)"
fi

# The target side.
if [ "$base_sessions" = 1 ] && [ "$end_sessions" = 1 ] && [ "$base_agent" = "$end_agent" ]; then
	jg_ok "target: one sshd session and one agent (pid $end_agent) throughout"
else
	jg_notok "target: one sshd session and one agent throughout (sessions $base_sessions -> $end_sessions, agent $base_agent -> $end_agent)"
fi
d=$((end_afd - base_afd))
if [ ${d#-} -le 2 ] && [ "$end_tdesc" -le "$base_tdesc" ]; then
	jg_ok "target: agent fds flat ($base_afd -> $end_afd), sshd descendants back to $end_tdesc"
else
	jg_notok "target: agent fds flat ($base_afd -> $end_afd), sshd descendants $base_tdesc -> $end_tdesc"
fi
agrowth=$((end_arss - base_arss))
if [ $agrowth -le $slack_kb ]; then
	jg_ok "target: agent RSS flat: $base_arss kB -> $end_arss kB"
else
	jg_notok "target: agent RSS flat: $base_arss kB -> $end_arss kB (growth $agrowth kB)"
fi
z=$(jg_zombies "$SSHD")
[ -z "$z" ] || { sleep 2; z=$(jg_zombies "$SSHD"); }
if [ -z "$z" ]; then jg_ok "target: no zombies under the sshd"; else jg_notok "target: no zombies under the sshd: $(echo $z)"; fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
