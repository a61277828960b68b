#!/bin/bash
# build.sh ARCH TREE OUT: build, out of tree and with ccache,
#   OUT/ARCH/kernel  the kernel (tinyconfig + configs/common + configs/ARCH)
#   OUT/ARCH/hdr     the tree's uAPI headers
#   OUT/ARCH/tests   the iommu selftests, static, against those headers
#   OUT/ARCH/tests/iommufd_fuzz  the fuzzer (fuzz/), against the same headers
# Every option a fragment sets is checked in the final .config.
# BUILD_PARTS (default "kernel tests fuzz") narrows it: make bisect builds
# "tests" alone at each prefix, as the fuzzer needs the whole series' uAPI;
# "config" only configures (warn-check.sh compiles single files there).
# BUILD_LLVM=1 builds with clang and LLVM's tools (LLVM=1) instead of gcc.
# BUILD_FLAVOUR=distro builds the distribution kernel instead: Debian's own
# configuration of the base (scripts/distro-config.sh) with
# configs/distro.config, reduced to the modules of configs/distro-ARCH.modules,
# and its modules, installed in OUT/ARCH/modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
arch=${1:?usage: build.sh ARCH TREE OUT}; tree=${2:?}; out=${3:?}
case "$arch" in
x86_64) karch=x86_64; cross=; image=bzImage; imgpath=arch/x86/boot/bzImage ;;
arm64)  karch=arm64; cross=aarch64-linux-gnu-; image=Image; imgpath=arch/arm64/boot/Image ;;
*) die "unknown ARCH $arch" ;;
esac
flavour=${BUILD_FLAVOUR:-test}
if [ "$flavour" = distro ]; then
	frags=("$TOP/configs/distro.config")
	[ -f "$TOP/configs/distro-$arch.config" ] && frags+=("$TOP/configs/distro-$arch.config")
else
	frags=("$TOP/configs/common.config" "$TOP/configs/$arch.config")
fi
[ -n "${EXTRA_CONFIGS:-}" ] && frags+=($EXTRA_CONFIGS)
o=$out/$arch/kernel
mkdir -p "$o"
export ARCH=$karch CROSS_COMPILE=$cross
export CCACHE_BASEDIR=$tree
if [ -n "${BUILD_LLVM:-}" ]; then
	kmake() { make -s -C "$tree" O="$o" LLVM=1 CC="ccache clang" HOSTCC="ccache clang" -j"$(nproc)" "$@"; }
else
	kmake() { make -s -C "$tree" O="$o" CC="ccache ${cross}gcc" HOSTCC="ccache gcc" -j"$(nproc)" "$@"; }
fi

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

# The distribution kernel.  Debian's choice for every symbol that
# drivers/iommu and drivers/vfio define is kept (distro_keep), but for what
# the fragments set; every other module Debian builds and the machines do
# not load (configs/distro-ARCH.modules) is dropped, as localmodconfig
# does, and so are the drivers of hardware the machine does not have
# (distro_hw_off), so that it builds in minutes.
distro_syms() {
	grep -h '^\(menu\)\?config ' $(find "$tree/drivers/iommu" "$tree/drivers/vfio" -name 'Kconfig*') |
		awk '{print $2}' | sort -u
}
distro_keep() {	# Debian's lines for those symbols
	distro_syms | while read -r x; do
		grep -E "^(# )?CONFIG_$x[= ]" "$debcfg" || true
	done
}
# The hardware the machine has: the drivers its test kernel (tinyconfig +
# common.config + ARCH.config) builds.  Debian's other hardware drivers
# (symbols of drivers/ and sound/ outside drivers/iommu and drivers/vfio)
# are left out, built in or not; its core (kernel, mm, fs, net, security,
# crypto, block, arch) is kept whole, and so are its firmware interfaces
# (drivers/acpi, drivers/firmware/efi): the arm64-qemu machine boots this
# kernel as its L2 guest through UEFI and ACPI, which QEMU's accelerated
# vSMMU requires.
distro_hw_off() {
	local t
	t=$(mktemp -d)
	make -s -C "$tree" O="$t" tinyconfig >/dev/null
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$t" "$t/.config" \
		"$TOP/configs/common.config" "$TOP/configs/$arch.config" >/dev/null
	make -s -C "$tree" O="$t" olddefconfig >/dev/null
	grep -h -E '^(menu)?config ' $(find "$tree/drivers" "$tree/sound" -name 'Kconfig*' \
		-not -path "$tree/drivers/iommu/*" -not -path "$tree/drivers/vfio/*" \
		-not -path "$tree/drivers/acpi/*" -not -path "$tree/drivers/firmware/efi/*") |
		awk '{print $2}' | sort -u > "$t/drv"
	sed -n 's/^CONFIG_\([A-Za-z0-9_]*\)=[ym]$/\1/p' "$t/.config" | sort -u > "$t/have"
	sed -n 's/^CONFIG_\([A-Za-z0-9_]*\)=[ym]$/\1/p' "$o/.config" | sort -u |
		comm -12 - "$t/drv" | comm -23 - "$t/have" | sed 's/.*/CONFIG_&=n/'
	rm -rf "$t"
}
distro_configure() {
	cp "$debcfg" "$o/.config"
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	{ echo "Module Size Used by"; grep -v '^#' "$mods" | awk 'NF { print $1, 0, 0 }'; } > "$o/lsmod"
	kmake LSMOD="$o/lsmod" localmodconfig </dev/null >/dev/null 2>&1 ||
		die "$arch: localmodconfig failed"
	distro_hw_off > "$o/hw-off.config"
	distro_keep > "$o/debian-keep.config"
	# The fragments last: they keep what Debian's IOMMU and VFIO choices
	# depend on outside drivers/iommu and drivers/vfio
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" \
		"$o/hw-off.config" "$o/debian-keep.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	distro_check
}
# Debian's IOMMU and VFIO choices hold, but for the fragments' own.
distro_check() {
	local bad=0 line x want have
	while IFS= read -r line; do
		x=$(echo "$line" | sed -E 's/^# (CONFIG_[A-Za-z0-9_]*) is not set$/\1/; s/=.*//')
		grep -qE "^(# )?$x[= ]" <(cat "${frags[@]}") && continue
		want=$(echo "$line" | sed -E 's/^# (CONFIG_[A-Za-z0-9_]*) is not set$/\1=n/')
		have=$(grep -E "^(# )?$x[= ]" "$o/.config" | sed -E 's/^# (CONFIG_[A-Za-z0-9_]*) is not set$/\1=n/' || true)
		[ -n "$have" ] || have="$x=n"
		if [ "$want" != "$have" ]; then
			log "config: Debian has $want, the distribution kernel $have"
			bad=1
		fi
	done < "$o/debian-keep.config"
	[ $bad = 0 ] || die "$arch: Debian's IOMMU/VFIO choices do not hold (a dependency dropped? configs/distro-$arch.modules)"
}

parts=${BUILD_PARTS:-kernel tests fuzz}
if [[ " $parts " == *" kernel "* || " $parts " == *" config "* ]]; then
if [ "$flavour" = distro ]; then
	debcfg=$(bash "$TOP/scripts/distro-config.sh" "$arch")
	mods=$TOP/configs/distro-$arch.modules
	# distro_hw_off reads the test kernel's fragments too, and its rules
	# are this script's
	sum=$(cat "${frags[@]}" "$debcfg" "$mods" "$TOP/configs/common.config" \
		"$TOP/configs/$arch.config" "$0" | sha256sum | cut -c1-16)
else
	sum=$(cat "${frags[@]}" | sha256sum | cut -c1-16)
fi
# Configure anew when the fragments changed, or when one of their options
# does not hold although the tree defines it now (a patch added it).
if [ ! -f "$o/.config" ] || [ "$(cat "$o/.frags" 2>/dev/null)" != "$sum" ] ||
   ! (check_frags) >/dev/null 2>&1; then
	if [ "$flavour" = distro ]; then
		log "$arch: configuring (Debian's config + ${frags[*]##*/}, reduced to ${mods##*/})"
		distro_configure
	else
		log "$arch: configuring (tinyconfig + ${frags[*]##*/})"
		kmake tinyconfig >/dev/null
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "${frags[@]}" >/dev/null
		kmake olddefconfig >/dev/null
	fi
	check_frags
	echo "$sum" > "$o/.frags"
fi
[[ " $parts " == *" kernel "* ]] || { log "$arch: configured"; exit 0; }
log "$arch: building $image"
rm -f "$out/$arch/$image"
kmake "$image"
check_frags
cp "$o/$imgpath" "$out/$arch/$image"
if [ "$flavour" = distro ]; then
	log "$arch: building the modules"
	kmake modules
	rm -rf "$out/$arch/modules"
	kmake modules_install INSTALL_MOD_PATH="$out/$arch/modules" INSTALL_MOD_STRIP=1 >/dev/null
	distro_check
	# Every module the machines load was built
	for m in $(grep -v '^#' "$mods" | awk 'NF { print $1 }'); do
		[ -n "$(find "$out/$arch/modules" -name "$m.ko*" -o -name "${m//_/-}.ko*" | head -1)" ] ||
			die "$arch: module $m was not built"
	done
	# The arm64-qemu machine's L2 test driver (vm/l2, the harness's), an
	# external module of this kernel, signed with its key
	if [ "$arch" = arm64 ]; then
		log "$arch: the L2 test driver (vm/l2/edu_guest.c)"
		l2=$out/$arch/l2
		rm -rf "$l2"
		mkdir -p "$l2/src"
		cp "$TOP/vm/l2/edu_guest.c" "$l2/src/"
		echo 'obj-m := edu_guest.o' > "$l2/src/Kbuild"
		kmake M="$l2/src" W=1 KCFLAGS=-Werror modules
		hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$o/.config")
		"$o/scripts/sign-file" "${hash:-sha512}" "$o/certs/signing_key.pem" \
			"$o/certs/signing_key.x509" "$l2/src/edu_guest.ko"
		mv "$l2/src/edu_guest.ko" "$l2/edu_guest.ko"
		rm -rf "$l2/src"
	fi
fi
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
