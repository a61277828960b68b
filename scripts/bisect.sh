#!/bin/bash
# make bisect: build every prefix of the series -- the x86_64 and arm64
# kernels and the selftests -- so that any commit of the series can be
# bisected to.  Walks the commits of the check tree in order, building
# incrementally in make check's build directory (each step rebuilds what
# the next patch touches) and ends at the tip, so that directory is
# current afterwards.  ARCHES narrows it (default "x86_64 arm64").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset EXTRA_CONFIGS
lock_cache
tree=${LINUX_TREE:-$CHECK_TREE}
build=$CACHE/build-check
own_tree "$tree" >/dev/null
base=$(base_ref "$tree")
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..iommufd-nesting")
t0=$(date +%s)
i=0
fail=0
echo "TAP version 13"
echo "1..$(( ${#commits[@]} * $(echo ${ARCHES:-x86_64 arm64} | wc -w) ))"
for c in "${commits[@]}"; do
	i=$((i + 1))
	git -C "$tree" checkout -q --detach "$c"
	for a in ${ARCHES:-x86_64 arm64}; do
		s=$(date +%s)
		if bash "$TOP/scripts/build.sh" "$a" "$tree" "$build" > "$CACHE/bisect.log" 2>&1; then
			echo "ok $i $a $(git -C "$tree" log --format=%s -1) # $(( $(date +%s) - s ))s"
		else
			echo "not ok $i $a $(git -C "$tree" log --format=%s -1)"
			tail -20 "$CACHE/bisect.log" | sed 's/^/# /'
			fail=1
		fi
	done
done
git -C "$tree" checkout -q iommufd-nesting
echo "# ${#commits[@]} prefixes built in $(( $(date +%s) - t0 ))s"
exit $fail
