#!/bin/bash
# Per-operation latency of `exec true` through each onward method that runs
# for real on this machine, warm pool (the onward connection is up before the
# first sample), against the same work done by the method's own tool
# (make bench; not part of make check: figures, not pass/fail):
#   local                      vs  sh -c true
#   ssh (sshd on 127.0.0.3)    vs  ssh through a warm ControlMaster
#   setns into an unshare'd    vs  nsenter -t PID -a true
#     process (pid, uts, ipc, net, mnt namespaces)
#   local/sudo:jgx1            vs  sudo -n -u jgx1 true
#   local/sudo:jgx1/su:jgx2    vs  sudo -u jgx1 sh -c "echo PW | su jgx2 -c true"
#     (su with a password)
#   ssh/sudo:jgx1 chain        vs  ControlMaster + sudo -n -u jgx1 true
#   lxc: a busybox container   vs  lxc-attach -n NAME -- true
#     (no network) this script creates under its own lxc path and destroys;
#     skipped, saying why, when lxc-create or lxc-start fails here
# JG_BENCH_METHOD_RUNS samples each (default 300), after 10 unrecorded ones.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/../integration/users.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
RUNS=${JG_BENCH_METHOD_RUNS:-300}

die() { echo "bench_methods: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (setns, sudo to test users)"
jg_users_setup >/dev/null || die "cannot set up the test users (tests/integration/users.sh)"
jg_ssh_setup
jg_sshd_start dest 127.0.0.3 || die "sshd on 127.0.0.3 does not start"
PD=${JG_SSHD_PORT[dest]}

# A namespaced process to enter (started and stopped by PID).
unshare --fork --pid --mount --uts --ipc --net --mount-proc \
	sh -c 'hostname jg-bench-ns; exec sleep 3600' </dev/null >/dev/null 2>&1 &
jg_track unshare $!
deadline=$((SECONDS + 10))
NSPID=
while [ -z "$NSPID" ] && [ $SECONDS -lt $deadline ]; do
	NSPID=$(cat /proc/$!/task/*/children 2>/dev/null | awk '{ print $1 }')
	[ -n "$NSPID" ] || sleep 0.05
done
[ -n "$NSPID" ] || die "the unshare'd process did not start"

# A real LXC container (t_lxc.sh shows it runs here), under our own lxc path.
LXCP=$JG_T/lxc
LXCN=jgbench$$
LXC_WHY=
mkdir -p "$LXCP"
printf 'lxc.net.0.type = empty\n' >"$JG_T/lxc.conf"
if ! command -v lxc-create >/dev/null 2>&1; then
	LXC_WHY="lxc is not installed"
elif ! timeout 120 lxc-create -P "$LXCP" -n "$LXCN" -t busybox -f "$JG_T/lxc.conf" \
	>"$JG_T/lxc-create.log" 2>&1; then
	LXC_WHY="lxc-create failed: $(tail -n 1 "$JG_T/lxc-create.log")"
elif ! timeout 60 lxc-start -P "$LXCP" -n "$LXCN" -d >"$JG_T/lxc-start.log" 2>&1; then
	LXC_WHY="lxc-start failed: $(tail -n 1 "$JG_T/lxc-start.log")"
fi
lxc_cleanup() {
	timeout 30 lxc-stop -P "$LXCP" -n "$LXCN" -k >/dev/null 2>&1 || true
	timeout 60 lxc-destroy -P "$LXCP" -n "$LXCN" -f >/dev/null 2>&1 || true
}
trap 'lxc_cleanup; jg_cleanup' EXIT

JG_SSH_KEEPALIVE=15
JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore)
targets = (
  $(jg_ssh_target dest 127.0.0.3 "$PD"),
  { name = \"asjgx2\"; method = \"su\"; user = \"jgx2\"; password = \"$JG_USERS_PW_jgx2\"; },
  { name = \"ct\"; method = \"lxc\"; container = \"$LXCN\"; lxc_path = \"$LXCP\"; }
);"
jg_gateway_start || die "gateway does not start"
CFG=$(jg_ssh_client_config)
SSH=(ssh -F "$CFG")
GW=("$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")

CM=$JG_T/cm
cm_start "$CM" "$PD" 127.0.0.3 || die "the ControlMaster did not start: $(cat "$CM.log")"
CMSSH=("${SSH[@]}" -o ControlPath="$CM" -o ControlMaster=no -p "$PD" 127.0.0.3)

# Sanity: each path runs where it should (the answer is checked, not assumed).
expect() {
	local want=$1 out
	shift
	out=$("$@" </dev/null 2>&1) || die "$* failed: $out"
	[ "$out" = "$want" ] || die "$* printed '$out', not '$want'"
}
expect jg-bench-ns "${GW[@]}" exec "local/setns:$NSPID" -- hostname
expect jg-bench-ns nsenter -t "$NSPID" -a hostname
expect jgx1 "${GW[@]}" exec local/sudo:jgx1 -- id -un
expect jgx2 "${GW[@]}" exec local/sudo:jgx1/asjgx2 -- id -un
expect jgx1 "${GW[@]}" exec "ssh:$JG_SSH_USER@127.0.0.3:$PD/sudo:jgx1" -- id -un
expect jgx1 "${CMSSH[@]}" sudo -n -u jgx1 id -un
expect jgx2 sudo -n -u jgx1 sh -c "echo $JG_USERS_PW_jgx2 | su jgx2 -c 'id -un' 2>/dev/null"

rows=()
# row LABEL JG-TARGET BASELINE-COMMAND...: one line of the table.
row() {
	local label=$1 target=$2 f jm bm
	shift 2
	f=${label//[^A-Za-z0-9]/_}
	lat "jg-$f" "$RUNS" 10 "${GW[@]}" exec "$target" -- true
	jm=$(stats "$JG_T/jg-$f.us")
	lat "base-$f" "$RUNS" 10 "$@"
	bm=$(stats "$JG_T/base-$f.us")
	rows+=("$(printf '%-26s %8s %8s   %8s %8s   %6s' "$label" $(echo "$jm" | cut -d' ' -f1,2) \
		$(echo "$bm" | cut -d' ' -f1,2) "$(ratio "${jm%% *}" "${bm%% *}")")")
}

row local local sh -c true
row ssh dest "${CMSSH[@]}" true
row "setns (pid $NSPID)" "local/setns:$NSPID" nsenter -t "$NSPID" -a true
row local/sudo local/sudo:jgx1 sudo -n -u jgx1 true
row local/sudo/su local/sudo:jgx1/asjgx2 \
	sudo -n -u jgx1 sh -c "echo $JG_USERS_PW_jgx2 | su jgx2 -c true 2>/dev/null"
row ssh/sudo "ssh:$JG_SSH_USER@127.0.0.3:$PD/sudo:jgx1" "${CMSSH[@]}" sudo -n -u jgx1 true
if [ -z "$LXC_WHY" ]; then
	expect "$LXCN" "${GW[@]}" exec ct -- hostname
	row lxc ct lxc-attach --clear-env -P "$LXCP" -n "$LXCN" -- true
else
	rows+=("lxc: not measured: $LXC_WHY")
fi

echo "exec true, warm pool, $RUNS runs each: milliseconds (median, p95), ratio of medians"
printf '%-26s %8s %8s   %8s %8s   %6s\n' method jumpgate p95 baseline p95 ratio
printf '%s\n' "${rows[@]}"
jg_gateway_stop
jg_done
