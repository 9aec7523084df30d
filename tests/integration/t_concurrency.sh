#!/bin/bash
# 200 concurrent execs over ONE HTTP/2 connection (nghttp -m 200: the same
# POST /v1/targets/local/exec 200 times on one connection), each answered 200
# with the program's stdout and EXIT 0; and 50 jumpgate CLIs at once, each on
# its own connection.
#
# The request body (built with printf, see lib.sh for the frame layout):
#   OPEN  4a47 02 00 | 00000000 | len | 00000001 | 01 <len u32> "sh\0-c\0sleep 1; echo hi\0"
#   EOF   4a47 06 00 | 00000000 | 00000000 | 00000000
# Expected per stream, among the response frames:
#   DATA  4a47 05 00 | 00000000 | 00000003 | 00000000 | "hi\n"
#   EXIT  4a47 08 00 | 00000000 | 00000000 | 00000000
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require nghttp
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

N=${JG_CONCURRENCY:-200}
body=$JG_T/body
{
	jg_open_exec sh -c 'sleep 1; echo hi'
	jg_frame 6 0 0
} >"$body"

start=$(date +%s%N)
set +e
timeout 120 nghttp -s -m "$N" -t 90 --cert "$JG_CERT" --key "$JG_KEY" \
	-H 'content-type: application/x-jumpgate-frames' -d "$body" \
	"https://127.0.0.1:$JG_PORT/v1/targets/local/exec" >"$JG_T/nghttp.out" 2>"$JG_T/nghttp.err"
rc=$?
set -e
took_ms=$((($(date +%s%N) - start) / 1000000))

# stdout: the response bodies as they arrived, then the statistics.
off=$(grep -abo '\*\*\*\*\* Statistics \*\*\*\*\*' "$JG_T/nghttp.out" | head -n1 | cut -d: -f1)
if [ -n "$off" ]; then
	head -c "$off" "$JG_T/nghttp.out" >"$JG_T/bodies"
	tail -c +$((off + 1)) "$JG_T/nghttp.out" >"$JG_T/stats"
else
	cp "$JG_T/nghttp.out" "$JG_T/bodies"
	: >"$JG_T/stats"
fi
codes=$(awk '$NF ~ /^\// && $(NF - 2) ~ /^[0-9][0-9][0-9]$/ { c[$(NF - 2)]++ } END { for (k in c) printf "%s:%d ", k, c[k] }' "$JG_T/stats")
n200=$(awk '$NF ~ /^\// && $(NF - 2) == "200" { n++ } END { print n + 0 }' "$JG_T/stats")

if [ "$rc" = 0 ] && [ "$n200" = "$N" ]; then
	jg_ok "$N streams on one connection all answered 200 (${took_ms} ms)"
else
	jg_notok "$N streams on one connection all answered 200 (nghttp exit $rc, statuses: ${codes:-none})"
	jg_show "$JG_T/nghttp.err" 10
fi

# Count whole frames at any byte position: bodies of different streams may
# interleave at HTTP/2 DATA boundaries.
count_frames() {
	od -An -v -tx1 "$1" | tr -s ' \n' '\n\n' | sed '/^$/d' | awk -v pat="$2" '
	{ b[n++] = $1 }
	END {
		m = length(pat) / 2
		for (i = 0; i < m; i++) p[i] = substr(pat, 2 * i + 1, 2)
		for (i = 0; i + m <= n; i++) {
			if (b[i] != "4a") continue
			for (j = 1; j < m && b[i + j] == p[j]; j++) ;
			if (j == m) c++
		}
		print c + 0
	}'
}
exit0=$(count_frames "$JG_T/bodies" 4a470800000000000000000000000000)
hi=$(count_frames "$JG_T/bodies" 4a47050000000000000000030000000068690a)
if [ "$exit0" = "$N" ] && [ "$hi" = "$N" ]; then
	jg_ok "$N x stdout 'hi' and EXIT 0 frames received"
else
	jg_notok "$N x stdout 'hi' and EXIT 0 frames received (DATA hi: $hi, EXIT 0: $exit0)"
	od -An -tx1 "$JG_T/bodies" | head -n 8 | sed 's/^/#   /'
fi

# Each program sleeps 1 s: sequential would take N s.
if [ "$took_ms" -le $((N * 1000 / 4)) ]; then
	jg_ok "the streams ran concurrently ($N x sleep 1 in ${took_ms} ms)"
else
	jg_notok "the streams ran concurrently ($N x sleep 1 took ${took_ms} ms)"
fi

# The gateway says how many streams it allows at once (SETTINGS).
timeout 30 nghttp -nv --cert "$JG_CERT" --key "$JG_KEY" "https://127.0.0.1:$JG_PORT/healthz" \
	>"$JG_T/settings.out" 2>&1 || true
mcs=$(grep -a -m1 'SETTINGS_MAX_CONCURRENT_STREAMS' "$JG_T/settings.out" | sed 's/.*(0x03):*//' | tr -d ' ][' || true)
jg_log "gateway SETTINGS_MAX_CONCURRENT_STREAMS: ${mcs:-not announced}"

if [ "$(jg_http_code GET /healthz)" = 200 ]; then
	jg_ok "gateway still healthy"
else
	jg_notok "gateway still healthy"
fi

# 50 CLIs at once, one connection each.
M=50
for i in $(seq 1 $M); do
	(set +e; jg_exec sh -c 'echo "$1"' sh "$i" </dev/null >"$JG_T/c$i.out" 2>"$JG_T/c$i.err"; echo $? >"$JG_T/c$i.rc") &
	jg_track "cli$i" $!
done
bad=0
for i in $(seq 1 $M); do
	pid=$(cat "$JG_T/pids/cli$i.pid")
	jg_wait_gone "$pid" 120 || true
	wait "$pid" 2>/dev/null || true
	jg_untrack "cli$i"
	if [ "$(cat "$JG_T/c$i.rc" 2>/dev/null)" != 0 ] || [ "$(cat "$JG_T/c$i.out")" != "$i" ]; then
		bad=$((bad + 1))
		[ $bad -gt 3 ] || jg_show "$JG_T/c$i.err" 3
	fi
done
if [ $bad = 0 ]; then
	jg_ok "$M concurrent jumpgate CLIs, each its own output and exit 0"
else
	jg_notok "$M concurrent jumpgate CLIs, each its own output and exit 0 ($bad wrong)"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
