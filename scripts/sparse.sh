#!/bin/bash
# sparse.sh TREE BUILD LOG: run sparse (C=2) over every kernel C file the
# series touches that the x86_64 or arm64 test kernel builds; appends a
# "sparse" suite to LOG (the host's console log), one case per file: a
# file passes when sparse reports no warning or error located on a line
# the series adds or changes (in the .c file itself or in a header it
# changes), as warn-check.sh judges the compilers' warnings. Reports
# located elsewhere (e.g. arm64's asm/cmpxchg.h, which sparse warns about
# in every file that includes it, or mm/gup.c's context imbalances, base
# and all) are shown but do not fail the case: they are not the series'.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# Resolved, as the compiler prints the locations it reports (below)
tree=$(realpath "$1") build=$2 out=$3
export CCACHE_BASEDIR=$tree
base=$(base_ref "$tree")
touched=$(mktemp)
added=$(mktemp)
git -C "$tree" diff --name-only --diff-filter=AM "$base" iommufd-nesting > "$touched"
series_added_lines "$tree" "$base" > "$added"
mapfile -t files < <(grep '\.c$' "$touched" | grep -v '^tools/\|^scripts/\|^samples/')
tmp=$(mktemp)
{
echo "@@SUITE sparse"
echo "TAP version 13"
n=0
for f in "${files[@]}"; do
	for a in x86_64 arm64; do
		o=$build/$a/kernel
		[ -f "$o/${f%.c}.o" ] || continue
		case $a in x86_64) cross= ;; arm64) cross=aarch64-linux-gnu- ;; esac
		n=$((n + 1))
		# C=2 checks the file even when its object is up to date.  A
		# failing make (sparse missing or crashing) fails the case: its
		# message need not name the file.
		rc=0
		ARCH=$a CROSS_COMPILE=$cross make -s -C "$tree" O="$o" C=2 \
			CC="ccache ${cross}gcc" HOSTCC="ccache gcc" "${f%.c}.o" > "$tmp" 2>&1 || rc=$?
		# Locations are printed as $tree/path:line:col: warning|error:
		if [ $rc != 0 ] ||
		   sed -nE "s#^$tree/([^:]*):([0-9]+):[0-9]+: (warning|error):.*#\1:\2#p" "$tmp" |
		   grep -qxFf "$added"; then
			sed 's/^/# /' "$tmp"
			echo "not ok $n $a $f"
		else
			echo "ok $n $a $f"
		fi
		break
	done
done
echo "1..$n"
echo "@@RC 0"
echo "@@END sparse secs=0"
} >> "$out"
rm -f "$tmp" "$touched" "$added"
