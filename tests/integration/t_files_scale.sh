#!/bin/bash
# The scale tests of the file transfers and of `jumpgate run` (issue 4):
#   1. 1 GiB up and down through `jumpgate cp` (to the ssh target s1 when
#      OpenSSH's sshd is installed, else to `local`), sha256 equal;
#   2. 10,000 small files in 100 directories with `cp -r` to s2 (else l01),
#      time printed, the copy identical;
#   3. a fan-out of 256 MiB to 20 targets (l01..l18, method local, each its
#      own agent connection, and s1, s2: an sshd on 127.0.0.2 and .3), the
#      controller-side bytes (/v1/stats bytes.from_clients) ~1x the file, the
#      target links' bytes_out ~20x;
#   4. a fan-out where one target's filesystem is full (a 1 MiB tmpfs): it
#      fails with "No space left", the others succeed, no partial or
#      temporary file is left on the full one and its old file is kept;
#   5. `jumpgate run` over 20 targets, 3 unreachable and 2 exiting non-zero:
#      the summary counts and names them, exit status 1, --json agrees;
#   6. a 2 GiB fan-out to 2 targets while one of them is stopped (SIGSTOP to
#      its agent for 4 s, then SIGCONT): the other is held back (the slowest
#      sets the pace), both finish, and the gateway's RSS grows < 64 MiB.
# The single-target cases of the API (wrong sha256, "..", agent killed
# mid-upload and its temporary file swept) are in t_files_api.sh.
#
# Sizes: the full ones above in a normal build.  Under the sanitizers (make
# check with --enable-sanitizers) everything is many times slower, so: 1 GiB
# -> 128 MiB, 10,000 -> 2,000 files, 256 MiB -> 64 MiB, 2 GiB -> 256 MiB (the
# output says so).  JG_SCALE=full or JG_SCALE=small forces one set.
# A normal run takes about 1.5 minutes on 2 cores (most of it the targets'
# fsyncs).  Figures are printed as "# ..." lines.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require python3 sha256sum
T_START=$SECONDS
# Each jumpgate command bounded by 300 s (a loaded machine is slow, not hung).
JG_TIMEOUT=${JG_TIMEOUT:-300}
# An agent this test stopped (SIGSTOP) gets SIGCONT first on any exit.
STOPPED=
CLEANUP=jg_cleanup
scale_cleanup() {
	local rc=$?
	set +e
	[ -z "$STOPPED" ] || kill -CONT "$STOPPED" 2>/dev/null
	(exit $rc)
	$CLEANUP
}
trap scale_cleanup EXIT

# ---------------------------------------------------------------- sizes

SCALE=${JG_SCALE:-}
if [ -z "$SCALE" ]; then
	if jg_sanitized; then SCALE=small; else SCALE=full; fi
fi
if [ "$SCALE" = small ]; then
	UPDOWN_MIB=128 NFILES=2000 FAN_MIB=64 SLOW_MIB=256
	jg_log "sanitizer build (or JG_SCALE=small): reduced sizes: 1 GiB -> $UPDOWN_MIB MiB," \
		"10,000 -> $NFILES files, 256 MiB -> $FAN_MIB MiB, 2 GiB -> $SLOW_MIB MiB"
	# AddressSanitizer keeps freed memory in quarantine (256 MB by default):
	# a cap, so that the RSS measured is the gateway's own.
	jg_asan_quarantine 16
else
	UPDOWN_MIB=1024 NFILES=10000 FAN_MIB=256 SLOW_MIB=2048
	jg_log "full sizes: 1 GiB up/down, 10,000 files, 256 MiB x 20 fan-out, 2 GiB slow fan-out"
fi
RSS_LIMIT_MIB=64
STOP_S=4

# ---------------------------------------------------------------- servers
#
# sshd "a" on 127.0.0.2 and 127.0.0.3: the targets s1 and s2 (two addresses,
# two onward connections).  sshd "full" on 127.0.0.4 for the target sfull,
# started inside a mount namespace of its own (unshare -m) in which a 1 MiB
# tmpfs is mounted over $FULL: every fan-out target writes the same path,
# and only sfull's agent (a descendant of that sshd, so in its namespace)
# sees the tiny filesystem there; the local targets see the ordinary
# directory.  The mount lives in that namespace only (propagation private):
# it goes away with the namespace's last process, when the EXIT trap stops
# that sshd and its sessions; the trap checks that nothing leaked into ours,
# and unmounts it if it did.
SSH=0
FULLNS=0
FULL=$JG_T/full
mkdir -p "$FULL"
if [ -f "$srcdir/tests/integration/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ] &&
	command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
	. "$srcdir/tests/integration/sshd.sh"
	CLEANUP=jg_ssh_cleanup
	JG_SSH_CLEANUP_HOOK='! grep -qF " $FULL " /proc/self/mountinfo || umount "$FULL"'
	jg_ssh_client_key
	if jg_sshd_start a 127.0.0.2 127.0.0.3; then
		SSH=1
		jg_ok "sshd a listens on 127.0.0.2 and 127.0.0.3 port ${JG_SSHD_PORT[a]}"
	else
		jg_notok "sshd a starts"
	fi
	if [ $SSH = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
		command -v nsenter >/dev/null 2>&1; then
		real_sshd=$JG_SSHD
		cat >"$JG_T/sshd-ns" <<-EOF
			#!/bin/sh
			# $JG_SSHD in a private mount namespace with a 1 MiB tmpfs over $FULL.
			exec unshare --mount --propagation private -- /bin/sh -c \\
			  'mount -t tmpfs -o size=1m,mode=0755 jg-full "\$0" || exit 1; exec "\$@"' \\
			  '$FULL' '$real_sshd' "\$@"
		EOF
		chmod 755 "$JG_T/sshd-ns"
		if JG_SSHD=$JG_T/sshd-ns jg_sshd_start full 127.0.0.4; then
			fpid=${JG_SSHD_PID[full]}
			if [ "$(readlink "/proc/$fpid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] &&
				grep -qF " $FULL " "/proc/$fpid/mountinfo" &&
				! grep -qF " $FULL " /proc/self/mountinfo; then
				FULLNS=1
				jg_ok "sshd full (pid $fpid) on 127.0.0.4 in its own mount namespace, a 1 MiB tmpfs over $FULL there only"
			else
				jg_notok "sshd full runs in its own mount namespace with the tmpfs"
			fi
		else
			jg_notok "sshd full starts inside unshare -m"
		fi
	else
		jg_log "not root, or no unshare/nsenter: the full-filesystem case is skipped"
	fi
else
	jg_log "no sshd: every target is local; the full-filesystem case is skipped"
fi

# ---------------------------------------------------------------- gateway
#
# Keepalive 10 s: a target stopped for $STOP_S s must survive it (a stalled
# agent is dropped after two missed keepalives).
JG_SSH_KEEPALIVE=10
if [ $SSH = 1 ]; then NLOCAL=18; else NLOCAL=20; fi
LOCALS=$(seq -f 'l%02g' 1 "$NLOCAL" | paste -sd,)
inv=
for t in ${LOCALS//,/ }; do inv="$inv  { name = \"$t\"; method = \"local\"; },
"; done
if [ $SSH = 1 ]; then
	FAN20="$LOCALS,s1,s2"
	inv="$inv  $(jg_ssh_target s1 127.0.0.2 "${JG_SSHD_PORT[a]}"),
  $(jg_ssh_target s2 127.0.0.3 "${JG_SSHD_PORT[a]}"),
"
	[ $FULLNS = 0 ] || inv="$inv  $(jg_ssh_target sfull 127.0.0.4 "${JG_SSHD_PORT[full]}"),
"
	conf=$(jg_ssh_conf_defaults accept)
	UPT=s1 TREET=s2
else
	FAN20=$LOCALS
	conf='pool = { idle_timeout = 300.0; keepalive_interval = 10.0; };'
	UPT=local TREET=l01
fi
JG_CONF_EXTRA="$conf
targets = (
${inv%,
}
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT ($(echo "$FAN20" | tr ',' '\n' | wc -l) fan-out targets)"

now() { date +%s%N; }
ms_since() { echo $((($(now) - $1) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", b / (ms / 1000) / 1e6; else print "-" }'; }
stat_field() { # stat_field KEY...: a number from /v1/stats (e.g. bytes from_clients)
	jg_curl /v1/stats | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[k]
print(v)' "$@"
}
# links_out T...: the sum of bytes_out of those targets' live agent links.
links_out() {
	jg_curl /v1/stats | python3 -c '
import json, sys
want = set(sys.argv[1:])
print(sum(l["bytes_out"] for l in json.load(sys.stdin)["agent_links"]
          if l["target"] in want and l["state"] != "dead"))' "$@"
}
link_pid() { # link_pid T: the pid of T's live agent link
	jg_curl /v1/stats | python3 -c '
import json, sys
for l in json.load(sys.stdin)["agent_links"]:
    if l["target"] == sys.argv[1] and l["state"] != "dead":
        print(l["pid"]); break' "$1"
}
# table_ok FILE: rows of a fan-out table (TARGET OK FAILED BYTES RESULT) that are fine.
table_ok() { awk 'NR > 1 && $3 == 0 && $NF == "ok"' "$1" | wc -l; }
# temp files of PUTs in DIR (".NAME.jg-HEX.tmp") and their total size
temps() { find "$1" -maxdepth 1 -name '.*.jg-*.tmp' 2>/dev/null; }
temps_bytes() { find "$1" -maxdepth 1 -name '.*.jg-*.tmp' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

D=$JG_T/data
mkdir -p "$D/src" "$D/up" "$D/down"

# ---------------------------------------------------------------- the parts
#
# JG_SCALE_PARTS picks: "copy" (1 and 2), "fan" (3 to 6), or "all" (the
# default).  make check runs this file as two tests side by side,
# t_files_scale_copy.sh and t_files_scale_fan.sh, each with its own gateway,
# servers and directory: the whole took 5 to 7 minutes alone, the longest test
# of the suite.  (The bodies of the two functions keep their indentation of
# before the split.)
scale_copy() {

# ---------------------------------------------------------------- 1. 1 GiB up and down

big=$D/src/big
UPBYTES=$((UPDOWN_MIB << 20))
head -c "$UPBYTES" /dev/urandom >"$big"
want=$(jg_sha256 "$big")
t0=$(now)
if jg_cli cp "$big" "$UPT:$D/up/big" </dev/null >"$JG_T/up.out" 2>"$JG_T/up.err"; then rc=0; else rc=$?; fi
ms=$(ms_since "$t0")
got=$(jg_sha256 "$D/up/big" 2>/dev/null || true)
if [ $rc = 0 ] && [ "$got" = "$want" ]; then
	jg_ok "$UPDOWN_MIB MiB up to $UPT, sha256 equal ($(secs "$ms"), $(mbps "$UPBYTES" "$ms") MB/s)"
else
	jg_notok "$UPDOWN_MIB MiB up to $UPT, sha256 equal (exit $rc, sha256 $got)"
	jg_show "$JG_T/up.err" 5
fi
jg_log "cp $UPDOWN_MIB MiB up to $UPT: $(secs "$ms"), $(mbps "$UPBYTES" "$ms") MB/s"
t0=$(now)
if jg_cli cp "$UPT:$D/up/big" "$D/down/" </dev/null >"$JG_T/down.out" 2>"$JG_T/down.err"; then rc=0; else rc=$?; fi
ms=$(ms_since "$t0")
got=$(jg_sha256 "$D/down/big" 2>/dev/null || true)
if [ $rc = 0 ] && [ "$got" = "$want" ]; then
	jg_ok "$UPDOWN_MIB MiB down from $UPT, sha256 equal ($(secs "$ms"), $(mbps "$UPBYTES" "$ms") MB/s)"
else
	jg_notok "$UPDOWN_MIB MiB down from $UPT, sha256 equal (exit $rc, sha256 $got)"
	jg_show "$JG_T/down.err" 5
fi
jg_log "cp $UPDOWN_MIB MiB down from $UPT: $(secs "$ms"), $(mbps "$UPBYTES" "$ms") MB/s"
jg_check "no temporary file left beside the upload or the download" \
	test -z "$(temps "$D/up")$(find "$D/down" -name '.*jg-*')"
rm -f "$D/up/big" "$D/down/big"

# ---------------------------------------------------------------- 2. many small files

tree=$D/src/tree
t0=$(now)
for d in $(seq 0 99); do mkdir -p "$tree/d$d"; done
for i in $(seq 1 "$NFILES"); do printf 'file %s\n' "$i" >"$tree/d$((i % 100))/f$i"; done
chmod 600 "$tree/d1/f1"
ln -s ../d2/f2 "$tree/d1/link"
jg_log "made $NFILES files in 100 directories in $(ms_since "$t0") ms"
t0=$(now)
if jg_cli cp -r "$tree" "$TREET:$D/up/tree" </dev/null >"$JG_T/tree.out" 2>"$JG_T/tree.err"; then rc=0; else rc=$?; fi
ms=$(ms_since "$t0")
n=$(find "$D/up/tree" -type f 2>/dev/null | wc -l)
if [ $rc = 0 ] && [ "$n" = "$NFILES" ] && diff -r --no-dereference "$tree" "$D/up/tree" >"$JG_T/tree.diff" 2>&1 &&
	[ "$(stat -c %a "$D/up/tree/d1/f1")" = 600 ] && [ "$(readlink "$D/up/tree/d1/link")" = ../d2/f2 ]; then
	jg_ok "cp -r of $NFILES files in 100 directories to $TREET: identical, in $(secs "$ms") ($((NFILES * 1000 / (ms > 0 ? ms : 1))) files/s)"
else
	jg_notok "cp -r of $NFILES files to $TREET (exit $rc, $n files, $(secs "$ms"))"
	jg_show "$JG_T/tree.err" 10
	jg_show "$JG_T/tree.diff" 10
fi
jg_log "cp -r $NFILES small files to one target ($TREET): $ms ms"
rm -rf "$D/up/tree"
}

scale_fan() {

# ---------------------------------------------------------------- 3. fan-out to 20 targets

fan=$D/src/fan
FANBYTES=$((FAN_MIB << 20))
head -c "$FANBYTES" "$big" >"$fan"
fwant=$(jg_sha256 "$fan")
# Every target's link up first, so that the counters compare transfers only.
jg_cli run "$FAN20" -- true </dev/null >/dev/null 2>"$JG_T/warm.err" || jg_show "$JG_T/warm.err" 5
out0=$(links_out ${FAN20//,/ })
b0=$(stat_field bytes from_clients)
t0=$(now)
if jg_cli cp "$fan" "$FAN20:$D/up/fan" </dev/null >"$JG_T/fan.out" 2>"$JG_T/fan.err"; then rc=0; else rc=$?; fi
ms=$(ms_since "$t0")
b1=$(stat_field bytes from_clients)
out1=$(links_out ${FAN20//,/ })
oks=$(table_ok "$JG_T/fan.out")
if [ $rc = 0 ] && [ "$oks" = 20 ] && [ "$(jg_sha256 "$D/up/fan")" = "$fwant" ]; then
	jg_ok "fan-out of $FAN_MIB MiB to 20 targets: 20 ok in the table, sha256 equal ($(secs "$ms"))"
else
	jg_notok "fan-out of $FAN_MIB MiB to 20 targets (exit $rc, $oks ok)"
	jg_show "$JG_T/fan.out" 25
	jg_show "$JG_T/fan.err" 10
fi
delta=$((b1 - b0))
ratio=$(awk -v d="$delta" -v s="$FANBYTES" 'BEGIN { printf "%.3f", d / s }')
if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.99 && r < 1.2) }'; then
	jg_ok "fan-out: the controller sent $delta bytes for 20 targets = ${ratio}x the file (once, not 20x)"
else
	jg_notok "fan-out: the controller sent ${ratio}x the file (want ~1x, $delta bytes)"
fi
oratio=$(awk -v d="$((out1 - out0))" -v s="$FANBYTES" 'BEGIN { printf "%.2f", d / s }')
jg_check "fan-out: the 20 target links carried ${oratio}x the file" \
	awk -v r="$oratio" 'BEGIN { exit !(r >= 20 && r < 22) }'
jg_check "fan-out: no temporary file left" test -z "$(temps "$D/up")"
jg_log "fan-out $FAN_MIB MiB to 20 targets: $(secs "$ms"); from the client $((delta >> 20)) MiB (${ratio}x), to the targets $(((out1 - out0) >> 20)) MiB (${oratio}x)"
rm -f "$D/up/fan"

# ---------------------------------------------------------------- 4. a full filesystem

if [ $FULLNS = 1 ]; then
	fpid=${JG_SSHD_PID[full]}
	inns() { nsenter -t "$fpid" -m -- "$@"; }
	inns sh -c 'printf "old\n" >"$1/file"' sh "$FULL"
	head -c $((8 << 20)) "$big" >"$D/src/eight"
	ewant=$(jg_sha256 "$D/src/eight")
	if jg_cli cp "$D/src/eight" "l01,l02,l03,l04,l05,sfull:$FULL/file" </dev/null \
		>"$JG_T/full.out" 2>"$JG_T/full.err"; then rc=0; else rc=$?; fi
	oks=$(table_ok "$JG_T/full.out")
	if [ $rc = 1 ] && [ "$oks" = 5 ] && grep -q '^sfull .*No space left' "$JG_T/full.out" &&
		grep -q "^jumpgate: sfull:$FULL/file: .*No space left" "$JG_T/full.err"; then
		jg_ok "fan-out of 8 MiB with sfull's filesystem full: exit 1, sfull failed (No space left), 5 ok"
		jg_log "$(grep '^sfull ' "$JG_T/full.out" | tr -s ' ' | cut -c1-160)"
	else
		jg_notok "fan-out with sfull's filesystem full (exit $rc, $oks ok)"
		jg_show "$JG_T/full.out" 10
		jg_show "$JG_T/full.err" 10
	fi
	jg_check "... the others wrote the whole file (sha256 equal)" \
		test "$(jg_sha256 "$FULL/file" 2>/dev/null)" = "$ewant"
	left=$(inns ls -A "$FULL" | tr '\n' ' ')
	used=$(inns df -k --output=used "$FULL" | tail -n1 | tr -d ' ')
	if [ "$left" = "file " ] && [ "$(inns cat "$FULL/file")" = old ] && [ "$used" -le 8 ]; then
		jg_ok "... on the full one: only the old file, unchanged, no partial or temp file (${used} KiB used)"
	else
		jg_notok "... on the full one: only the old file (found: $left; ${used} KiB used)"
	fi
	rm -f "$FULL/file" "$D/src/eight"
else
	jg_ok "# SKIP a target whose filesystem is full (needs root, sshd, unshare)"
fi

# ---------------------------------------------------------------- 5. run over 20 targets

# 17 reachable targets (15 local, or 13 local and s1, s2) and 3 unreachable
# ones (loopback ports 1, 2 and 3: refused).  Every target runs on this host:
# they take numbered slots (mkdir is atomic); slots 16 and 17 exit 16 and 17.
if [ $SSH = 1 ]; then reach="$(seq -f 'l%02g' 1 15 | paste -sd,),s1,s2"; else reach=$(seq -f 'l%02g' 1 17 | paste -sd,); fi
u1=ssh:nobody@127.0.0.1:1 u2=ssh:nobody@127.0.0.1:2 u3=ssh:nobody@127.0.0.1:3
r=${reach//,/ }
set -- $r
run20="$1,$2,$u1,${*:3:7},$u2,${*:10:8},$u3"
run20=${run20// /,}
S=$JG_T/slots
# (ssh's own words; without an ssh client the gateway gives another reason)
REFUSED='Connection refused'
command -v ssh >/dev/null 2>&1 || REFUSED=
claim='for i in $(seq 1 17); do if mkdir "$0/s$i" 2>/dev/null; then echo "slot $i"; [ $i -le 15 ] || exit $i; exit 0; fi; done; exit 99'
rm -rf "$S" && mkdir -p "$S"
t0=$(now)
if jg_cli run "$run20" -- sh -c "$claim" "$S" </dev/null >"$JG_T/run.out" 2>"$JG_T/run.err"; then rc=0; else rc=$?; fi
ms=$(ms_since "$t0")
if [ $rc = 5 ] && grep -q '^jumpgate: run: 20 targets: 15 ok, 2 failed, 3 unreachable$' "$JG_T/run.err" &&
	[ "$(grep -cE '^jumpgate: failed: [a-z0-9]+: exit status 1[67]$' "$JG_T/run.err")" = 2 ] &&
	[ "$(grep -cE "^jumpgate: unreachable: ssh:nobody@127\\.0\\.0\\.1:[123]: .*$REFUSED" "$JG_T/run.err")" = 3 ]; then
	jg_ok "run over 20 targets, 3 unreachable, 2 exit non-zero: summary right, exit 5 ($ms ms)"
else
	jg_notok "run over 20 targets, 3 unreachable, 2 exit non-zero (exit $rc)"
	jg_show "$JG_T/run.err" 12
fi
if [ "$(grep -cE '^[a-z0-9]+: slot ([1-9]|1[0-7])$' "$JG_T/run.out")" = 17 ] && [ "$(wc -l <"$JG_T/run.out")" = 17 ] &&
	[ "$(cut -d: -f1 "$JG_T/run.out" | sort -u | wc -l)" = 17 ]; then
	jg_ok "run: each of the 17 reachable targets printed one prefixed line"
else
	jg_notok "run: each of the 17 reachable targets printed one prefixed line"
	jg_show "$JG_T/run.out" 20
fi
jg_log "run over 20 targets (3 unreachable, 2 failing): $ms ms; $(grep '^jumpgate: run:' "$JG_T/run.err")"
rm -rf "$S" && mkdir -p "$S"
if jg_cli run --json "$run20" -- sh -c "$claim" "$S" </dev/null >"$JG_T/run.json" 2>"$JG_T/runj.err"; then rc=0; else rc=$?; fi
if [ $rc = 5 ] && python3 - "$JG_T/run.json" "$u1,$u2,$u3" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 20, len(d)
by = {}
for o in d:
    by.setdefault(o["outcome"], []).append(o)
assert len(by.get("ok", [])) == 15 and len(by.get("failed", [])) == 2, by.keys()
assert sorted(o["exit"] for o in by["failed"]) == [16, 17], by["failed"]
assert sorted(o["target"] for o in by["unreachable"]) == sorted(sys.argv[2].split(",")), by["unreachable"]
assert all(o["error"] and o["exit"] is None for o in by["unreachable"])
EOF
	jg_ok "run --json over the 20: 15 ok, 2 failed (exit 16, 17), the 3 unreachable named"
else
	jg_notok "run --json over the 20 (exit $rc)"
	jg_show "$JG_T/run.json" 10
fi

# ---------------------------------------------------------------- 6. a stopped target, memory bounded

# Two local targets (the last two), the second one's agent stopped for STOP_S seconds a second into the
# transfer.  The source is sparse (it costs no disk here; the bytes travel all
# the same).  Samples every 0.1 s of the gateway's VmRSS, and its VmHWM (the
# kernel's high-water mark, reset first through clear_refs) for what falls
# between samples.
slow=$D/src/slow
SLOWBYTES=$((SLOW_MIB << 20))
rm -f "$big" "$fan"
truncate -s "$SLOWBYTES" "$slow"
SD=$D/up/slow
mkdir -p "$SD"
A=$(printf 'l%02d' $((NLOCAL - 1))) B=$(printf 'l%02d' "$NLOCAL")
jg_cli run "$A,$B" -- true </dev/null >/dev/null 2>&1 || true
bpid=$(link_pid "$B")
if [ -n "$bpid" ] && [ "$(jg_ppid "$bpid")" = "$JG_GW_PID" ] && [ "$(jg_comm "$bpid")" = jumpgate-agent ]; then
	jg_ok "$B's agent is pid $bpid, a child of the gateway (/proc)"
else
	jg_notok "$B's agent found as a child of the gateway (pid '${bpid:-}', comm $(jg_comm "${bpid:-0}"), parent '$(jg_ppid "${bpid:-0}")', gateway $JG_GW_PID)"
fi
rss0=$(jg_rss_kb "$JG_GW_PID")
echo 5 >"/proc/$JG_GW_PID/clear_refs" 2>/dev/null || true
peak=$rss0
sample() { local r; r=$(jg_rss_kb "$JG_GW_PID" 2>/dev/null) || return 0; [ -z "$r" ] || [ "$r" -le "$peak" ] || peak=$r; }
t0=$(now)
jg_cli cp "$slow" "$A,$B:$SD/slow" </dev/null >"$JG_T/slow.out" 2>"$JG_T/slow.err" &
cp_pid=$!
jg_track slowcp "$cp_pid"
deadline=$((SECONDS + 10))
while [ "$(temps_bytes "$SD")" -lt $((16 << 20)) ] && jg_alive "$cp_pid" && [ $SECONDS -lt $deadline ]; do
	sample
	sleep 0.05
done
held=-1
if [ -n "$bpid" ] && jg_alive "$cp_pid"; then
	STOPPED=$bpid
	kill -STOP "$bpid"
	sleep 0.5 # what was in flight lands
	w0=$(temps_bytes "$SD")
	stop_end=$(($(now) + (STOP_S * 1000 - 500) * 1000000))
	while [ "$(now)" -lt $stop_end ]; do
		sample
		sleep 0.1
	done
	w1=$(temps_bytes "$SD")
	kill -CONT "$bpid"
	STOPPED=
	held=$((w1 - w0))
fi
deadline=$((SECONDS + JG_TIMEOUT + 10))
while jg_alive "$cp_pid" && [ $SECONDS -lt $deadline ]; do
	sample
	sleep 0.1
done
if jg_alive "$cp_pid"; then
	jg_log "the slow fan-out still runs after $((JG_TIMEOUT + 10)) s: stopping it"
	kill -TERM "$cp_pid" 2>/dev/null || true
fi
if wait "$cp_pid"; then rc=0; else rc=$?; fi
jg_untrack slowcp
ms=$(ms_since "$t0")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$JG_GW_PID/status")
[ "$hwm" -le "$peak" ] || peak=$hwm
growth=$((peak - rss0)) # KiB
if [ $rc = 0 ] && [ "$(table_ok "$JG_T/slow.out")" = 2 ] && [ "$(stat -c %s "$SD/slow" 2>/dev/null)" = "$SLOWBYTES" ]; then
	jg_ok "fan-out of $SLOW_MIB MiB to $A,$B with $B stopped for $STOP_S s: both ok after SIGCONT ($(secs "$ms"))"
else
	jg_notok "fan-out of $SLOW_MIB MiB with $B stopped: both ok (exit $rc)"
	jg_show "$JG_T/slow.out" 5
	jg_show "$JG_T/slow.err" 5
fi
jg_check "... while $B was stopped, $A was held back: $((held / 1024)) KiB written on the targets in $((STOP_S - 1)) s" \
	test "$held" -ge 0 -a "$held" -lt $((16 << 20))
jg_check "... the gateway's RSS grew by $growth KiB at most (limit $RSS_LIMIT_MIB MiB; before $rss0 KiB, peak $peak KiB)" \
	test "$growth" -lt $((RSS_LIMIT_MIB * 1024))
jg_check "... no temporary file left" test -z "$(temps "$SD")"
jg_log "slow fan-out $SLOW_MIB MiB x 2 with $B stopped ${STOP_S} s: $(secs "$ms"); gateway RSS $rss0 KiB -> peak $peak KiB (+$growth KiB); $A advanced $((held / 1024)) KiB while $B was stopped"
rm -rf "$SD" "$slow"
}

PARTS=${JG_SCALE_PARTS:-all}
case $PARTS in
copy) scale_copy ;;
fan)
	# part 3 and 4 cut their files from part 1's
	big=$D/src/big
	head -c $((FAN_MIB << 20)) /dev/urandom >"$big"
	scale_fan
	;;
all)
	scale_copy
	scale_fan
	;;
*)
	jg_notok "JG_SCALE_PARTS=$PARTS: copy, fan or all"
	jg_done
	;;
esac

# ---------------------------------------------------------------- the end

z=$(jg_zombies "$JG_GW_PID")
if [ -z "$z" ]; then jg_ok "no zombies"; else jg_notok "no zombies: $(echo $z)"; fi
jg_check "gateway still serving" test "$(jg_http_code GET /healthz)" = 200
if jg_gateway_stop 10; then jg_ok "gateway exits 0"; else jg_notok "gateway exits 0 (status $JG_GW_STATUS)"; fi
if grep -qE 'Sanitizer|runtime error' "$JG_GW_LOG"; then
	jg_notok "no sanitizer report in the gateway log"
	grep -E -A12 'Sanitizer|runtime error' "$JG_GW_LOG" | head -40 | sed 's/^/#   /'
fi
jg_log "t_files_scale ($SCALE sizes, parts $PARTS) took $((SECONDS - T_START)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
jg_done
