#!/bin/bash
# initramfs.sh ARCH TESTDIR PLAN OUT.cpio [MODDIR [OVERLAY]]: a busybox
# initramfs with vm/init, the test binaries of TESTDIR under /tests and PLAN
# as /plan; with MODDIR (a distribution kernel's modules_install), its
# lib/modules and vm/distro-modules.sh; with OVERLAY, directories
# (colon-separated) whose contents are added at / (the arm64-qemu machine's
# L1 userspace).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
arch=$1 tests=$2 plan=$3 outf=$4 mods=${5:-} overlay=${6:-}
case "$arch" in
x86_64) bb=/bin/busybox ;;
arm64) bb=$CACHE/busybox-arm64/bin/busybox ;;
esac
[ -x "$bb" ] || die "no busybox for $arch ($bb): run scripts/deps.sh"
r=$(mktemp -d)
trap 'rm -rf "$r"' EXIT
mkdir -p "$r"/{bin,sbin,proc,sys,dev,tmp,tests,usr/bin,usr/sbin}
cp "$bb" "$r/bin/busybox"
for a in sh mount umount cat echo grep sed sleep dmesg poweroff ls mkdir cut \
	 timeout uname sync mknod head tail awk fold test modprobe rmmod lsmod insmod; do
	ln -s busybox "$r/bin/$a"
done
cp "$TOP/vm/init" "$r/init"
chmod +x "$r/init"
cp "$plan" "$r/plan"
[ -d "$tests" ] && cp -a "$tests"/. "$r/tests/"
if [ -n "$overlay" ]; then
	IFS=: read -r -a dirs <<< "$overlay"
	for d in "${dirs[@]}"; do cp -a "$d"/. "$r/"; done
	rm -f "$r/.done"
fi
if [ -n "$mods" ] && [ -d "$mods/lib/modules" ]; then
	mkdir -p "$r/lib"
	cp -a "$mods/lib/modules" "$r/lib/"
	cp "$TOP/vm/distro-modules.sh" "$r/tests/"
fi
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$outf"
