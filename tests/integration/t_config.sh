#!/bin/bash
# A bad configuration stops jumpgated at once (non-zero exit, nothing
# served) with a message naming the file and the line.
. "$(dirname "$0")/lib.sh"
jg_setup

# bad NAME LINE WORDS CONTENT: jumpgated -c must fail, naming FILE:LINE.
bad() {
	local name=$1 line=$2 words=$3 content=$4 f=$JG_T/$1.conf rc
	printf '%s\n' "$content" >"$f"
	set +e
	timeout 20 "$JUMPGATED" -f -c "$f" </dev/null >"$JG_T/$name.out" 2>"$JG_T/$name.err"
	rc=$?
	set -e
	if [ $rc != 0 ] && [ $rc != 124 ] && grep -q "$name.conf:$line" "$JG_T/$name.err" &&
		grep -qiE "$words" "$JG_T/$name.err"; then
		jg_ok "$name: exit $rc, '$(grep -m1 "$name.conf:$line" "$JG_T/$name.err")'"
	else
		jg_notok "$name: non-zero exit and a message naming $name.conf:$line (exit $rc)"
		jg_show "$JG_T/$name.err" 5
	fi
}

p1=$(jg_free_port)
bad syntax 3 'syntax|parse|expect' "# line 1
listen = \"127.0.0.1:$p1\";
state_dir = = \"$JG_T/s\";
log_level = \"info\";"
bad badlisten 2 'listen' "state_dir = \"$JG_T/s\";
listen = \"not an address\";"
bad badport 1 'listen|port' "listen = \"127.0.0.1:99999\";"
bad badlevel 2 'log_level|level' "listen = \"127.0.0.1:$p1\";
log_level = \"chatty\";"
bad unknownkey 3 'unknown|frobnicate' "listen = \"127.0.0.1:$p1\";
state_dir = \"$JG_T/s\";
frobnicate = 1;"
bad badtype 1 'drain_timeout' "drain_timeout = \"soon\";"

# A configuration file that does not exist.
set +e
timeout 20 "$JUMPGATED" -f -c "$JG_T/nope.conf" </dev/null >/dev/null 2>"$JG_T/nope.err"
rc=$?
set -e
if [ $rc != 0 ] && [ $rc != 124 ] && grep -q 'nope.conf' "$JG_T/nope.err"; then
	jg_ok "missing file: exit $rc, '$(head -n1 "$JG_T/nope.err")'"
else
	jg_notok "missing file: non-zero exit and a message naming it (exit $rc)"
	jg_show "$JG_T/nope.err" 5
fi

jg_done
