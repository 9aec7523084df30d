#!/bin/bash
# The one-word stand-ins (client/standin.c, issue 14): jumpgate run by the
# names jumpgate-ssh, jumpgate-scp and jumpgate-sftp (symlinks, as `make
# install` makes them) behaves as `jumpgate rsh`, as scp and as sftp with
# jumpgate-ssh as their transport.  Driven by the tools that take ONE program
# and no command line: rsync --rsh=, GIT_SSH, scp -S, sftp -S; the stand-ins
# themselves with a file moved through each; `make install-exec DESTDIR=`
# making the links; and plain jumpgate unchanged under other names.
# The target is "local" (the gateway's host): no sshd needed.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require rsync git scp sftp sha256sum
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT"
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
T=$JG_T
TO="timeout ${JG_TIMEOUT:-120}"

# The links as `make install` lays them out: side by side with jumpgate.
mkdir -p "$T/bin"
ln -s "$JUMPGATE" "$T/bin/jumpgate"
for s in ssh scp sftp; do ln -s jumpgate "$T/bin/jumpgate-$s"; done
export PATH="$T/bin:$PATH"

# ---------------------------------------------------------------- jumpgate-ssh

for code in 0 3; do
	rc=0
	$TO jumpgate-ssh local "echo out; echo err >&2; exit $code" </dev/null >"$T/o" 2>"$T/e" || rc=$?
	if [ $rc = $code ] && [ "$(cat "$T/o")" = out ] && [ "$(cat "$T/e")" = err ]; then
		jg_ok "jumpgate-ssh local CMD: runs it, stdout/stderr apart, exit $code mirrored"
	else
		jg_notok "jumpgate-ssh runs CMD (exit $rc want $code; out '$(cat "$T/o")' err '$(head -c 300 "$T/e")')"
	fi
done
# Exactly `jumpgate rsh`: the same answers to the same ssh options.
for args in "-V" "-G -p 2222 -l deploy web1" "-O check web1" "-Z local true" "-N local"; do
	rc1=0 rc2=0
	# shellcheck disable=SC2086
	$TO "$JUMPGATE" rsh $args </dev/null >"$T/r1" 2>&1 || rc1=$?
	# shellcheck disable=SC2086
	$TO jumpgate-ssh $args </dev/null >"$T/r2" 2>&1 || rc2=$?
	if [ $rc1 = $rc2 ] && cmp -s "$T/r1" "$T/r2"; then
		jg_ok "jumpgate-ssh $args == jumpgate rsh $args (exit $rc2: $(head -n1 "$T/r2" | cut -c1-70))"
	else
		jg_notok "jumpgate-ssh $args: exit $rc2 '$(head -c 200 "$T/r2")' vs rsh: exit $rc1 '$(head -c 200 "$T/r1")'"
	fi
done
# Ansible's ssh plugin: one program, its options before the host.
out=$($TO jumpgate-ssh -C -o ControlMaster=auto -o ControlPersist=60s -o KbdInteractiveAuthentication=no \
	-o PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey -o PasswordAuthentication=no \
	-o ConnectTimeout=10 -o "ControlPath=\"$T/cp-%C\"" local "/bin/sh -c 'echo ~ && sleep 0'" </dev/null 2>&1) || true
if [ "$out" = "$(cd ~ && pwd)" ]; then
	jg_ok "jumpgate-ssh with the argv of Ansible's ssh plugin (home probe answers $out)"
else
	jg_notok "jumpgate-ssh with Ansible's argv (got '$out')"
fi

# ---------------------------------------------------------------- rsync, git

mkdir -p "$T/src/sub" "$T/dst"
for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/urandom >"$T/src/sub/f$i"; done
chmod 640 "$T/src/sub/f3"
rc=0
$TO rsync -a --rsh=jumpgate-ssh "$T/src/" "local:$T/dst/" </dev/null 2>"$T/rs.err" || rc=$?
if [ $rc = 0 ] && diff -r "$T/src" "$T/dst" >/dev/null && [ "$(stat -c %a "$T/dst/sub/f3")" = 640 ]; then
	jg_ok "rsync -a --rsh=jumpgate-ssh: tree and modes equal"
else
	jg_notok "rsync --rsh=jumpgate-ssh (exit $rc)"
	jg_show "$T/rs.err" 5
fi
# rsync splits --rsh's value on blanks: options after the one-word program.
rm -rf "$T/dst2"
rc=0
$TO rsync -a '--rsh=jumpgate-ssh -S none -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' "$T/src/" "local:$T/dst2/" \
	</dev/null 2>"$T/rs.err" || rc=$?
if [ $rc = 0 ] && diff -r "$T/src" "$T/dst2" >/dev/null; then
	jg_ok "rsync --rsh='jumpgate-ssh -S none -o ...' (options after the program) copies the tree"
else
	jg_notok "rsync --rsh='jumpgate-ssh -S none ...' (exit $rc)"
	jg_show "$T/rs.err" 5
fi
git init -q --bare "$T/repo.git"
(
	git init -q "$T/work" && cd "$T/work" && git config user.email t@example.invalid &&
		git config user.name test && echo hello >f && git add f && git commit -q -m one &&
		git push -q "$T/repo.git" HEAD:refs/heads/main
) >/dev/null 2>&1
git -C "$T/repo.git" symbolic-ref HEAD refs/heads/main
rc=0
GIT_SSH=jumpgate-ssh $TO git clone -q "local:$T/repo.git" "$T/clone" </dev/null 2>"$T/git.err" || rc=$?
if [ $rc = 0 ] && [ "$(cat "$T/clone/f" 2>/dev/null)" = hello ]; then
	jg_ok "GIT_SSH=jumpgate-ssh git clone local:$T/repo.git"
else
	jg_notok "GIT_SSH=jumpgate-ssh git clone (exit $rc)"
	jg_show "$T/git.err" 5
fi

# ---------------------------------------------------------------- jumpgate-scp, jumpgate-sftp

head -c 300000 /dev/urandom >"$T/blob"
chmod 604 "$T/blob"
want=$(jg_sha256 "$T/blob")
rc=0
$TO jumpgate-scp -p "$T/blob" "local:$T/blob.up" </dev/null 2>"$T/scp.err" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/blob.up")" = "$want" ] && [ "$(stat -c %a "$T/blob.up")" = 604 ] &&
	[ ! -s "$T/scp.err" ]; then
	jg_ok "jumpgate-scp -p FILE local:PATH: bytes and mode, nothing on stderr"
else
	jg_notok "jumpgate-scp upload (exit $rc)"
	jg_show "$T/scp.err" 5
fi
rc=0
$TO jumpgate-scp -O "local:$T/blob" "$T/blob.down" </dev/null 2>"$T/scp.err" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/blob.down")" = "$want" ]; then
	jg_ok "jumpgate-scp -O (legacy protocol) local:PATH FILE: bytes equal"
else
	jg_notok "jumpgate-scp -O download (exit $rc)"
	jg_show "$T/scp.err" 5
fi
rc=0
printf 'put %s %s\nget %s %s\n' "$T/blob" "$T/blob.sftp" "$T/blob.sftp" "$T/blob.back" |
	$TO jumpgate-sftp -b - local >"$T/sftp.out" 2>"$T/sftp.err" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/blob.sftp")" = "$want" ] && [ "$(jg_sha256 "$T/blob.back")" = "$want" ]; then
	jg_ok "jumpgate-sftp -b - local: put and get (Ansible's smart transfer, first try)"
else
	jg_notok "jumpgate-sftp -b - (exit $rc)"
	jg_show "$T/sftp.err" 5
fi
# A stand-in run by its path takes the jumpgate-ssh beside it, whatever PATH holds.
rc=0
PATH=/usr/bin:/bin $TO "$T/bin/jumpgate-scp" "$T/blob" "local:$T/blob.p" </dev/null 2>"$T/scp.err" || rc=$?
if [ $rc = 0 ] && [ "$(jg_sha256 "$T/blob.p")" = "$want" ]; then
	jg_ok "$T/bin/jumpgate-scp with no jumpgate on PATH uses the jumpgate-ssh beside it"
else
	jg_notok "jumpgate-scp by path (exit $rc)"
	jg_show "$T/scp.err" 5
fi
mkdir -p "$T/lonely"
ln -s "$JUMPGATE" "$T/lonely/jumpgate-scp"
rc=0
"$T/lonely/jumpgate-scp" "$T/blob" "local:$T/x" </dev/null >"$T/o" 2>"$T/e" || rc=$?
if [ $rc = 255 ] && [ "$(wc -l <"$T/e")" = 1 ] && grep -q "cannot find jumpgate-ssh next to $T/lonely/jumpgate-scp" "$T/e"; then
	jg_ok "no jumpgate-ssh beside jumpgate-scp: 255 and one line ($(cut -c1-90 "$T/e"))"
else
	jg_notok "no jumpgate-ssh beside jumpgate-scp (exit $rc: $(cat "$T/e"))"
fi
# Any other name is plain jumpgate.
ln -s "$JUMPGATE" "$T/bin/jumpgate-ssh.sh"
rc=0
jumpgate-ssh.sh local true </dev/null >/dev/null 2>"$T/e" || rc=$?
if [ $rc = 2 ] && grep -q "unknown command 'local'" "$T/e"; then
	jg_ok "jumpgate-ssh.sh is plain jumpgate (exit 2, unknown command)"
else
	jg_notok "jumpgate-ssh.sh is plain jumpgate (exit $rc: $(cat "$T/e"))"
fi

# ---------------------------------------------------------------- make install

if [ -f "$builddir/Makefile" ] && command -v make >/dev/null 2>&1; then
	rc=0
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $TO make -s -C "$builddir" install-exec \
		DESTDIR="$T/dest" prefix=/opt/jg >"$T/mk.out" 2>&1 || rc=$?
	ok=1
	for s in ssh scp sftp; do
		[ "$(readlink "$T/dest/opt/jg/bin/jumpgate-$s" 2>/dev/null)" = jumpgate ] || ok=0
	done
	out=$("$T/dest/opt/jg/bin/jumpgate-ssh" -V 2>&1) || ok=0
	if [ $rc = 0 ] && [ $ok = 1 ] && [ "${out#jumpgate rsh }" != "$out" ]; then
		jg_ok "make install-exec DESTDIR=: bin/jumpgate-{ssh,scp,sftp} -> jumpgate, jumpgate-ssh -V answers"
	else
		jg_notok "make install-exec makes the links (exit $rc; $(ls -l "$T/dest/opt/jg/bin" 2>&1 | tr '\n' ' '))"
		jg_show "$T/mk.out" 10
	fi
	rc=0
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $TO make -s -C "$builddir" uninstall \
		DESTDIR="$T/dest" prefix=/opt/jg >"$T/mk.out" 2>&1 || rc=$?
	if [ $rc = 0 ] && [ -z "$(find "$T/dest/opt/jg/bin" -mindepth 1 2>/dev/null)" ]; then
		jg_ok "make uninstall removes the links"
	else
		jg_notok "make uninstall (exit $rc; left: $(find "$T/dest/opt/jg/bin" -mindepth 1 | tr '\n' ' '))"
	fi
else
	jg_log "no Makefile in $builddir: make install not tried"
fi
jg_done
