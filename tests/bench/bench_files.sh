#!/bin/bash
# jumpgate cp benchmarks (make bench): figures beside local baselines.
#   1. throughput: a 1 GiB file (JG_BENCH_MIB) uploaded with `jumpgate cp` to
#      the `local` target, against plain `cp`, `dd conv=fsync` (the agent
#      fsyncs before its rename: the fair baseline) and, when OpenSSH's sshd
#      is installed (tests/integration/sshd.sh), `scp` to a loopback sshd;
#      then the download with `jumpgate cp`.  MB/s (10^6 bytes/s), median of
#      JG_BENCH_REPEAT runs.
#   2. fan-out: 256 MiB (JG_BENCH_FAN_MIB) to 5 targets (l1..l5, method local,
#      each its own agent connection) in one `jumpgate cp`, against 5
#      `jumpgate cp` one after the other; wall times and the bytes the
#      gateway received from the client (/v1/stats bytes.from_clients).
# Every destination is under the test's temporary directory; processes are
# the test's own, stopped by PID (tests/integration/lib.sh).
. "$(dirname "$0")/../integration/lib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_init_pki
jg_require python3

SSH=0
if [ -f "$srcdir/tests/integration/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ] &&
	command -v scp >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
	. "$srcdir/tests/integration/sshd.sh"
	trap jg_ssh_cleanup EXIT
	jg_ssh_client_key
	if jg_sshd_start bench 127.0.0.2; then SSH=1; else echo "WARNING: sshd did not start: no scp figure"; fi
fi
JG_CONF_EXTRA='targets = (
  { name = "l1"; method = "local"; },
  { name = "l2"; method = "local"; },
  { name = "l3"; method = "local"; },
  { name = "l4"; method = "local"; },
  { name = "l5"; method = "local"; }
);'
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }

REPEAT=${JG_BENCH_REPEAT:-3}
MIB=${JG_BENCH_MIB:-1024}
FAN_MIB=${JG_BENCH_FAN_MIB:-256}
BYTES=$((MIB * 1048576))
D=$JG_T/bench
mkdir -p "$D/dst"
f=$D/big
head -c "$BYTES" /dev/urandom >"$f"
want=$(jg_sha256 "$f")

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
from_clients() { jg_curl /v1/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"]["from_clients"])'; }

# time_cmd COMMAND...: median of REPEAT timings (ns), the destination removed before each.
time_cmd() {
	local i t0
	for i in $(seq 1 "$REPEAT"); do
		rm -f "$D/dst/out"
		sync
		t0=$(now)
		"$@" >/dev/null 2>"$D/err" </dev/null || echo "WARNING: $* failed: $(head -c 300 "$D/err")" >&2
		echo $(($(now) - t0))
	done | median
}

cat "$f" >/dev/null # page cache: every contender reads from memory
echo "== throughput: $MIB MiB, median of $REPEAT"
cp_ns=$(time_cmd cp "$f" "$D/dst/out")
dd_ns=$(time_cmd dd if="$f" of="$D/dst/out" bs=1M conv=fsync status=none)
jg_ns=$(time_cmd jg_cli cp -q "$f" "local:$D/dst/out")
[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the uploaded file differs"
jg_cli cp -q "$f" "local:$D/dst/src" </dev/null
rm -f "$D/dst/out"
jgd_ns=$(time_cmd jg_cli cp -q "local:$D/dst/src" "$D/dst/out")
[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the downloaded file differs"
printf '  cp FILE (page cache, no fsync)        %9s MB/s  (%s)\n' "$(mbps $BYTES $cp_ns)" "$(secs $cp_ns)"
printf '  dd conv=fsync                         %9s MB/s  (%s)\n' "$(mbps $BYTES $dd_ns)" "$(secs $dd_ns)"
printf '  jumpgate cp FILE local:/..  (upload)  %9s MB/s  (%s)\n' "$(mbps $BYTES $jg_ns)" "$(secs $jg_ns)"
printf '  jumpgate cp local:/.. FILE  (download)%9s MB/s  (%s)\n' "$(mbps $BYTES $jgd_ns)" "$(secs $jgd_ns)"
if [ $SSH = 1 ]; then
	cfg=$(jg_ssh_client_config)
	# The test sshd has no sftp subsystem: the classic scp protocol (-O) where scp has it.
	scp_o=
	scp -O 2>&1 | grep -qi 'illegal option\|unknown option' || scp_o=-O
	scp_ns=$(time_cmd scp -q $scp_o -F "$cfg" -P "${JG_SSHD_PORT[bench]}" "$f" "127.0.0.2:$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the scp copy differs"
	printf '  scp to a loopback sshd                %9s MB/s  (%s)\n' "$(mbps $BYTES $scp_ns)" "$(secs $scp_ns)"
fi
printf '  ratios (upload MB/s): jumpgate/cp %s  jumpgate/dd-fsync %s' \
	"$(ratio $cp_ns $jg_ns)" "$(ratio $dd_ns $jg_ns)"
[ $SSH = 0 ] || printf '  jumpgate/scp %s' "$(ratio $scp_ns $jg_ns)"
printf '\n'
rm -f "$D/dst/out" "$D/dst/src"

echo "== fan-out: $FAN_MIB MiB to 5 targets (l1..l5)"
ff=$D/fan
head -c $((FAN_MIB * 1048576)) "$f" >"$ff"
fbytes=$((FAN_MIB * 1048576))
b0=$(from_clients)
t0=$(now)
jg_cli cp -q "$ff" "l1,l2,l3,l4,l5:$D/dst/fan.out" </dev/null >"$D/fan.table" 2>"$D/fan.err" ||
	{ echo "WARNING: fan-out failed"; cat "$D/fan.table" "$D/fan.err"; }
fan_ns=$(($(now) - t0))
b1=$(from_clients)
t0=$(now)
for t in l1 l2 l3 l4 l5; do
	jg_cli cp -q "$ff" "$t:$D/dst/seq.out" </dev/null 2>>"$D/seq.err" || echo "WARNING: cp to $t failed"
done
seq_ns=$(($(now) - t0))
b2=$(from_clients)
printf '  one fan-out cp to 5 targets   %10s   from the client: %6s MiB (%.2fx the file)\n' \
	"$(secs $fan_ns)" $(((b1 - b0) / 1048576)) "$(ratio $((b1 - b0)) $fbytes)"
printf '  5 sequential cp               %10s   from the client: %6s MiB (%.2fx the file)\n' \
	"$(secs $seq_ns)" $(((b2 - b1) / 1048576)) "$(ratio $((b2 - b1)) $fbytes)"
printf '  ratio (sequential / fan-out wall time): %s\n' "$(ratio $seq_ns $fan_ns)"

jg_gateway_stop 10 || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
