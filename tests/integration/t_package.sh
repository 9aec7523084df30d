#!/bin/bash
# Packaging (issue 17, item 5):
#  1. `make install DESTDIR=...` of this build writes every file under
#     DESTDIR + the configured prefix (units, sysusers.d and tmpfiles.d
#     included), with the man pages and the example configuration;
#  2. `dpkg-buildpackage -us -uc -b` on a copy of the tree makes a .deb that
#     `lintian` passes without errors, which holds the programs, the units,
#     sysusers.d/tmpfiles.d entries, man pages and the example; its postinst
#     creates the system user (systemd-sysusers) and enables jumpgated.service
#     (not the socket); unpacked with `dpkg-deb -x` into a scratch root, its
#     units pass `systemd-analyze verify` and its man pages render with
#     `groff -ww` and `man -l` without a warning.
#     (Not in the sanitizer build's suite: the package is built from the
#     sources, the same as in the normal build's.)
#  3. Only with JG_PACKAGE_INSTALL=1 (it changes the machine): `dpkg -i` for
#     real, the user exists, the unit is enabled, then `dpkg --purge`.
# The package build compiles the whole tree once (a few minutes on two cores).
. "$(dirname "$0")/lib.sh"
jg_require make tar groff man
JG_T=$(mktemp -d "${TMPDIR:-/tmp}/jg-$JG_NAME.XXXXXX")
trap 'rm -rf "$JG_T"' EXIT

# ---- 1. make install honours DESTDIR and the prefix -------------------------
prefix=$(sed -n 's/^prefix = //p' "$builddir/Makefile")
dest=$JG_T/dest
if make -s -C "$builddir" install DESTDIR="$dest" >"$JG_T/install.log" 2>&1; then
	jg_ok "make install DESTDIR=... runs"
else
	jg_notok "make install DESTDIR=... runs"
	jg_show "$JG_T/install.log" 20
fi
outside=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | grep -v "^$prefix/" || true)
jg_check "every installed file is under DESTDIR$prefix (outside: ${outside:-none})" [ -z "$outside" ]
for f in bin/jumpgated bin/jumpgate share/man/man1/jumpgate.1 share/man/man8/jumpgated.8 \
	share/man/man5/jumpgated.conf.5 share/doc/jumpgate/examples/jumpgated.conf.example; do
	jg_check "make install puts $prefix/$f" [ -e "$dest$prefix/$f" ]
done
if grep -q '^#define HAVE_SYSTEMD 1' "$builddir/config.h"; then
	jg_check "the units go under the prefix by default" \
		[ -e "$dest$prefix/lib/systemd/system/jumpgated.service" ]
fi

# ---- 2. the Debian package ---------------------------------------------------
# Built from a copy of the sources, not from this build: the same .deb in the
# sanitizer build's suite as in the normal one, where it is built and checked
# (the build compiles the whole tree: about a minute of CPU).
if jg_sanitized; then
	jg_log "the Debian package is built and checked by the normal build's suite (the same sources)"
	jg_done
fi
jg_require dpkg-buildpackage dpkg-deb lintian systemd-analyze
src=$JG_T/pkg/jumpgate
mkdir -p "$src"
# A copy without the build directories: dpkg-buildpackage configures in the tree.
tar -C "$srcdir" --exclude='./build*' --exclude=./.git --exclude=./autom4te.cache \
	--exclude=./debian/jumpgate --exclude=./debian/.debhelper -cf - . | tar -C "$src" -xf -
chmod -R u+w "$src" # make distcheck's source tree is read-only
if [ ! -d "$src/debian" ]; then
	jg_notok "the tree has a debian/ directory"
	jg_done
fi
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" timeout 1800 nice \
	dpkg-buildpackage -us -uc -b) >"$JG_T/build.log" 2>&1; then
	jg_ok "dpkg-buildpackage -us -uc -b builds"
else
	jg_notok "dpkg-buildpackage -us -uc -b builds"
	jg_show "$JG_T/build.log" 40
	jg_done
fi
deb=$(ls "$JG_T"/pkg/jumpgate_*.deb 2>/dev/null | head -n 1)
jg_check "a .deb was produced ($(basename "${deb:-none}"))" [ -n "$deb" ]
[ -n "$deb" ] || jg_done

lintian --fail-on error --no-tag-display-limit "$deb" >"$JG_T/lintian.out" 2>&1 && lrc=0 || lrc=$?
if [ $lrc = 0 ] && ! grep -q '^E:' "$JG_T/lintian.out"; then
	jg_ok "lintian: no errors ($(grep -c '^W:' "$JG_T/lintian.out" || true) warning(s))"
else
	jg_notok "lintian: no errors (exit $lrc)"
	jg_show "$JG_T/lintian.out" 30
fi

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$JG_T/contents"
for f in /usr/bin/jumpgated /usr/bin/jumpgate /usr/libexec/jumpgate/jumpgate-agent \
	/lib/systemd/system/jumpgated.service /lib/systemd/system/jumpgated.socket \
	/usr/lib/sysusers.d/jumpgate.conf /usr/lib/tmpfiles.d/jumpgate.conf \
	/usr/share/man/man1/jumpgate.1.gz /usr/share/man/man8/jumpgated.8.gz \
	/usr/share/man/man5/jumpgated.conf.5.gz \
	/usr/share/doc/jumpgate/examples/jumpgated.conf.example /usr/share/doc/jumpgate/systemd.md; do
	jg_check "the package holds $f" grep -qxF "$f" "$JG_T/contents"
done

ctl=$JG_T/control
dpkg-deb -e "$deb" "$ctl"
jg_check "postinst creates the system user (systemd-sysusers jumpgate.conf)" \
	grep -q 'systemd-sysusers.*jumpgate.conf' "$ctl/postinst"
jg_check "postinst enables jumpgated.service" \
	grep -q "deb-systemd-helper enable 'jumpgated.service'" "$ctl/postinst"
# The socket is the alternative a person chooses: kept enabled on upgrades only
# when it was, never enabled or started on a fresh install.
jg_check "postinst enables the socket only when it was enabled before" \
	grep -q "was-enabled 'jumpgated.socket'" "$ctl/postinst"
jg_check "postinst never starts the socket" \
	bash -c "! grep -q \"deb-systemd-invoke .*'jumpgated.socket'\" '$ctl/postinst'"
jg_check "the package depends on what provides systemd-sysusers" \
	bash -c "dpkg-deb -f '$deb' Depends | grep -q sysusers"

root=$JG_T/root
dpkg-deb -x "$deb" "$root"
for m in usr/share/man/man1/jumpgate.1.gz usr/share/man/man8/jumpgated.8.gz \
	usr/share/man/man5/jumpgated.conf.5.gz; do
	zcat "$root/$m" | groff -ww -man -Tutf8 -z >"$JG_T/groff.err" 2>&1 || true
	MANWIDTH=80 man --warnings=w -l "$root/$m" >"$JG_T/man.out" 2>"$JG_T/man.err" || true
	if [ ! -s "$JG_T/groff.err" ] && [ ! -s "$JG_T/man.err" ] && [ -s "$JG_T/man.out" ]; then
		jg_ok "$(basename "$m") from the package renders without a warning"
	else
		jg_notok "$(basename "$m") from the package renders without a warning"
		jg_show "$JG_T/groff.err" 5
		jg_show "$JG_T/man.err" 5
	fi
done
# verify wants ExecStart's and ExecReload's program on this machine: the unpacked one
# (as t_systemd.sh does with the built one); --root would need a whole system in the
# scratch root.
mkdir -p "$JG_T/units"
sed -e "s|^ExecStart=/usr/bin/jumpgated |ExecStart=$root/usr/bin/jumpgated |" \
	-e "s|^ExecReload=/usr/bin/jumpgated |ExecReload=$root/usr/bin/jumpgated |" \
	"$root/lib/systemd/system/jumpgated.service" >"$JG_T/units/jumpgated.service"
cp "$root/lib/systemd/system/jumpgated.socket" "$JG_T/units/"
set +e
timeout 60 systemd-analyze verify "$JG_T/units/jumpgated.service" "$JG_T/units/jumpgated.socket" \
	>"$JG_T/verify.out" 2>&1
rc=$?
set -e
if [ $rc = 0 ] && [ ! -s "$JG_T/verify.out" ]; then
	jg_ok "systemd-analyze verify of the packaged units: clean"
else
	jg_notok "systemd-analyze verify of the packaged units: clean (exit $rc)"
	jg_show "$JG_T/verify.out" 20
fi
jg_check "the packaged unit runs /usr/bin/jumpgated" grep -q '^ExecStart=/usr/bin/jumpgated ' \
	"$root/lib/systemd/system/jumpgated.service"
"$root/usr/bin/jumpgated" --version >"$JG_T/version" 2>&1 || true
jg_check "the packaged jumpgated runs ($(cat "$JG_T/version"))" grep -q '^jumpgated ' "$JG_T/version"

# ---- 3. a real install, by request --------------------------------------------
if [ "${JG_PACKAGE_INSTALL:-0}" = 1 ]; then
	if dpkg -l jumpgate 2>/dev/null | grep -q '^ii'; then
		jg_notok "jumpgate is not installed already (refusing to replace it)"
		jg_done
	fi
	# What the install creates and purge keeps (the account, tmpfiles.d's
	# directories) is removed after, when it was not there before.
	had_user=0
	id jumpgate >/dev/null 2>&1 && had_user=1
	had_dirs=
	for d in /var/lib/jumpgate /var/log/jumpgate /etc/jumpgate; do
		[ -e "$d" ] && had_dirs="$had_dirs $d"
	done
	if timeout 900 dpkg -i "$deb" >"$JG_T/dpkg.log" 2>&1; then
		jg_ok "dpkg -i installs the package"
	else
		jg_notok "dpkg -i installs the package"
		jg_show "$JG_T/dpkg.log" 20
	fi
	jg_check "the system user jumpgate exists" id jumpgate
	jg_check "jumpgated.service is enabled" \
		test -L /etc/systemd/system/multi-user.target.wants/jumpgated.service
	jg_check "man jumpgated.conf finds the installed page" bash -c 'man -w jumpgated.conf >/dev/null'
	if timeout 900 dpkg --purge jumpgate >>"$JG_T/dpkg.log" 2>&1; then
		jg_ok "dpkg --purge removes it again"
	else
		jg_notok "dpkg --purge removes it again"
	fi
	jg_check "purge leaves no unit link" \
		bash -c '! test -e /etc/systemd/system/multi-user.target.wants/jumpgated.service'
	for d in /var/lib/jumpgate /var/log/jumpgate /etc/jumpgate; do
		case " $had_dirs " in *" $d "*) ;; *) rm -rf "$d" ;; esac
	done
	[ $had_user = 1 ] || userdel jumpgate 2>/dev/null || true
else
	jg_ok "# SKIP real dpkg -i/--purge (JG_PACKAGE_INSTALL=1 to run it)"
fi
jg_done
