# Helpers of the latency benchmarks (sourced by tests/bench/bench_*.sh).

# stats FILE: "median p95 mean" in ms from microsecond samples, one per line.
stats() {
	sort -n "$1" | awk '{ a[NR] = $1; s += $1 }
		END {
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			i = int(NR * 0.95 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
			printf "%.2f %.2f %.2f\n", m / 1000, a[i] / 1000, s / NR / 1000
		}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# lat NAME RUNS WARMUP COMMAND...: time each run of COMMAND (stdin /dev/null,
# stdout /dev/null) into $JG_T/NAME.us; a failed run is counted in FAILS.
lat() {
	local name=$1 runs=$2 warm=$3 i t0 t1
	shift 3
	: >"$JG_T/$name.us"
	FAILS=0
	for ((i = 0; i < warm; i++)); do "$@" </dev/null >/dev/null 2>&1 || true; done
	for ((i = 0; i < runs; i++)); do
		t0=${EPOCHREALTIME/./}
		"$@" </dev/null >/dev/null 2>"$JG_T/$name.err" || FAILS=$((FAILS + 1))
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$JG_T/$name.us"
	done
	[ "$FAILS" = 0 ] || { echo "WARNING: $name: $FAILS of $runs runs failed:" >&2; head -n 3 "$JG_T/$name.err" >&2; }
}

# cm_start PATH PORT HOST: an ssh ControlMaster ("${SSH[@]}" -M) to HOST:PORT at control
# path PATH, in the foreground of a background job (tracked, stopped by PID);
# returns once it answers -O check (at most 10 s; 1 otherwise, log in PATH.log).
cm_start() {
	local cm=$1 port=$2 host=$3 deadline
	"${SSH[@]}" -M -N -o ControlPath="$cm" -o ControlPersist=no -p "$port" "$host" \
		</dev/null >"$cm.log" 2>&1 &
	jg_track "controlmaster-${cm##*/}" $!
	deadline=$((SECONDS + 10))
	until "${SSH[@]}" -o ControlPath="$cm" -O check -p "$port" "$host" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# sshd_range NAME FIRST N: loopback sshds (tests/integration/sshd.sh) on
# 127.0.0.FIRST .. FIRST+N-1, one per 16 addresses (sshd's limit), named
# NAME0, NAME1...; port_of[I] is the port of 127.0.0.I, RANGE_GROUPS the
# number of sshds.  1 (with a warning) when one does not start.
sshd_range() {
	local name=$1 first=$2 n=$3 i last j addrs g=0
	port_of=()
	i=$first
	while [ "$i" -lt $((first + n)) ]; do
		addrs=
		last=$((i + 15))
		[ $last -lt $((first + n)) ] || last=$((first + n - 1))
		for j in $(seq "$i" $last); do addrs="$addrs 127.0.0.$j"; done
		# shellcheck disable=SC2086
		jg_sshd_start "$name$g" $addrs || { echo "WARNING: sshd on 127.0.0.$i-$last did not start" >&2; return 1; }
		for j in $(seq "$i" $last); do port_of[$j]=${JG_SSHD_PORT[$name$g]}; done
		i=$((last + 1))
		g=$((g + 1))
	done
	RANGE_GROUPS=$g
}

# range_conf FIRST N: the gateway's configuration for the targets sshd_range
# started: ssh_defaults (host keys ignored, keepalive 15 s) and inventory
# entries tFIRST.. (127.0.0.FIRST..) with the ports of port_of.
range_conf() {
	local i targets=''
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		targets="$targets${targets:+,
  }$(jg_ssh_target "t$i" "127.0.0.$i" "${port_of[$i]}")"
	done
	JG_SSH_KEEPALIVE=15 jg_ssh_conf_defaults ignore
	printf 'targets = (\n  %s\n);\n' "$targets"
}

# scp_legacy: "-O" where scp has it (the test sshd has no sftp subsystem:
# the classic scp protocol), else nothing.
scp_legacy() {
	local u
	u=$(scp -O 2>&1 || true)
	printf '%s\n' "$u" | grep -qi 'illegal option\|unknown option' || echo -O
}

# from_clients: the gateway's /v1/stats bytes.from_clients.
from_clients() { jg_curl /v1/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"]["from_clients"])'; }

# sink_start NAME [sha256]: a TCP sink on 127.0.0.1 (python3, tracked by
# PID) that reads each connection to EOF and answers the byte count, or with
# sha256 "COUNT HEX" (the bytes' sha256); its port into SINK_PORT.
sink_start() {
	local name=$1 mode=${2:-count} i
	cat >"$JG_T/sink.py" <<'PY'
import hashlib, os, socket, sys, threading
def handle(c):
    n = 0
    h = hashlib.sha256() if sys.argv[2] == 'sha256' else None
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        n += len(d)
        if h:
            h.update(d)
    c.sendall(b'%d %s\n' % (n, h.hexdigest().encode()) if h else b'%d\n' % n)
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(16)
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write('%d\n' % s.getsockname()[1])
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
	rm -f "$JG_T/$name.port"
	python3 "$JG_T/sink.py" "$JG_T/$name.port" "$mode" </dev/null >"$JG_T/$name.err" 2>&1 &
	jg_track "$name" $!
	for i in $(seq 1 100); do [ -s "$JG_T/$name.port" ] && break; sleep 0.05; done
	[ -s "$JG_T/$name.port" ] || { echo "WARNING: the sink $name did not start: $(head -c 300 "$JG_T/$name.err")" >&2; return 1; }
	SINK_PORT=$(cat "$JG_T/$name.port")
}

# Throughput runs (names no script redefines): median_of (the median of the numbers on
# stdin), mb_per_s NS BYTES (MB/s, 10^6), time_median WANT CMD...: the median ns of
# $REPEAT runs of CMD, each of which must print WANT (a warning on stderr otherwise;
# stderr of CMD to $JG_T/run.err).
median_of() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mb_per_s() { awk -v ns="$1" -v b="$2" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }
time_median() {
	local want=$1 i t0 out
	shift
	for i in $(seq 1 "$REPEAT"); do
		t0=$(date +%s%N)
		out=$("$@" 2>>"$JG_T/run.err")
		echo $(($(date +%s%N) - t0))
		[ "$out" = "$want" ] || echo "WARNING: $* answered '$out', want '$want'" >&2
	done | median_of
}
