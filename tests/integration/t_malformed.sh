#!/bin/bash
# Malformed exec request bodies get a 400 with a JSON reason naming the
# offending bytes, while another exec stream on the same gateway carries on
# and finishes normally, and the gateway keeps serving.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

# A long-running exec, alive through all of what follows.
(set +e; jg_exec sh -c 'sleep 3; echo done' </dev/null >"$JG_T/long.out" 2>"$JG_T/long.err"; echo $? >"$JG_T/long.rc") &
jg_track long $!
if jg_wait_descendant "$JG_GW_PID" sleep 20; then
	jg_ok "long-running exec (sleep 3) started"
else
	jg_notok "long-running exec (sleep 3) started"
fi

# post NAME FILE: POST FILE as an exec body; status in $code, body in $JG_T/NAME.body.
post() {
	code=$(jg_curl /v1/targets/local/exec -X POST \
		-H 'content-type: application/x-jumpgate-frames' --data-binary "@$2" \
		-D "$JG_T/$1.hdr" -o "$JG_T/$1.body" -w '%{http_code}' 2>"$JG_T/$1.err") || true
}

# is_json_error FILE: {"error": ..., "reason": ...}
is_json_error() {
	grep -q '"error"' "$1" && grep -q '"reason"' "$1"
}

# expect400 NAME FILE WORD WHAT: 400, JSON error, reason containing WORD.
expect400() {
	local name=$1 file=$2 word=$3 what=$4
	post "$name" "$file"
	if [ "$code" = 400 ] && is_json_error "$JG_T/$name.body" && grep -qiE -- "$word" "$JG_T/$name.body"; then
		jg_ok "$what: 400, $(head -c 300 "$JG_T/$name.body")"
	else
		jg_notok "$what: 400 with a JSON reason mentioning '$word' (got $code: $(head -c 300 "$JG_T/$name.body"))"
		jg_show "$JG_T/$name.err" 3
	fi
	if [ "$code" = 400 ] && ! grep -qi '^content-type: application/json' "$JG_T/$name.hdr"; then
		jg_notok "$what: content-type application/json"
	fi
}

# Bad magic: "AB" where "JG" belongs.
{ printf 'AB'; head -c 30 /dev/zero; } >"$JG_T/badmagic"
expect400 badmagic "$JG_T/badmagic" magic "bad magic"

# Unknown frame type 0x63.
{ printf '\x4a\x47\x63\x00'; jg_be32 0; jg_be32 0; jg_be32 0; } >"$JG_T/badtype"
expect400 badtype "$JG_T/badtype" type "unknown frame type"

# A length over the limit (1 MiB > 32 KiB).
{ printf '\x4a\x47\x05\x00'; jg_be32 0; jg_be32 1048576; jg_be32 0; head -c 100 /dev/zero; } >"$JG_T/toobig"
expect400 toobig "$JG_T/toobig" "length|limit|large|big|size" "oversize length"

# First frame not an OPEN.
echo data >"$JG_T/payload"
{ jg_frame 5 0 0 "$JG_T/payload"; jg_frame 6 0 0; } >"$JG_T/noopen"
expect400 noopen "$JG_T/noopen" "OPEN" "DATA before OPEN"

# Truncated: a header announcing 13 payload bytes, then the body ends.
jg_open_exec echo hi | head -c 20 >"$JG_T/trunc"
expect400 trunc "$JG_T/trunc" "trunc|incomplete|short|partial|end" "truncated OPEN"

# OPEN whose ARGV string lacks its NUL.
{
	printf '\x01'
	jg_be32 4
	printf 'echo'
} >"$JG_T/argv.payload"
jg_frame 2 0 1 "$JG_T/argv.payload" >"$JG_T/badargv"
jg_frame 6 0 0 >>"$JG_T/badargv"
expect400 badargv "$JG_T/badargv" "ARGV|NUL" "ARGV not NUL-terminated"

# Garbage after a valid OPEN: either refused up front (400) or, if 200 went
# out, the stream ends with DEAD naming the bad magic instead of EXIT.
{ jg_open_exec cat; printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'; } >"$JG_T/late"
post late "$JG_T/late"
if [ "$code" = 400 ] && grep -qi magic "$JG_T/late.body"; then
	jg_ok "garbage after OPEN: 400, $(head -c 200 "$JG_T/late.body")"
elif [ "$code" = 200 ]; then
	last=$(jg_frames_list "$JG_T/late.body" | tail -n1)
	case $last in
	DEAD*) jg_ok "garbage after OPEN: stream ends with DEAD ($last)" ;;
	*) jg_notok "garbage after OPEN: stream ends with DEAD (last frame: $last)" ;;
	esac
else
	jg_notok "garbage after OPEN: 400 or DEAD (got $code: $(head -c 200 "$JG_T/late.body"))"
fi

# Unknown target: 404 with a JSON reason naming it.  The gateway may answer
# from the headers alone, before the body; curl 7.88 then reports the
# RST_STREAM(NO_ERROR) that ends the upload (RFC 9113 8.1) as error 92, so
# this request has no body.
code=$(jg_curl /v1/targets/nosuch:target-9/exec -X POST -H 'content-type: application/x-jumpgate-frames' \
	-o "$JG_T/nf.body" -w '%{http_code}' 2>"$JG_T/nf.err") || true
touch "$JG_T/nf.body"
if [ "$code" = 400 ] && is_json_error "$JG_T/nf.body" && grep -q 'unknown method' "$JG_T/nf.body"; then
	jg_ok "unknown method in the target: 400, $(head -c 200 "$JG_T/nf.body")"
else
	jg_notok "unknown method in the target: 400 with a JSON reason (got $code: $(head -c 200 "$JG_T/nf.body"))"
fi

# A well-formed body through curl works (the same route, for contrast).
jg_open_exec echo via-curl >"$JG_T/good"
jg_frame 6 0 0 >>"$JG_T/good"
post good "$JG_T/good"
frames=$(jg_frames_list "$JG_T/good.body" 2>/dev/null || true)
if [ "$code" = 200 ] && printf '%s\n' "$frames" | grep -q "^DATA flags=0 .*payload=$(jg_hex 'via-curl
')\$" && printf '%s\n' "$frames" | tail -n1 | grep -q '^EXIT flags=0 .* aux=0 '; then
	jg_ok "well-formed body via curl: 200, DATA then EXIT 0"
else
	jg_notok "well-formed body via curl: 200, DATA then EXIT 0 (got $code)"
	printf '%s\n' "$frames" | head -n 10 | sed 's/^/#   /'
fi

# The long exec was not disturbed.
pid=$(cat "$JG_T/pids/long.pid")
jg_wait_gone "$pid" 30 || true
wait "$pid" 2>/dev/null || true
jg_untrack long
if [ "$(cat "$JG_T/long.rc" 2>/dev/null)" = 0 ] && [ "$(cat "$JG_T/long.out")" = done ]; then
	jg_ok "the long-running exec finished normally (exit 0, output 'done')"
else
	jg_notok "the long-running exec finished normally (exit $(cat "$JG_T/long.rc" 2>/dev/null), output '$(cat "$JG_T/long.out")')"
	jg_show "$JG_T/long.err" 5
fi

# --- log forgery: a newline and ESC in an accepted path and in a failed argv[0] ----------
# The gateway log escapes them (relay/log.c): no forged line, no escape sequence.
forged=$'\njumpgated[1]: info: FORGED-LINE \e[31m'
mkdir -p "$JG_T/forge"
printf 'x' >"$JG_T/forge.txt"
code=$(jg_curl "/v1/targets/local/files$JG_T/forge/$(urlenc "a${forged}")" -T "$JG_T/forge.txt" \
	-o /dev/null -w '%{http_code}' 2>/dev/null) || true
# A program that is not found exits 127 with "cannot run NAME" on its own stderr (the
# client's, as ssh would show it), not in the gateway's log: there it must forge nothing.
set +e
jg_exec "no-such-program${forged}" </dev/null >/dev/null 2>&1
nrc=$?
set -e
sleep 0.5
if ! grep -q '^jumpgated\[1\]: info: FORGED-LINE' "$JG_GW_LOG" && ! grep -q $'\e' "$JG_GW_LOG" &&
	grep -q 'put .*/forge/a\\njumpgated\[1\]: info: FORGED-LINE \\x1b\[31m on local' "$JG_GW_LOG" &&
	[ "$nrc" = 127 ]; then
	jg_ok "a newline and ESC in a path (put: $code) escaped in the log; a failed argv[0] with them (exit $nrc): no forged line"
else
	jg_notok "a newline and ESC in a path (put: $code) escaped in the log, a failed argv[0] (exit $nrc): no forged line"
	grep -a 'FORGED' "$JG_GW_LOG" | cat -v | head -5 | while IFS= read -r l; do jg_log "$l"; done
fi

# --- an error reason holding bytes that are not UTF-8 is still JSON (relay/json.c) -------
# The file's name is echoed in the reason; JSON strings are text, so the byte becomes U+FFFD.
code=$(jg_curl "/v1/targets/local/files$JG_T/nonexist%FFname" -o "$JG_T/nonutf8.body" \
	-w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 404 ] && python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read())
sys.exit(0 if d["error"] and "nonexist\ufffdname" in d["reason"] else 1)' "$JG_T/nonutf8.body" 2>/dev/null; then
	jg_ok "a reason with a byte that is not UTF-8 (404): valid JSON, the byte as U+FFFD"
else
	jg_notok "a reason with a byte that is not UTF-8: valid JSON (got $code: $(head -c 200 "$JG_T/nonutf8.body" | od -c | head -3))"
fi

if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if out=$(jg_exec echo after </dev/null 2>/dev/null) && [ "$out" = after ]; then
	jg_ok "gateway still runs execs"
else
	jg_notok "gateway still runs execs"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
