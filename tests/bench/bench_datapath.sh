#!/bin/bash
# The data path against OpenSSH (issue 12; make bench-datapath, part of make
# bench; figures, not pass/fail).  Loopback, one machine, one run: jumpgate
# beside OpenSSH doing the same work, each time with the ratio jumpgate time /
# OpenSSH time.  A random file of JG_BENCH_MIB MiB (256), read into the page
# cache first; every figure the median of JG_BENCH_REPEAT runs (3).
# sshd (tests/integration/sshd.sh) listens on 127.0.0.2 (the ssh target web)
# and 127.0.0.3 (the jump host of ssh -J and scp -J: ssh refuses a jump host
# equal to the destination), and for the fan-out on 127.0.0.10-24 (t10..t24).
# The gateway's onward ssh to every target uses aes128-gcm@openssh.com (the
# targets' ssh_args), as do the ssh, rsync and -J baselines; scp to one
# target keeps its default cipher.  Sections (JG_BENCH_SKIP="fanout rsync"
# skips some):
#   upload    jumpgate cp FILE web:/P   vs ssh -c GCM 'cat >P', scp, scp -J
#   download  jumpgate cp web:/P FILE   vs ssh -c GCM 'cat P', scp, scp -J
#   exec      jumpgate exec web -- cat, stdin in and stdout out, vs ssh -c GCM
#   local     jumpgate exec local -- cat, in and out: MB/s beside the 1 GB/s
#             target of issue 12 (no ssh at all)
#   rsync     rsync -a -e 'jumpgate rsh' vs -e 'ssh -J' vs -e ssh (a fresh
#             destination each run)
#   connect   jumpgate connect to a target of method tunnel (the gateway
#             dials itself) vs ssh -W, into a TCP sink that counts the bytes
#   fanout    jumpgate cp FILE t10,...,t24:/P vs 15 scp -J in parallel: wall
#             times, and the bytes the controller link carried (/v1/stats
#             bytes.from_clients) against the file's size
#   memory    15 concurrent jumpgate cp of the file to the local target mem:
#             the gateway's peak VmRSS while they run (issue 12: < 64 MiB)
#   latency   jumpgate exec web -- true, warm (JG_BENCH_LAT_RUNS, 100) vs ssh
#             through a warm ControlMaster: median and p95
# Each section first prints the commands it compares.  The bytes of every
# transfer are checked once (cmp, or sha256 on the far side); the script
# exits non-zero only when something failed to run or delivered other bytes.
# Processes are stopped by PID (lib.sh); everything lives in one temp dir.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup
jg_require python3 rsync scp cmp

MIB=${JG_BENCH_MIB:-256}
REPEAT=${JG_BENCH_REPEAT:-3}
LAT_RUNS=${JG_BENCH_LAT_RUNS:-100}
SECTIONS="upload download exec local rsync connect fanout memory latency"
GCM=aes128-gcm@openssh.com
NFAN=15
FIRST=10
TMO=900 # seconds: the bound of every transfer
U=$JG_SSH_USER
BAD=0

die() { echo "bench_datapath: $*" >&2; exit 1; }
bad() { echo "FAILED: $*" >&2; BAD=$((BAD + 1)); }
for n in MIB REPEAT LAT_RUNS; do
	case ${!n} in '' | *[!0-9]* | 0) die "JG_BENCH_$n must be a positive integer, not '${!n}'" ;; esac
done
for s in ${JG_BENCH_SKIP:-}; do
	case " $SECTIONS " in *" $s "*) ;; *) die "JG_BENCH_SKIP: no section '$s' (sections: $SECTIONS)" ;; esac
done
BYTES=$((10#$MIB * 1048576))
skipped() { case " ${JG_BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
# want SECTION TITLE: 0 (and the title) unless the section is skipped.
want() {
	if skipped "$1"; then
		echo "== $1: skipped (JG_BENCH_SKIP)"
		return 1
	fi
	echo "== $2"
}

# ---------------------------------------------------------------- setup

jg_sshd_start a 127.0.0.2 127.0.0.3 || die "sshd on 127.0.0.2 and .3 does not start"
PA=${JG_SSHD_PORT[a]}
JUMP=$U@127.0.0.3:$PA
CIPHER="ssh_args = [ \"-c\", \"$GCM\" ];"
targets=$(jg_ssh_target web 127.0.0.2 "$PA" "$CIPHER")
FANLIST=
if ! skipped fanout; then
	sshd_range fan $FIRST $NFAN || die "the fan-out sshds do not start"
	for i in $(seq $FIRST $((FIRST + NFAN - 1))); do
		targets="$targets,
  $(jg_ssh_target "t$i" "127.0.0.$i" "${port_of[$i]}" "$CIPHER")"
		FANLIST="$FANLIST${FANLIST:+,}t$i"
	done
fi
JG_SSH_KEEPALIVE=15
JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore)
targets = (
  $targets,
  { name = \"tun\"; method = \"tunnel\"; host = \"127.0.0.1\"; },
  { name = \"mem\"; method = \"local\"; }
);
tunnels = { allow = [ \"tun:*\" ]; };"
jg_gateway_start || die "the gateway does not start"
# The plain command lines (and rsync's -e 'jumpgate rsh') find the gateway here.
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
JG=("$JUMPGATE")

CFG=$(jg_ssh_client_config)
# ConnectTimeout also bounds the banner exchange, slow through a busy jump host.
sed -i 's/ConnectTimeout 5$/ConnectTimeout 30/' "$CFG"
# The same with the cipher set for every hop (-c reaches the destination only).
CFGG=$CFG.gcm
sed "s/^Host \*\$/Host *\n  Ciphers $GCM/" "$CFG" >"$CFGG"
SSHG=(ssh -F "$CFG" -c "$GCM" -p "$PA" 127.0.0.2)
SCP_O=$(scp_legacy)
SCP=(scp -q $SCP_O -F "$CFG" -P "$PA")
SCPJ=(scp -q $SCP_O -F "$CFG" -J "$JUMP" -P "$PA")

D=$JG_T/d
mkdir -p "$D/dst"
F=$D/big
head -c "$BYTES" /dev/urandom >"$F"
WANT=$(jg_sha256 "$F")
cat "$F" >/dev/null # page cache: every contender reads from memory

# The link to web up and the agent there before anything is timed.
"${JG[@]}" exec web -- true </dev/null >/dev/null 2>"$JG_T/warm.err" ||
	die "jumpgate exec web -- true fails: $(head -c 300 "$JG_T/warm.err")"
# The onward ssh must really use the cipher of the baselines.
gw_ssh=$(for p in $(jg_descendants "$JG_GW_PID"); do
	[ "$(jg_comm "$p")" = ssh ] && tr '\0' ' ' <"/proc/$p/cmdline" && echo
done || true)
case "$gw_ssh" in
*"-c $GCM "*) ;;
*) echo "WARNING: the gateway's ssh does not use $GCM: ${gw_ssh:-no ssh process found}" ;;
esac

# ---------------------------------------------------------------- helpers

# cmdline ARG...: a command as one would type it: $JG_T shown as $T, the
# jumpgate binary as jumpgate, arguments with blanks or quotes quoted.
cmdline() {
	local a s=
	for a in "$@"; do
		a=${a//"$JUMPGATE"/jumpgate}
		a=${a//"$JG_T"/\$T}
		case "$a" in *[[:space:]\'\>\<]*) a="'$a'" ;; esac
		s="$s${s:+ }$a"
	done
	printf '%s\n' "$s"
}

declare -A MS LBL
# xfer KEY IN OUT COMMAND...: REPEAT timed runs of COMMAND (bounded by
# timeout, a shell function bounding itself), stdin IN, stdout OUT, each
# after `sync` and $PRE (eval'd), untimed; the median in ms into MS[KEY],
# left empty (and counted in BAD) when a run fails.
xfer() {
	local key=$1 in=$2 out=$3 i t0 t1 m bound=(timeout "$TMO")
	shift 3
	[ "$(type -t "$1")" != function ] || bound=()
	: >"$JG_T/$key.us"
	MS[$key]=
	for ((i = 0; i < REPEAT; i++)); do
		sync
		[ -z "${PRE:-}" ] || eval "$PRE"
		t0=${EPOCHREALTIME/./}
		if ! "${bound[@]}" "$@" <"$in" >"$out" 2>"$JG_T/$key.err"; then
			bad "$key: $(cmdline "$@") failed: $(head -c 300 "$JG_T/$key.err")"
			return 0
		fi
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$JG_T/$key.us"
	done
	read -r m _ < <(stats "$JG_T/$key.us")
	MS[$key]=$m
}

# con KEY LABEL IN OUT COMMAND...: one contender of a section: print its
# command line (with SHOW instead, when set), time it (xfer), keep LABEL.
con() {
	local key=$1 label=$2 in=$3 out=$4
	shift 4
	LBL[$key]=$label
	if [ -n "${SHOW:-}" ]; then
		printf '  %-12s %s\n' "[$key]" "$SHOW"
	else
		printf '  %-12s %s <%s >%s\n' "[$key]" "$(cmdline "$@")" "$(cmdline "$in")" "$(cmdline "$out")"
	fi
	xfer "$key" "$in" "$out" "$@"
}

secs() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
# MB/s (10^6 bytes/s) of XBYTES (default BYTES) in $1 ms.
mbps() { awk -v b="${XBYTES:-$BYTES}" -v m="$1" 'BEGIN { printf "%.1f", b / (m / 1000) / 1e6 }'; }

# table REF KEY...: each KEY's time, MB/s and its time / REF's time.
table() {
	local ref=$1 k ms
	shift
	printf '  %-50s %9s %12s %9s\n' "" time throughput "/ [$ref]"
	for k in "$@"; do
		ms=${MS[$k]:-}
		if [ -z "$ms" ]; then
			printf '  %-50s %9s\n' "[$k] ${LBL[$k]}" failed
			continue
		fi
		printf '  %-50s %7s s %7s MB/s %9s\n' "[$k] ${LBL[$k]}" "$(secs "$ms")" "$(mbps "$ms")" \
			"$(ratio "$ms" "${MS[$ref]:-0}")"
	done
}

# same KEY FILE: FILE (KEY's copy) must hold the bytes of $F.
same() { [ -z "${MS[$1]:-}" ] || cmp -s "$F" "$2" || bad "$1: $2 differs from the source"; }

# check_in KEY COMMAND...: one untimed run of COMMAND, a sha256sum on the far
# side, reading $F: the sum must be $F's.
check_in() {
	local key=$1 s
	shift
	if ! s=$(timeout "$TMO" "$@" <"$F" 2>"$JG_T/$key.chk"); then
		bad "$key: $(cmdline "$@") <\$F failed: $(head -c 300 "$JG_T/$key.chk")"
	elif [ "${s%% *}" != "$WANT" ]; then
		bad "$key: the far side received other bytes (sha256 ${s%% *})"
	fi
}

# check_out KEY COMMAND...: one untimed run; what COMMAND prints must be $F.
check_out() {
	local key=$1 s
	shift
	if ! s=$(timeout "$TMO" "$@" </dev/null 2>"$JG_T/$key.chk" | sha256sum); then
		bad "$key: $(cmdline "$@") failed: $(head -c 300 "$JG_T/$key.chk")"
	elif [ "${s%% *}" != "$WANT" ]; then
		bad "$key: other bytes came out (sha256 ${s%% *})"
	fi
}

printf '# %d MiB of random bytes in F=%s (T=%s); median of %d runs; %d CPUs, everything on this machine\n' \
	"$MIB" "$(cmdline "$F")" "$JG_T" "$REPEAT" "$(nproc)"
printf '# GCM = %s: the gateway reaches web and t10..t24 with ssh -c GCM (the targets'"'"' ssh_args)\n' "$GCM"
# What every ssh, scp and rsync figure includes and jumpgate's (warm link) does not.
xfer setup /dev/null /dev/null "${SSHG[@]}" true
printf '# ssh connection setup (%s): %s s, inside every ssh, scp and rsync figure; jumpgate'"'"'s link is up\n' \
	"$(cmdline "${SSHG[@]}" true)" "$(secs "${MS[setup]:-0}")"

# ---------------------------------------------------------------- 1. upload

if want upload "upload $MIB MiB to the ssh target web (sshd on 127.0.0.2)"; then
	con up.jg "jumpgate cp" /dev/null /dev/null "${JG[@]}" cp -q "$F" "web:$D/dst/up.jg"
	con up.ssh "ssh -c GCM 'cat >f'" "$F" /dev/null "${SSHG[@]}" "cat >$D/dst/up.ssh"
	con up.scp "scp, default cipher" /dev/null /dev/null "${SCP[@]}" "$F" "127.0.0.2:$D/dst/up.scp"
	con up.scpj "scp -J 127.0.0.3, default cipher" /dev/null /dev/null \
		"${SCPJ[@]}" "$F" "127.0.0.2:$D/dst/up.scpj"
	for k in jg ssh scp scpj; do same "up.$k" "$D/dst/up.$k"; done
	table up.ssh up.jg up.ssh up.scp up.scpj
	echo "  (jumpgate cp fsyncs the file before its rename; cat >f and scp do not)"
	rm -f "$D"/dst/up.*
fi

# ---------------------------------------------------------------- 2. download

if want download "download $MIB MiB from the ssh target web (sshd on 127.0.0.2)"; then
	PRE='rm -f "$D"/dst/down.*'
	con dn.jg "jumpgate cp" /dev/null /dev/null "${JG[@]}" cp -q "web:$F" "$D/dst/down.jg"
	same dn.jg "$D/dst/down.jg"
	con dn.ssh "ssh -c GCM 'cat f'" /dev/null "$D/dst/down.ssh" "${SSHG[@]}" "cat $F"
	same dn.ssh "$D/dst/down.ssh"
	con dn.scp "scp, default cipher" /dev/null /dev/null "${SCP[@]}" "127.0.0.2:$F" "$D/dst/down.scp"
	same dn.scp "$D/dst/down.scp"
	con dn.scpj "scp -J 127.0.0.3, default cipher" /dev/null /dev/null \
		"${SCPJ[@]}" "127.0.0.2:$F" "$D/dst/down.scpj"
	same dn.scpj "$D/dst/down.scpj"
	PRE=
	table dn.ssh dn.jg dn.ssh dn.scp dn.scpj
	echo "  (jumpgate cp fsyncs the file before its rename; ssh and scp do not)"
	rm -f "$D"/dst/down.*
fi

# ---------------------------------------------------------------- 3. exec on web

if want exec "exec on the ssh target web: $MIB MiB through cat, stdin in and stdout out"; then
	con ex.in.jg "jumpgate exec web, stdin in" "$F" /dev/null "${JG[@]}" exec web -- sh -c 'cat >/dev/null'
	con ex.in.ssh "ssh -c GCM, stdin in" "$F" /dev/null "${SSHG[@]}" 'cat >/dev/null'
	con ex.out.jg "jumpgate exec web, stdout out" /dev/null /dev/null "${JG[@]}" exec web -- cat "$F"
	con ex.out.ssh "ssh -c GCM, stdout out" /dev/null /dev/null "${SSHG[@]}" "cat $F"
	check_in ex.in.jg "${JG[@]}" exec web -- sha256sum
	check_in ex.in.ssh "${SSHG[@]}" sha256sum
	check_out ex.out.jg "${JG[@]}" exec web -- cat "$F"
	check_out ex.out.ssh "${SSHG[@]}" "cat $F"
	table ex.in.ssh ex.in.jg ex.in.ssh
	table ex.out.ssh ex.out.jg ex.out.ssh
fi

# ---------------------------------------------------------------- 4. exec local

if want local "exec local (no ssh): $MIB MiB through cat, stdin in and stdout out; target >= 1000 MB/s"; then
	con lo.in.jg "jumpgate exec local, stdin in" "$F" /dev/null "${JG[@]}" exec local -- sh -c 'cat >/dev/null'
	con lo.out.jg "jumpgate exec local, stdout out" /dev/null /dev/null "${JG[@]}" exec local -- cat "$F"
	con lo.in "the same pipe without jumpgate, in" "$F" /dev/null sh -c 'cat >/dev/null'
	con lo.out "the same without jumpgate, out" /dev/null /dev/null cat "$F"
	check_in lo.in.jg "${JG[@]}" exec local -- sha256sum
	check_out lo.out.jg "${JG[@]}" exec local -- cat "$F"
	table lo.in lo.in.jg lo.in
	table lo.out lo.out.jg lo.out
	printf '  target (issue 12): >= 1000 MB/s each way: in %s MB/s, out %s MB/s\n' \
		"$([ -z "${MS[lo.in.jg]}" ] || mbps "${MS[lo.in.jg]}")" "$([ -z "${MS[lo.out.jg]}" ] || mbps "${MS[lo.out.jg]}")"
fi

# ---------------------------------------------------------------- 5. rsync

if want rsync "rsync -a of $MIB MiB into an emptied directory on web (every ssh: $GCM, the jump hop too)"; then
	PRE='rm -rf "$D/dst/rs"; mkdir -p "$D/dst/rs"'
	con rs.jg "rsync -e 'jumpgate rsh'" /dev/null /dev/null rsync -a -e "$JUMPGATE rsh" "$F" "web:$D/dst/rs/"
	same rs.jg "$D/dst/rs/big"
	con rs.j "rsync -e 'ssh -J 127.0.0.3'" /dev/null /dev/null \
		rsync -a -e "ssh -F $CFGG -J $JUMP -p $PA" "$F" "$U@127.0.0.2:$D/dst/rs/"
	same rs.j "$D/dst/rs/big"
	con rs.ssh "rsync -e ssh (direct)" /dev/null /dev/null \
		rsync -a -e "ssh -F $CFGG -p $PA" "$F" "$U@127.0.0.2:$D/dst/rs/"
	same rs.ssh "$D/dst/rs/big"
	PRE=
	table rs.ssh rs.jg rs.j rs.ssh
	printf '  targets (issue 12): ssh -J / jumpgate >= 2: %s;  jumpgate / ssh <= 1.2: %s\n' \
		"$(ratio "${MS[rs.j]:-0}" "${MS[rs.jg]:-0}")" "$(ratio "${MS[rs.jg]:-0}" "${MS[rs.ssh]:-0}")"
	rm -rf "$D/dst/rs"
fi

# ---------------------------------------------------------------- 6. connect

if want connect "a TCP tunnel: $MIB MiB into a sink on 127.0.0.1 that counts them; target >= 1000 MB/s"; then
	sink_start sink || die "no sink"
	SINK=$SINK_PORT
	sink_start sinkh sha256 || die "no hashing sink"
	SINKH=$SINK_PORT
	con cn.jg "jumpgate connect tun (method tunnel)" "$F" "$D/dst/cn.jg" "${JG[@]}" connect tun "$SINK"
	con cn.ssh "ssh -c GCM -W (sshd dials)" "$F" "$D/dst/cn.ssh" \
		ssh -F "$CFG" -c "$GCM" -W "127.0.0.1:$SINK" -p "$PA" 127.0.0.2
	for k in jg ssh; do
		[ -z "${MS[cn.$k]}" ] || [ "$(cat "$D/dst/cn.$k")" = "$BYTES" ] ||
			bad "cn.$k: the sink counted '$(head -c 100 "$D/dst/cn.$k")' bytes, not $BYTES"
	done
	# Once into the hashing sink: the bytes themselves.
	for k in jg ssh; do
		if [ $k = jg ]; then
			c=("${JG[@]}" connect tun "$SINKH")
		else
			c=(ssh -F "$CFG" -c "$GCM" -W "127.0.0.1:$SINKH" -p "$PA" 127.0.0.2)
		fi
		s=$(timeout "$TMO" "${c[@]}" <"$F" 2>"$JG_T/cn.$k.chk") || s="failed: $(head -c 300 "$JG_T/cn.$k.chk")"
		[ "$s" = "$BYTES $WANT" ] || bad "cn.$k: the sink received '$s', not $BYTES bytes of sha256 $WANT"
	done
	table cn.ssh cn.jg cn.ssh
	printf '  target (issue 12): jumpgate connect >= 1000 MB/s: %s MB/s\n' \
		"$([ -z "${MS[cn.jg]}" ] || mbps "${MS[cn.jg]}")"
	rm -f "$D"/dst/cn.*
fi

# ---------------------------------------------------------------- 7. fan-out

# par_scpj: $NFAN scp -J at once, each to a file of its own (scp writes in
# place), then wait; each bounded; 1 when one failed.
par_scpj() {
	local i pids='' p fail=0
	for i in $(seq $FIRST $((FIRST + NFAN - 1))); do
		timeout "$TMO" scp -q $SCP_O -F "$CFGG" -J "$JUMP" -P "${port_of[$i]}" \
			"$F" "127.0.0.$i:$D/dst/scp.$i" </dev/null >/dev/null 2>"$D/scp.$i.err" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fail=$((fail + 1)); done
	[ $fail = 0 ] || { echo "$fail of $NFAN scp -J failed: $(cat "$D"/scp.*.err | sort | uniq -c | head -n 2)" >&2; return 1; }
}

if want fanout "fan-out: $MIB MiB to $NFAN ssh targets t$FIRST..t$((FIRST + NFAN - 1)) (127.0.0.$FIRST-$((FIRST + NFAN - 1))); scp -J through 127.0.0.3, $GCM on both hops"; then
	"${JG[@]}" run "$FANLIST" -- true </dev/null >/dev/null 2>"$JG_T/fanwarm.err" ||
		bad "jumpgate run $FANLIST -- true: $(head -c 300 "$JG_T/fanwarm.err")"
	b0=$(from_clients)
	con fan.jg "one jumpgate cp to $NFAN targets" /dev/null "$D/fan.table" \
		"${JG[@]}" cp -q "$F" "$FANLIST:$D/dst/fan.jg"
	b1=$(from_clients)
	same fan.jg "$D/dst/fan.jg"
	SHOW="for i in $FIRST..$((FIRST + NFAN - 1)): $(cmdline scp -q $SCP_O -F "$CFGG" -J "$JUMP" -P "${port_of[$FIRST]}" "$F" "127.0.0.\$i:$D/dst/scp.\$i") &; wait"
	con fan.scpj "$NFAN x scp -J in parallel" /dev/null /dev/null par_scpj
	SHOW=
	if [ -n "${MS[fan.scpj]}" ]; then
		for i in $(seq $FIRST $((FIRST + NFAN - 1))); do same fan.scpj "$D/dst/scp.$i"; done
	fi
	XBYTES=$((BYTES * NFAN)) table fan.scpj fan.jg fan.scpj
	echo "  (throughput: the $NFAN copies together)"
	if [ -n "${MS[fan.jg]}" ]; then
		per=$(((b1 - b0) / REPEAT))
		printf '  the controller link carried %s MiB per jumpgate fan-out: %s x the file (issue 12: once)\n' \
			"$(awk -v b="$per" 'BEGIN { printf "%.1f", b / 1048576 }')" "$(ratio "$per" "$BYTES")"
	fi
	printf '  gateway peak RSS so far (VmHWM): %s kB\n' "$(awk '/^VmHWM:/ { print $2 }' "/proc/$JG_GW_PID/status")"
	rm -f "$D"/dst/fan.* "$D"/dst/scp.*
fi

# ---------------------------------------------------------------- memory

# Issue 12: no operation buffers more than its windows; 15 concurrent uploads of
# MIB each keep the gateway's resident memory under 64 MiB.  VmRSS is sampled
# every 0.1 s while they run (VmHWM would also count the earlier sections).
if want memory "memory: $NFAN concurrent jumpgate cp of $MIB MiB to the local target mem; the gateway's RSS (issue 12: under 64 MiB)"; then
	rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$JG_GW_PID/status"; }
	r0=$(rss)
	pids=()
	for i in $(seq 1 $NFAN); do
		timeout $TMO "${JG[@]}" cp -q "$F" "mem:$D/dst/mem.$i" </dev/null >/dev/null 2>"$D/mem.$i.err" &
		pids+=($!)
	done
	peak=$r0
	# Only the uploads' own PIDs (the script's sshds are background jobs too); kill -0
	# succeeds while at least one of them lives.
	while kill -0 "${pids[@]}" 2>/dev/null; do
		r=$(rss)
		[ "${r:-0}" -le "$peak" ] || peak=$r
		sleep 0.1
	done
	wait "${pids[@]}"
	for i in $(seq 1 $NFAN); do
		cmp -s "$F" "$D/dst/mem.$i" || bad "upload $i to mem differs or failed: $(head -c 200 "$D/mem.$i.err")"
	done
	printf '  gateway RSS: %s kB before, %s kB at the peak while %d uploads ran, %s kB after (limit 65536 kB: %s)\n' \
		"$r0" "$peak" "$NFAN" "$(rss)" "$([ "$peak" -lt 65536 ] && echo within || echo OVER)"
	rm -f "$D"/dst/mem.*
fi

# ---------------------------------------------------------------- 8. latency

if want latency "latency of 'true' on web, whole command start to exit, $LAT_RUNS runs after 10 unmeasured"; then
	SSH=(ssh -F "$CFGG")
	CM=$JG_T/cm
	cm_start "$CM" "$PA" 127.0.0.2 || die "the ControlMaster did not start: $(cat "$CM.log")"
	CMSSH=("${SSH[@]}" -o ControlPath="$CM" -o ControlMaster=no -p "$PA" 127.0.0.2 true)
	printf '  %-12s %s\n' "[lat.jg]" "$(cmdline "${JG[@]}" exec web -- true)" \
		"[lat.cm]" "$(cmdline "${CMSSH[@]}")  (the master: ssh -M -N -o ControlPath=$(cmdline "$CM"))"
	lat lat.jg "$LAT_RUNS" 10 "${JG[@]}" exec web -- true
	[ "$FAILS" = 0 ] || bad "jumpgate exec web -- true failed $FAILS times"
	lat lat.cm "$LAT_RUNS" 10 "${CMSSH[@]}"
	[ "$FAILS" = 0 ] || bad "ssh through the ControlMaster failed $FAILS times"
	read -r jm jp _ < <(stats "$JG_T/lat.jg.us")
	read -r cm cm95 _ < <(stats "$JG_T/lat.cm.us")
	printf '  %-50s %9s %9s\n' "" median p95
	printf '  %-50s %6s ms %6s ms\n' "[lat.jg] jumpgate exec, warm link" "$jm" "$jp"
	printf '  %-50s %6s ms %6s ms\n' "[lat.cm] ssh, warm ControlMaster" "$cm" "$cm95"
	printf '  ratio jumpgate / ControlMaster: median %s, p95 %s\n' "$(ratio "$jm" "$cm")" "$(ratio "$jp" "$cm95")"
fi

jg_gateway_stop 20 >/dev/null || echo "WARNING: gateway exit status $JG_GW_STATUS"
if [ $BAD != 0 ]; then
	echo "bench_datapath: $BAD failures (above): these figures are not to be trusted" >&2
	exit 1
fi
exit 0
