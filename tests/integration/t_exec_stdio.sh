#!/bin/bash
# jumpgate exec local carries stdin, stdout, stderr and the exit status
# faithfully: 64 MiB each way checked by sha256, stderr apart from stdout,
# exit codes and death by signal mirrored, a missing program named.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

big=$JG_T/big
head -c 67108864 /dev/urandom >"$big"
want=$(jg_sha256 "$big")

# 64 MiB of stdout.
start=$(date +%s%N)
if jg_exec cat "$big" </dev/null 2>"$JG_T/out.err" | sha256sum >"$JG_T/out.sum"; then rc=0; else rc=$?; fi
ms=$((($(date +%s%N) - start) / 1000000))
got=$(cut -d' ' -f1 <"$JG_T/out.sum")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	jg_ok "64 MiB of stdout, sha256 equal (${ms} ms)"
else
	jg_notok "64 MiB of stdout, sha256 equal (exit $rc, got $got)"
	jg_show "$JG_T/out.err" 5
fi

# 64 MiB of stdin, echoed back by cat.
start=$(date +%s%N)
if jg_exec cat <"$big" 2>"$JG_T/in.err" | sha256sum >"$JG_T/in.sum"; then rc=0; else rc=$?; fi
ms=$((($(date +%s%N) - start) / 1000000))
got=$(cut -d' ' -f1 <"$JG_T/in.sum")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	jg_ok "64 MiB of stdin echoed by cat, sha256 equal (${ms} ms)"
else
	jg_notok "64 MiB of stdin echoed by cat, sha256 equal (exit $rc, got $got)"
	jg_show "$JG_T/in.err" 5
fi

# Stdin's end reaches the program: wc sees every byte, then EOF.
if out=$(printf 'a\nb\nc\n' | jg_exec wc -l 2>"$JG_T/wc.err") && [ "$(echo $out)" = 3 ]; then
	jg_ok "stdin EOF delivered (wc -l counts 3)"
else
	jg_notok "stdin EOF delivered (wc -l said '${out:-}')"
	jg_show "$JG_T/wc.err" 5
fi

# Stderr apart from stdout.
if jg_exec sh -c 'echo out; echo err >&2' >"$JG_T/s.out" 2>"$JG_T/s.err" </dev/null &&
	[ "$(cat "$JG_T/s.out")" = out ] && [ "$(cat "$JG_T/s.err")" = err ]; then
	jg_ok "stderr kept apart from stdout"
else
	jg_notok "stderr kept apart from stdout (stdout '$(head -c 200 "$JG_T/s.out")', stderr '$(head -c 200 "$JG_T/s.err")')"
fi

# Both output streams busy at once: 8 MiB each, neither blocks the other.
head -c 8388608 "$big" >"$JG_T/eight"
want8=$(jg_sha256 "$JG_T/eight")
if jg_exec sh -c 'cat "$1" >&2 & cat "$1"; wait' sh "$JG_T/eight" \
	>"$JG_T/b.out" 2>"$JG_T/b.err" </dev/null &&
	[ "$(jg_sha256 "$JG_T/b.out")" = "$want8" ] && [ "$(jg_sha256 "$JG_T/b.err")" = "$want8" ]; then
	jg_ok "8 MiB on stdout and 8 MiB on stderr at once, both intact"
else
	jg_notok "8 MiB on stdout and 8 MiB on stderr at once, both intact ($(stat -c %s "$JG_T/b.out") / $(stat -c %s "$JG_T/b.err") bytes)"
fi

# Exit codes mirrored.
for code in 0 1 3 42 255; do
	if jg_exec sh -c "exit $code" </dev/null 2>"$JG_T/x.err"; then rc=0; else rc=$?; fi
	if [ "$rc" = "$code" ] && [ ! -s "$JG_T/x.err" ]; then
		jg_ok "exit code $code mirrored"
	else
		jg_notok "exit code $code mirrored (got $rc)"
		jg_show "$JG_T/x.err" 5
	fi
done

# Death by signal: 128 + N.
for sig in 9:KILL 15:TERM; do
	n=${sig%%:*}
	if jg_exec sh -c "kill -$n \$\$" </dev/null 2>"$JG_T/k.err"; then rc=0; else rc=$?; fi
	if [ "$rc" = $((128 + n)) ]; then
		jg_ok "death by SIG${sig#*:} gives $((128 + n))"
	else
		jg_notok "death by SIG${sig#*:} gives $((128 + n)) (got $rc)"
		jg_show "$JG_T/k.err" 5
	fi
done

# A program that does not exist: 127 as under ssh (t_exec_status.sh) and a message naming it.
if jg_exec jg-no-such-program-42 </dev/null >"$JG_T/n.out" 2>"$JG_T/n.err"; then rc=0; else rc=$?; fi
if [ "$rc" = 127 ] && grep -q 'jg-no-such-program-42' "$JG_T/n.err"; then
	jg_ok "nonexistent program: exit 127, message names it ($(head -n1 "$JG_T/n.err"))"
else
	jg_notok "nonexistent program: exit 127, message names it (got $rc: $(head -c 300 "$JG_T/n.err"))"
fi
if [ "$(wc -l <"$JG_T/n.err")" -le 1 ]; then
	jg_ok "nonexistent program: one line on stderr"
else
	jg_notok "nonexistent program: one line on stderr ($(wc -l <"$JG_T/n.err") lines)"
fi

# Unknown method: 255 and a message naming it (refused before anything is spawned).
if jg_cli exec nosuchmethod:x -- true </dev/null >/dev/null 2>"$JG_T/t.err"; then rc=0; else rc=$?; fi
if [ "$rc" = 255 ] && grep -q 'unknown method "nosuchmethod"' "$JG_T/t.err"; then
	jg_ok "unknown method: exit 255, message names it ($(head -n1 "$JG_T/t.err"))"
else
	jg_notok "unknown method: exit 255, message names it (got $rc: $(head -c 300 "$JG_T/t.err"))"
fi

# A target nobody answers for (a closed loopback port): 255 and ssh's reason.
if JG_TIMEOUT=30 jg_cli exec ssh:nobody@127.0.0.1:1 -- true </dev/null >/dev/null 2>"$JG_T/r.err"; then rc=0; else rc=$?; fi
if [ "$rc" = 255 ] && grep -q 'connection refused' "$JG_T/r.err"; then
	jg_ok "closed port: exit 255, reason given ($(head -n1 "$JG_T/r.err"))"
else
	jg_notok "closed port: exit 255 with 'connection refused' (got $rc: $(head -c 300 "$JG_T/r.err"))"
fi

# -e adds to the target's environment (PATH stays), as ssh's SetEnv does.
if out=$(jg_cli exec -e FOO=bar local -- sh -c 'echo "$FOO:${PATH:+has-path}"' </dev/null 2>"$JG_T/env.err") &&
	[ "$out" = "bar:has-path" ]; then
	jg_ok "-e adds a variable and keeps PATH ($out)"
else
	jg_notok "-e adds a variable and keeps PATH (got '$out': $(head -c 200 "$JG_T/env.err"))"
fi

# Arguments reach the program unchanged (spaces, quotes, empty, non-ASCII).
if out=$(jg_exec printf '[%s]' 'a b' '' "it's" 'é' '$HOME' </dev/null 2>"$JG_T/a.err") &&
	[ "$out" = "[a b][][it's][é][\$HOME]" ]; then
	jg_ok "argv passed verbatim"
else
	jg_notok "argv passed verbatim (got '${out:-}')"
	jg_show "$JG_T/a.err" 5
fi

# SIGTERM to the client reaches the program: the client exits 143 and
# nothing is left running on the gateway side.
"$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" \
	exec local -- sleep 30 </dev/null >/dev/null 2>"$JG_T/term.err" &
cli=$!
jg_track term "$cli"
if jg_wait_descendant "$JG_GW_PID" sleep 20; then
	kill -TERM "$cli"
	if jg_wait_gone "$cli" 10; then
		rc=0
		wait "$cli" 2>/dev/null || rc=$?
		left=
		deadline=$((SECONDS + 5))
		while :; do
			left=
			for d in $(jg_descendants "$JG_GW_PID"); do
				[ "$(jg_comm "$d")" != sleep ] || left="$left $d"
			done
			[ -n "$left" ] && [ $SECONDS -lt $deadline ] || break
			sleep 0.1
		done
		if [ "$rc" = 143 ] && [ -z "$left" ]; then
			jg_ok "SIGTERM to the client: exit 143, the remote program is gone"
		else
			jg_notok "SIGTERM to the client: exit 143, the remote program is gone (exit $rc, left:${left:- none})"
			jg_show "$JG_T/term.err" 3
		fi
	else
		jg_notok "SIGTERM to the client: it exits within 10 s"
		kill -KILL "$cli" 2>/dev/null || true
		wait "$cli" 2>/dev/null || true
	fi
else
	jg_notok "SIGTERM to the client: the remote sleep started"
	kill -KILL "$cli" 2>/dev/null || true
	wait "$cli" 2>/dev/null || true
fi
jg_untrack term

# exec -t: on a terminal (script(1) gives the client one), the program runs
# on a pseudo-terminal and its exit status still comes back.
if command -v script >/dev/null 2>&1; then
	cmd="'$JUMPGATE' -g 127.0.0.1:$JG_PORT --cert '$JG_CERT' --key '$JG_KEY' --ca '$JG_CA'"
	cmd="$cmd exec -t local -- sh -c 'test -t 0 && test -t 1 && echo on-a-tty; exit 4'"
	if timeout 60 script -qec "$cmd" /dev/null </dev/null >"$JG_T/pty.out" 2>&1; then rc=0; else rc=$?; fi
	if [ "$rc" = 4 ] && grep -q on-a-tty "$JG_T/pty.out"; then
		jg_ok "exec -t runs the program on a pseudo-terminal, exit 4 mirrored"
	else
		jg_notok "exec -t runs the program on a pseudo-terminal (exit $rc: $(head -c 200 "$JG_T/pty.out" | tr '\r\n' '  '))"
	fi
else
	jg_ok "# SKIP exec -t: script(1) not installed"
fi

# The program starts with default signal dispositions and nothing blocked,
# though this jumpgated, started with & by a script, ignores SIGQUIT (and
# make may pass down ignored signals 32 and 33, which glibc reserves and no
# process can reset: those two bits are masked).
if out=$(jg_exec grep -E '^Sig(Ign|Blk)' /proc/self/status </dev/null 2>"$JG_T/sig.err"); then
	ign=$(printf '%s\n' "$out" | awk '/^SigIgn/ { print $2 }')
	blk=$(printf '%s\n' "$out" | awk '/^SigBlk/ { print $2 }')
	if [ $((0x$ign & ~0x180000000)) = 0 ] && [ $((0x$blk & ~0x180000000)) = 0 ]; then
		jg_ok "program starts with default signals (SigIgn $ign, SigBlk $blk; gateway's SigIgn $(awk '/^SigIgn/ { print $2 }' "/proc/$JG_GW_PID/status"))"
	else
		jg_notok "program starts with default signals (SigIgn $ign, SigBlk $blk)"
	fi
else
	jg_notok "program starts with default signals (exec failed)"
	jg_show "$JG_T/sig.err" 3
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
