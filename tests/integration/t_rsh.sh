#!/bin/bash
# `jumpgate rsh` under the tools that drive ssh, for real: rsync -a of a 1 GiB
# file and of a tree of 10,000 files (then rsync -c -n -i finds no
# difference); rsync --partial killed mid-transfer and resumed; git clone and
# push with GIT_SSH_COMMAND; the exact argv of Ansible's ssh plugin; scp -S
# (sftp and legacy); exit status mirrored; stdout a pure byte pipe (10 MiB
# through sha256) with stderr apart; half-close (EOF reaches the remote
# program while its output still flows); ssh's -V, -G, -O and refusals.
# Targets: "local" always; with OpenSSH's sshd installed, also an sshd on
# 127.0.0.2 reached as an inventory name and as ssh:USER@HOST:PORT built
# from -l/-p and Ansible's -o User=/Port=.
#   JG_RSH_BIG_MIB (default 1024; 256 under the sanitizers), JG_RSH_FILES
#   (default 10000): the sizes.
. "$(dirname "$0")/lib.sh"
HAVE_SSHD=0
if [ -r "$(dirname "$0")/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ] &&
	command -v ssh-keygen >/dev/null 2>&1; then
	. "$(dirname "$0")/sshd.sh"
	HAVE_SSHD=1
fi
if [ $HAVE_SSHD = 1 ]; then
	jg_ssh_setup
else
	jg_setup
	jg_init_pki
fi
jg_require rsync git sha256sum
# Under the sanitizers 256 MiB: still far past every window and buffer, and
# each GiB through the instrumented client and agents (copied, checksummed,
# resumed, over local and over ssh) costs about a minute of CPU.
if jg_sanitized; then BIG_MIB=${JG_RSH_BIG_MIB:-256}; else BIG_MIB=${JG_RSH_BIG_MIB:-1024}; fi
NFILES=${JG_RSH_FILES:-10000}

if [ $HAVE_SSHD = 1 ]; then
	if jg_sshd_start a 127.0.0.2; then
		PA=${JG_SSHD_PORT[a]}
		JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = ( $(jg_ssh_target web1 127.0.0.2 "$PA") );"
		jg_ok "sshd on 127.0.0.2:$PA"
	else
		jg_notok "sshd starts on 127.0.0.2"
		HAVE_SSHD=0
	fi
else
	jg_log "no sshd (or no tests/integration/sshd.sh): the local target only"
fi
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT"

# rsync -e and GIT_SSH_COMMAND split their command line on blanks: the
# credentials go in the environment, and every run is bounded.
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
RSH="timeout ${JG_TIMEOUT:-300} $JUMPGATE rsh"
T=$JG_T
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
rate() { awk -v b="$1" -v ms="$2" 'BEGIN { if (ms < 1) ms = 1; printf "%.0f MB/s", b / ms / 1000 }'; }

# ---------------------------------------------------------------- exit status, stdio

for code in 0 1 42 255; do
	rc=0
	$RSH local "exit $code" </dev/null >"$T/x.out" 2>"$T/x.err" || rc=$?
	if [ "$rc" = "$code" ] && [ ! -s "$T/x.out" ] && [ ! -s "$T/x.err" ]; then
		jg_ok "exit status $code mirrored, nothing on stdout or stderr"
	else
		jg_notok "exit status $code mirrored (got $rc; err '$(head -c 200 "$T/x.err")')"
	fi
done
rc=0
$RSH local 'kill -9 $$' </dev/null 2>"$T/x.err" || rc=$?
if [ "$rc" = 137 ]; then jg_ok "killed by SIGKILL: 137"; else jg_notok "killed by SIGKILL: 137 (got $rc)"; fi

head -c $((10 * 1048576)) /dev/urandom >"$T/rand"
want=$(jg_sha256 "$T/rand")
$RSH local "cat '$T/rand'; echo to-stderr >&2" </dev/null >"$T/rand.out" 2>"$T/rand.err" || true
got=$(jg_sha256 "$T/rand.out")
if [ "$got" = "$want" ] && [ "$(cat "$T/rand.err")" = to-stderr ]; then
	jg_ok "stdout is a pure byte pipe: 10 MiB of random bytes, sha256 equal; stderr apart"
else
	jg_notok "stdout purity: sha256 $got want $want; stderr '$(head -c 200 "$T/rand.err")'"
fi
# The same bytes the other way, and output produced only after stdin's EOF
# arrived: the remote side must see EOF while its stdout stays open.
out=$($RSH local 'sha256sum | cut -d" " -f1; sleep 0.2; echo still-flowing' <"$T/rand" 2>"$T/x.err") || true
if [ "$out" = "$want"$'\n'"still-flowing" ]; then
	jg_ok "half-close: stdin's EOF reaches the remote program, its output keeps flowing"
else
	jg_notok "half-close (got '$(printf %s "$out" | head -c 200)')"
	jg_show "$T/x.err" 5
fi
out=$(printf '%s\n' 'a b' | $RSH local cat '&&' echo "'x  y'" 2>&1) || true
if [ "$out" = $'a b\nx  y' ]; then
	jg_ok "command words joined with spaces and run by /bin/sh -c, as ssh does"
else
	jg_notok "command words joined as ssh does (got '$out')"
fi

# ---------------------------------------------------------------- ssh's own options

rc=0
$JUMPGATE rsh -V >"$T/v.out" 2>"$T/v.err" || rc=$?
if [ $rc = 0 ] && [ ! -s "$T/v.out" ] && grep -q '^jumpgate rsh ' "$T/v.err"; then
	jg_ok "-V: version on stderr ($(cat "$T/v.err")), exit 0"
else
	jg_notok "-V (exit $rc, stderr '$(cat "$T/v.err")')"
fi
rc=0
$JUMPGATE rsh -G -p 2222 -o SendEnv=GIT_PROTOCOL web1 >"$T/g.out" 2>&1 || rc=$?
if [ $rc = 0 ] && grep -qx 'port 2222' "$T/g.out"; then
	jg_ok "-G answers (git's probe for -p and SendEnv)"
else
	jg_notok "-G (exit $rc: $(cat "$T/g.out"))"
fi
rc1=0 rc2=0
$JUMPGATE rsh -O check -o ControlPath=/x web1 2>"$T/o.err" || rc1=$?
$JUMPGATE rsh -O stop -o ControlPath=/x web1 2>/dev/null || rc2=$?
if [ $rc1 = 255 ] && [ $rc2 = 0 ] && grep -q '^jumpgate rsh: no control master' "$T/o.err"; then
	jg_ok "-O check: 255 (no master), -O stop: 0"
else
	jg_notok "-O check ($rc1) / stop ($rc2)"
fi
for bad in "-Z local true" "local" "-N local" "-l root local true" "-W h:22 local"; do
	rc=0
	# shellcheck disable=SC2086
	$RSH $bad </dev/null >"$T/b.out" 2>"$T/b.err" || rc=$?
	if [ $rc = 255 ] && [ ! -s "$T/b.out" ] && [ "$(wc -l <"$T/b.err")" = 1 ] &&
		grep -q '^jumpgate rsh: ' "$T/b.err"; then
		jg_ok "refused with 255 and one line: rsh $bad ($(cut -c1-90 "$T/b.err"))"
	else
		jg_notok "refused with 255 and one line: rsh $bad (exit $rc: $(cat "$T/b.err"))"
	fi
done
rc=0
$RSH nosuch-host.invalid true </dev/null >"$T/b.out" 2>"$T/b.err" || rc=$?
if [ $rc = 255 ] && [ "$(wc -l <"$T/b.err")" = 1 ] && grep -q '^jumpgate rsh: nosuch' "$T/b.err"; then
	jg_ok "unreachable target: 255, one line ($(cut -c1-100 "$T/b.err"))"
else
	jg_notok "unreachable target: 255, one line (exit $rc: $(cat "$T/b.err"))"
fi

# ---------------------------------------------------------------- Ansible

# Recorded from Ansible 2.14's ssh plugin (`ansible HOST -m shell`, its home
# probe), minus -o User= for "local", which takes no user.
out=$($RSH -C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no \
	-o KbdInteractiveAuthentication=no \
	-o PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey \
	-o PasswordAuthentication=no -o ConnectTimeout=10 \
	-o 'ControlPath="/root/.ansible/cp/abc"' -tt local \
	'/bin/sh -c '"'"'echo ~ && sleep 0'"'"'' </dev/null 2>"$T/a.err" | tr -d '\r') || true
if [ "$out" = "$HOME" ]; then
	jg_ok "Ansible's argv (-tt, ControlPath...) on local: echo ~ gives $out"
else
	jg_notok "Ansible's argv on local: echo ~ gives '$out', want '$HOME'"
	jg_show "$T/a.err" 5
fi
if command -v python3 >/dev/null 2>&1; then
	# Pipelining: the module's source on stdin of the remote python, no tty.
	out=$(printf 'print(6 * 7)\n' | $RSH -C -o ControlMaster=auto -o ControlPersist=60s \
		-o 'ControlPath="/root/.ansible/cp/abc"' local \
		'/bin/sh -c '"'"'python3 && sleep 0'"'"'' 2>&1) || true
	if [ "$out" = 42 ]; then jg_ok "Ansible pipelining: module on stdin to python3"; else jg_notok "Ansible pipelining (got '$out')"; fi
fi
if [ $HAVE_SSHD = 1 ]; then
	out=$($RSH -C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no \
		-o KbdInteractiveAuthentication=no \
		-o PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey \
		-o PasswordAuthentication=no -o "User=\"$JG_SSH_USER\"" -o "Port=$PA" \
		-o ConnectTimeout=10 -o 'ControlPath="/root/.ansible/cp/abc"' -tt 127.0.0.2 \
		'/bin/sh -c '"'"'echo ~'"$JG_SSH_USER"' && sleep 0'"'"'' </dev/null 2>"$T/a.err" |
		tr -d '\r') || true
	want_home=$(getent passwd "$JG_SSH_USER" | cut -d: -f6)
	if [ "$out" = "$want_home" ]; then
		jg_ok "Ansible's exact argv (User=\"$JG_SSH_USER\", Port=$PA, -tt) via sshd: echo ~$JG_SSH_USER gives $out"
	else
		jg_notok "Ansible's exact argv via sshd: got '$out', want '$want_home'"
		jg_show "$T/a.err" 5
	fi
fi

# ---------------------------------------------------------------- rsync

mkdir -p "$T/src" "$T/dst"
head -c $((BIG_MIB * 1048576)) /dev/urandom >"$T/src/big"
t0=$(date +%s%N)
rc=0
timeout 600 rsync -a -e "$JUMPGATE rsh" "$T/src/" "local:$T/dst/" 2>"$T/r.err" || rc=$?
ms=$(ms_since "$t0")
if [ $rc = 0 ] && cmp -s "$T/src/big" "$T/dst/big"; then
	jg_ok "rsync -a of a $BIG_MIB MiB file through jumpgate rsh: $ms ms ($(rate $((BIG_MIB * 1048576)) "$ms"))"
else
	jg_notok "rsync -a of a $BIG_MIB MiB file (exit $rc)"
	jg_show "$T/r.err" 10
fi
diff=$(timeout 600 rsync -a -c -n -i -e "$JUMPGATE rsh" "$T/src/" "local:$T/dst/" 2>&1) || diff="rsync failed: $diff"
if [ -z "$diff" ]; then jg_ok "rsync -a -c -n -i: no difference"; else jg_notok "rsync -c -n -i reports: $(echo "$diff" | head -5)"; fi

mkdir -p "$T/tree"
(
	cd "$T/tree"
	for d in $(seq 0 99); do
		mkdir "d$d"
		for f in $(seq 0 $((NFILES / 100 - 1))); do
			printf '%s %s %s\n' "$d" "$f" "$RANDOM$RANDOM" >"d$d/f$f"
		done
	done
)
n=$(find "$T/tree" -type f | wc -l)
t0=$(date +%s%N)
rc=0
timeout 600 rsync -a -e "$JUMPGATE rsh" "$T/tree/" "local:$T/tree.dst/" 2>"$T/r.err" || rc=$?
ms=$(ms_since "$t0")
m=$(find "$T/tree.dst" -type f 2>/dev/null | wc -l)
if [ $rc = 0 ] && [ "$n" = "$m" ]; then
	jg_ok "rsync -a of a tree of $n files: $ms ms"
else
	jg_notok "rsync -a of a tree of $n files (exit $rc, $m arrived)"
	jg_show "$T/r.err" 10
fi
diff=$(timeout 600 rsync -a -c -n -i -e "$JUMPGATE rsh" "$T/tree/" "local:$T/tree.dst/" 2>&1) || diff="rsync failed: $diff"
if [ -z "$diff" ]; then jg_ok "tree: rsync -a -c -n -i: no difference"; else jg_notok "tree: rsync -c -n -i reports: $(echo "$diff" | head -5)"; fi

# --partial: kill the first rsync by its PID once a good part has arrived.
mkdir -p "$T/part"
timeout 600 rsync -a --partial --bwlimit=150000 -e "$JUMPGATE rsh" "$T/src/big" "local:$T/part/" \
	2>"$T/p1.err" &
rpid=$!
jg_track rsync1 "$rpid"
deadline=$((SECONDS + 120))
seen=0
while [ $SECONDS -lt $deadline ] && jg_alive "$rpid"; do
	seen=$(find "$T/part" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -n1)
	[ "${seen:-0}" -lt $((BIG_MIB * 1048576 / 4)) ] || break
	sleep 0.05
done
kids=$(jg_descendants "$rpid")
kill -TERM "$rpid" 2>/dev/null || true
rc=0
wait "$rpid" 2>/dev/null || rc=$?
jg_untrack rsync1
# rsync SIGUSR1s its jumpgate rsh on the way out; it must end soon after.
left=
for k in $kids; do jg_wait_gone "$k" 15 || left="$left $k($(jg_comm "$k"))"; done
if [ -z "$left" ]; then
	jg_ok "jumpgate rsh ends after its rsync is killed"
else
	jg_notok "jumpgate rsh ends after its rsync is killed (left:$left)"
	for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
fi
# The receiver keeps what it has once its stdin ends; wait (bounded) for it.
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ] && [ ! -e "$T/part/big" ]; do sleep 0.1; done
partial=$(stat -c %s "$T/part/big" 2>/dev/null || echo 0)
if [ "$rc" != 0 ] && [ "$partial" -gt 0 ] && [ "$partial" -lt $((BIG_MIB * 1048576)) ]; then
	jg_ok "rsync --partial killed mid-transfer (exit $rc): $partial bytes kept"
else
	jg_notok "rsync --partial killed mid-transfer (exit $rc, $partial bytes kept, seen ${seen:-0})"
	jg_show "$T/p1.err" 5
fi
t0=$(date +%s%N)
rc=0
timeout 600 rsync -a --partial --stats -e "$JUMPGATE rsh" "$T/src/big" "local:$T/part/" >"$T/p2.out" 2>"$T/p2.err" || rc=$?
ms=$(ms_since "$t0")
literal=$(sed -n 's/^Literal data: \([0-9,]*\).*/\1/p' "$T/p2.out" | tr -d ,)
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/part/big")" = "$(jg_sha256 "$T/src/big")" ]; then
	jg_ok "rsync --partial resumed: checksum equal, ${literal:-?} literal bytes sent (of $((BIG_MIB * 1048576))), $ms ms"
else
	jg_notok "rsync --partial resumed (exit $rc)"
	jg_show "$T/p2.err" 5
fi

if [ $HAVE_SSHD = 1 ]; then
	# Through the real sshd: as an inventory name, and as -l USER -p PORT HOST.
	mkdir -p "$T/sdst1" "$T/sdst2"
	rc=0
	t0=$(date +%s%N)
	timeout 600 rsync -a -e "$JUMPGATE rsh" "$T/src/" "web1:$T/sdst1/" 2>"$T/r.err" || rc=$?
	ms=$(ms_since "$t0")
	if [ $rc = 0 ] && cmp -s "$T/src/big" "$T/sdst1/big"; then
		jg_ok "rsync -a $BIG_MIB MiB to inventory target web1 (sshd): $ms ms ($(rate $((BIG_MIB * 1048576)) "$ms"))"
	else
		jg_notok "rsync -a to web1 (sshd) (exit $rc)"
		jg_show "$T/r.err" 10
	fi
	rc=0
	timeout 600 rsync -a -e "$JUMPGATE rsh -p $PA" "$T/tree/" "$JG_SSH_USER@127.0.0.2:$T/sdst2/" 2>"$T/r.err" || rc=$?
	diff=$(timeout 600 rsync -a -c -n -i -e "$JUMPGATE rsh -p $PA" "$T/tree/" "$JG_SSH_USER@127.0.0.2:$T/sdst2/" 2>&1) || diff="failed: $diff"
	if [ $rc = 0 ] && [ -z "$diff" ]; then
		jg_ok "rsync tree to $JG_SSH_USER@127.0.0.2 with -p $PA (ssh:USER@HOST:PORT), then -c -n: no difference"
	else
		jg_notok "rsync tree to $JG_SSH_USER@127.0.0.2 -p $PA (exit $rc; $(echo "$diff" | head -3))"
		jg_show "$T/r.err" 10
	fi
fi

# ---------------------------------------------------------------- git

git init -q --bare "$T/repo.git"
(
	git init -q "$T/work"
	cd "$T/work"
	git config user.email t@example.invalid
	git config user.name test
	for i in 1 2 3; do
		head -c 100000 /dev/urandom | od -An -tx1 >"file$i"
		git add "file$i"
		git commit -q -m "commit $i"
	done
	git push -q "$T/repo.git" HEAD:refs/heads/main
) >/dev/null 2>&1
git -C "$T/repo.git" symbolic-ref HEAD refs/heads/main
want=$(git -C "$T/repo.git" rev-parse main)
rc=0
GIT_SSH_COMMAND="$JUMPGATE rsh" timeout 120 git clone -q "local:$T/repo.git" "$T/clone" 2>"$T/git.err" || rc=$?
if [ $rc = 0 ] && [ "$(git -C "$T/clone" rev-parse HEAD)" = "$want" ] && [ -f "$T/clone/file3" ]; then
	jg_ok "git clone local:$T/repo.git with GIT_SSH_COMMAND='jumpgate rsh'"
else
	jg_notok "git clone with GIT_SSH_COMMAND (exit $rc)"
	jg_show "$T/git.err" 10
fi
rc=0
(
	cd "$T/clone" && git config user.email t@example.invalid && git config user.name test &&
		echo more >>file1 && git commit -qam "pushed through rsh" &&
		GIT_SSH_COMMAND="$JUMPGATE rsh" timeout 120 git push -q origin HEAD:main
) 2>"$T/git.err" || rc=$?
if [ $rc = 0 ] && [ "$(git -C "$T/repo.git" log -1 --format=%s main)" = "pushed through rsh" ]; then
	jg_ok "git push through jumpgate rsh (receive-pack, stdin EOF then report)"
else
	jg_notok "git push through jumpgate rsh (exit $rc)"
	jg_show "$T/git.err" 10
fi
if [ $HAVE_SSHD = 1 ]; then
	# ssh:// with a port: git probes "-G", then passes -p PORT and SendEnv.
	rc=0
	GIT_TRACE_PACKET=1 GIT_SSH_COMMAND="$JUMPGATE rsh" timeout 120 git -c protocol.version=2 clone -q \
		"ssh://$JG_SSH_USER@127.0.0.2:$PA$T/repo.git" "$T/clone2" 2>"$T/git2.err" || rc=$?
	if [ $rc = 0 ] && [ "$(git -C "$T/clone2" log -1 --format=%s)" = "pushed through rsh" ]; then
		if grep -q 'version 2' "$T/git2.err"; then
			jg_ok "git clone ssh://$JG_SSH_USER@127.0.0.2:$PA/... (-p, SendEnv=GIT_PROTOCOL: protocol v2)"
		else
			jg_notok "git clone ssh://...:$PA worked but not with protocol v2 (SendEnv)"
		fi
	else
		jg_notok "git clone ssh://$JG_SSH_USER@127.0.0.2:$PA/... (exit $rc)"
		grep -v 'packet:' "$T/git2.err" | tail -n 5 | sed 's/^/#   /'
	fi
fi

# ---------------------------------------------------------------- scp -S

# scp -S takes a program, not a command line: a two-line wrapper.
printf '#!/bin/sh\nexec %s rsh "$@"\n' "$JUMPGATE" >"$T/jg-ssh"
chmod +x "$T/jg-ssh"
mkdir -p "$T/scp"
for mode in sftp legacy; do
	flag=
	[ $mode = sftp ] || flag=-O
	rc=0
	# shellcheck disable=SC2086
	timeout 120 scp -q $flag -S "$T/jg-ssh" "$T/rand" "local:$T/scp/rand.$mode" 2>"$T/scp.err" </dev/null || rc=$?
	if [ $rc = 0 ] && cmp -s "$T/rand" "$T/scp/rand.$mode"; then
		jg_ok "scp -S ($mode protocol) of 10 MiB"
	else
		jg_notok "scp -S ($mode protocol) (exit $rc)"
		jg_show "$T/scp.err" 5
	fi
done

jg_gateway_stop 10 || jg_notok "gateway exits 0 (status $JG_GW_STATUS)"
jg_done
