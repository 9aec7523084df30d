#!/bin/bash
# 50 ssh targets established concurrently: sshd listening on the 50
# loopback addresses 127.0.0.10-127.0.0.59 (16 per sshd, its limit), 50 inventory targets, 50
# `jumpgate exec` in parallel, cold (every connection new, and the agent not
# yet cached: 50 uploads race to the same cache file), then warm (the pool),
# then cold again with the agent cached (after a gateway restart).  All
# must succeed, /v1/stats must show 50 links up; wall times are printed.
# Concurrency check: many connections were being set up at once (from the
# gateway log), not one at a time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
# The keepalive is not under test here: with the tests' 2 s default, a link
# whose agent answered no ping for 4 s (50 sshd sessions and agents starting
# at once on a 2-core machine beside other tests) was closed before it was
# counted.
JG_SSH_KEEPALIVE=${JG_SSH_KEEPALIVE:-10}
# Nor is the set-up bound: 50 cold set-ups at once (each uploading the agent
# and hashing it, instrumented under the sanitizers) beside another test took some
# over the tests' 10 s.  The wall times are printed, not bounded.
JG_POOL_CONNECT_TIMEOUT=${JG_POOL_CONNECT_TIMEOUT:-60}

N=${JG_FANOUT:-50}
FIRST=10
# sshd listens on at most 16 addresses (MAX_LISTEN_SOCKS): one sshd per 16.
PER=16
port_of=()
g=0
i=$FIRST
while [ $i -lt $((FIRST + N)) ]; do
	addrs=
	last=$((i + PER - 1))
	[ $last -lt $((FIRST + N)) ] || last=$((FIRST + N - 1))
	for j in $(seq $i $last); do addrs="$addrs 127.0.0.$j"; done
	# shellcheck disable=SC2086
	jg_sshd_start "fan$g" $addrs || { jg_notok "sshd fan$g starts on 127.0.0.$i-$last"; jg_done; }
	jg_ok "sshd fan$g (pid ${JG_SSHD_PID[fan$g]}) listens on 127.0.0.$i-127.0.0.$last, port ${JG_SSHD_PORT[fan$g]}"
	for j in $(seq $i $last); do port_of[$j]=${JG_SSHD_PORT[fan$g]}; done
	i=$((last + 1))
	g=$((g + 1))
done
GROUPS_N=$g
HOMES=
for g in $(seq 0 $((GROUPS_N - 1))); do HOMES="$HOMES ${JG_SSHD_HOME[fan$g]}"; done

targets=
for i in $(seq $FIRST $((FIRST + N - 1))); do
	targets="$targets${targets:+,
  }$(jg_ssh_target "t$i" "127.0.0.$i" "${port_of[$i]}")"
done
# A control target for the one-connection baseline (its own address).
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $targets,
  $(jg_ssh_target solo 127.0.0.$FIRST "${port_of[$FIRST]}" "known_hosts = \"$JG_SSH_DIR/solo_known\";")
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT with $N ssh targets"

now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e9 }'; }

# fan NAME: exec tI -- sh -c 'echo $SSH_CONNECTION' on every target at once;
# ok when all exit 0 and each answered from its own address.  WALL (ns).
fan() {
	local name=$1 i pids='' pid bad=0 t0 rc
	t0=$(now)
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		(
			set +e
			JG_TIMEOUT=60 jg_cli exec "t$i" -- sh -c 'echo $SSH_CONNECTION' </dev/null \
				>"$JG_T/$name.$i.out" 2>"$JG_T/$name.$i.err"
			echo $? >"$JG_T/$name.$i.rc"
		) &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	WALL=$(($(now) - t0))
	for i in $(seq $FIRST $((FIRST + N - 1))); do
		rc=$(cat "$JG_T/$name.$i.rc" 2>/dev/null || echo none)
		if [ "$rc" != 0 ] || [ "$(awk '{ print $3 }' "$JG_T/$name.$i.out")" != "127.0.0.$i" ]; then
			bad=$((bad + 1))
			[ $bad -gt 3 ] || { jg_log "t$i: exit $rc, out '$(head -c 100 "$JG_T/$name.$i.out")'"; jg_show "$JG_T/$name.$i.err" 2; }
		fi
	done
	if [ $bad = 0 ]; then
		jg_ok "$name: $N parallel execs, all exit 0, each from its own address, wall $(secs $WALL) s"
	else
		jg_notok "$name: $N parallel execs all succeed ($bad failed), wall $(secs $WALL) s"
	fi
}

# links_up: how many t* links are up in /v1/stats (in UP); their pids in
# LINK_PIDS.  When fewer than N, the others' states and why the gateway
# closed any are logged.
links_up() {
	local l n=0 f=$JG_T/links
	LINK_PIDS=
	jg_links >"$f"
	while IFS= read -r l; do
		case $(jg_json_val "$l" target) in t[0-9]*) ;; *) continue ;; esac
		if [ "$(jg_json_val "$l" state)" != up ]; then
			jg_log "not up: $l"
			continue
		fi
		n=$((n + 1))
		LINK_PIDS="$LINK_PIDS $(jg_json_val "$l" pid)"
	done <"$f"
	UP=$n
	[ "$n" != "$N" ] || return 0
	jg_log "$n of $N links up; the gateway closed:"
	grep 'onward connection to t[0-9]' "$JG_GW_LOG" | grep -v 'starting\|up in' | tail -n 10 | sed 's/^/#   /'
}

# One connection's set-up time, first (agent not cached yet: upload).
t0=$(now)
if JG_TIMEOUT=60 jg_cli exec solo -- true </dev/null 2>"$JG_T/solo.err"; then
	SOLO=$(($(now) - t0))
	jg_ok "one cold connection (with the agent upload): $(secs $SOLO) s"
else
	SOLO=
	jg_notok "one cold connection"
	jg_show "$JG_T/solo.err" 3
fi
# The agent is cached now: clear the caches so the fan-out uploads N times.
for h in $HOMES; do rm -rf "$h/.cache"; done
fan cold
COLD=$WALL
links_up
n=$UP
pids1=$LINK_PIDS
if [ "$n" = "$N" ]; then jg_ok "stats: $N links up"; else jg_notok "stats: $N links up ($n)"; fi
# Established concurrently, not one at a time: from the gateway log, in
# order, the most connections being set up at once (started, not yet up or
# closed).  One at a time would give 1; 10 is far from it and still safe on
# a loaded machine, where the 50 clients arrive staggered.
inflight=$(awk '/onward connection to t[0-9]+ .*: starting/ { s++; if (s - e > m) m = s - e }
	/onward connection to t[0-9]+ .* (up in [0-9]+ ms|closed)/ { e++ } END { print m + 0 }' "$JG_GW_LOG")
if [ "$inflight" -ge 10 ]; then
	jg_ok "established concurrently: up to $inflight of $N connections being set up at once"
else
	jg_notok "established concurrently: up to $inflight of $N connections being set up at once (>= 10 wanted)"
fi
jg_log "cold wall $(secs $COLD) s; $N x one cold connection would be $(secs $((N * ${SOLO:-0}))) s"
bad=0
for h in $HOMES; do
	cached=$(find "$h/.cache/jumpgate" -maxdepth 1 -type f 2>/dev/null | wc -l)
	if [ "$cached" != 1 ] || [ "$(jg_sha256 "$h"/.cache/jumpgate/agent-*)" != "$(jg_sha256 "$JUMPGATE_AGENT")" ]; then
		bad=1
		jg_log "$h/.cache/jumpgate: $(ls "$h/.cache/jumpgate" 2>&1 | tr '\n' ' ')"
	fi
done
if [ $bad = 0 ]; then
	jg_ok "after racing uploads ($PER per sshd home) each cache holds one intact agent, no temp files left"
else
	jg_notok "after racing uploads each cache holds one intact agent"
fi
sessions=0
for g in $(seq 0 $((GROUPS_N - 1))); do sessions=$((sessions + $(jg_sshd_sessions "fan$g" | wc -l))); done
jg_log "sshd sessions now: $sessions"

fan warm
WARM=$WALL
links_up
n=$UP
if [ "$n" = "$N" ] && [ "$(echo $LINK_PIDS | tr ' ' '\n' | sort)" = "$(echo $pids1 | tr ' ' '\n' | sort)" ]; then
	jg_ok "warm: the same $N connections served it (same ssh pids)"
else
	jg_notok "warm: the same $N connections served it ($n up)"
fi

# Cold again, the agent cached: restart the gateway.
jg_gateway_stop 10 || jg_notok "gateway stops (status $JG_GW_STATUS)"
jg_gateway_start || { jg_notok "gateway restarts"; jg_done; }
fan cold-cached
COLD2=$WALL
links_up
n=$UP
if [ "$n" = "$N" ]; then jg_ok "stats: $N links up after the restart"; else jg_notok "stats: $N links up after the restart ($n)"; fi
if grep -q 'sending the agent' "$JG_GW_LOG"; then
	jg_notok "agent cached: no upload after the restart"
else
	jg_ok "agent cached: no upload after the restart"
fi

jg_log "$N targets in parallel: cold (agent uploads) $(secs $COLD) s, cold (agent cached) $(secs $COLD2) s, warm $(secs $WARM) s; one cold connection $(secs "${SOLO:-0}") s"
z=$(jg_zombies "$JG_GW_PID")
if [ -z "$z" ]; then jg_ok "no zombies"; else jg_notok "no zombies: $(echo $z)"; fi
if jg_gateway_stop 20; then jg_ok "SIGTERM with $N links up: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
