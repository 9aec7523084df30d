#!/bin/bash
# jumpgate cp: 64 MiB up and down (sha256 equal), atomic local downloads, a
# tree of 2,000 small files with a symlink and modes (-p; time printed), a
# fan-out to 5 targets whose bytes cross the controller's link once (the
# gateway's /v1/stats bytes.from_clients), a dead target among them (non-zero
# exit, named in the per-target table, the others fine), the operand rules,
# a download onto a full filesystem (a tmpfs in a private mount namespace),
# and the progress bar only on a terminal.
#
# Targets: `local` and l1..l5 (method local: each inventory name is its own
# agent connection); with OpenSSH's sshd installed (tests/integration/sshd.sh)
# also s1, an ssh target on 127.0.0.2.  The issue's full sizes (1 GiB, 10,000
# files, 20 targets, a full filesystem, a stopped target) are t_files_scale.sh.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require python3 sha256sum

SSH=0
if [ -f "$srcdir/tests/integration/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ] &&
	command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
	. "$srcdir/tests/integration/sshd.sh"
	trap jg_ssh_cleanup EXIT
	jg_ssh_client_key
	if jg_sshd_start s1 127.0.0.2; then
		SSH=1
		jg_ok "sshd s1 listens on 127.0.0.2:${JG_SSHD_PORT[s1]}"
	else
		jg_notok "sshd s1 starts"
	fi
fi

locals='{ name = "l1"; method = "local"; },
  { name = "l2"; method = "local"; },
  { name = "l3"; method = "local"; },
  { name = "l4"; method = "local"; },
  { name = "l5"; method = "local"; }'
if [ $SSH = 1 ]; then
	JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $locals,
  $(jg_ssh_target s1 127.0.0.2 "${JG_SSHD_PORT[s1]}")
);
groups = { five = [ \"l1\", \"l2\", \"l3\", \"l4\", \"l5\" ]; };"
else
	JG_CONF_EXTRA="targets = (
  $locals
);
groups = { five = [ \"l1\", \"l2\", \"l3\", \"l4\", \"l5\" ]; };"
fi
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

now() { date +%s%N; }
ms_since() { echo $((($(now) - $1) / 1000000)); }
# from_clients: the gateway's count of request bytes received from clients.
from_clients() { jg_curl /v1/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"]["from_clients"])'; }
# table_ok FILE: targets "ok" with nothing failed in a fan-out table (TARGET OK FAILED BYTES RESULT).
table_ok() { awk 'NR > 1 && $3 == 0 && $NF == "ok"' "$1" | wc -l; }

D=$JG_T/data
mkdir -p "$D/up" "$D/down"
big=$D/big
head -c 67108864 /dev/urandom >"$big"
want=$(jg_sha256 "$big")

# ---------------------------------------------------------------- one file, up and down

updown() { # updown TARGET
	local t=$1 rc t0
	t0=$(now)
	if jg_cli cp "$big" "$t:$D/up/big.$t" </dev/null 2>"$JG_T/up.err"; then rc=0; else rc=$?; fi
	local ms=$(ms_since $t0)
	if [ $rc = 0 ] && [ "$(jg_sha256 "$D/up/big.$t")" = "$want" ]; then
		jg_ok "$t: 64 MiB up, sha256 equal ($ms ms)"
	else
		jg_notok "$t: 64 MiB up, sha256 equal (exit $rc)"
		jg_show "$JG_T/up.err" 5
	fi
	t0=$(now)
	if jg_cli cp "$t:$D/up/big.$t" "$D/down/" </dev/null 2>"$JG_T/down.err"; then rc=0; else rc=$?; fi
	ms=$(ms_since $t0)
	if [ $rc = 0 ] && [ "$(jg_sha256 "$D/down/big.$t")" = "$want" ]; then
		jg_ok "$t: 64 MiB down into a directory, sha256 equal ($ms ms)"
	else
		jg_notok "$t: 64 MiB down, sha256 equal (exit $rc)"
		jg_show "$JG_T/down.err" 5
	fi
	rm -f "$D/down/big.$t"
}
updown local
[ $SSH = 0 ] || updown s1

# The spec form, with the ':' inside the target: split at the first ":/".
if [ $SSH = 1 ]; then
	spec="ssh:$JG_SSH_USER@127.0.0.2:${JG_SSHD_PORT[s1]}"
	echo spec >"$D/spec.txt"
	if jg_cli cp "$D/spec.txt" "$spec:$D/up/spec.out" </dev/null 2>"$JG_T/spec.err" &&
		[ "$(cat "$D/up/spec.out")" = spec ]; then
		jg_ok "target spec with ':' in it ($spec:/path)"
	else
		jg_notok "target spec with ':' in it ($spec:/path)"
		jg_show "$JG_T/spec.err" 5
	fi
fi

# Downloads are atomic: a failed one leaves the old file and no temporary file.
echo old >"$D/down/keep"
if jg_cli cp "local:$D/no/such/file" "$D/down/keep" </dev/null 2>"$JG_T/miss.err"; then rc=0; else rc=$?; fi
if [ $rc = 1 ] && [ "$(cat "$D/down/keep")" = old ] && [ -z "$(ls -A "$D/down" | grep -v '^keep$')" ] &&
	grep -q "local:$D/no/such/file" "$JG_T/miss.err"; then
	jg_ok "a failed download leaves the old file, no temporary, exit 1, names the file"
else
	jg_notok "a failed download leaves the old file (exit $rc, dir: $(ls -A "$D/down" | tr '\n' ' '))"
	jg_show "$JG_T/miss.err" 5
fi
# A download replaces the old file whole (rename), keeping the remote mode with -p.
printf 'new\n' >"$D/up/new"
chmod 640 "$D/up/new"
if jg_cli cp -p "local:$D/up/new" "$D/down/keep" </dev/null 2>"$JG_T/repl.err" &&
	[ "$(cat "$D/down/keep")" = new ] && [ "$(stat -c %a "$D/down/keep")" = 640 ]; then
	jg_ok "a download replaces the file, mode kept with -p"
else
	jg_notok "a download replaces the file, mode kept with -p ($(stat -c %a "$D/down/keep"))"
	jg_show "$JG_T/repl.err" 5
fi

# A download onto a full filesystem: a 24 MiB tmpfs in a private mount namespace,
# the client inside it, 64 MiB coming.  The client says "No space left", exits 1,
# keeps the old file and leaves no temporary file, with a background flush (asked
# every 16 MiB, relay/syncbehind.c) outstanding or done when the write fails.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	full=$JG_T/fulldl
	mkdir -p "$full"
	# shellcheck disable=SC2016 # expanded by the inner sh
	out=$(timeout 120 unshare -m sh -c '
		d=$1; shift
		mount -t tmpfs -o size=24m jg-fulldl "$d" || { echo "mount=failed"; exit 0; }
		echo old >"$d/keep"
		"$@" 2>"$d.err" </dev/null; echo "rc=$?"
		echo "keep=$(cat "$d/keep")"
		echo "left=$(ls -A "$d" | grep -v "^keep\$" | tr "\n" " ")"' \
		sh "$full" "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" \
		--ca "$JG_CA" cp "local:$big" "$full/keep" 2>&1) || true
	if [ "$out" = "mount=failed" ]; then
		jg_log "no tmpfs in a private mount namespace here: the full-disk download is skipped"
	elif printf '%s\n' "$out" | grep -qx 'rc=1' && printf '%s\n' "$out" | grep -qx 'keep=old' &&
		printf '%s\n' "$out" | grep -qx 'left=' && grep -q 'No space left' "$full.err"; then
		jg_ok "a download onto a full filesystem: exit 1, 'No space left', old file kept, no temporary"
	else
		jg_notok "a download onto a full filesystem: exit 1, 'No space left', old file kept, no temporary"
		printf '  %s\n' "$out"
		jg_show "$full.err" 5
	fi
fi

# ---------------------------------------------------------------- a tree

tree=$D/tree
mkdir -p "$tree/a/b/c" "$tree/d" "$tree/empty"
for i in $(seq 1 2000); do
	case $((i % 4)) in
	0) f=$tree/f$i ;; 1) f=$tree/a/f$i ;; 2) f=$tree/a/b/f$i ;; 3) f=$tree/a/b/c/f$i ;;
	esac
	printf 'file %s\n' "$i" >"$f"
done
chmod 600 "$tree/a/f1"
chmod 755 "$tree/f4"
chmod 750 "$tree/d"
chmod 555 "$tree/a/b/c" # read-only: must still be filled, then made read-only
ln -s ../f4 "$tree/a/link"
ln -s /nonexistent "$tree/dangling"
touch -d '2020-01-02 03:04:05' "$tree/f8" "$tree/d"
# What a tree looks like: path, type, mode, size and mtime (whole seconds: the API carries
# those) of files, mode and mtime of directories, the text of symlinks.
describe() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %s %T@ %l\n' |
	awk '{ $5 = int($5); if ($2 == "d") $4 = "-"; if ($2 == "l") { $3 = "-"; $5 = "-" } print }' | sort); }
t0=$(now)
if jg_cli cp -rp "$tree/" "l1:$D/up/tree" </dev/null 2>"$JG_T/tree.err"; then rc=0; else rc=$?; fi
ms=$(ms_since $t0)
# mtimes to the second: the API carries whole seconds.
describe "$tree" >"$JG_T/tree.want"
describe "$D/up/tree" >"$JG_T/tree.got"
if [ $rc = 0 ] && cmp -s "$JG_T/tree.want" "$JG_T/tree.got"; then
	jg_ok "cp -rp of 2,000 files, 6 dirs, 2 symlinks: identical (modes, mtimes, links) in $ms ms"
else
	jg_notok "cp -rp of 2,000 files: identical (exit $rc, $ms ms)"
	jg_show "$JG_T/tree.err" 10
	diff "$JG_T/tree.want" "$JG_T/tree.got" | head -20 | sed 's/^/# /' || true
fi
jg_log "cp -rp 2,000 small files to one target: $ms ms"
chmod -R u+w "$D/up/tree"

# Into a directory (trailing '/'): the tree keeps its name; without -p modes lose the umask.
if (umask 077 && jg_cli cp -r "$tree" "l2:$D/up/into/" </dev/null 2>"$JG_T/into.err"); then rc=0; else rc=$?; fi
# (the parent is missing: without --mkdirs this must fail)
if [ $rc = 1 ] && grep -q 'mkdirs' "$JG_T/into.err"; then
	jg_ok "a missing parent without --mkdirs fails, and says to use mkdirs"
else
	jg_notok "a missing parent without --mkdirs fails (exit $rc)"
	jg_show "$JG_T/into.err" 5
fi
if (umask 077 && jg_cli cp -r --mkdirs "$tree" "l2:$D/up/into/" </dev/null 2>"$JG_T/into.err") &&
	[ "$(stat -c %a "$D/up/into/tree/f4")" = 700 ] && [ "$(stat -c %a "$D/up/into/tree/d")" = 700 ] &&
	[ -f "$D/up/into/tree/a/b/c/f3" ]; then
	jg_ok "cp -r --mkdirs DIR T:/x/: lands in /x/DIR, modes less the umask without -p"
else
	jg_notok "cp -r --mkdirs DIR T:/x/ (f4 mode $(stat -c %a "$D/up/into/tree/f4" 2>&1))"
	jg_show "$JG_T/into.err" 5
fi
chmod -R u+w "$D/up/into"

# ---------------------------------------------------------------- fan-out

fan=$D/fan32
head -c 33554432 /dev/urandom >"$fan"
fwant=$(jg_sha256 "$fan")
before=$(from_clients)
t0=$(now)
if jg_cli cp "$fan" "l1,l2,l3,l4,l5:$D/up/fan.bin" </dev/null >"$JG_T/fan.out" 2>"$JG_T/fan.err"; then rc=0; else rc=$?; fi
ms=$(ms_since $t0)
after=$(from_clients)
delta=$((after - before))
ratio=$(awk -v d="$delta" 'BEGIN { printf "%.3f", d / 33554432 }')
oks=$(table_ok "$JG_T/fan.out")
if [ $rc = 0 ] && [ "$oks" = 5 ] && [ "$(jg_sha256 "$D/up/fan.bin")" = "$fwant" ]; then
	jg_ok "fan-out of 32 MiB to l1..l5: 5 ok in the table, sha256 equal ($ms ms)"
else
	jg_notok "fan-out of 32 MiB to l1..l5 (exit $rc, $oks ok)"
	jg_show "$JG_T/fan.out" 10
	jg_show "$JG_T/fan.err" 10
fi
if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.99 && r < 1.2) }'; then
	jg_ok "fan-out: $delta bytes from the client for 5 targets = ${ratio}x the file (once, not 5x)"
else
	jg_notok "fan-out: bytes from the client ${ratio}x the file (want ~1x)"
fi

# A glob, and a group (asked of the gateway), reach the same five.
echo g >"$D/g.txt"
if jg_cli cp "$D/g.txt" 'l?':"$D/up/glob.txt" </dev/null >"$JG_T/glob.out" 2>"$JG_T/glob.err" &&
	[ "$(table_ok "$JG_T/glob.out")" = 5 ]; then
	jg_ok "fan-out to the glob 'l?': 5 targets ok"
else
	jg_notok "fan-out to the glob 'l?'"
	jg_show "$JG_T/glob.out" 10
	jg_show "$JG_T/glob.err" 10
fi
if jg_cli cp "$D/g.txt" "five:$D/up/group.txt" </dev/null >"$JG_T/grp.out" 2>"$JG_T/grp.err" &&
	[ "$(table_ok "$JG_T/grp.out")" = 5 ]; then
	jg_ok "the group name 'five' is recognised: a fan-out to its 5 members"
else
	jg_notok "the group name 'five' is recognised as a fan-out"
	jg_show "$JG_T/grp.out" 10
	jg_show "$JG_T/grp.err" 10
fi

# A dead target among them: exit non-zero, the table names it, the others are fine.
dead='ssh:nobody@127.0.0.1:1'
rm -f "$D/up/fan2.bin"
if jg_cli cp "$fan" "l1,l2,$dead,l3,l4,l5:$D/up/fan2.bin" </dev/null >"$JG_T/dead.out" 2>"$JG_T/dead.err"; then rc=0; else rc=$?; fi
oks=$(table_ok "$JG_T/dead.out")
if [ $rc = 1 ] && [ "$oks" = 5 ] && grep -q "^$dead .*failed: " "$JG_T/dead.out" &&
	grep -q "^jumpgate: $dead:$D/up/fan2.bin: " "$JG_T/dead.err" &&
	[ "$(jg_sha256 "$D/up/fan2.bin")" = "$fwant" ]; then
	jg_ok "fan-out with a dead target: exit 1, the table names it, 5 others ok"
else
	jg_notok "fan-out with a dead target (exit $rc, $oks ok)"
	jg_show "$JG_T/dead.out" 10
	jg_show "$JG_T/dead.err" 10
fi

# Fan-out of a tree (-r): every file to every target.
if jg_cli cp -r --mkdirs "$tree/a" "l3,l4:$D/up/fantree/" </dev/null >"$JG_T/ft.out" 2>"$JG_T/ft.err" &&
	[ "$(table_ok "$JG_T/ft.out")" = 2 ] &&
	diff -r --no-dereference "$tree/a" "$D/up/fantree/a" >/dev/null; then
	jg_ok "fan-out of a tree (-r) to 2 targets"
else
	jg_notok "fan-out of a tree (-r) to 2 targets"
	jg_show "$JG_T/ft.out" 10
	jg_show "$JG_T/ft.err" 10
fi
[ $SSH = 0 ] || {
	if jg_cli cp "$fan" "l1,s1:$D/up/fan3.bin" </dev/null >"$JG_T/fs.out" 2>"$JG_T/fs.err" &&
		[ "$(table_ok "$JG_T/fs.out")" = 2 ]; then
		jg_ok "fan-out to a local and an ssh target"
	else
		jg_notok "fan-out to a local and an ssh target"
		jg_show "$JG_T/fs.out" 10
		jg_show "$JG_T/fs.err" 10
	fi
}

# ---------------------------------------------------------------- operands and terminals

usage() { # usage NAME WANT-EXIT ARGS...
	local name=$1 want=$2 rc
	shift 2
	if jg_cli cp "$@" </dev/null >/dev/null 2>"$JG_T/use.err"; then rc=0; else rc=$?; fi
	if [ "$rc" = "$want" ] && [ -s "$JG_T/use.err" ]; then
		jg_ok "$name: exit $want ($(head -n1 "$JG_T/use.err" | cut -c1-90))"
	else
		jg_notok "$name: exit $want (got $rc)"
		jg_show "$JG_T/use.err" 3
	fi
}
usage "relative remote path refused" 2 "$D/g.txt" local:tmp/x
# (two remotes are a relayed copy now: t_cp_relay.sh); a local and a remote source are not.
usage "a local and a remote source to a target refused" 2 "$D/g.txt" local:/etc/hostname local:/tmp/x
usage "no remote refused" 2 "$D/g.txt" "$D/h.txt"
usage "a directory without -r" 1 "$tree" "local:$D/up/nodir"
usage "download -r is not supported" 2 -r "local:$tree" "$D/down/"

# The progress bar: on a terminal only.
jg_cli cp "$big" "local:$D/up/quiet" </dev/null >"$JG_T/q.out" 2>"$JG_T/q.err" || true
if [ ! -s "$JG_T/q.err" ] && [ ! -s "$JG_T/q.out" ]; then
	jg_ok "no progress output when stderr is not a terminal"
else
	jg_notok "no progress output when stderr is not a terminal ($(wc -c <"$JG_T/q.err") bytes)"
fi
if command -v script >/dev/null 2>&1; then
	cmd="timeout 60 '$JUMPGATE' -g 127.0.0.1:$JG_PORT --cert '$JG_CERT' --key '$JG_KEY' --ca '$JG_CA' cp '$big' 'local:$D/up/tty'"
	script -qec "$cmd" /dev/null </dev/null >"$JG_T/tty.out" 2>&1 || true
	if grep -q '100%' "$JG_T/tty.out" && grep -q 'MiB/s' "$JG_T/tty.out"; then
		jg_ok "progress bar on a terminal: $(tr '\r' '\n' <"$JG_T/tty.out" | grep '100%' | tail -n1 | tr -s ' ' | cut -c1-100)"
	else
		jg_notok "progress bar on a terminal"
		jg_show "$JG_T/tty.out" 5
	fi
fi

z=$(jg_zombies "$JG_GW_PID")
if [ -z "$z" ]; then jg_ok "no zombies"; else jg_notok "no zombies: $(echo $z)"; fi
chmod -R u+w "$D" 2>/dev/null || true
if jg_gateway_stop 10; then jg_ok "gateway exits 0"; else jg_notok "gateway exits 0 (status $JG_GW_STATUS)"; fi
jg_done
