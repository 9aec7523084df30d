#!/bin/bash
# Install the Debian 12 packages jumpgate needs to build, test, fuzz and
# benchmark -- only those missing (dpkg -s), with one `apt-get update` and
# only when something is missing.  Runs as root with no terminal and no stdin
# (CI); as another user it says what to run instead.
#   scripts/install-deps.sh          install what is missing
#   scripts/install-deps.sh --check  list what is missing, exit 1 if anything
set -euo pipefail

PACKAGES="
build-essential autoconf automake pkg-config
libevent-dev libnghttp2-dev libssl-dev libcunit1-dev libconfig-dev libjansson-dev
openssl curl nghttp2-client
clang clang-format
rsync openssh-server
sudo opendoas lxc busybox-static util-linux iproute2
libsystemd-dev systemd
debhelper lintian man-db groff-base
hyperfine bash-builtins
prometheus logrotate haproxy ansible ansible-mitogen
"

missing=
for p in $PACKAGES; do
	if ! dpkg -s "$p" >/dev/null 2>&1 ||
		! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all $(echo $PACKAGES | wc -w) packages present"
	exit 0
fi

echo "install-deps: missing:$missing"
if [ "${1:-}" = --check ]; then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (sudo $0), or: apt-get install$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() {
	# A lock held by an unattended upgrade: wait for it (bounded) rather than fail.
	apt-get -o DPkg::Lock::Timeout=300 -q -y "$@" </dev/null
}
apt_get update
# shellcheck disable=SC2086
apt_get install --no-install-recommends $missing
echo "install-deps: installed:$missing"
