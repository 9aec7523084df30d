#!/bin/bash
# The privilege-changing hops (sudo, su, doas), setns and chains of them, for
# real (docs/methods.md): the test accounts jgx1 and jgx2 of users.sh, the
# real sudo, su and doas, a real sshd on 127.0.0.4 taking jgx1's key (and
# root's: sshd.sh permits root logins with this run's key), and a process in
# its own PID, UTS, net and mount namespaces (unshare) for setns.
#   - local/sudo:jgx1 needs no password (the gateway is root), HOME is jgx1's;
#   - local/sudo:jgx1/asjgx2: su to jgx2 with the password of an inventory
#     entry used as a later hop; a wrong one is refused, with a reason, fast;
#   - ssh:jgx1@.../sudoroot: sudo with jgx1's password; without one, "a
#     password is required"; a wrong one refused;
#   - setns:pid:N after local, ssh as root, and ssh then sudo: hostname jgns;
#   - doas with a password (ssh:jgx1@.../doasjgx2) and with a nopass rule;
#   - through local→sudo→su, ssh→sudo and ssh→sudo→setns: exec with stdin,
#     jumpgate cp in and out (sha256 equal, owner right), rsync over
#     jumpgate rsh both ways;
#   - bad names in sudo/su/doas hops refused with 400, nothing spawned;
#   - a property test: random argv (every byte 1-255, quotes, blanks,
#     newlines, $, backslashes, non-UTF-8) through ssh→sudo→su come back
#     byte for byte (JG_BECOME_N cases, default 200; JG_BECOME_SEED replays).
# Needs root (the fixture makes users, sudoers and doas.conf: users.sh says
# what it changes on the machine).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
. "$(dirname "$0")/users.sh"
jg_ssh_setup
if [ "$(id -u)" != 0 ]; then
	printf 'ok - # SKIP the sudo/su/doas fixture needs root\n'
	exit 77
fi
jg_users_setup || { jg_notok "fixture users.sh: users, sudoers, doas.conf"; jg_done; }
jg_ok "fixture: users jgx1 and jgx2, $JG_USERS_SUDOERS, $JG_USERS_DOAS_CONF"
jg_require sudo su doas runuser unshare rsync python3 sha256sum
jg_users_selftest
# Each run sends the agent afresh (the first-send path every time).
jg_users_clear_caches

T=$JG_T
H=127.0.0.4
N_PROP=${JG_BECOME_N:-200}
NS_PID=
# Every secret of the inventory: none may appear in a message or log line.
SECRETS="pw-jgx1 pw-jgx2 bad-secret-su bad-secret-sudo bad-secret-doas"

become_cleanup() {
	jg_users_unauthorize jgx1 "$JG_SSH_KEY.pub"
	jg_users_clear_caches
	# The namespace's init (sleep, PID 1 there) ignores SIGTERM from here.
	[ -z "$NS_PID" ] || kill -KILL "$NS_PID" 2>/dev/null || true
}
JG_SSH_CLEANUP_HOOK=become_cleanup

# What jgx1 and jgx2 must reach: the agent (run directly by a chain starting
# with local), the helper files and the places they write.  $JG_T itself
# stays unreadable to them (the client key is in it).
chmod 711 "$T"
PUB=$T/pub
mkdir -m 755 "$PUB"
cp "$JUMPGATE_AGENT" "$PUB/jumpgate-agent"
JUMPGATE_AGENT=$PUB/jumpgate-agent
for u in jgx1 jgx2 root; do
	install -d -o "$u" -g "$(id -gn "$u")" -m 700 "$PUB/d-$u"
done
install -d -m 700 "$PUB/d-ns"

# jgx1's own PATH starts with tools of its own named sudo, su and doas (a
# compromised lower account would do this to read the next hop's password):
# they log their call and run the real one.  The hops must never use them.
mkdir -m 755 "$PUB/evil"
: >"$PUB/evil.log"
chmod 666 "$PUB/evil.log"
for t in sudo su doas; do
	printf '#!/bin/sh\necho "%s $*" >>%s\nexec /usr/bin/%s "$@"\n' "$t" "$PUB/evil.log" "$t" >"$PUB/evil/$t"
	chmod 755 "$PUB/evil/$t"
done

jg_users_authorize jgx1 "$JG_SSH_KEY.pub" || { jg_notok "this run's key in ~jgx1/.ssh/authorized_keys"; jg_done; }
# jgx1 logs in with ~jgx1/.ssh/authorized_keys (sshd.sh's own file is under
# $JG_T); the sessions keep the users' real HOME (they cannot write in $JG_T).
JG_SSHD_SETHOME=0 JG_SSHD_EXTRA=$'Match User jgx1\n\tAuthorizedKeysFile .ssh/authorized_keys\n\tSetEnv PATH='"$PUB/evil"$':/usr/local/bin:/usr/bin:/bin' \
	jg_sshd_start s "$H" || { jg_notok "sshd starts on $H"; jg_done; }
P=${JG_SSHD_PORT[s]}
jg_ok "sshd on $H:$P (jgx1 by ~jgx1/.ssh/authorized_keys, root by this run's key)"
SSHX=ssh:jgx1@$H:$P
SSHR=ssh:root@$H:$P

# A process in its own namespaces: setns targets it by PID.
unshare --fork --kill-child --pid --uts --net --mount --mount-proc \
	sh -c 'hostname jgns; exec sleep 1800' </dev/null >"$T/unshare.log" 2>&1 &
UNSHARE_PID=$!
jg_track unshare "$UNSHARE_PID"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
	NS_PID=$(jg_child_pids "$UNSHARE_PID" | head -n1)
	[ -z "$NS_PID" ] || [ "$(jg_comm "$NS_PID")" != sleep ] || break
	NS_PID=
	sleep 0.05
done
if [ -n "$NS_PID" ] && [ "$(readlink "/proc/$NS_PID/ns/uts")" != "$(readlink /proc/self/ns/uts)" ]; then
	jg_track nsinit "$NS_PID"
	jg_ok "namespaced process: pid $NS_PID (unshare $UNSHARE_PID), hostname jgns in its own UTS namespace"
else
	jg_notok "namespaced process started by unshare ($(head -c 200 "$T/unshare.log"))"
	jg_done
fi

JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  { name = \"asjgx2\"; method = \"su\"; user = \"jgx2\"; password = \"pw-jgx2\"; },
  { name = \"asjgx2bad\"; method = \"su\"; user = \"jgx2\"; password = \"bad-secret-su\"; },
  { name = \"sudoroot\"; method = \"sudo\"; user = \"root\"; password = \"pw-jgx1\"; },
  { name = \"sudorootbad\"; method = \"sudo\"; user = \"root\"; password = \"bad-secret-sudo\"; },
  { name = \"doasjgx2\"; method = \"doas\"; user = \"jgx2\"; password = \"pw-jgx1\"; },
  { name = \"doasjgx2bad\"; method = \"doas\"; user = \"jgx2\"; password = \"bad-secret-doas\"; }
);
# tunnels through chains: any chain, the test sshd's address only
tunnels = { allow = [ \"*:$H:*\" ]; };"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT (agent $JUMPGATE_AGENT)"

# ---------------------------------------------------------------- helpers

# bx NAME TARGET -- ARGV...: exec, stdin /dev/null, into $T/NAME.out/.err; RC, MS.
bx() {
	local n=$1
	shift
	jg_cli_timed "$T/$n.out" "$T/$n.err" exec "$@"
}

# want_out CHECK NAME WANT: the exec NAME exited 0 and printed exactly WANT.
want_out() {
	if [ "$RC" = 0 ] && [ "$(cat "$T/$2.out")" = "$3" ]; then
		jg_ok "$1 (${MS} ms)"
	else
		jg_notok "$1 (exit $RC, out '$(head -c 200 "$T/$2.out" | tr '\n' '|')', want '$(printf %s "$3" | tr '\n' '|')')"
		jg_show "$T/$2.err" 8
	fi
}

# want_fail CHECK NAME ERE MAX-MS: the exec NAME failed (255) in at most
# MAX-MS with a reason matching ERE (case-insensitive), printed nothing.
want_fail() {
	if [ "$RC" = 255 ] && grep -Eqi -- "$3" "$T/$2.err" && [ ! -s "$T/$2.out" ] && [ "$MS" -le "$4" ]; then
		jg_ok "$1: exit 255 in ${MS} ms, $(head -n1 "$T/$2.err" | cut -c1-300)"
	else
		jg_notok "$1: exit 255 within $4 ms, reason matching /$3/ (exit $RC after ${MS} ms: $(head -c 400 "$T/$2.err" | tr '\n' '|'); out '$(head -c 100 "$T/$2.out")')"
	fi
}

# ---------------------------------------------------------------- sudo, su

bx l1 local/sudo:jgx1 -- sh -c 'id -un; echo "$HOME"'
want_out "local/sudo:jgx1: id -un is jgx1 and HOME /home/jgx1 (root needs no password)" l1 $'jgx1\n/home/jgx1'

bx l2 local/sudo:jgx1/asjgx2 -- id -un
want_out "local/sudo:jgx1/asjgx2: su to jgx2 with the password of inventory entry asjgx2 (a later hop)" l2 jgx2
if grep -qiE 'unknown|not supported|no such target' "$T/l2.err"; then
	jg_log "the inventory name as a later hop was refused: $(head -n1 "$T/l2.err")"
fi

JG_TIMEOUT=60 bx l3 local/sudo:jgx1/asjgx2bad -- echo should-not-run
want_fail "local/sudo:jgx1/asjgx2bad: a wrong su password" l3 \
	'password.*refused|refused.*password|authentication failure' 30000

JG_TIMEOUT=60 bx l4 local/sudo:jgx1/su:jgx2 -- echo should-not-run
want_fail "local/sudo:jgx1/su:jgx2 without a password: fails fast, the reason names the su hop" l4 \
	'su to jgx2.*password' 30000

bx l5 local/sudo:jgx2/sudo:jgx1 -- id -un
want_out "local/sudo:jgx2/sudo:jgx1: sudo after sudo (NOPASSWD rule)" l5 jgx1

# ---------------------------------------------------------------- ssh, sudo

bx s0 "$SSHX" -- id -un
want_out "$SSHX: key login as jgx1 (the fixture's authorized_keys)" s0 jgx1
bx s00 "$SSHX" -- sh -c 'command -v sudo'
want_out "$SSHX: jgx1's PATH finds its own sudo first" s00 "$PUB/evil/sudo"

bx s1 "$SSHX/sudoroot" -- sh -c 'id -un; echo "$HOME"'
want_out "$SSHX/sudoroot: sudo to root with jgx1's password (inventory entry sudoroot)" s1 $'root\n/root'

JG_TIMEOUT=60 bx s2 "$SSHX/sudo:root" -- echo should-not-run
want_fail "$SSHX/sudo:root without a password: the reason names the sudo hop" s2 'sudo to root.*password is required' 30000

JG_TIMEOUT=60 bx s3 "$SSHX/sudorootbad" -- echo should-not-run
want_fail "$SSHX/sudorootbad: a wrong sudo password" s3 \
	'password.*refused|refused.*password|incorrect password' 30000

bx s4 "$SSHX/sudoroot/asjgx2" -- id -un
want_out "$SSHX/sudoroot/asjgx2: su from root with a password su never asks for" s4 jgx2

bx s5 "$SSHX/sudoroot/su:jgx2" -- id -un
want_out "$SSHX/sudoroot/su:jgx2: ssh→sudo→su" s5 jgx2

# ---------------------------------------------------------------- setns

bx n1 "local/setns:pid:$NS_PID" -- sh -c 'hostname; id -un'
want_out "local/setns:pid:$NS_PID: hostname jgns, root" n1 $'jgns\nroot'

bx n2 "$SSHR/setns:pid:$NS_PID" -- hostname
want_out "$SSHR/setns:pid:$NS_PID: hostname jgns" n2 jgns

bx n3 "$SSHX/sudoroot/setns:pid:$NS_PID" -- sh -c 'hostname; id -un; readlink /proc/self/ns/net'
want_out "$SSHX/sudoroot/setns:pid:$NS_PID: hostname jgns, root, the process's net namespace" n3 \
	"jgns"$'\n'"root"$'\n'"$(readlink "/proc/$NS_PID/ns/net")"

bx n4 "$SSHX/sudoroot/setns:pid:$NS_PID" -- sh -c 'echo $$'
if [ "$RC" = 0 ] && [ "$(cat "$T/n4.out")" -lt 100 ] 2>/dev/null; then
	jg_ok "setns: the command runs in the process's PID namespace (its shell is pid $(cat "$T/n4.out") there)"
else
	jg_notok "setns: the command runs in the process's PID namespace (exit $RC, pid '$(head -c 50 "$T/n4.out")')"
fi

JG_TIMEOUT=60 bx n5 "local/sudo:jgx1/setns:pid:$NS_PID" -- echo should-not-run
want_fail "local/sudo:jgx1/setns:pid:$NS_PID: setns as jgx1 is refused" n5 'not running as root|CAP_SYS_ADMIN' 30000

# A PID in the accepted range (1-4194304) that no process has.
nopid=4194303
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
JG_TIMEOUT=60 bx n6 "local/setns:pid:$nopid" -- echo should-not-run
want_fail "local/setns:pid:$nopid: no such process" n6 "no process $nopid" 30000

# ---------------------------------------------------------------- doas

bx d1 "$SSHX/doasjgx2" -- id -un
want_out "$SSHX/doasjgx2: doas with jgx1's password (--askpass-tty)" d1 jgx2

bx d2 local/sudo:jgx2/doas:jgx1 -- id -un
want_out "local/sudo:jgx2/doas:jgx1: doas with the nopass rule" d2 jgx1

JG_TIMEOUT=60 bx d3 "$SSHX/doasjgx2bad" -- echo should-not-run
want_fail "$SSHX/doasjgx2bad: a wrong doas password" d3 \
	'password.*refused|refused.*password|authentication failed' 30000

# doas -n says "Authentication required": the reason names the hop, as
# sudo's "a password is required" does.
JG_TIMEOUT=60 bx d4 "$SSHX/doas:jgx2" -- echo should-not-run
want_fail "$SSHX/doas:jgx2 without a password: fails fast, the reason names the doas hop" d4 \
	'doas to jgx2' 30000

# The password hops above (sudo and doas with jgx1's password, su) took their tool
# from /usr/bin or /bin, never from jgx1's PATH.
if [ -s "$PUB/evil.log" ]; then
	jg_notok "sudo, su and doas come from /usr/bin or /bin, not the lower account's PATH (called: $(sort -u "$PUB/evil.log" | cut -c1-60 | tr '\n' ';'))"
else
	jg_ok "sudo, su and doas come from /usr/bin or /bin, not the lower account's PATH (its own sudo, su, doas never ran)"
fi

# ---------------------------------------------------------------- stdin, cp, rsync

head -c 1048576 /dev/urandom >"$T/in.bin"
IN_SHA=$(jg_sha256 "$T/in.bin")
head -c 3000000 /dev/urandom >"$PUB/blob"
chmod 644 "$PUB/blob"
BLOB_SHA=$(jg_sha256 "$PUB/blob")
mkdir -p "$PUB/tree/a/b"
for i in $(seq 1 60); do printf 'file %s %s\n' "$i" "$RANDOM$RANDOM" >"$PUB/tree/f$i"; done
for i in $(seq 1 20); do head -c $((i * 997)) /dev/urandom >"$PUB/tree/a/b/g$i"; done
head -c 2000000 /dev/urandom >"$PUB/tree/a/big"
ln -s a/big "$PUB/tree/link"
chmod -R a+rX "$PUB/tree"

# rsync's -e for one chain.  rsync reads HOST:PATH up to the first ':' or
# '/', so a chain cannot be its HOST: the wrapper drops the placeholder host
# rsync passes first and gives jumpgate rsh the chain instead.
rsh_wrapper() {
	local f=$T/rsh-$1
	{
		printf '#!/bin/sh\n'
		printf '# rsync -e for %s: $1 is the placeholder host\n' "$2"
		printf 'shift\n'
		printf "exec timeout 300 '%s' -g 127.0.0.1:%s --cert '%s' --key '%s' --ca '%s' rsh '%s' \"\$@\"\n" \
			"$JUMPGATE" "$JG_PORT" "$JG_CERT" "$JG_KEY" "$JG_CA" "$2"
	} >"$f"
	chmod 755 "$f"
	printf '%s\n' "$f"
}

# through LABEL CHAIN USER DIR: stdin, cp both ways and rsync both ways
# through CHAIN, whose far end runs as USER and may write DIR.
through() {
	local lab=$1 c=$2 user=$3 dir=$4 got rc w diff owner
	# exec with stdin
	got=$(jg_cli exec "$c" -- cat <"$T/in.bin" 2>"$T/$lab-cat.err" | jg_sha256 -) || true
	if [ "$got" = "$IN_SHA" ]; then
		jg_ok "$c: 1 MiB of stdin through cat and back, sha256 equal"
	else
		jg_notok "$c: 1 MiB of stdin through cat and back, sha256 equal"
		jg_show "$T/$lab-cat.err" 5
	fi
	got=$(printf 'line one\nline two\n' | jg_cli exec "$c" -- sh -c 'id -un; wc -l' 2>"$T/$lab-wc.err" | tr -d ' ' | tr '\n' ' ') || true
	if [ "$got" = "$user 2 " ]; then
		jg_ok "$c: runs as $user, stdin EOF reaches wc -l"
	else
		jg_notok "$c: runs as $user, stdin EOF reaches wc -l (got '$got')"
		jg_show "$T/$lab-wc.err" 5
	fi
	# jumpgate cp in and out
	rc=0
	jg_cli cp -q "$PUB/blob" "$c:$dir/blob.up" </dev/null >"$T/$lab-cpin.out" 2>"$T/$lab-cpin.err" || rc=$?
	owner=$(stat -c %U "$dir/blob.up" 2>/dev/null || echo none)
	if [ $rc = 0 ] && [ "$(jg_sha256 "$dir/blob.up" 2>/dev/null)" = "$BLOB_SHA" ] && [ "$owner" = "$user" ]; then
		jg_ok "$c: jumpgate cp in (3 MB): sha256 equal, written by $user"
	else
		jg_notok "$c: jumpgate cp in: sha256 equal, owner $user (exit $rc, owner $owner)"
		jg_show "$T/$lab-cpin.err" 5
	fi
	rc=0
	rm -f "$T/$lab.down"
	jg_cli cp -q "$c:$dir/blob.up" "$T/$lab.down" </dev/null >"$T/$lab-cpout.out" 2>"$T/$lab-cpout.err" || rc=$?
	if [ $rc = 0 ] && [ "$(jg_sha256 "$T/$lab.down" 2>/dev/null)" = "$BLOB_SHA" ]; then
		jg_ok "$c: jumpgate cp out: sha256 equal"
	else
		jg_notok "$c: jumpgate cp out: sha256 equal (exit $rc)"
		jg_show "$T/$lab-cpout.err" 5
	fi
	# rsync over jumpgate rsh, there and back
	w=$(rsh_wrapper "$lab" "$c")
	rc=0
	timeout 300 rsync -rlt -e "$w" "$PUB/tree/" "jg:$dir/rs/" </dev/null >"$T/$lab-rs.out" 2>"$T/$lab-rs.err" || rc=$?
	diff=$(timeout 300 rsync -rlt -c -n -i -e "$w" "$PUB/tree/" "jg:$dir/rs/" </dev/null 2>&1) || diff="rsync -c -n failed: $diff"
	owner=$(stat -c %U "$dir/rs/a/big" 2>/dev/null || echo none)
	if [ $rc = 0 ] && [ -z "$diff" ] && diff -r "$PUB/tree" "$dir/rs" >/dev/null 2>&1 && [ "$owner" = "$user" ]; then
		jg_ok "$c: rsync -e 'jumpgate rsh' of a tree of 82 files to it (then -c -n -i: no difference; written by $user)"
	else
		jg_notok "$c: rsync -e 'jumpgate rsh' to it (exit $rc, owner $owner; $(printf %s "$diff" | head -n 3 | tr '\n' '|'))"
		jg_show "$T/$lab-rs.err" 8
	fi
	rc=0
	rm -rf "$T/$lab-pull"
	timeout 300 rsync -rlt -e "$w" "jg:$dir/rs/" "$T/$lab-pull/" </dev/null >"$T/$lab-rp.out" 2>"$T/$lab-rp.err" || rc=$?
	if [ $rc = 0 ] && diff -r "$PUB/tree" "$T/$lab-pull" >/dev/null 2>&1; then
		jg_ok "$c: rsync -e 'jumpgate rsh' from it: the tree comes back equal"
	else
		jg_notok "$c: rsync -e 'jumpgate rsh' from it (exit $rc)"
		jg_show "$T/$lab-rp.err" 8
	fi
}

through c1 local/sudo:jgx1/asjgx2 jgx2 "$PUB/d-jgx2"
through c2 "$SSHX/sudoroot" root "$PUB/d-root"
through c3 "$SSHX/sudoroot/setns:pid:$NS_PID" root "$PUB/d-ns"

# ---------------------------------------------------------------- injection

# Children of the gateway now, sorted (the pool's links stay up meanwhile).
gw_children() { jg_child_pids "$JG_GW_PID" | sort; }
before=$(gw_children)
starts_before=$(grep -c 'onward connection to .*starting' "$JG_GW_LOG" || true)
PWNED=$PUB/pwned
for t in 'local/sudo:-u' 'local/su:a;b' 'local/sudo:root$(id)' 'local/doas:a b' \
	'local/sudo:root`id`' 'local/su:-c' 'local/doas:a|b' 'local/sudo:jgx1/su:a$(touch${IFS}pwned)' \
	$'local/sudo:jgx1/su:jgx2\n' 'local/sudo:.hidden' 'local/doas:'; do
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$t")
	code=$(jg_curl "/v1/targets/$enc/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
		-o "$T/inj.body" -w '%{http_code}' 2>/dev/null) || true
	touch "$T/inj.body"
	if [ "$code" = 400 ] && grep -q '"reason"' "$T/inj.body"; then
		jg_ok "injection '$(printf %q "$t")': 400, $(head -c 200 "$T/inj.body" | tr '\n' ' ')"
	else
		jg_notok "injection '$(printf %q "$t")': 400 with a reason (got $code: $(head -c 200 "$T/inj.body"))"
	fi
done
for t in 'local/sudo:-u' 'local/su:a;b' 'local/sudo:root$(id)' 'local/doas:a b'; do
	JG_TIMEOUT=30 jg_cli_timed "$T/ci.out" "$T/ci.err" exec -- "$t" -- touch "$PWNED"
	if [ "$RC" = 255 ] && [ -s "$T/ci.err" ]; then
		jg_ok "CLI exec -- '$t': exit 255, $(head -n1 "$T/ci.err")"
	else
		jg_notok "CLI exec -- '$t': exit 255 with a reason (exit $RC: $(head -c 300 "$T/ci.err"))"
	fi
done
after=$(gw_children)
new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')
starts_after=$(grep -c 'onward connection to .*starting' "$JG_GW_LOG" || true)
if [ -z "$new" ] && [ "$starts_after" = "$starts_before" ]; then
	jg_ok "injection: no child process spawned, no onward connection started"
else
	jg_notok "injection: nothing spawned (new children: $(for p in $new; do printf '%s(%s) ' "$p" "$(jg_comm "$p")"; done); onward starts $starts_before -> $starts_after)"
fi
if [ ! -e "$PWNED" ] && [ ! -e pwned ]; then jg_ok "injection: no marker file created"; else jg_notok "injection: no marker file created"; fi

# ---------------------------------------------------------------- property test

PROP=$SSHX/sudoroot/su:jgx2
cat >"$T/prop.py" <<'EOF'
# Random argv through a chain, back byte for byte.  argv[1:]: N, then the
# jumpgate command line up to and including the target.
import os, random, subprocess, sys

n = int(sys.argv[1])
base = [os.fsencode(a) for a in sys.argv[2:]]
seed = int(os.environ.get("JG_BECOME_SEED") or random.SystemRandom().randrange(1 << 32))
print("# property test seed %d (JG_BECOME_SEED=%d replays it)" % (seed, seed), flush=True)
rng = random.Random(seed)
SPECIAL = b"'\"`\\$ \t\n;|&*?()[]{}<>!#~%=-^,"
NONUTF8 = [b"\xff", b"\xfe", b"\xc0\xaf", b"\xc3", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80"]


def rand_arg():
    out = bytearray()
    size = rng.choice([0, 0, 1, 2, 3, rng.randrange(0, 41), rng.randrange(0, 41), 40])
    while len(out) < size:
        r = rng.random()
        if r < 0.35:
            out.append(rng.choice(SPECIAL))
        elif r < 0.5:
            out += rng.choice(NONUTF8)
        elif r < 0.6:
            out.append(rng.randrange(1, 32))
        elif r < 0.7:
            out += rng.choice([b"'\\''", b"$(id)", b"`id`", b"${IFS}", b"\\n", b"--", b"-c", b"%s", b"\\0"])
        else:
            out.append(rng.randrange(1, 256))
    return bytes(out[:40])


fixed = [[b""], [b"'"], [b'"'], [b"\\"], [b"\n"], [b"$(id)"], [b"-c", b"--"], [b"\xff\xfe"],
         [b"a b", b"", b"c"], [b"'\\''"], [bytes(range(1, 41))], [bytes(range(216, 256))]]
cases = fixed[:n] + [[rand_arg() for _ in range(rng.randrange(1, 7))] for _ in range(max(0, n - len(fixed)))]
# Half run through a shell at the far end, half exec printf directly.
SH = [b"sh", b"-c", b'for a do printf %s "$a"; printf "\\000"; done', b"sh"]
PF = [b"printf", b"%s\\0"]
fails = 0
for i, args in enumerate(cases):
    cmd = base + [b"--"] + (SH if i % 2 == 0 else PF) + args
    want = b"".join(a + b"\0" for a in args)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = "timeout", b"", b""
    if rc != 0 or out != want:
        fails += 1
        if fails <= 3:
            print("# case %d (%s) failed: exit %s" % (i, "sh" if i % 2 == 0 else "printf", rc))
            print("#   sent %r" % (args,))
            print("#   got  %r" % (out,))
            print("#   err  %r" % (err[:300],))
print("RESULT %d %d %d" % (len(cases), fails, seed))
EOF
t0=$(date +%s%N)
python3 "$T/prop.py" "$N_PROP" timeout 120 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" \
	--key "$JG_KEY" --ca "$JG_CA" exec "$PROP" >"$T/prop.out" 2>&1 || true
ms=$((($(date +%s%N) - t0) / 1000000))
grep '^#' "$T/prop.out" || true
read -r _ total fails seed < <(grep '^RESULT ' "$T/prop.out" || echo "RESULT 0 -1 ?")
if [ "$total" = "$N_PROP" ] && [ "$fails" = 0 ]; then
	jg_ok "property: $total random argv through $PROP came back byte for byte (seed $seed, ${ms} ms)"
else
	jg_notok "property: $N_PROP random argv through $PROP byte for byte ($fails of $total failed, seed $seed)"
	grep -v '^#' "$T/prop.out" | tail -n 5 | sed 's/^/#   /'
fi

# ---------------------------------------------------------------- tunnels

# A tunnel from the far end of each chain to the test sshd: its banner comes back.
for chain in local/sudo:jgx1/asjgx2 "$SSHX/sudoroot"; do
	banner=$(printf '' | JG_TIMEOUT=30 jg_cli connect -H "$H" "$chain" "$P" 2>"$T/tun.err" | head -c 8) || true
	if [ "$banner" = "SSH-2.0-" ]; then
		jg_ok "tunnel through $chain to $H:$P: the sshd banner arrives"
	else
		jg_notok "tunnel through $chain to $H:$P: the sshd banner arrives (got '$banner': $(head -c 300 "$T/tun.err"))"
	fi
done
# From inside the namespace (its own network: only lo) the address is not reachable.
rc=0
printf '' | JG_TIMEOUT=30 jg_cli connect -H "$H" "$SSHX/sudoroot/setns:pid:$NS_PID" "$P" >"$T/tunns.out" 2>"$T/tunns.err" || rc=$?
if [ "$rc" = 255 ] && grep -qiE 'unreachable|refused' "$T/tunns.err" && [ ! -s "$T/tunns.out" ]; then
	jg_ok "tunnel from inside the setns namespace: refused with the reason, $(head -n1 "$T/tunns.err" | cut -c1-200)"
else
	jg_notok "tunnel from inside the setns namespace: exit 255 with the reason (exit $rc: $(head -c 300 "$T/tunns.err"))"
fi

# ---------------------------------------------------------------- secrets, end

leak=
for s in $SECRETS; do
	if grep -rlF -- "$s" "$T"/*.err "$T"/*.out "$JG_GW_LOG" >/dev/null 2>&1; then leak="$leak $s"; fi
done
if [ -z "$leak" ]; then
	jg_ok "no password appears in any message, output or gateway log line"
else
	jg_notok "no password appears in any message, output or gateway log line (found:$leak)"
fi
if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
