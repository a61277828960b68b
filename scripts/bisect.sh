#!/bin/bash
# make bisect: build every prefix of the series -- the x86_64 and arm64
# kernels and the selftests -- so that any commit of the series can be
# bisected to.  Walks the commits of the check tree in order, building
# incrementally in make check's build directory (each step rebuilds what
# the next patch touches) and ends at the tip, so that directory is
# current afterwards.  ARCHES narrows it (default "x86_64 arm64");
# BISECT_FROM=N starts at the N-th prefix (patches added on top of a
# series bisected before), and then the selftests must build at every
# prefix built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset EXTRA_CONFIGS
# A prefix may predate a Kconfig symbol a fragment sets (build.sh)
export FRAGS_LATER_OK=1
lock_cache
tree=${LINUX_TREE:-$CHECK_TREE}
build=$CACHE/build-check
own_tree "$tree" >/dev/null
base=$(base_ref "$tree")
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..iommufd-nesting")
from=${BISECT_FROM:-1}
[ "$from" -ge 1 ] && [ "$from" -le ${#commits[@]} ] || die "BISECT_FROM=$from: the series has ${#commits[@]} patches"
t0=$(date +%s)
i=0
fail=0
# Kernels at every prefix; the selftests from the first prefix where they
# build on (the base's own selftests need uAPI that the series adds), and
# at every prefix after it.
narch=$(echo ${ARCHES:-x86_64 arm64} | wc -w)
echo "TAP version 13"
echo "1..$(( (${#commits[@]} - from + 1) * narch * 2 ))"
n=0
tests_built=0
[ "$from" = 1 ] || tests_built=1
step() {	# step NAME PARTS ARCH
	local s rc
	n=$((n + 1))
	s=$(date +%s)
	rc=0
	BUILD_PARTS=$2 bash "$TOP/scripts/build.sh" "$3" "$tree" "$build" > "$CACHE/bisect.log" 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		echo "ok $n $1 $3 $subj # $(( $(date +%s) - s ))s"
	elif [ "$2" = tests ] && [ $tests_built = 0 ]; then
		echo "ok $n $1 $3 $subj # SKIP the selftests do not build yet at this prefix"
	else
		echo "not ok $n $1 $3 $subj"
		tail -20 "$CACHE/bisect.log" | sed 's/^/# /'
		fail=1
	fi
	return $rc
}
for c in "${commits[@]}"; do
	i=$((i + 1))
	[ $i -ge "$from" ] || continue
	git -C "$tree" checkout -q --detach "$c"
	subj="[$i/${#commits[@]}] $(git -C "$tree" log --format=%s -1)"
	ok_all=1
	for a in ${ARCHES:-x86_64 arm64}; do
		step kernel kernel "$a" || true
		step selftests tests "$a" || ok_all=0
	done
	[ $ok_all = 1 ] && tests_built=1
done
git -C "$tree" checkout -q iommufd-nesting
echo "# $(( ${#commits[@]} - from + 1 )) prefixes built in $(( $(date +%s) - t0 ))s"
exit $fail
