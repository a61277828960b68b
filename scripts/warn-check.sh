#!/bin/bash
# warn-check.sh TREE BUILD LOG: every kernel C file the series touches that
# the x86_64 or arm64 test kernel builds (in BUILD, make check's build
# directory), compiled again with W=1 by gcc and by clang (LLVM=1), for
# each architecture that builds it, in build directories of their own
# ($CACHE/build-warn/TOOLCHAIN-ARCH: the test kernel's configuration, so
# the same code is compiled).  Appends a suite "warnings" to LOG, one case
# per toolchain and architecture: it fails on any error, and on any
# warning located on a line the series adds or changes (in a .c file or in
# a header it touches).  Warnings on lines of the base are shown, not
# counted: they are not the series'.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tree=$(realpath "$1") build=$2 out=$3
base=$(base_ref "$tree")
export CCACHE_BASEDIR=$tree
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
series_added_lines "$tree" "$base" > "$tmp/added"
git -C "$tree" diff --name-only --diff-filter=AM "$base" iommufd-nesting |
	grep '\.c$' | grep -v '^tools/\|^scripts/\|^samples/' > "$tmp/files"
{
echo "@@SUITE warnings"
echo "TAP version 13"
echo "1..4"
n=0
for tc in gcc llvm; do
	for a in x86_64 arm64; do
		n=$((n + 1))
		case $a in x86_64) cross= ;; arm64) cross=aarch64-linux-gnu- ;; esac
		if [ $tc = llvm ]; then
			mk=(LLVM=1 CC="ccache clang" HOSTCC="ccache clang")
		else
			mk=(CC="ccache ${cross}gcc" HOSTCC="ccache gcc")
		fi
		o=$CACHE/build-warn/$tc-$a
		if ! BUILD_PARTS=config BUILD_LLVM=$([ $tc = llvm ] && echo 1) \
			bash "$TOP/scripts/build.sh" "$a" "$tree" "$o" > "$tmp/cfg" 2>&1; then
			sed 's/^/# /' "$tmp/cfg"
			echo "not ok $n $tc $a W=1: configuring failed"
			continue
		fi
		files=()
		while read -r f; do
			[ -f "$build/$a/kernel/${f%.c}.o" ] && files+=("${f%.c}.o")
		done < "$tmp/files"
		# Compiled every time, so that every run sees their warnings
		# (ccache replays a cached compile's warnings)
		(cd "$o/$a/kernel" && rm -f "${files[@]}")
		rc=0
		ARCH=$a CROSS_COMPILE=$cross make -s -k -C "$tree" O="$o/$a/kernel" W=1 \
			"${mk[@]}" -j"$(nproc)" "${files[@]}" > "$tmp/out" 2>&1 || rc=$?
		# Locations: TREE/path:line[:col]: warning|error: ... where TREE
		# is the tree's path, absolute (kernel-doc) or relative to the
		# build directory, as kbuild gives the compiler its sources
		rel=$(realpath --relative-to="$o/$a/kernel" "$tree")
		sed -nE -e "s#^$tree/([^:]*):([0-9]+):([0-9]+:)? (warning|error): .*#\1:\2 &#p" \
			-e "s#^$rel/([^:]*):([0-9]+):([0-9]+:)? (warning|error): .*#\1:\2 &#p" \
			"$tmp/out" > "$tmp/diag"
		new=$(awk 'NR == FNR { add[$1] = 1; next } ($1 in add) || / error: / { $1 = ""; print substr($0, 2) }' \
			"$tmp/added" "$tmp/diag" | sort -u)
		old=$(( $(sort -u "$tmp/diag" | wc -l) - $(echo -n "$new" | grep -c . || true) ))
		if [ $rc != 0 ] || [ -n "$new" ]; then
			echo "$new" | sed 's/^/# /'
			[ $rc = 0 ] || { echo "# make exited $rc:"; tail -20 "$tmp/out" | sed 's/^/# /'; }
			echo "not ok $n $tc $a W=1: ${#files[@]} files, $(echo -n "$new" | grep -c . || true) warnings on the series' lines"
		else
			echo "ok $n $tc $a W=1: ${#files[@]} files, no warning on the series' lines ($old on the base's)"
		fi
	done
done
echo "@@RC 0"
echo "@@END warnings secs=0"
} >> "$out"
