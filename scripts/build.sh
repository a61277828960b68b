#!/bin/bash
# build.sh ARCH TREE OUT: build, out of tree and with ccache,
#   OUT/ARCH/kernel  the kernel (tinyconfig + configs/common + configs/ARCH)
#   OUT/ARCH/hdr     the tree's uAPI headers
#   OUT/ARCH/tests   the iommu selftests, static, against those headers
#   OUT/ARCH/tests/iommufd_fuzz  the fuzzer (fuzz/), against the same headers
# Every option a fragment sets is checked in the final .config.
# BUILD_PARTS (default "kernel tests fuzz") narrows it: make bisect builds
# "tests" alone at each prefix, as the fuzzer needs the whole series' uAPI.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
arch=${1:?usage: build.sh ARCH TREE OUT}; tree=${2:?}; out=${3:?}
case "$arch" in
x86_64) karch=x86_64; cross=; image=bzImage; imgpath=arch/x86/boot/bzImage ;;
arm64)  karch=arm64; cross=aarch64-linux-gnu-; image=Image; imgpath=arch/arm64/boot/Image ;;
*) die "unknown ARCH $arch" ;;
esac
frags=("$TOP/configs/common.config" "$TOP/configs/$arch.config")
[ -n "${EXTRA_CONFIGS:-}" ] && frags+=($EXTRA_CONFIGS)
o=$out/$arch/kernel
mkdir -p "$o"
export ARCH=$karch CROSS_COMPILE=$cross
export CCACHE_BASEDIR=$tree
kmake() { make -s -C "$tree" O="$o" CC="ccache ${cross}gcc" HOSTCC="ccache gcc" -j"$(nproc)" "$@"; }

# Every option a fragment sets must hold in the final .config; checked
# after each build too, as a patch that changes a Kconfig file makes the
# build reconfigure on its own.
# A symbol that no Kconfig file of the tree defines is one a later patch of
# the series adds: make bisect, which builds every prefix, says so with
# FRAGS_LATER_OK=1, and such a symbol is then skipped. Anywhere else (the
# tip of the series) it fails, so that a misspelt option cannot pass.
in_kconfig() {
	[ -z "${FRAGS_LATER_OK:-}" ] ||
		grep -rqsx --include='Kconfig*' "config ${1#CONFIG_}" "$tree"
}
check_frags() {
	local bad=0 line opt
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" "$o/.config" && { log "config: $opt is set, fragment says n"; bad=1; } ;;
		CONFIG_*=*) grep -qxF "$line" "$o/.config" || ! in_kconfig "${line%%=*}" ||
			{ log "config: $line missing: $(grep "^$line\|^# ${line%%=*} " "$o/.config" || echo unset)"; bad=1; } ;;
		esac
	done < <(cat "${frags[@]}")
	[ $bad = 0 ] || die "$arch: the fragments do not hold (dependencies?)"
}

parts=${BUILD_PARTS:-kernel tests fuzz}
if [[ " $parts " == *" kernel "* ]]; then
sum=$(cat "${frags[@]}" | sha256sum | cut -c1-16)
# Configure anew when the fragments changed, or when one of their options
# does not hold although the tree defines it now (a patch added it).
if [ ! -f "$o/.config" ] || [ "$(cat "$o/.frags" 2>/dev/null)" != "$sum" ] ||
   ! (check_frags) >/dev/null 2>&1; then
	log "$arch: configuring (tinyconfig + ${frags[*]##*/})"
	kmake tinyconfig >/dev/null
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	check_frags
	echo "$sum" > "$o/.frags"
fi
log "$arch: building $image"
rm -f "$out/$arch/$image"
kmake "$image"
check_frags
cp "$o/$imgpath" "$out/$arch/$image"
fi
[[ " $parts " == *" tests "* ]] || { log "$arch: done"; exit 0; }

log "$arch: uAPI headers and selftests"
kmake headers_install INSTALL_HDR_PATH="$out/$arch/hdr" >/dev/null
rm -rf "$out/$arch/tests"
mkdir -p "$out/$arch/tests"
# A fragment may declare that its kernel is slow ("# test-time-scale: N",
# configs/debug.config): the selftests' alarms are then scaled by N
# (vm/alarm-scale.c), and run-vm.sh reads time-scale for the suites'.
scale=$(sed -n 's/^# test-time-scale: *\([0-9]*\)$/\1/p' "${frags[@]}" | tail -1)
scale=${scale:-1}
echo "$scale" > "$out/$arch/time-scale"
ldflags="-static"
if [ "$scale" != 1 ]; then
	"${cross}gcc" -O2 -c -DALARM_SCALE="$scale" -o "$out/$arch/alarm-scale.o" \
		"$TOP/vm/alarm-scale.c"
	ldflags="-static -Wl,--wrap=alarm $out/$arch/alarm-scale.o"
fi
for d in iommu; do
	# -B: the binaries also depend on the uAPI headers and on headers of
	# the tree (iommufd_test.h) that the selftest makefiles do not list.
	CFLAGS="-static" LDFLAGS="$ldflags" make -B -s -C "$tree/tools/testing/selftests/$d" \
		ARCH="$karch" CROSS_COMPILE="$cross" CC="${cross}gcc" \
		KHDR_INCLUDES="-isystem $out/$arch/hdr/include" \
		OUTPUT="$out/$arch/tests" all
done
# The harness's fuzzer (fuzz/): the same headers, plus the tree's mock
# test ABI (drivers/iommu/iommufd/iommufd_test.h).
[[ " $parts " == *" fuzz "* ]] || { log "$arch: done"; exit 0; }
"${cross}gcc" -static -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror \
	-pthread -isystem "$out/$arch/hdr/include" \
	-I "$tree/drivers/iommu/iommufd" \
	-o "$out/$arch/tests/iommufd_fuzz" "$TOP/fuzz/iommufd_fuzz.c"
log "$arch: done"
