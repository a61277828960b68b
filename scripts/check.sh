#!/bin/bash
# make check: apply the series to a clean tree, check it, build both
# kernels and their selftests, boot every machine, report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
res=${RESULTS:-$CACHE/results}
build=$CACHE/build-check
read -r -a machines <<< "host ${MACHINES:-x86-mock arm64-smmu x86-vtd x86-amd}"
rm -rf "$res"
mkdir -p "$res"
t0=$(date +%s)
stamp() { echo "$1 $(( $(date +%s) - t0 ))" >> "$res/times"; }

bash "$TOP/scripts/base.sh"
stamp base
own_tree "$CHECK_TREE"
stamp tree
bash "$TOP/scripts/series-checks.sh" "$CHECK_TREE" "$res/host.log"
stamp series-checks
for a in ${ARCHES:-x86_64 arm64}; do
	bash "$TOP/scripts/build.sh" "$a" "$CHECK_TREE" "$build"
	stamp "build-$a"
done
bash "$TOP/scripts/sparse.sh" "$CHECK_TREE" "$build" "$res/host.log"
stamp sparse
for m in "${machines[@]:1}"; do
	bash "$TOP/scripts/run-vm.sh" "$m" "$build" "$res" || true
	stamp "vm-$m"
done
log "results in $res; times (s since start):"
cat "$res/times" >&2
python3 "$TOP/scripts/report.py" "$res" "${machines[@]}"
