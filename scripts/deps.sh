#!/bin/bash
# Install what the pipeline needs, idempotently: build tools, cross
# compiler, clang and LLVM (the W=1 checks), ccache, QEMU 10.0 from bookworm-backports, busybox for both
# architectures, arm64's static libcap. Safe to run again: it does nothing when all is present.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs=(build-essential make bc bison flex libelf-dev libssl-dev cpio ccache
	   gcc-aarch64-linux-gnu libc6-dev-arm64-cross xz-utils rsync
	   python3 perl git sparse kmod busybox-static libcap-dev util-linux
	   clang lld llvm debian-archive-keyring)
need_bpo=(qemu-system-x86 qemu-system-arm)

missing=()
for p in "${need_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
qemu_ok=1
for b in qemu-system-x86_64 qemu-system-aarch64; do
	v=$("$b" --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1 || true)
	[ -n "$v" ] && [ "$v" -ge 10 ] || qemu_ok=0
done
arm64_ok=1
dpkg --print-foreign-architectures | grep -qx arm64 || arm64_ok=0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if [ ${#missing[@]} -gt 0 ] || [ $qemu_ok = 0 ] || [ $arm64_ok = 0 ]; then
	if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deps: adding bookworm-backports"
		echo 'deb http://deb.debian.org/debian bookworm-backports main' |
			$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
	fi
	[ $arm64_ok = 1 ] || $SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -q
	export DEBIAN_FRONTEND=noninteractive
	[ ${#missing[@]} -eq 0 ] || $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
	[ $qemu_ok = 1 ] || $SUDO apt-get install -y -q --no-install-recommends \
		-t bookworm-backports "${need_bpo[@]}" ipxe-qemu seabios qemu-efi-aarch64
fi

# arm64_deb PKG DIR FILE: the arm64 package PKG unpacked into DIR, unless
# DIR/FILE is there: downloaded, never installed on the host.
arm64_deb() {
	local pkg=$1 dir=$2 tmp
	[ -e "$dir/$3" ] && return 0
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "$pkg:arm64") ||
		{ $SUDO apt-get update -q && (cd "$tmp" && apt-get download -q "$pkg:arm64"); }
	mkdir -p "$dir"
	dpkg-deb -x "$tmp/${pkg}"_*_arm64.deb "$dir"
	rm -rf "$tmp"
}
# busybox for the arm64 VMs (not installed: it would replace the host's)
arm64_deb busybox-static "$CACHE/busybox-arm64" bin/busybox
# static libcap for mainline's selftests, which link -lcap
arm64_deb libcap-dev "$CACHE/libcap-arm64" usr/lib/aarch64-linux-gnu/libcap.a
echo "deps: ok ($(qemu-system-x86_64 --version | head -1))"
