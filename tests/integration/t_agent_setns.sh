#!/bin/bash
# jumpgate-agent --setns (docs/methods.md, "The agent's trampoline modes"),
# run directly, no gateway, against a "container" made by unshare: its own
# PID, mount, UTS, IPC and net namespaces, hostname jgns-test, and an
# /etc/passwd and /etc/group bind-mounted inside it with an account the host
# does not have.
#   - `-- ARGV` runs in every namespace: the container's hostname, a small PID
#     of its PID namespace, only lo, HOME=/root USER=root, and exit statuses
#     (a code, 128 + a signal) come back as they are;
#   - --setns-user takes uid, gid, groups, HOME and SHELL from the
#     container's own files; a HOME that is missing gives /; an unknown user
#     is the error line "no user U in the container";
#   - the error lines, exact, with status 1: a dead PID, a zombie, a
#     non-root user, root without CAP_SYS_ADMIN, a bad target;
#   - a container with its own user namespace (setgroups denied) is entered;
#   - docker:, lxc: and machinectl: names go through their tool (test doubles
#     named by --setns-tool-path, which check the argv they get); a failing
#     tool's last stderr line is the detail, a hanging one is killed at 10 s;
#   - without `--` the child goes on as the agent: HELLO ("JG") on stdout,
#     the waiting parent holds neither stdin nor stdout, and closing stdin
#     ends both, status 0;
#   - SIGTERM to the parent reaches the command; no process is left over.
# Needs root, unshare and setpriv.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require unshare setpriv ip mkfifo
if [ "$(id -u)" != 0 ]; then
	printf 'ok - # SKIP --setns needs root\n'
	exit 77
fi

T=$JG_T
# The agent where an unprivileged user can run it too ($T itself stays 0700
# for everything but traversal).
chmod 711 "$T"
mkdir -m 755 "$T/bin"
cp "$JUMPGATE_AGENT" "$T/bin/jumpgate-agent"
A=$T/bin/jumpgate-agent
NS_INIT=

setns_cleanup() {
	# The namespace's init (sleep, PID 1 there) ignores SIGTERM from here.
	[ -z "$NS_INIT" ] || kill -KILL "$NS_INIT" 2>/dev/null || true
}
# jg_cleanup exits with the status it finds in $?: keep the test's.
trap 'rc=$?; setns_cleanup; (exit $rc); jg_cleanup' EXIT

# ---------------------------------------------------------------- the container

# Accounts only the container has: jgnsonly (uid 4242, group 4243, member of
# 4244), and jgnsnohome whose HOME does not exist.
{
	cat /etc/passwd
	printf 'jgnsonly:x:4242:4243::/tmp:/bin/sh\n'
	printf 'jgnsnohome:x:4245:4243::/nonexistent-jg:/bin/false\n'
} >"$T/passwd"
{
	cat /etc/group
	printf 'jgnsgrp:x:4243:\n'
	printf 'jgnsextra:x:4244:root,jgnsonly\n'
} >"$T/group"
chmod 644 "$T/passwd" "$T/group"
unshare --fork --kill-child --pid --mount --uts --ipc --net --mount-proc \
	sh -c 'hostname jgns-test && mount --bind "$0" /etc/passwd && mount --bind "$1" /etc/group &&
		exec sleep 300' "$T/passwd" "$T/group" </dev/null >"$T/unshare.log" 2>&1 &
UNSHARE_PID=$!
jg_track unshare "$UNSHARE_PID"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
	NS_INIT=$(jg_child_pids "$UNSHARE_PID" | head -n1)
	[ -z "$NS_INIT" ] || [ "$(jg_comm "$NS_INIT")" != sleep ] || break
	NS_INIT=
	sleep 0.05
done
if [ -n "$NS_INIT" ] && [ "$(readlink "/proc/$NS_INIT/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
	jg_ok "container: pid $NS_INIT (unshare $UNSHARE_PID) in its own namespaces"
else
	jg_notok "container started by unshare ($(head -c 200 "$T/unshare.log"))"
	jg_done
fi
P=$NS_INIT
getent passwd jgnsonly >/dev/null && jg_log "the host has a jgnsonly account: the user checks prove less"

# run NAME ARGV...: run bounded, stdin /dev/null, into $T/NAME.out/.err; RC.
run() {
	local n=$1
	shift
	RC=0
	timeout 30 "$@" </dev/null >"$T/$n.out" 2>"$T/$n.err" || RC=$?
}

# want NAME CHECK STATUS TEXT: run NAME exited STATUS and printed exactly TEXT.
want() {
	if [ "$RC" = "$3" ] && [ "$(cat "$T/$1.out")" = "$4" ]; then
		jg_ok "$2"
	else
		jg_notok "$2 (status $RC, want $3; out '$(head -c 300 "$T/$1.out" | tr '\n' '|')', want '$(printf %s "$4" | tr '\n' '|')')"
		jg_show "$T/$1.err" 5
	fi
}

# ---------------------------------------------------------------- -- ARGV

run in "$A" --setns=pid:$P -- sh -c 'hostname; echo $$; ip -o link | wc -l; echo $HOME $USER; pwd'
if [ "$RC" = 0 ] && [ "$(sed -n 1p "$T/in.out")" = jgns-test ] &&
	[ "$(sed -n 2p "$T/in.out")" -lt 100 ] && [ "$(sed -n 3p "$T/in.out")" = 1 ] &&
	[ "$(sed -n 4p "$T/in.out")" = "/root root" ] && [ "$(sed -n 5p "$T/in.out")" = /root ]; then
	jg_ok "--setns=pid:N -- ARGV: hostname jgns-test, PID $(sed -n 2p "$T/in.out") of the new PID namespace, only lo, HOME=/root USER=root, in /root"
else
	jg_notok "--setns=pid:N -- ARGV runs inside (status $RC, out '$(tr '\n' '|' <"$T/in.out")')"
	jg_show "$T/in.err" 5
fi
run in2 "$A" --log-level error --setns "$P" -- hostname
want in2 "with --log-level, the '--setns N' spelling and a bare PID" 0 jgns-test

run st "$A" --setns=pid:$P -- sh -c 'exit 7'
want st "the command's exit status comes back (7)" 7 ""
run sig "$A" --setns=pid:$P -- sh -c 'kill -TERM $$'
want sig "killed by SIGTERM: status 143" 143 ""
run noexec "$A" --setns=pid:$P -- /nonexistent-jg-command
if [ "$RC" = 127 ] && grep -q 'cannot run /nonexistent-jg-command' "$T/noexec.err"; then
	jg_ok "a command that does not exist: 127, said on stderr"
else
	jg_notok "a command that does not exist: 127 (status $RC, err '$(head -c 200 "$T/noexec.err")')"
fi

# ---------------------------------------------------------------- users

run u1 "$A" --setns=pid:$P --setns-user=jgnsonly -- sh -c 'id -u; id -g; id -G; echo "$HOME $SHELL $USER $LOGNAME"; pwd'
want u1 "--setns-user from the container's own passwd and group: uid, gid, groups, HOME, SHELL, USER, LOGNAME, cwd" \
	0 $'4242\n4243\n4243 4244\n/tmp /bin/sh jgnsonly jgnsonly\n/tmp'
run u2 "$A" --setns=pid:$P --setns-user=jgnsnohome -- /bin/sh -c 'id -u; pwd'
want u2 "a HOME that does not exist: the working directory is /" 0 $'4245\n/'
run u3 "$A" --setns=pid:$P --setns-user=nobody -- sh -c 'id -un; id -G'
want u3 "--setns-user=nobody: no group of root's left" 0 $'nobody\n65534'
run u4 "$A" --setns=pid:$P --setns-user=nosuchuser-jg -- id
want u4 "an unknown user: the error line" 1 "jumpgate-stub: error setns no user nosuchuser-jg in the container"
run u5 "$A" --setns=pid:$P --setns-user=4711 -- sh -c 'id -u; id -g'
want u5 "a numeric user that is no account: that uid (and gid)" 0 $'4711\n4711'

# ---------------------------------------------------------------- errors

true &
dead=$!
wait "$dead" || true
run e1 "$A" --setns=pid:$dead -- id
want e1 "a dead PID: the error line, status 1" 1 "jumpgate-stub: error setns no process $dead"
run e2 setpriv --reuid=nobody --regid=nogroup --clear-groups "$A" --setns=pid:$P -- id
want e2 "an unprivileged user: the error line, status 1" 1 "jumpgate-stub: error setns not running as root"
run e3 setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$A" --setns=pid:$P -- id
want e3 "root without CAP_SYS_ADMIN: the error line, status 1" 1 "jumpgate-stub: error setns missing CAP_SYS_ADMIN"
# A zombie still has its /proc entry, no longer its namespaces.
sh -c 'sleep 0.1 & exec sleep 20' </dev/null >/dev/null 2>&1 &
zp=$!
jg_track zparent "$zp"
z=
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
	z=$(jg_child_pids "$zp" | head -n1)
	[ -z "$z" ] || [ "$(jg_proc_state "$z")" != Z ] || break
	sleep 0.05
done
run e7 "$A" --setns=pid:$z -- id
want e7 "a zombie: the error line, status 1" 1 "jumpgate-stub: error setns namespace of $z gone"
kill -KILL "$zp" 2>/dev/null || true
wait "$zp" 2>/dev/null || true
jg_untrack zparent
run e4 "$A" --setns=podman:x -- id
want e4 "an unknown kind: the error line" 1 "jumpgate-stub: error setns bad target 'podman:x': expected pid:N, docker:NAME, lxc:NAME or machinectl:NAME"
run e5 "$A" --setns=docker:-rf -- id
want e5 "a container name like an option: refused before any tool runs" 1 "jumpgate-stub: error setns bad container name '-rf'"
run e6 "$A" --setns=pid:$P --askpass-tty -- id
if [ "$RC" = 2 ] && grep -q "bad argument '--askpass-tty'" "$T/e6.err" && [ ! -s "$T/e6.out" ]; then
	jg_ok "two trampoline modes: bad argument, status 2"
else
	jg_notok "two trampoline modes: bad argument, status 2 (status $RC)"
fi

# ---------------------------------------------------------------- a user namespace

# A rootless-style container: its own user namespace (root mapped to root,
# setgroups denied), entered first so that its capabilities cover the rest.
unshare --user --map-root-user --fork --kill-child --pid --mount --uts --net --mount-proc \
	sh -c 'hostname jgns-user && exec sleep 300' </dev/null >"$T/unshare-u.log" 2>&1 &
USERNS_UNSHARE=$!
jg_track unshare-u "$USERNS_UNSHARE"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
	NS_INIT_U=$(jg_child_pids "$USERNS_UNSHARE" | head -n1)
	[ -z "$NS_INIT_U" ] || [ "$(jg_comm "$NS_INIT_U")" != sleep ] || break
	NS_INIT_U=
	sleep 0.05
done
if [ -n "$NS_INIT_U" ]; then
	run un "$A" --setns=pid:$NS_INIT_U -- sh -c 'hostname; id -u; cat /proc/self/setgroups; readlink /proc/self/ns/user'
	want un "a container with its own user namespace (setgroups denied): entered, as root there" 0 \
		"jgns-user
0
deny
$(readlink "/proc/$NS_INIT_U/ns/user")"
	kill -KILL "$NS_INIT_U" 2>/dev/null || true
else
	jg_notok "a container with its own user namespace starts ($(head -c 200 "$T/unshare-u.log"))"
fi

# ---------------------------------------------------------------- container names

# Test doubles of the tools: they check their argv, answer like the real one.
cat >"$T/bin/docker" <<EOF
#!/bin/sh
[ "\$*" = "inspect --format {{.State.Pid}} jgc" ] && { echo $P; exit 0; }
[ "\$*" = "inspect --format {{.State.Pid}} stopped" ] && { echo 0; exit 0; }
echo "Error: No such object: \$4" >&2
exit 1
EOF
cat >"$T/bin/lxc-info" <<EOF
#!/bin/sh
[ "\$*" = "-H -p -n jgc" ] && { echo $P; exit 0; }
echo "\$4 doesn't exist" >&2
exit 1
EOF
cat >"$T/bin/machinectl" <<EOF
#!/bin/sh
[ "\$*" = "show --property Leader --value jgc" ] && { echo $P; exit 0; }
echo "Could not get path to machine: No machine '\$5' known" >&2
exit 1
EOF
cat >"$T/bin/hang" <<EOF
#!/bin/sh
echo \$\$ >"$T/hang.pid"
exec sleep 60
EOF
chmod 755 "$T/bin/docker" "$T/bin/lxc-info" "$T/bin/machinectl" "$T/bin/hang"

for k in docker lxc-info machinectl; do
	kind=${k%-info}
	run "n-$kind" "$A" --setns=$kind:jgc --setns-tool-path="$T/bin/$k" -- hostname
	want "n-$kind" "--setns=$kind:NAME: the PID from $k, then inside" 0 jgns-test
done
run n-path env PATH="$T/bin:$PATH" "$A" --setns=docker:jgc -- hostname
want n-path "without --setns-tool-path the tool comes from PATH" 0 jgns-test
run nf1 "$A" --setns=docker:nosuch --setns-tool-path="$T/bin/docker" -- id
want nf1 "docker fails: its last stderr line is the detail" 1 \
	"jumpgate-stub: error setns docker inspect failed: Error: No such object: nosuch"
run nf2 "$A" --setns=machinectl:nosuch --setns-tool-path="$T/bin/machinectl" -- id
want nf2 "machinectl fails: its last stderr line is the detail" 1 \
	"jumpgate-stub: error setns machinectl show failed: Could not get path to machine: No machine 'nosuch' known"
run nf3 "$A" --setns=docker:stopped --setns-tool-path="$T/bin/docker" -- id
want nf3 "a stopped container (docker says 0)" 1 \
	"jumpgate-stub: error setns docker inspect failed: container stopped is not running"
run nf4 "$A" --setns=lxc:jgc --setns-tool-path="$T/nonexistent" -- id
want nf4 "a tool that is not there" 1 \
	"jumpgate-stub: error setns lxc-info failed: cannot run $T/nonexistent: No such file or directory"
t0=$SECONDS
run nf5 "$A" --setns=docker:jgc --setns-tool-path="$T/bin/hang" -- id
hung=$(cat "$T/hang.pid" 2>/dev/null || echo none)
if [ "$RC" = 1 ] && [ "$(cat "$T/nf5.out")" = "jumpgate-stub: error setns docker inspect failed: no answer within 10 s" ] &&
	[ $((SECONDS - t0)) -le 13 ] && ! kill -0 "$hung" 2>/dev/null; then
	jg_ok "a tool that hangs is killed after 10 s ($((SECONDS - t0)) s), with the error line"
else
	jg_notok "a tool that hangs is killed after 10 s (status $RC after $((SECONDS - t0)) s, out '$(cat "$T/nf5.out")', tool pid $hung)"
	[ "$hung" = none ] || kill -KILL "$hung" 2>/dev/null || true
fi

# ---------------------------------------------------------------- going on as the agent

# stdin is a FIFO the test holds open; stdout a FIFO into head -c 2.
mkfifo "$T/in.fifo" "$T/out.fifo"
timeout 20 head -c 2 <"$T/out.fifo" >"$T/cont.hello" &
jg_track head "$!"
"$A" --setns=pid:$P <"$T/in.fifo" >"$T/out.fifo" 2>"$T/cont.err" &
AP=$!
jg_track agent "$AP"
exec 8>"$T/in.fifo"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && [ "$(stat -c %s "$T/cont.hello" 2>/dev/null || echo 0)" -lt 2 ]; do
	sleep 0.05
done
jg_check "without --, the child speaks as the agent: HELLO magic JG on stdout" \
	[ "$(cat "$T/cont.hello" 2>/dev/null)" = JG ]
C=$(jg_child_pids "$AP" | head -n1)
jg_check "the agent runs in the container's PID namespace (NSpid of $C has two levels)" \
	eval '[ -n "$C" ] && [ "$(awk "/^NSpid:/ { print NF - 1 }" "/proc/$C/status")" = 2 ]'
jg_check "the waiting parent holds neither stdin nor stdout" \
	eval '[ ! -e "/proc/$AP/fd/0" ] && [ ! -e "/proc/$AP/fd/1" ]'
exec 8>&-
if jg_wait_gone "$AP" 10; then
	st=0
	wait "$AP" || st=$?
	jg_untrack agent
	jg_check "stdin closed: the agent and the parent exit, status 0 (got $st)" [ "$st" = 0 ]
	jg_check "the child went first: nothing left of $C" eval '[ -n "$C" ] && ! kill -0 "$C" 2>/dev/null'
else
	jg_notok "stdin closed: the agent and the parent exit within 10 s"
fi

# ---------------------------------------------------------------- signals

"$A" --setns=pid:$P -- sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
	</dev/null >"$T/term.out" 2>"$T/term.err" &
AP=$!
jg_track agent "$AP"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && ! grep -q ready "$T/term.out"; do sleep 0.05; done
kids=$(jg_descendants "$AP" | tr '\n' ' ')
jg_term_wait "$AP" agent
st=$JG_ST
if [ "$st" = 3 ] && [ "$(cat "$T/term.out")" = $'ready\ngot-term' ]; then
	jg_ok "SIGTERM to the parent reaches the command, whose status (3) is the parent's"
else
	jg_notok "SIGTERM to the parent reaches the command (status $st, out '$(tr '\n' '|' <"$T/term.out")')"
fi
left=
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
jg_check "nothing of it left running (was:$kids)" [ -z "$left" ]
jg_check "no process left in the container but its init" [ -z "$(jg_child_pids "$P")" ]

kill -KILL "$P" 2>/dev/null || true
jg_wait_gone "$UNSHARE_PID" 10 || true
jg_done
