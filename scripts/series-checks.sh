#!/bin/bash
# series-checks.sh TREE LOG: checks on the series itself, written as a
# "host" console log the report parses (suites checkpatch and kernel-doc):
#   - every patch: scripts/checkpatch.pl --strict, 0 errors and 0 warnings
#     (or only the ones series/checkpatch-allow lists with a reason);
#   - every uAPI header the series touches: scripts/kernel-doc -none clean.
# That the series applies is proven by tree.sh before this runs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tree=$1 out=$2
allow=$SERIES_DIR/checkpatch-allow
mapfile -t patches < <(grep -v '^[[:space:]]*\(#\|$\)' "$SERIES_DIR/series")
{
echo "@@BOOTED host"
echo "@@SUITE checkpatch"
echo "TAP version 13"
echo "1..${#patches[@]}"
i=0
for p in "${patches[@]}"; do
	i=$((i + 1))
	# Absolute path: checkpatch reads a relative "series/..." path
	# differently (it took blank context lines for added ones).
	o=$("$tree/scripts/checkpatch.pl" --strict --no-tree --show-types --terse \
		"$SERIES_DIR/$p" 2>&1)
	cprc=$?
	bad=$(echo "$o" | grep -E ': (ERROR|WARNING|CHECK):' |
		while IFS= read -r l; do
			t=$(echo "$l" | sed -n 's/.*: \(ERROR\|WARNING\|CHECK\):\([A-Z_]*\):.*/\2/p')
			grep -qE "^$p[[:space:]]+$t[[:space:]]" "$allow" 2>/dev/null || echo "$l"
		done)
	# 0: clean, 1: findings; anything else: it did not run
	[ $cprc -le 1 ] || bad="checkpatch did not run (exit $cprc): $(echo "$o" | tail -3)"
	if [ -z "$bad" ]; then
		echo "ok $i $p"
	else
		echo "$bad" | sed 's/^/# /'
		echo "not ok $i $p"
	fi
done
echo "@@RC 0"
echo "@@END checkpatch secs=0"
echo "@@SUITE kernel-doc"
echo "TAP version 13"
base=$(base_ref "$tree")
mapfile -t hdrs < <(git -C "$tree" diff --name-only "$base" iommufd-nesting -- include/uapi | grep '\.h$')
echo "1..${#hdrs[@]}"
i=0
for h in "${hdrs[@]}"; do
	i=$((i + 1))
	o=$(cd "$tree" && scripts/kernel-doc -none -Wall "$h" 2>&1)
	if [ -z "$o" ]; then echo "ok $i $h"; else echo "$o" | sed 's/^/# /'; echo "not ok $i $h"; fi
done
echo "@@RC 0"
echo "@@END kernel-doc secs=0"
echo "@@DONE"
} > "$out"
[ "$out" = /dev/stdout ] || printf 'checkpatch 0 -\nkernel-doc 0 -\nstable-update 0 -\nkunit-modular 0 -\nsparse 0 -\nwarnings 0 -\n' > "$(dirname "$out")/host.plan"
