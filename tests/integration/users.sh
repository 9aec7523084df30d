# Test accounts for the privilege-changing hops (sudo, su, doas); sourced by
# tests/integration/t_become.sh after lib.sh.  Needs root.
#
# WHAT THIS CHANGES ON THE MACHINE (and leaves in place: the fixture is
# idempotent, and a second run finds everything as the first left it):
#   - users jgx1 and jgx2 (useradd -m, login shell /bin/sh, homes
#     /home/jgx1 and /home/jgx2), their passwords set with chpasswd to
#     "pw-jgx1" and "pw-jgx2" on every run (so never use these names for
#     anything but tests);
#   - the packages sudo and opendoas, installed with apt-get when the tools
#     are missing (apt-get update first only when the install fails);
#   - /etc/sudoers.d/jumpgate-test (mode 0440, checked with visudo -cf):
#     jgx1 may run anything as anyone WITH its password; jgx2 may run
#     anything as jgx1 without one; for jgx1, no time stamp (every sudo asks:
#     the tests do not depend on their order) and the lecture always (the
#     noise a first sudo makes on a real system, every time, so the gateway's
#     prompt handling meets it on every run, not only on a fresh machine);
#   - /etc/doas.conf (created 0600 when missing): the lines
#     "permit nopass jgx2 as jgx1" and "permit jgx1 as jgx2", each appended
#     only when absent (the file is checked with doas -C);
#   - ~jgx1/.ssh/authorized_keys (directory 0700, file 0600, owned by jgx1):
#     jg_users_authorize adds this run's public key and jg_users_unauthorize
#     (the test's EXIT trap) takes that line out again;
#   - what the tests themselves write in the homes of jgx1, jgx2 and root:
#     the agent cache ~/.cache/jumpgate/agent-SHA256 that the bootstrap stub
#     keeps there, as on any target; jg_users_clear_caches removes those of
#     jgx1 and jgx2 (t_become.sh: before and after), root's is left alone.
#
# Functions:
#   jg_users_setup: all of the above but the key; 0, or 1 after saying why
#     on stdout ("# ..." lines).  Under a lock (jg_users_locked): tests
#     running at once do not edit the accounts side by side.
#   jg_users_authorize USER PUBKEY-FILE / jg_users_unauthorize USER PUBKEY-FILE
#   jg_users_clear_caches: remove ~jgx1/.cache/jumpgate and ~jgx2/.cache/jumpgate.
#   jg_users_selftest: the rules work from a plain shell (no gateway): su
#     with the password from jgx1, sudo -n refused for jgx1 and allowed for
#     jgx2 as jgx1, doas nopass for jgx2 as jgx1.  Prints "ok -"/"not ok -"
#     lines through jg_check.

JG_USERS_PW_jgx1='pw-jgx1'
JG_USERS_PW_jgx2='pw-jgx2'
JG_USERS_SUDOERS=/etc/sudoers.d/jumpgate-test
JG_USERS_DOAS_CONF=/etc/doas.conf

# jg_users_apt PACKAGE: apt-get install, with one apt-get update when the
# first try fails; bounded.
jg_users_apt() {
	local env="DEBIAN_FRONTEND=noninteractive"
	command -v apt-get >/dev/null 2>&1 || {
		jg_log "no apt-get to install $1 with"
		return 1
	}
	env "$env" timeout 600 apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
	env "$env" timeout 600 apt-get update -q >/dev/null 2>&1 || true
	env "$env" timeout 600 apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
	jg_log "apt-get install -y $1 failed"
	return 1
}

jg_users_user() {
	local u=$1 pw=$2 home
	if ! id "$u" >/dev/null 2>&1; then
		useradd -m -s /bin/sh -c 'jumpgate test user' "$u" || {
			jg_log "useradd $u failed"
			return 1
		}
	fi
	[ "$(getent passwd "$u" | cut -d: -f7)" = /bin/sh ] || usermod -s /bin/sh "$u" || return 1
	home=$(getent passwd "$u" | cut -d: -f6)
	if [ ! -d "$home" ]; then
		mkdir -p "$home" && chown "$u:" "$home" && chmod 755 "$home" || return 1
	fi
	printf '%s:%s\n' "$u" "$pw" | chpasswd || {
		jg_log "chpasswd for $u failed"
		return 1
	}
}

jg_users_sudoers() {
	local tmp
	tmp=$(mktemp /tmp/jumpgate-test-sudoers.XXXXXX)
	cat >"$tmp" <<'EOF'
# Written by jumpgate's tests/integration/users.sh: test accounts only.
Defaults:jgx1 timestamp_timeout=0, lecture=always
jgx1 ALL=(ALL:ALL) ALL
jgx2 ALL=(jgx1) NOPASSWD: ALL
EOF
	if ! visudo -cqf "$tmp" >/dev/null 2>&1; then
		jg_log "visudo -cf refuses the sudoers fragment"
		rm -f "$tmp"
		return 1
	fi
	if [ -f "$JG_USERS_SUDOERS" ] && cmp -s "$tmp" "$JG_USERS_SUDOERS" &&
		[ "$(stat -c %a:%u "$JG_USERS_SUDOERS")" = 440:0 ]; then
		rm -f "$tmp"
		return 0
	fi
	install -o root -g root -m 0440 "$tmp" "$JG_USERS_SUDOERS.new" &&
		mv -f "$JG_USERS_SUDOERS.new" "$JG_USERS_SUDOERS"
	rm -f "$tmp"
	visudo -cq >/dev/null 2>&1 || {
		jg_log "visudo -c fails with $JG_USERS_SUDOERS in place"
		return 1
	}
}

jg_users_doas() {
	local line
	if [ ! -e "$JG_USERS_DOAS_CONF" ]; then
		install -o root -g root -m 0600 /dev/null "$JG_USERS_DOAS_CONF" || return 1
	fi
	# doas wants the last line ended by a newline.
	if [ -s "$JG_USERS_DOAS_CONF" ] && [ "$(tail -c1 "$JG_USERS_DOAS_CONF" | od -An -c | tr -d ' ')" != '\n' ]; then
		printf '\n' >>"$JG_USERS_DOAS_CONF"
	fi
	for line in 'permit nopass jgx2 as jgx1' 'permit jgx1 as jgx2'; do
		grep -qxF "$line" "$JG_USERS_DOAS_CONF" || printf '%s\n' "$line" >>"$JG_USERS_DOAS_CONF"
	done
	doas -C "$JG_USERS_DOAS_CONF" >/dev/null 2>&1 || {
		jg_log "doas -C refuses $JG_USERS_DOAS_CONF"
		return 1
	}
}

# jg_users_locked COMMAND...: COMMAND (one of these functions) under the lock
# $TMPDIR/jumpgate-test-users.lock: the tests that run at once (make -j check,
# or two build trees) never run useradd, chpasswd or the rewrites of sudoers
# and doas.conf side by side (useradd fails on a locked /etc/passwd, and two
# rewrites of one file race).  Bounded: 300 s.
jg_users_locked() {
	local fd rc=0
	if [ -n "${JG_USERS_LOCKED:-}" ]; then
		"$@"
		return
	fi
	exec {fd}>>"${TMPDIR:-/tmp}/jumpgate-test-users.lock"
	if ! flock -w 300 "$fd"; then
		exec {fd}>&-
		jg_log "no lock on ${TMPDIR:-/tmp}/jumpgate-test-users.lock within 300 s"
		return 1
	fi
	JG_USERS_LOCKED=1
	"$@" || rc=$?
	JG_USERS_LOCKED=
	exec {fd}>&-
	return $rc
}

jg_users_setup() { jg_users_locked jg_users_setup_now; }
jg_users_setup_now() {
	if [ "$(id -u)" != 0 ]; then
		jg_log "users.sh needs root"
		return 1
	fi
	command -v sudo >/dev/null 2>&1 || jg_users_apt sudo || return 1
	command -v doas >/dev/null 2>&1 || jg_users_apt opendoas || return 1
	jg_users_user jgx1 "$JG_USERS_PW_jgx1" || return 1
	jg_users_user jgx2 "$JG_USERS_PW_jgx2" || return 1
	jg_users_sudoers || return 1
	jg_users_doas || return 1
}

# jg_users_authorize USER PUBKEY-FILE: that key may log in as USER (through
# ~USER/.ssh/authorized_keys).
jg_users_authorize() {
	local u=$1 key home
	key=$(cat "$2")
	home=$(getent passwd "$u" | cut -d: -f6)
	install -d -o "$u" -g "$(id -gn "$u")" -m 0700 "$home/.ssh" || return 1
	touch "$home/.ssh/authorized_keys"
	grep -qxF -- "$key" "$home/.ssh/authorized_keys" ||
		printf '%s\n' "$key" >>"$home/.ssh/authorized_keys"
	chown "$u:$(id -gn "$u")" "$home/.ssh/authorized_keys"
	chmod 600 "$home/.ssh/authorized_keys"
}

# jg_users_unauthorize USER PUBKEY-FILE: take that key's line out again.
jg_users_unauthorize() {
	local u=$1 key home f
	[ -r "$2" ] || return 0
	key=$(cat "$2")
	home=$(getent passwd "$u" | cut -d: -f6) || return 0
	f=$home/.ssh/authorized_keys
	[ -f "$f" ] || return 0
	# Rewritten in place (same inode, owner and mode).
	{ grep -vxF -- "$key" "$f" || true; } >"$f.jgtmp" && cat "$f.jgtmp" >"$f"
	rm -f "$f.jgtmp"
}

jg_users_clear_caches() {
	local u home
	for u in jgx1 jgx2; do
		home=$(getent passwd "$u" | cut -d: -f6) || continue
		[ -z "$home" ] || [ "$home" = / ] || rm -rf "$home/.cache/jumpgate"
	done
}

jg_users_selftest() {
	local out
	out=$(timeout 20 runuser -u jgx1 -- sh -c 'echo pw-jgx2 | su jgx2 -c "id -un"' 2>/dev/null) || true
	jg_check "fixture: from a shell, jgx1 becomes jgx2 with su and pw-jgx2 (got '$out')" [ "$out" = jgx2 ]
	out=$(timeout 20 runuser -u jgx1 -- sh -c 'echo wrong | su jgx2 -c "id -un"' 2>&1) || true
	jg_check "fixture: su refuses a wrong password ('$(printf %s "$out" | tr '\n' ' ')')" \
		eval 'printf %s "$out" | grep -q "Authentication failure"'
	out=$(timeout 20 runuser -u jgx1 -- sudo -n -u root id -un 2>&1) || true
	jg_check "fixture: sudo -n as jgx1 wants a password ('$out')" \
		eval 'printf %s "$out" | grep -q "password is required"'
	out=$(printf 'pw-jgx1\n' | timeout 20 runuser -u jgx1 -- sudo -S -p 'pw? ' -u root id -un 2>/dev/null) || true
	jg_check "fixture: sudo -S as jgx1 with pw-jgx1 gives root (got '$out')" [ "$out" = root ]
	out=$(timeout 20 runuser -u jgx2 -- sudo -n -u jgx1 id -un 2>&1) || true
	jg_check "fixture: sudo -n as jgx2 to jgx1 needs no password (got '$out')" [ "$out" = jgx1 ]
	out=$(timeout 20 runuser -u jgx2 -- doas -n -u jgx1 id -un 2>&1) || true
	jg_check "fixture: doas -n as jgx2 to jgx1 (nopass rule) (got '$out')" [ "$out" = jgx1 ]
	out=$(timeout 20 runuser -u jgx1 -- doas -n -u jgx2 id -un 2>&1) || true
	jg_check "fixture: doas -n as jgx1 to jgx2 wants a password ('$out')" [ "$out" != jgx2 ]
}
