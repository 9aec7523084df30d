#!/bin/bash
# Tunnels dialled by the gateway (issue 15) against OpenSSH's own bastion, in
# the same run, on loopback:
#   1. `ssh -o ProxyCommand='jumpgate connect %h %p' HOST true` (a warm
#      gateway: its TLS session is new per run, as a user's would be) against
#      `ssh -J bastion HOST true` through an OpenSSH bastion (an sshd on
#      127.0.1.7) to the same target sshd (127.0.1.6): median, p95, mean of
#      JG_BENCH_RUNS runs (default 20) each, and the ratio (target <= 1.0);
#   2. a raw byte stream through a gateway-dialled tunnel: JG_BENCH_MIB
#      (default 1024) MiB of zeros into a sink on 127.0.0.1 that counts them,
#      against plain loopback TCP (target >= 1000 MB/s);
#   3. scp of JG_BENCH_SCP_MIB (default 256) MiB through the tunnel against
#      direct scp to the same sshd (target <= 1.1x).
# Medians of JG_BENCH_REPEAT (default 3) for 2 and 3.  Prints figures only:
# timings are never asserted (make check has t_tunnel_gateway.sh).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup
jg_require python3 scp
. "$(dirname "$0")/benchlib.sh"

RUNS=${JG_BENCH_RUNS:-20}
MIB=${JG_BENCH_MIB:-1024}
SCP_MIB=${JG_BENCH_SCP_MIB:-256}
REPEAT=${JG_BENCH_REPEAT:-3}
BYTES=$((MIB * 1048576))

JG_SSHD_EXTRA="Subsystem sftp internal-sftp" jg_sshd_start tgt 127.0.1.6 || { echo "target sshd did not start" >&2; exit 1; }
jg_sshd_start bastion 127.0.1.7 || { echo "bastion sshd did not start" >&2; exit 1; }
PT=${JG_SSHD_PORT[tgt]}
PB=${JG_SSHD_PORT[bastion]}
sink_start sink || exit 1
SINK=$SINK_PORT
JG_CONF_EXTRA="tunnels = { allow = [ \"local:127.0.1.6:$PT\", \"local:127.0.0.1:$SINK\" ]; };"
jg_gateway_start || { echo "gateway did not start" >&2; exit 1; }

cat >"$JG_T/jgc" <<EOS
#!/bin/sh
exec "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" connect "\$@"
EOS
chmod +x "$JG_T/jgc"
CFG=$(jg_ssh_client_config)
PC="ProxyCommand=$JG_T/jgc %h %p"

echo "== ssh HOST true: ProxyCommand='jumpgate connect %h %p' vs ssh -J through an OpenSSH bastion ($RUNS runs each, after 2 warm-ups)"
lat proxy "$RUNS" 2 ssh -F "$CFG" -o "$PC" -p "$PT" 127.0.1.6 true
read -r pm pp pa < <(stats "$JG_T/proxy.us")
lat jump "$RUNS" 2 ssh -F "$CFG" -J "127.0.1.7:$PB" -p "$PT" 127.0.1.6 true
read -r jm jp ja < <(stats "$JG_T/jump.us")
printf '  %-46s median %7s ms  p95 %7s ms  mean %7s ms\n' "ssh -o ProxyCommand='jumpgate connect %h %p'" "$pm" "$pp" "$pa"
printf '  %-46s median %7s ms  p95 %7s ms  mean %7s ms\n' "ssh -J bastion (OpenSSH sshd)" "$jm" "$jp" "$ja"
printf '  jumpgate / ssh -J (median): %s   (target <= 1.00)\n' "$(ratio "$pm" "$jm")"

plain() {
	python3 - "$SINK" "$BYTES" <<'PY'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
left, buf = int(sys.argv[2]), bytes(1 << 20)
while left > 0:
    n = min(left, len(buf))
    s.sendall(buf[:n])
    left -= n
s.shutdown(socket.SHUT_WR)
sys.stdout.write(s.makefile().readline())
PY
}
# The tunnel's zeros come from a sparse file (read from no disk), as the plain
# sender's come from its own buffer: a `head -c ... /dev/zero |` in front spent
# 0.78 CPU-s per GiB of its own (perf sched) on a 2-core machine, beside the 1.0 of
# the client and 0.9 of the gateway, and was timed as the tunnel's.
truncate -s "$BYTES" "$JG_T/zeros.bin"
tunnel() { "$JG_T/jgc" 127.0.0.1 "$SINK" <"$JG_T/zeros.bin"; }
echo "== a raw byte stream: $MIB MiB into a sink on 127.0.0.1 (median of $REPEAT)"
plain_ns=$(time_median "$BYTES" plain)
tun_ns=$(time_median "$BYTES" tunnel)
printf '  %-46s %9s MB/s  (%d ms)\n' "plain loopback TCP" "$(mb_per_s "$plain_ns" "$BYTES")" $((plain_ns / 1000000))
printf '  %-46s %9s MB/s  (%d ms)\n' "jumpgate connect 127.0.0.1 (gateway dials)" "$(mb_per_s "$tun_ns" "$BYTES")" $((tun_ns / 1000000))
printf '  tunnel / plain: %s   (target: tunnel >= 1000 MB/s)\n' "$(ratio "$(mb_per_s "$tun_ns" "$BYTES")" "$(mb_per_s "$plain_ns" "$BYTES")")"

echo "== scp of $SCP_MIB MiB to the target sshd (median of $REPEAT)"
head -c $((SCP_MIB * 1048576)) /dev/urandom >"$JG_T/scp.bin"
mkdir -p "$JG_T/dst"
scp_direct() { scp -q -F "$CFG" -P "$PT" "$JG_T/scp.bin" "127.0.1.6:$JG_T/dst/d.bin" && echo ok; }
scp_tunnel() { scp -q -F "$CFG" -o "$PC" -P "$PT" "$JG_T/scp.bin" "127.0.1.6:$JG_T/dst/t.bin" && echo ok; }
d_ns=$(time_median ok scp_direct)
t_ns=$(time_median ok scp_tunnel)
sb=$((SCP_MIB * 1048576))
printf '  %-46s %9s MB/s  (%d ms)\n' "scp direct" "$(mb_per_s "$d_ns" "$sb")" $((d_ns / 1000000))
printf '  %-46s %9s MB/s  (%d ms)\n' "scp -o ProxyCommand='jumpgate connect %h %p'" "$(mb_per_s "$t_ns" "$sb")" $((t_ns / 1000000))
printf '  time through the tunnel / direct: %s   (target <= 1.10)\n' "$(ratio "$t_ns" "$d_ns")"
[ ! -s "$JG_T/run.err" ] || jg_show "$JG_T/run.err" 5
jg_gateway_stop 10 >/dev/null || true
exit 0
