#!/bin/bash
# jumpgate cp benchmarks (make bench): figures beside local baselines.
#   1. throughput: a 1 GiB file (JG_BENCH_MIB) uploaded with `jumpgate cp` to
#      the `local` target, against plain `cp`, `dd conv=fsync` (the agent
#      fsyncs before its rename: the fair baseline) and, when OpenSSH's sshd
#      is installed (tests/integration/sshd.sh), `scp` to a loopback sshd;
#      then the download with `jumpgate cp`.  MB/s (10^6 bytes/s), median of
#      JG_BENCH_REPEAT runs.
#   2. through a jump host (with sshd): the same 1 GiB with `jumpgate cp` to
#      and from the ssh target web (127.0.0.2), against `scp -J` and
#      `rsync -e 'ssh -J'` to the same sshd, the jump host being that sshd
#      again on 127.0.0.3 (ssh refuses a jump host equal to the destination);
#      MB/s, median of JG_BENCH_REPEAT runs, and the ratios.
#   3. fan-out: 256 MiB (JG_BENCH_FAN_MIB) to 5 targets (l1..l5, method local,
#      each its own agent connection) in one `jumpgate cp`, against 5
#      `jumpgate cp` one after the other; wall times and the bytes the
#      gateway received from the client (/v1/stats bytes.from_clients).
#   4. fan-out to 20 ssh targets (with sshd; 127.0.0.10-29, two sshds):
#      one `jumpgate cp` to t10..t29 against 20 `scp -J` in parallel (a
#      background loop, then wait); wall times and the controller-side
#      bytes: the gateway's bytes.from_clients for jumpgate, and for scp the
#      sum of what each scp's ssh says it sent ("Transferred: sent N", its
#      LogLevel VERBOSE line: the connection to the target, carried inside
#      the one to the jump host, which adds its own framing on top).
# Every destination is under the test's temporary directory; processes are
# the test's own, stopped by PID (tests/integration/lib.sh).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/benchlib.sh"
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
	# 127.0.0.3: the same sshd as the jump host of the -J rows.
	if jg_sshd_start bench 127.0.0.2 127.0.0.3; then SSH=1; else echo "WARNING: sshd did not start: no ssh figure"; fi
fi
NFAN=20
FIRST=10
LOCALS='{ name = "l1"; method = "local"; },
  { name = "l2"; method = "local"; },
  { name = "l3"; method = "local"; },
  { name = "l4"; method = "local"; },
  { name = "l5"; method = "local"; }'
if [ $SSH = 1 ]; then
	PB=${JG_SSHD_PORT[bench]}
	JUMP=$JG_SSH_USER@127.0.0.3:$PB
	# The 20 fan-out targets (port_of[]).
	sshd_range fan $FIRST $NFAN || SSH=0
fi
if [ $SSH = 1 ]; then
	sshtargets="$(jg_ssh_target web 127.0.0.2 "$PB")"
	FANLIST=
	for i in $(seq $FIRST $((FIRST + NFAN - 1))); do
		sshtargets="$sshtargets,
  $(jg_ssh_target "t$i" "127.0.0.$i" "${port_of[$i]}")"
		FANLIST="$FANLIST${FANLIST:+,}t$i"
	done
	JG_SSH_KEEPALIVE=15
	JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore)
targets = (
  $LOCALS,
  $sshtargets
);"
else
	JG_CONF_EXTRA="targets = (
  $LOCALS
);"
fi
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
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

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

if [ $SSH = 1 ]; then
	cfg=$(jg_ssh_client_config)
	# The same with LogLevel VERBOSE: ssh then prints "Transferred: sent N".
	sed 's/LogLevel ERROR/LogLevel VERBOSE/' "$cfg" >"$cfg.verbose"
	scp_o=$(scp_legacy)
	# ConnectTimeout bounds the banner exchange too, slow through a busy jump host.
	SCPJ=(scp -q $scp_o -F "$cfg" -o ConnectTimeout=30 -J "$JUMP" -P "$PB")
fi
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
	scp_ns=$(time_cmd scp -q $scp_o -F "$cfg" -P "${JG_SSHD_PORT[bench]}" "$f" "127.0.0.2:$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the scp copy differs"
	printf '  scp to a loopback sshd                %9s MB/s  (%s)\n' "$(mbps $BYTES $scp_ns)" "$(secs $scp_ns)"
fi
printf '  ratios (upload MB/s): jumpgate/cp %s  jumpgate/dd-fsync %s' \
	"$(ratio $cp_ns $jg_ns)" "$(ratio $dd_ns $jg_ns)"
[ $SSH = 0 ] || printf '  jumpgate/scp %s' "$(ratio $scp_ns $jg_ns)"
printf '\n'
rm -f "$D/dst/out" "$D/dst/src"

if [ $SSH = 1 ]; then
	echo "== through a jump host: $MIB MiB, median of $REPEAT; target sshd 127.0.0.2, jump host 127.0.0.3 (the same sshd)"
	jgs_ns=$(time_cmd jg_cli cp -q "$f" "web:$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the jumpgate copy to web differs"
	scpj_ns=$(time_cmd "${SCPJ[@]}" "$f" "127.0.0.2:$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the scp -J copy differs"
	rsj_ns=$(time_cmd rsync -e "ssh -F $cfg -o ConnectTimeout=30 -J $JUMP -p $PB" "$f" "127.0.0.2:$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the rsync -J copy differs"
	cp "$f" "$D/dst/src"
	jgsd_ns=$(time_cmd jg_cli cp -q "web:$D/dst/src" "$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the jumpgate download from web differs"
	scpjd_ns=$(time_cmd "${SCPJ[@]}" "127.0.0.2:$D/dst/src" "$D/dst/out")
	[ "$(jg_sha256 "$D/dst/out")" = "$want" ] || echo "WARNING: the scp -J download differs"
	printf '  %-44s %11s %11s\n' "" upload download
	printf '  %-44s %6s MB/s %6s MB/s\n' "jumpgate cp (gateway, ssh, agent on web)" "$(mbps $BYTES $jgs_ns)" "$(mbps $BYTES $jgsd_ns)"
	printf '  %-44s %6s MB/s %6s MB/s\n' "scp -J 127.0.0.3" "$(mbps $BYTES $scpj_ns)" "$(mbps $BYTES $scpjd_ns)"
	printf '  %-44s %6s MB/s %11s\n' "rsync -e 'ssh -J 127.0.0.3'" "$(mbps $BYTES $rsj_ns)" "-"
	printf '  ratios (MB/s): upload jumpgate/scp-J %s, jumpgate/rsync-J %s;  download jumpgate/scp-J %s\n' \
		"$(ratio $scpj_ns $jgs_ns)" "$(ratio $rsj_ns $jgs_ns)" "$(ratio $scpjd_ns $jgsd_ns)"
	rm -f "$D/dst/out" "$D/dst/src"
fi

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

rm -f "$D/dst/fan.out" "$D/dst/seq.out"

if [ $SSH = 1 ]; then
	echo "== fan-out: $FAN_MIB MiB to $NFAN ssh targets (127.0.0.$FIRST-$((FIRST + NFAN - 1))), jump host 127.0.0.3 for scp"
	fwant=$(jg_sha256 "$ff")
	# Links up first (their logins are not the transfer's).
	jg_cli run "$FANLIST" -- true </dev/null >/dev/null 2>&1 || echo "WARNING: not every fan-out target answers"
	b0=$(from_clients)
	t0=$(now)
	jg_cli cp -q "$ff" "$FANLIST:$D/dst/fan20.out" </dev/null >"$D/fan20.table" 2>"$D/fan20.err" ||
		{ echo "WARNING: fan-out to $NFAN failed"; head -n 5 "$D/fan20.err"; }
	jf_ns=$(($(now) - t0))
	b1=$(from_clients)
	[ "$(jg_sha256 "$D/dst/fan20.out")" = "$fwant" ] || echo "WARNING: the fan-out copy differs"
	rm -f "$D/dst/fan20.out"
	# 20 scp -J at once, each to a file of its own (scp writes in place).
	t0=$(now)
	pids=
	for i in $(seq $FIRST $((FIRST + NFAN - 1))); do
		# (no -q: it would make ssh quiet, and the count is a VERBOSE line)
		scp $scp_o -F "$cfg.verbose" -o ConnectTimeout=30 -J "$JUMP" -P "${port_of[$i]}" \
			"$ff" "127.0.0.$i:$D/dst/scp.$i" </dev/null >/dev/null 2>"$D/scp.$i.err" &
		pids="$pids $!"
	done
	sfail=0
	for p in $pids; do wait "$p" || sfail=$((sfail + 1)); done
	sf_ns=$(($(now) - t0))
	[ $sfail = 0 ] || echo "WARNING: $sfail scp -J failed: $(cat "$D"/scp.*.err | grep -vi 'transferred\|bytes per\|authenticated' | sort | uniq -c | head -n 2)"
	sbytes=$(cat "$D"/scp.*.err | awk '/^Transferred: sent/ { gsub(",", "", $3); s += $3 } END { print s + 0 }')
	bad=0
	for i in $(seq $FIRST $((FIRST + NFAN - 1))); do
		[ "$(jg_sha256 "$D/dst/scp.$i" 2>/dev/null)" = "$fwant" ] || bad=$((bad + 1))
	done
	[ $bad = 0 ] || echo "WARNING: $bad scp -J copies differ"
	rm -f "$D"/dst/scp.*
	printf '  %-40s %10s   controller-side bytes\n' "" wall
	printf '  %-40s %10s   %8s MiB (%.2fx the file)\n' "one jumpgate cp to $NFAN targets" "$(secs $jf_ns)" \
		"$(mib $((b1 - b0)))" "$(ratio $((b1 - b0)) $fbytes)"
	printf '  %-40s %10s   %8s MiB (%.2fx the file)\n' "$NFAN x scp -J in parallel" "$(secs $sf_ns)" \
		"$(mib "$sbytes")" "$(ratio "$sbytes" $fbytes)"
	printf '  ratios: wall scp-J/jumpgate %s;  controller bytes scp-J/jumpgate %s\n' \
		"$(ratio $sf_ns $jf_ns)" "$(ratio "$sbytes" $((b1 - b0)))"
fi

printf '  (%d CPUs; the targets, sshd and ssh run on this machine too)\n' "$(nproc)"
jg_gateway_stop 10 || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
