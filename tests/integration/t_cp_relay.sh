#!/bin/bash
# Relayed copies between targets (issue 14 part 3): `jumpgate cp web1:/P
# web2:/Q local:/R/` reads P on web1 and writes it on every destination
# through the gateway (PUT /v1/files/...?targets=...&from=...), the bytes never
# crossing the controller's link (the gateway's own byte counters say so);
# the source's mode goes with it; a missing source writes nothing anywhere;
# one destination failing leaves the others done and the exit status 1; the
# policy judges `get` on the source and `put` on each destination.
# web1 and web2 are OpenSSH servers on 127.0.0.2 and .3; local is the gateway.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
jg_require sha256sum python3
T=$JG_T
jg_sshd_start a 127.0.0.2 || { jg_notok "sshd on 127.0.0.2"; jg_done; }
jg_sshd_start b 127.0.0.3 || { jg_notok "sshd on 127.0.0.3"; jg_done; }
mkdir -p "$T/src" "$T/w1" "$T/w2" "$T/loc" "$T/ro"
# The audit records on the gateway's stderr (its log), where the checks read them.
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
audit = \"stderr\";
targets = ( $(jg_ssh_target web1 127.0.0.2 "${JG_SSHD_PORT[a]}"),
            $(jg_ssh_target web2 127.0.0.3 "${JG_SSHD_PORT[b]}") );
policy = (
  { name = \"no-get\"; identities = [ \"jumpgate test client*\" ]; actions = [ \"get\" ];
    paths = [ \"$T/src/hidden\" ]; allow = false; },
  { name = \"no-put\"; identities = [ \"jumpgate test client*\" ]; actions = [ \"put\" ];
    paths = [ \"$T/ro/\" ]; allow = false; },
  { name = \"tester\"; identities = [ \"jumpgate test client*\" ]; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT, web1 and web2 on sshd"
from_clients() { jg_curl /v1/stats | python3 -c 'import json,sys; b=json.load(sys.stdin)["bytes"]; print(b["from_clients"], b["to_clients"])'; }

head -c $((4 * 1048576)) /dev/urandom >"$T/src/big.bin"
chmod 640 "$T/src/big.bin"
want=$(jg_sha256 "$T/src/big.bin")
read -r in0 out0 < <(from_clients)
rc=0
jg_cli cp web1:"$T/src/big.bin" web2:"$T/w1/copy.bin" local:"$T/loc/" </dev/null >"$T/o" 2>"$T/e" || rc=$?
read -r in1 out1 < <(from_clients)
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/w1/copy.bin")" = "$want" ] && [ "$(jg_sha256 "$T/loc/big.bin")" = "$want" ] &&
	[ "$(stat -c %a "$T/w1/copy.bin")" = 640 ] && [ "$(stat -c %a "$T/loc/big.bin")" = 640 ]; then
	jg_ok "cp web1:SRC web2:DST local:DIR/: 4 MiB on both, sha256 equal, mode 640 copied"
else
	jg_notok "relayed copy (exit $rc: $(head -c 300 "$T/e"))"
fi
if [ $((in1 - in0)) -lt 65536 ] && [ $((out1 - out0)) -lt 65536 ]; then
	jg_ok "the bytes did not touch the controller's link (from clients +$((in1 - in0)), to clients +$((out1 - out0)) bytes)"
else
	jg_notok "the controller's link carried the file (from clients +$((in1 - in0)), to clients +$((out1 - out0)))"
fi
if grep -q "\"event\":\"end\".*\"target\":\"web1\"[^}]*\"action\":\"get\".*\"bytes_out\":4194304" "$JG_GW_LOG"; then
	jg_ok "the gateway read the source on web1 itself (audit: get on web1, 4194304 bytes)"
else
	jg_notok "the gateway read the source on web1 itself"
fi
# Two destinations with one path: one request (a list), and a list operand.
rc=0
jg_cli cp -q web2:"$T/src/big.bin" web1,local:"$T/w2/list.bin" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/w2/list.bin")" = "$want" ] && [ ! -s "$T/o" ]; then
	jg_ok "cp -q web2:SRC web1,local:DST: written, nothing printed"
else
	jg_notok "cp web2:SRC web1,local:DST (exit $rc: $(head -c 300 "$T/e"))"
fi

# ---------------------------------------------------------------- failures

echo old >"$T/w2/keep.txt"
rc=0
jg_cli cp web1:"$T/src/missing" web2:"$T/w2/keep.txt" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 1 ] && [ "$(cat "$T/w2/keep.txt")" = old ] && grep -qi 'no such file' "$T/e" &&
	[ "$(wc -l <"$T/e")" = 1 ]; then
	jg_ok "a missing source: exit 1, one line ($(cut -c1-100 "$T/e")), the destination untouched"
else
	jg_notok "a missing source (exit $rc: $(cat "$T/e"); dest '$(cat "$T/w2/keep.txt")')"
fi
rc=0
jg_cli cp web1:"$T/src/big.bin" web2:"$T/nodir/x.bin" local:"$T/loc/two.bin" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 1 ] && [ "$(jg_sha256 "$T/loc/two.bin")" = "$want" ] && [ ! -e "$T/nodir" ] &&
	grep -q "web2:$T/nodir/x.bin: .*does not exist" "$T/e"; then
	jg_ok "one destination fails (no parent directory), the other is written; exit 1"
else
	jg_notok "one destination fails (exit $rc: $(cat "$T/e"))"
fi
rc=0
jg_cli cp --mkdirs web1:"$T/src/big.bin" web2:"$T/nodir/x.bin" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/nodir/x.bin")" = "$want" ]; then
	jg_ok "--mkdirs: the missing parent is made"
else
	jg_notok "--mkdirs (exit $rc: $(cat "$T/e"))"
fi

# The API's edges: from= only on /v1/copy/, a body refused, a directory source.
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "web1:$T/src/big.bin")
c1=$(jg_http_code PUT "/v1/files$T/w2/f.bin?targets=web2&from=$enc")
c2=$(printf 'body' | jg_curl "/v1/copy$T/w2/g.bin?targets=web2&from=$enc" -X PUT --data-binary @- \
	-o /dev/null -w '%{http_code}' 2>/dev/null || true)
encd=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "web1:$T/src")
c3=$(jg_http_code PUT "/v1/copy$T/w2/d.bin?targets=web2&from=$encd")
if [ "$c1" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 409 ] && [ ! -e "$T/w2/f.bin" ] &&
	[ ! -e "$T/w2/g.bin" ] && [ ! -e "$T/w2/d.bin" ]; then
	jg_ok "from= on /v1/files/: 400; a body with a copy: 400; a directory source: 409; nothing written"
else
	jg_notok "API edges: from= on /v1/files/ $c1 (400), body $c2 (400), directory $c3 (409)"
fi

# ---------------------------------------------------------------- policy

echo secret >"$T/src/hidden"
rc=0
jg_cli cp web1:"$T/src/hidden" web2:"$T/w2/h.txt" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 1 ] && [ ! -e "$T/w2/h.txt" ] && grep -qi 'forbidden\|not allow\|denied\|policy' "$T/e"; then
	jg_ok "policy: get on the source refused: exit 1, nothing written ($(cut -c1-90 "$T/e"))"
else
	jg_notok "policy refuses get on the source (exit $rc: $(cat "$T/e"))"
fi
rc=0
jg_cli cp web1:"$T/src/big.bin" web2:"$T/ro/x.bin" local:"$T/loc/three.bin" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 1 ] && [ ! -e "$T/ro/x.bin" ] && [ "$(jg_sha256 "$T/loc/three.bin")" = "$want" ] &&
	grep -q "web2:$T/ro/x.bin" "$T/e"; then
	jg_ok "policy: put refused on one destination, the other written; exit 1"
else
	jg_notok "policy refuses put on a destination (exit $rc: $(cat "$T/e"))"
fi
rc=0
jg_cli cp -r web1:"$T/src" web2:"$T/w2/" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 2 ] && grep -q 'one file' "$T/e"; then
	jg_ok "cp -r between targets: a usage error (exit 2)"
else
	jg_notok "cp -r between targets (exit $rc: $(cat "$T/e"))"
fi
jg_done
