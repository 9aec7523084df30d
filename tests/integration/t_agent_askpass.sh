#!/bin/bash
# jumpgate-agent --askpass-tty (docs/methods.md, "The agent's trampoline
# modes"), run directly, no gateway, with small sh programs that ask on
# /dev/tty, and with the real doas when it is installed:
#   - the password line reaches the program through its terminal, and the
#     bytes after that line reach it on stdin: never a byte too many read;
#   - stdin and stdout stay the files they were, /dev/tty is a terminal of
#     the program's own session; other terminal output goes to stderr, the
#     prompt does not;
#   - a prompt in pieces, and "passphrase", are recognised;
#   - a second prompt: the error line "... asked for the password again: it
#     was refused", status 1, the program stopped and reaped;
#   - no password line (EOF, or more than 1 KiB): the error line, status 1;
#   - the program's status comes back (a code, 128 + a signal, 127 when it
#     does not exist); SIGTERM to the agent reaches it;
#   - without `--` the child goes on as the agent (HELLO on stdout);
#   - doas (root only: the accounts jgx1 and jgx2 of users.sh, rule
#     "permit jgx1 as jgx2"): jgx1 becomes jgx2 with pw-jgx1; a wrong
#     password fails with doas's "Authentication failed" on stderr.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require mkfifo

T=$JG_T
chmod 711 "$T"
mkdir -m 755 "$T/bin"
cp "$JUMPGATE_AGENT" "$T/bin/jumpgate-agent"
A=$T/bin/jumpgate-agent

# run NAME INPUT ARGV...: run bounded with INPUT (printf %b) on stdin, into
# $T/NAME.out/.err; RC.
run() {
	local n=$1 in=$2
	shift 2
	RC=0
	printf '%b' "$in" >"$T/$n.in"
	timeout 30 "$@" <"$T/$n.in" >"$T/$n.out" 2>"$T/$n.err" || RC=$?
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

# Programs that ask on their terminal as doas and sudo do.
cat >"$T/bin/ask1" <<'EOF'
#!/bin/sh
printf 'Password: ' >/dev/tty
read -r p </dev/tty
echo "got:$p"
echo 'a line on the terminal' >/dev/tty
read -r rest
echo "rest:$rest"
EOF
cat >"$T/bin/ask2" <<EOF
#!/bin/sh
echo \$\$ >"$T/ask2.pid"
printf 'Password: ' >/dev/tty
read -r p </dev/tty
echo "got:\$p"
printf 'Sorry, try again.\n[sudo] password for x: ' >/dev/tty
read -r p </dev/tty
echo "got again:\$p"
EOF
cat >"$T/bin/askslow" <<'EOF'
#!/bin/sh
printf 'Enter pass' >/dev/tty
sleep 0.3
printf 'phrase for key /k:  ' >/dev/tty
read -r p </dev/tty
echo "got:$p"
EOF
cat >"$T/bin/stdio" <<'EOF'
#!/bin/sh
[ -t 0 ] && echo "stdin is a terminal"
[ -t 1 ] && echo "stdout is a terminal"
[ -t 2 ] && echo "stderr is a terminal"
: </dev/tty && echo "has a terminal"
[ "$(cut -d' ' -f6 /proc/$$/stat)" = $$ ] && echo "session leader"
readlink /proc/self/fd/0 /proc/self/fd/1
EOF
chmod 755 "$T/bin/ask1" "$T/bin/ask2" "$T/bin/askslow" "$T/bin/stdio"

# ---------------------------------------------------------------- answering

run a1 's3cr et\nline two\n' "$A" --askpass-tty -- "$T/bin/ask1"
want a1 "the password reaches the program on its terminal, the next line on stdin" 0 \
	$'got:s3cr et\nrest:line two'
jg_check "other terminal output goes to stderr, not the prompt" \
	eval '[ "$(cat "$T/a1.err")" = "a line on the terminal" ]'
run a2 'pw\n' "$A" --askpass-tty -- "$T/bin/stdio"
want a2 "stdin and stdout stay what they were; /dev/tty is the program's own session's terminal" 0 \
	"has a terminal
session leader
$T/a2.in
$T/a2.out"
run a3 'pp\n' "$A" --log-level debug --askpass-tty -- "$T/bin/askslow"
want a3 "a prompt in two pieces, 'passphrase', trailing spaces: answered (with --log-level)" 0 'got:pp'
run a4 'p\n' "$A" --askpass-tty -- sh -c 'exit 7'
want a4 "no prompt at all: the program's status (7) comes back" 7 ""
run a5 'p\n' "$A" --askpass-tty -- sh -c 'kill -KILL $$'
want a5 "killed by SIGKILL: status 137" 137 ""
run a6 'p\n' "$A" --askpass-tty -- /nonexistent-jg-command
if [ "$RC" = 127 ] && grep -q 'cannot run /nonexistent-jg-command' "$T/a6.err"; then
	jg_ok "a program that does not exist: 127, said on stderr"
else
	jg_notok "a program that does not exist: 127 (status $RC, err '$(head -c 200 "$T/a6.err")')"
fi

# Without --, the child goes on as the agent: HELLO, then stdin's EOF ends it.
st=0
hello=$( (printf 'pw\n'; sleep 1) | timeout 10 "$A" --askpass-tty 2>"$T/c.err" | head -c 2) ||
	st=$?
jg_check "without --, the child speaks as the agent: HELLO magic JG, status 0 at stdin's EOF" \
	eval '[ "$hello" = JG ] && [ "$st" = 0 ]'

# ---------------------------------------------------------------- refusals

run r1 'wrong\nnext\n' "$A" --askpass-tty -- "$T/bin/ask2"
want r1 "a second prompt: the error line, status 1" 1 \
	$'got:wrong\njumpgate-stub: error password ask2 asked for the password again: it was refused'
pid=$(cat "$T/ask2.pid" 2>/dev/null || echo 0)
jg_check "the program asking again is stopped and gone" eval '[ "$pid" != 0 ] && ! kill -0 "$pid" 2>/dev/null'
jg_check "'Sorry, try again.' went to stderr" grep -q '^Sorry, try again\.$' "$T/r1.err"
run r2 'no newline' "$A" --askpass-tty -- "$T/bin/ask1"
want r2 "stdin ends before a line: the error line, status 1" 1 \
	"jumpgate-stub: error password no password line on standard input"
run r3 "$(head -c 1025 /dev/zero | tr '\0' x)\n" "$A" --askpass-tty -- "$T/bin/ask1"
want r3 "a password line over 1 KiB: the error line, status 1" 1 \
	"jumpgate-stub: error password the password line is longer than 1024 bytes"
run r4 "$(head -c 1024 /dev/zero | tr '\0' x)\n" "$A" --askpass-tty -- "$T/bin/ask1"
want r4 "a password of exactly 1 KiB is taken" 0 "got:$(head -c 1024 /dev/zero | tr '\0' x)"$'\nrest:'
run r5 '' "$A" --askpass-tty --askpass-tty -- true
if [ "$RC" = 2 ] && grep -q "bad argument '--askpass-tty'" "$T/r5.err"; then
	jg_ok "--askpass-tty twice: bad argument, status 2"
else
	jg_notok "--askpass-tty twice: bad argument, status 2 (status $RC)"
fi

# ---------------------------------------------------------------- signals

mkfifo "$T/in.fifo"
"$A" --askpass-tty -- sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
	<"$T/in.fifo" >"$T/term.out" 2>"$T/term.err" &
AP=$!
jg_track agent "$AP"
exec 8>"$T/in.fifo"
printf 'pw\n' >&8
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && ! grep -q ready "$T/term.out"; do sleep 0.05; done
kids=$(jg_descendants "$AP" | tr '\n' ' ')
jg_term_wait "$AP" agent
st=$JG_ST
exec 8>&-
if [ "$st" = 3 ] && [ "$(cat "$T/term.out")" = $'ready\ngot-term' ]; then
	jg_ok "SIGTERM to the agent reaches the program, whose status (3) is the agent's"
else
	jg_notok "SIGTERM to the agent reaches the program (status $st, out '$(tr '\n' '|' <"$T/term.out")')"
fi
left=
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
jg_check "nothing of it left running (was:$kids)" [ -z "$left" ]

# ---------------------------------------------------------------- doas

if [ "$(id -u)" != 0 ] || ! command -v doas >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then
	jg_ok "# SKIP doas: needs root, doas and runuser"
	jg_done
fi
. "$(dirname "$0")/users.sh"
if ! jg_users_setup; then
	jg_notok "fixture users.sh: users jgx1, jgx2 and $JG_USERS_DOAS_CONF"
	jg_done
fi
run d1 'pw-jgx1\n' runuser -u jgx1 -- "$A" --askpass-tty -- doas -u jgx2 -- id -un
want d1 "doas as jgx1 with pw-jgx1 on the terminal: jgx2" 0 jgx2
run d2 'pw-jgx1\nthrough doas\n' runuser -u jgx1 -- "$A" --askpass-tty -- doas -u jgx2 -- sh -c 'cat; id -un'
want d2 "through doas, stdin after the password line reaches the command" 0 $'through doas\njgx2'
run d3 'bad-secret-doas\n' runuser -u jgx1 -- "$A" --askpass-tty -- doas -u jgx2 -- id -un
if [ "$RC" = 1 ] && [ ! -s "$T/d3.out" ] && grep -q 'Authentication failed' "$T/d3.err" &&
	! grep -q bad-secret-doas "$T/d3.err"; then
	jg_ok "doas with a wrong password: status 1, '$(head -n1 "$T/d3.err")' on stderr, no password echoed"
else
	jg_notok "doas with a wrong password fails (status $RC, out '$(head -c 100 "$T/d3.out")', err '$(head -c 200 "$T/d3.err" | tr '\n' '|')')"
fi
jg_done
