#!/bin/bash
# What lets `make -j check` run the integration tests side by side:
#   1. jg_free_port (lib.sh): 8 processes drawing 100 ports each at once, all
#      alive until every one has drawn, get 800 distinct ports in 10000-31999
#      (random draws alone would repeat about 15 of them);
#   2. tests/integration/lock.sh: two shared tests run side by side; a test
#      in JG_ALONE runs with no other (a shared one started after it waits its
#      turn: the turnstile); a process a test leaves behind does not hold the
#      lock for the next.
# Everything under $JG_T (its own registry and lock files); no gateway.
. "$(dirname "$0")/lib.sh"
jg_setup

# ---------------------------------------------------------------- ports
export JG_PORTS=$JG_T/ports
W=8 N=100
for i in $(seq 1 $W); do
	bash -c '
		. "$srcdir/tests/integration/lib.sh"
		for j in $(seq 1 '$N'); do jg_free_port; done >"$1/w$2.txt"
		touch "$1/w$2.done"
		for k in $(seq 1 600); do [ -e "$1/go" ] && exit 0; sleep 0.1; done
		exit 1' worker "$JG_T" "$i" &
	jg_track "worker$i" $!
done
deadline=$((SECONDS + 120))
while [ "$(find "$JG_T" -maxdepth 1 -name 'w*.done' | wc -l)" -lt $W ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.1
done
touch "$JG_T/go"
for i in $(seq 1 $W); do jg_wait_gone "$(cat "$JG_T/pids/worker$i.pid")" 20 || true; done
cat "$JG_T"/w*.txt >"$JG_T/all.txt"
total=$(wc -l <"$JG_T/all.txt")
dups=$(sort "$JG_T/all.txt" | uniq -d | wc -l)
out=$(awk '$1 < 10000 || $1 > 31999' "$JG_T/all.txt" | wc -l)
jg_check "$W processes drawing $N ports each at once: $total ports, $dups drawn twice, $out out of 10000-31999" \
	[ "$total" = $((W * N)) -a "$dups" = 0 -a "$out" = 0 ]
left=$(wc -l <"$JG_PORTS")
p=$(jg_free_port)
jg_check "the ports of ended tests are given back (registry: $left lines before the next draw, $(wc -l <"$JG_PORTS") after)" \
	[ "$(wc -l <"$JG_PORTS")" = 1 -a "$(cut -d' ' -f1 "$JG_PORTS")" = "$p" ]

# ---------------------------------------------------------------- lock.sh
L=$srcdir/tests/integration/lock.sh
mkdir -p "$JG_T/b"
# A stand-in test: records when it ran ("NAME START END", EPOCHREALTIME).
cat >"$JG_T/t.sh" <<'EOF'
#!/bin/bash
s=$EPOCHREALTIME
sleep "$2"
[ "${3:-}" != leave ] || { sleep 30 </dev/null >/dev/null 2>&1 & echo $! >"$(dirname "$0")/left.pid"; }
printf '%s %s %s\n' "$1" "$s" "$EPOCHREALTIME" >>"$(dirname "$0")/runs.txt"
EOF
chmod +x "$JG_T/t.sh"
for n in a b alone; do ln -s t.sh "$JG_T/$n.sh"; done
run() { builddir=$JG_T/b JG_ALONE=alone.sh JG_LOCK_WAIT=60 bash "$L" "$JG_T/$1.sh" "$@" >>"$JG_T/lock.log" 2>&1; }
run a 2 &
jg_track a $!
sleep 0.5
run alone 1 &
jg_track alone $!
sleep 0.5
run b 1 &
jg_track b $!
for n in a alone b; do jg_wait_gone "$(cat "$JG_T/pids/$n.pid")" 30 || true; done
# overlap X Y: the runs of X and Y overlap in time.
overlap() {
	awk -v x="$1" -v y="$2" '$1 == x { xs = $2; xe = $3 } $1 == y { ys = $2; ye = $3 }
		END { exit !(xs != "" && ys != "" && xs < ye && ys < xe) }' "$JG_T/runs.txt"
}
runs=$(tr '\n' ';' <"$JG_T/runs.txt")
jg_check "all three ran ($runs)" [ "$(wc -l <"$JG_T/runs.txt")" = 3 ]
jg_check "the JG_ALONE test ran beside neither a nor b" eval '! overlap alone a && ! overlap alone b'
jg_check "b, started while alone waited, ran after it (the turnstile)" \
	awk '$1 == "alone" { e = $3 } $1 == "b" { s = $2 } END { exit !(s >= e) }' "$JG_T/runs.txt"
: >"$JG_T/runs.txt"
run a 1 &
jg_track a $!
sleep 0.3
run b 1 &
jg_track b $!
for n in a b; do jg_wait_gone "$(cat "$JG_T/pids/$n.pid")" 30 || true; done
jg_check "two shared tests ran side by side" overlap a b
# A test that leaves a process behind: the next exclusive one still runs.
: >"$JG_T/runs.txt"
run a 0 leave
jg_track left "$(cat "$JG_T/left.pid")"
start=$SECONDS
run alone 0 || true
jg_check "a process left behind by a test does not hold the lock (the next, alone, ran in $((SECONDS - start)) s)" \
	grep -q '^alone ' "$JG_T/runs.txt"
jg_done
