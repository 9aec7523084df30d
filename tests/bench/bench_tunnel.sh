#!/bin/bash
# Raw tunnel throughput: JG_BENCH_MIB (default 1024) MiB of zeros pushed
# through `jumpgate connect` to a sink port, against the same bytes written
# to the same sink over plain loopback TCP (bash's /dev/tcp).  The sink
# (python3) reads to EOF and answers the byte count, so every run is checked
# for completeness.  Two tunnel paths: through the agent (target local:
# gateway -> agent -> socket) and from the gateway itself (a target of
# method "tunnel").  Prints MB/s (10^6 bytes/s), medians of JG_BENCH_REPEAT
# runs (default 3), and the ratios.
. "$(dirname "$0")/../integration/lib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_require python3
jg_init_pki

MIB=${JG_BENCH_MIB:-1024}
REPEAT=${JG_BENCH_REPEAT:-3}
BYTES=$((MIB * 1048576))

. "$(dirname "$0")/benchlib.sh"
sink_start sink || exit 1
SINK=$SINK_PORT

JG_CONF_EXTRA='targets = ( { name = "bastion"; method = "tunnel"; host = "127.0.0.1"; },
  { name = "local"; method = "local"; } );
tunnels = { allow = [ "local:*", "bastion:*" ]; };'
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mbps() { awk -v b="$BYTES" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }

# The same bytes over plain TCP: write them, half-close, read the answer.
plain() {
	exec 3<>"/dev/tcp/127.0.0.1/$SINK"
	head -c "$BYTES" /dev/zero >&3
	# bash cannot shutdown(SHUT_WR) a /dev/tcp fd: python does the half-close.
	python3 -c 'import socket, sys; s = socket.socket(fileno=3); s.shutdown(socket.SHUT_WR); sys.stdout.write(s.makefile().readline())' 3>&3
	exec 3>&-
}
via() { head -c "$BYTES" /dev/zero | JG_TIMEOUT=600 jg_cli connect "$1" "$SINK"; }

# Median ns of REPEAT runs of "$@"; the answer must be BYTES.
time_run() {
	local i t0 out
	for i in $(seq 1 "$REPEAT"); do
		t0=$(now)
		out=$("$@" 2>>"$JG_T/run.err")
		echo $(($(now) - t0))
		[ "$out" = "$BYTES" ] || echo "WARNING: $* delivered '$out' of $BYTES bytes" >&2
	done | median
}

echo "== tunnel throughput: $MIB MiB to a sink port (median of $REPEAT)"
plain_ns=$(time_run plain)
agent_ns=$(time_run via local)
direct_ns=$(time_run via bastion)
plain_mbps=$(mbps "$plain_ns")
agent_mbps=$(mbps "$agent_ns")
direct_mbps=$(mbps "$direct_ns")
printf '  plain loopback TCP                          %10s MB/s  (%d ms)\n' "$plain_mbps" $((plain_ns / 1000000))
printf '  jumpgate connect local (through the agent)  %10s MB/s  (%d ms)\n' "$agent_mbps" $((agent_ns / 1000000))
printf '  jumpgate connect bastion (gateway socket)   %10s MB/s  (%d ms)\n' "$direct_mbps" $((direct_ns / 1000000))
printf '  agent tunnel / plain: %s   gateway tunnel / plain: %s\n' \
	"$(ratio "$agent_mbps" "$plain_mbps")" "$(ratio "$direct_mbps" "$plain_mbps")"
[ ! -s "$JG_T/run.err" ] || jg_show "$JG_T/run.err" 5
jg_gateway_stop 10 >/dev/null || true
exit 0
