#!/bin/bash
# systemd: the units as built (systemd/local.mk) pass `systemd-analyze verify`
# and carry the hardening; jumpgated speaks sd_notify for real (READY=1,
# STATUS=, WATCHDOG=1 every half period, STOPPING=1 on SIGTERM) to a fake
# NOTIFY_SOCKET this test listens on, keeps the systemd variables from the
# programs it runs, and serves a socket it is handed (socket activation with
# systemd-socket-activate) instead of binding its configured address.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require systemd-analyze
jg_init_pki

unit=$builddir/systemd/jumpgated.service
socket=$builddir/systemd/jumpgated.socket
have_sd=0
grep -q '^#define HAVE_SYSTEMD 1' "$builddir/config.h" 2>/dev/null && have_sd=1

# --- 1. the units.
if [ -s "$unit" ] && [ -s "$socket" ] && ! grep -q '@[a-z]*@' "$unit" "$socket"; then
	jg_ok "units generated with their paths filled in ($(grep '^ExecStart=' "$unit"))"
else
	jg_notok "units generated in $builddir/systemd with their paths filled in"
	jg_done
fi

# verify checks that ExecStart's (and ExecReload's) program exists: point it at the one built.
mkdir -p "$JG_T/units"
sed -e "s|^ExecStart=[^ ]*/jumpgated |ExecStart=$JUMPGATED |" \
	-e "s|^ExecReload=[^ ]*/jumpgated |ExecReload=$JUMPGATED |" "$unit" >"$JG_T/units/jumpgated.service"
cp "$socket" "$JG_T/units/jumpgated.socket"
set +e
timeout 60 systemd-analyze verify "$JG_T/units/jumpgated.service" "$JG_T/units/jumpgated.socket" \
	>"$JG_T/verify.out" 2>&1
rc=$?
set -e
if [ $rc = 0 ] && [ ! -s "$JG_T/verify.out" ]; then
	jg_ok "systemd-analyze verify jumpgated.service jumpgated.socket: clean"
else
	jg_notok "systemd-analyze verify: clean (exit $rc)"
	jg_show "$JG_T/verify.out" 20
fi

missing=
for kv in Type=notify NotifyAccess=main WatchdogSec=30 KillMode=mixed User=jumpgate \
	Group=jumpgate StateDirectory=jumpgate RuntimeDirectory=jumpgate LogsDirectory=jumpgate \
	Environment=JUMPGATE_HOME=/var/lib/jumpgate UMask=0077 NoNewPrivileges=yes \
	CapabilityBoundingSet= ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	'ReadWritePaths=/var/lib/jumpgate /var/log/jumpgate' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' SystemCallFilter=@system-service \
	LockPersonality=yes MemoryDenyWriteExecute=yes RestrictRealtime=yes \
	ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
	ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes RestrictNamespaces=yes; do
	grep -qxF -- "$kv" "$unit" || missing="$missing $kv"
done
if [ -z "$missing" ]; then
	jg_ok "jumpgated.service has the notify, watchdog, account and hardening settings"
else
	jg_notok "jumpgated.service lacks:$missing"
fi
if grep -q '^TimeoutStopSec=' "$unit" && grep -qx 'ListenStream=127.0.0.1:4443' "$socket"; then
	jg_ok "TimeoutStopSec set; jumpgated.socket listens on 127.0.0.1:4443"
else
	jg_notok "TimeoutStopSec set; jumpgated.socket listens on 127.0.0.1:4443"
fi
if grep -qx 'u jumpgate - "jumpgate gateway" /var/lib/jumpgate' \
	"$builddir/systemd/sysusers.d/jumpgate.conf" &&
	grep -q '^d *\/var\/lib\/jumpgate *0700 *jumpgate *jumpgate' \
		"$builddir/systemd/tmpfiles.d/jumpgate.conf"; then
	jg_ok "sysusers.d and tmpfiles.d entries for the jumpgate account and its state"
else
	jg_notok "sysusers.d and tmpfiles.d entries for the jumpgate account and its state"
fi

# The exposure score, for the record; the hardening above keeps it low.
set +e
timeout 60 systemd-analyze security --offline=true "$JG_T/units/jumpgated.service" \
	>"$JG_T/security.out" 2>&1
rc=$?
set -e
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$JG_T/security.out")
if [ $rc = 0 ] && [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 3.0) }'; then
	jg_ok "systemd-analyze security --offline=true: exposure $score (below 3.0)"
elif grep -qi 'unrecognized option\|unknown option' "$JG_T/security.out"; then
	jg_ok "# SKIP systemd-analyze security --offline needs systemd >= 250"
else
	jg_notok "systemd-analyze security --offline=true: exposure below 3.0 (exit $rc, '$score')"
	jg_show "$JG_T/security.out" 10
fi

if [ $have_sd = 0 ]; then
	jg_ok "# SKIP built without libsystemd (sd_notify and socket activation are no-ops)"
	jg_done
fi

# --- 2. sd_notify, to a NOTIFY_SOCKET this test reads.
if ! command -v python3 >/dev/null 2>&1; then
	jg_ok "# SKIP python3 not installed (the fake NOTIFY_SOCKET needs it)"
else
	notify_sock=$JG_T/notify.sock
	notify_log=$JG_T/notify.log
	: >"$notify_log"
	# One line per assignment received; stops after 120 s, or once $sock.stop exists.
	python3 -c '
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.1)
end = time.time() + 120
with open(out, "a") as f:
    while time.time() < end and not os.path.exists(path + ".stop"):
        try:
            m = s.recv(4096)
        except socket.timeout:
            continue
        for line in m.decode(errors="replace").split("\n"):
            if line:
                f.write(line + "\n")
        f.flush()
' "$notify_sock" "$notify_log" &
	jg_track notify $!
	deadline=$((SECONDS + 10))
	while [ ! -S "$notify_sock" ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done

	# A wrapper that execs, so the gateway keeps the pid WATCHDOG_PID names
	# (as systemd sets it), and jg_gateway_start tracks that pid.
	real=$JUMPGATED
	cat >"$JG_T/under-systemd" <<WRAP
#!/bin/sh
NOTIFY_SOCKET='$notify_sock' WATCHDOG_USEC=500000 WATCHDOG_PID=\$\$
export NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
exec '$real' "\$@"
WRAP
	chmod +x "$JG_T/under-systemd"
	JUMPGATED=$JG_T/under-systemd
	JG_DRAIN_TIMEOUT=1.0
	jg_gateway_start || { jg_notok "gateway starts under the fake NOTIFY_SOCKET"; jg_done; }
	JUMPGATED=$real
	jg_ok "gateway starts on 127.0.0.1:$JG_PORT with NOTIFY_SOCKET and WATCHDOG_USEC=500000"

	# wait_line PATTERN SECONDS: until the notify log has a line matching PATTERN.
	wait_line() {
		local deadline=$((SECONDS + $2))
		until grep -q -- "$1" "$notify_log"; do
			[ $SECONDS -lt $deadline ] || return 1
			sleep 0.05
		done
	}
	if wait_line '^READY=1$' 5; then
		jg_ok "READY=1 once serving"
	else
		jg_notok "READY=1 once serving"
		jg_show "$notify_log"
	fi
	if grep -q '^STATUS=serving' "$notify_log"; then
		jg_ok "STATUS: $(grep '^STATUS=' "$notify_log" | tail -n1)"
	else
		jg_notok "a STATUS=serving line"
	fi
	n1=$(grep -c '^WATCHDOG=1$' "$notify_log" || true)
	sleep 1.2
	n2=$(grep -c '^WATCHDOG=1$' "$notify_log" || true)
	# Every 250 ms: about 5 in 1.2 s; at least 3 however loaded the machine.
	if [ $((n2 - n1)) -ge 3 ]; then
		jg_ok "WATCHDOG=1 every half WatchdogSec ($((n2 - n1)) pings in 1.2 s)"
	else
		jg_notok "WATCHDOG=1 every half WatchdogSec ($((n2 - n1)) pings in 1.2 s)"
	fi
	# shellcheck disable=SC2016
	out=$(jg_exec sh -c 'echo "${NOTIFY_SOCKET-none} ${WATCHDOG_USEC-none} ${WATCHDOG_PID-none}"' </dev/null 2>&1) || true
	if [ "$out" = "none none none" ]; then
		jg_ok "programs the gateway runs inherit no NOTIFY_SOCKET or WATCHDOG_*"
	else
		jg_notok "programs the gateway runs inherit no NOTIFY_SOCKET or WATCHDOG_* (got '$out')"
	fi
	if jg_gateway_stop 10; then
		jg_ok "SIGTERM: gateway exits 0"
	else
		jg_notok "SIGTERM: gateway exits 0 (status $JG_GW_STATUS)"
	fi
	if wait_line '^STOPPING=1$' 2 && grep -q '^STATUS=draining' "$notify_log" &&
		[ "$(grep -n '^READY=1$' "$notify_log" | head -n1 | cut -d: -f1)" -lt \
			"$(grep -n '^STOPPING=1$' "$notify_log" | head -n1 | cut -d: -f1)" ]; then
		jg_ok "SIGTERM: STOPPING=1 after READY=1, and STATUS: $(grep '^STATUS=draining' "$notify_log")"
	else
		jg_notok "SIGTERM: STOPPING=1 after READY=1, and a STATUS=draining line"
		jg_show "$notify_log"
	fi

	# A watchdog meant for another process (WATCHDOG_PID not ours): no pings.
	: >"$notify_log"
	sed -i 's/WATCHDOG_PID=\$\$/WATCHDOG_PID=1/' "$JG_T/under-systemd"
	JUMPGATED=$JG_T/under-systemd
	jg_gateway_start || { jg_notok "gateway starts with WATCHDOG_PID=1"; jg_done; }
	JUMPGATED=$real
	wait_line '^READY=1$' 5 || true
	sleep 0.8
	if grep -q '^READY=1$' "$notify_log" && ! grep -q '^WATCHDOG=1$' "$notify_log"; then
		jg_ok "WATCHDOG_PID naming another process: READY=1 but no pings"
	else
		jg_notok "WATCHDOG_PID naming another process: READY=1 but no pings"
		jg_show "$notify_log"
	fi
	jg_gateway_stop 10 || true
	touch "$notify_sock.stop"
	pid=$(cat "$JG_T/pids/notify.pid")
	jg_wait_gone "$pid" 5 || kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	jg_untrack notify
fi

# --- 3. socket activation: systemd-socket-activate binds, jumpgated serves fd 3.
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	jg_ok "# SKIP systemd-socket-activate not installed (package systemd)"
	jg_done
fi
started=
for attempt in 1 2 3; do
	JG_PORT=$(jg_free_port)           # the configuration's listen: must stay unbound
	cfg_port=$JG_PORT
	JG_CONF=$JG_T/activated-$attempt.conf
	JG_GW_LOG=$JG_T/activated-$attempt.log
	jg_write_config "$JG_CONF"
	JG_PORT=$(jg_free_port)           # the socket systemd-socket-activate passes
	[ "$JG_PORT" != "$cfg_port" ] || continue
	systemd-socket-activate -l "127.0.0.1:$JG_PORT" "$JUMPGATED" -f -c "$JG_CONF" \
		>"$JG_GW_LOG" 2>&1 </dev/null &
	JG_GW_PID=$!
	jg_track gateway "$JG_GW_PID"
	deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ] && jg_alive "$JG_GW_PID"; do
		if [ "$(jg_http_code GET /healthz)" = 200 ]; then
			started=1
			break 2
		fi
		sleep 0.1
	done
	jg_gateway_stop 5 || true
	grep -qi 'in use' "$JG_GW_LOG" || break
done
if [ -n "$started" ]; then
	jg_ok "socket-activated: /healthz answers 200 on the passed socket 127.0.0.1:$JG_PORT"
else
	jg_notok "socket-activated: /healthz answers 200 on the passed socket"
	jg_done
fi
if ! jg_port_in_use "$cfg_port" && grep -q 'socket activation: serving the inherited socket 127.0.0.1:' "$JG_GW_LOG"; then
	jg_ok "socket-activated: the configured 127.0.0.1:$cfg_port is not bound; the log says why"
else
	jg_notok "socket-activated: the configured 127.0.0.1:$cfg_port is not bound; the log says why"
fi
lsock=$(readlink "/proc/$JG_GW_PID/fd/3" 2>/dev/null || echo '?')
# shellcheck disable=SC2016
out=$(jg_exec sh -c 'echo "LISTEN_FDS=${LISTEN_FDS-none} LISTEN_PID=${LISTEN_PID-none}"; for f in /proc/$$/fd/*; do readlink "$f"; done' </dev/null 2>&1) || true
case $lsock in socket:*) ;; *) jg_notok "the gateway holds the passed socket as fd 3 ($lsock)" ;; esac
if printf '%s\n' "$out" | grep -qx 'LISTEN_FDS=none LISTEN_PID=none' &&
	! printf '%s\n' "$out" | grep -qxF "$lsock"; then
	jg_ok "programs the gateway runs inherit neither the listening socket ($lsock) nor LISTEN_*"
else
	jg_notok "programs the gateway runs inherit neither the listening socket ($lsock) nor LISTEN_*"
	printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
fi
out=$(jg_exec echo activated </dev/null 2>&1) || true
jg_check "socket-activated: exec local works ('$out')" test "$out" = activated
if jg_gateway_stop 10; then
	jg_ok "socket-activated gateway exits 0 on SIGTERM"
else
	jg_notok "socket-activated gateway exits 0 on SIGTERM (status $JG_GW_STATUS)"
fi

jg_done
