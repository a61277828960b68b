#!/bin/bash
# kunit-modular.sh TREE LOG: distributions that ship KUnit build it as a
# module with every test (KUNIT=m, KUNIT_ALL_TESTS=m; Fedora does).  The
# test kernels' configuration with those, for both architectures: every
# KUnit test symbol that a Kconfig file the series touches defines must
# then be a module or off, never built in: built-in code calling a modular
# KUnit does not link.  Appends a suite "kunit-modular" to LOG, one case
# per architecture.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tree=$(realpath "$1") out=$2
base=$(base_ref "$tree")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
printf 'CONFIG_MODULES=y\nCONFIG_KUNIT=m\nCONFIG_KUNIT_ALL_TESTS=m\n' > "$t/kunit.config"
# The test symbols of the Kconfig files the series touches: a config
# entry whose block names KUNIT
mapfile -t kc < <(git -C "$tree" diff --name-only --diff-filter=AM "$base" iommufd-nesting | grep '/Kconfig')
syms=$(cd "$tree" && awk '/^(menu)?config / { s = $2 } /KUNIT/ && s { print s }' "${kc[@]}" | sort -u)
{
echo "@@SUITE kunit-modular"
echo "TAP version 13"
echo "1..2"
n=0
for a in x86_64 arm64; do
	n=$((n + 1))
	case $a in x86_64) cross= ;; arm64) cross=aarch64-linux-gnu- ;; esac
	rm -rf "$t/o"
	mkdir -p "$t/o"
	bad=
	if ! { ARCH=$a CROSS_COMPILE=$cross make -s -C "$tree" O="$t/o" tinyconfig &&
	       "$tree/scripts/kconfig/merge_config.sh" -m -O "$t/o" "$t/o/.config" \
			"$TOP/configs/common.config" "$TOP/configs/$a.config" "$t/kunit.config" &&
	       ARCH=$a CROSS_COMPILE=$cross make -s -C "$tree" O="$t/o" olddefconfig; } > "$t/log" 2>&1; then
		sed 's/^/# /' "$t/log" | tail -20
		echo "not ok $n $a: configuring failed"
		continue
	fi
	grep -qx 'CONFIG_KUNIT=m' "$t/o/.config" || bad="KUNIT is not a module"
	for x in $syms; do
		if grep -qx "CONFIG_$x=y" "$t/o/.config"; then
			bad="$bad CONFIG_$x=y"
		fi
	done
	if [ -n "$bad" ]; then
		echo "# with KUNIT=m: $bad"
		echo "not ok $n $a: KUnit tests built in while KUnit is a module"
	else
		echo "ok $n $a: KUNIT=m, KUNIT_ALL_TESTS=m: $(echo $syms | wc -w) test symbols, none built in"
	fi
done
echo "@@RC 0"
echo "@@END kunit-modular secs=0"
} >> "$out"
