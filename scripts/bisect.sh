#!/bin/bash
# make bisect: build every prefix of the series -- the x86_64 and arm64
# kernels and the selftests -- so that any commit of the series can be
# bisected to.  Uses its own tree and build directories; incremental and
# with ccache, so each step rebuilds only what the next patch touches.
# ARCHES narrows it (default "x86_64 arm64").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset EXTRA_CONFIGS
lock_cache
tree=$CACHE/bisect-linux
build=$CACHE/build-bisect
own_tree "$tree" >/dev/null
[ -n "${LINUX_TREE:-}" ] && tree=$LINUX_TREE
base=$(base_ref "$tree")
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..iommufd-nesting")
t0=$(date +%s)
i=0
fail=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	git -C "$tree" checkout -q --detach "$c"
	for a in ${ARCHES:-x86_64 arm64}; do
		if bash "$TOP/scripts/build.sh" "$a" "$tree" "$build" > "$build.log" 2>&1; then
			echo "ok $i $a $(git -C "$tree" log --format=%s -1)"
		else
			echo "not ok $i $a $(git -C "$tree" log --format=%s -1)"
			tail -20 "$build.log" | sed 's/^/# /'
			fail=1
		fi
	done
done
git -C "$tree" checkout -q iommufd-nesting
echo "# ${#commits[@]} prefixes built in $(( $(date +%s) - t0 ))s"
exit $fail
