#!/bin/bash
# jumpgate run -b as clush -b (issue 17): identical outputs under a host list
# folded in nodeset notation (n[01-12], zero-padding kept; web[1-3,7]), stderr
# kept apart (prefixed lines on our stderr) and gathered with -B; a line on a
# terminal saying who is still pending while the output is held back (and
# nothing of it when stderr is not a terminal); and the exit status bits: 1
# some command failed, 4 some target unreachable, 8 some target denied.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require script

t=
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do t="$t{ name = \"n$i\"; method = \"local\"; },"; done
for i in 1 2 3 7; do t="$t{ name = \"web$i\"; method = \"local\"; },"; done
JG_CONF_EXTRA="targets = ( $t { name = \"deny1\"; method = \"local\"; } );
policy = ( { name = \"no-deny1\"; targets = [ \"deny1\" ]; actions = [ \"exec\" ]; allow = false; },
  { name = \"tests\"; allow = true; } );"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"
dead='ssh:nobody@127.0.0.1:1'
all12=n01,n02,n03,n04,n05,n06,n07,n08,n09,n10,n11,n12

# run NAME CLI-ARGS...: stdout in $JG_T/NAME.out, stderr in .err, status in RC.
run() {
	local n=$1
	shift
	if jg_cli "$@" </dev/null >"$JG_T/$n.out" 2>"$JG_T/$n.err"; then RC=0; else RC=$?; fi
}

run f1 run -b "$all12,web1,web2,web3,web7" -- echo same
if [ $RC = 0 ] && grep -qx 'n\[01-12\],web\[1-3,7\] (16)' "$JG_T/f1.out" &&
	[ "$(grep -cx same "$JG_T/f1.out")" = 1 ]; then
	jg_ok "-b: 16 targets with one output under 'n[01-12],web[1-3,7] (16)'"
else
	jg_notok "-b: folded host list (rc $RC)"
	jg_show "$JG_T/f1.out" 6
fi

run f2 run -b "$all12" -- sh -c 'echo out; echo "err" >&2; exit 0'
if [ $RC = 0 ] && grep -qx 'n\[01-12\] (12)' "$JG_T/f2.out" && ! grep -q err "$JG_T/f2.out" &&
	[ "$(grep -cE '^n(0[1-9]|1[0-2]): err$' "$JG_T/f2.err")" = 12 ]; then
	jg_ok "-b keeps stderr apart: gathered stdout only, each stderr line prefixed on stderr"
else
	jg_notok "-b keeps stderr apart (rc $RC)"
	jg_show "$JG_T/f2.out" 6
	jg_show "$JG_T/f2.err" 6
fi
run f3 run -B "$all12" -- sh -c 'echo out; echo err >&2'
if [ $RC = 0 ] && grep -qx 'n\[01-12\] (12)' "$JG_T/f3.out" && grep -qx err "$JG_T/f3.out" &&
	grep -qx out "$JG_T/f3.out" && ! grep -q ': err$' "$JG_T/f3.err"; then
	jg_ok "-B gathers stderr with stdout"
else
	jg_notok "-B gathers stderr with stdout (rc $RC)"
	jg_show "$JG_T/f3.out" 6
fi

# ---------------------------------------------------------------- exit status bits

run e1 run -b n01,n02 -- sh -c 'exit 3'
[ $RC = 1 ] && jg_ok "a command failed everywhere: exit 1" || jg_notok "a command failed: exit 1 (rc $RC)"
run e2 run -b "n01,$dead" -- true
[ $RC = 4 ] && grep -q "^jumpgate: unreachable: $dead: " "$JG_T/e2.err" &&
	jg_ok "a target unreachable, the other ok: exit 4" || jg_notok "unreachable: exit 4 (rc $RC)"
run e3 run -b "n01,$dead" -- false
[ $RC = 5 ] && jg_ok "failed and unreachable: exit 5" || jg_notok "failed and unreachable: exit 5 (rc $RC)"
run e4 run -b n01,deny1 -- true
[ $RC = 8 ] && jg_ok "a target denied: exit 8" || jg_notok "denied: exit 8 (rc $RC)"
run e5 run -b n01,n02 -- true
[ $RC = 0 ] && jg_ok "all ok: exit 0" || jg_notok "all ok: exit 0 (rc $RC)"

# ---------------------------------------------------------------- progress

# A terminal: script(1) gives the CLI one; the sleeping targets keep the run waiting.
timeout 60 script -qec "$(printf '%q ' "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" \
	run -b "n01,$dead,n02" -- sh -c "sleep 1.5; echo done") 2>&1" /dev/null </dev/null >"$JG_T/tty.out" 2>&1 || true
if grep -aq 'jumpgate: run: [0-9]/3 done, waiting for ' "$JG_T/tty.out" &&
	grep -aq 'n\[01-02\] (2)' "$JG_T/tty.out"; then
	jg_ok "on a terminal, a line says who is pending while -b holds the output ($(grep -ao 'jumpgate: run: [0-9]/3 done, waiting for [^[:cntrl:]]*' "$JG_T/tty.out" | head -n1))"
else
	jg_notok "on a terminal, the pending line"
	jg_show "$JG_T/tty.out" 10
fi
run p2 run -b n01,n02 -- sleep 1
if [ $RC = 0 ] && ! grep -q 'waiting for' "$JG_T/p2.err" && ! grep -q $'\r' "$JG_T/p2.err"; then
	jg_ok "stderr not a terminal: no pending line, no carriage returns"
else
	jg_notok "no pending line off a terminal (rc $RC)"
	jg_show "$JG_T/p2.err" 5
fi
jg_done
